"""4 KiB random reads under the three DMA-API policies, for bench/iommu_bench.py.

Namespace 2 (4 KiB blocks), 4 I/O queues, each driven by its own host
"CPU" (one coroutine, as Linux's per-CPU queues) that keeps ``depth`` reads
in flight (QD1 and QD32 per queue: 4 and 128 reads in flight in all, the
controller's 64 command slots the limit): map the page (DMA_FROM_DEVICE) on the submission path, submit,
reap, unmap on the completion path, submit the next. Map and unmap CPU time
(and strict's synchronous invalidation) pass on that coroutine; IOTLB
misses walk the page tables in host memory while the controller's data
writes wait in line at the root complex. The firmware is free and the
back end answers at once (auto-completed reads), so what differs between
policies is the IOMMU's and the DMA API's work alone. Latency runs from the
start of the map to the end of the unmap, as an application sees it.

Each policy and depth runs on bare metal and inside a VM that owns the
controller (models/iommu/nested.py): the policy is then the guest's, on its
vIOMMU (stage 1), over the host's stage 2; an IOTLB miss walks both stages
(24 reads for 4 KiB pages) and each guest invalidation first costs a VM exit
(5 us by default).

Each of those runs once more with 64 entries of paging-structure caches
(models/iommu/walk_cache.py): a miss then walks only the levels below the
deepest table it finds cached, and strict's page invalidations drop the
cached tables over each page they invalidate.
"""

from __future__ import annotations

import random
import time

import cocotb
import pyuvm
from cocotb.utils import get_sim_time

from models.iommu import DmaDirection, DmaPolicy, IotlbConfig, VmConfig
from models.nvme_commands import read_cmd
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import wait_for_any
from tb.iommu_seam import IommuConfig
from tb.nvme_queues import NvmeQueue

from bench_figures import percentile, record

QUEUES = 4
NSID = 2
NS_BLOCKS = 1 << 18
# reads per queue: enough for each in-flight slot to come round several times
READS = {1: 48, 32: 128}
WALK_CACHE = 64


class IommuRate(CommandSetTest):
    backend_config = {"read_ns": 0, "write_ns": 0}
    iommu = IommuConfig(policy=DmaPolicy.PASSTHROUGH)
    depth = 1

    def make_firmware(self, dut):
        firmware = super().make_firmware(dut)
        firmware.io.auto_complete_reads = True
        return firmware

    async def drive(self, queue: NvmeQueue, reads: int, rng: random.Random, latencies: list[int]) -> None:
        """One host CPU on one queue: ``depth`` reads in flight until ``reads`` have completed."""
        free = [self.tb.alloc_dma(PAGE) for _ in range(self.depth)]
        inflight: dict[int, tuple[int, int, int]] = {}   # CID -> (buffer, bus address, start)
        issued = 0
        while issued < reads or inflight:
            while free and issued < reads:
                buf, start = free.pop(), int(get_sim_time("ns"))
                bus = await self.tb.dma.map(buf, PAGE, DmaDirection.FROM_DEVICE)
                (cid,) = await queue.submit_many([read_cmd(NSID, rng.randrange(NS_BLOCKS), 1, bus, 0)])
                inflight[cid] = (buf, bus, start)
                issued += 1
            cqe = await wait_for_any(queue, list(inflight), f"queue {queue.qid} reads")
            assert cqe.status.is_success, cqe.status
            buf, bus, start = inflight.pop(cqe.cid)
            await self.tb.dma.unmap(bus)
            latencies.append(int(get_sim_time("ns")) - start)
            free.append(buf)

    async def body(self) -> None:
        await self.admin.set_num_queues(QUEUES, QUEUES)
        queues = [await self.admin.create_queue_pair(qid, 64) for qid in range(1, QUEUES + 1)]
        iommu = self.tb.iommu_seam.iommu
        before = iommu.counters.snapshot()
        latencies: list[int] = []
        wall = time.perf_counter()
        start = get_sim_time("ns")
        tasks = [cocotb.start_soon(self.drive(q, READS[self.depth], random.Random(cocotb.RANDOM_SEED + q.qid),
                                              latencies)) for q in queues]
        for task in tasks:
            await task
        elapsed_ns = get_sim_time("ns") - start
        c = iommu.counters - before
        lookups = c.iotlb_hits + c.iotlb_misses
        where = ("vm" if self.iommu.vm else "bare") + ("+wc" if self.iommu.iotlb.walk_cache else "")
        record("iommu_rates", f"{where} {self.iommu.policy.value} QD{self.depth}", {
            "where": where, "policy": self.iommu.policy.value, "qd": self.depth, "reads": len(latencies),
            "iops": len(latencies) / elapsed_ns * 1e9,
            "mean_us": sum(latencies) / len(latencies) / 1000,
            "p50_us": percentile(latencies, 50) / 1000, "p99_us": percentile(latencies, 99) / 1000,
            "iotlb_miss_rate": c.iotlb_misses / lookups if lookups else 0.0,
            "iotlb_lookups": lookups, "page_walks": c.page_walks, "walk_reads": c.walk_reads,
            "invalidations": c.invalidations,
            "wall_s": time.perf_counter() - wall})


# the 24 runs: bare metal and in a VM, without and with the walk cache, each policy, QD1 and QD32 per queue
for _where, _vm in (("", None), ("Vm", VmConfig())):
    for _cache, _entries in (("", 0), ("WalkCache", WALK_CACHE)):
        for _policy in DmaPolicy:
            for _depth in (1, 32):
                _name = f"{_where}{_cache}{_policy.name.title()}Qd{_depth}"
                _config = IommuConfig(policy=_policy, vm=_vm, iotlb=IotlbConfig(walk_cache=_entries))
                globals()[_name] = pyuvm.test(timeout_time=50, timeout_unit="ms")(
                    type(_name, (IommuRate,), {"iommu": _config, "depth": _depth}))
