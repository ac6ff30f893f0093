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
where lazy does not until its flush. The Vm tests run the same inside a
guest that owns the controller: its policy on its vIOMMU over the host's
stage 2, every miss a two-dimensional walk, every guest invalidation a trap.
"""

from __future__ import annotations

import pyuvm

from models.iommu import DmaDirection, DmaPolicy, IommuCounters, VmConfig
from models.nvme_commands import write_cmd
from models.iommu.pagetable import LEVELS
from tb.dma_test import NSID, IommuDmaTest
from tb.iommu_seam import IommuConfig

TIMEOUT_MS = 40
PAGE = 4096


def reads_per_miss(config: IommuConfig) -> int:
    """Entries one IOTLB miss reads with 4 KiB pages: four levels on bare metal and for a guest that passes
    its DMA through (stage 2 alone); otherwise a stage-2 walk of each of the guest's four tables before its
    entry, and one of the leaf."""
    if config.vm is None or config.policy is DmaPolicy.PASSTHROUGH:
        return LEVELS
    return LEVELS * (LEVELS + 1) + LEVELS


def check_traps(config: IommuConfig, traps: int, invalidations: int) -> None:
    """In a VM every invalidation the guest issues traps first; on bare metal nothing traps."""
    expected = invalidations if config.vm is not None else 0
    assert traps == expected, f"{traps} VM exits for {invalidations} invalidations"


class PolicyRoundTrips(IommuDmaTest):
    """tb.dma_test's round trips under the IOMMU; the counters must agree with the policy's mechanics."""

    async def body(self) -> None:
        before, traps = self.iommu_model.counters.snapshot(), self.api.stats.traps
        await super().body()
        c = self.iommu_model.counters - before
        self.check_mechanics(c)
        check_traps(self.iommu, self.api.stats.traps - traps, c.invalidations)

    def check_mechanics(self, c: IommuCounters) -> None:
        stats = self.api.stats
        assert c.translations > 0 and c.faults == 0, f"{c.translations} translations, {c.faults} faults"
        assert stats.maps > 0 and stats.unmaps == stats.maps - len(self.tb.dma.live), stats
        if self.iommu.policy is DmaPolicy.PASSTHROUGH:
            assert c.iotlb_hits + c.iotlb_misses + c.invalidations == 0, f"passthrough used the IOTLB: {c}"
            assert c.passthrough == c.translations - c.interrupt_writes, f"not every request passed: {c}"
            return
        assert c.passthrough == 0 and c.iotlb_misses > 0, c
        assert c.page_walks == c.iotlb_misses and c.walk_reads == reads_per_miss(self.iommu) * c.page_walks, (
            f"every miss walks to a 4 KiB leaf, {reads_per_miss(self.iommu)} reads: {c}")
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


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class VmStrictRoundTrips(PolicyRoundTrips):
    """The round trips in a guest with strict protection: data byte for byte through both stages."""

    iommu = IommuConfig(policy=DmaPolicy.STRICT, vm=VmConfig())


class IotlbSemantics(IommuDmaTest):
    """One 16 KiB Write on fresh mappings (4 data pages and a PRP list page), twice, with warm queues:
    each new page misses once and walks to its leaf (four levels; 24 reads in a guest), everything else
    hits; strict unmaps invalidate each mapping and reuse its IOVA, lazy unmaps invalidate nothing and take
    new IOVAs; a guest that passes its DMA through maps nothing in its own table and invalidates nothing."""

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
        assert c.walk_reads == reads_per_miss(self.iommu) * new_pages, c
        assert c.iotlb_hits == c.translations - c.iotlb_misses - c.interrupt_writes > 0, c
        if self.iommu.policy is DmaPolicy.PASSTHROUGH:
            assert c.invalidations == 0, f"passthrough invalidated: {c}"
        elif self.iommu.policy is DmaPolicy.STRICT:
            assert c.invalidations == c.invalidated_entries == new_pages, (
                f"one page-selective invalidation per mapping, each dropping its cached entry: {c}")
        else:
            assert c.invalidations == 0, f"lazy invalidated within one command: {c}"

    async def body(self) -> None:
        await self.round_trip(PAGE, high=False)   # queues and their IOTLB entries warm
        traps = self.api.stats.traps
        first, iovas = await self.measured_write()
        self.check_one_write(first)
        second, again = await self.measured_write()
        self.check_one_write(second)
        check_traps(self.iommu, self.api.stats.traps - traps, first.invalidations + second.invalidations)
        if self.iommu.policy is DmaPolicy.PASSTHROUGH:
            assert not set(again) & set(iovas), f"new buffers, yet the same GPAs: {again} vs {iovas}"
        elif self.iommu.policy is DmaPolicy.STRICT:
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


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class VmStrictIotlb(IotlbSemantics):
    iommu = IommuConfig(policy=DmaPolicy.STRICT, vm=VmConfig())


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class VmLazyIotlb(IotlbSemantics):
    iommu = IommuConfig(policy=DmaPolicy.LAZY, vm=VmConfig())


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class VmPassthroughIotlb(IotlbSemantics):
    iommu = IommuConfig(policy=DmaPolicy.PASSTHROUGH, vm=VmConfig())
