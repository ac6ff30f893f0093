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
from collections.abc import Callable

import pytest

from tb.build import SimBuild, SimResult, sim_modules
from tb.results import RESULTS_PROPERTY, Outcome, module_failures, relative

REGRESSION_SEED = int(os.environ.get("NVME_COSIM_SEED", "20261121"))
# the pytest property that carries a module run's per-test lines to the terminal (tests/conftest.py)
OUTCOMES_PROPERTY = "cocotb_outcomes"

RunModule = Callable[..., SimResult]


@pytest.fixture
def run_module(record_property: Callable[[str, object], None]) -> RunModule:
    """Runs a module with the regression seed and records what the report and the terminal need."""

    def run(build: SimBuild, module: str, testcase: str | None = None) -> SimResult:
        outcomes: list[Outcome] = []
        result = build.run(module, testcase=testcase, seed=REGRESSION_SEED, progress=outcomes.append)
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
    assert_passed(run_module(default_build, module), module)


# Icarus runs the register-level and smoke modules: its own event ordering
# and X handling catch what Verilator's 2-state model hides, while the long
# command-level modules stay on the faster Verilator build.
ICARUS_MODULES = ["regs", "enable", "bar_access", "demo", "queue_smoke"]


@pytest.mark.parametrize("module", ICARUS_MODULES)
def test_module_icarus(run_module: RunModule, module: str) -> None:
    """Icarus as a second simulator."""
    assert_passed(run_module(SimBuild(simulator="icarus"), module), f"{module} under Icarus")


@pytest.mark.parametrize("width", [128, 64])
def test_narrow_streams(run_module: RunModule, width: int) -> None:
    """The BAR completer at the other stream widths (link x4 and x2)."""
    build = SimBuild(parameters={"AXIS_PCIE_DATA_WIDTH": width})
    assert_passed(run_module(build, "bar_access"), f"bar_access at {width} bits")


def test_waves_written(run_module: RunModule) -> None:
    """WAVES=1 writes an FST that holds the design's signals."""
    result = run_module(SimBuild(waves=True), "regs", testcase="RegResetValues")
    assert_passed(result, "regs with waves")
    assert result.wave_file is not None and result.wave_file.exists(), "no FST written"
    data = result.wave_file.read_bytes()
    # An FST file opens with a header block (type 0) and names its signals
    assert len(data) > 1000 and data[0] == 0, f"{result.wave_file} is not an FST file"
