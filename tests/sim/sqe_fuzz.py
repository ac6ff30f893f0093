"""SQE fuzzing through the real front end: random 64-byte commands on the admin and an I/O queue.

Every fuzzed command (tb/sqe_fuzz.py) must come back exactly once, with
the status the reference model predicts (the completion scoreboard), its
read data and DW0 as predicted (the data scoreboard), without a hang,
without CSTS.CFS, and without a memory request outside the host memory it
was given (the TLP-rule checker); after a controller reset (which also
ends the Asynchronous Event Requests still held) a good command works.

`make test` fuzzes FUZZ_SQES commands with the regression's seed;
`make nightly` sets NVME_COSIM_FUZZ_SQES (100,000) and a new seed, which it
prints first and `make nightly SEED=<n>` replays.
"""

from __future__ import annotations

import os
import random
from collections import Counter

import cocotb
import pyuvm

from models.nvme_regs import NVME_CSTS_CFS, NVME_REG_CSTS
from tb.base_test import CommandSetTest
from tb.command_sequences import HostBuffer, write_and_read_back
from tb.sqe_fuzz import Arena, SqeFuzzer

FUZZ_SQES = int(os.environ.get("NVME_COSIM_FUZZ_SQES", "2500"))
ADMIN_SHARE = 0.3
# simulated time per fuzzed command, generously: a failing status is quick, 128 KiB take tens of us
NS_PER_SQE = 100_000
CHECK_CSTS_EVERY = 250
# a DSM of 256 ranges, each a partial page at either end, takes 256 x 2 back-end writes
COMMAND_TIMEOUT_NS = 20_000_000
QUIET_NS = 10_000


@pyuvm.test(timeout_time=max(200, FUZZ_SQES * NS_PER_SQE // 1_000_000), timeout_unit="ms")
class FuzzedSqes(CommandSetTest):
    async def body(self) -> None:
        rng = random.Random(cocotb.RANDOM_SEED)
        # cocotb derives each test's seed from the run's (the one `make nightly` prints)
        self.logger.info("fuzzing %d SQEs with test seed %d", FUZZ_SQES, cocotb.RANDOM_SEED)
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        fuzzer = SqeFuzzer(rng, Arena.alloc(self.tb), self.config)
        outcomes: Counter[str] = Counter()
        for n in range(FUZZ_SQES):
            await fuzzer.refresh(self.tb)
            on_admin = rng.random() < ADMIN_SHARE
            target = self.admin.queue if on_admin else queue
            sqe = fuzzer.admin() if on_admin else fuzzer.io()
            (cid,) = await target.submit_many([sqe])
            if self.env.reference.predictions.get((target.qid, cid)) is None and on_admin:
                outcomes["held (AER)"] += 1   # waits for an event; the scoreboards check it if one comes
                continue
            (cqe,) = await target.wait_for([cid], COMMAND_TIMEOUT_NS)
            outcomes["success" if cqe.status.is_success else str(cqe.status).split()[0]] += 1
            if n % CHECK_CSTS_EVERY == 0:
                csts = await self.regs.readl(NVME_REG_CSTS)
                assert not csts & NVME_CSTS_CFS, f"CSTS.CFS after fuzzed SQE {n} ({sqe})"
        self.logger.info("%d fuzzed SQEs: %s", FUZZ_SQES, dict(outcomes.most_common()))
        assert not await self.regs.readl(NVME_REG_CSTS) & NVME_CSTS_CFS, "CSTS.CFS after fuzzing"
        assert outcomes["success"] and len(outcomes) > 5, f"the fuzz mix is too narrow: {dict(outcomes)}"
        # held AERs end with a controller reset; then a good command works
        await self.disable_and_watch(QUIET_NS)
        await self.bring_up()
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        buf = await HostBuffer.alloc(self.tb, 2)
        await write_and_read_back(self.tb, queue, 2, 7, rng.randbytes(8192), 4096, buf, buf)
