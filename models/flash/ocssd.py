"""Open-channel back end (the ``ocssd`` kind): the host addresses NAND directly.

As in OX's LightNVM mode, the host sends physical page addresses (PPAs):
bit fields for channel, LUN, plane, block, page and sector packed into a
64-bit address, here also used as the LBA of ordinary reads and writes
(OCSSD 2.0 does the same with its group/PU/chunk/sector LBA format). The
sector field is the lowest, then the plane, so consecutive LBAs cover one
page across all planes, then the next page: a multi-plane write unit.

The device adds no FTL: programs must cover whole NAND pages, go in order
within a block, and target erased pages; the NAND model's rule errors come
back as the OCSSD "Out of Order Write" status. Reads of unwritten sectors
return zeros. Erase takes block addresses (vector chunk reset).
"""

from __future__ import annotations

import struct

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from models.backend import Backend, BackendError, host_page_counters
from models.nvme_spec import GenericStatus, MediaStatus

from .config import Geometry, NandTiming, preset as get_preset
from .media import FlashMedia
from .nand import ProgramOrderError

FIELDS = ("sector", "plane", "page", "block", "lun", "channel")  # least significant first


@dataclass(frozen=True)
class Ppa:
    channel: int
    lun: int
    plane: int
    block: int
    page: int
    sector: int


class PpaFormat:
    """Bit layout of a PPA: each field as wide as its dimension needs."""

    def __init__(self, geometry: Geometry) -> None:
        g = geometry
        self.limits = {"sector": g.sectors_per_page, "plane": g.planes, "page": g.pages_per_block,
                       "block": g.blocks_per_plane, "lun": g.luns_per_channel, "channel": g.channels}
        self.offsets: dict[str, int] = {}
        self.lengths: dict[str, int] = {}
        bit = 0
        for f in FIELDS:
            self.offsets[f] = bit
            self.lengths[f] = (self.limits[f] - 1).bit_length()
            bit += self.lengths[f]
        self.bits = bit

    def encode(self, ppa: Ppa) -> int:
        addr = 0
        for f in FIELDS:
            v = getattr(ppa, f)
            if not 0 <= v < self.limits[f]:
                raise ValueError(f"PPA {f}={v} outside 0..{self.limits[f] - 1}")
            addr |= v << self.offsets[f]
        return addr

    def decode(self, addr: int) -> Ppa:
        """Fields of an address; an address naming no NAND raises LBA Out of Range."""
        if not 0 <= addr < 1 << self.bits:
            raise BackendError(GenericStatus.LBA_OUT_OF_RANGE, f"PPA {addr:#x}")
        vals = {f: (addr >> self.offsets[f]) & ((1 << self.lengths[f]) - 1) for f in FIELDS}
        for f, v in vals.items():
            if v >= self.limits[f]:
                raise BackendError(GenericStatus.LBA_OUT_OF_RANGE, f"PPA {addr:#x}: {f}={v}")
        return Ppa(**vals)


