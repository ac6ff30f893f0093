"""NVMe data through the IOMMU: translation and IOTLB semantics in the simulation.

Every upstream request of the controller (SQ fetches, PRP-list reads, data
reads and writes, CQE writes) is translated at the root complex
(tb/iommu_seam.py); queues are mapped once, data buffers and PRP lists per
command and unmapped at its completion under the run's policy. The round
trips of tb.dma_test (1 block to MDTS, random PRP1 offsets, PRP lists that
chain, below and above 4 GiB, guard bytes, data byte for byte, the TLP-rule
checker on the translated addresses) run under each policy, and the
IOMMU's counters must show each policy's own mechanics. The IOTLB tests
measure one command's misses, walks and invalidations exactly, and show
why strict must invalidate: it hands the same IOVAs out again at once,
where lazy does not until its flush.
"""

from __future__ import annotations

import pyuvm

from models.iommu import DmaDirection, DmaPolicy, IommuCounters
from models.nvme_commands import write_cmd
from models.iommu.pagetable import LEVELS
from tb.dma_test import NSID, IommuDmaTest
from tb.iommu_seam import IommuConfig

TIMEOUT_MS = 40
PAGE = 4096


class PolicyRoundTrips(IommuDmaTest):
    """tb.dma_test's round trips under the IOMMU; the counters must agree with the policy's mechanics."""

    async def body(self) -> None:
        before = self.iommu_model.counters.snapshot()
        await super().body()
        self.check_mechanics(self.iommu_model.counters - before)

    def check_mechanics(self, c: IommuCounters) -> None:
        stats = self.api.stats
        assert c.translations > 0 and c.faults == 0, f"{c.translations} translations, {c.faults} faults"
        assert stats.maps > 0 and stats.unmaps == stats.maps - len(self.tb.dma.live), stats
        if self.iommu.policy is DmaPolicy.PASSTHROUGH:
            assert c.iotlb_hits + c.iotlb_misses + c.invalidations == 0, f"passthrough used the IOTLB: {c}"
            assert c.passthrough == c.translations - c.interrupt_writes, f"not every request passed: {c}"
            return
        assert c.passthrough == 0 and c.iotlb_misses > 0, c
        assert c.page_walks == c.iotlb_misses and c.walk_reads == LEVELS * c.page_walks, (
            f"every miss walks four levels to a 4 KiB leaf: {c}")
        if self.iommu.policy is DmaPolicy.STRICT:
            assert c.invalidations == stats.unmaps and self.api.pending_unmaps == 0, (
                f"strict invalidates once per unmap: {c.invalidations} invalidations, {stats.unmaps} unmaps")
        else:
            flushes = stats.fq_flushes_full + stats.fq_flushes_timer + stats.fq_flushes_explicit
            assert c.invalidations == flushes < stats.unmaps, (
                f"lazy invalidates once per flush: {c.invalidations} invalidations, {flushes} flushes, "
                f"{stats.unmaps} unmaps")
            assert self.api.pending_unmaps <= self.iommu.flush_queue.size, self.api.pending_unmaps


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class StrictRoundTrips(PolicyRoundTrips):
    iommu = IommuConfig(policy=DmaPolicy.STRICT)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class LazyRoundTrips(PolicyRoundTrips):
    iommu = IommuConfig(policy=DmaPolicy.LAZY)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class PassthroughRoundTrips(PolicyRoundTrips):
    iommu = IommuConfig(policy=DmaPolicy.PASSTHROUGH)


class IotlbSemantics(IommuDmaTest):
    """One 16 KiB Write on fresh mappings (4 data pages and a PRP list page), twice, with warm queues:
    each new page misses once and walks four levels, everything else hits; strict unmaps invalidate
    each mapping and reuse its IOVA, lazy unmaps invalidate nothing and take new IOVAs."""

    PAGES = 4

    async def measured_write(self) -> tuple[IommuCounters, list[int]]:
        transfer = await self.buffers.prp(self.PAGES * PAGE, 0, direction=DmaDirection.TO_DEVICE)
        await self.buffers.fill(transfer, self.rng.randbytes(self.PAGES * PAGE))
        addresses = transfer.bus + [transfer.prp2]
        before = self.iommu_model.counters.snapshot()
        status = await self.run(write_cmd(NSID, 0, self.PAGES * PAGE // 512), transfer)
        assert status.is_success, status
        return self.iommu_model.counters - before, addresses

    def check_one_write(self, c: IommuCounters) -> None:
        new_pages = self.PAGES + 1
        assert c.iotlb_misses == c.page_walks == new_pages, f"{new_pages} new pages, one miss each: {c}"
        assert c.walk_reads == LEVELS * new_pages, c
        assert c.iotlb_hits == c.translations - c.iotlb_misses - c.interrupt_writes > 0, c
        if self.iommu.policy is DmaPolicy.STRICT:
            assert c.invalidations == c.invalidated_entries == new_pages, (
                f"one page-selective invalidation per mapping, each dropping its cached entry: {c}")
        else:
            assert c.invalidations == 0, f"lazy invalidated within one command: {c}"

    async def body(self) -> None:
        await self.round_trip(PAGE, high=False)   # queues and their IOTLB entries warm
        first, iovas = await self.measured_write()
        self.check_one_write(first)
        second, again = await self.measured_write()
        self.check_one_write(second)
        if self.iommu.policy is DmaPolicy.STRICT:
            assert again == iovas, f"strict frees IOVAs at unmap; the next map reuses them: {again} vs {iovas}"
        else:
            assert not set(again) & set(iovas), f"lazy reused an IOVA before its flush: {again} vs {iovas}"
            assert self.api.pending_unmaps == self.api.stats.unmaps, "lazy flushed without a reason"
        await self.buffers.check_guards()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class StrictIotlb(IotlbSemantics):
    iommu = IommuConfig(policy=DmaPolicy.STRICT)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class LazyIotlb(IotlbSemantics):
    iommu = IommuConfig(policy=DmaPolicy.LAZY)
