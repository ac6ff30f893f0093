"""Host buffers behind PRPs and SGLs, surrounded by guard bytes, for the DMA tests.

Every buffer a builder hands out is a region from the root complex's pool
filled with a guard pattern; the command's data occupies pieces of it. After
the controller has moved data, ``check_guards`` proves that no byte outside
the pieces changed: a DMA write never lands outside the command's buffers.

PRP buffers go through the host's DMA API (``tb.dmas[function]``) as a driver maps
them: each data piece on its own (the direction says who writes), PRP
lists read-only for the device; the PRPs carry bus addresses, the pieces
stay physical for the CPU. Without an IOMMU the two are the same; with one,
``release`` unmaps the transfer at its completion under the run's policy.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from models.iommu import DmaDirection
from models.prp import SGL_DESCRIPTOR_SIZE, Segment, SglDescriptor, SglType
from tb.iommu_seam import HostDma
from tb.pcie_tb import PcieTb

PAGE = 4096
GUARD = 0xA5
PRP_ENTRY = 8


@dataclass
class HostTransfer:
    """A command's data pointer and where its bytes live (physical), in order; ``bus`` holds the bus
    address of each piece and ``mappings`` the bus addresses to unmap at completion."""

    prp1: int
    prp2: int
    psdt: int
    pieces: list[Segment]
    bus: list[int] = field(default_factory=list)
    mappings: list[int] = field(default_factory=list)


@dataclass
class DataPointerBuilder:
    tb: PcieTb
    rng: random.Random
    function: int = 0     # whose DMA API maps the buffers: the function whose commands use them
    # told (address, size) of all the host memory handed out, PRP lists included (RequesterIds.own)
    owned: Callable[[int, int], None] = lambda addr, size: None
    regions: list[tuple[int, int]] = field(default_factory=list)
    pieces: list[Segment] = field(default_factory=list)

    @property
    def _dma(self) -> HostDma:
        return self.tb.dmas[self.function]

    async def region(self, size: int, high: bool = False) -> int:
        """Host memory filled with the guard pattern, checked by ``check_guards``."""
        addr = self.tb.alloc_dma(size, high=high)
        await self.tb.rc.mem_address_space.write(addr, bytes([GUARD]) * size)
        self.regions.append((addr, size))
        self.owned(addr, size)
        return addr

    async def prp(self, length: int, first_offset: int, high: bool = False, list_offset: int = 0,
                  direction: DmaDirection = DmaDirection.BIDIRECTIONAL) -> HostTransfer:
        """Data pages with a guard page after each; PRP2 a page or a list, whose first page starts at
        ``list_offset`` (a large offset leaves few slots, so the list chains after a few entries).
        Each piece is mapped for ``direction`` (TO_DEVICE for a Write command, FROM_DEVICE for a Read)."""
        first_len = PAGE - first_offset
        pages = 1 + -(-max(0, length - first_len) // PAGE)
        base = await self.region((2 * pages + 1) * PAGE, high)
        addrs = [base + (2 * k + 1) * PAGE for k in range(pages)]
        pieces = [Segment(addrs[0] + first_offset, min(length, first_len))]
        done = pieces[0].length
        for addr in addrs[1:]:
            pieces.append(Segment(addr, min(PAGE, length - done)))
            done += pieces[-1].length
        self.pieces += pieces
        bus = [await self._dma.map(piece.addr, piece.length, direction) for piece in pieces]
        transfer = HostTransfer(bus[0], 0, 0, pieces, bus, list(bus))
        if pages == 2:
            transfer.prp2 = bus[1]
        elif pages > 2:
            transfer.prp2 = await self._prp_list(transfer, bus[1:], list_offset, high)
        return transfer

    async def _prp_list(self, transfer: HostTransfer, entries: list[int], list_offset: int, high: bool) -> int:
        """PRP list pages, the first from ``list_offset``, each chaining to the next through its last slot;
        mapped read-only for the device. Returns the list's bus address."""
        size = len(entries) * PAGE
        lists = self.tb.alloc_dma(size, high=high)   # only read: no guards
        self.owned(lists, size)
        lists_bus = await self._dma.map(lists, size, DmaDirection.TO_DEVICE)
        transfer.mappings.append(lists_bus)
        page = 0
        pointer = list_offset
        while entries:
            slots = (PAGE - pointer % PAGE) // PRP_ENTRY
            chained = len(entries) > slots
            here, entries = (entries[:slots - 1], entries[slots - 1:]) if chained else (entries, [])
            words = here + ([lists_bus + (page + 1) * PAGE] if chained else [])
            await self.tb.rc.mem_address_space.write(lists + pointer, struct.pack(f"<{len(words)}Q", *words))
            page += 1
            pointer = page * PAGE
        return lists_bus + list_offset

    async def release(self, transfer: HostTransfer) -> None:
        """Unmap the transfer's buffers, as the driver does when the command completes."""
        for bus in transfer.mappings:
            await self._dma.unmap(bus)
        transfer.mappings.clear()

    async def sgl(self, length: int, blocks: int, per_segment: int, high: bool = False) -> HostTransfer:
        """``blocks`` data blocks (dword multiples) in their own guarded regions, described by SGL1 alone or
        by segments of up to ``per_segment`` data blocks, each Segment pointing on to the next.
        Physical addresses only: not for runs under an IOMMU."""
        assert self.tb.iommu_seam is None, "SGL buffers are not mapped through the DMA API"
        cuts = sorted(self.rng.sample(range(1, length // 4), blocks - 1)) if blocks > 1 else []
        sizes = [4 * (b - a) for a, b in zip([0] + cuts, cuts + [length // 4])]
        pieces = []
        for size in sizes:
            region = await self.region(size + 2 * 64, high)
            pieces.append(Segment(region + 64 + 4 * self.rng.randrange(16), size))
        self.pieces += pieces
        datas = [SglDescriptor(p.addr, p.length, SglType.DATA_BLOCK) for p in pieces]
        if blocks == 1:
            sgl1 = datas[0]
        else:
            chunks = [datas[i:i + per_segment] for i in range(0, len(datas), per_segment)]
            follow: SglDescriptor | None = None
            for chunk in reversed(chunks):
                descs = chunk + ([follow] if follow else [])
                addr = self.tb.alloc_dma(len(descs) * SGL_DESCRIPTOR_SIZE, align=16, high=high)
                self.owned(addr, len(descs) * SGL_DESCRIPTOR_SIZE)
                await self.tb.rc.mem_address_space.write(addr, b"".join(d.pack() for d in descs))
                kind = SglType.SEGMENT if follow else SglType.LAST_SEGMENT
                follow = SglDescriptor(addr, len(descs) * SGL_DESCRIPTOR_SIZE, kind)
            sgl1 = follow
        prp1, prp2 = struct.unpack("<QQ", sgl1.pack())
        return HostTransfer(prp1, prp2, 1, pieces)

    async def fill(self, transfer: HostTransfer, data: bytes) -> None:
        pos = 0
        for piece in transfer.pieces:
            await self.tb.rc.mem_address_space.write(piece.addr, data[pos:pos + piece.length])
            pos += piece.length

    async def read(self, transfer: HostTransfer) -> bytes:
        return b"".join([bytes(await self.tb.rc.mem_address_space.read(p.addr, p.length))
                         for p in transfer.pieces])

    async def check_guards(self) -> None:
        """Every byte of every region outside the data pieces still holds the guard pattern."""
        for base, size in self.regions:
            got = bytearray(await self.tb.rc.mem_address_space.read(base, size))
            for piece in self.pieces:
                lo, hi = max(piece.addr, base), min(piece.addr + piece.length, base + size)
                if lo < hi:
                    got[lo - base:hi - base] = bytes([GUARD]) * (hi - lo)
            bad = next((i for i, b in enumerate(got) if b != GUARD), None)
            assert bad is None, f"guard byte at {base + bad:#x} changed: a DMA wrote outside the command's buffers"
