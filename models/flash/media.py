"""NAND array plus its timing: the operations every back-end kind performs.

Each call does the NAND operation and, when ``now`` is given, books it on
the timing model and returns its completion time; with ``now=None`` it is
untimed (bulk studies) and returns None.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .config import Geometry, NandTiming
from .nand import Nand
from .timing import NandTimingModel


def _later(a: int | None, b: int) -> int:
    return b if a is None else max(a, b)


class FlashMedia:
    def __init__(self, geometry: Geometry, timing: NandTiming, store_data: bool = True) -> None:
        self.geometry = geometry
        self.nand = Nand(geometry, store_data)
        self.timing = NandTimingModel(geometry, timing)

    def read_sectors(self, sectors: Sequence[int], now: int | None) -> tuple[list[bytes], int | None]:
        """Contents of programmed sectors, one NAND read per distinct page.

        Only the wanted sectors cross the channel, as NVMeVirt charges 4 KiB
        reads. Returns the sector contents in order and the completion time.
        """
        g = self.geometry
        spp, ss = g.sectors_per_page, g.sector_size
        wanted: dict[int, int] = {}
        for s in sectors:
            pid = s // spp
            wanted[pid] = wanted.get(pid, 0) + 1
        done = now
        pages = {}
        for pid, n in wanted.items():
            pages[pid] = self.nand.read(pid)
            if now is not None:
                done = _later(done, self.timing.read(g.page_coords(pid)[0], now, n * ss))
        out = [pages[s // spp][s % spp * ss:(s % spp + 1) * ss] for s in sectors]
        return out, done

    def program(self, first_page: int, lpns: np.ndarray, seqs: np.ndarray,
                data: bytes | None, now: int | None) -> int | None:
        """Program consecutive pages of one superblock (see ``Nand.program``)."""
        self.nand.program(first_page, lpns, seqs, data)
        if now is None:
            return None
        g = self.geometry
        n_pages = len(lpns) // g.sectors_per_page
        done = now
        for pid in range(first_page, first_page + n_pages):
            done = max(done, self.timing.program(g.page_coords(pid)[0], now, g.page_size))
        return done

    def erase(self, blocks: np.ndarray, now: int | None) -> int | None:
        self.nand.erase(blocks)
        return self._erase_time(np.asarray(blocks), now)

    def erase_superblocks(self, superblocks: np.ndarray, now: int | None) -> int | None:
        self.nand.erase_superblocks(superblocks)
        if now is None:
            return None
        cols = self.geometry.columns
        return self._erase_time((np.asarray(superblocks)[:, None] * cols + np.arange(cols)).ravel(), now)

    def _erase_time(self, blocks: np.ndarray, now: int | None) -> int | None:
        if now is None:
            return None
        return max([now] + [self.timing.erase(b, now) for b in blocks.tolist()])
