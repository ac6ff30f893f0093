"""The IOMMU: device contexts, translation with cost, invalidation, faults.

One ``Iommu`` sits between the root complex and host memory. Every DMA
carries a requester id (bus/device/function as a 16-bit int, PCIe's
encoding) and an IOVA; the device context of the requester id names a
domain; the domain's page table (through the IOTLB) gives the physical
address. A translation either succeeds for the whole access or faults, so
a faulting DMA never touches host memory: the caller answers a read with
Unsupported Request and drops a write. Writes into the MSI window are
interrupt messages and pass untranslated, as VT-d routes them to interrupt
remapping rather than to the DMA page tables.

A domain may also have a second stage (``Domain.stage2``, a device
assigned to a guest VM, models/iommu/nested.py): its first-stage table then
lives in guest-physical memory and a miss is a two-dimensional walk.

Time is not advanced here: ``translate`` and the invalidations return the
simulated nanoseconds they cost and the caller (the testbench, or a
trace-driven benchmark) decides how to spend them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from enum import Enum

from .config import IommuCosts, IotlbConfig
from .iotlb import Iotlb, IotlbEntry
from .pagetable import PAGE_SIZE, BufferPhysMem, Leaf, PageTable, PhysMem, TablePageAllocator, WalkResult
from .walk_cache import WalkCache


def make_rid(bus: int, device: int, function: int) -> int:
    """PCIe requester id: bus[15:8], device[7:3], function[2:0]."""
    if not (0 <= bus < 256 and 0 <= device < 32 and 0 <= function < 8):
        raise ValueError(f"invalid BDF {bus:02x}:{device:02x}.{function}")
    return bus << 8 | device << 3 | function


VTD_INTERRUPT_WINDOW = (0xFEE0_0000, 0x10_0000)


class FaultCause(Enum):
    """Why a DMA was refused (VT-d fault reasons, by name)."""

    NOT_PRESENT = "not present"
    WRITE_TO_READ_ONLY = "write to read-only"
    READ_FROM_WRITE_ONLY = "read from write-only"
    INVALID_CONTEXT = "invalid device context"


@dataclass(frozen=True)
class Fault:
    """One fault-log record."""

    time_ns: int
    rid: int
    iova: int
    is_write: bool
    cause: FaultCause


@dataclass(frozen=True)
class Segment:
    """A physically contiguous piece of a translated access."""

    phys: int
    length: int


@dataclass(frozen=True)
class Translation:
    """Result of ``Iommu.translate``.

    ``segments`` is empty when ``fault`` is set; ``cost_ns`` is the time the
    IOMMU spent either way (a walk that ends in a fault still read memory).
    """

    segments: tuple[Segment, ...]
    cost_ns: int
    fault: Fault | None = None

    @property
    def ok(self) -> bool:
        return self.fault is None


@dataclass(frozen=True)
class AtsGrant:
    """A translation handed to a device's address translation cache (PCIe ATS): the untranslated page,
    the host-physical page it maps to, and the access granted."""

    iova: int
    phys: int
    read: bool
    write: bool


@dataclass
class IommuCounters:
    """Event counters; subtract two snapshots to measure an interval, add those of several domains."""

    translations: int = 0
    passthrough: int = 0
    interrupt_writes: int = 0
    iotlb_hits: int = 0
    iotlb_misses: int = 0
    page_walks: int = 0
    walk_reads: int = 0
    invalidations: int = 0
    invalidated_entries: int = 0
    faults: int = 0

    def snapshot(self) -> IommuCounters:
        return replace(self)

    def __sub__(self, other: IommuCounters) -> IommuCounters:
        return IommuCounters(**{f.name: getattr(self, f.name) - getattr(other, f.name)
                                for f in fields(self)})

    def __add__(self, other: IommuCounters) -> IommuCounters:
        return IommuCounters(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                                for f in fields(self)})


@dataclass(frozen=True)
class Domain:
    """An address space shared by the devices attached to it.

    ``page_table`` is None for a passthrough (identity) domain, which VT-d
    expresses as a context entry of pass-through type: no walk, no IOTLB.
    ``stage2`` is the host's GPA-to-HPA table of a guest's domain: then
    ``page_table`` (the guest's, in guest memory) maps IOVA to GPA, or is
    None when the guest passes its DMA through (IOVA = GPA), and every
    translation still goes through stage 2.
    """

    domain_id: int
    page_table: PageTable | None = field(repr=False)
    stage2: PageTable | None = field(default=None, repr=False)

    @property
    def passthrough(self) -> bool:
        """No first-stage table: the DMA API's addresses are the device's (for a guest, GPAs)."""
        return self.page_table is None

    @property
    def identity(self) -> bool:
        """The device's addresses are host-physical: nothing to translate at all."""
        return self.page_table is None and self.stage2 is None


class Iommu:
    """Translates DMAs of attached requester ids and keeps the fault log."""

    def __init__(self, mem: PhysMem, tables: TablePageAllocator, *,
                 iotlb: IotlbConfig = IotlbConfig(), costs: IommuCosts = IommuCosts(),
                 msi_window: tuple[int, int] = VTD_INTERRUPT_WINDOW) -> None:
        """``msi_window`` (base, size): device writes there are interrupt
        messages, which VT-d hands to interrupt remapping instead of DMA
        translation; the testbench passes the root complex's MSI region."""
        self.msi_window = msi_window
        self.mem = mem
        self.tables = tables
        self.costs = costs
        self.iotlb = Iotlb(iotlb)
        self.walk_cache = WalkCache(iotlb.walk_cache)
        self.counters = IommuCounters()
        # the same counts per domain id, for the share of each guest or device behind one IOMMU
        self.domain_counters: dict[int, IommuCounters] = {}
        self.fault_log: list[Fault] = []
        # told (domain id, or None for every domain; iova; size, or None for the whole domain) of every
        # invalidation, so that the device TLBs (ATS) caching that domain's translations are invalidated too
        self.invalidation_listeners: list[Callable[[int | None, int, int | None], None]] = []
        self._contexts: dict[int, Domain] = {}
        self._next_domain_id = 1  # VT-d reserves domain id 0 in caching mode

    # --- device contexts -------------------------------------------------

    def create_domain(self, *, passthrough: bool = False, stage1: PageTable | None = None,
                      stage2: PageTable | None = None) -> Domain:
        """A new domain: identity (``passthrough``), a table of its own in host memory, or ``stage1`` over
        ``stage2`` for a guest (``stage1`` None with ``stage2``: the guest passes its DMA through)."""
        if stage2 is not None:
            table = stage1
        else:
            table = None if passthrough else PageTable(self.mem, self.tables)
        domain = Domain(self._next_domain_id, table, stage2)
        self._next_domain_id += 1
        return domain

    def attach(self, rid: int, domain: Domain) -> None:
        """Point the device context of ``rid`` at ``domain``.

        No IOTLB flush is needed when a device moves: entries are tagged
        by domain id, not by requester id, so the device simply stops
        hitting the old domain's entries.
        """
        self._contexts[rid] = domain

    def detach(self, rid: int) -> None:
        del self._contexts[rid]

    def domain_of(self, rid: int) -> Domain | None:
        return self._contexts.get(rid)

    # --- translation -----------------------------------------------------

    def translate(self, rid: int, iova: int, length: int, is_write: bool,
                  now_ns: int) -> Translation:
        """Translate a DMA of ``length`` bytes at ``iova``, one segment per page.

        All or nothing: the first page that faults ends the translation and
        the access must not be performed at all.
        """
        if length <= 0:
            raise ValueError(f"DMA length must be positive, got {length}")
        msi_base, msi_size = self.msi_window
        if is_write and msi_base <= iova and iova + length <= msi_base + msi_size:
            self._count(None, translations=1, interrupt_writes=1)
            return Translation((Segment(iova, length),), 0)
        domain = self._contexts.get(rid)
        self._count(domain, translations=1)
        if domain is None:
            return self._fault(rid, iova, is_write, now_ns, FaultCause.INVALID_CONTEXT, 0)
        if domain.identity:
            self._count(domain, passthrough=1)
            return Translation((Segment(iova, length),), 0)

        segments: list[Segment] = []
        cost = 0
        addr, end = iova, iova + length
        while addr < end:
            entry, spent = self._lookup(domain, addr)
            cost += spent
            if entry is None:
                return self._fault(rid, addr, is_write, now_ns, FaultCause.NOT_PRESENT, cost, domain)
            if is_write and not entry.write:
                return self._fault(rid, addr, is_write, now_ns, FaultCause.WRITE_TO_READ_ONLY, cost, domain)
            if not is_write and not entry.read:
                return self._fault(rid, addr, is_write, now_ns, FaultCause.READ_FROM_WRITE_ONLY, cost, domain)
            chunk = min(end, entry.iova_base + entry.page_size) - addr
            segments.append(Segment(entry.phys_base + addr - entry.iova_base, chunk))
            addr += chunk
        return Translation(tuple(segments), cost)

    def _lookup(self, domain: Domain, addr: int) -> tuple[IotlbEntry | None, int]:
        """The IOTLB's entry for ``addr``, walking the tables (and caching the leaf) on a miss; None if
        nothing is mapped there. Returns the entry and the time spent."""
        entry = self.iotlb.lookup(domain.domain_id, addr)
        if entry is not None:
            self._count(domain, iotlb_hits=1)
            return entry, self.costs.iotlb_hit_ns
        walk = self.walk(domain, addr)
        reads = self.walk_cache.reads(domain, addr)
        self._count(domain, iotlb_misses=1, page_walks=1, walk_reads=reads)
        if (leaf := walk.leaf) is None:
            return None, reads * self.costs.walk_read_ns
        entry = IotlbEntry(domain.domain_id, leaf.iova_base, leaf.phys_base, leaf.page_size, leaf.read, leaf.write)
        self.iotlb.insert(entry)
        return entry, reads * self.costs.walk_read_ns

    def translation_request(self, rid: int, iova: int) -> tuple[AtsGrant | None, int]:
        """A PCIe ATS Translation Request for the 4 KiB page at ``iova``: what the device may cache (the
        host-physical page and the access the domain grants), or None where nothing is mapped or the device
        has no domain; and the time spent. The lookup goes through the IOTLB as a DMA's would; a refusal is
        an answer (R = W = 0), not a fault. A passthrough domain grants everything at the same address."""
        page = iova & ~(PAGE_SIZE - 1)
        domain = self._contexts.get(rid)
        self._count(domain, translations=1)
        if domain is None:
            return None, 0
        if domain.identity:
            self._count(domain, passthrough=1)
            return AtsGrant(page, page, True, True), 0
        entry, cost = self._lookup(domain, page)
        if entry is None:
            return None, cost
        return AtsGrant(page, entry.phys_base + page - entry.iova_base, entry.read, entry.write), cost

    def walk(self, domain: Domain, iova: int) -> WalkResult:
        """What the walker finds for ``iova`` in a translating domain, and the entries it reads to find it;
        touches neither the IOTLB nor the counters (the scoreboards' view uses it too)."""
        if domain.stage2 is None:
            assert domain.page_table is not None, "an identity domain has nothing to walk"
            return domain.page_table.walk(iova)
        return nested_walk(domain.page_table, domain.stage2, iova)

    def _count(self, domain: Domain | int | None, **events: int) -> None:
        """Add ``events`` to the counters, and to the domain's own (by domain or id) when there is one."""
        totals = [self.counters]
        if domain is not None:
            domain_id = domain if isinstance(domain, int) else domain.domain_id
            totals.append(self.domain_counters.setdefault(domain_id, IommuCounters()))
        for counters in totals:
            for name, n in events.items():
                setattr(counters, name, getattr(counters, name) + n)

    def _fault(self, rid: int, iova: int, is_write: bool, now_ns: int,
               cause: FaultCause, cost: int, domain: Domain | None = None) -> Translation:
        fault = Fault(now_ns, rid, iova, is_write, cause)
        self.fault_log.append(fault)
        self._count(domain, faults=1)
        return Translation((), cost, fault)

    # --- invalidation ----------------------------------------------------
    # Each call is one synchronous round trip (descriptor + wait) and costs
    # the same; the scopes differ only in what they evict.

    def _invalidated(self, dropped: int, domain_id: int | None = None, iova: int = 0,
                     size: int | None = None) -> int:
        self._count(domain_id, invalidations=1, invalidated_entries=dropped)
        for listener in self.invalidation_listeners:
            listener(domain_id, iova, size)
        return self.costs.invalidation_ns

    def invalidate_pages(self, domain_id: int, iova: int, size: int) -> int:
        """Page-selective invalidation of [iova, iova + size); returns cost."""
        self.walk_cache.invalidate_range(domain_id, iova, size)
        return self._invalidated(self.iotlb.invalidate_range(domain_id, iova, size), domain_id, iova, size)

    def invalidate_domain(self, domain_id: int) -> int:
        """Domain-selective invalidation; returns cost."""
        self.walk_cache.invalidate_domain(domain_id)
        return self._invalidated(self.iotlb.invalidate_domain(domain_id), domain_id)

    def invalidate_all(self) -> int:
        """Global invalidation; returns cost (counted for no domain of its own)."""
        self.walk_cache.invalidate_all()
        return self._invalidated(self.iotlb.invalidate_all())


def nested_walk(stage1: PageTable | None, stage2: PageTable, iova: int) -> WalkResult:
    """A two-dimensional walk: every first-stage table is at a guest-physical address, so each of its entries
    costs a stage-2 walk of the table's page before the entry itself is read; the leaf's GPA then walks stage 2
    once more. With 4 KiB pages at both stages: 4 x (4 + 1) + 4 = 24 reads. The leaf found is the combined
    IOVA-to-HPA translation: the smaller page of the two stages, the AND of their permissions."""
    if stage1 is None:   # the guest passes its DMA through: the IOVA is the GPA
        gpa, first_size, read, write, reads = iova, None, True, True, 0
    else:
        first = stage1.walk(iova)
        reads = first.reads + sum(stage2.walk(table).reads for table in first.tables)
        if (leaf := first.leaf) is None:
            return WalkResult(None, reads)
        gpa, first_size, read, write = leaf.phys_base + iova - leaf.iova_base, leaf.page_size, leaf.read, leaf.write
    second = stage2.walk(gpa)
    reads += second.reads
    if (host := second.leaf) is None:
        return WalkResult(None, reads)
    size = host.page_size if first_size is None else min(first_size, host.page_size)
    base = iova & ~(size - 1)
    return WalkResult(Leaf(base, host.phys_base + (gpa - (iova - base)) - host.iova_base, size,
                           read and host.read, write and host.write), reads)


def standalone_iommu(*, table_pages: int = 1024, table_base: int = 0x1_0000_0000,
                     iotlb: IotlbConfig = IotlbConfig(), costs: IommuCosts = IommuCosts(),
                     msi_window: tuple[int, int] = VTD_INTERRUPT_WINDOW) -> Iommu:
    """An IOMMU whose page tables live in a private bytearray.

    For unit tests and trace-driven benchmarks; the testbench instead backs
    ``PhysMem`` with a host-memory region so the tables sit in host memory.
    """
    mem = BufferPhysMem(bytearray(table_pages * PAGE_SIZE), table_base)
    return Iommu(mem, TablePageAllocator(table_base, table_pages * PAGE_SIZE),
                 iotlb=iotlb, costs=costs, msi_window=msi_window)