class OcssdBackend(Backend):
    def __init__(self, preset: str = "ox", geometry: Geometry | None = None,
                 timing: NandTiming | None = None, store_data: bool = True) -> None:
        chosen = get_preset(preset)
        g = geometry or chosen.geometry
        self.geometry = g
        self.timing = timing or chosen.timing
        self.media = FlashMedia(g, self.timing, store_data)
        self.format = PpaFormat(g)
        self.page_size = g.sector_size
        self.capacity_pages = 1 << self.format.bits
        self._seq = 0
        self._counts = dict.fromkeys(("read", "write"), 0)

    # -- addressing ----------------------------------------------------------

    def block_of(self, ppa: Ppa) -> int:
        return self.geometry.block_id(ppa.channel, ppa.lun, ppa.plane, ppa.block)

    def sector_of(self, ppa: Ppa) -> int:
        g = self.geometry
        return g.page_id(self.block_of(ppa), ppa.page) * g.sectors_per_page + ppa.sector

    def geometry_report(self) -> dict[str, object]:
        """The device geometry, in OCSSD 2.0 Geometry terms plus the PPA format.

        A chunk is one block across all planes of a LUN (2.0 has no planes),
        so ws_min is one page on every plane. Times are in ns.
        """
        g, t = self.geometry, self.timing
        ws_min = g.sectors_per_page * g.planes
        return {
            "mjr": 2, "mnr": 0,
            "num_grp": g.channels, "num_pu": g.luns_per_channel,
            "num_chk": g.blocks_per_plane, "clba": g.pages_per_block * ws_min,
            "ws_min": ws_min, "ws_opt": ws_min, "mw_cunits": 0, "maxoc": 0, "maxocpu": 0,
            "trdt": t.t_read_ns, "trdm": t.t_read_ns, "twrt": t.t_prog_ns, "twrm": t.t_prog_ns,
            "tcrst": t.t_erase_ns, "tcrsm": t.t_erase_ns,
            "sector_size": g.sector_size, "oob_size": g.oob_size,
            "ppa_format": {f: (self.format.offsets[f], self.format.lengths[f]) for f in FIELDS},
        }

    def geometry_page(self) -> bytes:
        """The 4 KiB OCSSD 2.0 Geometry data structure (Open-Channel SSD 2.0, figure 9).

        The PPA format maps onto 2.0's group / parallel unit / chunk / logical
        block address: channel, LUN, block, and (plane, page, sector) together.
        """
        report = self.geometry_report()
        fmt = report["ppa_format"]
        lba_bits = fmt["sector"][1] + fmt["plane"][1] + fmt["page"][1]
        page = bytearray(4096)
        page[0], page[1] = report["mjr"], report["mnr"]
        page[8:12] = bytes((fmt["channel"][1], fmt["lun"][1], fmt["block"][1], lba_bits))
        struct.pack_into("<HHII", page, 64, report["num_grp"], report["num_pu"], report["num_chk"], report["clba"])
        struct.pack_into("<IIIII", page, 128, report["ws_min"], report["ws_opt"], report["mw_cunits"],
                         report["maxoc"], report["maxocpu"])
        struct.pack_into("<IIIIII", page, 192, *(report[k] // 1000 for k in
                                                 ("trdt", "trdm", "twrt", "twrm", "tcrst", "tcrsm")))
        return bytes(page)

    # -- vector commands -------------------------------------------------------

    def vector_read(self, ppas: Sequence[int], now_ns: int) -> tuple[bytes, int]:
        """Read sectors at arbitrary PPAs; unwritten ones read as zeros."""
        spp = self.geometry.sectors_per_page
        sectors = [self.sector_of(self.format.decode(a)) for a in ppas]
        stored = [s for s in sectors if self.media.nand.is_programmed(s // spp)]
        nand_data, done = self.media.read_sectors(stored, now_ns)
        found = dict(zip(stored, nand_data))
        zero = bytes(self.page_size)
        self._counts["read"] += len(ppas)
        return b"".join(found.get(s, zero) for s in sectors), done

    def vector_write(self, ppas: Sequence[int], data: bytes, now_ns: int) -> int:
        """Program whole pages; each page's sectors in order in the vector."""
        if self._pages_of(data) != len(ppas):
            raise ValueError("vector_write: one page of data per PPA")
        g = self.geometry
        spp, ss = g.sectors_per_page, g.sector_size
        if len(ppas) % spp:
            raise BackendError(GenericStatus.INVALID_FIELD, "writes must cover whole NAND pages")
        done = now_ns
        for i in range(0, len(ppas), spp):
            sectors = [self.sector_of(self.format.decode(a)) for a in ppas[i:i + spp]]
            first = sectors[0]
            if first % spp or sectors != list(range(first, first + spp)):
                raise BackendError(GenericStatus.INVALID_FIELD, "writes must cover whole NAND pages")
            seqs = np.arange(self._seq, self._seq + spp, dtype=np.int64)
            self._seq += spp
            try:
                t = self.media.program(first // spp, np.asarray(ppas[i:i + spp], dtype=np.int64),
                                       seqs, data[i * ss:(i + spp) * ss], now_ns)
            except ProgramOrderError as e:
                raise BackendError(MediaStatus.OCSSD_OUT_OF_ORDER_WRITE, str(e)) from e
            done = max(done, t)
        self._counts["write"] += len(ppas)
        return done

    def vector_erase(self, ppas: Sequence[int], now_ns: int) -> int:
        """Erase the blocks the PPAs name (their page and sector fields are ignored)."""
        blocks = sorted({self.block_of(self.format.decode(a)) for a in ppas})
        return self.media.erase(np.array(blocks, dtype=np.int64), now_ns)

    # -- Backend interface: LBA == PPA ----------------------------------------

    def read(self, lpn: int, count: int, now_ns: int) -> tuple[bytes, int]:
        self._check_range(lpn, count)
        return self.vector_read(range(lpn, lpn + count), now_ns)

    def write(self, lpn: int, data: bytes, now_ns: int) -> int:
        n = self._pages_of(data)
        self._check_range(lpn, n)
        return self.vector_write(list(range(lpn, lpn + n)), data, now_ns)

    def trim(self, lpn: int, count: int, now_ns: int) -> int:
        raise BackendError(GenericStatus.INVALID_OPCODE, "deallocate is not supported on ocssd; erase blocks")

    def flush(self, now_ns: int) -> int:
        return max(now_ns, self.media.timing.idle_since())

    def smart(self) -> dict[str, float]:
        return {
            **host_page_counters(self._counts["read"], self._counts["write"], self.page_size),
            "block_erases": self.media.nand.erases,
        }
