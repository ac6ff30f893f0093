"""The sim job of .github/workflows/ci.yml, read for the tests that check its sharding."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def sim_job() -> dict[str, Any]:
    """The `sim` job as parsed YAML."""
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["sim"]


def pytest_command() -> list[str]:
    """The words of the sim job's pytest command (the one step whose script passes --splits),
    each `${{ ... }}` expression kept as one word without spaces."""
    scripts = [step["run"] for step in sim_job()["steps"] if "--splits" in step.get("run", "")]
    assert len(scripts) == 1, f"{WORKFLOW}: {len(scripts)} steps of the sim job pass --splits, expected 1"
    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", r"${{\1}}", scripts[0]).split()


def pytest_options() -> dict[str, str]:
    """The `--name value` options of the sim job's pytest command."""
    words = pytest_command()
    return {word: value for word, value in zip(words, words[1:]) if word.startswith("--")}
