"""Invalid doorbell writes: no fetch of garbage, no lost entry, an event for the firmware.

Each kind of invalid write (a queue that does not exist, a value beyond the
queue size, an SQ tail that adds more entries than there is room for, a CQ
head that frees entries never posted) must leave the queue as it was and be
logged for the firmware, which records it for the Error asynchronous event.
Afterwards the queue works normally and nothing extra was fetched.
"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import Timer

from firmware.mailbox import DoorbellErrorKind
from tb.base_test import QueueTest
from tb.nvme_queues import cq_head_doorbell, sq_tail_doorbell
from tb.sequences import io_command, stream_commands

TIMEOUT_MS = 20
SETTLE_NS = 20_000
DEPTH = 16
CMD_SLOTS = 64


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class EveryInvalidDoorbell(QueueTest):
    async def body(self) -> None:
        await self.admin.set_num_queues(2, 2)
        queue = await self.admin.create_queue_pair(1, DEPTH)
        await stream_commands(queue, 5, batch=5)
        stride = self.driver.cap.doorbell_stride
        cq_head = queue.cq.head
        cases = [
            ("SQ doorbell of a queue never created", sq_tail_doorbell(2, stride), 1, 2, False,
             DoorbellErrorKind.NO_SUCH_QUEUE),
            ("CQ doorbell beyond the highest queue id", cq_head_doorbell(100, stride), 0, 100, True,
             DoorbellErrorKind.NO_SUCH_QUEUE),
            ("SQ tail equal to the queue size", sq_tail_doorbell(1, stride), DEPTH, 1, False,
             DoorbellErrorKind.BEYOND_QUEUE_SIZE),
            ("CQ head beyond the queue size", cq_head_doorbell(1, stride), 0xFFFF, 1, True,
             DoorbellErrorKind.BEYOND_QUEUE_SIZE),
            ("CQ head freeing entries never posted", cq_head_doorbell(1, stride), (cq_head + 3) % DEPTH, 1, True,
             DoorbellErrorKind.PASSES_OTHER_POINTER),
        ]
        fetched_before = self.fetched_expected = self.firmware.commands_per_sq[1]
        for what, offset, value, qid, is_cq, kind in cases:
            logged = len(self.firmware.async_events)
            await self.regs.writel(offset, value)
            await Timer(SETTLE_NS, "ns")
            assert len(self.firmware.async_events) == logged + 1, f"{what}: no doorbell error logged"
            event = self.firmware.async_events[-1]
            assert (event.kind, event.qid, event.is_cq) == (kind, qid, is_cq), f"{what}: logged {event}"
        assert self.firmware.commands_per_sq[1] == fetched_before, "an invalid doorbell made the engine fetch"
        await self.sq_overflow(queue, stride)
        # the queue carries on from where it was
        await stream_commands(queue, 2 * DEPTH, batch=7)

    async def sq_overflow(self, queue, stride: int) -> None:
        """An SQ tail that adds more entries than are free, while entries wait unfetched.

        With the firmware stalled, queue 2 takes all but one command slot, so
        queue 1 keeps most of a batch unfetched; a tail beyond the free space
        is then invalid and must not be followed.
        """
        other = await self.admin.create_queue_pair(2, CMD_SLOTS)
        self.firmware.pause()
        other_cids = await other.submit_many([io_command() for _ in range(CMD_SLOTS - 1)])
        await Timer(SETTLE_NS, "ns")
        cids = await queue.submit_many([io_command() for _ in range(10)])
        await Timer(SETTLE_NS, "ns")
        logged = len(self.firmware.async_events)
        # 9 of the 10 wait unfetched, so 6 entries are free; add 7
        await self.regs.writel(sq_tail_doorbell(1, stride), (queue.sq.tail + 7) % DEPTH)
        self.firmware.resume()
        await queue.wait_for(cids)
        await other.wait_for(other_cids)
        await Timer(SETTLE_NS, "ns")
        assert len(self.firmware.async_events) == logged + 1, "SQ overflow not logged"
        event = self.firmware.async_events[-1]
        assert (event.kind, event.qid, event.is_cq) == (DoorbellErrorKind.PASSES_OTHER_POINTER, 1, False), event
        assert self.firmware.commands_per_sq[1] == self.fetched_expected + 10, "entries past the tail were fetched"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DeletedQueueDoorbells(QueueTest):
    """The doorbells of a queue pair that existed and was deleted are those of no queue: logged, nothing
    fetched."""

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, DEPTH)
        await stream_commands(queue, 3, batch=3)
        await self.admin.delete_queue_pair(queue)
        fetched = self.firmware.commands_per_sq[1]
        stride = self.driver.cap.doorbell_stride
        for offset, is_cq in ((sq_tail_doorbell(1, stride), False), (cq_head_doorbell(1, stride), True)):
            logged = len(self.firmware.async_events)
            await self.regs.writel(offset, 1)
            await Timer(SETTLE_NS, "ns")
            assert len(self.firmware.async_events) == logged + 1, f"{'CQ' if is_cq else 'SQ'} doorbell not logged"
            event = self.firmware.async_events[-1]
            assert (event.kind, event.qid, event.is_cq) == (DoorbellErrorKind.NO_SUCH_QUEUE, 1, is_cq), event
        assert self.firmware.commands_per_sq[1] == fetched, "a deleted SQ's doorbell made the engine fetch"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class EveryInvalidDoorbellWithBackPressure(EveryInvalidDoorbell):
    pacing_seed = 51


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class InvalidWritesCounted(QueueTest):
    """DB_ERR keeps the first invalid write and counts every one until the firmware clears it,
    saturating at 255: with the firmware stalled, bursts of 3 and of 300 invalid writes are each
    one logged error with that count."""

    async def body(self) -> None:
        await self.admin.set_num_queues(2, 2)
        queue = await self.admin.create_queue_pair(1, DEPTH)
        stride = self.driver.cap.doorbell_stride
        for writes, counted in ((3, 3), (300, 255)):
            logged = len(self.firmware.async_events)
            self.firmware.pause()
            await Timer(SETTLE_NS, "ns")  # the pass under way ends; the loop then waits for resume()
            for n in range(writes):
                await self.regs.writel(sq_tail_doorbell(2 + n % 3, stride), 1)
            await Timer(SETTLE_NS, "ns")  # the posted writes reach the controller while the firmware waits
            self.firmware.resume()
            await Timer(SETTLE_NS, "ns")
            assert len(self.firmware.async_events) == logged + 1, f"{writes} invalid writes: not one error logged"
            event = self.firmware.async_events[-1]
            assert (event.qid, event.kind, event.count) == (2, DoorbellErrorKind.NO_SUCH_QUEUE, counted), event
        await stream_commands(queue, DEPTH, batch=5)  # and the queue that exists works on
