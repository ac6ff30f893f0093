"""Cost model of the controller's ARM SoC: a clock, cores that run commands in parallel, cycles per kind.

Firmware time must show in simulated latency, so every command the loop
takes is scheduled here before it runs: it occupies the earliest free core
for ``cycles[kind]`` cycles at ``clock_hz``. The schedule is plain
arithmetic on simulated nanoseconds, so it is exact, deterministic and unit
tested without a simulator. A zero-cost SoC is the same code with zero
cycles: every command starts and ends at its arrival time.

Admin commands may get a core of their own (``admin_core``), as controllers
commonly run the admin queue apart from the I/O path; that is also what
lets an Abort find I/O commands still waiting for a core.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.nvme_spec import NvmOpcode


def _default_cycles() -> dict[str, int]:
    return {"default": 0}


@dataclass(frozen=True)
class SocConfig:
    """``cycles`` maps a command kind (see ``command_kind``) to its cost; ``default`` covers the rest."""

    clock_hz: float = 1.0e9
    cores: int = 1
    admin_core: bool = True
    cycles: dict[str, int] = field(default_factory=_default_cycles)

    def __post_init__(self) -> None:
        if self.cores < 1 or self.clock_hz <= 0:
            raise ValueError(f"an SoC needs a core and a clock: {self.cores} cores at {self.clock_hz} Hz")

    def cost_ns(self, kind: str) -> int:
        cycles = self.cycles.get(kind, self.cycles.get("default", 0))
        return round(cycles * 1e9 / self.clock_hz)


@dataclass(frozen=True)
class Slot:
    """When a command gets a core and when its firmware work is done."""

    start_ns: int
    end_ns: int


class Soc:
    """The cores' timelines: each command goes to the core that frees first (FIFO among equals)."""

    def __init__(self, config: SocConfig) -> None:
        self.config = config
        self._io_free = [0] * config.cores
        self._admin_free = [0]
        self.busy_ns = 0

    def schedule(self, kind: str, now_ns: int, admin: bool = False) -> Slot:
        cores = self._admin_free if admin and self.config.admin_core else self._io_free
        core = min(range(len(cores)), key=cores.__getitem__)
        start = max(now_ns, cores[core])
        cost = self.config.cost_ns(kind)
        cores[core] = start + cost
        self.busy_ns += cost
        return Slot(start, start + cost)

    def reset(self) -> None:
        """A controller reset drops the queued work: the cores are free from now on."""
        self._io_free = [0] * self.config.cores
        self._admin_free = [0]


def command_kind(admin: bool, opcode: int) -> str:
    """The cost key of a command: ``admin`` or the NVM opcode's name in lower case (``read``, ``write``, ...)."""
    if admin:
        return "admin"
    try:
        return NvmOpcode(opcode).name.lower()
    except ValueError:
        return "invalid"
