"""Host DMA API: passthrough, strict and lazy policies; the IOVA allocator."""

from collections.abc import Callable

import pytest

from models.iommu import (HUGE_PAGE_SIZE, PAGE_SIZE, DmaApi, DmaCosts, DmaDirection, DmaPolicy,
                          FaultCause, FlushQueueConfig, Iommu, IommuCosts, IotlbConfig,
                          IovaAllocator, IovaExhausted, make_rid, standalone_iommu)

RID = make_rid(1, 0, 0)
COSTS = IommuCosts(iotlb_hit_ns=3, walk_read_ns=100, invalidation_ns=1000)
CPU = DmaCosts(map_ns=250, unmap_ns=150)
FQ = FlushQueueConfig()
BUF = 0x4000_0000
MS = 1_000_000

MakeDma = Callable[..., DmaApi]


@pytest.fixture
def iommu() -> Iommu:
    return standalone_iommu(iotlb=IotlbConfig(capacity=512), costs=COSTS)


@pytest.fixture
def make_dma(iommu: Iommu) -> MakeDma:
    def make(policy: DmaPolicy, **kwargs: object) -> DmaApi:
        return DmaApi.for_device(iommu, RID, policy, costs=CPU, **kwargs)  # type: ignore[arg-type]
    return make


@pytest.fixture
def strict(make_dma: MakeDma) -> DmaApi:
    return make_dma(DmaPolicy.STRICT)


@pytest.fixture
def lazy(make_dma: MakeDma) -> DmaApi:
    return make_dma(DmaPolicy.LAZY)


def device_writes(iommu: Iommu, iova: int, now_ns: int = 0, length: int = 64) -> bool:
    return iommu.translate(RID, iova, length, True, now_ns).ok


def test_policy_parses_from_string() -> None:
    assert DmaPolicy("lazy") is DmaPolicy.LAZY


def test_policy_must_fit_the_domain(iommu: Iommu) -> None:
    with pytest.raises(ValueError):
        DmaApi(iommu, iommu.create_domain(passthrough=True), DmaPolicy.STRICT)
    with pytest.raises(ValueError):
        DmaApi(iommu, iommu.create_domain(), DmaPolicy.PASSTHROUGH)


def test_passthrough_is_identity_and_free(iommu: Iommu, make_dma: MakeDma) -> None:
    dma = make_dma(DmaPolicy.PASSTHROUGH)
    m = dma.map(BUF + 0x123, 0x5000, DmaDirection.FROM_DEVICE)
    assert (m.iova, m.cost_ns) == (BUF + 0x123, 0)
    assert iommu.translate(RID, m.iova, 0x5000, True, 0).segments[0].phys == BUF + 0x123
    assert dma.unmap(m.iova, 0x5000, 0) == 0
    assert iommu.counters.invalidations == 0


@pytest.mark.parametrize("policy", [DmaPolicy.STRICT, DmaPolicy.LAZY])
def test_map_keeps_the_page_offset_and_translates_back(iommu: Iommu, make_dma: MakeDma,
                                                       policy: DmaPolicy) -> None:
    dma = make_dma(policy)
    m = dma.map(BUF + 0xf00, 0x200, DmaDirection.BIDIRECTIONAL)  # straddles a page boundary
    assert m.iova % PAGE_SIZE == 0xf00 and m.cost_ns == CPU.map_ns
    t = iommu.translate(RID, m.iova, 0x200, False, 0)
    assert [(s.phys, s.length) for s in t.segments] == [(BUF + 0xf00, 0x100), (BUF + 0x1000, 0x100)]


@pytest.mark.parametrize("direction, is_write, cause", [
    (DmaDirection.TO_DEVICE, True, FaultCause.WRITE_TO_READ_ONLY),
    (DmaDirection.FROM_DEVICE, False, FaultCause.READ_FROM_WRITE_ONLY),
])
def test_direction_sets_permissions(iommu: Iommu, strict: DmaApi, direction: DmaDirection,
                                    is_write: bool, cause: FaultCause) -> None:
    m = strict.map(BUF, PAGE_SIZE, direction)
    assert iommu.translate(RID, m.iova, 8, not is_write, 0).ok
    fault = iommu.translate(RID, m.iova, 8, is_write, 0).fault
    assert fault is not None and fault.cause is cause


