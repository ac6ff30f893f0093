"""The GTKWave view generator (tb/waves/gtkw.py) on made-up waveforms: no simulator, no FST."""

from __future__ import annotations

from pathlib import Path

import pytest

from tb.waves import gtkw
from tb.waves.fst_vars import WaveVar, parse_var
from tb.waves.gtkw import ViewError, data_format, resolve, write_gtkw
from tb.waves.view import Group

SCOPE = "top.dut"
VIEW = (
    Group(None, ("clk",)),
    Group("Admin queue", ("asq_base", "regs_inst.state_reg")),
)
CLK = WaveVar("top.dut.clk", "", 1)
ASQ_BASE = WaveVar("top.dut.asq_base", "[63:12]", 52)
STATE = WaveVar("top.dut.regs_inst.state_reg", "[2:0]", 3)


def waveform(*wave_vars: WaveVar) -> dict[str, WaveVar]:
    """A made-up waveform: its variables by path, as fst_vars.read_vars gives them."""
    return {var.path: var for var in wave_vars}


def save_file_lines(wave_vars: dict[str, WaveVar], tmp_path: Path) -> list[str]:
    out = tmp_path / "view.gtkw"
    write_gtkw(resolve(VIEW, wave_vars, SCOPE), tmp_path / "made_up.fst", out, SCOPE)
    return out.read_text().splitlines()


@pytest.mark.parametrize("declared, trace, width", [
    ("asq_base [63:12]", "top.dut.asq_base[63:12]", 52),
    ("user_clk", "top.dut.user_clk", 1),
    ("last_reg[0] [6:0]", "top.dut.last_reg[0][6:0]", 7),
])
def test_verilator_declarations_become_gtkwave_trace_names(declared: str, trace: str, width: int) -> None:
    var = parse_var(SCOPE, declared, width)
    assert var.trace == trace
    assert var.width == width


@pytest.mark.parametrize("asq_base", [ASQ_BASE, WaveVar("top.dut.asq_base", "[63:0]", 64)])
def test_the_save_file_takes_each_range_from_the_waveform(asq_base: WaveVar, tmp_path: Path) -> None:
    lines = save_file_lines(waveform(CLK, asq_base, STATE), tmp_path)
    assert [line for line in lines if line.startswith("top.")] == [
        "top.dut.clk", asq_base.trace, "top.dut.regs_inst.state_reg[2:0]"]


def test_groups_and_display_formats(tmp_path: Path) -> None:
    lines = save_file_lines(waveform(CLK, ASQ_BASE, STATE), tmp_path)
    body = lines[lines.index("top.dut.clk") - 1:]
    # the untitled group's signal stands before any group; a group opens and closes on its title
    assert body == [
        "@28", "top.dut.clk",
        "@800200", "-Admin queue",
        "@22", "top.dut.asq_base[63:12]",
        "@24", "top.dut.regs_inst.state_reg[2:0]",
        "@1000200", "-Admin queue",
    ]
    assert [data_format(var) for var in (CLK, ASQ_BASE, STATE)] == ["bin", "hex", "dec"]


def test_missing_signals_are_named_in_one_line() -> None:
    with pytest.raises(ViewError) as error:
        resolve(VIEW, waveform(CLK), SCOPE)
    message = str(error.value)
    assert "\n" not in message
    assert "top.dut.asq_base" in message and "top.dut.regs_inst.state_reg" in message
    assert "top.dut.clk" not in message


def test_a_signal_without_width_is_refused() -> None:
    with pytest.raises(ViewError, match=r"top\.dut\.asq_base$"):
        resolve(VIEW, waveform(CLK, WaveVar("top.dut.asq_base", "", 0), STATE), SCOPE)


def test_no_save_file_is_left_for_a_waveform_that_lacks_a_signal(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gtkw, "read_vars", lambda fst: waveform(CLK))
    out = tmp_path / "view.gtkw"
    out.write_text("a save file generated for an earlier FST")
    with pytest.raises(ViewError):
        gtkw.generate(tmp_path / "made_up.fst", out)
    assert not out.exists()
