"""PRP walking and SGL parsing against layouts a host builds and a byte-by-byte reference.

``HostMemory`` and ``PrpLayout`` are the host side: sparse memory and a
PRP builder written the way a driver fills lists (independently of the
walker). The reference maps every byte of the command to its host address;
the walker's segments must expand to exactly those bytes, one per page.
"""

from __future__ import annotations

import random
import struct

import pytest

from models.nvme_spec import GenericStatus
from tests.unit.prp_host import HostMemory, PageAllocator, PrpLayout, build_prps
from models.prp import (DataPointerError, Segment, SglDescriptor, SglType, host_buffer_segments, page_size_from_mps,
                        prp_segments, sgl1_of, sgl_segments)

SEED = 20240605


def expand(segments: list[Segment]) -> list[int]:
    return [a for addr, length in segments for a in range(addr, addr + length)]


def walk(mem: HostMemory, layout: PrpLayout, cmd_len: int, ps: int, offset: int = 0,
         length: int | None = None) -> list[Segment]:
    return prp_segments(layout.prp1, layout.prp2, cmd_len, ps, mem.read_qword, offset, length)


@pytest.fixture
def mem() -> HostMemory:
    return HostMemory()


def alloc_for(ps: int, seed: int = SEED) -> PageAllocator:
    return PageAllocator(random.Random(seed), ps)


# PRPs: the forms of section 4.3

def test_page_size_follows_cc_mps() -> None:
    assert [page_size_from_mps(m) for m in (0, 1, 4)] == [4096, 8192, 65536]


@pytest.mark.parametrize("cmd_len, offset, pages", [
    (512, 0, 1), (4096, 0, 1), (512, 4000, 2), (8192, 0, 2), (8192, 4, 3), (4096 * 3, 0, 3)])
def test_prp2_is_unused_a_page_or_a_list_by_transfer_size(mem: HostMemory, cmd_len: int, offset: int,
                                                          pages: int) -> None:
    layout = build_prps(mem, alloc_for(4096), cmd_len, offset)
    segments = walk(mem, layout, cmd_len, 4096)
    assert len(segments) == pages
    assert expand(segments) == layout.byte_addrs
    assert bool(mem.qword_reads) == (pages > 2)


def test_prp2_ignored_when_prp1_covers_the_transfer(mem: HostMemory) -> None:
    assert prp_segments(0x1000, 0x1234567, 4096, 4096, mem.read_qword) == [Segment(0x1000, 4096)]


def test_chained_list_pointer_with_offsets(mem: HostMemory) -> None:
    ps = 64   # 8 entries a list page: 40 pages need chaining
    layout = build_prps(mem, alloc_for(ps), 40 * ps - 12, first_offset=12, list_offset=24, chain_offset=16)
    assert expand(walk(mem, layout, 40 * ps - 12, ps)) == layout.byte_addrs


def test_a_slice_reads_only_the_entries_it_needs(mem: HostMemory) -> None:
    ps = 64
    cmd_len = 30 * ps
    layout = build_prps(mem, alloc_for(ps), cmd_len, first_offset=0)
    mem.qword_reads.clear()
    segments = walk(mem, layout, cmd_len, ps, offset=cmd_len - ps, length=ps)
    assert expand(segments) == layout.byte_addrs[-ps:]
    # 29 list entries: three pages of 7 and a pointer onward, then 8 filling the last page;
    # the slice reads the three pointers and the one entry it needs
    assert len(mem.qword_reads) == 4


