"""Queue-engine benchmark: fetch rate and doorbell-to-mailbox latency, in simulated time.

Runs bench/sim/queue_rates.py on the default Verilator build (256-bit
streams, Gen3 x8) and on the 512-bit one (Gen4 x8), and
prints the figures. Wall-clock time is printed only as the simulation's own
cost.

Run: .venv/bin/python bench/queue_bench.py
"""

from __future__ import annotations

import sys
import time

from simbench import run_bench_module
from tb.build import SimBuild

# the default build, and the 512-bit one; the link the test bench trains for each (tb/pcie_tb.py)
BUILDS = {256: (SimBuild(), "Gen3 x8"),
          512: (SimBuild(parameters={"AXIS_PCIE_DATA_WIDTH": 512}), "Gen4 x8")}


def main() -> int:
    wall = time.perf_counter()
    for width, (build, link) in BUILDS.items():
        figures_by_latency = run_bench_module("queue_rates", build)
        if figures_by_latency is None:
            return 1
        for latency, figures in figures_by_latency.items():
            print(f"queue engine ({width}-bit {link}, 250 MHz, host read latency {latency} ns):")
            print(f"  doorbell event -> command in mailbox   {figures['doorbell_to_mailbox_ns']:8.0f} ns")
            print(f"  host MMIO write -> command in mailbox  {figures['host_write_to_mailbox_ns']:8.0f} ns")
            print(f"  fetch, 8 SQs x 8 entries (64 slots)    {figures['fetch_64_ns']:8.0f} ns "
                  f"= {figures['fetch_rate_cmds_per_us']:.1f} commands/us "
                  f"({figures['fetch_engine_cmds_per_us']:.1f}/us first to last command queued)")
            print(f"  end to end, zero-cost firmware, 8 SQs  {figures['end_to_end_cmds_per_us']:8.2f} commands/us")
    print(f"  wall clock                             {time.perf_counter() - wall:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
