"""MSI-X per vector, masking with the PBA, and interrupt coalescing.

The interrupt scoreboard checks every message against the CQE writes on RQ
(a cause per message, none lost, coalescing rules); these tests add what
only they know: which vectors must have fired and when.
"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import Timer

from models.nvme_spec import FeatureId, coalescing_dword, vector_config_dword
from tb.base_test import QueueTest
from tb.sequences import io_command, stream_commands

TIMEOUT_MS = 20
SETTLE_NS = 5_000


class InterruptTest(QueueTest):
    pairs = 4

    async def setup(self) -> None:
        await super().setup()
        await self.admin.set_num_queues(self.pairs, self.pairs)
        self.queues = [await self.admin.create_queue_pair(qid, 16) for qid in range(1, self.pairs + 1)]


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class OneVectorPerQueue(InterruptTest):
    """Commands on each queue raise that queue's vector and no other."""

    async def body(self) -> None:
        for queue in self.queues:
            before = dict(self.msix.counts)
            await stream_commands(queue, 3, batch=1)
            await self.msix.wait_count(queue.qid, before.get(queue.qid, 0) + 3, SETTLE_NS)
            others = {v: n for v, n in self.msix.counts.items() if v not in (0, queue.qid) and n != before.get(v, 0)}
            assert not others, f"queue {queue.qid} raised other vectors {others}"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MaskedVectorPendsThenFires(InterruptTest):
    """A masked vector sets its PBA bit and sends nothing; unmasking delivers the message."""

    async def body(self) -> None:
        queue = self.queues[1]
        vector = queue.qid
        await self.set_mask(vector, True)
        before = self.msix.counts[vector]
        cid = await queue.submit(io_command())
        await queue.wait_for([cid])
        await Timer(SETTLE_NS, "ns")
        assert self.msix.counts[vector] == before, "a masked vector sent a message"
        assert await self.msix.pending_bits() >> vector & 1, "PBA bit not set for the masked vector"
        await self.set_mask(vector, False)
        await self.msix.wait_count(vector, before + 1, SETTLE_NS)
        assert not await self.msix.pending_bits() >> vector & 1, "PBA bit still set after delivery"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class CoalescingThreshold(InterruptTest):
    """THR = 3: four completions on one vector make one message; CD turns it off per vector."""

    async def body(self) -> None:
        await self.admin.set_features(FeatureId.INTERRUPT_COALESCING, coalescing_dword(thr=3, time_100us=10))
        queue = self.queues[0]
        before = self.msix.counts[queue.qid]
        await stream_commands(queue, 8, batch=8)
        await Timer(SETTLE_NS, "ns")
        assert self.msix.counts[queue.qid] - before == 2, (
            f"8 completions at THR 3 gave {self.msix.counts[queue.qid] - before} messages, expected 2")
        # coalescing disabled on the second queue's vector: one message per completion
        other = self.queues[1]
        await self.admin.set_features(FeatureId.INTERRUPT_VECTOR_CONFIG, vector_config_dword(other.qid, cd=True))
        before = self.msix.counts[other.qid]
        await stream_commands(other, 3, batch=1)
        await self.msix.wait_count(other.qid, before + 3, SETTLE_NS)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class CoalescingTime(InterruptTest):
    """One completion below the threshold fires once the aggregation time (100 us) runs out."""

    async def body(self) -> None:
        await self.admin.set_features(FeatureId.INTERRUPT_COALESCING, coalescing_dword(thr=7, time_100us=1))
        queue = self.queues[2]
        before = self.msix.counts[queue.qid]
        await stream_commands(queue, 1, batch=1)
        await Timer(50_000, "ns")
        assert self.msix.counts[queue.qid] == before, "message before the aggregation time"
        await self.msix.wait_count(queue.qid, before + 1, 200_000)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MaskingWithBackPressure(MaskedVectorPendsThenFires):
    pacing_seed = 41


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms", expect_fail=True)
class ScoreboardSeesWrongVector(InterruptTest):
    """The interrupt scoreboard must fail when its CQ-to-vector map is wrong (corrupted on purpose)."""

    async def body(self) -> None:
        self.env.interrupt_scoreboard.cqs[1].vector = 3
        await stream_commands(self.queues[0], 2, batch=1)
        await Timer(SETTLE_NS, "ns")
