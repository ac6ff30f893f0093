"""The simulation regression: every cocotb module in tests/sim on the shared build.

Each module runs in its own simulator process against one Verilator build
of the default parameter set; a module passes only if its results.xml
lists at least one test and no failure. The regression runs with a fixed
seed (REGRESSION_SEED, or the environment's NVME_COSIM_SEED) so that CI is
repeatable; `make sim` without SEED draws a new one each run.

Every run goes through ``run_module``: it records the run's results.xml
for tools/results.py (one JUnit testcase per cocotb test) and the per-test
outcome lines that tests/conftest.py prints as the regression goes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tb.build import SimBuild, SimResult, module_parameters, sim_modules
from tb.results import RESULTS_PROPERTY, Outcome, module_failures, relative
from tb.waves.fst_vars import read_vars
from tb.waves.gtkw import generate
from tb.waves.view import VIEW, paths

REGRESSION_SEED = int(os.environ.get("NVME_COSIM_SEED", "20261121"))
# the pytest property that carries a module run's per-test lines to the terminal (tests/conftest.py)
OUTCOMES_PROPERTY = "cocotb_outcomes"

RunModule = Callable[..., SimResult]


@pytest.fixture
def run_module(record_property: Callable[[str, object], None]) -> RunModule:
    """Runs a module with the regression seed and records what the report and the terminal need."""

    def run(build: SimBuild, module: str, testcase: str | None = None,
            extra_env: dict[str, str] | None = None) -> SimResult:
        outcomes: list[Outcome] = []
        result = build.run(module, testcase=testcase, seed=REGRESSION_SEED, extra_env=extra_env,
                           progress=outcomes.append)
        record_property(RESULTS_PROPERTY, relative(result.results_xml))
        record_property(OUTCOMES_PROPERTY, "\n".join(o.line() for o in outcomes))
        return result

    return run


def assert_passed(result: SimResult, what: str) -> None:
    """A module run passed: at least one test ran and none failed (else: which, and how to rerun)."""
    assert result.total > 0, f"{what}: no cocotb test ran, see {relative(result.log)}"
    failed = "\n".join(line for f in module_failures(result.results_xml) for line in f.lines())
    assert result.failed == 0, f"{what}: {result.failed} of {result.total} failed\n{failed}"


@pytest.fixture(scope="session")
def default_build() -> SimBuild:
    build = SimBuild()
    build.ensure_built()
    return build


@pytest.mark.parametrize("module", sim_modules())
def test_module(default_build: SimBuild, run_module: RunModule, module: str) -> None:
    """A module on the default build, or on the one its BUILD_PARAMETERS name (a build of its own)."""
    parameters = module_parameters(module)
    build = SimBuild(parameters=parameters) if parameters else default_build
    assert_passed(run_module(build, module), module)


# Icarus runs the register-level and smoke modules: its own event ordering
# and X handling catch what Verilator's 2-state model hides, while the long
# command-level modules stay on the faster Verilator build.
ICARUS_MODULES = ["regs", "enable", "bar_access", "demo", "queue_smoke"]
# the main job's every path under Icarus, with a quarter of its data (Icarus runs it 3x slower than Verilator)
ICARUS_ENV = {"demo": {"NVME_COSIM_DEMO_TRANSFERS": "4"}}


@pytest.mark.parametrize("module", ICARUS_MODULES)
def test_module_icarus(run_module: RunModule, module: str) -> None:
    """Icarus as a second simulator."""
    result = run_module(SimBuild(simulator="icarus"), module, extra_env=ICARUS_ENV.get(module))
    assert_passed(result, f"{module} under Icarus")


# the BAR completer and the queue engine at each width: at 512 bits the random queue workloads (multi-entry
# reads whose SQEs straddle beats, split and reordered completions, back-pressure) and the DMA engine's data
# paths (PRP and SGL round trips at every buffer offset, split and reordered completions, a reset under
# traffic, a failed PRP-list read); at 128 and 64 one round trip. (width, module, tests; None: all)
OTHER_WIDTHS = [(512, "bar_access", None), (512, "queue_random", None),
                (512, "dma_transfers", "PrpRoundTrips,SglRoundTrips,PacedReorderingHost,ResetDuringTransfers,"
                                       "PrpListReadErrors"),
                (128, "bar_access", None), (128, "queue_smoke", None), (64, "bar_access", None),
                (64, "queue_smoke", None)]


@pytest.mark.parametrize("width, module, testcase",
                         [pytest.param(*run, id=f"{run[0]}-{run[1]}") for run in OTHER_WIDTHS])
def test_other_widths(run_module: RunModule, width: int, module: str, testcase: str | None) -> None:
    """The BAR completer, and the queue engine (SQ fetch, CQ poster, MSI-X), at the stream widths other than
    the default 256 bits: 512 (Gen4 x8, the UltraScale+ interface's own tuser layouts, with the DMA
    engine), 128 and 64 (x4 and x2, queue engine only). The fetch takes a completion's descriptor in one
    cycle from 128 bits on, a dword at a time at 64."""
    build = SimBuild(parameters={"AXIS_PCIE_DATA_WIDTH": width})
    result = run_module(build, module, testcase=testcase)
    assert_passed(result, f"{module} at {width} bits")
    if testcase is not None:
        assert result.total == len(testcase.split(",")), f"{module} at {width} bits: not every test of {testcase} ran"


# a save file's trace line: the variable's path, then its bit range if it is a vector
_TRACE = re.compile(r"(?P<path>.+?)(?:\[(?P<msb>-?\d+):(?P<lsb>-?\d+)\])?")


def saved_widths(save_file: Path) -> dict[str, int]:
    """Each trace of a GTKWave save file: its path and the width its bit range gives (1 without one)."""
    widths = {}
    for line in save_file.read_text().splitlines():
        # the other lines are settings ([...]), comments ([*]), flags (@...), group markers (-...)
        if not line or line[0] in "[*@-":
            continue
        trace = _TRACE.fullmatch(line)
        assert trace is not None, f"{save_file.name}: unreadable trace line {line!r}"
        msb, lsb = trace["msb"], trace["lsb"]
        widths[trace["path"]] = abs(int(msb) - int(lsb)) + 1 if msb is not None else 1
    return widths


def test_waves_written(run_module: RunModule, tmp_path: Path) -> None:
    """WAVES=1 writes an FST, and every signal of the saved view (tb/waves/view.py) is in it at the
    width the generated save file gives."""
    result = run_module(SimBuild(waves=True), "regs", testcase="RegResetValues")
    assert_passed(result, "regs with waves")
    assert result.wave_file is not None and result.wave_file.exists(), "no FST written"
    save_file = tmp_path / "view.gtkw"
    generate(result.wave_file, save_file)  # raises ViewError, naming them, on signals the FST lacks
    saved = saved_widths(save_file)
    wave_vars = read_vars(result.wave_file)
    view = [path for group in VIEW for path in paths(group)]
    assert list(saved) == view, "the save file's traces are not the view's signals, in its order"
    wrong = {path: (saved[path], wave_vars[path].width) for path in view
             if saved[path] != wave_vars[path].width}
    assert not wrong, f"width in the save file, width in the FST: {wrong}"
