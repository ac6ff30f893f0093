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
        self._cols = np.arange(g.columns)
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
        spp, cols = g.sectors_per_page, g.columns
        n_pages, rem = divmod(len(lpns), spp)
        if rem or n_pages == 0:
            raise ValueError("program: a non-zero whole number of pages is required")
        sb, start = divmod(first_page, g.pages_per_block * cols)
        if first_page < 0 or start + n_pages > g.pages_per_block * cols:
            raise ValueError("program: the run must stay inside one superblock")
        # Column c of the superblock holds its pages at offsets c, c + cols, ...
        # so before the run it has (start - c) / cols of them (rounded up).
        wp = self.write_ptr[sb * cols:(sb + 1) * cols]
        before = (start + cols - 1 - self._cols) // cols
        after = (start + n_pages + cols - 1 - self._cols) // cols
        touched = after > before if n_pages < cols else slice(None)
        if (wp[touched] != before[touched]).any():
            c = int(np.flatnonzero((wp != before) & (after > before))[0])
            p, next_page = int(before[c]), int(wp[c])
            why = "is not erased" if p < next_page else f"skips pages (next is {next_page})"
            raise ProgramOrderError(f"program of block {sb * cols + c} page {p}: page {why}")
        wp[touched] = after[touched]
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
        self._reset(blocks)

    def erase_superblocks(self, superblocks: np.ndarray) -> None:
        """Erase every block of whole superblocks (contiguous sectors: cheap)."""
        size, cols = self.geometry.superblock_sectors, self.geometry.columns
        for sb in np.asarray(superblocks).tolist():
            self.oob_lpn[sb * size:(sb + 1) * size] = -1
            self.oob_seq[sb * size:(sb + 1) * size] = -1
        self._reset((np.asarray(superblocks)[:, None] * cols + self._cols).ravel())

    def _reset(self, blocks: np.ndarray) -> None:
        g = self.geometry
        if self.store_data:
            for b in blocks.tolist():
                for p in range(int(self.write_ptr[b])):
                    self._pages.pop(g.page_id(b, p), None)
        self.write_ptr[blocks] = 0
        self.erase_count[blocks] += 1
        self.erases += len(blocks)
