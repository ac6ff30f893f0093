"""Flash back-end benchmark: write amplification, model speed, read latency.

Prints
  1. greedy-GC write amplification under uniform random 4 KiB writes at
     steady state, against the analytic a / (a + W0(-a e^-a)), a = 1 + OP;
  2. how fast the FTL model runs (host page writes per wall-clock second
     with GC running), on the WAF device and on the default OX geometry;
and draws the read-latency CDF with and without GC running into
build/bench/flash_read_latency_cdf.png.

Run: .venv/bin/python bench/flash_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.flash import PRESETS, ConvFtl, Geometry  # noqa: E402
from models.flash.gc import analytic_waf  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "build" / "bench"
# 256-page blocks, one block per superblock, so GC works on 256 pages.
WAF_GEOMETRY = Geometry(channels=1, luns_per_channel=1, planes=1, blocks_per_plane=1024,
                        pages_per_block=256, page_size=4096, sector_size=4096, oob_size=64)


def steady_state(f: ConvFtl, rng: np.random.Generator, measure_x: float) -> tuple[float, float]:
    """Precondition 3x capacity (one sequential pass, then random), then measure.

    The sequential pass makes every LBA hold data; uniform random writes
    alone leave e^-3 = 5% of LBAs unwritten after 3x, which acts as extra
    over-provisioning. Returns (WAF, host page writes per second) of the
    measured part.
    """
    cap = f.capacity_pages
    f.write_pages(np.arange(cap))
    f.write_pages(rng.integers(0, cap, 2 * cap))
    before = f.smart()
    lpns = rng.integers(0, cap, int(measure_x * cap))
    t0 = time.perf_counter()
    for chunk in np.array_split(lpns, max(1, len(lpns) // cap)):
        f.write_pages(chunk)
    elapsed = time.perf_counter() - t0
    after = f.smart()
    host = after["host_write_pages"] - before["host_write_pages"]
    waf = (after["nand_write_pages"] - before["nand_write_pages"]) / host
    return waf, host / elapsed


def waf_table(quick: bool) -> None:
    print("Write amplification, greedy GC, uniform random 4 KiB writes, 256-page blocks,")
    print(f"{WAF_GEOMETRY.blocks} blocks; steady state after 3x capacity, measured over "
          f"{1 if quick else 3}x")
    print(f"{'OP':>6} {'analytic':>9} {'measured':>9} {'error':>7} {'writes/s':>10}")
    for op in (0.07, 0.125, 0.25, 0.5):
        f = ConvFtl(geometry=WAF_GEOMETRY, op=op, store_data=False)
        waf, rate = steady_state(f, np.random.default_rng(1), 1.0 if quick else 3.0)
        ref = analytic_waf(op)
        print(f"{op:6.1%} {ref:9.3f} {waf:9.3f} {(waf - ref) / ref:+7.1%} {rate:10,.0f}")
    print()


def speed_table(quick: bool) -> None:
    print("FTL model speed (host page writes per wall-clock second, GC running)")
    x = 2.0 if quick else 10.0
    f = ConvFtl(op=0.125, store_data=False)
    t0 = time.perf_counter()
    waf, rate = steady_state(f, np.random.default_rng(2), x)
    total = time.perf_counter() - t0
    print(f"  bulk write_pages, OX geometry ({f.capacity_pages:,} pages, 12.5% OP), "
          f"{x:g}x capacity: {rate:,.0f} writes/s (WAF {waf:.2f}; whole study {total:.1f} s)")
    f = ConvFtl(op=0.125, store_data=True)
    n = 20_000 if quick else 100_000
    rng = np.random.default_rng(3)
    payload = bytes(4096)
    t0 = time.perf_counter()
    for i, lpn in enumerate(rng.integers(0, f.capacity_pages, n).tolist()):
        f.write(lpn, payload, i * 10_000)
    rate = n / (time.perf_counter() - t0)
    print(f"  timed write() with data, OX geometry: {rate:,.0f} commands/s")
    print()


def latency_run(f: ConvFtl, rng: np.random.Generator, ops: int, gap_ns: int) -> np.ndarray:
    """70/30 random 4 KiB reads/writes arriving every ``gap_ns``: read latencies (us)."""
    cap = f.capacity_pages
    payload = bytes(4096)
    lat = []
    for i in range(ops):
        now = i * gap_ns
        lpn = int(rng.integers(0, cap))
        if rng.random() < 0.7:
            lat.append(f.read(lpn, 1, now)[1] - now)
        else:
            f.write(lpn, payload, now)
    return np.array(lat) / 1000


def latency_cdf(quick: bool) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ox = PRESETS["ox"]
    # OX LUNs and timing with 16-page blocks: 256 superblocks of 16 MiB, so GC
    # victims come often enough to show within a short run.
    g = Geometry(channels=8, luns_per_channel=4, planes=2, blocks_per_plane=256,
                 pages_per_block=16, page_size=16384, sector_size=4096, oob_size=1024)
    ops = 30_000 if quick else 150_000
    gap = 50_000  # 20k IOPS offered
    runs = {}
    fresh = ConvFtl(geometry=g, timing=ox.timing, op=0.125, store_data=False)
    fresh.write_pages(np.arange(fresh.capacity_pages))  # full, but the spare is still free
    runs["without GC"] = (latency_run(fresh, np.random.default_rng(4), ops, gap), fresh)
    aged = ConvFtl(geometry=g, timing=ox.timing, op=0.125, store_data=False)
    aged.write_pages(np.arange(aged.capacity_pages))
    aged.write_pages(np.random.default_rng(5).integers(0, aged.capacity_pages, aged.capacity_pages))
    victims = aged.smart()["gc_victims"]
    runs["with GC"] = (latency_run(aged, np.random.default_rng(4), ops, gap), aged)
    runs["with GC"][1].counters["gc_victims"] -= victims

    print(f"Read latency, 70/30 random 4 KiB read/write at 20k IOPS, {ops:,} commands")
    print(f"{'':>12} {'p50 us':>8} {'p99 us':>9} {'p99.9 us':>9} {'max us':>9} {'GC victims':>11}")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, (lat, f) in runs.items():
        p50, p99, p999 = np.percentile(lat, [50, 99, 99.9])
        print(f"{name:>12} {p50:8.0f} {p99:9.0f} {p999:9.0f} {lat.max():9.0f} "
              f"{f.smart()['gc_victims']:11d}")
        xs = np.sort(lat)
        ax.plot(xs, np.arange(1, len(xs) + 1) / len(xs), label=name)
    ax.set_xscale("log")
    ax.set_xlabel("read latency (us)")
    ax.set_ylabel("fraction of reads")
    ax.set_title("conv FTL read latency CDF (OX timing, 12.5% OP)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "flash_read_latency_cdf.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    print(f"CDF written to {path.relative_to(OUT.parents[1])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter runs (smoke test)")
    args = parser.parse_args()
    waf_table(args.quick)
    speed_table(args.quick)
    latency_cdf(args.quick)


if __name__ == "__main__":
    main()
