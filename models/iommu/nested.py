"""Two-stage translation for a device assigned to a guest VM, and the guest's DMA API.

Stage 1 is the guest's: its driver maps IOVAs to guest-physical addresses
(GPAs) through its vIOMMU, in page tables that live in guest memory, under
the guest's own policy (strict, lazy, or passthrough: no stage-1 table, the
IOVA is the GPA). Stage 2 is the host's: GPA to host-physical (HPA), which
the VMM fills as the guest's memory is pinned for the device, and never
takes back while the guest runs. The IOMMU walks both on an IOTLB miss
(``iommu.nested_walk``: up to 24 reads) and caches the combined translation.

The guest's memory, as this model lays it out: guest-physical address = the
host-physical address the test bench's CPU touches + ``VmConfig.gpa_offset``,
so a DMA that skipped stage 2 would land nowhere. Stage 2 is filled a page
at a time (or 2 MiB at a time with ``huge_stage2``) as the guest first maps
memory for DMA, and for the guest's own page-table pages when they are made.

A guest's invalidation (strict's per unmap, lazy's per batch) traps: the VM
exit, ``VmConfig.exit_ns`` on the guest's CPU, comes before the host IOMMU's
invalidation round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import DmaCosts, FlushQueueConfig
from .dma_api import DmaApi, DmaDirection, DmaMapping, DmaPolicy
from .iommu import Domain, Iommu
from .pagetable import (HUGE_PAGE_SIZE, PAGE_SIZE, BufferPhysMem, MappingError, PageTable, PhysMem,
                        TablePageAllocator)


@dataclass(frozen=True)
class VmConfig:
    """A guest VM that owns the device.

    - ``exit_ns``: one VM exit and re-entry for a trapped vIOMMU
      invalidation, with the hypervisor's emulation of it: several
      microseconds when the vIOMMU is emulated in the VMM (Amit et al.,
      "vIOMMU: efficient IOMMU emulation", USENIX ATC 2011, whose
      optimisations exist to avoid these exits). An order of magnitude,
      not a measurement: a knob to sweep.
    - ``gpa_offset``: GPA = HPA + this (below 2^48, 2 MiB aligned).
    - ``huge_stage2``: the VMM maps guest memory with 2 MiB pages (a
      nested walk then reads 19 entries, not 24).
    """

    exit_ns: int = 5_000
    gpa_offset: int = 1 << 40
    huge_stage2: bool = False

    def __post_init__(self) -> None:
        if self.gpa_offset % HUGE_PAGE_SIZE or self.exit_ns < 0:
            raise ValueError(f"{self}: the GPA offset must be 2 MiB aligned and the exit cost not negative")


class GuestPhysMem:
    """Guest-physical memory as the host sees it: every access goes through stage 2 (no cost here; the
    nested walk charges stage 2's reads itself)."""

    def __init__(self, host: PhysMem, stage2: PageTable) -> None:
        self.host = host
        self.stage2 = stage2

    def _hpa(self, gpa: int) -> int:
        leaf = self.stage2.walk(gpa).leaf
        if leaf is None:
            raise MappingError(f"GPA {gpa:#x} is not backed by host memory")
        return leaf.phys_base + gpa - leaf.iova_base

    def read_u64(self, addr: int) -> int:
        return self.host.read_u64(self._hpa(addr))

    def write_u64(self, addr: int, value: int) -> None:
        self.host.write_u64(self._hpa(addr), value)


class Vm:
    """The guest's memory and its stage-2 table; ``table_pages`` is host memory for the guest's own
    page-table pages (its vIOMMU's tables), at GPA = HPA + offset like the rest of its memory."""

    def __init__(self, iommu: Iommu, config: VmConfig, table_pages: TablePageAllocator) -> None:
        self.config = config
        self.stage2 = PageTable(iommu.mem, iommu.tables)
        self._backed: set[int] = set()     # GPAs of the stage-2 pages mapped so far
        self.guest_mem = GuestPhysMem(iommu.mem, self.stage2)
        self.back(table_pages.base, table_pages.size)
        self.guest_tables = TablePageAllocator(table_pages.base + config.gpa_offset, table_pages.size)

    @property
    def stage2_page(self) -> int:
        return HUGE_PAGE_SIZE if self.config.huge_stage2 else PAGE_SIZE

    def back(self, hpa: int, size: int) -> int:
        """Make [hpa, hpa + size) guest memory reachable through stage 2; returns its GPA."""
        page = self.stage2_page
        for base in range(hpa & ~(page - 1), hpa + size, page):
            gpa = base + self.config.gpa_offset
            if gpa not in self._backed:
                self.stage2.map(gpa, base, page, read=True, write=True)
                self._backed.add(gpa)
        return hpa + self.config.gpa_offset

    def domain(self, iommu: Iommu, passthrough: bool) -> Domain:
        """A guest domain: the guest's own table over stage 2, or stage 2 alone (guest passthrough)."""
        stage1 = None if passthrough else PageTable(self.guest_mem, self.guest_tables)
        return iommu.create_domain(stage1=stage1, stage2=self.stage2)


class GuestDmaApi(DmaApi):
    """The guest driver's DMA API on its vIOMMU: the buffers the caller names by host-physical address
    (what the test bench's CPU touches) are guest memory at their GPA, and invalidations trap."""

    def __init__(self, iommu: Iommu, vm: Vm, rid: int, policy: DmaPolicy, *, costs: DmaCosts = DmaCosts(),
                 flush_queue: FlushQueueConfig = FlushQueueConfig(), dma_limit: int = 1 << 32) -> None:
        domain = vm.domain(iommu, passthrough=policy is DmaPolicy.PASSTHROUGH)
        iommu.attach(rid, domain)
        super().__init__(iommu, domain, policy, costs=costs, flush_queue=flush_queue, dma_limit=dma_limit,
                         trap_ns=vm.config.exit_ns)
        self.vm = vm

    def map(self, phys: int, size: int, direction: DmaDirection) -> DmaMapping:
        return super().map(self.vm.back(phys, size), size, direction)


def standalone_vms(configs: tuple[VmConfig, ...], *, table_pages: int = 2048, table_base: int = 0x1_0000_0000,
                   **iommu_kwargs) -> tuple[Iommu, list[Vm]]:
    """An IOMMU and one guest per config, whose page tables (host's stage 2 in the first half, each guest's own
    in an equal slice of the second) live in a private bytearray: for unit tests and trace-driven studies, as
    ``standalone_iommu``."""
    half = table_pages // 2 * PAGE_SIZE
    mem = BufferPhysMem(bytearray(table_pages * PAGE_SIZE), table_base)
    iommu = Iommu(mem, TablePageAllocator(table_base, half), **iommu_kwargs)
    return iommu, [Vm(iommu, config, pages) for config, pages in
                   zip(configs, TablePageAllocator(table_base + half, half).split(len(configs)))]


def standalone_vm(config: VmConfig = VmConfig(), **kwargs) -> tuple[Iommu, Vm]:
    """``standalone_vms`` with one guest."""
    iommu, (vm,) = standalone_vms((config,), **kwargs)
    return iommu, vm
