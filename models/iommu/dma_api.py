"""The host's DMA API over the IOMMU, with Linux's three protection policies.

- ``passthrough``: identity domain; the IOVA is the physical address and
  map/unmap cost nothing (Linux's dma-direct path).
- ``strict``: every unmap clears the page table and invalidates the IOTLB
  synchronously, on the unmapping CPU's path; the IOVA is free at once.
- ``lazy``: an unmap clears the page table but only queues the IOVA in a
  flush queue; one domain-wide invalidation empties the queue when it is
  full (256) or 10 ms after the first queued entry. Until then the device
  may still use the stale IOTLB entry, and the IOVA is not handed out
  again, exactly the guarantee Linux's flush queue gives
  (drivers/iommu/dma-iommu.c: queue_iova, fq_flush_timeout).

Nothing here encodes which policy is faster: strict pays an invalidation
round trip per unmap, lazy one per batch, passthrough none, and the IOMMU
charges IOTLB misses and walks as they happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .config import DmaCosts, FlushQueueConfig
from .iommu import Domain, Iommu
from .iova import IovaAllocator
from .pagetable import PAGE_SIZE, PageTable


class DmaDirection(Enum):
    """Linux's enum dma_data_direction, as IOMMU permissions (dma_info_to_prot)."""

    TO_DEVICE = "to_device"          # device reads host memory
    FROM_DEVICE = "from_device"      # device writes host memory
    BIDIRECTIONAL = "bidirectional"

    @property
    def device_reads(self) -> bool:
        return self is not DmaDirection.FROM_DEVICE

    @property
    def device_writes(self) -> bool:
        return self is not DmaDirection.TO_DEVICE


class DmaPolicy(Enum):
    """Per-run policy; ``DmaPolicy("lazy")`` parses a command-line value."""

    PASSTHROUGH = "passthrough"
    STRICT = "strict"
    LAZY = "lazy"


@dataclass(frozen=True)
class DmaMapping:
    """Result of ``DmaApi.map``: the bus address to give the device and the
    CPU time the map took."""

    iova: int
    size: int
    cost_ns: int


@dataclass
class DmaStats:
    maps: int = 0
    unmaps: int = 0
    map_ns: int = 0
    unmap_ns: int = 0
    fq_flushes_full: int = 0
    fq_flushes_timer: int = 0
    fq_flushes_explicit: int = 0
    background_ns: int = 0   # timer-driven flushes, off any I/O path
    traps: int = 0           # invalidations that trapped to the hypervisor first (a guest's)


@dataclass(frozen=True)
class _Live:
    size: int        # as passed to map, checked again at unmap
    mapped: int      # bytes mapped in the page table from the page-aligned IOVA


