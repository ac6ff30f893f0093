"""Host read errors on SQ-entry fetches: a fatal status, never a hang.

The host answers a fetch of an I/O SQ with Unsupported Request, Completer
Abort or poisoned data, not at all, or too late. The controller must report
the fatal condition in CSTS.CFS (the command it could not read cannot be
completed), keep every other path sane, and come out of it through a
controller reset that finishes within CAP.TO; the lost completion is caught
by the fetch engine's completion timeout (about 50 us), and one that comes
after it is an Unexpected Completion: discarded, its command never queued.
"""

from __future__ import annotations

import pyuvm
from cocotb.simtime import get_sim_time
from cocotb.triggers import Timer

from models.nvme_regs import NVME_CSTS_CFS, NVME_REG_CSTS
from tb.base_test import QueueTest
from tb.fast_usp import LATE_NS
from tb.sequences import io_command

TIMEOUT_MS = 20
CFS_WAIT_NS = 100_000


class FetchFault(QueueTest):
    kind = "ur"

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        ring = queue.sq.addr, queue.sq.addr + 16 * 64
        fault = self.tb.dev.inject_read_fault(lambda addr: ring[0] <= addr < ring[1], self.kind)
        await queue.submit(io_command())
        csts = 0
        for _ in range(CFS_WAIT_NS // 1000):
            csts = await self.regs.readl(NVME_REG_CSTS)
            if csts & NVME_CSTS_CFS:
                break
            await Timer(1000, "ns")
        assert fault.hits, "the fault never matched a fetch"
        assert csts & NVME_CSTS_CFS, f"no CSTS.CFS after a '{self.kind}' fetch (CSTS={csts:#x})"
        await self.after_fatal()
        assert self.firmware.commands_per_sq[1] == 0, "a command that could not be read reached the firmware"
        # the way out: a controller reset, bounded by CAP.TO in the driver
        await self.driver.nvme_disable_ctrl()
        self.env.queue_monitor.controller_reset()
        assert not await self.regs.readl(NVME_REG_CSTS) & NVME_CSTS_CFS, "CFS survived the reset"

    async def after_fatal(self) -> None:
        """Between CSTS.CFS and the reset."""


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FetchUnsupportedRequest(FetchFault):
    kind = "ur"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FetchCompleterAbort(FetchFault):
    kind = "ca"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FetchPoisoned(FetchFault):
    kind = "poison"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FetchCompletionLost(FetchFault):
    kind = "drop"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FetchCompletionLate(FetchFault):
    """The fetch's completion comes after the timeout, before the reset: the read is dead, its data must
    not become a command."""

    kind = "late"

    async def after_fatal(self) -> None:
        completions: list[int] = []
        observer = lambda tlp, t: completions.append(t)  # noqa: E731 - removed again below
        self.tb.dev.rc_observers.append(observer)
        fatal_at = get_sim_time("ns")
        await Timer(LATE_NS, "ns")
        self.tb.dev.rc_observers.remove(observer)
        assert completions, f"the late completion did not arrive within {LATE_NS} ns of CSTS.CFS at {fatal_at:.0f} ns"
