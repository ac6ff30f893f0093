"""Page-mapped FTL: mapping, buffer, GC, TRIM, wear, SMART, power loss, WAF."""

import random

import numpy as np
import pytest

from models.backend import BackendError
from models.flash import PRESETS, ConvFtl, Geometry
from models.flash.gc import analytic_waf
from models.nvme_spec import GenericStatus

PAGE = 4096
# Two channels, 16 superblocks of 32 sectors: GC starts after a few hundred pages.
SMALL = Geometry(channels=2, luns_per_channel=1, planes=1, blocks_per_plane=16,
                 pages_per_block=8, page_size=8192, sector_size=4096, oob_size=64)
OX = PRESETS["ox"]


def page(tag: int) -> bytes:
    """A recognisable 4 KiB page for write number ``tag``."""
    return tag.to_bytes(8, "little") * (PAGE // 8)


@pytest.fixture
def ftl() -> ConvFtl:
    return ConvFtl(geometry=SMALL, op=0.5)


@pytest.fixture
def ox_ftl() -> ConvFtl:
    return ConvFtl()


def check_invariants(f: ConvFtl) -> None:
    """DRAM state agrees with itself and with the OOB area."""
    mapped = np.flatnonzero(f.l2p >= 0)
    assert f.valid.sum() == len(mapped)
    assert f.valid[f.l2p[mapped]].all()
    assert (f.nand.oob_lpn[f.l2p[mapped]] == mapped).all()
    assert (f.valid.reshape(f.n_sb, -1).sum(axis=1) == f.valid_count).all()


def test_unwritten_pages_read_as_zeros(ftl):
    data, _ = ftl.read(0, 3, 0)
    assert data == bytes(3 * PAGE)


def test_overwrites_and_gc_keep_the_newest_data(ftl):
    rng = random.Random(1)
    latest: dict[int, int] = {}
    for tag in range(4 * ftl.capacity_pages):
        lpn = rng.randrange(ftl.capacity_pages)
        ftl.write(lpn, page(tag), tag * 1000)
        latest[lpn] = tag
    assert ftl.smart()["gc_victims"] > 0
    for lpn, tag in latest.items():
        assert ftl.read(lpn, 1, 10**12)[0] == page(tag)
    check_invariants(ftl)


def test_multi_page_write_reads_back_across_buffer_and_nand(ftl):
    data = b"".join(page(t) for t in range(7))  # 3 full NAND pages + 1 in the buffer
    ftl.write(10, data, 0)
    assert len(ftl._buf) == 1
    assert ftl.read(10, 7, 0)[0] == data


def test_write_completes_early_from_the_buffer(ox_ftl):
    done = ox_ftl.write(0, page(1), 0)
    assert done == ox_ftl.buffer_ns + ox_ftl.buffer_page_ns
    assert done < OX.timing.t_prog_ns


def test_full_buffer_makes_writes_wait_for_programs(ox_ftl):
    n = 2 * ox_ftl.buffer_pages
    done = ox_ftl.write(0, bytes(n * PAGE), 0)
    assert done > OX.timing.t_prog_ns


def test_flush_waits_for_the_programs(ox_ftl):
    ox_ftl.write(0, page(1), 0)
    assert ox_ftl.flush(0) >= OX.timing.t_prog_ns
    assert not ox_ftl._buf


def test_without_write_cache_completion_waits_for_nand():
    f = ConvFtl(write_cache=False)
    assert f.write(0, page(1), 0) >= OX.timing.t_prog_ns


def test_read_from_nand_costs_tr(ox_ftl):
    t = ox_ftl.flush(ox_ftl.write(0, page(1), 0))
    _, done = ox_ftl.read(0, 1, t)
    assert done - t == OX.timing.t_read_ns + OX.timing.xfer_ns(PAGE)


def test_out_of_range_is_an_nvme_error(ftl):
    with pytest.raises(BackendError) as e:
        ftl.read(ftl.capacity_pages - 1, 2, 0)
    assert e.value.code is GenericStatus.LBA_OUT_OF_RANGE


def test_trim_invalidates_and_reads_zeros(ftl):
    ftl.flush(ftl.write(0, b"".join(page(t) for t in range(8)), 0))
    valid_before = int(ftl.valid.sum())
    ftl.trim(2, 3, 0)
    assert ftl.valid.sum() == valid_before - 3
    assert ftl.read(0, 8, 0)[0] == b"".join(page(t) if t not in (2, 3, 4) else bytes(PAGE)
                                             for t in range(8))
    check_invariants(ftl)


def test_trim_drops_buffered_writes(ftl):
    ftl.write(5, page(9), 0)
    ftl.trim(5, 1, 0)
    ftl.flush(0)
    assert ftl.read(5, 1, 0)[0] == bytes(PAGE)


def test_smart_counts_host_and_nand_writes(ftl):
    ftl.flush(ftl.write(0, bytes(3 * PAGE), 0))  # 3 pages -> 2 NAND pages, one padded
    ftl.read(0, 2, 0)
    s = ftl.smart()
    assert (s["host_write_pages"], s["nand_write_pages"], s["pad_pages"]) == (3, 4, 1)
    assert s["host_read_pages"] == 2
    assert s["data_units_written"] == 1  # 12 KiB rounds up to one unit of 512,000 bytes
    assert s["waf"] == pytest.approx(4 / 3)


@pytest.mark.parametrize("policy", ["greedy", "cost_benefit", "fifo"])
def test_every_policy_collects_correctly(policy):
    f = ConvFtl(geometry=SMALL, op=0.5, gc_policy=policy, store_data=False)
    rng = np.random.default_rng(3)
    f.write_pages(np.arange(f.capacity_pages))
    f.write_pages(rng.integers(0, f.capacity_pages, 5 * f.capacity_pages))
    assert f.smart()["gc_victims"] > 0
    check_invariants(f)


def test_gc_moves_only_valid_data_and_erases_victims(ftl):
    ftl.write_pages(np.arange(ftl.capacity_pages))
    ftl.write_pages(np.arange(ftl.capacity_pages))  # everything old is now invalid
    s = ftl.smart()
    assert s["gc_write_pages"] == 0 and s["gc_victims"] > 0
    check_invariants(ftl)


def test_background_gc_runs_when_idle_and_low_on_space():
    f = ConvFtl(bg_gc_threshold=OX.geometry.blocks_per_plane)  # always "low": collect when idle
    f.write_pages(np.arange(f.capacity_pages))
    f.write_pages(np.arange(f.sb_size))  # the first superblock is now all invalid
    before = f.smart()["gc_victims"]
    f.read(0, 1, 10**9)
    assert f.smart()["gc_victims"] == before + 1


def hot_cold_spread(wl_threshold: int) -> int:
    f = ConvFtl(geometry=SMALL, op=0.5, wl_threshold=wl_threshold, store_data=False)
    rng = np.random.default_rng(5)
    f.write_pages(np.arange(f.capacity_pages))  # cold data everywhere
    for _ in range(60):
        f.write_pages(rng.integers(0, f.capacity_pages // 8, f.capacity_pages // 2))
    check_invariants(f)
    return f.smart()["erase_count_max"] - f.smart()["erase_count_min"]


def test_static_wear_leveling_bounds_the_erase_spread():
    assert hot_cold_spread(wl_threshold=0) > 20
    assert hot_cold_spread(wl_threshold=4) <= 6


def test_device_full_of_valid_data_cannot_be_oversubscribed():
    with pytest.raises(ValueError, match="spare"):
        ConvFtl(geometry=SMALL, op=0.05)


# -- power loss -------------------------------------------------------------


def run_until_power_cut(f: ConvFtl, seed: int) -> dict[int, set[bytes]]:
    """Random writes, trims and flushes, then a power cut at a random point.

    Returns, per LPN, the contents a correct device may show after recovery:
    the last durable version, or anything written after it.
    """
    rng = random.Random(seed)
    zero = bytes(PAGE)
    latest: dict[int, bytes] = {}
    allowed: dict[int, set[bytes]] = {}
    now = 0
    for tag in range(rng.randrange(1, 1500)):
        now += 1000
        op = rng.random()
        lpn = rng.randrange(f.capacity_pages - 4)
        if op < 0.05:
            now = f.flush(now)
            allowed = {p: {d} for p, d in latest.items()}
            continue
        if op < 0.12:  # deallocate is durable when it completes
            n = rng.randrange(1, 5)
            now = f.trim(lpn, n, now)
            writes = {p: zero for p in range(lpn, lpn + n)}
        else:
            n = rng.randrange(1, 4)
            writes = {lpn + i: page(tag * 8 + i) for i in range(n)}
            now = f.write(lpn, b"".join(writes.values()), now)
        durable = op < 0.12 or not f.write_cache
        for p, d in writes.items():
            latest[p] = d
            allowed[p] = {d} if durable else allowed.get(p, {zero}) | {d}
    f.power_loss()
    return allowed


@pytest.mark.parametrize("write_cache", [True, False])
@pytest.mark.parametrize("seed", range(8))
def test_power_loss_at_random_points_keeps_durable_writes(seed, write_cache):
    f = ConvFtl(geometry=SMALL, op=0.5, write_cache=write_cache)
    allowed = run_until_power_cut(f, seed)
    with pytest.raises(RuntimeError):
        f.read(0, 1, 0)
    f.recover()
    check_invariants(f)
    for lpn in range(f.capacity_pages):
        got = f.read(lpn, 1, 0)[0]
        assert got in allowed.get(lpn, {bytes(PAGE)}), f"lpn {lpn}"
    # The recovered device keeps working, through GC.
    for tag in range(2 * f.capacity_pages):
        f.write(tag % f.capacity_pages, page(10**6 + tag), 0)
    f.flush(0)
    assert f.read(3, 1, 0)[0] == page(10**6 + f.capacity_pages + 3)


def test_flushed_data_survives_and_unflushed_may_not():
    f = ConvFtl(geometry=SMALL, op=0.5)
    f.flush(f.write(0, page(1), 0))
    assert f.cached_pages == 0
    f.write(0, page(2), 0)  # stays in the volatile buffer
    assert f.cached_pages == 1
    f.power_loss()
    f.recover()
    assert f.read(0, 1, 0)[0] == page(1)


def test_trim_survives_power_loss():
    f = ConvFtl(geometry=SMALL, op=0.5)
    f.flush(f.write(0, page(1), 0))
    f.trim(0, 1, 0)
    f.power_loss()
    f.recover()
    assert f.read(0, 1, 0)[0] == bytes(PAGE)


# -- write amplification ------------------------------------------------------

WAF_GEOMETRY = Geometry(channels=1, luns_per_channel=1, planes=1, blocks_per_plane=512,
                        pages_per_block=256, page_size=4096, sector_size=4096, oob_size=64)


def steady_state_waf(op: float) -> float:
    """Greedy WAF of uniform random writes: precondition 3x capacity, measure 3x.

    The first pass is sequential so every LBA holds data: after 3x random
    writes from empty, e^-3 = 5% of LBAs would still be unwritten and act
    as extra over-provisioning.
    """
    f = ConvFtl(geometry=WAF_GEOMETRY, op=op, store_data=False)
    cap = f.capacity_pages
    rng = np.random.default_rng(7)
    f.write_pages(np.arange(cap))
    f.write_pages(rng.integers(0, cap, 2 * cap))
    before = f.smart()
    f.write_pages(rng.integers(0, cap, 3 * cap))
    after = f.smart()
    return ((after["nand_write_pages"] - before["nand_write_pages"])
            / (after["host_write_pages"] - before["host_write_pages"]))


@pytest.mark.parametrize("op", [0.25, 0.5])
def test_greedy_waf_matches_the_analytic_value(op):
    assert steady_state_waf(op) == pytest.approx(analytic_waf(op), rel=0.03)
