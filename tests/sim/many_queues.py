"""Many I/O queue pairs at once: every pair the controller has, each with its own vector."""

from __future__ import annotations

import cocotb
import pyuvm

from tb.base_test import QueueTest
from tb.sequences import stream_commands

TIMEOUT_MS = 50


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class AllQueuePairsConcurrently(QueueTest):
    """64 queue pairs of 16 entries, 12 commands each (some wrap), all in flight together."""

    pairs = 64
    commands = 12

    async def body(self) -> None:
        nsq, ncq = await self.admin.set_num_queues(self.pairs, self.pairs)
        assert (nsq, ncq) == (self.pairs, self.pairs), f"controller granted {nsq} SQs and {ncq} CQs"
        queues = [await self.admin.create_queue_pair(qid, 16) for qid in range(1, self.pairs + 1)]
        tasks = [cocotb.start_soon(stream_commands(q, self.commands, batch=4)) for q in queues]
        for task in tasks:
            await task
        counts = self.firmware.commands_per_sq
        assert all(counts[q.qid] == self.commands for q in queues), counts
        for vector in range(1, self.pairs + 1):
            assert self.msix.counts[vector] > 0, f"vector {vector} never fired"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class EightQueuesWithBackPressure(AllQueuePairsConcurrently):
    pairs = 8
    pacing_seed = 71
