"""The user clock, stopped while the design is quiescent: idle simulated time at almost no cost.

An idle design still costs a full evaluation of the Verilator model on
every clock edge (tens of microseconds of wall time per cycle), which made
an idle simulated millisecond cost seconds. The design reports
``quiescent``: nothing in flight, no state change under way, no timer
armed (its time bases hold while their timers are idle), so its state
cannot change until an input does. Then nothing in the design can tell
whether its clock ran.

``ClockGate`` drives user_clk with cocotb's C++ clock and stops it once the
design is quiescent and no Python coroutine waits for a clock edge; the
simulator then jumps straight to the next scheduled event. Every wake-up of
Python passes through one entry point, cocotb's ``GPITrigger._react``; the
gate wraps it so that, whatever woke, the clock is running again before any
coroutine runs, its next rising edge exactly where it would have been had
the clock never stopped (edges stay on the grid start + k * period). A
coroutine that then waits for an edge gets the edge it would have got.

This file is the one place that depends on cocotb's internals (the trigger
entry point and a trigger's list of waiters); it refuses to load on another
version of cocotb.
"""

from __future__ import annotations

import cocotb
import cocotb.utils
from cocotb import _gpi_triggers
from cocotb.clock import Clock
from cocotb.handle import LogicObject
from cocotb.simtime import get_sim_time
from cocotb.task import Task
from cocotb.triggers import Event, ReadOnly, RisingEdge, Timer

OVERRIDDEN_VERSION = "2.1.0"
if cocotb.__version__ != OVERRIDDEN_VERSION:
    raise ImportError(f"tb/clock_gate.py wraps cocotb {OVERRIDDEN_VERSION}'s GPITrigger._react; {cocotb.__version__} "
                      "is installed: check it and update the pin in requirements.txt")


class ClockGate:
    """user_clk, started at construction, stopped and restarted around the design's quiescent periods.

    ``quiescent`` None (a top level without one) or ``enabled`` False: the clock just runs.
    """

    # the gate whose clock may be stopped; one test bench at a time
    active: ClockGate | None = None

    def __init__(self, clock: LogicObject, period_ns: int, quiescent: LogicObject | None,
                 enabled: bool = True) -> None:
        if ClockGate.active is not None:
            ClockGate.active.close()
        self.clock = clock
        self.period = _steps(period_ns)
        self.quiescent = quiescent
        # low for the first half period, so that the first rising edge finds every model built beside
        # the gate listening (and, under Icarus, every input driven); rising edges at origin + k * period
        self.origin = get_sim_time("step") + self.period // 2
        self._driver = Clock(clock, period_ns, "ns", impl="gpi")
        self._starting: Task[None] | None = cocotb.start_soon(self._start_now())
        self.stopped = False
        self.stops = 0
        self.skipped_ns = 0.0
        self._stopped_at = 0
        self._restarted = Event()
        self._task: Task[None] | None = None
        if quiescent is not None and enabled:
            ClockGate.active = self
            self._task = cocotb.start_soon(self._run())

    def _is_quiescent(self) -> bool:
        # before its reset a 4-state simulator's design reports X: not quiescent
        return str(self.quiescent.value) == "1"

    def _edge_waiters(self) -> bool:
        clk = self.clock
        return any(trigger._callbacks for trigger in (clk.rising_edge, clk.falling_edge, clk.value_change))

    async def _run(self) -> None:
        assert self.quiescent is not None
        while True:
            if not self._is_quiescent():
                await RisingEdge(self.quiescent)
            # every coroutine of this time step has run and registered what it waits for
            await ReadOnly()
            if self._is_quiescent() and not self._edge_waiters():
                self._stop()
                self._restarted.clear()
                await self._restarted.wait()
            else:
                await RisingEdge(self.clock)

    def _stop(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
            self._starting = None
        else:
            self._driver.stop()
        self.stopped = True
        self.stops += 1
        self._stopped_at = get_sim_time("step")

    def restart(self) -> None:
        """Something woke: the clock's next rising edge comes where it would have, after now."""
        now = get_sim_time("step")
        self.stopped = False
        self.skipped_ns += (now - self._stopped_at) / _steps(1)
        next_edge = self.origin + ((now - self.origin) // self.period + 1) * self.period
        self._starting = cocotb.start_soon(self._start_at(next_edge))
        self._restarted.set()

    async def _start_now(self) -> None:
        self._starting = None
        self._driver.start(start_high=False)

    async def _start_at(self, edge: int) -> None:
        fall = edge - self.period // 2
        now = get_sim_time("step")
        if fall > now:
            await Timer(fall - now, "step")
        self.clock.value = 0
        await Timer(edge - max(fall, now), "step")
        self._starting = None
        self._driver.start(start_high=True)

    def close(self) -> None:
        """Another test bench takes the clock: this gate lets go of it for good."""
        if ClockGate.active is self:
            ClockGate.active = None
        for task in (self._task, self._starting):
            if task is not None and not task.done():
                task.cancel()
        if not self.stopped and self._starting is None:
            self._driver.stop()
        self.stopped = True


def _steps(ns: int) -> int:
    return cocotb.utils.get_sim_steps(ns, "ns")


_react = _gpi_triggers.GPITrigger._react


def _react_with_clock(self: _gpi_triggers.GPITrigger) -> None:
    gate = ClockGate.active
    if gate is not None and gate.stopped:
        gate.restart()
    _react(self)


_gpi_triggers.GPITrigger._react = _react_with_clock
