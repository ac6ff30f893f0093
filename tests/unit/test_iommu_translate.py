"""IOMMU translation: segments, costs, faults, contexts, isolation, trace."""

import random

import pytest

from models.iommu import (HUGE_PAGE_SIZE, PAGE_SIZE, DmaAccess, Domain, Fault, FaultCause, Iommu,
                          IommuCosts, IotlbConfig, Segment, make_rid, run_trace,
                          standalone_iommu)

COSTS = IommuCosts(iotlb_hit_ns=3, walk_read_ns=100, invalidation_ns=1000)
NVME = make_rid(1, 0, 0)
OTHER = make_rid(2, 0, 0)


@pytest.fixture
def iommu() -> Iommu:
    return standalone_iommu(iotlb=IotlbConfig(capacity=8), costs=COSTS)


@pytest.fixture
def domain(iommu: Iommu) -> Domain:
    dom = iommu.create_domain()
    iommu.attach(NVME, dom)
    return dom


def map_pages(domain: Domain, iova: int, phys: int, size: int, *,
              read: bool = True, write: bool = True) -> None:
    assert domain.page_table is not None
    domain.page_table.map(iova, phys, size, read=read, write=write)


def test_make_rid_is_pcie_bdf() -> None:
    assert make_rid(0x3a, 0x1f, 7) == 0x3aff
    with pytest.raises(ValueError):
        make_rid(0, 32, 0)


def test_translation_splits_at_page_boundaries(iommu: Iommu, domain: Domain) -> None:
    map_pages(domain, 0x10000, 0x5000_0000, PAGE_SIZE)
    map_pages(domain, 0x11000, 0x7000_0000, PAGE_SIZE)
    t = iommu.translate(NVME, 0x10f00, 0x200, False, 0)
    assert t.ok
    assert t.segments == (Segment(0x5000_0f00, 0x100), Segment(0x7000_0000, 0x100))


def test_random_translations_match_reference(iommu: Iommu, domain: Domain) -> None:
    rng = random.Random(3)
    ref: dict[int, int] = {}
    for _ in range(200):
        page = rng.randrange(1 << 30)
        if page not in ref:
            ref[page] = rng.randrange(1 << 30)
            map_pages(domain, page * PAGE_SIZE, ref[page] * PAGE_SIZE, PAGE_SIZE)
    pages = list(ref) * 3 + [rng.randrange(1 << 30) for _ in range(100)]
    rng.shuffle(pages)  # a mix of hits, misses and evictions in an 8-entry IOTLB
    for page in pages:
        offset = rng.randrange(PAGE_SIZE)
        t = iommu.translate(NVME, page * PAGE_SIZE + offset, 1, bool(rng.getrandbits(1)), 0)
        if page in ref:
            assert t.segments == (Segment(ref[page] * PAGE_SIZE + offset, 1),)
        else:
            assert t.fault is not None and t.fault.cause is FaultCause.NOT_PRESENT
    assert iommu.iotlb.evictions > 0 and iommu.counters.iotlb_hits > 0


def test_miss_walks_then_hits(iommu: Iommu, domain: Domain) -> None:
    map_pages(domain, 0x10000, 0x5000_0000, PAGE_SIZE)
    first = iommu.translate(NVME, 0x10000, 64, False, 0)
    second = iommu.translate(NVME, 0x10040, 64, True, 0)
    assert first.cost_ns == 4 * COSTS.walk_read_ns
    assert second.cost_ns == COSTS.iotlb_hit_ns
    c = iommu.counters
    assert (c.iotlb_misses, c.iotlb_hits, c.page_walks, c.walk_reads) == (1, 1, 1, 4)


def test_huge_page_walk_is_shorter_and_covers_2mib(iommu: Iommu, domain: Domain) -> None:
    map_pages(domain, HUGE_PAGE_SIZE, 0x4000_0000, HUGE_PAGE_SIZE)
    t = iommu.translate(NVME, HUGE_PAGE_SIZE + 0x1000, 0x10000, True, 0)
    assert t.segments == (Segment(0x4000_1000, 0x10000),)
    assert t.cost_ns == 3 * COSTS.walk_read_ns
    assert iommu.translate(NVME, HUGE_PAGE_SIZE + 0x1f_f000, 8, False, 0).cost_ns == COSTS.iotlb_hit_ns


def test_not_present_fault(iommu: Iommu, domain: Domain) -> None:
    t = iommu.translate(NVME, 0xdead_0000, 512, True, 1234)
    assert not t.ok and t.segments == ()
    assert t.cost_ns == COSTS.walk_read_ns  # the root entry was read
    assert iommu.fault_log == [Fault(1234, NVME, 0xdead_0000, True, FaultCause.NOT_PRESENT)]
    assert iommu.counters.faults == 1
    assert len(iommu.iotlb) == 0  # non-present results are not cached


