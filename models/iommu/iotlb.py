"""The IOTLB: a small cache of leaf translations, tagged by domain id.

Entries hold the permissions the walk found, so a stale entry keeps
granting access after its page-table entry is cleared until someone
invalidates it. That is the whole point of the lazy policy's window of
vulnerability, so it is modelled as such rather than approximated.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .config import IotlbConfig, ReplacementPolicy
from .pagetable import HUGE_PAGE_SIZE, PAGE_SIZE


@dataclass(frozen=True)
class IotlbEntry:
    domain_id: int
    iova_base: int
    phys_base: int
    page_size: int
    read: bool
    write: bool

    def overlaps(self, iova: int, size: int) -> bool:
        return self.iova_base < iova + size and iova < self.iova_base + self.page_size


_Key = tuple[int, int, int]  # (domain id, iova base, page size)


class Iotlb:
    """Fully associative IOTLB with LRU, FIFO or seeded random replacement."""

    def __init__(self, config: IotlbConfig = IotlbConfig()) -> None:
        self.config = config
        self._entries: OrderedDict[_Key, IotlbEntry] = OrderedDict()
        self._rng = random.Random(config.seed)
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, domain_id: int, iova: int) -> IotlbEntry | None:
        for page_size in (PAGE_SIZE, HUGE_PAGE_SIZE):
            key = (domain_id, iova & ~(page_size - 1), page_size)
            entry = self._entries.get(key)
            if entry is not None:
                if self.config.policy is ReplacementPolicy.LRU:
                    self._entries.move_to_end(key)
                return entry
        return None

    def insert(self, entry: IotlbEntry) -> None:
        key = (entry.domain_id, entry.iova_base, entry.page_size)
        if key not in self._entries and len(self._entries) >= self.config.capacity:
            self._evict()
        self._entries[key] = entry

    def _evict(self) -> None:
        if self.config.policy is ReplacementPolicy.RANDOM:
            victim = self._rng.choice(list(self._entries))
            del self._entries[victim]
        else:  # LRU keeps recency order, FIFO insertion order: oldest first.
            self._entries.popitem(last=False)
        self.evictions += 1

    def _drop(self, keep: Callable[[IotlbEntry], bool]) -> int:
        stale = [key for key, entry in self._entries.items() if not keep(entry)]
        for key in stale:
            del self._entries[key]
        return len(stale)

    def invalidate_range(self, domain_id: int, iova: int, size: int) -> int:
        """Page-selective invalidation; returns the number of entries dropped."""
        return self._drop(lambda e: e.domain_id != domain_id or not e.overlaps(iova, size))

    def invalidate_domain(self, domain_id: int) -> int:
        """Domain-selective invalidation; returns the number of entries dropped."""
        return self._drop(lambda e: e.domain_id != domain_id)

    def invalidate_all(self) -> int:
        """Global invalidation; returns the number of entries dropped."""
        dropped = len(self._entries)
        self._entries.clear()
        return dropped
