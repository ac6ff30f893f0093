"""A wall-clock watchdog for a simulation whose simulated time stops moving.

pyuvm's test timeouts count simulated time, so a simulation that stops
advancing it (a zero-delay loop between a coroutine and the design, or an
RTL fault that livelocks the scheduler, as one mutant of the DMA walker did)
never times out: it spins until something outside kills it, and says
nothing of where it stood. Here a coroutine beats a heartbeat every
``HEARTBEAT_NS`` of simulated time, and a thread watches it: when no beat
has come for the wall-clock limit, the thread writes the test's name, the
simulated time of the last beat and every thread's Python stack to the log,
and ends the simulator process, so the run fails at once and says why.

The limit is ``NVME_COSIM_WALL_LIMIT_S`` seconds (default 600: the slowest
module advances simulated time thousands of times faster than that needs).
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time

import cocotb
from cocotb.simtime import get_sim_time
from cocotb.task import Task
from cocotb.triggers import Timer

from tb.results import WATCHDOG_MESSAGE

ENV_VAR = "NVME_COSIM_WALL_LIMIT_S"
DEFAULT_LIMIT_S = 600.0
HEARTBEAT_NS = 10_000
EXIT_STATUS = 3


class WallClockWatchdog:
    """The heartbeat of the running test and the thread that watches it (one per simulator process)."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s
        self.last_beat = time.monotonic()
        self.sim_ns = 0
        self.test = ""
        self._beat: Task | None = None
        self._thread: threading.Thread | None = None

    def stalled_for(self, now: float) -> float | None:
        """Seconds since the last beat, if that is past the limit; None while the simulation moves."""
        idle = now - self.last_beat
        return idle if idle > self.limit_s else None

    def arm(self, test: str) -> None:
        """Watch ``test``: beat from now on (cocotb ends the beat with the test) and start the thread once."""
        self.test = test
        self.last_beat = time.monotonic()
        self._beat = cocotb.start_soon(self._heartbeat())
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="wall-clock watchdog", daemon=True)
            self._thread.start()

    async def _heartbeat(self) -> None:
        while True:
            self.last_beat = time.monotonic()
            self.sim_ns = int(get_sim_time("ns"))
            await Timer(HEARTBEAT_NS, "ns")

    def _watch(self) -> None:
        while True:
            time.sleep(min(5.0, self.limit_s / 4))
            idle = self.stalled_for(time.monotonic())
            if idle is not None:
                self._give_up(idle)

    def _give_up(self, idle: float) -> None:
        sys.stderr.write(f"\n{WATCHDOG_MESSAGE} {self.test}: no heartbeat ({HEARTBEAT_NS:,} ns of simulated "
                         f"time apart) since {self.sim_ns:,} ns, for {idle:.0f} s of wall time "
                         f"({ENV_VAR}={self.limit_s:g}); the Python stacks follow, then the simulator is stopped\n")
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        sys.stderr.flush()
        os._exit(EXIT_STATUS)


_watchdog: WallClockWatchdog | None = None


def watch(test: str) -> WallClockWatchdog:
    """The process's watchdog, armed for ``test``."""
    global _watchdog
    if _watchdog is None:
        _watchdog = WallClockWatchdog(float(os.environ.get(ENV_VAR, DEFAULT_LIMIT_S)))
    _watchdog.arm(test)
    return _watchdog
