"""NAND array: addressing, data round trip and the programming rules."""

import numpy as np
import pytest

from models.flash import ErasedPageError, Geometry, Nand, ProgramOrderError

GEOMETRY = Geometry(channels=2, luns_per_channel=2, planes=2, blocks_per_plane=4,
                    pages_per_block=4, page_size=8192, sector_size=4096, oob_size=64)


@pytest.fixture
def nand() -> Nand:
    return Nand(GEOMETRY)


def page_of(block: int, page: int) -> int:
    return GEOMETRY.page_id(block, page)


def program(nand: Nand, block: int, page: int, fill: int = 0xAB) -> None:
    spp = GEOMETRY.sectors_per_page
    lpns = np.arange(spp, dtype=np.int64) + 100 * block + page
    nand.program(page_of(block, page), lpns, np.zeros(spp, np.int64), bytes([fill]) * GEOMETRY.page_size)


def test_address_round_trips():
    g = GEOMETRY
    for block in range(g.blocks):
        assert g.block_id(*g.block_coords(block)) == block
        for page in range(g.pages_per_block):
            assert g.page_coords(g.page_id(block, page)) == (block, page)
    # A superblock's pages are contiguous and start on channel 0, 1, 0, 1, ...
    first_row = [g.page_coords(p)[0] for p in range(g.columns)]
    assert [g.block_coords(b)[0] for b in first_row] == [0, 1] * (g.columns // 2)


def test_programmed_data_reads_back(nand):
    program(nand, 5, 0, fill=0x5A)
    assert nand.read(page_of(5, 0)) == b"\x5a" * GEOMETRY.page_size
    assert nand.oob_lpn[page_of(5, 0) * 2] == 500


def test_pages_program_in_order(nand):
    program(nand, 3, 0)
    with pytest.raises(ProgramOrderError, match="skips pages"):
        program(nand, 3, 2)


def test_reprogram_needs_erase(nand):
    program(nand, 3, 0)
    with pytest.raises(ProgramOrderError, match="not erased"):
        program(nand, 3, 0)
    nand.erase(np.array([3]))
    program(nand, 3, 0)
    assert nand.erase_count[3] == 1


def test_erase_clears_data_and_oob(nand):
    program(nand, 7, 0)
    nand.erase(np.array([7]))
    assert nand.write_ptr[7] == 0
    assert (nand.oob_lpn[page_of(7, 0) * 2:page_of(7, 0) * 2 + 2] == -1).all()
    with pytest.raises(ErasedPageError):
        nand.read(page_of(7, 0))


def test_superblock_run_stripes_and_checks_each_block(nand):
    g = GEOMETRY
    n = g.columns + 3  # a full row, then three pages of the next
    lpns = np.arange(n * g.sectors_per_page, dtype=np.int64)
    nand.program(0, lpns, lpns)
    assert nand.write_ptr[:g.columns].tolist() == [2, 2, 2] + [1] * (g.columns - 3)
    with pytest.raises(ProgramOrderError):  # page 1 of block 3 is next, not page 2
        nand.program(n + g.columns, lpns[:2], lpns[:2])


def test_erase_superblocks_matches_block_erase(nand):
    g = GEOMETRY
    lpns = np.arange(g.superblock_sectors, dtype=np.int64)
    nand.program(g.pages_per_block * g.columns, lpns, lpns)  # all of superblock 1
    nand.erase_superblocks(np.array([1]))
    assert not nand.write_ptr.any()
    assert (nand.oob_lpn == -1).all()
    assert nand.erase_count[g.columns:2 * g.columns].tolist() == [1] * g.columns
