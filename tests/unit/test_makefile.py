"""The Makefile's user interface: bad variables stop in one line, `make help` lists what there is."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tb.build import sim_modules

ROOT = Path(__file__).resolve().parents[2]


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)


@pytest.mark.parametrize("assignment", ["WAVES=yes", "WAVES=2", "WAVES=", "SIM=vcs"])
def test_bad_variable_is_one_line(assignment: str) -> None:
    result = make("sim", assignment)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "takes" in lines[0], result.stderr


@pytest.mark.parametrize("assignment", ["WAVES=0", "WAVES=1", "SIM=icarus"])
def test_good_variable_accepted(assignment: str) -> None:
    assert make("sim", assignment).returncode == 0


def test_help_lists_variables_and_modules() -> None:
    out = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    for variable in ("TEST", "TESTCASE", "SEED", "WAVES", "SIM", "PARAMS", "JOBS", "NIGHTLY_SQES", "NVME_COSIM_SEED"):
        assert f"{variable}=" in out, variable
    listed = out.split("Test modules (tests/sim):")[1].split()
    assert listed == sim_modules()


def test_unit_target_runs_the_unit_tests() -> None:
    assert "pytest" in make("unit").stdout and "tests/unit" in make("unit").stdout
