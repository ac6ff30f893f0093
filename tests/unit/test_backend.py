"""Back-end interface, factory and the fixed-latency kind."""

import pytest

from models.backend import Backend, BackendError, NvmBackend, Status, make_backend
from models.flash import ConvFtl, OcssdBackend, ZnsBackend

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
    payload = bytes(range(256)) * 16 * 4  # 4 pages: one NAND page of 16 KiB on ocssd
    b.flush(b.write(0, payload, 0))
    assert b.read(0, 4, 10**9)[0] == payload


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
    assert e.value.status is Status.LBA_OUT_OF_RANGE
    assert (e.value.status.sct, e.value.status.sc) == (0, 0x80)


def test_partial_page_data_is_a_caller_bug(nvm):
    with pytest.raises(ValueError):
        nvm.write(0, bytes(100), 0)


def test_smart_data_units(nvm):
    nvm.write(0, bytes(PAGE * 64), 0)
    s = nvm.smart()
    assert (s["host_write_pages"], s["data_units_written"]) == (64, 1)


def test_zns_status_codes_match_the_spec():
    assert Status.ZONE_INVALID_WRITE.value == (1, 0xBC)
    assert Status.TOO_MANY_OPEN_ZONES.value == (1, 0xBE)
