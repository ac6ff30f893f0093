"""Back-end interface, factory and the fixed-latency kind."""

import pytest

from models.backend import Backend, BackendError, NvmBackend
from models.backend_factory import make_backend
from models.flash import ConvFtl, OcssdBackend, ZnsBackend
from models.nvme_spec import CommandSpecificStatus, GenericStatus, MediaStatus, Status

PAGE = 4096


@pytest.fixture
def nvm() -> NvmBackend:
    return NvmBackend(capacity_pages=64, read_ns=1000, write_ns=2000)


@pytest.mark.parametrize("kind, cls", [("nvm", NvmBackend), ("conv", ConvFtl),
                                       ("ocssd", OcssdBackend), ("zns", ZnsBackend)])
def test_factory_builds_every_kind_and_it_round_trips_data(kind, cls):
    b = make_backend(kind)
    assert isinstance(b, cls) and isinstance(b, Backend)
    assert b.page_size == PAGE and b.capacity_pages > 0
    payload = bytes(range(256)) * 16 * 8  # 8 pages: on ocssd the write unit, a 16 KiB NAND page on 2 planes
    b.flush(b.write(0, payload, 0))
    assert b.read(0, 8, 10**9)[0] == payload


def test_factory_passes_options_and_presets():
    b = make_backend("conv", preset="samsung_970pro", op=0.25)
    assert b.geometry.page_size == 32768
    assert b.smart()["spare_pct"] == pytest.approx(25, abs=0.1)


def test_unknown_kind_or_preset():
    with pytest.raises(ValueError, match="kind"):
        make_backend("tape")
    with pytest.raises(ValueError, match="preset"):
        make_backend("conv", preset="floppy")


def test_nvm_fixed_latency_and_sparse_data(nvm):
    assert nvm.write(3, b"\x07" * PAGE, 100) == 2100
    data, done = nvm.read(2, 2, 5000)
    assert (data, done) == (bytes(PAGE) + b"\x07" * PAGE, 6000)


def test_nvm_trim_reads_zeros(nvm):
    nvm.write(0, b"\x01" * PAGE, 0)
    nvm.trim(0, 1, 0)
    assert nvm.read(0, 1, 0)[0] == bytes(PAGE)


def test_range_errors_carry_the_nvme_status(nvm):
    with pytest.raises(BackendError) as e:
        nvm.write(64, bytes(PAGE), 0)
    assert e.value.code is GenericStatus.LBA_OUT_OF_RANGE
    assert e.value.status == Status(sc=0x80, sct=0, dnr=True)


def test_partial_page_data_is_a_caller_bug(nvm):
    with pytest.raises(ValueError):
        nvm.write(0, bytes(100), 0)


def test_smart_data_units(nvm):
    nvm.write(0, bytes(PAGE * 64), 0)
    s = nvm.smart()
    assert (s["host_write_pages"], s["data_units_written"]) == (64, 1)


@pytest.mark.parametrize("code, sct, sc", [
    (GenericStatus.INVALID_OPCODE, 0, 0x01),
    (GenericStatus.INVALID_FIELD, 0, 0x02),
    (GenericStatus.LBA_OUT_OF_RANGE, 0, 0x80),
    (GenericStatus.CAPACITY_EXCEEDED, 0, 0x81),
    (CommandSpecificStatus.ZONE_BOUNDARY_ERROR, 1, 0xB8),
    (CommandSpecificStatus.ZONE_IS_FULL, 1, 0xB9),
    (CommandSpecificStatus.ZONE_IS_READ_ONLY, 1, 0xBA),
    (CommandSpecificStatus.ZONE_IS_OFFLINE, 1, 0xBB),
    (CommandSpecificStatus.ZONE_INVALID_WRITE, 1, 0xBC),
    (CommandSpecificStatus.TOO_MANY_ACTIVE_ZONES, 1, 0xBD),
    (CommandSpecificStatus.TOO_MANY_OPEN_ZONES, 1, 0xBE),
    (CommandSpecificStatus.INVALID_ZONE_STATE_TRANSITION, 1, 0xBF),
    (MediaStatus.OCSSD_OUT_OF_ORDER_WRITE, 2, 0xF2),
])
def test_backend_errors_post_the_spec_status_with_dnr(code, sct, sc):
    """The ZNS and OCSSD values against their specs, and the status the firmware posts for each."""
    status = BackendError(code).status
    assert (status.sct, status.sc, status.dnr) == (sct, sc, True)
