"""Firmware benchmark: commands per second of simulated time at two SoC cost settings.

Runs bench/sim/firmware_rates.py and prints the table. Data moves through
the RTL DMA engine.

Run: .venv/bin/python bench/firmware_bench.py
"""

from __future__ import annotations

import sys
import time

from simbench import run_bench_module


def main() -> int:
    wall = time.perf_counter()
    figures = run_bench_module("firmware_rates")
    if figures is None:
        return 1
    print("firmware command rate, 4 KiB reads, 4 queues x 8 in flight, nvm back end at zero latency:")
    for label, f in figures.items():
        print(f"  {label:38s} {f['commands_per_s']:12,.0f} commands/s of simulated time "
              f"({f['commands']} commands in {f['sim_ns'] / 1000:.1f} us)")
    print(f"  wall clock {time.perf_counter() - wall:.1f} s (data path: the RTL DMA engine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
