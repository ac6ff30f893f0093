"""The host side of PRP tests: sparse host memory and a PRP builder.

Written the way a driver fills its lists, independently of models/prp.py,
so that the walker is checked against something it did not produce. Shared
by the PRP and firmware unit tests.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable
from dataclasses import dataclass


class HostMemory:
    """Sparse byte-addressed memory that records which qwords were read."""

    def __init__(self) -> None:
        self._bytes: dict[int, int] = {}
        self.qword_reads: list[int] = []

    def write(self, addr: int, data: bytes) -> None:
        self.scatter(range(addr, addr + len(data)), data)

    def read(self, addr: int, length: int) -> bytes:
        return self.gather(range(addr, addr + length))

    def scatter(self, addrs: Iterable[int], data: bytes) -> None:
        """Byte i of ``data`` to address ``addrs[i]``: a transfer through its PRPs, byte by byte."""
        self._bytes.update(zip(addrs, data))

    def gather(self, addrs: Iterable[int]) -> bytes:
        get = self._bytes.get
        return bytes(get(a, 0) for a in addrs)

    def read_qword(self, addr: int) -> int:
        self.qword_reads.append(addr)
        return int.from_bytes(self.read(addr, 8), "little")


@dataclass
class PrpLayout:
    """A command's PRPs as a host lays them out, and the host address of every data byte."""

    prp1: int
    prp2: int
    byte_addrs: list[int]
    byte_pages: list[int]     # which data page (0 = PRP1's) each byte is in


class PageAllocator:
    """Distinct page-aligned addresses, shuffled so neighbouring pages are rarely contiguous."""

    def __init__(self, rng: random.Random, page_size: int) -> None:
        self.rng = rng
        self.page_size = page_size
        self._free = list(range(1, 4096))
        rng.shuffle(self._free)

    def page(self) -> int:
        return self._free.pop() * self.page_size


def build_prps(mem: HostMemory, alloc: PageAllocator, cmd_len: int, first_offset: int,
               list_offset: int = 0, chain_offset: int = 0) -> PrpLayout:
    """Lay out ``cmd_len`` bytes starting ``first_offset`` into PRP1's page, lists where needed."""
    ps = alloc.page_size
    prp1 = alloc.page() + first_offset
    pages = [prp1]
    covered = ps - first_offset
    while covered < cmd_len:
        pages.append(alloc.page())
        covered += ps
    prp2 = 0
    if len(pages) == 2:
        prp2 = pages[1]
    elif len(pages) > 2:
        prp2 = pointer = alloc.page() + list_offset
        entries = pages[1:]
        while entries:
            slots = (ps - pointer % ps) // 8
            if len(entries) > slots:
                here, entries = entries[:slots - 1], entries[slots - 1:]
                following = alloc.page() + chain_offset
                mem.write(pointer, struct.pack(f"<{slots}Q", *here, following))
                pointer = following
            else:
                mem.write(pointer, struct.pack(f"<{len(entries)}Q", *entries))
                entries = []
    addrs, owners = [], []
    for index, page in enumerate(pages):
        for a in range(page, page - page % ps + ps):
            if len(addrs) < cmd_len:
                addrs.append(a)
                owners.append(index)
    return PrpLayout(prp1, prp2, addrs, owners)
