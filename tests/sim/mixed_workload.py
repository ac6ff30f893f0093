"""Seeded constrained-random mixed workload over the firmware's command set, and the scoreboards' self-tests.

Four SQs on three CQs (two SQs share one), random depths, several commands
in flight per queue and all queues at once, both namespaces (512 B and
4 KiB LBAs), on a two-core SoC whose cost makes commands overlap; the mix
is tb.random_io's. Every scoreboard is on: completion (status against the
reference model), data (every read and DW0) and interrupt. The seed is
cocotb's: `make sim TEST=mixed_workload SEED=<n>` (SEED as cocotb printed
it) reruns a failure.

The expect_fail tests corrupt the reference model on purpose, once in its
shadow data and once in a feature value, and must fail: proof that the
data scoreboard sees a wrong byte and a wrong DW0.
"""

from __future__ import annotations

import random

import cocotb
import pyuvm

from firmware.soc import SocConfig
from models.nvme_commands import read_cmd, write_cmd
from models.nvme_spec import FeatureId
from tb.base_test import CommandSetTest
from tb.command_sequences import PAGE, HostBuffer, run_all, run_one
from tb.nvme_queues import CompletionQueue
from tb.random_io import MAX_PAGES, LbaLocks, RandomIo, Window

TIMEOUT_MS = 100
WINDOW_BYTES = 256 * 1024    # per namespace: small enough that reads find earlier writes


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class RandomMixedWorkload(CommandSetTest):
    commands_per_queue = 60
    soc = SocConfig(cores=2, cycles={"default": 300, "read": 500, "write": 800})

    async def body(self) -> None:
        # cocotb seeds `random` per test from SEED (it prints SEED at the start of the run)
        rng = random.Random(random.getrandbits(64))
        await self.admin.set_num_queues(4, 3)
        cqs: list[CompletionQueue] = [await self.admin.create_cq(qid, rng.choice([4, 8, 16])) for qid in (1, 2, 3)]
        sqs = [await self.admin.create_sq(qid, rng.choice([4, 8, 16]), cq)
               for qid, cq in zip((1, 2, 3, 4), (*cqs, cqs[2]))]
        windows = [Window(ns, WINDOW_BYTES // ns.lba_size) for ns in self.config.namespaces]
        io = RandomIo(self.tb, rng, windows, LbaLocks(), self.env.reference.model.read_shadow)
        self.logger.info("SQs (id, depth, CQ): %s", [(sq.qid, sq.depth, sq.cq.qid) for sq in sqs])
        tasks = [cocotb.start_soon(io.drive(sq, self.commands_per_queue, min(sq.depth - 1, 6))) for sq in sqs]
        for task in tasks:
            await task
        self.logger.info("outcomes: %s", dict(sorted(io.outcomes.items())))
        await self.read_back_windows(sqs[0], windows)
        kinds = {kind for kind, _ in io.outcomes}
        assert kinds >= {"read", "write", "write_zeroes", "dsm", "compare", "verify", "copy", "flush", "bad"}, kinds
        assert any(status != "success" for kind, status in io.outcomes if kind == "bad"), io.outcomes
        assert self.env.data_scoreboard.reads_checked > len(sqs), "the data scoreboard checked too few reads"
        assert not self.firmware.internal_errors, self.firmware.internal_errors
        for sq in sqs:
            await self.admin.delete_sq(sq)
        for cq in cqs:
            await self.admin.delete_cq(cq)

    async def read_back_windows(self, queue, windows: list[Window]) -> None:
        """The end state: every block of both windows read (the data scoreboard compares with the model)."""
        buf = await HostBuffer.alloc(self.tb, MAX_PAGES)
        chunk = MAX_PAGES * PAGE
        reads = [read_cmd(w.ns.nsid, offset // w.ns.lba_size, chunk // w.ns.lba_size, *buf.prps(chunk))
                 for w in windows for offset in range(0, WINDOW_BYTES, chunk)]
        for sqe in reads:   # one at a time: they share the buffer
            assert (await run_one(queue, sqe)).status.is_success


class CorruptedModel(CommandSetTest):
    """A write read back, with the reference model corrupted by ``corrupt`` before the read."""

    def corrupt(self) -> None:
        raise NotImplementedError

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 4)
        buf = await HostBuffer.alloc(self.tb, 1)
        await self.tb.rc.mem_address_space.write(buf.addr, bytes(range(256)) * 16)
        await run_all(queue, [write_cmd(2, 10, 1, *buf.prps(PAGE))])
        self.corrupt()
        await run_all(queue, [read_cmd(2, 10, 1, *buf.prps(PAGE))])
        await self.admin.get_features(FeatureId.ARBITRATION)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms", expect_fail=True)
class DataScoreboardSeesWrongData(CorruptedModel):
    """The model's shadow of LBA 10 is zeroed behind the controller's back: the read must mismatch."""

    def corrupt(self) -> None:
        self.env.reference.model.namespaces.shadows[2].write(10, bytes(PAGE))


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms", expect_fail=True)
class DataScoreboardSeesWrongDw0(CorruptedModel):
    """The model believes Arbitration was set to burst 7: Get Features' DW0 must mismatch."""

    def corrupt(self) -> None:
        self.env.reference.model.features[FeatureId.ARBITRATION] = 7
