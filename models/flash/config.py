"""NAND geometry, timing parameters and named presets.

Addressing convention (used by every flash module):

* A *column* is one (channel, LUN, plane). Columns are numbered channel
  first, so consecutive columns sit on different channels:
  ``col = (plane * luns_per_channel + lun) * channels + channel``.
* A *block* id is ``blk * columns + col`` where ``blk`` is the block index
  inside its plane. The ``columns`` blocks that share ``blk`` form a
  superblock (NVMeVirt calls it a line); the FTL allocates, collects and
  erases whole superblocks, and ZNS maps one zone onto one.
* Pages and sectors are numbered superblock-major and striped across
  columns: ``page_id = (blk * pages_per_block + page) * columns + col`` and
  ``sector_id = page_id * sectors_per_page + sector``. So the sectors of a
  superblock are one contiguous range, and filling it in index order writes
  channel 0, 1, 2, ... in turn: sequential writes use every LUN, and the
  FTL's mapping arrays index NAND's out-of-band arrays directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Geometry:
    """Physical layout of the NAND array (see the module docstring)."""

    channels: int = 8
    luns_per_channel: int = 4
    planes: int = 2
    blocks_per_plane: int = 32
    pages_per_block: int = 128
    page_size: int = 16384
    sector_size: int = 4096
    oob_size: int = 1024

    def __post_init__(self) -> None:
        for name in ("channels", "luns_per_channel", "planes", "blocks_per_plane",
                     "pages_per_block", "page_size", "sector_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"geometry: {name} must be >= 1")
        if self.page_size % self.sector_size:
            raise ValueError("geometry: page_size must be a multiple of sector_size")
        # The OOB holds an 8-byte LPN and an 8-byte sequence number per sector.
        if self.oob_size < 16 * self.sectors_per_page:
            raise ValueError("geometry: oob_size too small for 16 bytes per sector")

    @cached_property
    def sectors_per_page(self) -> int:
        return self.page_size // self.sector_size

    @cached_property
    def luns(self) -> int:
        """LUNs (dies) in the device: the units that work in parallel."""
        return self.channels * self.luns_per_channel

    @cached_property
    def columns(self) -> int:
        """Blocks in a superblock: one per (channel, LUN, plane)."""
        return self.luns * self.planes

    @cached_property
    def blocks(self) -> int:
        return self.columns * self.blocks_per_plane

    @cached_property
    def pages(self) -> int:
        return self.blocks * self.pages_per_block

    @cached_property
    def sectors(self) -> int:
        return self.pages * self.sectors_per_page

    @cached_property
    def superblock_sectors(self) -> int:
        return self.columns * self.pages_per_block * self.sectors_per_page

    # -- address arithmetic ------------------------------------------------

    def block_id(self, channel: int, lun: int, plane: int, blk: int) -> int:
        col = (plane * self.luns_per_channel + lun) * self.channels + channel
        return blk * self.columns + col

    def block_coords(self, block: int) -> tuple[int, int, int, int]:
        """(channel, lun, plane, blk) of a block id."""
        blk, col = divmod(block, self.columns)
        rest, channel = divmod(col, self.channels)
        plane, lun = divmod(rest, self.luns_per_channel)
        return channel, lun, plane, blk

    def page_id(self, block: int, page: int) -> int:
        blk, col = divmod(block, self.columns)
        return (blk * self.pages_per_block + page) * self.columns + col

    def page_coords(self, page_id: int) -> tuple[int, int]:
        """(block id, page index in block) of a page id."""
        row, col = divmod(page_id, self.columns)
        blk, page = divmod(row, self.pages_per_block)
        return blk * self.columns + col, page

    def lun_of_block(self, block: int) -> int:
        """Index of the LUN (0..luns-1) that holds a block; channel = lun % channels."""
        return block % self.columns % self.luns

    def channel_of_lun(self, lun: int) -> int:
        return lun % self.channels


@dataclass(frozen=True)
class NandTiming:
    """NAND operation latencies (ns) and channel bandwidth (MB/s = bytes/us)."""

    t_read_ns: int = 50_000
    t_prog_ns: int = 500_000
    t_erase_ns: int = 3_000_000
    channel_mbps: int = 400

    def xfer_ns(self, nbytes: int) -> int:
        return nbytes * 1000 // self.channel_mbps


@dataclass(frozen=True)
class Preset:
    geometry: Geometry
    timing: NandTiming


PRESETS: dict[str, Preset] = {
    # OX / qemu-ox VOLT geometry (4 GiB). VOLT is RAM and has no NAND timing,
    # so the latencies are generic MLC values.
    "ox": Preset(Geometry(), NandTiming()),
    # NVMeVirt's SAMSUNG_970PRO settings (ssd_config.h): 8 ch x 2 LUNs x 1
    # plane, 32 KiB pages, tR 35.76 us, tPROG 185 us, erase 0 (NVMeVirt does
    # not charge erases), 800 MB/s channels. NVMeVirt sizes blocks from the
    # memory it is given; 64 blocks of 256 pages keep this model at 8 GiB.
    "samsung_970pro": Preset(
        Geometry(channels=8, luns_per_channel=2, planes=1, blocks_per_plane=64,
                 pages_per_block=256, page_size=32768, sector_size=4096, oob_size=1024),
        NandTiming(t_read_ns=35_760, t_prog_ns=185_000, t_erase_ns=0, channel_mbps=800),
    ),
}


def preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown flash preset {name!r}; known: {sorted(PRESETS)}") from None
