"""Knobs of the IOMMU model and the host DMA API, with their defaults.

Every cost is simulated time in nanoseconds. The defaults are orders of
magnitude taken from published measurements (see docs/iommu.md for the
list); they are meant to be overridden per experiment, never relied on as
exact figures. No knob encodes the outcome of a policy comparison: strict,
lazy and passthrough differ only through the mechanics these costs feed
(invalidations issued, IOTLB misses taken).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ReplacementPolicy(Enum):
    """Victim choice when the IOTLB is full."""

    LRU = "lru"
    FIFO = "fifo"
    RANDOM = "random"


@dataclass(frozen=True)
class IotlbConfig:
    """Size and replacement policy of the IOTLB, and the size of the paging-structure caches.

    64 entries: the IOTLB of Intel Xeon E5 root complexes behaves like a
    64-entry cache of 4 KiB translations in the pcie-bench measurements
    (Neugebauer et al., "Understanding PCIe performance for end host
    networking", SIGCOMM 2018). ``seed`` only matters for RANDOM, and makes
    a run reproducible.

    ``walk_cache``: entries of the paging-structure caches (upper-level
    table entries of both stages, LRU; models/iommu/walk_cache.py). 0, the
    default, caches none: every miss walks every level, the pessimistic end
    the tests' exact read counts are written for. VT-d does not publish
    its sizes; the bench takes 64.
    """

    capacity: int = 64
    policy: ReplacementPolicy = ReplacementPolicy.LRU
    seed: int = 0
    walk_cache: int = 0

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"IOTLB capacity must be >= 1, got {self.capacity}")
        if self.walk_cache < 0:
            raise ValueError(f"walk cache capacity must be >= 0, got {self.walk_cache}")


@dataclass(frozen=True)
class IommuCosts:
    """Time the IOMMU adds to a DMA, and the price of one invalidation.

    - ``iotlb_hit_ns``: lookup in the root complex's IOTLB, a few cycles of
      an on-chip cache. An assumption, not a measured figure.
    - ``walk_read_ns``: one page-table memory read during a walk, a DRAM
      access from the root complex: about 200 ns (an IOTLB miss costs
      several hundred ns in pcie-bench, Neugebauer et al. 2018).
      A walk of a 4 KiB leaf reads four levels, fewer with the
      paging-structure caches (``IotlbConfig.walk_cache``).
    - ``invalidation_ns``: one synchronous invalidation round trip (an
      invalidation descriptor plus a wait descriptor through the VT-d
      queued-invalidation interface), of the order of 1-2 us (see
      the invalidation overheads analysed by Peleg et al., "Utilizing the
      IOMMU scalably", USENIX ATC 2015, and Malka et al., "rIOMMU",
      ASPLOS 2015). Page, domain and global invalidations cost the same
      round trip; they differ in what they evict.
    """

    iotlb_hit_ns: int = 2
    walk_read_ns: int = 200
    invalidation_ns: int = 1500


@dataclass(frozen=True)
class DmaCosts:
    """CPU time the host DMA API spends per call, excluding invalidations.

    ``map_ns`` covers IOVA allocation and the page-table update,
    ``unmap_ns`` the IOVA lookup and the page-table clear; a few hundred ns
    each, the order Peleg et al. (USENIX ATC 2015) report for the Linux
    DMA API once IOVA allocation is scalable. Invalidation time is not
    included here: it is charged from ``IommuCosts.invalidation_ns`` when
    (and only when) the policy issues one. Passthrough skips both, as
    Linux's dma-direct path does next to nothing.
    """

    map_ns: int = 250
    unmap_ns: int = 150


@dataclass(frozen=True)
class FlushQueueConfig:
    """Linux's deferred-invalidation queue (drivers/iommu/dma-iommu.c).

    ``IOVA_DEFAULT_FQ_SIZE`` = 256 entries and ``IOVA_DEFAULT_FQ_TIMEOUT``
    = 10 ms: whichever comes first triggers one batched invalidation.
    """

    size: int = 256
    timeout_ns: int = 10_000_000

    def __post_init__(self) -> None:
        if self.size < 1 or self.timeout_ns < 1:
            raise ValueError(f"flush queue needs size >= 1 and timeout > 0: {self}")