def test_large_aligned_buffer_gets_a_2mib_page(iommu: Iommu, strict: DmaApi) -> None:
    m = strict.map(BUF, HUGE_PAGE_SIZE, DmaDirection.FROM_DEVICE)
    assert m.iova % HUGE_PAGE_SIZE == 0
    assert iommu.translate(RID, m.iova + 0x10_0000, 8, True, 0).cost_ns == 3 * COSTS.walk_read_ns


def test_unmap_must_match_a_live_mapping(strict: DmaApi) -> None:
    m = strict.map(BUF, 0x3000, DmaDirection.TO_DEVICE)
    with pytest.raises(ValueError):
        strict.unmap(m.iova, 0x2000, 0)
    with pytest.raises(ValueError):
        strict.unmap(m.iova + 0x10_0000, 0x3000, 0)
    strict.unmap(m.iova, 0x3000, 0)
    with pytest.raises(ValueError):
        strict.unmap(m.iova, 0x3000, 0)


@pytest.mark.parametrize("policy, map_ns, unmap_ns", [
    (DmaPolicy.PASSTHROUGH, 0, 0),
    (DmaPolicy.STRICT, 3 * CPU.map_ns, 3 * (CPU.unmap_ns + COSTS.invalidation_ns)),
    (DmaPolicy.LAZY, 3 * CPU.map_ns, 3 * CPU.unmap_ns),
])
def test_stats_count_calls_and_cpu_time(make_dma: MakeDma, policy: DmaPolicy,
                                        map_ns: int, unmap_ns: int) -> None:
    dma = make_dma(policy)
    for _ in range(3):
        m = dma.map(BUF, PAGE_SIZE, DmaDirection.TO_DEVICE)
        dma.unmap(m.iova, PAGE_SIZE, 0)
    with pytest.raises(ValueError):
        dma.map(BUF, 0, DmaDirection.TO_DEVICE)
    s = dma.stats
    assert (s.maps, s.unmaps, s.map_ns, s.unmap_ns) == (3, 3, map_ns, unmap_ns)
    assert dma.flush_all() == (COSTS.invalidation_ns if policy is DmaPolicy.LAZY else 0)
    assert s.fq_flushes_explicit == (policy is DmaPolicy.LAZY)


class TestStrict:
    def test_unmap_invalidates_synchronously(self, iommu: Iommu, strict: DmaApi) -> None:
        m = strict.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
        assert device_writes(iommu, m.iova)  # the IOTLB now holds the entry
        assert strict.unmap(m.iova, PAGE_SIZE, 0) == CPU.unmap_ns + COSTS.invalidation_ns
        assert iommu.counters.invalidations == 1
        fault = iommu.translate(RID, m.iova, 64, True, 1).fault
        assert fault is not None and fault.cause is FaultCause.NOT_PRESENT

    def test_iova_is_reused_at_once(self, strict: DmaApi) -> None:
        m = strict.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
        strict.unmap(m.iova, PAGE_SIZE, 0)
        assert strict.map(BUF + PAGE_SIZE, PAGE_SIZE, DmaDirection.FROM_DEVICE).iova == m.iova


