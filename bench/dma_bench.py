"""DMA benchmark: sustained throughput of 128 KiB NVMe transfers both ways, against the link's ceiling.

Runs bench/sim/dma_rates.py and prints GB/s of simulated time, the share of
the 256-bit ceiling (a 256-byte TLP plus its descriptor takes 9 beats of
32 bytes at 250 MHz: 7.11 GB/s) and the simulation's own cost in wall-clock
seconds per simulated MiB.

Run: .venv/bin/python bench/dma_bench.py
"""

from __future__ import annotations

import sys

from simbench import run_bench_module

CEILING_GB_S = 256 / (9 * 32) * 32 * 250e6 / 1e9


def main() -> int:
    figures = run_bench_module("dma_rates")
    if figures is None:
        return 1
    print(f"DMA throughput, 128 KiB commands, 4 queues x 4 in flight, MPS 256, MRRS 512, 800 ns host reads "
          f"(ceiling {CEILING_GB_S:.2f} GB/s):")
    for label, f in figures.items():
        print(f"  {label:24s} {f['gb_per_s']:6.2f} GB/s  {100 * f['gb_per_s'] / CEILING_GB_S:5.1f} % of ceiling  "
              f"{f['wall_s_per_mib']:5.2f} s wall per simulated MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
