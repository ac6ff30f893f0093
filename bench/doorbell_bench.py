"""Shadow doorbell benchmark: MMIO doorbell writes per command, and what serving the shadow page costs the SoC.

Runs bench/sim/doorbell_rates.py (4 KiB random reads at two queue depths on
two queue pairs, 800 ns host, in simulated time) and prints, per depth, what
each command cost the host in MMIO doorbell writes and the SoC in sweeps,
DMA and time: on bare metal for hardware (MMIO) doorbells, shadow doorbells
swept by the firmware when it sees work, and shadow doorbells polled by a
core of their own (LeapIO's runtime); and in a guest VM under strict
protection for hardware doorbells, polled shadow doorbells, and polled
shadow doorbells reached through PCIe ATS (LeapIO's address translation),
with the Translation Requests and device-TLB invalidations per command.

Run: .venv/bin/python bench/doorbell_bench.py
"""

from __future__ import annotations

import sys
import time

from simbench import run_bench_module

MODES = {"mmio": "hardware", "shadow": "swept", "polled": "polled", "mmio+ats": "hw, ATS on", "polled+ats": "polled+ATS"}
PLACES = {"bare": "bare metal, no IOMMU", "vm": "guest VM, strict vIOMMU"}


def main() -> int:
    wall = time.perf_counter()
    figures = run_bench_module("doorbell_rates")
    if figures is None:
        return 1
    print("doorbells: MMIO (hardware), shadow swept on work, shadow polled every 1 us (LeapIO-style), polled "
          "through PCIe ATS; 4 KiB random reads on 2 queue pairs, each buffer mapped and unmapped per read, "
          "800 ns host, SoC 2 us per read, simulated time:")
    print(f"  {'where':5} {'doorbells':10} {'QD':>3} {'MMIO SQ/cmd':>11} {'MMIO CQ/cmd':>11} {'updates/cmd':>11} "
          f"{'sweeps/cmd':>10} {'sweep DMA/cmd':>13} {'sweep us/cmd':>12} {'ATS req/cmd':>11} {'dev inv/cmd':>11} "
          f"{'IOPS':>9} {'p50 us':>7} {'p99 us':>7}")
    for label, f in figures.items():
        place, mode, depth = label.split(" ")
        print(f"  {place:5} {MODES[mode]:10} {depth.removeprefix('qd'):>3} {f['mmio_sq_per_cmd']:11.2f} "
              f"{f['mmio_cq_per_cmd']:11.2f} {f['updates_per_cmd']:11.2f} {f['sweeps_per_cmd']:10.2f} "
              f"{f['host_dma_per_cmd']:13.2f} {f['sweep_us_per_cmd']:12.2f} {f['ats_requests_per_cmd']:11.3f} "
              f"{f['device_invalidations_per_cmd']:11.2f} {f['iops']:9,.0f} {f['p50_us']:7.1f} {f['p99_us']:7.1f}")
    print("  where: " + "; ".join(f"{k} = {v}" for k, v in PLACES.items()))
    for label, f in figures.items():
        place, mode, depth = label.split(" ")
        if mode.startswith("polled"):
            print(f"  {MODES[mode]} ({place}) {depth.upper()}: the polling core spins the whole run, "
                  f"{f['elapsed_us_per_cmd']:.2f} us of core time per command, of which "
                  f"{f['sweep_us_per_cmd']:.2f} us in sweeps")
    print(f"  wall clock {time.perf_counter() - wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
