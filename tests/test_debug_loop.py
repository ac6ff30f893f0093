"""The debug loop as a user meets it: what a failure, a broken RTL file and bad input print.

These run `make sim`'s entry point (tb/run.py) in-process on
tests/selftest/deliberate_failure.py, a module with one test that fails on
purpose, and on a copy of the RTL with a syntax error.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tb import build as tb_build
from tb import run as tb_run
from tests.test_simulations import REGRESSION_SEED

SELFTEST_DIR = Path(__file__).resolve().parent / "selftest"


def test_failure_ends_with_name_seed_log_and_rerun(capsys: pytest.CaptureFixture[str]) -> None:
    status = tb_run.main(["--test", "deliberate_failure", "--seed", str(REGRESSION_SEED),
                          "--tests-dir", str(SELFTEST_DIR)])
    out = capsys.readouterr().out
    assert status == 1
    last = out.strip().splitlines()[-4:]
    assert last[0] == f"FAILED deliberate_failure.VersionIsTwo (seed {REGRESSION_SEED})", out
    # the assertion in hex, as the registers are written
    assert "0x10400 == 0x20000" in last[1], last[1]
    assert last[2] == "  log:   build/runs/deliberate_failure/VersionIsTwo.log"
    assert last[3] == (f"  rerun: make sim TEST=deliberate_failure TESTCASE=VersionIsTwo "
                       f"SEED={REGRESSION_SEED} WAVES=1")
    # one progress line per test, and only the failing one listed as failed
    assert "VersionReadsBack" in out and out.count("FAILED") == 1
    log = tb_build.ROOT / "build" / "runs" / "deliberate_failure" / "VersionIsTwo.log"
    assert "VersionIsTwo failed" in log.read_text(), "the test's own log misses its verdict"
    assert "VersionIsTwo" not in (log.parent / "VersionReadsBack.log").read_text()


def test_rtl_syntax_error_without_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rtl = tmp_path / "rtl"
    shutil.copytree(tb_build.RTL_DIR, rtl)
    broken = rtl / "nvme_ctrl.v"
    broken.write_text(broken.read_text().replace("endmodule", "endmodul", 1))
    monkeypatch.setattr(tb_build, "RTL_DIR", rtl)
    monkeypatch.setattr(tb_build, "RTL_INCLUDE_DIR", rtl / "include")
    monkeypatch.setattr(tb_build, "BUILD_ROOT", tmp_path / "build")
    status = tb_run.main(["--test", "regs"])
    captured = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in captured.out + captured.err
    assert "%Error" in captured.err and "nvme_ctrl.v" in captured.err, captured.err


def test_passing_expect_fail_prints_no_error() -> None:
    """The scoreboard self-test (it must fail, and does) reads as a pass, not as an error."""
    status = tb_run.main(["--test", "regs", "--testcase", "RegScoreboardSeesCorruption",
                          "--seed", str(REGRESSION_SEED)])
    assert status == 0
    log = (tb_build.ROOT / "build" / "runs" / "regs" / "RegScoreboardSeesCorruption.log").read_text()
    assert "failed as expected" in log
    assert " ERROR " not in log and "Traceback" not in log, log


def test_ctrl_c_stops_cleanly() -> None:
    """Ctrl-C (SIGINT to the whole foreground group, as a terminal sends it) ends the run with one
    line, marks the test it stopped, and leaves no simulator behind."""
    command = [sys.executable, "-m", "tb.run", "--test", "long_running", "--seed", "1", "--tests-dir", str(SELFTEST_DIR)]
    with subprocess.Popen(command, cwd=tb_build.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()  # the quick test's progress line: the endless one runs now
        assert "quick" in first and "PASS" in first, first
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    assert "endless" in out and "INT" in out, out
    assert err.strip().splitlines()[-1].startswith("long_running: interrupted"), err
    assert _group_gone(proc.pid), "a process of the interrupted run is still alive"


def _group_gone(pgid: int, within_s: float = 5.0) -> bool:
    """Whether no process of the group is left within ``within_s`` (a killed simulator takes a moment
    to be reaped once its parent has gone)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_stopped_simulated_time_is_caught_by_the_wall_clock(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A test that stops simulated time never reaches pyuvm's timeout: the wall-clock watchdog ends the
    simulator after its limit and leaves its reason, the test's name and where it stood, in the log."""
    monkeypatch.setenv("NVME_COSIM_WALL_LIMIT_S", "4")
    start = time.monotonic()
    status = tb_run.main(["--test", "stuck_time", "--seed", "1", "--tests-dir", str(SELFTEST_DIR)])
    out, err = capsys.readouterr()
    assert status == 1, out
    assert "stuck_time: no test finished: wall-clock watchdog: SimulatedTimeStops" in err, err
    assert time.monotonic() - start < 60, "the watchdog did not end the run soon after its limit"
    log = (tb_build.ROOT / "build" / "runs" / "stuck_time" / "sim.log").read_text()
    assert "wall-clock watchdog: SimulatedTimeStops: no heartbeat" in log, log[-2000:]
    assert "most recent call first" in log, "no Python stacks in the log"
