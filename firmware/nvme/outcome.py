"""What an I/O command ends with, and simulated time as the firmware's command code counts it.

Apart from firmware.nvme.io so that the command-set modules it drives
(firmware.nvme.zoned) use them without importing it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cocotb.simtime import get_sim_time
from cocotb.triggers import Timer

from models.nvme_spec import Status, StatusCode


def failure(code: StatusCode) -> Status:
    return Status.of(code, dnr=True)


@dataclass(frozen=True)
class IoOutcome:
    """A command's status, its completion's DW0 and DW1, and whether the DMA engine already posted its
    completion (auto-completion)."""

    status: Status
    posted: bool = False
    dw0: int = 0
    dw1: int = 0


def now_ns() -> int:
    """Simulated time in whole ns, as the back ends and the SoC model count it."""
    return int(get_sim_time("ns"))


async def wait_until(done_ns: int) -> None:
    """Wait in simulated time for a back-end completion time (whole ns: the simulator
    clock may sit at a fraction of a ns, which a Timer could not represent)."""
    delay = math.ceil(done_ns - get_sim_time("ns"))
    if delay > 0:
        await Timer(delay, "ns")
