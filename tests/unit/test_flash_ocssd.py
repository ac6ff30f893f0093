"""Open-channel back end: PPA format, geometry report, vector I/O and NAND rules."""

import pytest

from models.backend import BackendError
from models.flash import PRESETS, OcssdBackend, Ppa, PpaFormat
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
    assert (r["num_grp"], r["num_pu"], r["num_chk"]) == (8, 4, 32)
    assert r["clba"] == 128 * SPP * 2 and r["ws_min"] == SPP * 2
    assert r["ppa_format"]["channel"] == (17, 3)
    assert r["trdt"] == PRESETS["ox"].timing.t_read_ns


def test_vector_write_then_read(oc):
    ppas = [addr(oc, ch=2, lun=1, blk=4, sec=s) for s in range(SPP)]
    payload = b"".join(bytes([s + 1]) * PAGE for s in range(SPP))
    oc.vector_write(ppas, payload, 0)
    assert oc.vector_read(ppas[::-1], 0)[0] == b"".join(bytes([s + 1]) * PAGE for s in reversed(range(SPP)))


def test_lba_interface_is_the_ppa_space(oc):
    lba = addr(oc, ch=1, blk=2)
    oc.write(lba, bytes(range(256)) * 16 * (2 * SPP), 0)  # one page on each plane
    assert oc.read(lba + SPP, 1, 0)[0] == bytes(range(256)) * 16
    assert oc.read(addr(oc, ch=1, blk=2, pg=1), 1, 0)[0] == bytes(PAGE)  # unwritten: zeros


def test_partial_page_write_is_rejected(oc):
    with pytest.raises(BackendError) as e:
        oc.vector_write([addr(oc, sec=0)], bytes(PAGE), 0)
    assert e.value.code is GenericStatus.INVALID_FIELD


@pytest.mark.parametrize("page", [0, 2])  # rewrite without erase; skip a page
def test_out_of_order_write_reports_ocssd_status(oc, page):
    oc.write(addr(oc), bytes(SPP * PAGE), 0)
    with pytest.raises(BackendError) as e:
        oc.write(addr(oc, pg=page), bytes(SPP * PAGE), 0)
    assert e.value.code is MediaStatus.OCSSD_OUT_OF_ORDER_WRITE


def test_erase_allows_rewrite_and_costs_tbers(oc):
    oc.write(addr(oc, blk=1), b"\x01" * (SPP * PAGE), 0)
    done = oc.vector_erase([addr(oc, blk=1, pg=5)], 0)
    assert done >= PRESETS["ox"].timing.t_erase_ns
    assert oc.read(addr(oc, blk=1), 1, done)[0] == bytes(PAGE)
    oc.write(addr(oc, blk=1), b"\x02" * (SPP * PAGE), done)
    assert oc.read(addr(oc, blk=1), 1, done)[0] == b"\x02" * PAGE


def test_parallel_units_show_in_latency(oc):
    one = oc.write(addr(oc, ch=0), bytes(SPP * PAGE), 0)
    other_channel = oc.write(addr(oc, ch=1), bytes(SPP * PAGE), 0)
    same_lun = oc.write(addr(oc, ch=0, pg=1), bytes(SPP * PAGE), 0)
    assert other_channel == one
    assert same_lun > one
