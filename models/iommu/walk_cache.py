"""Paging-structure caches: the walker's memory of the upper levels of recent walks.

Besides the IOTLB's leaves, VT-d hardware keeps the non-leaf entries of
recent walks (its PML4-, PDPT- and PD-entry caches, for each stage of a
nested walk). A walk whose table at some depth is known there starts at
that table: a bare walk with its page-table page cached reads one entry
instead of four, and a nested walk skips the first-stage levels above it
together with the second-stage walks of their table pages (4 KiB pages at
both stages: 24 reads down to 5, and to 2 when the second stage's upper
levels are cached as well). Without this cache every IOTLB miss in a VM
costs the full 24-read walk, which bounded the bench's VM rows at the
walker before any policy mattered.

The cache decides what a walk costs, never what it finds: the translation
always comes from the page tables, so a stale cached table is not
modelled (the IOTLB's stale leaves, the lazy policy's exposure, are).
Invalidation follows VT-d with the invalidation hint clear, as Linux issues
it on unmap: a page-selective invalidation drops the cached entries whose
region overlaps the range, a domain or global one drops them all.

One fully associative LRU cache of ``capacity`` entries serves every level
of both stages, tagged by domain, stage, depth and address prefix.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from .pagetable import LEVELS, PageTable, level_shift

if TYPE_CHECKING:
    from .iommu import Domain

# first stage: the domain's IOVA table (bare metal, or a guest's); second: a guest's GPA-to-HPA table
STAGE1, STAGE2 = 1, 2
_Key = tuple[int, int, int, int]   # (domain id, stage, depth of the table, address prefix that selects it)


def _prefix(addr: int, depth: int) -> int:
    """The address bits that select the table at ``depth`` (1: below the root, LEVELS - 1: the leaf table)."""
    return addr >> level_shift(LEVELS - depth + 1)


class WalkCache:
    """Which tables a walk may start from, and the reads that leaves."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"walk cache capacity must be >= 0, got {capacity}")
        self.capacity = capacity
        self._entries: OrderedDict[_Key, None] = OrderedDict()
        self.hits = 0

    def __len__(self) -> int:
        return len(self._entries)

    def reads(self, domain: Domain, iova: int) -> int:
        """The entries a walk of ``iova`` in ``domain`` reads with what is cached, which the walk then
        caches itself."""
        domain_id = domain.domain_id
        if domain.stage2 is None:
            assert domain.page_table is not None, "an identity domain has nothing to walk"
            return self._stage_reads(domain_id, STAGE1, domain.page_table, iova)
        if domain.page_table is None:   # the guest passes its DMA through: the IOVA is the GPA
            return self._stage_reads(domain_id, STAGE2, domain.stage2, iova)
        first = domain.page_table.walk(iova)
        start = self._start(domain_id, STAGE1, iova, len(first.tables))
        # a first-stage table is at a GPA: a second-stage walk, then the entry; but a cached one is cached
        # with its host address, as VT-d's nested paging-structure caches hold them
        reads = sum((0 if depth == start > 0 else self._stage_reads(domain_id, STAGE2, domain.stage2, table)) + 1
                    for depth, table in enumerate(first.tables) if depth >= start)
        self._fill(domain_id, STAGE1, iova, len(first.tables))
        if first.leaf is None:
            return reads
        gpa = first.leaf.phys_base + iova - first.leaf.iova_base
        return reads + self._stage_reads(domain_id, STAGE2, domain.stage2, gpa)

    def _stage_reads(self, domain_id: int, stage: int, table: PageTable, addr: int) -> int:
        walk = table.walk(addr)
        start = self._start(domain_id, stage, addr, len(walk.tables))
        self._fill(domain_id, stage, addr, len(walk.tables))
        return len(walk.tables) - start

    def _start(self, domain_id: int, stage: int, addr: int, tables: int) -> int:
        """The depth of the deepest table on the walk's path that is cached (0: start at the root)."""
        for depth in range(tables - 1, 0, -1):
            key = (domain_id, stage, depth, _prefix(addr, depth))
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return depth
        return 0

    def _fill(self, domain_id: int, stage: int, addr: int, tables: int) -> None:
        """Cache the tables a walk visited below the root: the entries that pointed to them were present."""
        if self.capacity == 0:
            return
        for depth in range(1, tables):
            key = (domain_id, stage, depth, _prefix(addr, depth))
            self._entries[key] = None
            self._entries.move_to_end(key)
            if len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def invalidate_range(self, domain_id: int, iova: int, size: int) -> None:
        """Page-selective invalidation: the domain's first-stage tables whose region overlaps the range."""
        stale = [key for key in self._entries
                 if key[:2] == (domain_id, STAGE1) and self._overlaps(key, iova, size)]
        for key in stale:
            del self._entries[key]

    @staticmethod
    def _overlaps(key: _Key, iova: int, size: int) -> bool:
        shift = level_shift(LEVELS - key[2] + 1)
        base = key[3] << shift
        return base < iova + size and iova < base + (1 << shift)

    def invalidate_domain(self, domain_id: int) -> None:
        for key in [key for key in self._entries if key[0] == domain_id]:
            del self._entries[key]

    def invalidate_all(self) -> None:
        self._entries.clear()
