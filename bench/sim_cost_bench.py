"""What the simulation costs: wall-clock seconds per simulated MiB and per simulated millisecond.

All figures come from one run of this script, so that the ratios compare like with like on a noisy
machine: the floor (a design that only streams memory writes and reads behind the same PCIe model,
bench/hdl/pcie_stream_floor.v), 128 KiB NVMe Writes and Reads through the whole controller
(bench/sim/dma_rates.py), an idle millisecond, QD1 4 KiB reads on the conv FTL at the OX preset's
real NAND timings, and register reads (bench/sim/sim_cost.py).

Run: .venv/bin/python bench/sim_cost_bench.py
"""

from __future__ import annotations

import sys

from simbench import run_bench_module

from tb.build import SimBuild


def main() -> int:
    floor = run_bench_module("sim_cost_floor", SimBuild(floor=True))
    dma = run_bench_module("dma_rates")
    cost = run_bench_module("sim_cost")
    if floor is None or dma is None or cost is None:
        return 1
    base = (floor["write"]["wall_s_per_mib"] + floor["read"]["wall_s_per_mib"]) / 2
    print("Simulation cost (wall-clock seconds; the ratio is against the floor's mean, all from this run):")
    print(f"  {'':34s} {'s per sim MiB':>14s} {'ratio':>7s}")
    rows = [("floor: memory writes", floor["write"]["wall_s_per_mib"]),
            ("floor: memory reads", floor["read"]["wall_s_per_mib"]),
            ("NVMe 128 KiB Writes", dma["host -> device (Write)"]["wall_s_per_mib"]),
            ("NVMe 128 KiB Reads", dma["device -> host (Read)"]["wall_s_per_mib"])]
    for label, value in rows:
        print(f"  {label:34s} {value:14.2f} {value / base:6.2f}x")
    idle, conv, regs = cost["idle"], cost["conv_qd1"], cost["registers"]
    print(f"  {'idle, controller enabled':34s} {idle['wall_s_per_ms']:14.3f} s per simulated ms")
    print(f"  {'QD1 4 KiB reads, conv, OX timings':34s} {conv['wall_s_per_ms']:14.3f} s per simulated ms, "
          f"{conv['reads_per_wall_minute']:.0f} reads per wall minute "
          f"(mean {conv['mean_latency_us']:.1f} us simulated)")
    print(f"  {'register reads':34s} {regs['sim_ns_per_wall_s']:14.0f} simulated ns per wall second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
