"""Page tables in physical memory: structure, 2 MiB leaves, walk costs."""

import random

import pytest

from models.iommu import (HUGE_PAGE_SIZE, PAGE_SIZE, BufferPhysMem, MappingError, PageTable,
                          TablePageAllocator)

POOL_BASE = 0x4000_0000
POOL_PAGES = 256


@pytest.fixture
def tables() -> TablePageAllocator:
    return TablePageAllocator(POOL_BASE, POOL_PAGES * PAGE_SIZE)


@pytest.fixture
def pt(tables: TablePageAllocator) -> PageTable:
    mem = BufferPhysMem(bytearray(POOL_PAGES * PAGE_SIZE), POOL_BASE)
    return PageTable(mem, tables)


def random_layout(rng: random.Random, count: int) -> dict[int, tuple[int, bool, bool]]:
    """Reference: iova page -> (phys page, read, write), spread over the
    whole 48-bit space so every level gets more than one table."""
    ref: dict[int, tuple[int, bool, bool]] = {}
    while len(ref) < count:
        iova = rng.randrange(1 << 36) * PAGE_SIZE
        pages = rng.randint(1, 40)
        if any(iova + i * PAGE_SIZE in ref for i in range(pages)):
            continue
        phys = rng.randrange(1 << 28) * PAGE_SIZE
        read, write = rng.choice([(True, False), (False, True), (True, True)])
        for i in range(pages):
            ref[iova + i * PAGE_SIZE] = (phys + i * PAGE_SIZE, read, write)
    return ref


def install(pt: PageTable, ref: dict[int, tuple[int, bool, bool]]) -> None:
    for iova, (phys, read, write) in ref.items():
        pt.map(iova, phys, PAGE_SIZE, read=read, write=write)


def test_random_maps_match_reference(pt: PageTable) -> None:
    rng = random.Random(7)
    ref = random_layout(rng, 600)
    install(pt, ref)
    probes = list(ref) + [rng.randrange(1 << 36) * PAGE_SIZE for _ in range(600)]
    for page in probes:
        offset = rng.randrange(PAGE_SIZE)
        leaf = pt.walk(page + offset).leaf
        if page not in ref:
            assert leaf is None
            continue
        assert leaf is not None
        phys, read, write = ref[page]
        assert (leaf.phys_base, leaf.page_size, leaf.read, leaf.write) == (phys, PAGE_SIZE, read, write)
        assert leaf.iova_base == page


def test_random_unmaps_leave_only_the_rest(pt: PageTable) -> None:
    rng = random.Random(11)
    ref = random_layout(rng, 300)
    install(pt, ref)
    gone = set(rng.sample(sorted(ref), 150))
    for page in gone:
        assert pt.unmap(page, PAGE_SIZE) == 1
    for page in ref:
        assert (pt.walk(page).leaf is None) == (page in gone)


def test_levels_are_real_tables(pt: PageTable, tables: TablePageAllocator) -> None:
    # Two IOVAs that differ only in the top index share nothing but the root.
    pt.map(0, 0x1000, PAGE_SIZE, read=True, write=True)
    assert tables.in_use == 1 + 3
    pt.map(1 << 39, 0x2000, PAGE_SIZE, read=True, write=True)
    assert tables.in_use == 1 + 3 + 3
    pt.map(PAGE_SIZE, 0x3000, PAGE_SIZE, read=True, write=True)  # same leaf table
    assert tables.in_use == 7


def test_walk_reads_one_entry_per_level(pt: PageTable) -> None:
    assert pt.walk(0x1234_5000).reads == 1  # empty root
    pt.map(0x1234_5000, 0x8000, PAGE_SIZE, read=True, write=False)
    assert pt.walk(0x1234_5000).reads == 4
    assert pt.walk(0x1234_6000).reads == 4  # not present at the last level
    pt.map(0x4000_0000, 0x20_0000, HUGE_PAGE_SIZE, read=True, write=True)
    assert pt.walk(0x4000_0000 + 0x1234).reads == 3


def test_huge_page_used_when_aligned(pt: PageTable) -> None:
    leaves = pt.map(0x20_0000, 0x4020_0000, 2 * HUGE_PAGE_SIZE + PAGE_SIZE, read=True, write=True)
    assert leaves == 3
    leaf = pt.walk(0x20_0000 + 0x1f_f008).leaf
    assert leaf is not None and leaf.page_size == HUGE_PAGE_SIZE
    assert leaf.phys_base == 0x4020_0000
    tail = pt.walk(0x60_0000).leaf
    assert tail is not None and tail.page_size == PAGE_SIZE and tail.phys_base == 0x4060_0000


