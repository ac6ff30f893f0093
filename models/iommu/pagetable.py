"""Four-level I/O page tables stored as 8-byte entries in physical memory.

Layout follows x86-64 / VT-d second-level paging: a 48-bit IOVA is split
into four 9-bit indices (bits 47:39, 38:30, 29:21, 20:12) and a 12-bit page
offset; each table is one 4 KiB page of 512 entries. A level-2 entry with
the page-size bit is a 2 MiB leaf.

The tables live in a ``PhysMem`` rather than in Python objects so that the
testbench can place them in host memory (the model writes them, the walk
reads them back), and so that a walk costs what it costs in hardware: one
memory read per level.

Entry format (this model's, close to VT-d second level with an explicit
present bit):

    bit 0   P   present
    bit 1   R   device may read
    bit 2   W   device may write
    bit 7   PS  leaf at level 2 (2 MiB page)
    51:12       physical address of the next table or of the page
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
HUGE_PAGE_SIZE = 1 << 21
IOVA_BITS = 48
LEVELS = 4
ENTRIES_PER_TABLE = 512

PTE_PRESENT = 1 << 0
PTE_READ = 1 << 1
PTE_WRITE = 1 << 2
PTE_PAGE_SIZE = 1 << 7
PTE_ADDR_MASK = ((1 << 52) - 1) & ~(PAGE_SIZE - 1)


def level_shift(level: int) -> int:
    """Bit position of the index of ``level`` (4 = root, 1 = 4 KiB leaves)."""
    return PAGE_SHIFT + 9 * (level - 1)


def pte_index(iova: int, level: int) -> int:
    return (iova >> level_shift(level)) & (ENTRIES_PER_TABLE - 1)


class PhysMem(Protocol):
    """Synchronous access to physical memory, as the IOMMU's walker sees it.

    Synchronous on purpose: the walk's time is charged through the cost
    model, not by awaiting the simulator, so the IOMMU stays plain Python.
    """

    def read_u64(self, addr: int) -> int: ...

    def write_u64(self, addr: int, value: int) -> None: ...


class ByteBuffer(Protocol):
    """What BufferPhysMem needs: bytearray, mmap, or a cocotbext-axi
    MemoryRegion (which forwards slicing to its mmap)."""

    def __getitem__(self, key: slice) -> bytes: ...

    def __setitem__(self, key: slice, value: bytes) -> None: ...

    def __len__(self) -> int: ...


class BufferPhysMem:
    """PhysMem over a byte buffer that holds physical [base, base + len(buf))."""

    def __init__(self, buf: ByteBuffer, base: int = 0) -> None:
        self.buf = buf
        self.base = base

    def _offset(self, addr: int) -> int:
        off = addr - self.base
        if addr % 8 or not 0 <= off <= len(self.buf) - 8:
            raise ValueError(f"PhysMem access at {addr:#x} outside "
                             f"[{self.base:#x}, {self.base + len(self.buf):#x}) or unaligned")
        return off

    def read_u64(self, addr: int) -> int:
        off = self._offset(addr)
        return int.from_bytes(self.buf[off:off + 8], "little")

    def write_u64(self, addr: int, value: int) -> None:
        off = self._offset(addr)
        self.buf[off:off + 8] = value.to_bytes(8, "little")


class TablePageAllocator:
    """Hands out 4 KiB page-table pages from a fixed physical range.

    Freed pages are reused first (LIFO), like a kernel page allocator's
    hot list, which keeps the table footprint small over long runs.
    """

    def __init__(self, base: int, size: int) -> None:
        if base % PAGE_SIZE or size % PAGE_SIZE or size <= 0:
            raise ValueError("page-table pool must be a non-empty 4 KiB-aligned range")
        self.base = base
        self.size = size
        self._next = base
        self._free: list[int] = []
        self.in_use = 0

    def split(self, parts: int) -> list[TablePageAllocator]:
        """The range, still unused, cut into ``parts`` equal allocators of whole pages (one per guest)."""
        size = self.size // parts // PAGE_SIZE * PAGE_SIZE
        if self._next != self.base or not size:
            raise ValueError(f"cannot split {self.size} bytes, {self._next - self.base} used, into {parts}")
        return [TablePageAllocator(self.base + i * size, size) for i in range(parts)]

    def alloc(self) -> int:
        if self._free:
            addr = self._free.pop()
        elif self._next < self.base + self.size:
            addr = self._next
            self._next += PAGE_SIZE
        else:
            raise MemoryError("page-table page pool exhausted")
        self.in_use += 1
        return addr

    def free(self, addr: int) -> None:
        self._free.append(addr)
        self.in_use -= 1


@dataclass(frozen=True)
class Leaf:
    """A translation found by a walk: the page that holds ``iova``."""

    iova_base: int
    phys_base: int
    page_size: int
    read: bool
    write: bool


@dataclass(frozen=True)
class WalkResult:
    """Outcome of one walk: the leaf (None if not present), how many
    entries the walk read from memory, which is what a walk costs, and the
    table each of those entries sits in (a nested walk translates them)."""

    leaf: Leaf | None
    reads: int
    tables: tuple[int, ...] = ()


class MappingError(ValueError):
    """A map or unmap request the page table cannot honour (a driver bug in
    Linux terms: remapping a present page, unmapping what is not mapped,
    splitting a 2 MiB page)."""


class PageTable:
    """One domain's I/O page table, rooted in a table page of ``mem``.

    Intermediate tables are not freed on unmap (as in the Linux VT-d driver
    for ordinary unmaps), so no paging-structure invalidation is needed; an
    empty level-1 table is only reclaimed when a 2 MiB leaf replaces it.
    """

    def __init__(self, mem: PhysMem, tables: TablePageAllocator) -> None:
        self.mem = mem
        self.tables = tables
        self.root = self._new_table()

    def _new_table(self) -> int:
        addr = self.tables.alloc()
        for i in range(ENTRIES_PER_TABLE):
            self.mem.write_u64(addr + 8 * i, 0)
        return addr

    def _table_is_empty(self, table: int) -> bool:
        return all(not self.mem.read_u64(table + 8 * i) & PTE_PRESENT
                   for i in range(ENTRIES_PER_TABLE))

    def map(self, iova: int, phys: int, size: int, *, read: bool, write: bool,
            allow_huge: bool = True) -> int:
        """Map ``size`` bytes at ``iova`` to ``phys``; returns leaves written.

        Uses a 2 MiB leaf wherever iova, phys and the remaining size allow
        it and ``allow_huge`` is set, as Linux's iommu_map picks the largest
        page size the alignment permits.
        """
        if (iova | phys | size) % PAGE_SIZE or size <= 0:
            raise MappingError(f"map({iova:#x}, {phys:#x}, {size:#x}) not 4 KiB aligned")
        if iova + size > 1 << IOVA_BITS:
            raise MappingError(f"IOVA range ends beyond {IOVA_BITS} bits")
        if not (read or write):
            raise MappingError("a mapping needs read or write permission")
        flags = PTE_PRESENT | (PTE_READ if read else 0) | (PTE_WRITE if write else 0)
        leaves = 0
        end = iova + size
        while iova < end:
            huge = (allow_huge and iova % HUGE_PAGE_SIZE == 0 and phys % HUGE_PAGE_SIZE == 0
                    and end - iova >= HUGE_PAGE_SIZE)
            page_size = HUGE_PAGE_SIZE if huge else PAGE_SIZE
            self._install(iova, phys, 2 if huge else 1, flags)
            iova += page_size
            phys += page_size
            leaves += 1
        return leaves

    def _install(self, iova: int, phys: int, leaf_level: int, flags: int) -> None:
        table = self.root
        for level in range(LEVELS, leaf_level, -1):
            slot = table + 8 * pte_index(iova, level)
            entry = self.mem.read_u64(slot)
            if not entry & PTE_PRESENT:
                entry = self._new_table() | PTE_PRESENT | PTE_READ | PTE_WRITE
                self.mem.write_u64(slot, entry)
            elif entry & PTE_PAGE_SIZE:
                raise MappingError(f"IOVA {iova:#x} lies inside a mapped 2 MiB page")
            table = entry & PTE_ADDR_MASK
        slot = table + 8 * pte_index(iova, leaf_level)
        entry = self.mem.read_u64(slot)
        if entry & PTE_PRESENT:
            replaceable = (leaf_level == 2 and not entry & PTE_PAGE_SIZE
                           and self._table_is_empty(entry & PTE_ADDR_MASK))
            if not replaceable:
                raise MappingError(f"IOVA {iova:#x} is already mapped")
            self.tables.free(entry & PTE_ADDR_MASK)
        if leaf_level == 2:
            flags |= PTE_PAGE_SIZE
        self.mem.write_u64(slot, (phys & PTE_ADDR_MASK) | flags)

    def unmap(self, iova: int, size: int) -> int:
        """Clear the leaves covering [iova, iova + size); returns how many.

        The whole range must be mapped, and a 2 MiB leaf must be covered
        entirely (no splitting, as dma-iommu never asks for it).
        """
        if iova % PAGE_SIZE or size % PAGE_SIZE or size <= 0:
            raise MappingError(f"unmap({iova:#x}, {size:#x}) not 4 KiB aligned")
        cleared = 0
        end = iova + size
        while iova < end:
            slot, page_size = self._leaf_slot(iova)
            if iova % page_size or iova + page_size > end:
                raise MappingError(f"unmap would split the 2 MiB page at {iova:#x}")
            self.mem.write_u64(slot, 0)
            iova += page_size
            cleared += 1
        return cleared

    def _leaf_slot(self, iova: int) -> tuple[int, int]:
        table = self.root
        for level in range(LEVELS, 0, -1):
            slot = table + 8 * pte_index(iova, level)
            entry = self.mem.read_u64(slot)
            if not entry & PTE_PRESENT:
                raise MappingError(f"IOVA {iova:#x} is not mapped")
            if level == 1 or entry & PTE_PAGE_SIZE:
                return slot, 1 << level_shift(level)
            table = entry & PTE_ADDR_MASK
        raise AssertionError("unreachable: level 1 always returns")

    def walk(self, iova: int) -> WalkResult:
        """Translate ``iova`` the way the hardware walker does.

        Permissions are the AND of the R/W bits along the path, as in VT-d;
        an IOVA beyond 48 bits has no entry and reads nothing.
        """
        if not 0 <= iova < 1 << IOVA_BITS:
            return WalkResult(None, 0)
        table = self.root
        perms = PTE_READ | PTE_WRITE
        tables: list[int] = []
        for level in range(LEVELS, 0, -1):
            entry = self.mem.read_u64(table + 8 * pte_index(iova, level))
            tables.append(table)
            reads = LEVELS - level + 1
            if not entry & PTE_PRESENT:
                return WalkResult(None, reads, tuple(tables))
            perms &= entry
            if level == 1 or entry & PTE_PAGE_SIZE:
                page_size = 1 << level_shift(level)
                leaf = Leaf(iova_base=iova & ~(page_size - 1),
                            phys_base=entry & PTE_ADDR_MASK & ~(page_size - 1),
                            page_size=page_size,
                            read=bool(perms & PTE_READ), write=bool(perms & PTE_WRITE))
                return WalkResult(leaf, reads, tuple(tables))
            table = entry & PTE_ADDR_MASK
        raise AssertionError("unreachable: level 1 always returns")
