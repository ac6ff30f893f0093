"""The IOMMU's side of PCIe ATS: what a Translation Request is granted, and the invalidations a device TLB is
told of; and the Translation Completion entry's layout."""

from models.iommu import (PAGE_SIZE, AtsGrant, DmaApi, DmaDirection, DmaPolicy, GuestDmaApi, IommuCosts,
                          VmConfig, make_rid, standalone_iommu, standalone_vm)
from models.iommu.ats import NO_ACCESS, TranslationEntry

COSTS = IommuCosts(iotlb_hit_ns=3, walk_read_ns=100, invalidation_ns=1000)
RID = make_rid(1, 0, 0)
BUF = 0x4000_0000


def test_a_translation_request_is_granted_what_the_domain_maps() -> None:
    iommu = standalone_iommu(costs=COSTS)
    dma = DmaApi.for_device(iommu, RID, DmaPolicy.STRICT)
    to_device = dma.map(BUF, PAGE_SIZE, DmaDirection.TO_DEVICE)
    both = dma.map(BUF + PAGE_SIZE, PAGE_SIZE, DmaDirection.BIDIRECTIONAL)
    grant, cost = iommu.translation_request(RID, to_device.iova + 0x123)
    assert grant == AtsGrant(to_device.iova, BUF, read=True, write=False) and cost == 4 * COSTS.walk_read_ns
    again, cost = iommu.translation_request(RID, to_device.iova)
    assert again == grant and cost == COSTS.iotlb_hit_ns
    assert iommu.translation_request(RID, both.iova)[0] == AtsGrant(both.iova, BUF + PAGE_SIZE, True, True)
    # nothing mapped, or no domain: no grant, and no fault either
    assert iommu.translation_request(RID, both.iova - PAGE_SIZE)[0] is None
    assert iommu.translation_request(make_rid(2, 0, 0), both.iova)[0] is None
    assert iommu.counters.faults == 0 and not iommu.fault_log


def test_a_guest_device_is_granted_the_host_physical_page() -> None:
    iommu, vm = standalone_vm(VmConfig(), costs=COSTS)
    dma = GuestDmaApi(iommu, vm, RID, DmaPolicy.LAZY)
    m = dma.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
    grant, cost = iommu.translation_request(RID, m.iova)
    assert grant == AtsGrant(m.iova, BUF, read=False, write=True) and cost == 24 * COSTS.walk_read_ns


def test_passthrough_grants_the_same_address() -> None:
    iommu = standalone_iommu(costs=COSTS)
    DmaApi.for_device(iommu, RID, DmaPolicy.PASSTHROUGH)
    assert iommu.translation_request(RID, BUF + 0x10) == (AtsGrant(BUF, BUF, True, True), 0)


def test_every_invalidation_is_told_to_the_listeners() -> None:
    iommu = standalone_iommu(costs=COSTS)
    told: list[tuple[int | None, int, int | None]] = []
    iommu.invalidation_listeners.append(lambda domain, addr, size: told.append((domain, addr, size)))
    strict = DmaApi.for_device(iommu, RID, DmaPolicy.STRICT)
    m = strict.map(BUF, PAGE_SIZE, DmaDirection.TO_DEVICE)
    strict.unmap(m.iova, PAGE_SIZE, 0)
    iommu.invalidate_domain(strict.domain.domain_id)
    iommu.invalidate_all()
    assert told == [(strict.domain.domain_id, m.iova, PAGE_SIZE), (strict.domain.domain_id, 0, None),
                    (None, 0, None)]


def test_translation_entry_layout() -> None:
    """Translated address in bits 63:12, W bit 1, R bit 0."""
    entry = TranslationEntry(0x12_3456_7000, read=True, write=False)
    assert entry.pack() == (0x12_3456_7000 | 1).to_bytes(8, "little")
    assert TranslationEntry.unpack(TranslationEntry(0x5000, False, True).pack()) == TranslationEntry(0x5000, False, True)
    assert NO_ACCESS.pack() == bytes(8) and not TranslationEntry.unpack(bytes(8)).grants_access
