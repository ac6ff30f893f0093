"""Open-channel back end (the ``ocssd`` kind): the host addresses NAND directly.

As in OX's LightNVM mode, the host sends physical page addresses (PPAs):
bit fields for channel, LUN, plane, block, page and sector packed into a
64-bit address, here also used as the LBA of ordinary reads and writes.
The sector field is the lowest, then the plane, so consecutive LBAs cover
one page across all planes, then the next page: a multi-plane write unit.
OCSSD 2.0 reads the same address as group (channel), parallel unit (LUN),
chunk (block, on every plane) and logical block within the chunk (page,
plane and sector together): ``chunk_geometry`` (models.open_channel).

The device adds no FTL, and keeps each chunk's state as OCSSD 2.0 does
(the device's reading of the spec; models.chunk_model is the reference
model's): Free, Open, Closed or Offline, a write pointer and a wear
count. A write goes in runs of consecutive LBA-list entries of one chunk,
each checked against the chunk as the runs before it leave it: a Closed or
Offline chunk is Write Fault, a run that is not whole write units
(``ws_min``, a page on every plane) Invalid Field, one that does not start
at the write pointer and go on in order Out of Order Write (QEMU's order).
A reset erases a chunk on every plane: an Offline chunk is Offline Chunk,
a Free one Invalid Reset (Geometry MCCAP offers no double reset). Nothing
changes unless every run or chunk passes; a failure names the LBA-list
entries it failed on (``ChunkError.failed``). Reads of blocks never
written since the last reset, and of Offline chunks, return zeros.
"""

from __future__ import annotations

import struct

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from models.backend import Backend, BackendError, host_page_counters
from models.nvme_spec import GenericStatus, MediaStatus, StatusCode
from models.open_channel import (GEOMETRY_MCCAP_OFFSET, MCCAP_VECTOR_COPY, OFFLINE_WP, ChunkDescriptor, ChunkGeometry,
                                 ChunkState)

from .config import Geometry, NandTiming, preset as get_preset
from .media import FlashMedia

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


class ChunkError(BackendError):
    """A vector command's failure, with the indexes of the LBA-list entries it failed on."""

    def __init__(self, code: StatusCode, failed: Sequence[int], message: str = "") -> None:
        super().__init__(code, message)
        self.failed = list(failed)