def test_fault_on_second_page_aborts_the_whole_access(iommu: Iommu, domain: Domain) -> None:
    map_pages(domain, 0x10000, 0x5000_0000, PAGE_SIZE)
    t = iommu.translate(NVME, 0x10800, PAGE_SIZE, False, 0)
    assert t.segments == () and t.fault is not None
    assert t.fault.iova == 0x11000 and t.fault.cause is FaultCause.NOT_PRESENT


@pytest.mark.parametrize("read, write, is_write, cause", [
    (True, False, True, FaultCause.WRITE_TO_READ_ONLY),
    (False, True, False, FaultCause.READ_FROM_WRITE_ONLY),
])
def test_permission_faults(iommu: Iommu, domain: Domain, read: bool, write: bool,
                           is_write: bool, cause: FaultCause) -> None:
    map_pages(domain, 0x10000, 0x5000_0000, PAGE_SIZE, read=read, write=write)
    assert iommu.translate(NVME, 0x10000, 8, not is_write, 0).ok
    t = iommu.translate(NVME, 0x10000, 8, is_write, 5)  # from the IOTLB this time
    assert t.fault is not None and t.fault.cause is cause and t.cost_ns == COSTS.iotlb_hit_ns
    iommu.iotlb.invalidate_all()
    t = iommu.translate(NVME, 0x10000, 8, is_write, 6)  # and from a fresh walk
    assert t.fault is not None and t.fault.cause is cause
    assert [f.cause for f in iommu.fault_log] == [cause, cause]


def test_invalid_context_fault(iommu: Iommu, domain: Domain) -> None:
    t = iommu.translate(OTHER, 0x10000, 8, False, 99)
    assert t.fault is not None and t.fault.cause is FaultCause.INVALID_CONTEXT
    assert t.fault.rid == OTHER and t.cost_ns == 0
    iommu.detach(NVME)
    t = iommu.translate(NVME, 0x10000, 8, False, 100)
    assert t.fault is not None and t.fault.cause is FaultCause.INVALID_CONTEXT


def test_passthrough_is_identity_and_free(iommu: Iommu) -> None:
    iommu.attach(NVME, iommu.create_domain(passthrough=True))
    t = iommu.translate(NVME, 0x1234_5678, 0x3000, True, 0)
    assert t.segments == (Segment(0x1234_5678, 0x3000),) and t.cost_ns == 0
    assert iommu.counters.passthrough == 1 and iommu.counters.iotlb_misses == 0


def test_msi_window_writes_pass_untranslated() -> None:
    iommu = standalone_iommu(msi_window=(0x8000_0000, 16))
    iommu.attach(NVME, iommu.create_domain())
    t = iommu.translate(NVME, 0x8000_0004, 4, True, 0)
    assert t.segments == (Segment(0x8000_0004, 4),) and t.cost_ns == 0
    assert iommu.counters.interrupt_writes == 1
    assert not iommu.translate(NVME, 0x8000_0004, 4, False, 0).ok   # a read is a DMA
    assert not iommu.translate(NVME, 0x8000_000c, 8, True, 0).ok    # runs past the window


def test_iova_beyond_48_bits_faults(iommu: Iommu, domain: Domain) -> None:
    t = iommu.translate(NVME, 1 << 48, 8, False, 0)
    assert t.fault is not None and t.fault.cause is FaultCause.NOT_PRESENT


def test_zero_length_is_a_caller_bug(iommu: Iommu, domain: Domain) -> None:
    with pytest.raises(ValueError):
        iommu.translate(NVME, 0, 0, False, 0)


@pytest.mark.parametrize("scope", ["pages", "domain", "all"])
def test_invalidation_scopes_cost_and_counters(iommu: Iommu, scope: str) -> None:
    a, b = iommu.create_domain(), iommu.create_domain()
    iommu.attach(NVME, a)
    iommu.attach(OTHER, b)
    for dom, rid in ((a, NVME), (b, OTHER)):
        map_pages(dom, 0x10000, 0x5000_0000, 2 * PAGE_SIZE)
        iommu.translate(rid, 0x10000, 2 * PAGE_SIZE, False, 0)
    cost = {"pages": lambda: iommu.invalidate_pages(a.domain_id, 0x10000, PAGE_SIZE),
            "domain": lambda: iommu.invalidate_domain(a.domain_id),
            "all": iommu.invalidate_all}[scope]()
    assert cost == COSTS.invalidation_ns
    assert iommu.counters.invalidations == 1
    expected_dropped = {"pages": 1, "domain": 2, "all": 4}[scope]
    assert iommu.counters.invalidated_entries == expected_dropped
    assert len(iommu.iotlb) == 4 - expected_dropped


def test_stale_iotlb_entry_outlives_the_page_table_until_invalidated(
        iommu: Iommu, domain: Domain) -> None:
    map_pages(domain, 0x10000, 0x5000_0000, PAGE_SIZE)
    assert iommu.translate(NVME, 0x10000, 8, True, 0).ok
    assert domain.page_table is not None
    domain.page_table.unmap(0x10000, PAGE_SIZE)
    assert iommu.translate(NVME, 0x10000, 8, True, 1).segments == (Segment(0x5000_0000, 8),)
    iommu.invalidate_pages(domain.domain_id, 0x10000, PAGE_SIZE)
    assert iommu.translate(NVME, 0x10000, 8, True, 2).fault is not None


