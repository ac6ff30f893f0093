"""What a simulation run leaves for the person who debugs it: logs, outcomes and rerun commands.

A run of one cocotb module (tb/build.py) writes, under build/runs/<module><variant>/:

- ``sim.log``: everything the simulator printed (banners, the models' logs, tracebacks);
- ``<Test>.log``: the part of sim.log that one test printed;
- ``results.xml``: cocotb's JUnit, one testcase per test;
- ``run.json``: what `make sim` needs to rerun any of its tests exactly (seed and build).

This module reads them back: live progress lines while the run goes on
(:class:`ProgressTail`), the failures with their seed, log and rerun command
(:func:`failures`), and the regression's JUnit with one testcase per cocotb
test (:func:`expand_junit`, :func:`merge_junit`). `make sim` (tb/run.py),
the pytest regression and tools/results.py all print through here, so a
failure reads the same wherever it happens.
"""

from __future__ import annotations

import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIM_LOG = "sim.log"
RUN_INFO = "run.json"
# a pytest testcase property naming the cocotb results.xml its module run wrote
RESULTS_PROPERTY = "cocotb_results"
# how tb/wall_watchdog.py's verdict starts in a log
WATCHDOG_MESSAGE = "wall-clock watchdog:"

# cocotb's regression log lines: "   25612.19ns INFO  cocotb.regression  running regs.VsReads (4/4)" and
# "... regs.VsReads passed", "... regs.VsReads failed", "... skipping regs.VsReads"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SIM_TIME = re.compile(r"^\s*([0-9.]+)ns\s")
_START = re.compile(r"cocotb\.regression\s+running (\S+)\.(\w+) \(\d+/\d+\)")
_END = re.compile(r"cocotb\.regression\s+(\S+)\.(\w+) (passed|failed)")
_SKIP = re.compile(r"cocotb\.regression\s+skipping (\S+)\.(\w+)")


@dataclass(frozen=True)
class Outcome:
    """One cocotb test's result as the terminal shows it."""

    module: str
    test: str
    status: str  # PASS, FAIL, SKIP, or INT (stopped by Ctrl-C)
    sim_ns: float
    wall_s: float

    def line(self) -> str:
        return f"  {self.module:<22} {self.test:<44} {self.status:<4} {self.sim_ns:>14,.0f} ns {self.wall_s:>7.1f} s"


@dataclass(frozen=True)
class RunInfo:
    """How a module run was made, so that any of its tests can be rerun alone with the same seed."""

    module: str
    seed: int
    simulator: str = "verilator"
    parameters: dict[str, int] | None = None

    def rerun(self, test: str) -> str:
        """The `make sim` command that reruns exactly this test, with waves where the simulator can."""
        args = [f"TEST={self.module}", f"TESTCASE={test}", f"SEED={self.seed}"]
        if self.simulator != "verilator":
            args.append(f"SIM={self.simulator}")
        if self.parameters:
            args.append("PARAMS=" + ",".join(f"{k}={v}" for k, v in sorted(self.parameters.items())))
        if self.simulator == "verilator":
            args.append("WAVES=1")
        return "make sim " + " ".join(args)

    def write(self, run_dir: Path) -> None:
        (run_dir / RUN_INFO).write_text(json.dumps(vars(self), sort_keys=True))

    @classmethod
    def read(cls, run_dir: Path) -> RunInfo:
        return cls(**json.loads((run_dir / RUN_INFO).read_text()))


@dataclass(frozen=True)
class Failure:
    """A failed test: what to print so that the next step is obvious."""

    name: str
    message: str
    seed: int | None = None
    log: str | None = None
    rerun: str | None = None

    def lines(self) -> list[str]:
        head = f"FAILED {self.name}" + (f" (seed {self.seed})" if self.seed is not None else "")
        out = [head, f"  {self.message}"] if self.message else [head]
        if self.log:
            out.append(f"  log:   {self.log}")
        if self.rerun:
            out.append(f"  rerun: {self.rerun}")
        return out


