"""A module whose test stops simulated time, for tests/test_debug_loop.py: the wall-clock watchdog
(tb/wall_watchdog.py) must end the run and say where it stood."""

from __future__ import annotations

import pyuvm
from cocotb.triggers import NullTrigger

from tb.base_test import NvmeBaseTest


@pyuvm.test(timeout_time=1, timeout_unit="ms")
class SimulatedTimeStops(NvmeBaseTest):
    """A coroutine that resumes itself forever in one time step: pyuvm's simulated-time timeout never comes."""

    async def body(self) -> None:
        while True:
            await NullTrigger()
