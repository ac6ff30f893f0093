"""Paging-structure caches: the reads a walk skips, bare and nested, what invalidation takes back, and that
the cache never changes what a walk finds."""

import pytest

from models.iommu import (PAGE_SIZE, DmaApi, DmaDirection, DmaPolicy, GuestDmaApi, IommuCosts, IotlbConfig,
                          Segment, VmConfig, make_rid, standalone_iommu, standalone_vm)

COSTS = IommuCosts(iotlb_hit_ns=3, walk_read_ns=100, invalidation_ns=1000)
RID = make_rid(1, 0, 0)
BUF = 0x4000_0000


def walk_reads(iommu, iova: int) -> int:
    """Reads of one translation of ``iova`` that misses the IOTLB (emptied first, the walk cache kept)."""
    iommu.iotlb.invalidate_all()
    before = iommu.counters.walk_reads
    assert iommu.translate(RID, iova, 64, True, 0).ok
    return iommu.counters.walk_reads - before


def bare(policy: DmaPolicy, walk_cache: int = 64) -> DmaApi:
    iommu = standalone_iommu(costs=COSTS, iotlb=IotlbConfig(walk_cache=walk_cache))
    return DmaApi.for_device(iommu, RID, policy)


def guest(policy: DmaPolicy, huge_stage2: bool = False, walk_cache: int = 64) -> GuestDmaApi:
    iommu, vm = standalone_vm(VmConfig(huge_stage2=huge_stage2), costs=COSTS,
                              iotlb=IotlbConfig(walk_cache=walk_cache))
    return GuestDmaApi(iommu, vm, RID, policy)


def test_a_bare_walk_in_a_cached_leaf_table_reads_one_entry() -> None:
    dma = bare(DmaPolicy.LAZY)
    first, second = (dma.map(BUF + i * PAGE_SIZE, PAGE_SIZE, DmaDirection.FROM_DEVICE) for i in range(2))
    assert second.iova // (2 << 20) == first.iova // (2 << 20), "the test wants both pages in one leaf table"
    assert walk_reads(dma.iommu, first.iova) == 4
    assert walk_reads(dma.iommu, second.iova) == 1
    assert walk_reads(dma.iommu, first.iova) == 1   # the IOTLB lost it, the walk cache did not


@pytest.mark.parametrize("huge_stage2, uncached", [(False, 4 * (4 + 1) + 4), (True, 4 * (3 + 1) + 3)])
def test_a_nested_walk_skips_both_stages_upper_levels(huge_stage2: bool, uncached: int) -> None:
    dma = guest(DmaPolicy.LAZY, huge_stage2)
    first, second = (dma.map(BUF + i * PAGE_SIZE, PAGE_SIZE, DmaDirection.FROM_DEVICE) for i in range(2))
    # even the first walk gains: the second-stage walks of the guest's four table pages share their upper levels
    assert walk_reads(dma.iommu, first.iova) < uncached
    # the leaf table is cached with its host address: its entry, then one second-stage read for the data page,
    # whose second-stage leaf table is cached too
    assert walk_reads(dma.iommu, second.iova) == 2


def test_without_entries_it_reads_what_the_walk_reads() -> None:
    for dma in (bare(DmaPolicy.STRICT, walk_cache=0), guest(DmaPolicy.STRICT, walk_cache=0)):
        m = dma.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
        assert walk_reads(dma.iommu, m.iova) == dma.iommu.walk(dma.domain, m.iova).reads
        assert walk_reads(dma.iommu, m.iova) == dma.iommu.walk(dma.domain, m.iova).reads
        assert len(dma.iommu.walk_cache) == 0


def test_a_page_invalidation_drops_the_tables_over_the_page() -> None:
    dma = bare(DmaPolicy.STRICT)
    keep, drop = (dma.map(BUF + i * PAGE_SIZE, PAGE_SIZE, DmaDirection.FROM_DEVICE) for i in range(2))
    assert walk_reads(dma.iommu, keep.iova) == 4
    cached = len(dma.iommu.walk_cache)
    assert cached == 3
    dma.unmap(drop.iova, PAGE_SIZE, 0)   # strict: a page-selective invalidation over the same tables
    assert len(dma.iommu.walk_cache) == 0
    assert walk_reads(dma.iommu, keep.iova) == 4


def test_an_invalidation_elsewhere_keeps_them() -> None:
    dma = bare(DmaPolicy.STRICT)
    near = dma.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
    assert walk_reads(dma.iommu, near.iova) == 4
    dma.iommu.invalidate_pages(dma.domain.domain_id, near.iova + (1 << 39), PAGE_SIZE)
    assert len(dma.iommu.walk_cache) == 3
    dma.iommu.invalidate_pages(dma.domain.domain_id + 1, near.iova, PAGE_SIZE)
    assert walk_reads(dma.iommu, near.iova) == 1


def test_domain_invalidation_drops_both_stages() -> None:
    dma = guest(DmaPolicy.LAZY)
    m = dma.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
    walk_reads(dma.iommu, m.iova)
    assert len(dma.iommu.walk_cache) > 3
    dma.iommu.invalidate_domain(dma.domain.domain_id)
    assert len(dma.iommu.walk_cache) == 0


def test_capacity_bounds_it_lru() -> None:
    iommu = standalone_iommu(costs=COSTS, iotlb=IotlbConfig(walk_cache=3))
    dma = DmaApi.for_device(iommu, RID, DmaPolicy.LAZY)
    table = dma.domain.page_table
    assert table is not None
    far = [1 << 30, 2 << 30]   # one table below the root in common, then each its own
    for iova in far:
        table.map(iova, BUF, PAGE_SIZE, read=True, write=True)
    assert walk_reads(iommu, far[0]) == 4
    assert walk_reads(iommu, far[1]) == 3
    assert len(iommu.walk_cache) == 3
    assert walk_reads(iommu, far[0]) == 3   # its two deeper tables were the least recently used


def test_the_translation_is_the_tables_whatever_is_cached() -> None:
    dma = bare(DmaPolicy.LAZY)
    pages = [dma.map(BUF + i * PAGE_SIZE, PAGE_SIZE, DmaDirection.FROM_DEVICE) for i in range(4)]
    for i, m in enumerate(pages * 2):
        t = dma.iommu.translate(RID, m.iova + 8, 8, True, 0)
        assert t.segments == (Segment(BUF + (i % 4) * PAGE_SIZE + 8, 8),)


def test_negative_capacity_is_refused() -> None:
    with pytest.raises(ValueError):
        IotlbConfig(walk_cache=-1)