def relative(path: Path) -> str:
    """A path as the user types it from the repository root."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


class ProgressTail(threading.Thread):
    """Follows a growing sim.log and reports each test as it ends.

    The simulator writes everything to the log file; the terminal gets one
    line per test (module, test, result, simulated and wall time) from here.
    """

    POLL_S = 0.2

    def __init__(self, log: Path, report: Callable[[Outcome], None], label: str | None = None) -> None:
        """``label`` names the run in the lines (the run directory: regs@icarus), else the module."""
        super().__init__(daemon=True)
        self.log = log
        self.report = report
        self.label = label
        self._finish = threading.Event()
        self._start: tuple[float, float] = (0.0, time.monotonic())
        self.module = ""
        # the test that started and has not ended
        self._current = ""
        self._interrupted = False

    def stop(self, interrupted: bool = False) -> None:
        """Read what is left and end the thread; after Ctrl-C, report the test that was running as
        stopped (the simulator may die before it can log it)."""
        self._finish.set()
        self.join()
        if interrupted and self._current:
            self.report(Outcome(self.module, self._current, "INT", 0.0, time.monotonic() - self._start[1]))

    def run(self) -> None:
        while not self.log.exists() and not self._finish.wait(self.POLL_S):
            pass
        if not self.log.exists():
            return
        with open(self.log, errors="replace") as stream:
            pending = ""
            while True:
                finished = self._finish.is_set()
                chunk = stream.read()
                pending += chunk
                *lines, pending = pending.split("\n")
                for line in lines:
                    self._line(_ANSI.sub("", line))
                if finished:
                    return
                if not chunk:
                    self._finish.wait(self.POLL_S)

    def _line(self, line: str) -> None:
        sim = _SIM_TIME.match(line)
        sim_ns = float(sim.group(1)) if sim else self._start[0]
        if start := _START.search(line):
            self._start = (sim_ns, time.monotonic())
            self.module, self._current = self.label or start.group(1), start.group(2)
        elif line.startswith("KeyboardInterrupt"):
            self._interrupted = True
        elif (end := _END.search(line)) and end.group(2) == self._current:
            # (cocotb also marks the tests an interrupted run never started as failed: not shown)
            status = "PASS" if end.group(3) == "passed" else "INT" if self._interrupted else "FAIL"
            self._current = ""
            self.report(Outcome(self.module, end.group(2), status, sim_ns - self._start[0],
                                    time.monotonic() - self._start[1]))
        elif skip := _SKIP.search(line):
            self.report(Outcome(self.label or skip.group(1), skip.group(2), "SKIP", 0.0, 0.0))


def split_log(run_dir: Path) -> list[Path]:
    """Write each test's part of sim.log to <Test>.log (the lines from its start to the next test's)."""
    for old in run_dir.glob("*.log"):
        if old.name != SIM_LOG:
            old.unlink()
    written: list[Path] = []
    current: list[str] | None = None
    log = run_dir / SIM_LOG
    if not log.exists():
        return written

    def flush() -> None:
        if current is not None:
            written[-1].write_text("".join(current))

    with open(log, errors="replace") as stream:
        for line in stream:
            start = _START.search(_ANSI.sub("", line))
            if start:
                flush()
                written.append(run_dir / f"{start.group(2)}.log")
                current = []
            if current is not None:
                current.append(line)
    flush()
    return written


def _properties(testcase: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in testcase.iter("property")}


def _problem(testcase: ET.Element) -> ET.Element | None:
    for tag in ("failure", "error"):
        if (found := testcase.find(tag)) is not None:
            return found
    return None


def _message(problem: ET.Element) -> str:
    """The exception's type and the first line of its message (an assertion's own text)."""
    text = problem.get("message") or (problem.text or "")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    kind = problem.get("type")
    first = lines[0] if lines else ""
    return f"{kind}: {first}" if kind else first


def cocotb_testcases(results_xml: Path) -> list[ET.Element]:
    """The testcases of one module run, each with its log and rerun command as properties."""
    run_dir = results_xml.parent
    info = RunInfo.read(run_dir) if (run_dir / RUN_INFO).exists() else None
    cases = list(ET.parse(results_xml).getroot().iter("testcase"))
    for case in cases:
        case.set("classname", run_dir.name)
        props = case.find("properties")
        if props is None:
            props = ET.SubElement(case, "properties")
        extra = {"log": relative(run_dir / f"{case.get('name')}.log")}
        if info is not None:
            extra["rerun"] = info.rerun(case.get("name", ""))
        for name, value in extra.items():
            ET.SubElement(props, "property", name=name, value=value)
    return cases


def failures(testcases: Iterable[ET.Element]) -> list[Failure]:
    """Every failed testcase, cocotb tests with their seed, log and rerun command."""
    found: list[Failure] = []
    for case in testcases:
        problem = _problem(case)
        if problem is None:
            continue
        props = _properties(case)
        seed = props.get("random_seed")
        found.append(Failure(
            name=f"{case.get('classname')}.{case.get('name')}",
            message=_message(problem),
            seed=int(seed) if seed else None,
            log=props.get("log"),
            rerun=props.get("rerun"),
        ))
    return found


def module_failures(results_xml: Path) -> list[Failure]:
    """The failed tests of one module run (what `make sim` ends with)."""
    return failures(cocotb_testcases(results_xml))


def junit_testcases(junit_files: Iterable[Path]) -> list[ET.Element]:
    """Every testcase of these JUnit files."""
    return [case for junit in junit_files for case in ET.parse(junit).getroot().iter("testcase")]


def _suite(name: str, cases: list[ET.Element]) -> ET.Element:
    suite = ET.Element("testsuite", name=name)
    suite.extend(cases)
    counts = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
    for case in cases:
        for tag, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            counts[key] += case.find(tag) is not None
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{sum(float(c.get('time', 0)) for c in cases):.3f}")
    return suite


def expand_junit(pytest_xmls: Iterable[Path], out: Path) -> None:
    """The regression's JUnit (from one or more pytest runs) with one testcase per cocotb test.

    pytest sees one test per module run; each such testcase names its
    results.xml (RESULTS_PROPERTY), whose testcases replace it. A module
    run that failed without a failing cocotb test (a crash, no results) keeps
    its pytest testcase, so that nothing failed is lost in the expansion.
    """
    kept: list[ET.Element] = []
    suites: list[ET.Element] = []
    for case in junit_testcases(pytest_xmls):
        results = _properties(case).get(RESULTS_PROPERTY)
        path = ROOT / results if results else None
        if path is None or not path.exists():
            kept.append(case)
            continue
        cocotb_cases = cocotb_testcases(path)
        suites.append(_suite(path.parent.name, cocotb_cases))
        if _problem(case) is not None and not any(_problem(c) is not None for c in cocotb_cases):
            kept.append(case)
    _write([_suite("pytest", kept), *suites], out)


def merge_junit(inputs: Iterable[Path], out: Path) -> None:
    """One JUnit file from several (the CI shards')."""
    suites = [suite for junit in inputs for suite in ET.parse(junit).getroot().iter("testsuite")]
    _write(suites, out)


def _write(suites: list[ET.Element], out: Path) -> None:
    root = ET.Element("testsuites", name="nvme-cosim")
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, 0)) for s in suites)))
    root.extend(suites)
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
