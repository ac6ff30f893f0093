"""The variables of an FST waveform, named the way GTKWave names them.

pylibfst wraps fstapi, the reader GTKWave itself uses, so the names and
lengths here are the ones GTKWave sees. Verilator writes a vector as
``asq_base [63:12]``; GTKWave drops the space and a save file must give the
range: ``asq_base[63:12]``, which is why a width change in the RTL silently
drops a hand-written trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pylibfst

# a declared name, then the bit range Verilator appends after a space to a vector's name
_DECLARED = re.compile(r"(?P<name>.+?)(?: (?P<range>\[-?\d+:-?\d+\]))?")


@dataclass(frozen=True)
class WaveVar:
    """One variable of a waveform."""

    path: str  # hierarchical name, no bit range: nvme_ctrl_sim.design_inst.asq_base
    bit_range: str  # as declared, '[63:12]'; '' for a scalar
    width: int  # bits, from the waveform's own length field

    @property
    def trace(self) -> str:
        """The name GTKWave gives the variable, which a save file's trace line must match exactly."""
        return self.path + self.bit_range


def parse_var(scope: str, declared: str, width: int) -> WaveVar:
    """The variable that the FST declares as ``declared`` (name and any range) in ``scope``."""
    match = _DECLARED.fullmatch(declared)
    assert match is not None, f"{scope}: unexpected variable name {declared!r}"
    return WaveVar(f"{scope}.{match['name']}", match["range"] or "", width)


@contextmanager
def _fst_reader(path: Path) -> Iterator[object]:
    reader = pylibfst.lib.fstReaderOpen(str(path).encode())
    if reader == pylibfst.ffi.NULL:
        raise OSError(f"{path}: not an FST file fstapi can open")
    try:
        yield reader
    finally:
        pylibfst.lib.fstReaderClose(reader)


def read_vars(path: Path) -> dict[str, WaveVar]:
    """Every variable of the FST at ``path``, by hierarchical name without bit range."""
    with _fst_reader(path) as reader:
        _, signals = pylibfst.get_scopes_signals2(reader)
    wave_vars = {}
    for full_name, signal in signals.by_name.items():
        # pylibfst joins scope and declared name with '.'; a bit range holds no '.'
        scope, _, declared = full_name.rpartition(".")
        var = parse_var(scope, declared, signal.length)
        wave_vars[var.path] = var
    return wave_vars
