"""The simulation regression: every cocotb module in tests/sim on the shared build.

Each module runs in its own simulator process against one Verilator build
of the default parameter set; a module passes only if its results.xml
lists at least one test and no failure. The regression runs with a fixed
seed (REGRESSION_SEED, or the environment's NVME_COSIM_SEED) so that CI is
repeatable; `make sim` without SEED draws a new one each run.
"""

from __future__ import annotations

import os

import pytest

from tb.build import SimBuild, sim_modules

REGRESSION_SEED = int(os.environ.get("NVME_COSIM_SEED", "20261121"))


@pytest.fixture(scope="session")
def default_build() -> SimBuild:
    build = SimBuild()
    build.ensure_built()
    return build


@pytest.mark.parametrize("module", sim_modules())
def test_module(default_build: SimBuild, module: str) -> None:
    result = default_build.run(module, seed=REGRESSION_SEED)
    assert result.total > 0, f"{module}: no cocotb test ran"
    assert result.failed == 0, f"{module}: {result.failed} of {result.total} failed, see {result.results_xml}"


# Icarus runs the register-level and smoke modules: its own event ordering
# and X handling catch what Verilator's 2-state model hides, while the long
# command-level modules stay on the faster Verilator build.
ICARUS_MODULES = ["regs", "enable", "bar_access", "demo", "queue_smoke"]


@pytest.mark.parametrize("module", ICARUS_MODULES)
def test_module_icarus(module: str) -> None:
    """Icarus as a second simulator."""
    result = SimBuild(simulator="icarus").run(module, seed=REGRESSION_SEED)
    assert result.passed, f"{module} under Icarus: {result.failed} of {result.total} failed"


@pytest.mark.parametrize("width", [128, 64])
def test_narrow_streams(width: int) -> None:
    """The BAR completer at the other stream widths (link x4 and x2)."""
    result = SimBuild(parameters={"AXIS_PCIE_DATA_WIDTH": width}).run("bar_access", seed=REGRESSION_SEED)
    assert result.passed, f"bar_access at {width} bits: {result.failed} of {result.total} failed"


def test_waves_written() -> None:
    """WAVES=1 writes an FST that holds the design's signals."""
    result = SimBuild(waves=True).run("regs", testcase="RegResetValues", seed=REGRESSION_SEED)
    assert result.passed
    assert result.wave_file is not None and result.wave_file.exists(), "no FST written"
    data = result.wave_file.read_bytes()
    # An FST file opens with a header block (type 0) and names its signals
    assert len(data) > 1000 and data[0] == 0, f"{result.wave_file} is not an FST file"
