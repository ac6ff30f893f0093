"""IOTLB: lookup by page size, domain tags, replacement, invalidation scopes."""

import pytest

from models.iommu import HUGE_PAGE_SIZE, PAGE_SIZE, IotlbConfig, ReplacementPolicy
from models.iommu.iotlb import Iotlb, IotlbEntry


def entry(page: int, domain: int = 1, page_size: int = PAGE_SIZE) -> IotlbEntry:
    iova = page * page_size
    return IotlbEntry(domain, iova, 0x8000_0000 + iova, page_size, True, True)


def make(policy: ReplacementPolicy, capacity: int = 4, seed: int = 0) -> Iotlb:
    return Iotlb(IotlbConfig(capacity=capacity, policy=policy, seed=seed))


def resident(tlb: Iotlb, pages: range, domain: int = 1) -> set[int]:
    return {p for p in pages if tlb.lookup(domain, p * PAGE_SIZE) is not None}


def test_hit_needs_same_domain_and_page() -> None:
    tlb = make(ReplacementPolicy.LRU)
    tlb.insert(entry(5))
    assert tlb.lookup(1, 5 * PAGE_SIZE + 0xfff) == entry(5)
    assert tlb.lookup(1, 6 * PAGE_SIZE) is None
    assert tlb.lookup(2, 5 * PAGE_SIZE) is None


def test_huge_entry_covers_its_2mib() -> None:
    tlb = make(ReplacementPolicy.LRU)
    tlb.insert(entry(3, page_size=HUGE_PAGE_SIZE))
    assert tlb.lookup(1, 3 * HUGE_PAGE_SIZE + 0x1f_ffff) is not None
    assert tlb.lookup(1, 4 * HUGE_PAGE_SIZE) is None


def test_lru_evicts_least_recently_used() -> None:
    tlb = make(ReplacementPolicy.LRU)
    for p in range(4):
        tlb.insert(entry(p))
    tlb.lookup(1, 0)          # page 0 becomes most recent
    tlb.insert(entry(4))      # evicts page 1
    assert resident(tlb, range(5)) == {0, 2, 3, 4}
    assert tlb.evictions == 1


def test_fifo_ignores_hits() -> None:
    tlb = make(ReplacementPolicy.FIFO)
    for p in range(4):
        tlb.insert(entry(p))
    tlb.lookup(1, 0)
    tlb.insert(entry(4))      # evicts page 0 regardless
    assert resident(tlb, range(5)) == {1, 2, 3, 4}


def test_random_is_seeded_and_bounded() -> None:
    def survivors(seed: int) -> set[int]:
        tlb = make(ReplacementPolicy.RANDOM, capacity=8, seed=seed)
        for p in range(40):
            tlb.insert(entry(p))
        assert len(tlb) == 8 and tlb.evictions == 32
        return resident(tlb, range(40))

    assert survivors(1) == survivors(1)
    assert len({frozenset(survivors(s)) for s in range(6)}) > 1
    assert survivors(1) != set(range(32, 40))  # not just FIFO in disguise


def test_reinsert_does_not_evict() -> None:
    tlb = make(ReplacementPolicy.FIFO, capacity=2)
    tlb.insert(entry(0))
    tlb.insert(entry(1))
    tlb.insert(entry(1))
    assert tlb.evictions == 0 and len(tlb) == 2


def test_invalidate_range_is_page_selective_and_domain_tagged() -> None:
    tlb = make(ReplacementPolicy.LRU, capacity=16)
    for p in range(6):
        tlb.insert(entry(p, domain=1))
        tlb.insert(entry(p, domain=2))
    assert tlb.invalidate_range(1, 2 * PAGE_SIZE, 2 * PAGE_SIZE) == 2
    assert resident(tlb, range(6), domain=1) == {0, 1, 4, 5}
    assert resident(tlb, range(6), domain=2) == set(range(6))


def test_invalidate_range_drops_an_overlapping_huge_entry() -> None:
    tlb = make(ReplacementPolicy.LRU)
    tlb.insert(entry(1, page_size=HUGE_PAGE_SIZE))
    assert tlb.invalidate_range(1, HUGE_PAGE_SIZE + 5 * PAGE_SIZE, PAGE_SIZE) == 1
    assert len(tlb) == 0


def test_invalidate_domain_and_all() -> None:
    tlb = make(ReplacementPolicy.LRU, capacity=16)
    for p in range(3):
        tlb.insert(entry(p, domain=1))
        tlb.insert(entry(p, domain=2))
    assert tlb.invalidate_domain(2) == 3
    assert resident(tlb, range(3), domain=1) == {0, 1, 2}
    assert resident(tlb, range(3), domain=2) == set()
    assert tlb.invalidate_all() == 3
    assert len(tlb) == 0


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        IotlbConfig(capacity=0)
