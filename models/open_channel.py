"""Open-Channel SSD 2.0 (LightNVM, qemu-ox): what host, firmware and reference model share.

The vector commands' opcodes and fields, the chunk states and the chunk
descriptor, the Chunk Information log (CAh), the LBA format that names a
chunk, and the completion's per-LBA result bits. As with zones, a layout is
written here once and the chunk state machine twice on purpose: in the back
end (models.flash.ocssd) and in the reference model (models.chunk_model).

The 2.0 LBA is a physical address: from the least significant bit, the
logical block within the chunk, the chunk, the parallel unit (PU) and the
group. A vector command names up to 64 LBAs: the LBA itself in CDW10-11
when it names one, else a pointer there to a list of 64-bit LBAs (the LBA
list, dword aligned, in host memory the controller reads with a host-buffer
DMA request). Vector Chunk Copy names its destination the same way in
CDW14-15. NLB, CDW12 [15:0], is zero-based. The completion's DW0-DW1 is a
bit per LBA of the list: set for the LBAs the command failed on.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from models.nvme_spec import SubmissionEntry
from models.prp import DataPointerError


class OcOpcode(IntEnum):
    """The vector I/O commands (OCSSD 2.0 figure 24), vendor-specific NVM opcodes."""

    VECTOR_RESET = 0x90
    VECTOR_WRITE = 0x91
    VECTOR_READ = 0x92
    VECTOR_COPY = 0x93


MAX_VECTOR_LBAS = 64
LBA_ENTRY_SIZE = 8
LOG_CHUNK_INFO = 0xCA       # Chunk Information, per namespace, through Get Log Page
MCCAP_VECTOR_COPY = 1 << 0  # Media and Controller Capabilities (Geometry byte 16): Vector Chunk Copy offered
GEOMETRY_MCCAP_OFFSET = 16


class ChunkState(IntFlag):
    """Chunk State (CS) of a chunk descriptor."""

    FREE = 1 << 0
    CLOSED = 1 << 1
    OPEN = 1 << 2
    OFFLINE = 1 << 3


CHUNK_TYPE_SEQUENTIAL = 1 << 0     # Chunk Type: sequential write required, the only type here
OFFLINE_WP = (1 << 64) - 1         # an offline chunk's write pointer, as QEMU's open-channel device reports it
CHUNK_DESCRIPTOR_SIZE = 32


@dataclass(frozen=True)
class ChunkDescriptor:
    """One chunk as the Chunk Information log describes it (OCSSD 2.0 figure 16)."""

    state: ChunkState
    wear: int
    slba: int
    cnlb: int
    wp: int

    _FORMAT = struct.Struct("<BBB5xQQQ")

    def pack(self) -> bytes:
        return self._FORMAT.pack(self.state, CHUNK_TYPE_SEQUENTIAL, min(self.wear, 0xFF), self.slba, self.cnlb,
                                 self.wp)

    @classmethod
    def unpack(cls, raw: bytes) -> ChunkDescriptor:
        state, _, wear, slba, cnlb, wp = cls._FORMAT.unpack(raw[:CHUNK_DESCRIPTOR_SIZE])
        return cls(ChunkState(state), wear, slba, cnlb, wp)


def chunk_log(descriptors: list[ChunkDescriptor]) -> bytes:
    """The Chunk Information log: every chunk, by group, then PU, then chunk."""
    return b"".join(d.pack() for d in descriptors)


def parse_chunk_log(raw: bytes) -> list[ChunkDescriptor]:
    return [ChunkDescriptor.unpack(raw[i:i + CHUNK_DESCRIPTOR_SIZE])
            for i in range(0, len(raw) - CHUNK_DESCRIPTOR_SIZE + 1, CHUNK_DESCRIPTOR_SIZE)]


@dataclass(frozen=True)
class ChunkGeometry:
    """An open-channel namespace's chunks, and the LBA format that names them (Geometry bytes 8-11).

    ``lba_bits`` hold the logical block within the chunk: ``clba`` blocks, a power of two here, so every
    value of the field names one. ``ws_min``: the blocks a write of a chunk must come in multiples of.
    """

    groups: int
    pus: int
    chunks: int
    clba: int
    ws_min: int
    group_bits: int
    pu_bits: int
    chunk_bits: int
    lba_bits: int

    def __post_init__(self) -> None:
        if self.clba != 1 << self.lba_bits or self.clba % self.ws_min:
            raise ValueError(f"chunks of {self.clba} blocks: need 2^{self.lba_bits}, in whole writes of "
                             f"{self.ws_min}")
        for count, bits in ((self.groups, self.group_bits), (self.pus, self.pu_bits), (self.chunks, self.chunk_bits)):
            if not 0 < count <= 1 << bits:
                raise ValueError(f"{count} does not fit {bits} bits of the LBA format")

    @property
    def count(self) -> int:
        return self.groups * self.pus * self.chunks

    @property
    def address_bits(self) -> int:
        return self.group_bits + self.pu_bits + self.chunk_bits + self.lba_bits

    def locate(self, lba: int) -> tuple[int, int] | None:
        """(chunk index in log order, block within the chunk) of an LBA; None when it names no chunk."""
        if not 0 <= lba < 1 << self.address_bits:
            return None
        block = lba & (self.clba - 1)
        chunk = lba >> self.lba_bits & ((1 << self.chunk_bits) - 1)
        pu = lba >> (self.lba_bits + self.chunk_bits) & ((1 << self.pu_bits) - 1)
        group = lba >> (self.lba_bits + self.chunk_bits + self.pu_bits)
        if group >= self.groups or pu >= self.pus or chunk >= self.chunks:
            return None
        return (group * self.pus + pu) * self.chunks + chunk, block

    def slba(self, index: int) -> int:
        """The LBA of a chunk's first block."""
        rest, chunk = divmod(index, self.chunks)
        group, pu = divmod(rest, self.pus)
        return ((group << self.pu_bits | pu) << self.chunk_bits | chunk) << self.lba_bits


