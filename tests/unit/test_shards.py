"""The CI's simulation shards add up exactly to the unsharded regression.

Each shard collects the simulation-level tests (tests/ but tests/unit) with the sim job's own
pytest-split options (.github/workflows/ci.yml), in a process of its own as on
its own runner; together they must collect every test of the unsharded run,
each once, and none of them nothing (pytest exits 5 on a shard with no test).

.test_durations must name exactly the collected tests. pytest-split would give
a test it has no time for the average time and ignore a stale one, so neither
breaks a run; but an unknown module could be the next sqe_fuzz (126 s, five
times the average) and unbalance the shards without anyone seeing why. After
adding or renaming a module, refresh it from the JUnit of a full run with
tools/durations.py (README, "CI").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.ci_workflow import ROOT, pytest_options, sim_job
from tools.durations import DURATIONS, SIM_ARGS, sim_durations


def collect(*split_args: str) -> list[str]:
    """The node ids `pytest --collect-only` selects from the simulation-level tests (none is an
    answer too: test_no_shard_is_empty says which shard)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *SIM_ARGS, *split_args],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED), result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("tests/") and "::" in line]


@pytest.fixture(scope="module")
def unsharded() -> list[str]:
    return collect()


@pytest.fixture(scope="module")
def shards() -> list[list[str]]:
    groups = sim_job()["strategy"]["matrix"]["group"]
    options = pytest_options()
    # str(len(groups)) is what strategy.job-total gives the runners (test_ci_workflow.py)
    common = ["--splits", str(len(groups)),
              "--splitting-algorithm", options["--splitting-algorithm"],
              "--durations-path", options["--durations-path"]]
    return [collect(*common, "--group", str(group)) for group in groups]


def test_no_shard_is_empty(shards: list[list[str]]) -> None:
    assert all(shards), f"tests per shard: {[len(shard) for shard in shards]}"


def test_shards_are_disjoint(shards: list[list[str]]) -> None:
    twice = {test for i, shard in enumerate(shards) for other in shards[i + 1:] for test in set(shard) & set(other)}
    assert not twice, f"in more than one shard: {sorted(twice)}"


def test_shards_add_up_to_the_regression(unsharded: list[str], shards: list[list[str]]) -> None:
    sharded = {test for shard in shards for test in shard}
    assert sharded == set(unsharded), (f"in no shard: {sorted(set(unsharded) - sharded)}; "
                                       f"not in the regression: {sorted(sharded - set(unsharded))}")


def test_durations_name_exactly_the_simulation_tests(unsharded: list[str]) -> None:
    named = set(json.loads(DURATIONS.read_text()))
    assert named == set(unsharded), (
        f"{DURATIONS.name}: no time for {sorted(set(unsharded) - named)}, stale {sorted(named - set(unsharded))}; "
        "refresh it with tools/durations.py (README, section CI)")


def test_durations_come_from_the_simulation_testcases(tmp_path: Path) -> None:
    junit = tmp_path / "pytest.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_simulations" name="test_module[regs]" time="3.6812" />'
        '<testcase classname="tests.test_simulations" name="test_narrow_streams[64]" time="17.87" />'
        '<testcase classname="tests.test_debug_loop" name="test_rtl_syntax_error" time="1.5" />'
        '<testcase classname="tests.unit.test_prp" name="test_module[regs]" time="0.01" />'
        '</testsuite></testsuites>')
    assert sim_durations(junit) == {"tests/test_simulations.py::test_module[regs]": 3.681,
                                    "tests/test_simulations.py::test_narrow_streams[64]": 17.87,
                                    "tests/test_debug_loop.py::test_rtl_syntax_error": 1.5}
