"""Two-stage translation for a guest: the 2D walk's reads, the combined IOTLB entry, faults at either stage,
and a guest's invalidations trapping, with every policy difference coming from those mechanics."""

import pytest

from models.iommu import (PAGE_SIZE, DmaApi, DmaDirection, DmaPolicy, FaultCause, GuestDmaApi, IommuCosts,
                          IotlbConfig, IommuCounters, Segment, VmConfig, make_rid, standalone_iommu, standalone_vm,
                          standalone_vms)

COSTS = IommuCosts(iotlb_hit_ns=3, walk_read_ns=100, invalidation_ns=1000)
RID = make_rid(1, 0, 0)
RID_B = make_rid(1, 0, 1)
BUF = 0x4000_0000          # host-physical: where the test bench's CPU would touch the buffer
EXIT_NS = 7000


def guest(policy: DmaPolicy, huge_stage2: bool = False) -> GuestDmaApi:
    iommu, vm = standalone_vm(VmConfig(exit_ns=EXIT_NS, huge_stage2=huge_stage2), costs=COSTS,
                              iotlb=IotlbConfig(capacity=8))
    return GuestDmaApi(iommu, vm, RID, policy)


@pytest.mark.parametrize("policy, huge_stage2, reads", [
    (DmaPolicy.STRICT, False, 4 * (4 + 1) + 4),     # every stage-1 table's page walked in stage 2, then the leaf
    (DmaPolicy.STRICT, True, 4 * (3 + 1) + 3),
    (DmaPolicy.PASSTHROUGH, False, 4),              # the guest passes through: stage 2 alone
    (DmaPolicy.PASSTHROUGH, True, 3),
])
def test_a_miss_walks_both_stages_and_a_hit_none(policy: DmaPolicy, huge_stage2: bool, reads: int) -> None:
    dma = guest(policy, huge_stage2)
    iommu = dma.iommu
    m = dma.map(BUF + 0x80, 256, DmaDirection.FROM_DEVICE)
    if policy is DmaPolicy.PASSTHROUGH:
        assert m.iova == BUF + 0x80 + dma.vm.config.gpa_offset   # the device sees the GPA
    t = iommu.translate(RID, m.iova, 256, True, 0)
    assert t.ok and t.segments == (Segment(BUF + 0x80, 256),)
    assert (iommu.counters.walk_reads, t.cost_ns) == (reads, reads * COSTS.walk_read_ns)
    again = iommu.translate(RID, m.iova + 16, 8, True, 0)
    assert again.segments == (Segment(BUF + 0x90, 8),) and again.cost_ns == COSTS.iotlb_hit_ns
    assert iommu.counters.walk_reads == reads


def test_faults_at_either_stage() -> None:
    dma = guest(DmaPolicy.STRICT)
    iommu = dma.iommu
    to_device = dma.map(BUF, PAGE_SIZE, DmaDirection.TO_DEVICE)
    assert iommu.translate(RID, to_device.iova, 64, True, 0).fault.cause == FaultCause.WRITE_TO_READ_ONLY
    assert iommu.translate(RID, to_device.iova + 2 * PAGE_SIZE, 64, False, 0).fault.cause == FaultCause.NOT_PRESENT
    # the guest maps a GPA the VMM never backed: stage 2 refuses it
    table = dma.domain.page_table
    assert table is not None
    table.map(0x9000_0000, 0x7000_0000, PAGE_SIZE, read=True, write=True)
    assert iommu.translate(RID, 0x9000_0000, 64, False, 0).fault.cause == FaultCause.NOT_PRESENT
    assert iommu.counters.faults == 3


def test_a_guest_invalidation_traps_before_the_round_trip() -> None:
    bare = DmaApi.for_device(standalone_iommu(costs=COSTS), RID, DmaPolicy.STRICT)
    vm = guest(DmaPolicy.STRICT)
    costs = [api.unmap(m.iova, PAGE_SIZE, 0) for api in (bare, vm)
             for m in [api.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)]]
    assert costs[1] - costs[0] == EXIT_NS
    assert (bare.stats.traps, vm.stats.traps) == (0, 1)


def closed_loop(dma: DmaApi, count: int = 300) -> int:
    """Map, the device writes, unmap, over 32 buffers: the time spent in the DMA API and translation."""
    total, now = 0, 0
    for i in range(count):
        m = dma.map(BUF + (i % 32) * PAGE_SIZE, PAGE_SIZE, DmaDirection.FROM_DEVICE)
        t = dma.iommu.translate(RID, m.iova, PAGE_SIZE, True, now)
        assert t.ok
        total += m.cost_ns + t.cost_ns + dma.unmap(m.iova, PAGE_SIZE, now) + dma.tick(now)
        now += 10_000
    return total


