"""MMIO doorbell writes per command with and without shadow doorbells, for bench/doorbell_bench.py.

4 KiB random reads on two queue pairs, each kept at a queue depth by as many
host tasks as the depth, every task submitting one read and waiting for it
(one SQ tail update per command, one CQ head update per CQ poll, as Linux
does), on a server-like host (800 ns read latency) and a SoC that charges 2
us per read. Each depth runs with MMIO doorbells only, with shadow doorbells
(Doorbell Buffer Config, Linux's EventIdx rule) swept by the firmware when it
sees work, and with shadow doorbells polled every 1 us by a core of their own
(LeapIO's runtime): the host's MMIO doorbell writes, its shadow updates, the
firmware's sweeps and the time they take, the latency and IOPS, all in
simulated time. The data scoreboard checks every read.
"""

from __future__ import annotations

import random

import cocotb
import pyuvm
from cocotb.utils import get_sim_time

from firmware.soc import SocConfig
from models.nvme_commands import read_cmd
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer
from tb.nvme_queues import NvmeQueue
from tb.pcie_tb import LinkConfig
from tb.shadow_doorbells import ShadowDoorbellPages

from bench_figures import percentile, record

NSID = 2                      # 4 KiB LBAs
BLOCKS = 2048
QUEUES = 2
DEPTHS = (1, 16)
READS = 256                   # per depth and mode, over both queues
POLL_NS = 1000


class DoorbellRates(CommandSetTest):
    link = LinkConfig(host_read_latency_ns=800)
    soc = SocConfig(clock_hz=1e9, cores=4, cycles={"read": 2000, "default": 0})
    modes: tuple[str, ...] = ()   # mmio, shadow (swept on work) or polled

    async def body(self) -> None:
        rng = random.Random(7)
        buffers = [await HostBuffer.alloc(self.tb, 1) for _ in range(max(DEPTHS) * QUEUES)]
        await self.admin.set_num_queues(QUEUES, QUEUES)
        for mode in self.modes:
            if mode != "mmio":
                pages = ShadowDoorbellPages(self.tb, self.driver.cap.doorbell_stride)
                await self.admin.configure_shadow_doorbells(pages)
            for depth in DEPTHS:
                queues = [await self.admin.create_queue_pair(qid, 2 * max(DEPTHS)) for qid in range(1, QUEUES + 1)]
                record("doorbell_rates", f"{mode} qd{depth}", await self.run_reads(rng, queues, depth, buffers))
                for queue in queues:
                    await self.admin.delete_queue_pair(queue)
        self.assert_checked(reads=READS * len(DEPTHS) * len(self.modes))

    async def run_reads(self, rng: random.Random, queues: list[NvmeQueue], depth: int,
                        buffers: list[HostBuffer]) -> dict[str, float]:
        shadow = self.firmware.shadow
        assert shadow is not None
        sweeps, busy = shadow.sweeps, shadow.busy_ns
        dma = self.firmware.dma.transfers
        pages = self.admin.shadow
        updates = pages.updates if pages else 0
        latencies: list[float] = []

        async def reader(queue: NvmeQueue, buf: HostBuffer, count: int) -> None:
            for _ in range(count):
                start = get_sim_time("ns")
                await queue.wait_for(await queue.submit_many([read_cmd(NSID, rng.randrange(BLOCKS), 1,
                                                                       *buf.prps(PAGE))]))
                latencies.append((get_sim_time("ns") - start) / 1000)

        per_task = READS // (QUEUES * depth)
        start = get_sim_time("ns")
        tasks = [cocotb.start_soon(reader(q, buffers[i * depth + j], per_task))
                 for i, q in enumerate(queues) for j in range(depth)]
        for task in tasks:
            await task
        elapsed = get_sim_time("ns") - start
        reads = per_task * QUEUES * depth
        mmio_sq = sum(q.sq.mmio_doorbells for q in queues)
        mmio_cq = sum(q.cq.mmio_doorbells for q in queues)
        return {"reads": reads, "mmio_sq_per_cmd": mmio_sq / reads, "mmio_cq_per_cmd": mmio_cq / reads,
                "updates_per_cmd": ((pages.updates - updates) if pages else mmio_sq + mmio_cq) / reads,
                "sweeps_per_cmd": (shadow.sweeps - sweeps) / reads,
                "sweep_us_per_cmd": (shadow.busy_ns - busy) / reads / 1000,
                "elapsed_us_per_cmd": elapsed / reads / 1000,
                "host_dma_per_cmd": (self.firmware.dma.transfers - dma) / reads - 1,
                "iops": reads / (elapsed * 1e-9), "p50_us": percentile(latencies, 50),
                "p99_us": percentile(latencies, 99)}


@pyuvm.test(timeout_time=2000, timeout_unit="ms")
class SweptDoorbellRates(DoorbellRates):
    modes = ("mmio", "shadow")


@pyuvm.test(timeout_time=2000, timeout_unit="ms")
class PolledDoorbellRates(DoorbellRates):
    modes = ("polled",)

    def make_firmware(self, dut):
        firmware = super().make_firmware(dut)
        firmware.shadow_poll_ns = POLL_NS
        return firmware
