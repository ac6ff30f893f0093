"""Constrained-random queue traffic: every scoreboard on, reproducible from SEED.

Random number of queue pairs, queue sizes (including the smallest), SQs
sharing CQs, batch sizes, arbitration mode settings, interrupt coalescing,
vector masking and firmware speed. Run again with `make sim
TEST=queue_random SEED=<n>`; cocotb seeds Python's random module with it and
prints it at the start.
"""

from __future__ import annotations

import random

import cocotb
import pyuvm
from cocotb.triggers import Timer

from models.nvme_spec import FeatureId, arbitration_dword, coalescing_dword
from tb.base_test import QueueTest
from tb.nvme_queues import CompletionQueue, SubmissionQueue
from tb.pcie_tb import LinkConfig
from tb.sequences import io_command

TIMEOUT_MS = 100


async def drive(sq: SubmissionQueue, count: int, max_batch: int, rng: random.Random) -> None:
    """Random batches on one SQ, with random pauses; all completions awaited."""
    done = 0
    while done < count:
        n = min(rng.randint(1, max_batch), count - done, sq.depth - 1)
        cids = await sq.submit_many([io_command() for _ in range(n)])
        await sq.wait_for(cids)
        done += n
        if rng.random() < 0.3:
            await Timer(rng.randint(10, 2000), "ns")


class RandomQueues(QueueTest):
    async def body(self) -> None:
        rng = random.Random(random.getrandbits(32))
        ncq = rng.randint(1, 6)
        nsq = rng.randint(ncq, 10)
        await self.admin.set_num_queues(nsq, ncq)
        await self.admin.set_features(FeatureId.ARBITRATION, arbitration_dword(ab=rng.choice([0, 1, 3, 7])))
        if rng.random() < 0.5:
            await self.admin.set_features(FeatureId.INTERRUPT_COALESCING,
                                          coalescing_dword(thr=rng.randint(0, 4), time_100us=rng.randint(0, 1)))
        cqs: list[CompletionQueue] = [await self.admin.create_cq(qid, rng.choice([2, 3, 8, 64]))
                                      for qid in range(1, ncq + 1)]
        sqs = [await self.admin.create_sq(qid, rng.choice([2, 3, 16, 64]), rng.choice(cqs))
               for qid in range(1, nsq + 1)]
        masked = rng.sample([cq.qid for cq in cqs], k=rng.randint(0, ncq))
        for vector in masked:
            await self.set_mask(vector, True)
        self.logger.info("random queues: %d SQs %s on %d CQs %s, masked vectors %s", nsq,
                         [(sq.qid, sq.depth, sq.cq.qid) for sq in sqs], ncq, [cq.depth for cq in cqs], masked)
        tasks = [cocotb.start_soon(drive(sq, rng.randint(5, 40), rng.randint(1, 12), rng)) for sq in sqs]
        for task in tasks:
            await task
        for vector in masked:
            await self.set_mask(vector, False)
        await Timer(5_000, "ns")


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class RandomQueuesA(RandomQueues):
    """The defaults: zero-cost firmware, 800 ns host, no extra pacing."""


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class RandomQueuesSlowFirmware(RandomQueues):
    firmware_cost_ns = 500


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class RandomQueuesWithBackPressure(RandomQueues):
    pacing_seed = 81


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class RandomQueuesSlowHostReorderedCompletions(RandomQueues):
    """A 2 us host with per-read jitter: SQ-entry reads complete out of order and split at 64 B."""

    link = LinkConfig(host_read_latency_ns=2000, host_read_jitter_ns=1500, host_seed=7, split_completions=True)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class RandomQueuesAbove4GiB(RandomQueues):
    """Admin and I/O queues above 4 GiB: 64-bit addresses in every fetch and CQE write."""

    link = LinkConfig(dma_above_4g=True)