@pytest.mark.parametrize("policy", list(DmaPolicy))
def test_what_a_vm_adds_is_traps_and_longer_walks(policy: DmaPolicy) -> None:
    """No constant ranks bare metal against the VM: the difference is exactly the traps' exits plus the
    extra entries the nested walks read (plus their IOTLB hits, where bare-metal passthrough has none)."""
    bare = DmaApi.for_device(standalone_iommu(costs=COSTS, iotlb=IotlbConfig(capacity=8)), RID, policy)
    vm = guest(policy)
    bare_total, vm_total = closed_loop(bare), closed_loop(vm)
    bc, vc = bare.iommu.counters, vm.iommu.counters
    extra = ((vm.stats.traps - bare.stats.traps) * EXIT_NS
             + (vc.walk_reads - bc.walk_reads) * COSTS.walk_read_ns
             + (vc.iotlb_hits - bc.iotlb_hits) * COSTS.iotlb_hit_ns)
    assert vm_total - bare_total == extra
    assert vm_total > bare_total
    assert vc.invalidations == bc.invalidations


def two_guests(policy_a: DmaPolicy, policy_b: DmaPolicy) -> tuple[GuestDmaApi, GuestDmaApi]:
    """Two VMs behind one IOMMU, each with its device (RID, RID_B) and its own stage 2."""
    iommu, (a, b) = standalone_vms((VmConfig(exit_ns=EXIT_NS),) * 2, costs=COSTS, iotlb=IotlbConfig(capacity=8))
    return GuestDmaApi(iommu, a, RID, policy_a), GuestDmaApi(iommu, b, RID_B, policy_b)


def test_a_guest_reaches_only_what_its_own_stage2_backs() -> None:
    """Guest B passes its DMA through, so its device's addresses are GPAs: its own buffer is reached, guest
    A's buffer at the same kind of GPA is not (B's stage 2 never backed it), and the same IOVA in two guests
    is two pieces of host memory."""
    a, b = two_guests(DmaPolicy.STRICT, DmaPolicy.PASSTHROUGH)
    iommu = a.iommu
    theirs = a.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE)
    mine = b.map(BUF + 16 * PAGE_SIZE, PAGE_SIZE, DmaDirection.FROM_DEVICE)
    assert iommu.translate(RID_B, mine.iova, 64, True, 0).segments == (Segment(BUF + 16 * PAGE_SIZE, 64),)
    gpa_of_theirs = BUF + a.vm.config.gpa_offset
    assert iommu.translate(RID_B, gpa_of_theirs, 64, True, 0).fault.cause == FaultCause.NOT_PRESENT
    assert iommu.translate(RID, theirs.iova, 64, True, 0).segments == (Segment(BUF, 64),)
    c, d = two_guests(DmaPolicy.STRICT, DmaPolicy.STRICT)
    first, second = c.map(BUF, PAGE_SIZE, DmaDirection.FROM_DEVICE), d.map(BUF + PAGE_SIZE, PAGE_SIZE,
                                                                             DmaDirection.FROM_DEVICE)
    assert first.iova == second.iova
    assert [c.iommu.translate(rid, first.iova, 8, True, 0).segments[0].phys for rid in (RID, RID_B)] == [
        BUF, BUF + PAGE_SIZE]


def test_each_guest_is_counted_in_its_own_domain() -> None:
    """Per-domain counters: each guest's walks, hits and invalidations are its own, and they add up to the
    IOMMU's; one guest's strict unmap evicts none of the other's IOTLB entries."""
    a, b = two_guests(DmaPolicy.STRICT, DmaPolicy.LAZY)
    iommu = a.iommu
    ma, mb = (g.map(BUF + i * PAGE_SIZE, PAGE_SIZE, DmaDirection.FROM_DEVICE) for i, g in enumerate((a, b)))
    for _ in range(3):
        assert iommu.translate(RID, ma.iova, 64, True, 0).ok and iommu.translate(RID_B, mb.iova, 64, True, 0).ok
    b_entry = iommu.translate(RID_B, mb.iova, 64, True, 0)
    a.unmap(ma.iova, PAGE_SIZE, 0)
    assert iommu.translate(RID_B, mb.iova, 64, True, 0).cost_ns == b_entry.cost_ns == COSTS.iotlb_hit_ns
    ca, cb = (iommu.domain_counters[g.domain.domain_id] for g in (a, b))
    nested = 4 * (4 + 1) + 4
    assert (ca.page_walks, ca.walk_reads, ca.iotlb_hits, ca.invalidations) == (1, nested, 2, 1)
    assert (cb.page_walks, cb.walk_reads, cb.iotlb_hits, cb.invalidations) == (1, nested, 4, 0)
    assert (a.stats.traps, b.stats.traps) == (1, 0)
    assert sum(iommu.domain_counters.values(), IommuCounters()) == iommu.counters