class DmaApi:
    """dma_map/dma_unmap for the devices of one domain under one policy.

    Timestamps: ``unmap`` and ``tick`` take the current simulated time so
    that the 10 ms flush timer is exact; the testbench calls ``tick`` at
    ``next_flush_ns`` (or periodically), and ``unmap`` catches up with an
    expired timer on its own before queueing.
    """

    def __init__(self, iommu: Iommu, domain: Domain, policy: DmaPolicy, *,
                 costs: DmaCosts = DmaCosts(), flush_queue: FlushQueueConfig = FlushQueueConfig(),
                 dma_limit: int = 1 << 32, trap_ns: int = 0) -> None:
        """``dma_limit``: top of the IOVA window. 4 GiB by default because
        Linux first tries 32-bit IOVAs for PCI devices (no iommu.forcedac).
        ``trap_ns``: a VM exit before each invalidation, for a guest's DMA
        API whose vIOMMU invalidations trap to the hypervisor."""
        if (policy is DmaPolicy.PASSTHROUGH) != domain.passthrough:
            raise ValueError(f"policy {policy.value} does not fit domain {domain}")
        self.iommu = iommu
        self.domain = domain
        self.policy = policy
        self.costs = costs
        self.trap_ns = trap_ns
        self.fq_config = flush_queue
        self.iovas = IovaAllocator(dma_limit)
        self.iovas.reserve(*iommu.msi_window)  # as iommu_dma_init_domain reserves IOMMU_RESV_MSI
        self.stats = DmaStats()
        self._live: dict[int, _Live] = {}
        self._flush_queue: list[int] = []   # span bases awaiting invalidation
        self._timer_deadline: int | None = None

    @classmethod
    def for_device(cls, iommu: Iommu, rid: int, policy: DmaPolicy, *,
                   costs: DmaCosts = DmaCosts(), flush_queue: FlushQueueConfig = FlushQueueConfig(),
                   dma_limit: int = 1 << 32) -> DmaApi:
        """Give ``rid`` a fresh default domain of the kind the policy needs,
        as the Linux IOMMU core does at probe time."""
        domain = iommu.create_domain(passthrough=policy is DmaPolicy.PASSTHROUGH)
        iommu.attach(rid, domain)
        return cls(iommu, domain, policy, costs=costs, flush_queue=flush_queue,
                   dma_limit=dma_limit)

    @property
    def _table(self) -> PageTable:
        assert self.domain.page_table is not None, "passthrough has no page table"
        return self.domain.page_table

    # --- map / unmap -----------------------------------------------------

    def map(self, phys: int, size: int, direction: DmaDirection) -> DmaMapping:
        """dma_map_single: make [phys, phys + size) reachable by the device."""
        if size <= 0:
            raise ValueError(f"DMA mapping size must be positive, got {size}")
        if self.policy is DmaPolicy.PASSTHROUGH:
            self.stats.maps += 1
            return DmaMapping(phys, size, 0)
        offset = phys % PAGE_SIZE
        mapped = -(-(offset + size) // PAGE_SIZE) * PAGE_SIZE
        base = self.iovas.alloc(mapped)
        self._table.map(base, phys - offset, mapped,
                        read=direction.device_reads, write=direction.device_writes)
        self._live[base] = _Live(size, mapped)
        self.stats.maps += 1
        self.stats.map_ns += self.costs.map_ns
        return DmaMapping(base + offset, size, self.costs.map_ns)

    def unmap(self, iova: int, size: int, now_ns: int) -> int:
        """dma_unmap_single; returns the CPU time charged to this call."""
        if self.policy is DmaPolicy.PASSTHROUGH:
            self.stats.unmaps += 1
            return 0
        base = iova & ~(PAGE_SIZE - 1)
        live = self._live.get(base)
        if live is None or live.size != size:
            raise ValueError(f"unmap({iova:#x}, {size:#x}) does not match a live mapping")
        del self._live[base]
        self.stats.unmaps += 1
        self._table.unmap(base, live.mapped)
        cost = self.costs.unmap_ns
        if self.policy is DmaPolicy.STRICT:
            cost += self._trap() + self.iommu.invalidate_pages(self.domain.domain_id, base, live.mapped)
            self.iovas.free(base)
        else:
            cost += self._queue(base, now_ns)
        self.stats.unmap_ns += cost
        return cost

    # --- lazy flush queue ------------------------------------------------

    def _queue(self, base: int, now_ns: int) -> int:
        """queue_iova: flush first if full (cost on this CPU), then queue and
        arm the timer if it is idle. A full flush leaves the timer armed."""
        self.tick(now_ns)
        cost = 0
        if len(self._flush_queue) >= self.fq_config.size:
            cost = self._flush()
            self.stats.fq_flushes_full += 1
        self._flush_queue.append(base)
        if self._timer_deadline is None:
            self._timer_deadline = now_ns + self.fq_config.timeout_ns
        return cost

    def _flush(self) -> int:
        """One domain-wide invalidation, then the queued IOVAs become free."""
        cost = self._trap() + self.iommu.invalidate_domain(self.domain.domain_id)
        for base in self._flush_queue:
            self.iovas.free(base)
        self._flush_queue.clear()
        return cost

    def _trap(self) -> int:
        """A guest's invalidation exits to the hypervisor first; on bare metal (``trap_ns`` 0) nothing."""
        self.stats.traps += bool(self.trap_ns)
        return self.trap_ns

    def tick(self, now_ns: int) -> int:
        """Fire the flush timer if it has expired; returns the (background)
        CPU time of that flush, 0 otherwise."""
        if self._timer_deadline is None or now_ns < self._timer_deadline:
            return 0
        self._timer_deadline = None
        cost = self._flush()
        self.stats.fq_flushes_timer += 1
        self.stats.background_ns += cost
        return cost

    def flush_all(self) -> int:
        """Invalidate and release everything queued now (driver teardown,
        or a test that wants a clean IOTLB); returns its cost."""
        if not self._flush_queue:
            return 0
        self._timer_deadline = None
        self.stats.fq_flushes_explicit += 1
        return self._flush()

    @property
    def next_flush_ns(self) -> int | None:
        """When the flush timer fires, for the testbench to schedule ``tick``."""
        return self._timer_deadline

    @property
    def pending_unmaps(self) -> int:
        return len(self._flush_queue)
