"""A module whose second test runs far longer than anyone waits, for tests/test_debug_loop.py's
Ctrl-C check: the first test ends at once, so the interrupt lands inside the second."""

from __future__ import annotations

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import Timer


@cocotb.test()
async def quick(dut) -> None:  # noqa: ANN001 - cocotb's top-level handle
    """Ends at once: its progress line tells the checker that the run is under way."""
    await Timer(1, unit="ns")
    assert dut is not None


@cocotb.test()
async def endless(dut) -> None:  # noqa: ANN001
    """Waits until interrupted: one simulated second of a running 250 MHz clock takes hours."""
    Clock(dut.user_clk, 4, unit="ns").start()
    await Timer(1, unit="sec")
    assert dut is not None