def runs(located: list[tuple[int, int]]) -> list[tuple[int, list[int]]]:
    """LBA-list entries grouped into runs of consecutive entries of one chunk: (chunk, entry indexes)."""
    out: list[tuple[int, list[int]]] = []
    for i, (chunk, _) in enumerate(located):
        if out and out[-1][0] == chunk:
            out[-1][1].append(i)
        else:
            out.append((chunk, [i]))
    return out


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
        count = g.channels * g.luns_per_channel * g.blocks_per_plane
        self.state = [ChunkState.FREE] * count
        self.wp = [0] * count
        self.wear = [0] * count
        self.clba = g.pages_per_block * g.planes * g.sectors_per_page   # blocks in a chunk
        self.ws_min = g.planes * g.sectors_per_page                      # blocks a write comes in multiples of

    # -- addressing ----------------------------------------------------------

    def block_of(self, ppa: Ppa) -> int:
        return self.geometry.block_id(ppa.channel, ppa.lun, ppa.plane, ppa.block)

    def sector_of(self, ppa: Ppa) -> int:
        g = self.geometry
        return g.page_id(self.block_of(ppa), ppa.page) * g.sectors_per_page + ppa.sector

    def chunk_geometry(self) -> ChunkGeometry:
        """The device as OCSSD 2.0 chunks; its pages, planes and sectors per page must be powers of two, so
        that the logical block within a chunk is a dense field of the address."""
        g, f = self.geometry, self.format
        return ChunkGeometry(groups=g.channels, pus=g.luns_per_channel, chunks=g.blocks_per_plane,
                             clba=self.clba, ws_min=self.ws_min, group_bits=f.lengths["channel"],
                             pu_bits=f.lengths["lun"], chunk_bits=f.lengths["block"],
                             lba_bits=f.lengths["page"] + f.lengths["plane"] + f.lengths["sector"])

    def chunk_of(self, ppa: Ppa) -> int:
        """A chunk's index in the Chunk Information log's order: group, then PU, then chunk."""
        g = self.geometry
        return (ppa.channel * g.luns_per_channel + ppa.lun) * g.blocks_per_plane + ppa.block

    def block_in_chunk(self, ppa: Ppa) -> int:
        g = self.geometry
        return (ppa.page * g.planes + ppa.plane) * g.sectors_per_page + ppa.sector

    def locate(self, ppas: Sequence[int]) -> list[tuple[int, int]]:
        """(chunk, block within it) of each address; addresses naming no NAND fail the command on them all."""
        located, unknown = [], []
        for i, a in enumerate(ppas):
            try:
                ppa = self.format.decode(a)
            except BackendError:
                unknown.append(i)
                continue
            located.append((self.chunk_of(ppa), self.block_in_chunk(ppa)))
        if unknown:
            raise ChunkError(GenericStatus.LBA_OUT_OF_RANGE, unknown, f"{len(unknown)} addresses name no NAND")
        return located

    def descriptor(self, chunk: int) -> ChunkDescriptor:
        g = self.geometry
        rest, block = divmod(chunk, g.blocks_per_plane)
        channel, lun = divmod(rest, g.luns_per_channel)
        slba = self.format.encode(Ppa(channel, lun, 0, block, 0, 0))
        return ChunkDescriptor(self.state[chunk], self.wear[chunk], slba, self.clba, self.wp[chunk])

    def descriptors(self) -> list[ChunkDescriptor]:
        return [self.descriptor(c) for c in range(len(self.state))]

    def fail_chunk(self, ppa: int) -> None:
        """A media failure: the chunk holding ``ppa`` goes Offline; what it held is gone."""
        chunk = self.chunk_of(self.format.decode(ppa))
        self.state[chunk] = ChunkState.OFFLINE
        self.wp[chunk] = OFFLINE_WP

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
            "mccap": MCCAP_VECTOR_COPY,
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
        struct.pack_into("<I", page, GEOMETRY_MCCAP_OFFSET, report["mccap"])
        struct.pack_into("<HHII", page, 64, report["num_grp"], report["num_pu"], report["num_chk"], report["clba"])
        struct.pack_into("<IIIII", page, 128, report["ws_min"], report["ws_opt"], report["mw_cunits"],
                         report["maxoc"], report["maxocpu"])
        struct.pack_into("<IIIIII", page, 192, *(report[k] // 1000 for k in
                                                 ("trdt", "trdm", "twrt", "twrm", "tcrst", "tcrsm")))
        return bytes(page)

    # -- vector commands -------------------------------------------------------

    def vector_read(self, ppas: Sequence[int], now_ns: int) -> tuple[bytes, int]:
        """Read blocks at arbitrary addresses; unwritten ones, and those of Offline chunks, read as zeros."""
        spp = self.geometry.sectors_per_page
        located = self.locate(ppas)
        sectors = [self.sector_of(self.format.decode(a)) for a in ppas]
        stored = [s for s, (chunk, _) in zip(sectors, located)
                  if self.state[chunk] != ChunkState.OFFLINE and self.media.nand.is_programmed(s // spp)]
        nand_data, done = self.media.read_sectors(stored, now_ns)
        found = dict(zip(stored, nand_data))
        zero = bytes(self.page_size)
        self._counts["read"] += len(ppas)
        return b"".join(found.get(s, zero) for s in sectors), done

    def check_write(self, ppas: Sequence[int]) -> None:
        """Raise the ChunkError a write of these addresses fails with; return if it may go ahead."""
        wp: dict[int, int] = {}     # the write pointers as the earlier runs leave them
        located = self.locate(ppas)
        for chunk, entries in runs(located):
            at = wp.get(chunk, self.wp[chunk])
            if self.state[chunk] == ChunkState.OFFLINE or at == self.clba:
                raise ChunkError(MediaStatus.WRITE_FAULT, entries, f"chunk {chunk} is {self.state[chunk].name}")
            if len(entries) % self.ws_min:
                raise ChunkError(GenericStatus.INVALID_FIELD, entries, f"{len(entries)} blocks, not whole "
                                 f"writes of {self.ws_min}")
            if [located[i][1] for i in entries] != list(range(at, at + len(entries))):
                raise ChunkError(MediaStatus.OCSSD_OUT_OF_ORDER_WRITE, entries, f"chunk {chunk} at {at}")
            wp[chunk] = at + len(entries)

    def vector_write(self, ppas: Sequence[int], data: bytes, now_ns: int) -> int:
        """Program the blocks (``check_write``'s rules), a NAND page at a time; returns when the last is done."""
        if self._pages_of(data) != len(ppas):
            raise ValueError("vector_write: one block of data per address")
        self.check_write(ppas)
        spp, ss = self.geometry.sectors_per_page, self.geometry.sector_size
        done = now_ns
        for i in range(0, len(ppas), spp):
            first = self.sector_of(self.format.decode(ppas[i]))
            seqs = np.arange(self._seq, self._seq + spp, dtype=np.int64)
            self._seq += spp
            t = self.media.program(first // spp, np.asarray(ppas[i:i + spp], dtype=np.int64), seqs,
                                   data[i * ss:(i + spp) * ss], now_ns)
            done = max(done, t)
        for chunk, entries in runs(self.locate(ppas)):
            self.wp[chunk] += len(entries)
            self.state[chunk] = ChunkState.CLOSED if self.wp[chunk] == self.clba else ChunkState.OPEN
        self._counts["write"] += len(ppas)
        return done

    def vector_reset(self, ppas: Sequence[int], now_ns: int) -> int:
        """Reset (erase, on every plane) the chunks the addresses name, in list order; returns when done."""
        chunks = [chunk for chunk, _ in self.locate(ppas)]
        for i, chunk in enumerate(chunks):
            if self.state[chunk] == ChunkState.OFFLINE:
                raise ChunkError(MediaStatus.OCSSD_OFFLINE_CHUNK, [i], f"chunk {chunk}")
            if self.state[chunk] == ChunkState.FREE or chunk in chunks[:i]:
                raise ChunkError(MediaStatus.OCSSD_INVALID_RESET, [i], f"chunk {chunk} is free")
        g = self.geometry
        blocks = []
        for chunk in chunks:
            rest, block = divmod(chunk, g.blocks_per_plane)
            channel, lun = divmod(rest, g.luns_per_channel)
            blocks += [g.block_id(channel, lun, plane, block) for plane in range(g.planes)]
            self.state[chunk], self.wp[chunk] = ChunkState.FREE, 0
            self.wear[chunk] += 1
        return self.media.erase(np.array(blocks, dtype=np.int64), now_ns)

    # -- Backend interface: LBA == PPA ----------------------------------------

    def read(self, lpn: int, count: int, now_ns: int) -> tuple[bytes, int]:
        self._check_range(lpn, count)
        return self.vector_read(range(lpn, lpn + count), now_ns)

    def write(self, lpn: int, data: bytes, now_ns: int) -> int:
        """A scalar write keeps the chunk rules, as QEMU's open-channel device's does."""
        n = self._pages_of(data)
        self._check_range(lpn, n)
        return self.vector_write(list(range(lpn, lpn + n)), data, now_ns)

    def trim(self, lpn: int, count: int, now_ns: int) -> int:
        raise BackendError(GenericStatus.INVALID_OPCODE, "deallocate is not supported on ocssd; reset chunks")

    def flush(self, now_ns: int) -> int:
        return max(now_ns, self.media.timing.idle_since())

    def smart(self) -> dict[str, float]:
        return {
            **host_page_counters(self._counts["read"], self._counts["write"], self.page_size),
            "block_erases": self.media.nand.erases,
        }