class TestIsolation:
    """Two devices, or two functions of one device, in different domains."""

    @pytest.fixture(params=[(make_rid(1, 0, 0), make_rid(2, 0, 0)),
                            (make_rid(1, 0, 0), make_rid(1, 0, 1))],
                    ids=["two-devices", "two-functions"])
    def pair(self, request: pytest.FixtureRequest, iommu: Iommu) -> tuple[int, int, Domain, Domain]:
        rid_a, rid_b = request.param
        dom_a, dom_b = iommu.create_domain(), iommu.create_domain()
        iommu.attach(rid_a, dom_a)
        iommu.attach(rid_b, dom_b)
        return rid_a, rid_b, dom_a, dom_b

    def test_b_cannot_reach_a_buffer(self, iommu: Iommu,
                                     pair: tuple[int, int, Domain, Domain]) -> None:
        rid_a, rid_b, dom_a, dom_b = pair
        buf_a = 0x5000_0000
        map_pages(dom_a, 0x10000, buf_a, 4 * PAGE_SIZE)
        map_pages(dom_b, 0x90000, 0x6000_0000, 4 * PAGE_SIZE)
        assert iommu.translate(rid_a, 0x10000, 4 * PAGE_SIZE, True, 0).ok  # warm A's IOTLB
        for iova in (0x10000, 0x12000, buf_a, buf_a + PAGE_SIZE):  # A's IOVAs and A's phys
            t = iommu.translate(rid_b, iova, 64, True, 0)
            assert t.fault is not None and t.fault.cause is FaultCause.NOT_PRESENT
        rng = random.Random(5)
        for _ in range(300):
            t = iommu.translate(rid_b, rng.randrange(1 << 20) * PAGE_SIZE, 64,
                                bool(rng.getrandbits(1)), 0)
            assert all(not buf_a <= s.phys < buf_a + 4 * PAGE_SIZE for s in t.segments)

    def test_same_iova_resolves_per_domain(self, iommu: Iommu,
                                           pair: tuple[int, int, Domain, Domain]) -> None:
        rid_a, rid_b, dom_a, dom_b = pair
        map_pages(dom_a, 0x10000, 0x5000_0000, PAGE_SIZE)
        map_pages(dom_b, 0x10000, 0x6000_0000, PAGE_SIZE)
        for _ in range(2):  # second round comes from the IOTLB, tagged by domain
            assert iommu.translate(rid_a, 0x10000, 8, False, 0).segments[0].phys == 0x5000_0000
            assert iommu.translate(rid_b, 0x10000, 8, False, 0).segments[0].phys == 0x6000_0000

    def test_invalidating_a_leaves_b_cached(self, iommu: Iommu,
                                            pair: tuple[int, int, Domain, Domain]) -> None:
        rid_a, rid_b, dom_a, dom_b = pair
        map_pages(dom_a, 0x10000, 0x5000_0000, PAGE_SIZE)
        map_pages(dom_b, 0x10000, 0x6000_0000, PAGE_SIZE)
        iommu.translate(rid_a, 0x10000, 8, False, 0)
        iommu.translate(rid_b, 0x10000, 8, False, 0)
        iommu.invalidate_domain(dom_a.domain_id)
        assert iommu.translate(rid_b, 0x10000, 8, False, 0).cost_ns == COSTS.iotlb_hit_ns
        assert iommu.translate(rid_a, 0x10000, 8, False, 0).cost_ns == 4 * COSTS.walk_read_ns


def test_run_trace_reports_per_access_cost_and_counter_deltas(iommu: Iommu, domain: Domain) -> None:
    map_pages(domain, 0x10000, 0x5000_0000, 2 * PAGE_SIZE, read=True, write=False)
    iommu.translate(NVME, 0x10000, 8, False, 0)  # before the trace: not counted
    result = run_trace(iommu, [
        DmaAccess(NVME, 0x10000, 8, False, 10),            # hit
        DmaAccess(NVME, 0x11000, 8, False, 20),            # miss
        DmaAccess(NVME, 0x11000, 8, True, 30),             # hit, read-only fault
        DmaAccess(OTHER, 0x10000, 8, False, 40),           # invalid context
    ])
    w = 4 * COSTS.walk_read_ns
    assert result.cost_ns == (COSTS.iotlb_hit_ns, w, COSTS.iotlb_hit_ns, 0)
    assert result.total_cost_ns == w + 2 * COSTS.iotlb_hit_ns
    c = result.counters
    assert (c.translations, c.iotlb_hits, c.iotlb_misses, c.page_walks, c.faults) == (4, 2, 1, 1, 2)
    assert [t.fault.cause for t in result.translations if t.fault] == [
        FaultCause.WRITE_TO_READ_ONLY, FaultCause.INVALID_CONTEXT]
