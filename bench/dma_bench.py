"""DMA benchmark: sustained throughput of 128 KiB NVMe transfers both ways and 4 KiB IOPS, against the
interface's beat ceiling, on the 256-bit (Gen3 x8) and 512-bit (Gen4 x8) builds.

Runs bench/sim/dma_rates.py on each build and prints GB/s and IOPS of simulated time, their share of
the ceiling, and the simulation's own cost in wall-clock seconds per simulated MiB.

The ceiling is the stream's: a TLP of MPS bytes plus its descriptor (16 bytes on RQ, 12 on RC) takes
ceil((16 + MPS) / beat bytes) beats at 250 MHz, one beat per cycle. 256 bits, MPS 256: 9 beats of 32
bytes, 7.11 GB/s; 512 bits, MPS 256: 5 beats of 64 bytes, 12.8 GB/s; MPS 512: 17 and 9 beats, 7.53 and
14.2 GB/s. The link (Gen3 x8 7.9 GB/s, Gen4 x8 15.8 GB/s of symbols, less 20 bytes of header, sequence
number and LCRC per TLP) is above each. The 4 KiB ceiling counts the data TLPs alone.

Host reads in flight must cover the 800 ns read latency: 20 data read tags (5-bit tags, as without
Extended Tags) of MRRS bytes each. At 512 bits MRRS 512 gives 10 KiB per round trip, less than the 12.8
GB/s link needs, so the 512-bit build runs at MRRS 1024; one MRRS 512 run shows the tag bound.

Run: .venv/bin/python bench/dma_bench.py
"""

from __future__ import annotations

import math
import sys

from simbench import run_bench_module
from tb.build import SimBuild

USER_CLK_HZ = 250e6
# descriptor bytes in a data TLP's first beat: the RQ write's (the RC completion's is 12, same beats)
DESCRIPTOR_BYTES = 16
# width: (build, link, device MRRS)
BUILDS = {256: (SimBuild(), "Gen3 x8", 512),
          512: (SimBuild(parameters={"AXIS_PCIE_DATA_WIDTH": 512}), "Gen4 x8", 1024)}


def tlp_beats(width: int, mps: int) -> int:
    """Beats of one MPS-sized data TLP on a ``width``-bit stream."""
    return math.ceil((DESCRIPTOR_BYTES + mps) / (width // 8))


def ceiling_gb_s(width: int, mps: int) -> float:
    """Data bytes per simulated second when every beat carries a full-size TLP's share."""
    return mps * USER_CLK_HZ / tlp_beats(width, mps) / 1e9


def ceiling_iops(width: int, mps: int, length: int = 4096) -> float:
    """Commands per second when the data TLPs of ``length``-byte commands fill every beat."""
    return USER_CLK_HZ / (length // mps * tlp_beats(width, mps))


def print_throughput(label: str, figures: dict, ceiling: float) -> None:
    print(f"  {label:34s} {figures['gb_per_s']:6.2f} GB/s  {100 * figures['gb_per_s'] / ceiling:5.1f} % of "
          f"{ceiling:5.2f}  {figures['wall_s_per_mib']:5.2f} s wall per simulated MiB")


def main() -> int:
    for width, (build, link, mrrs) in BUILDS.items():
        figures = run_bench_module("dma_rates", build, {"BENCH_MRRS": str(mrrs)})
        if figures is None:
            return 1
        print(f"DMA ({width}-bit {link}, 250 MHz, 800 ns host reads, MRRS {mrrs}):")
        print("  128 KiB commands, 4 queues x 4 in flight:")
        for label, f in figures.items():
            if "MPS" in label:
                print_throughput(label, f, ceiling_gb_s(width, int(label.split()[-1])))
        iops_ceiling = ceiling_iops(width, 256)
        print(f"  4 KiB commands, 8 queues x 16 in flight, MPS 256 (data ceiling {iops_ceiling / 1e6:.2f} M IOPS):")
        for label, f in figures.items():
            if "4 KiB" in label:
                print(f"  {label:34s} {f['iops'] / 1e6:6.2f} M IOPS  {100 * f['iops'] / iops_ceiling:5.1f} % of ceiling"
                      f"  {f['wall_s_per_mib']:5.2f} s wall per simulated MiB")
    build, _, _ = BUILDS[512]
    bound = run_bench_module("dma_rates", build, {"BENCH_MRRS": "512"}, testcase="WriteMps256")
    if bound is None:
        return 1
    print("  at MRRS 512 instead (20 read tags x 512 B in flight per round trip):")
    for label, f in bound.items():
        print_throughput(label, f, ceiling_gb_s(512, 256))
    return 0


if __name__ == "__main__":
    sys.exit(main())
