"""MMIO doorbell writes per command with and without shadow doorbells, for bench/doorbell_bench.py.

4 KiB random reads on two queue pairs, each kept at a queue depth by as many
host tasks as the depth, every task mapping its buffer, submitting one read,
waiting for it and unmapping the buffer (one SQ tail update per command, one
CQ head update per CQ poll, as Linux does), on a server-like host (800 ns
read latency) and a SoC that charges 2 us per read. Each depth runs with MMIO
doorbells only, with shadow doorbells (Doorbell Buffer Config, Linux's
EventIdx rule) swept by the firmware when it sees work, and with shadow
doorbells polled every 1 us by a core of their own (LeapIO's runtime): the
host's MMIO doorbell writes, its shadow updates, the firmware's sweeps and
the time they take, the latency and IOPS, all in simulated time. The data
scoreboard checks every read.

On bare metal without an IOMMU mapping costs nothing. The guest runs do the
same inside a VM with strict protection on its vIOMMU (every unmap a VM exit
and an invalidation), with hardware doorbells, polled shadow doorbells, and
polled shadow doorbells reached through PCIe ATS (LeapIO's arrangement: the
firmware's sweeps by translated requests), and hardware doorbells with the
function's ATS on; with ATS on, every invalidation of the guest's domain is
also a round trip to the firmware's translation cache.
"""

from __future__ import annotations

import random

import cocotb
import pyuvm
from cocotb.utils import get_sim_time

from firmware.nvme.ats import AddressTranslationCache
from firmware.soc import SocConfig
from models.iommu import DmaDirection, DmaPolicy, VmConfig
from models.nvme_commands import read_cmd
from tb.base_test import PAGE, CommandSetTest
from tb.iommu_seam import IommuConfig
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
    # mmio, shadow (swept on work) or polled; +ats: with the function's ATS on (polled: the sweeps through it)
    modes: tuple[str, ...] = ()
    place = "bare"

    async def body(self) -> None:
        rng = random.Random(7)
        buffers = [self.tb.alloc_dma(PAGE) for _ in range(max(DEPTHS) * QUEUES)]
        await self.admin.set_num_queues(QUEUES, QUEUES)
        for mode in self.modes:
            if not mode.startswith("mmio"):
                pages = ShadowDoorbellPages(self.tb, self.driver.cap.doorbell_stride)
                await self.admin.configure_shadow_doorbells(pages)
            for depth in DEPTHS:
                queues = [await self.admin.create_queue_pair(qid, 2 * max(DEPTHS)) for qid in range(1, QUEUES + 1)]
                record("doorbell_rates", f"{self.place} {mode} qd{depth}",
                       await self.run_reads(rng, queues, depth, buffers))
                for queue in queues:
                    await self.admin.delete_queue_pair(queue)
        self.assert_checked(reads=READS * len(DEPTHS) * len(self.modes))

    async def run_reads(self, rng: random.Random, queues: list[NvmeQueue], depth: int,
                        buffers: list[int]) -> dict[str, float]:
        shadow = self.firmware.shadow
        assert shadow is not None
        sweeps, busy = shadow.sweeps, shadow.busy_ns
        dma = self.firmware.dma.transfers
        pages = self.admin.shadow
        updates = pages.updates if pages else 0
        ats = self.ats_counts()
        latencies: list[float] = []

        async def reader(queue: NvmeQueue, buf: int, count: int) -> None:
            for _ in range(count):
                start = get_sim_time("ns")
                bus = await self.tb.dma.map(buf, PAGE, DmaDirection.FROM_DEVICE)
                await queue.wait_for(await queue.submit_many([read_cmd(NSID, rng.randrange(BLOCKS), 1, bus, 0)]))
                await self.tb.dma.unmap(bus)
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
        requests, invalidations = (now - then for now, then in zip(self.ats_counts(), ats))
        return {"reads": reads, "mmio_sq_per_cmd": mmio_sq / reads, "mmio_cq_per_cmd": mmio_cq / reads,
                "ats_requests_per_cmd": requests / reads, "device_invalidations_per_cmd": invalidations / reads,
                "updates_per_cmd": ((pages.updates - updates) if pages else mmio_sq + mmio_cq) / reads,
                "sweeps_per_cmd": (shadow.sweeps - sweeps) / reads,
                "sweep_us_per_cmd": (shadow.busy_ns - busy) / reads / 1000,
                "elapsed_us_per_cmd": elapsed / reads / 1000,
                "host_dma_per_cmd": (self.firmware.dma.transfers - dma) / reads - 1,
                "iops": reads / (elapsed * 1e-9), "p50_us": percentile(latencies, 50),
                "p99_us": percentile(latencies, 99)}


    def ats_counts(self) -> tuple[int, int]:
        """Translation Requests and Invalidate Requests at the root complex so far (none without an IOMMU)."""
        seam = self.tb.iommu_seam
        return (seam.ats.translation_requests, seam.ats.invalidate_requests) if seam else (0, 0)


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


class GuestDoorbellRates(PolledDoorbellRates):
    """In a guest VM with strict protection on its vIOMMU."""

    iommu = IommuConfig(policy=DmaPolicy.STRICT, vm=VmConfig())
    place = "vm"


@pyuvm.test(timeout_time=2000, timeout_unit="ms")
class GuestPolledDoorbellRates(GuestDoorbellRates):
    modes = ("mmio", "polled")


@pyuvm.test(timeout_time=2000, timeout_unit="ms")
class GuestAtsDoorbellRates(GuestDoorbellRates):
    modes = ("mmio+ats", "polled+ats")

    def make_firmware(self, dut):
        firmware = super().make_firmware(dut)
        firmware.atc = AddressTranslationCache(firmware.dma, firmware.dram)
        return firmware

    async def setup(self) -> None:
        await super().setup()
        self.tb.iommu_seam.ats.enable(int(self.tb.func.pcie_id), self.firmware.atc)
