"""A behavioural stand-in for the DMA engine, until the RTL one exists (issue 4).

It gives the firmware the ``DmaPort`` it will get from the mailbox, but
moves the bytes in Python: it reads the command's SQE through the mailbox
(the real path), resolves PRP1/PRP2 with the reference walker
(models.prp), and copies between the root complex's host memory and a
Python device DRAM. The data never crosses the design's PCIe interface, so
tests built on it check the firmware and the queue engine, not data
movement. Auto-completion is not offered.
"""

from __future__ import annotations

from cocotbext.axi.address_space import AddressSpace, MemoryRegion

from firmware.mailbox import Mailbox
from firmware.nvme.ports import DmaDirection, DmaResult
from models.nvme_spec import GenericStatus
from models.prp import DataPointerError, page_size_from_mps, prp_segments


def peek(space: AddressSpace, addr: int, length: int) -> bytes:
    """Read host memory without simulated time (pools nest: each holds regions at local offsets)."""
    for base, _size, _translate, region in space.find_regions(addr, length):
        if isinstance(region, MemoryRegion):
            return bytes(region.mem[addr - base:addr - base + length])
        return peek(region, addr - base, length)
    raise ValueError(f"no host memory at {addr:#x}")


class SparseDram:
    """Device DRAM as a sparse bytearray per 4 KiB page (the DeviceDram protocol)."""

    def __init__(self) -> None:
        self.pages: dict[int, bytearray] = {}

    def _page(self, addr: int) -> bytearray:
        return self.pages.setdefault(addr >> 12, bytearray(4096))

    async def read(self, addr: int, length: int) -> bytes:
        out = bytearray()
        while length:
            n = min(length, 4096 - (addr & 0xFFF))
            out += self._page(addr)[addr & 0xFFF:(addr & 0xFFF) + n]
            addr, length = addr + n, length - n
        return bytes(out)

    async def write(self, addr: int, data: bytes) -> None:
        while data:
            n = min(len(data), 4096 - (addr & 0xFFF))
            self._page(addr)[addr & 0xFFF:(addr & 0xFFF) + n] = data[:n]
            addr, data = addr + n, data[n:]


class DmaStandIn:
    """DmaPort in Python over the host's memory and a SparseDram."""

    def __init__(self, mailbox: Mailbox, host: AddressSpace, dram: SparseDram, mps: int = 0) -> None:
        self.mailbox = mailbox
        self.host = host
        self.dram = dram
        self.page_size = page_size_from_mps(mps)
        self.transfers = 0

    async def transfer(self, slot: int, direction: DmaDirection, offset: int, length: int, dram_addr: int,
                       cmd_len: int, auto_complete: bool = False) -> DmaResult:
        assert not auto_complete, "the stand-in does not post completions"
        sqe = await self.mailbox.read_sqe(slot)
        try:
            segments = prp_segments(sqe.prp1, sqe.prp2, cmd_len, self.page_size,
                                    lambda a: int.from_bytes(peek(self.host, a, 8), "little"), offset, length)
        except DataPointerError as err:
            return DmaResult(slot, err.code)
        for seg in segments:
            if direction == DmaDirection.HOST_TO_DEVICE:
                await self.dram.write(dram_addr, bytes(await self.host.read(seg.addr, seg.length)))
            else:
                await self.host.write(seg.addr, await self.dram.read(dram_addr, seg.length))
            dram_addr += seg.length
        self.transfers += 1
        return DmaResult(slot, GenericStatus.SUCCESS)
