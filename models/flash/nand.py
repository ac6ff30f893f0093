"""NAND array: page data, out-of-band area and the NAND programming rules.

State lives in numpy arrays so that the FTL can program a run of thousands
of sectors with a handful of vector operations:

* ``write_ptr[block]``: next page to program. Pages below it are
  programmed, pages from it on are erased. That one number per block is
  enough to enforce both rules: pages are programmed in order, and a page
  is erased before it is programmed again. Breaking either raises
  :class:`ProgramOrderError`; nothing is silently overwritten.
* ``oob_lpn`` / ``oob_seq`` (one entry per sector): the out-of-band area,
  which holds the logical page each sector belongs to and the sequence
  number of the write. Power-loss recovery rebuilds the mapping from these
  alone. -1 means erased, or padding.
* page data in a dict keyed by page id (sparse: only programmed pages cost
  memory). With ``store_data=False`` the array keeps metadata only, which is
  what write-amplification studies need.
"""

from __future__ import annotations

import numpy as np

from .config import Geometry


class NandError(Exception):
    """A NAND rule was broken (a model user's bug, or a host's under ocssd)."""


class ProgramOrderError(NandError):
    """Program out of order inside a block, or of a page not erased."""


class ErasedPageError(NandError):
    """Read of a page that has not been programmed since its last erase."""


class Nand:
    def __init__(self, geometry: Geometry, store_data: bool = True) -> None:
        g = geometry
        self.geometry = g
        self.store_data = store_data
        self.write_ptr = np.zeros(g.blocks, dtype=np.int64)
        self.erase_count = np.zeros(g.blocks, dtype=np.int64)
        self.oob_lpn = np.full(g.sectors, -1, dtype=np.int64)
        self.oob_seq = np.full(g.sectors, -1, dtype=np.int64)
        self._pages: dict[int, bytes] = {}
        self.programs = 0  # page program operations
        self.erases = 0  # block erase operations

    def program(self, first_page: int, lpns: np.ndarray, seqs: np.ndarray,
                data: bytes | None = None) -> None:
        """Program consecutive page ids ``first_page ...`` inside one superblock.

        ``lpns``/``seqs`` give the OOB of every sector (a whole number of
        pages); ``data`` their contents, when data is stored. Page ids are
        striped across the superblock's blocks, so each block gets its pages
        in order; the first and last page the run gives each block are
        checked against and then set its write pointer.
        """
        g = self.geometry
        spp = g.sectors_per_page
        n_pages, rem = divmod(len(lpns), spp)
        if rem or n_pages == 0:
            raise ValueError("program: a non-zero whole number of pages is required")
        per_superblock = g.pages_per_block * g.columns
        if first_page < 0 or first_page // per_superblock != (first_page + n_pages - 1) // per_superblock \
                or first_page + n_pages > g.pages:
            raise ValueError("program: the run must stay inside one superblock")
        ids = np.arange(first_page, first_page + n_pages)
        row, col = np.divmod(ids, g.columns)
        blk, page = np.divmod(row, g.pages_per_block)
        block = blk * g.columns + col
        head = slice(0, min(n_pages, g.columns))
        expected = self.write_ptr[block[head]]
        if not np.array_equal(expected, page[head]):
            bad = int(np.flatnonzero(expected != page[head])[0])
            b, p, wp = int(block[bad]), int(page[bad]), int(expected[bad])
            why = "is not erased" if p < wp else f"skips pages (next is {wp})"
            raise ProgramOrderError(f"program of block {b} page {p}: page {why}")
        tail = slice(max(0, n_pages - g.columns), n_pages)
        self.write_ptr[block[tail]] = page[tail] + 1
        lo, hi = first_page * spp, (first_page + n_pages) * spp
        self.oob_lpn[lo:hi] = lpns
        self.oob_seq[lo:hi] = seqs
        self.programs += n_pages
        if self.store_data and data is not None:
            if len(data) != n_pages * g.page_size:
                raise ValueError("program: data length does not match the pages")
            ps = g.page_size
            for i in range(n_pages):
                self._pages[first_page + i] = bytes(data[i * ps:(i + 1) * ps])

    def read(self, page_id: int) -> bytes:
        """Contents of a programmed page (zeros when data is not stored)."""
        block, page = self.geometry.page_coords(page_id)
        if page >= self.write_ptr[block]:
            raise ErasedPageError(f"read of erased page {page} in block {block}")
        if not self.store_data:
            return bytes(self.geometry.page_size)
        return self._pages.get(page_id, bytes(self.geometry.page_size))

    def is_programmed(self, page_id: int) -> bool:
        block, page = self.geometry.page_coords(page_id)
        return page < self.write_ptr[block]

    def erase(self, blocks: np.ndarray) -> None:
        """Erase distinct blocks: data and OOB gone, write pointer back to 0."""
        g = self.geometry
        blocks = np.asarray(blocks, dtype=np.int64)
        blk, col = np.divmod(blocks, g.columns)
        shape = (g.blocks_per_plane, g.pages_per_block, g.columns, g.sectors_per_page)
        self.oob_lpn.reshape(shape)[blk, :, col, :] = -1
        self.oob_seq.reshape(shape)[blk, :, col, :] = -1
        if self.store_data:
            for b in blocks.tolist():
                for p in range(int(self.write_ptr[b])):
                    self._pages.pop(g.page_id(b, p), None)
        self.write_ptr[blocks] = 0
        self.erase_count[blocks] += 1
        self.erases += len(blocks)

    def superblock_blocks(self, superblock: int) -> np.ndarray:
        cols = self.geometry.columns
        return np.arange(superblock * cols, (superblock + 1) * cols)