def test_random_transfers_match_the_byte_reference() -> None:
    rng = random.Random(SEED)
    for trial in range(300):
        ps = rng.choice([16, 32, 64, 4096])
        mem = HostMemory()
        max_len = 60 * ps if ps < 4096 else 5 * ps
        cmd_len = rng.randint(1, max_len)
        layout = build_prps(mem, PageAllocator(rng, ps), cmd_len, first_offset=4 * rng.randrange(ps // 4),
                            list_offset=8 * rng.randrange(ps // 8 - 1), chain_offset=8 * rng.randrange(ps // 8 - 1))
        offset = rng.randrange(cmd_len)
        length = rng.randint(0, cmd_len - offset)
        segments = walk(mem, layout, cmd_len, ps, offset, length)
        assert expand(segments) == layout.byte_addrs[offset:offset + length], f"trial {trial}"
        # one segment per data page touched
        assert len(segments) == len(set(layout.byte_pages[offset:offset + length])), f"trial {trial}"


# PRP errors

def fails(code: GenericStatus, fn, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataPointerError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code


def test_prp1_must_be_dword_aligned(mem: HostMemory) -> None:
    fails(GenericStatus.PRP_OFFSET_INVALID, prp_segments, 0x1002, 0, 16, 4096, mem.read_qword)


def test_second_page_entry_with_an_offset(mem: HostMemory) -> None:
    fails(GenericStatus.PRP_OFFSET_INVALID, prp_segments, 0x1000, 0x2200, 8192, 4096, mem.read_qword)


def test_list_entry_with_an_offset(mem: HostMemory) -> None:
    mem.write(0x8000, struct.pack("<2Q", 0x3000, 0x4010))
    fails(GenericStatus.PRP_OFFSET_INVALID, prp_segments, 0x1000, 0x8000, 3 * 4096, 4096, mem.read_qword)
    # the bad entry is not needed for the first two pages
    assert expand(prp_segments(0x1000, 0x8000, 3 * 4096, 4096, mem.read_qword, 0, 8192))[-1] == 0x3FFF


def test_list_pointer_must_be_qword_aligned(mem: HostMemory) -> None:
    fails(GenericStatus.PRP_OFFSET_INVALID, prp_segments, 0x1000, 0x8004, 3 * 4096, 4096, mem.read_qword)


def test_list_page_with_room_for_only_a_pointer(mem: HostMemory) -> None:
    ps = 64
    mem.write(0x1000 - 8, struct.pack("<Q", 0x1000 - 8))   # points at itself
    fails(GenericStatus.PRP_OFFSET_INVALID, prp_segments, 0x4000, 0x1000 - 8, 4 * ps, ps, mem.read_qword)


def test_misuse_raises_value_error(mem: HostMemory) -> None:
    with pytest.raises(ValueError):
        prp_segments(0x1000, 0, 512, 4096, mem.read_qword, offset=256, length=512)
    with pytest.raises(ValueError):
        prp_segments(0x1000, 0, 512, 4000, mem.read_qword)
    assert prp_segments(0x1001, 0, 0, 4096, mem.read_qword) == []


# SGLs

def data_block(addr: int, length: int) -> SglDescriptor:
    return SglDescriptor(addr, length, SglType.DATA_BLOCK)


def write_segment(mem: HostMemory, addr: int, descriptors: list[SglDescriptor]) -> None:
    mem.write(addr, b"".join(d.pack() for d in descriptors))


def sgl1(descriptor: SglDescriptor) -> bytes:
    """Through the SQE's PRP fields, as the firmware and the RTL see SGL1."""
    addr, rest = struct.unpack("<QQ", descriptor.pack())
    return sgl1_of(addr, rest)


def test_descriptor_round_trip() -> None:
    d = SglDescriptor(0x1234_5678_9000, 4096, SglType.LAST_SEGMENT)
    assert SglDescriptor.unpack(d.pack()) == d
    assert d.pack()[15] == 0x30


@pytest.mark.parametrize("ident", [0x10, 0x40, 0x50, 0x01, 0x60, 0xF0])
def test_unsupported_descriptor_types(ident: int) -> None:
    raw = struct.pack("<QI3xB", 0x1000, 512, ident)
    fails(GenericStatus.SGL_DESCRIPTOR_TYPE_INVALID, SglDescriptor.unpack, raw)


def test_single_data_block(mem: HostMemory) -> None:
    assert sgl_segments(sgl1(data_block(0x5000, 1000)), 1000, mem.read, 100, 50) == [Segment(0x5100 - 156, 50)]


def test_host_buffer_is_one_data_block(mem: HostMemory) -> None:
    """A host buffer a command points at (an LBA list): a slice of it, and the data block's alignment rule."""
    assert host_buffer_segments(0x7F00, 512, mem.read, 64, 256) == [Segment(0x7F40, 256)]
    fails(GenericStatus.INVALID_FIELD, host_buffer_segments, 0x7F02, 512, mem.read)


def test_segment_chain(mem: HostMemory) -> None:
    write_segment(mem, 0x9000, [data_block(0x1000, 100), data_block(0x3000, 28),
                                SglDescriptor(0xA000, 32, SglType.LAST_SEGMENT)])
    write_segment(mem, 0xA000, [data_block(0x7000, 0), data_block(0x5000, 400)])
    segments = sgl_segments(sgl1(SglDescriptor(0x9000, 48, SglType.SEGMENT)), 528, mem.read)
    assert segments == [Segment(0x1000, 100), Segment(0x3000, 28), Segment(0x5000, 400)]
    assert sgl_segments(sgl1(SglDescriptor(0x9000, 48, SglType.SEGMENT)), 528, mem.read, 90, 50) == [
        Segment(0x1000 + 90, 10), Segment(0x3000, 28), Segment(0x5000, 12)]


def test_last_segment_may_not_point_onward(mem: HostMemory) -> None:
    write_segment(mem, 0x9000, [data_block(0x1000, 100), SglDescriptor(0xA000, 16, SglType.SEGMENT)])
    fails(GenericStatus.INVALID_SGL_SEGMENT_DESCRIPTOR, sgl_segments,
          sgl1(SglDescriptor(0x9000, 32, SglType.LAST_SEGMENT)), 200, mem.read)


def test_segment_descriptor_must_be_last(mem: HostMemory) -> None:
    write_segment(mem, 0x9000, [SglDescriptor(0xA000, 16, SglType.LAST_SEGMENT), data_block(0x1000, 100)])
    fails(GenericStatus.INVALID_SGL_SEGMENT_DESCRIPTOR, sgl_segments,
          sgl1(SglDescriptor(0x9000, 32, SglType.SEGMENT)), 100, mem.read)


@pytest.mark.parametrize("length", [0, 24])
def test_segment_length_must_hold_whole_descriptors(mem: HostMemory, length: int) -> None:
    fails(GenericStatus.INVALID_SGL_SEGMENT_DESCRIPTOR, sgl_segments,
          sgl1(SglDescriptor(0x9000, length, SglType.SEGMENT)), 100, mem.read)


def test_segment_loop_is_invalid(mem: HostMemory) -> None:
    write_segment(mem, 0x9000, [data_block(0x1000, 0), SglDescriptor(0x9000, 32, SglType.SEGMENT)])
    fails(GenericStatus.INVALID_SGL_SEGMENT_DESCRIPTOR, sgl_segments,
          sgl1(SglDescriptor(0x9000, 32, SglType.SEGMENT)), 100, mem.read)


@pytest.mark.parametrize("described", [99, 101])
def test_data_length_must_match(mem: HostMemory, described: int) -> None:
    fails(GenericStatus.DATA_SGL_LENGTH_INVALID, sgl_segments, sgl1(data_block(0x1000, described)), 100, mem.read)


def test_unsupported_descriptor_inside_a_segment(mem: HostMemory) -> None:
    mem.write(0x9000, struct.pack("<QI3xB", 0x1000, 100, 0x10))   # bit bucket
    fails(GenericStatus.SGL_DESCRIPTOR_TYPE_INVALID, sgl_segments,
          sgl1(SglDescriptor(0x9000, 16, SglType.LAST_SEGMENT)), 100, mem.read)


def test_random_sgl_slices_match_the_byte_reference(mem: HostMemory) -> None:
    rng = random.Random(SEED)
    # dword alignment and granularity, as Identify SGLS = 10b asks
    blocks = [data_block(0x10_0000 * (i + 1) + 4 * rng.randrange(16), 4 * rng.randint(0, 75)) for i in range(9)]
    write_segment(mem, 0x9000, blocks[:4] + [SglDescriptor(0xA000, 16 * 5, SglType.LAST_SEGMENT)])
    write_segment(mem, 0xA000, blocks[4:])
    reference = [a for b in blocks for a in range(b.addr, b.addr + b.length)]
    head = sgl1(SglDescriptor(0x9000, 16 * 5, SglType.SEGMENT))
    for _ in range(100):
        offset = 4 * rng.randrange(len(reference) // 4)
        length = 4 * rng.randint(0, (len(reference) - offset) // 4)
        assert expand(sgl_segments(head, len(reference), mem.read, offset, length)) == \
            reference[offset:offset + length]


def test_data_block_needs_dword_alignment(mem: HostMemory) -> None:
    """Identify SGLS = 10b: dword alignment of data blocks, or Invalid Field."""
    fails(GenericStatus.INVALID_FIELD, sgl_segments, sgl1(data_block(0x1002, 100)), 100, mem.read)


def test_segment_needs_16_byte_alignment(mem: HostMemory) -> None:
    write_segment(mem, 0x9008, [data_block(0x1000, 100)])
    fails(GenericStatus.INVALID_SGL_SEGMENT_DESCRIPTOR, sgl_segments,
          sgl1(SglDescriptor(0x9008, 16, SglType.LAST_SEGMENT)), 100, mem.read)


def test_longer_sgl_is_seen_within_the_segment(mem: HostMemory) -> None:
    write_segment(mem, 0x9000, [data_block(0x1000, 100), data_block(0x2000, 4)])
    fails(GenericStatus.DATA_SGL_LENGTH_INVALID, sgl_segments,
          sgl1(SglDescriptor(0x9000, 32, SglType.LAST_SEGMENT)), 100, mem.read)


def test_walk_stops_where_the_range_does(mem: HostMemory) -> None:
    """A slice short of the command's end never reads the descriptors after it, as the RTL walker."""
    # the second descriptor would be invalid in a Last Segment, were it read
    write_segment(mem, 0x9000, [data_block(0x1000, 100), SglDescriptor(0x9000, 32, SglType.SEGMENT)])
    assert sgl_segments(sgl1(SglDescriptor(0x9000, 32, SglType.LAST_SEGMENT)), 200, mem.read, 0, 100) == [
        Segment(0x1000, 100)]
