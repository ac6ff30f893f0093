"""Open-channel back end: PPA format, geometry report, vector I/O and NAND rules."""

import pytest

from models.backend import BackendError
from models.flash import PRESETS, OcssdBackend, Ppa, PpaFormat
from models.flash.ocssd import ChunkError
from models.open_channel import ChunkDescriptor, ChunkState
from models.nvme_spec import GenericStatus, MediaStatus

GEOMETRY = PRESETS["ox"].geometry
PAGE = 4096
SPP = GEOMETRY.sectors_per_page


@pytest.fixture
def oc() -> OcssdBackend:
    return OcssdBackend()


def addr(oc: OcssdBackend, ch=0, lun=0, pl=0, blk=0, pg=0, sec=0) -> int:
    return oc.format.encode(Ppa(ch, lun, pl, blk, pg, sec))


def test_ppa_fields_round_trip():
    fmt = PpaFormat(GEOMETRY)
    ppa = Ppa(channel=7, lun=3, plane=1, block=31, page=127, sector=3)
    assert fmt.decode(fmt.encode(ppa)) == ppa
    assert fmt.bits == 3 + 2 + 1 + 5 + 7 + 2


def test_ppa_layout_is_sector_then_plane_then_page():
    fmt = PpaFormat(GEOMETRY)
    assert [fmt.offsets[f] for f in ("sector", "plane", "page", "block", "lun", "channel")] == \
        [0, 2, 3, 10, 15, 17]


def test_out_of_range_field_is_rejected():
    fmt = PpaFormat(PRESETS["samsung_970pro"].geometry)  # 8 sectors per page: 3 bits, all used
    with pytest.raises(ValueError):
        fmt.encode(Ppa(channel=8, lun=0, plane=0, block=0, page=0, sector=0))
    with pytest.raises(BackendError) as e:
        fmt.decode(1 << fmt.bits)
    assert e.value.code is GenericStatus.LBA_OUT_OF_RANGE


def test_geometry_report(oc):
    r = oc.geometry_report()
    assert r["mccap"] == 1   # Vector Chunk Copy
    assert (r["num_grp"], r["num_pu"], r["num_chk"]) == (8, 4, 32)
    assert r["clba"] == 128 * SPP * 2 and r["ws_min"] == SPP * 2
    assert r["ppa_format"]["channel"] == (17, 3)
    assert r["trdt"] == PRESETS["ox"].timing.t_read_ns


def test_vector_write_then_read(oc):
    ppas = [addr(oc, ch=2, lun=1, blk=4, pl=p, sec=s) for p in range(2) for s in range(SPP)]
    payload = b"".join(bytes([i + 1]) * PAGE for i in range(2 * SPP))
    oc.vector_write(ppas, payload, 0)
    assert oc.vector_read(ppas[::-1], 0)[0] == b"".join(bytes([i + 1]) * PAGE for i in reversed(range(2 * SPP)))


def test_lba_interface_is_the_ppa_space(oc):
    lba = addr(oc, ch=1, blk=2)
    oc.write(lba, bytes(range(256)) * 16 * (2 * SPP), 0)  # one page on each plane
    assert oc.read(lba + SPP, 1, 0)[0] == bytes(range(256)) * 16
    assert oc.read(addr(oc, ch=1, blk=2, pg=1), 1, 0)[0] == bytes(PAGE)  # unwritten: zeros


def test_partial_write_unit_is_rejected(oc):
    with pytest.raises(ChunkError) as e:
        oc.vector_write([addr(oc, sec=0)], bytes(PAGE), 0)
    assert e.value.code is GenericStatus.INVALID_FIELD and e.value.failed == [0]


@pytest.mark.parametrize("page", [0, 2])  # rewrite without a reset; skip a page
def test_out_of_order_write_reports_ocssd_status(oc, page):
    oc.write(addr(oc), bytes(2 * SPP * PAGE), 0)
    with pytest.raises(ChunkError) as e:
        oc.write(addr(oc, pg=page), bytes(2 * SPP * PAGE), 0)
    assert e.value.code is MediaStatus.OCSSD_OUT_OF_ORDER_WRITE


