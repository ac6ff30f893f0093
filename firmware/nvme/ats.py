"""The SoC firmware's address translation cache (PCIe ATS), as LeapIO's runtime translates guest addresses.

LeapIO's SoC reaches a guest's memory at addresses only the guest's IOMMU
domain gives meaning to. Rather than have the root complex's IOMMU translate
each of its requests, the runtime asks once, keeps the answer, and sends its
requests already translated:

- a Translation Request is a host-buffer read with Address Type 1
  (``AddressType.TRANSLATION_REQUEST``, DMA_CTRL.AT) whose completion data
  are one translation entry per 4 KiB page (models/iommu/ats.py);
- a request with Address Type 2 (``TRANSLATED``) carries the translated
  address, and the IOMMU lets it through untouched;
- the translation agent takes a translation back with an Invalidate
  Request. The cache drops the entries it covers, waits until no DMA that
  took one of them is still in flight, and only then answers (Invalidate
  Completion); from then on the host may give the page to someone else.

A Translation Request still in flight when an invalidation arrives may bring
back what that invalidation took away (an Invalidate Request may pass a
completion on the link), so its answer is neither cached nor used: the
request is made again.

The entries belong to the function's IOMMU domain, not to the NVMe
controller: a controller reset keeps them (a Function Level Reset would not,
and the hard IP model signals none), and only invalidations take them back.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cocotb.triggers import Event

from firmware.mailbox import CommandSlot
from firmware.nvme.ports import AddressType, DeviceDram, DmaDirection, DmaPort
from models.iommu.ats import ENTRY_BYTES, TranslationEntry
from models.iommu.pagetable import PAGE_SIZE as PAGE


class AddressTranslationCache:
    """Translations of untranslated pages, LRU, ``capacity`` entries; DMA through ``dma`` and ``dram``."""

    def __init__(self, dma: DmaPort, dram: DeviceDram, capacity: int = 64) -> None:
        self.dma = dma
        self.dram = dram
        self.capacity = capacity
        self.entries: OrderedDict[int, TranslationEntry] = OrderedDict()
        self._in_use: Counter[int] = Counter()   # untranslated pages with a translated DMA in flight
        self._released = Event()
        self.hits = 0
        self.translation_requests = 0
        self.refused = 0                         # translations that grant no access, or whose request failed
        self.invalidated = 0                     # Invalidate Requests received: a translation asked before one is void

    @asynccontextmanager
    async def translated(self, slot: CommandSlot, scratch: int, addr: int, write: bool) -> AsyncIterator[int | None]:
        """The translated address of ``addr`` for a DMA made inside the block, or None where the agent grants
        no such access. An invalidation of the page waits for the block to end before it completes, so the
        DMA reaches the host before the page can change hands. ``scratch``: 8 bytes of DRAM for the answer."""
        page = addr & ~(PAGE - 1)
        entry = await self._lookup(slot, scratch, page)
        if entry is None or not (entry.write if write else entry.read):
            self.refused += entry is not None     # (a lookup that found nothing counted itself)
            yield None
            return
        self._in_use[page] += 1      # no await since the lookup: no invalidation came between
        try:
            yield entry.phys | addr & (PAGE - 1)
        finally:
            self._in_use[page] -= 1
            self._released.set()

    async def _lookup(self, slot: CommandSlot, scratch: int, page: int) -> TranslationEntry | None:
        if (entry := self.entries.get(page)) is not None:
            self.hits += 1
        while entry is None:
            before = self.invalidated
            self.translation_requests += 1
            result = await self.dma.transfer(slot, DmaDirection.HOST_TO_DEVICE, 0, ENTRY_BYTES, scratch, ENTRY_BYTES,
                                             host_addr=page, address_type=AddressType.TRANSLATION_REQUEST)
            if not result.ok:
                self.refused += 1
                return None
            answer = TranslationEntry.unpack(await self.dram.read(scratch, ENTRY_BYTES))
            if self.invalidated != before:
                continue     # an invalidation may have passed the completion: ask again
            if not answer.grants_access:
                self.refused += 1
                return None
            entry = self.entries[page] = answer
            if len(self.entries) > self.capacity:
                self.entries.popitem(last=False)
        self.entries.move_to_end(page)
        return entry

    async def invalidate(self, addr: int, size: int | None) -> None:
        """An Invalidate Request for ``size`` bytes from ``addr`` (None: every entry); returns when the
        Invalidate Completion may be sent: the entries are gone and no DMA that took one is in flight."""

        def covered(page: int) -> bool:
            return size is None or addr < page + PAGE and page < addr + size

        self.invalidated += 1
        for page in [p for p in self.entries if covered(p)]:
            del self.entries[page]
        while any(count and covered(page) for page, count in self._in_use.items()):
            self._released.clear()
            await self._released.wait()