class TestLazy:
    def test_stale_entry_usable_until_flush(self, iommu: Iommu, lazy: DmaApi) -> None:
        m = lazy.map(BUF, 2 * PAGE_SIZE, DmaDirection.FROM_DEVICE)
        assert device_writes(iommu, m.iova)  # only the first page is cached
        assert lazy.unmap(m.iova, 2 * PAGE_SIZE, 0) == CPU.unmap_ns
        assert iommu.counters.invalidations == 0
        t = iommu.translate(RID, m.iova, 64, True, 1)
        assert t.segments[0].phys == BUF  # the device still reaches the old page
        assert not device_writes(iommu, m.iova + PAGE_SIZE)  # the PTE itself is gone
        assert lazy.flush_all() == COSTS.invalidation_ns
        assert not device_writes(iommu, m.iova, 2)

    def test_iova_not_reused_before_flush(self, lazy: DmaApi) -> None:
        m = lazy.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
        lazy.unmap(m.iova, PAGE_SIZE, 0)
        later = [lazy.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE).iova for _ in range(20)]
        assert m.iova not in later and lazy.iovas.is_allocated(m.iova)
        lazy.flush_all()
        assert not lazy.iovas.is_allocated(m.iova)
        assert lazy.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE).iova == m.iova

    def test_flush_when_queue_is_full(self, iommu: Iommu, lazy: DmaApi) -> None:
        maps = [lazy.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE) for _ in range(FQ.size + 1)]
        first = maps[0]
        device_writes(iommu, first.iova)
        costs = [lazy.unmap(m.iova, PAGE_SIZE, 0) for m in maps[:FQ.size]]
        assert set(costs) == {CPU.unmap_ns} and iommu.counters.invalidations == 0
        assert lazy.pending_unmaps == FQ.size and device_writes(iommu, first.iova)
        deadline = lazy.next_flush_ns
        assert lazy.unmap(maps[-1].iova, PAGE_SIZE, 0) == CPU.unmap_ns + COSTS.invalidation_ns
        assert iommu.counters.invalidations == 1 and lazy.stats.fq_flushes_full == 1
        assert lazy.pending_unmaps == 1  # the unmap that found the queue full waits in it
        assert not device_writes(iommu, first.iova)
        assert not lazy.iovas.is_allocated(first.iova)
        assert lazy.next_flush_ns == deadline  # as in Linux, the timer stays armed

    def test_flush_on_timer(self, iommu: Iommu, lazy: DmaApi) -> None:
        a = lazy.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
        b = lazy.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
        device_writes(iommu, a.iova)
        assert lazy.next_flush_ns is None
        lazy.unmap(a.iova, PAGE_SIZE, 1000)
        lazy.unmap(b.iova, PAGE_SIZE, 5 * MS)  # does not push the deadline out
        assert lazy.next_flush_ns == 1000 + FQ.timeout_ns
        assert lazy.tick(1000 + FQ.timeout_ns - 1) == 0
        assert device_writes(iommu, a.iova)
        assert lazy.tick(1000 + FQ.timeout_ns) == COSTS.invalidation_ns
        assert not device_writes(iommu, a.iova)
        assert lazy.stats.fq_flushes_timer == 1 and lazy.stats.background_ns == COSTS.invalidation_ns
        assert lazy.pending_unmaps == 0 and lazy.next_flush_ns is None
        assert not lazy.iovas.is_allocated(b.iova)

    def test_unmap_after_deadline_flushes_in_background_first(self, iommu: Iommu,
                                                              lazy: DmaApi) -> None:
        a = lazy.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
        b = lazy.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
        lazy.unmap(a.iova, PAGE_SIZE, 0)
        assert lazy.unmap(b.iova, PAGE_SIZE, 20 * MS) == CPU.unmap_ns  # timer cost not charged here
        assert lazy.stats.fq_flushes_timer == 1 and iommu.counters.invalidations == 1
        assert lazy.pending_unmaps == 1 and lazy.next_flush_ns == 20 * MS + FQ.timeout_ns

    def test_small_queue_config(self, iommu: Iommu, make_dma: MakeDma) -> None:
        dma = make_dma(DmaPolicy.LAZY, flush_queue=FlushQueueConfig(size=2, timeout_ns=MS))
        maps = [dma.map(BUF, PAGE_SIZE, DmaDirection.TO_DEVICE) for _ in range(5)]
        for m in maps:
            dma.unmap(m.iova, PAGE_SIZE, 0)
        assert iommu.counters.invalidations == 2  # at the 3rd and the 5th unmap


