"""The GTKWave view against a real waveform: every signal of tb/waves/view.py is in the FST, with the
width that the save file generated for it gives.

It runs test_waves_written's simulation (tests/test_simulations.py: same build, module, test and
seed; the build is shared, so the run costs seconds) under a name of its own, so that the two can
go on at once in the regression's workers without sharing an FST.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tb.build import SimBuild
from tb.waves.fst_vars import read_vars
from tb.waves.gtkw import generate
from tb.waves.view import VIEW, paths
from tests.test_simulations import REGRESSION_SEED

# a save file's trace line: the variable's path, then its bit range if it is a vector
_TRACE = re.compile(r"(?P<path>.+?)(?:\[(?P<msb>-?\d+):(?P<lsb>-?\d+)\])?")


@pytest.fixture(scope="module")
def fst() -> Path:
    """A fresh FST of the current RTL."""
    result = SimBuild(waves=True).run("regs", testcase="RegResetValues", seed=REGRESSION_SEED,
                                      run_name="regs_view")
    assert result.passed, f"regs.RegResetValues with waves: see {result.results_xml}"
    assert result.wave_file is not None and result.wave_file.exists(), "no FST written"
    return result.wave_file


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


def test_every_view_signal_is_in_the_fst_at_the_saved_width(fst: Path, tmp_path: Path) -> None:
    save_file = tmp_path / "view.gtkw"
    generate(fst, save_file)  # raises ViewError, naming them, on signals the FST lacks
    saved = saved_widths(save_file)
    wave_vars = read_vars(fst)
    view = [path for group in VIEW for path in paths(group)]
    assert list(saved) == view, "the save file's traces are not the view's signals, in its order"
    wrong = {path: (saved[path], wave_vars[path].width) for path in view
             if saved[path] != wave_vars[path].width}
    assert not wrong, f"width in the save file, width in the FST: {wrong}"
