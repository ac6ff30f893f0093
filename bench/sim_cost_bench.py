"""What the simulation costs: wall-clock seconds per simulated MiB and per simulated millisecond.

All figures come from one run of this script, so that the ratios compare like with like on a noisy
machine: the floor (a design that only streams memory writes and reads behind the same PCIe model,
bench/hdl/pcie_stream_floor.v), 128 KiB NVMe Writes and Reads through the whole controller at MPS 256
on the 256-bit and the 512-bit build (bench/sim/dma_rates.py), an idle millisecond, QD1 4 KiB reads on the conv FTL at the OX preset's
real NAND timings, and register reads (bench/sim/sim_cost.py).

Run: .venv/bin/python bench/sim_cost_bench.py
"""

from __future__ import annotations

import sys

from dma_bench import BUILDS
from simbench import run_bench_module

from tb.build import SimBuild


def main() -> int:
    floor = run_bench_module("sim_cost_floor", SimBuild(floor=True))
    dma = {width: run_bench_module("dma_rates", build, {"BENCH_MRRS": str(mrrs)}, testcase="Mps256")
           for width, (build, _, mrrs) in BUILDS.items()}
    cost = run_bench_module("sim_cost")
    if floor is None or None in dma.values() or cost is None:
        return 1
    base = (floor["write"]["wall_s_per_mib"] + floor["read"]["wall_s_per_mib"]) / 2
    print("Simulation cost (wall-clock seconds; the ratio is against the floor's mean, all from this run):")
    print(f"  {'':34s} {'s per sim MiB':>14s} {'ratio':>7s}")
    rows = [("floor: memory writes", floor["write"]["wall_s_per_mib"]),
            ("floor: memory reads", floor["read"]["wall_s_per_mib"]),
            *[(f"NVMe 128 KiB {kind}s, {width} bits", dma[width][f"{direction} ({kind}), MPS 256"]["wall_s_per_mib"])
              for width in BUILDS for direction, kind in (("host -> device", "Write"), ("device -> host", "Read"))]]
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
