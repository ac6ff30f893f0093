"""IOVA allocator: size-aligned ranges handed out top-down below a limit.

Modelled on Linux's drivers/iommu/iova.c as dma-iommu uses it: a request is
rounded up to a power-of-two number of pages and aligned to that size, and
the search starts from the DMA limit downwards, so the most recently freed
high range is the first to be reused. (Linux adds per-CPU range caches in
front of the tree for speed; they change where the time goes, not which
ranges are free, so they are left out.)

Reuse is what makes the policies differ: an IOVA freed at a strict unmap
may be handed out again by the very next map, which is safe only because
strict already invalidated the IOTLB; the lazy policy must therefore keep
an IOVA allocated until its flush queue has been invalidated.
"""

from __future__ import annotations

import bisect

from .pagetable import PAGE_SIZE


class IovaExhausted(MemoryError):
    """No free, suitably aligned range below the DMA limit."""


class IovaAllocator:
    def __init__(self, limit: int, *, low: int = PAGE_SIZE) -> None:
        """Allocate in [low, limit). ``low`` defaults to one page so that
        IOVA 0 is never handed out, as Linux keeps its first page free."""
        if limit % PAGE_SIZE or low % PAGE_SIZE or not 0 <= low < limit:
            raise ValueError(f"bad IOVA window [{low:#x}, {limit:#x})")
        self.limit = limit
        self.low = low
        self._starts: list[int] = []  # sorted; parallel to _ends
        self._ends: list[int] = []

    @staticmethod
    def span(size: int) -> int:
        """Bytes actually reserved for a request of ``size`` bytes."""
        pages = max(1, -(-size // PAGE_SIZE))
        return PAGE_SIZE << (pages - 1).bit_length()

    def reserve(self, start: int, size: int) -> None:
        """Keep [start, start + size) out of every allocation, e.g. the
        MSI doorbell window, which the root complex does not translate."""
        end = -(-(start + size) // PAGE_SIZE) * PAGE_SIZE
        self._insert(start & ~(PAGE_SIZE - 1), end)

    def alloc(self, size: int) -> int:
        span = self.span(size)
        hi = self.limit
        for i in range(len(self._starts) - 1, -1, -1):
            candidate = (hi - span) & ~(span - 1)
            if candidate >= self._ends[i]:
                return self._insert(candidate, candidate + span)
            hi = min(hi, self._starts[i])
        candidate = (hi - span) & ~(span - 1)
        if candidate >= self.low:
            return self._insert(candidate, candidate + span)
        raise IovaExhausted(f"no {span:#x}-byte IOVA range left below {self.limit:#x}")

    def _insert(self, start: int, end: int) -> int:
        i = bisect.bisect_left(self._starts, start)
        if (i > 0 and self._ends[i - 1] > start) or (i < len(self._starts) and self._starts[i] < end):
            raise ValueError(f"IOVA range [{start:#x}, {end:#x}) overlaps an allocated one")
        self._starts.insert(i, start)
        self._ends.insert(i, end)
        return start

    def free(self, start: int) -> None:
        i = bisect.bisect_left(self._starts, start)
        if i == len(self._starts) or self._starts[i] != start:
            raise ValueError(f"IOVA {start:#x} is not allocated")
        del self._starts[i]
        del self._ends[i]

    def is_allocated(self, iova: int) -> bool:
        i = bisect.bisect_right(self._starts, iova) - 1
        return i >= 0 and iova < self._ends[i]

    def __len__(self) -> int:
        return len(self._starts)
