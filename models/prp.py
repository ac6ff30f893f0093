"""Data pointers of an NVMe command: PRP walking and SGL parsing (NVMe 1.4 sections 4.3 and 4.4).

The reference for the RTL walker (rtl/nvme_dma_walker.v): the test bench's
reference (tb/reference.py) and the unit-test fakes walk every command's
pointer with it. Both entry points answer one question: which host memory
segments hold bytes ``[offset, offset + length)`` of a command's data, whose
total length is ``cmd_len``? The whole length matters even for a slice,
because it decides what PRP2 is (unused, a second page, or a PRP list
pointer).

Host memory is only read, through a callable, so the same walker serves the
fake host memory of the unit tests and the simulation's host memory. Errors
the host can cause raise :class:`DataPointerError` carrying the generic
status the command completes with; misuse of the API (a range outside the
command's data) raises ``ValueError``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from models.nvme_spec import GenericStatus

PRP_ENTRY_SIZE = 8
SGL_DESCRIPTOR_SIZE = 16

ReadQword = Callable[[int], int]          # host address -> little-endian 64-bit value there
ReadBytes = Callable[[int, int], bytes]   # (host address, length) -> bytes


class Segment(NamedTuple):
    """``length`` bytes of host memory at ``addr``, one contiguous piece of a transfer."""

    addr: int
    length: int


class DataPointerError(Exception):
    """The command's PRPs or SGLs are invalid; ``code`` is the status the command fails with."""

    def __init__(self, code: GenericStatus, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code


def page_size_from_mps(mps: int) -> int:
    """Memory page size selected by CC.MPS: 2 ^ (12 + MPS)."""
    return 4096 << mps


def _check_range(offset: int, length: int, cmd_len: int) -> None:
    if offset < 0 or length < 0 or offset + length > cmd_len:
        raise ValueError(f"bytes [{offset}, {offset + length}) are not inside the command's {cmd_len} bytes")


# PRPs

def prp_segments(prp1: int, prp2: int, cmd_len: int, page_size: int, read_qword: ReadQword,
                 offset: int = 0, length: int | None = None) -> list[Segment]:
    """Host segments of bytes ``[offset, offset + length)`` (default: all) of a PRP-described transfer.

    One segment per memory page touched, in data order. Only the list entries
    the range needs are read, plus the chain pointers on the way to them, as
    a hardware walker fetching entries on demand would. ``page_size`` is any
    power of two from 16 (small pages let tests chain lists cheaply); NVMe's
    is ``page_size_from_mps(CC.MPS)``.
    """
    if page_size < 2 * PRP_ENTRY_SIZE or page_size & (page_size - 1):
        raise ValueError(f"memory page size {page_size} is not a power of two of at least 16")
    length = cmd_len - offset if length is None else length
    _check_range(offset, length, cmd_len)
    if cmd_len == 0:
        return []
    if prp1 & 3:
        raise DataPointerError(GenericStatus.PRP_OFFSET_INVALID, f"PRP1 {prp1:#x} is not dword aligned")
    first_len = page_size - prp1 % page_size
    pages = 1 + -(-max(0, cmd_len - first_len) // page_size)
    if length == 0:
        return []

    def page_of(pos: int) -> int:
        return 0 if pos < first_len else 1 + (pos - first_len) // page_size

    first, last = page_of(offset), page_of(offset + length - 1)
    segments = []
    for index, addr in zip(range(first, last + 1), _page_addresses(prp1, prp2, pages, page_size, read_qword, first)):
        start = 0 if index == 0 else first_len + (index - 1) * page_size   # command byte at the page's addr
        end = first_len if index == 0 else start + page_size
        lo, hi = max(start, offset), min(end, offset + length)
        segments.append(Segment(addr + lo - start, hi - lo))
    return segments


def _page_addresses(prp1: int, prp2: int, pages: int, page_size: int, read_qword: ReadQword,
                    first: int) -> Iterator[int]:
    """Addresses of data pages ``first`` .. ``pages - 1``: PRP1, then PRP2 or the PRP list's entries."""
    if first == 0:
        yield prp1
    if pages == 2:
        yield _data_entry(prp2, page_size, "PRP2")
    elif pages > 2:
        yield from _list_entries(prp2, pages - 1, page_size, read_qword, max(0, first - 1))


def _data_entry(addr: int, page_size: int, what: str) -> int:
    """Every data entry after PRP1 starts a memory page (4.3: only the first may carry an offset)."""
    if addr % page_size:
        raise DataPointerError(GenericStatus.PRP_OFFSET_INVALID, f"{what} {addr:#x} has a page offset")
    return addr


def _list_entries(pointer: int, count: int, page_size: int, read_qword: ReadQword, skip: int) -> Iterator[int]:
    """Data entries ``skip`` .. ``count - 1`` of a PRP list starting at ``pointer``.

    A list runs to the end of the memory page it starts in (so a pointer with
    an offset leaves fewer slots); when more entries remain than slots, the
    page's last slot points to the next list page, which may itself have an
    offset. List pointers must be qword aligned.
    """
    done = 0   # data entries passed so far
    while done < count:
        if pointer % PRP_ENTRY_SIZE:
            raise DataPointerError(GenericStatus.PRP_OFFSET_INVALID, f"PRP list pointer {pointer:#x} "
                                   "is not qword aligned")
        slots = (page_size - pointer % page_size) // PRP_ENTRY_SIZE
        chained = count - done > slots
        if chained and slots == 1:   # a page holding only a pointer onward would let a list loop forever
            raise DataPointerError(GenericStatus.PRP_OFFSET_INVALID, f"PRP list pointer {pointer:#x} "
                                   "leaves no room for an entry before its chain pointer")
        in_page = slots - 1 if chained else count - done
        for k in range(max(0, skip - done), in_page):
            yield _data_entry(read_qword(pointer + PRP_ENTRY_SIZE * k), page_size, f"PRP entry {done + k + 1}")
        done += in_page
        if chained:
            pointer = read_qword(pointer + PRP_ENTRY_SIZE * (slots - 1))


# SGLs

class SglType(IntEnum):
    """SGL descriptor type, the high nibble of the SGL identifier (figure 116)."""

    DATA_BLOCK = 0x0
    BIT_BUCKET = 0x1
    SEGMENT = 0x2
    LAST_SEGMENT = 0x3
    KEYED_DATA_BLOCK = 0x4
    TRANSPORT_DATA_BLOCK = 0x5


SGL_SUBTYPE_ADDRESS = 0x0
_SUPPORTED = frozenset({SglType.DATA_BLOCK, SglType.SEGMENT, SglType.LAST_SEGMENT})
_DESCRIPTOR = struct.Struct("<QI3xB")


@dataclass(frozen=True)
class SglDescriptor:
    """A 16-byte SGL descriptor: address, length, SGL identifier (type [7:4], subtype [3:0])."""

    addr: int
    length: int
    type: SglType
    subtype: int = SGL_SUBTYPE_ADDRESS

    @classmethod
    def unpack(cls, raw: bytes) -> SglDescriptor:
        """Decode a descriptor we act on; any other type or subtype is SGL Descriptor Type Invalid."""
        addr, length, ident = _DESCRIPTOR.unpack(raw)
        kind, subtype = ident >> 4, ident & 0xF
        if kind not in _SUPPORTED or subtype != SGL_SUBTYPE_ADDRESS:
            raise DataPointerError(GenericStatus.SGL_DESCRIPTOR_TYPE_INVALID,
                                   f"SGL identifier {ident:#04x} (type {kind}, subtype {subtype})")
        return cls(addr, length, SglType(kind), subtype)

    def pack(self) -> bytes:
        return _DESCRIPTOR.pack(self.addr, self.length, self.type << 4 | self.subtype)


def host_buffer_segments(addr: int, cmd_len: int, read_bytes: ReadBytes, offset: int = 0,
                         length: int | None = None) -> list[Segment]:
    """Host segments of bytes ``[offset, offset + length)`` of the contiguous ``cmd_len``-byte buffer at
    ``addr``: a list a command's dwords point at. The DMA engine walks it as one Data Block descriptor."""
    return sgl_segments(SglDescriptor(addr, cmd_len, SglType.DATA_BLOCK).pack(), cmd_len, read_bytes, offset, length)


def sgl1_of(prp1: int, prp2: int) -> bytes:
    """SGL Entry 1 of an SQE with PSDT 01b/10b: the 16 bytes of DW6-9, where the PRP fields sit."""
    return struct.pack("<QQ", prp1, prp2)


MAX_SGL_SEGMENTS = 1024   # segments one walk may visit before it is taken for a loop


@dataclass
class _SglSegment:
    addr: int    # next descriptor to read
    left: int    # descriptors not yet taken
    last: bool   # a Last Segment: data blocks only


def sgl_segments(sgl1: bytes, cmd_len: int, read_bytes: ReadBytes, offset: int = 0,
                 length: int | None = None) -> list[Segment]:
    """Host segments of bytes ``[offset, offset + length)`` of an SGL-described transfer.

    The walk of the RTL walker (rtl/nvme_dma_walker.v), descriptor by
    descriptor, reading segments on demand and stopping once the range is
    covered. SGL1 is a Data Block or points to a (Last) Segment; only a
    Segment's last descriptor may point on. Data blocks need dword alignment
    and granularity (Identify SGLS = 10b): a bad length is Data SGL Length
    Invalid, a bad address Invalid Field. Segments must be 16-byte aligned
    multiples of 16 bytes. An SGL that ends before the range does is Data
    SGL Length Invalid, and so is one that goes on past the command's last
    byte within the block or segment being read (SGLS bit 19 clear: no
    longer SGLs); descriptors in later segments are never read.
    """
    length = cmd_len - offset if length is None else length
    _check_range(offset, length, cmd_len)
    if length == 0:
        return []
    pieces: list[Segment] = []
    pos, end, spos = offset, offset + length, 0
    descriptor = SglDescriptor.unpack(sgl1)
    segment: _SglSegment | None = None
    from_segment = False
    visited = 0
    while True:
        if descriptor.type == SglType.DATA_BLOCK:
            if descriptor.length % 4:
                raise DataPointerError(GenericStatus.DATA_SGL_LENGTH_INVALID,
                                       f"data block of {descriptor.length} bytes is not whole dwords")
            if descriptor.addr % 4:
                raise DataPointerError(GenericStatus.INVALID_FIELD,
                                       f"data block at {descriptor.addr:#x} is not dword aligned")
            if spos + descriptor.length > pos:
                skip = pos - spos
                take = min(descriptor.length - skip, end - pos)
                pieces.append(Segment(descriptor.addr + skip, take))
                pos += take
                if pos == end:
                    if end == cmd_len and (descriptor.length - skip - take or (segment and segment.left)):
                        raise DataPointerError(GenericStatus.DATA_SGL_LENGTH_INVALID,
                                               f"the SGL goes on past the command's {cmd_len} bytes")
                    return pieces
            spos += descriptor.length
        else:
            if from_segment and (segment.left or segment.last) \
                    or descriptor.length == 0 or descriptor.length % SGL_DESCRIPTOR_SIZE \
                    or descriptor.addr % SGL_DESCRIPTOR_SIZE or visited == MAX_SGL_SEGMENTS:
                raise DataPointerError(GenericStatus.INVALID_SGL_SEGMENT_DESCRIPTOR,
                                       f"{descriptor.type.name} of {descriptor.length} bytes at {descriptor.addr:#x}")
            visited += 1
            segment = _SglSegment(descriptor.addr, descriptor.length // SGL_DESCRIPTOR_SIZE,
                                  descriptor.type == SglType.LAST_SEGMENT)
        if segment is None or not segment.left:
            raise DataPointerError(GenericStatus.DATA_SGL_LENGTH_INVALID,
                                   f"the SGL ends at byte {spos}, before byte {end} of the range")
        descriptor = SglDescriptor.unpack(read_bytes(segment.addr, SGL_DESCRIPTOR_SIZE))
        segment.addr += SGL_DESCRIPTOR_SIZE
        segment.left -= 1
        from_segment = True