class TestIovaAllocator:
    def test_top_down_size_aligned(self) -> None:
        alloc = IovaAllocator(1 << 32)
        assert alloc.alloc(PAGE_SIZE) == (1 << 32) - PAGE_SIZE
        assert alloc.alloc(3 * PAGE_SIZE) == (1 << 32) - 8 * PAGE_SIZE  # 4 pages, 4-page aligned
        assert alloc.alloc(2 * PAGE_SIZE) == (1 << 32) - 4 * PAGE_SIZE  # aligned in the hole above
        assert alloc.alloc(PAGE_SIZE) == (1 << 32) - 2 * PAGE_SIZE
        assert IovaAllocator.span(1) == PAGE_SIZE and IovaAllocator.span(HUGE_PAGE_SIZE) == HUGE_PAGE_SIZE

    def test_reserved_window_is_skipped(self) -> None:
        alloc = IovaAllocator(1 << 32)
        alloc.reserve(0xfee0_0000, 0x10_0000)
        alloc.reserve((1 << 32) - PAGE_SIZE, PAGE_SIZE)
        got = [alloc.alloc(0x8_0000) for _ in range(64)]
        assert all(not (0xfee0_0000 <= g < 0xfef0_0000) for g in got)
        assert len(set(got)) == 64

    def test_reserve_rounds_out_to_pages(self) -> None:
        alloc = IovaAllocator(1 << 20)
        alloc.reserve((1 << 20) - PAGE_SIZE - 8, 16)  # straddles two pages
        assert alloc.alloc(PAGE_SIZE) == (1 << 20) - 3 * PAGE_SIZE

    def test_dma_api_keeps_iovas_out_of_the_msi_window(self) -> None:
        iommu = standalone_iommu(msi_window=((1 << 32) - PAGE_SIZE, 16))
        dma = DmaApi.for_device(iommu, RID, DmaPolicy.STRICT)
        assert dma.map(BUF, PAGE_SIZE, DmaDirection.TO_DEVICE).iova == (1 << 32) - 2 * PAGE_SIZE

    def test_exhaustion_and_page_zero(self) -> None:
        alloc = IovaAllocator(4 * PAGE_SIZE)
        got = {alloc.alloc(PAGE_SIZE) for _ in range(3)}
        assert got == {PAGE_SIZE, 2 * PAGE_SIZE, 3 * PAGE_SIZE}
        with pytest.raises(IovaExhausted):
            alloc.alloc(PAGE_SIZE)

    def test_free_unknown_raises(self) -> None:
        alloc = IovaAllocator(1 << 20)
        with pytest.raises(ValueError):
            alloc.free(0x1000)


def run_ios(iommu: Iommu, dma: DmaApi, count: int, pages: int = 4) -> int:
    """A closed loop of I/Os: map a buffer, the device writes it, unmap.

    Returns the total time the loop spends in the DMA API and in IOMMU
    translation; whatever separates the policies must come from it.
    """
    total, now, size = 0, 0, pages * PAGE_SIZE
    for i in range(count):
        m = dma.map(BUF + (i % 32) * size, size, DmaDirection.FROM_DEVICE)
        t = iommu.translate(RID, m.iova, size, True, now)
        assert t.ok
        total += m.cost_ns + t.cost_ns + dma.unmap(m.iova, size, now) + dma.tick(now)
        now += 10_000
    return total


@pytest.mark.parametrize("invalidation_ns", [1500, 0])
def test_policy_ordering_comes_from_mechanics(invalidation_ns: int) -> None:
    costs = IommuCosts(iotlb_hit_ns=3, walk_read_ns=200, invalidation_ns=invalidation_ns)
    totals, invalidations = {}, {}
    for policy in DmaPolicy:
        iommu = standalone_iommu(costs=costs)
        dma = DmaApi.for_device(iommu, RID, policy)
        totals[policy] = run_ios(iommu, dma, 600)
        invalidations[policy] = iommu.counters.invalidations
    assert totals[DmaPolicy.PASSTHROUGH] == 0
    assert invalidations == {DmaPolicy.PASSTHROUGH: 0, DmaPolicy.STRICT: 600, DmaPolicy.LAZY: 2}
    extra = (invalidations[DmaPolicy.STRICT] - invalidations[DmaPolicy.LAZY]) * invalidation_ns
    assert totals[DmaPolicy.STRICT] - totals[DmaPolicy.LAZY] == extra
    assert totals[DmaPolicy.LAZY] > 0