def test_huge_page_not_used_when_phys_misaligned(pt: PageTable) -> None:
    assert pt.map(0x20_0000, 0x4020_1000, HUGE_PAGE_SIZE, read=True, write=True) == 512
    assert pt.map(0x80_0000, 0x4080_0000, HUGE_PAGE_SIZE, read=True, write=True,
                  allow_huge=False) == 512


def test_huge_page_replaces_an_empty_leaf_table(pt: PageTable, tables: TablePageAllocator) -> None:
    pt.map(0x20_0000, 0x1000, PAGE_SIZE, read=True, write=True)
    pt.unmap(0x20_0000, PAGE_SIZE)
    in_use = tables.in_use
    pt.map(0x20_0000, 0x4000_0000, HUGE_PAGE_SIZE, read=True, write=True)
    assert tables.in_use == in_use - 1
    leaf = pt.walk(0x20_0000).leaf
    assert leaf is not None and leaf.page_size == HUGE_PAGE_SIZE


@pytest.mark.parametrize("first, second", [
    ((0x20_0000, PAGE_SIZE), (0x20_0000, PAGE_SIZE)),           # remap a 4 KiB page
    ((0x20_1000, PAGE_SIZE), (0x20_0000, HUGE_PAGE_SIZE)),      # huge over live 4 KiB
    ((0x20_0000, HUGE_PAGE_SIZE), (0x20_1000, PAGE_SIZE)),      # 4 KiB inside huge
])
def test_overlapping_map_is_refused(pt: PageTable, first: tuple[int, int],
                                    second: tuple[int, int]) -> None:
    pt.map(first[0], 0x4000_0000, first[1], read=True, write=True)
    with pytest.raises(MappingError):
        pt.map(second[0], 0x4000_0000, second[1], read=True, write=True)


def test_unmap_errors(pt: PageTable) -> None:
    pt.map(0x20_0000, 0x4000_0000, HUGE_PAGE_SIZE, read=True, write=True)
    with pytest.raises(MappingError, match="split"):
        pt.unmap(0x20_0000, PAGE_SIZE)
    with pytest.raises(MappingError, match="not mapped"):
        pt.unmap(0x100_0000, PAGE_SIZE)
    assert pt.unmap(0x20_0000, HUGE_PAGE_SIZE) == 1
    assert pt.walk(0x20_0000).leaf is None


@pytest.mark.parametrize("iova, phys, size, read, write", [
    (0x1001, 0, PAGE_SIZE, True, True),
    (0, 0, 100, True, True),
    ((1 << 48) - PAGE_SIZE, 0, 2 * PAGE_SIZE, True, True),
    (0, 0, PAGE_SIZE, False, False),
])
def test_bad_map_arguments(pt: PageTable, iova: int, phys: int, size: int,
                           read: bool, write: bool) -> None:
    with pytest.raises(MappingError):
        pt.map(iova, phys, size, read=read, write=write)


def test_entries_are_bytes_in_physical_memory(tables: TablePageAllocator) -> None:
    buf = bytearray(POOL_PAGES * PAGE_SIZE)
    pt = PageTable(BufferPhysMem(buf, POOL_BASE), tables)
    pt.map(0, 0xabc000, PAGE_SIZE, read=True, write=False)
    leaf_table_off = 3 * PAGE_SIZE  # root, L3, L2, then the leaf table
    entry = int.from_bytes(buf[leaf_table_off:leaf_table_off + 8], "little")
    assert entry == 0xabc000 | 0b011  # present + read, no write
    buf[leaf_table_off:leaf_table_off + 8] = bytes(8)  # someone clears it behind our back
    assert pt.walk(0).leaf is None


def test_permissions_are_anded_along_the_path(tables: TablePageAllocator) -> None:
    buf = bytearray(POOL_PAGES * PAGE_SIZE)
    pt = PageTable(BufferPhysMem(buf, POOL_BASE), tables)
    pt.map(0, 0xabc000, PAGE_SIZE, read=True, write=True)
    root_entry = int.from_bytes(buf[0:8], "little")
    buf[0:8] = (root_entry & ~0b100).to_bytes(8, "little")  # drop W at the top level
    leaf = pt.walk(0).leaf
    assert leaf is not None and leaf.read and not leaf.write


def test_physmem_rejects_out_of_range() -> None:
    mem = BufferPhysMem(bytearray(PAGE_SIZE), 0x1000)
    with pytest.raises(ValueError):
        mem.read_u64(0)
    with pytest.raises(ValueError):
        mem.write_u64(0x2000, 1)
    with pytest.raises(ValueError):
        mem.read_u64(0x1004)


def test_table_pool_exhaustion_and_reuse() -> None:
    alloc = TablePageAllocator(0, 2 * PAGE_SIZE)
    a, b = alloc.alloc(), alloc.alloc()
    with pytest.raises(MemoryError):
        alloc.alloc()
    alloc.free(a)
    assert alloc.alloc() == a and b == PAGE_SIZE
