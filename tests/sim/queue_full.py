"""Full queues (tnvme's adminQFull and ioqFull) and full CQs.

With the firmware stalled the host fills an SQ to size - 1 entries, which it
must not exceed; once the firmware runs, every command completes. A CQ
smaller than the number of completions fills up: the controller stops
posting (no entry the host has not consumed is overwritten) until the host
reaps and rings the CQ head doorbell.
"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import Timer

from models.nvme_spec import CompletionEntry, FeatureId, get_features
from tb.base_test import QueueTest
from tb.sequences import io_command

TIMEOUT_MS = 20
SETTLE_NS = 20_000


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class AdminQueueFull(QueueTest):
    """Admin SQ of 4 entries: 3 commands fill it while the firmware is stalled."""

    admin_depth = 4

    async def body(self) -> None:
        queue = self.admin.queue
        self.firmware.pause()
        cids = await queue.submit_many([get_features(FeatureId.NUMBER_OF_QUEUES)] * 3)
        assert queue.sq.free_slots == 0, "host sees room in a full admin SQ"
        self.firmware.resume()
        cqes = await queue.wait_for(cids)
        assert all(c.status.is_success for c in cqes)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IoQueueFullAndCqFull(QueueTest):
    """SQ of 8 filled with 7 commands; CQ of 4 takes 3 before it is full."""

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        cq = await self.admin.create_cq(1, 4)
        sq = await self.admin.create_sq(1, 8, cq)
        self.firmware.pause()
        cids = await sq.submit_many([io_command() for _ in range(7)])
        assert sq.free_slots == 0, "host sees room in a full I/O SQ"
        self.firmware.resume()
        await Timer(SETTLE_NS, "ns")
        posted = await self.peek_cq(cq.addr, 4)
        assert [c.phase for c in posted] == [1, 1, 1, 0], (
            f"a CQ of 4 must hold exactly 3 new entries before the host reaps: {posted}")
        assert self.firmware.deferred.get(1), "firmware did not hold back completions for the full CQ"
        await sq.wait_for(cids)

    async def peek_cq(self, addr: int, depth: int) -> list[CompletionEntry]:
        raw = await self.tb.rc.mem_address_space.read(addr, 16 * depth)
        return [CompletionEntry.unpack(bytes(raw[16 * i:16 * i + 16])) for i in range(depth)]


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IoQueueFullWithBackPressure(IoQueueFullAndCqFull):
    """The same with idle cycles and back-pressure on every PCIe stream and the AXI4-Lite port."""

    pacing_seed = 21