# command fields

@dataclass(frozen=True)
class VectorFields:
    """A vector command: the LBA or LBA list pointer (CDW10-11), how many LBAs (NLB, CDW12 [15:0], zero-based),
    Vector Chunk Copy's destination LBA or list pointer (CDW14-15), the metadata pointer (Vector Chunk Reset
    returns the reset chunks' descriptors there when it is not 0)."""

    lbal: int
    count: int
    dlbal: int
    mptr: int

    @classmethod
    def decode(cls, sqe: SubmissionEntry) -> VectorFields:
        return cls(sqe.cdw10 | sqe.cdw11 << 32, (sqe.cdw12 & 0xFFFF) + 1, sqe.cdw14 | sqe.cdw15 << 32, sqe.mptr)

    @property
    def listed(self) -> bool:
        """The LBAs are in a list in host memory (more than one)."""
        return self.count > 1


@dataclass(frozen=True)
class VectorLists:
    """What a vector command's LBA lists hold when it is submitted: its LBAs and a copy's destination LBAs,
    or ``error``, the DMA status reading them fails with; ``mptr_error``: the one writing a reset's chunk
    descriptors to the metadata pointer would fail with."""

    lbas: list[int]
    dest: list[int]
    error: DataPointerError | None = None
    mptr_error: DataPointerError | None = None


def parse_lba_list(raw: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(raw) // LBA_ENTRY_SIZE}Q", raw))


def failed_lbas(indexes: list[int] | range) -> tuple[int, int]:
    """The completion's DW0 and DW1: a bit for each index of the LBA list the command failed on."""
    bits = sum(1 << i for i in set(indexes))
    return bits & 0xFFFF_FFFF, bits >> 32


# SQE builders for the host

def vector_cmd(opcode: OcOpcode, nsid: int, lbal: int, count: int, prp1: int = 0, prp2: int = 0,
               dlbal: int = 0, mptr: int = 0) -> SubmissionEntry:
    """A vector command naming ``count`` LBAs: ``lbal`` is the LBA when there is one, else the list's address
    (and ``dlbal`` likewise for a copy's destination)."""
    return SubmissionEntry(opcode, nsid=nsid, mptr=mptr, prp1=prp1, prp2=prp2, cdw10=lbal & 0xFFFF_FFFF,
                           cdw11=lbal >> 32, cdw12=count - 1, cdw14=dlbal & 0xFFFF_FFFF, cdw15=dlbal >> 32)