def test_chunk_states_through_a_chunk_life(oc):
    """Free, Open after a write, Closed when full (a further write: Write Fault), Free after a reset (a second
    reset: Invalid Reset), Offline after a failure (reset: Offline Chunk; reads: zeros)."""
    geo = oc.chunk_geometry()
    chunk = addr(oc, ch=3, lun=2, blk=7)
    index = oc.chunk_of(oc.format.decode(chunk))
    assert oc.descriptor(index) == ChunkDescriptor(ChunkState.FREE, 0, chunk, geo.clba, 0)
    oc.write(chunk, b"\x05" * (geo.ws_min * PAGE), 0)
    assert (oc.state[index], oc.wp[index]) == (ChunkState.OPEN, geo.ws_min)
    oc.write(chunk + geo.ws_min, bytes((geo.clba - geo.ws_min) * PAGE), 0)
    assert oc.state[index] == ChunkState.CLOSED
    with pytest.raises(ChunkError) as e:
        oc.write(chunk, bytes(geo.ws_min * PAGE), 0)
    assert e.value.code is MediaStatus.WRITE_FAULT
    done = oc.vector_reset([chunk + 5], 0)
    assert done >= PRESETS["ox"].timing.t_erase_ns
    assert oc.descriptor(index) == ChunkDescriptor(ChunkState.FREE, 1, chunk, geo.clba, 0)
    assert oc.read(chunk, 1, done)[0] == bytes(PAGE)
    with pytest.raises(ChunkError) as e:
        oc.vector_reset([chunk], done)
    assert e.value.code is MediaStatus.OCSSD_INVALID_RESET
    oc.write(chunk, b"\x06" * (geo.ws_min * PAGE), done)
    oc.write(addr(oc), bytes(geo.ws_min * PAGE), done)
    oc.fail_chunk(chunk)
    assert oc.vector_read([chunk], done)[0] == bytes(PAGE)
    with pytest.raises(ChunkError) as e:
        oc.vector_reset([addr(oc), chunk], done)
    assert (e.value.code, e.value.failed) == (MediaStatus.OCSSD_OFFLINE_CHUNK, [1])


def test_a_failed_vector_changes_nothing(oc):
    """Two runs: the first would be fine, the second is out of order; neither is written."""
    geo = oc.chunk_geometry()
    a, b = addr(oc, blk=1), addr(oc, blk=2)
    lbas = [a + i for i in range(geo.ws_min)] + [b + geo.ws_min + i for i in range(geo.ws_min)]
    with pytest.raises(ChunkError) as e:
        oc.vector_write(lbas, bytes(len(lbas) * PAGE), 0)
    assert e.value.failed == list(range(geo.ws_min, 2 * geo.ws_min))
    assert oc.wp[oc.chunk_of(oc.format.decode(a))] == 0


def test_chunk_geometry_names_the_log_order(oc):
    geo = oc.chunk_geometry()
    for lba in (addr(oc, ch=5, lun=1, blk=9, pg=3, pl=1, sec=2), addr(oc, ch=7, lun=3, blk=31)):
        ppa = oc.format.decode(lba)
        assert geo.locate(lba) == (oc.chunk_of(ppa), oc.block_in_chunk(ppa))
        assert geo.slba(oc.chunk_of(ppa)) == lba & ~(geo.clba - 1)
    assert geo.locate(1 << geo.address_bits) is None


def test_parallel_units_show_in_latency(oc):
    unit = 2 * SPP * PAGE   # a page on each plane
    one = oc.write(addr(oc, ch=0), bytes(unit), 0)
    other_channel = oc.write(addr(oc, ch=1), bytes(unit), 0)
    same_lun = oc.write(addr(oc, ch=0, pg=1), bytes(unit), 0)
    assert other_channel == one
    assert same_lun > one
