"""Queue-engine benchmark: fetch rate and doorbell-to-mailbox latency, in simulated time.

Runs bench/sim/queue_rates.py on the default Verilator build and prints the
figures. Wall-clock time is printed only as the simulation's own cost.

Run: .venv/bin/python bench/queue_bench.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tb.build import BUILD_ROOT, SimBuild  # noqa: E402

OUT = BUILD_ROOT / "bench" / "queue_rates.json"


def main() -> int:
    wall = time.perf_counter()
    OUT.unlink(missing_ok=True)
    result = SimBuild().run("queue_rates", module_dir=ROOT / "bench" / "sim",
                            extra_env={"BENCH_OUT": str(OUT)})
    if not result.passed:
        print("queue bench: simulation failed, see", result.results_xml)
        return 1
    for latency, figures in json.loads(OUT.read_text()).items():
        print(f"queue engine (256-bit Gen3 x8, 250 MHz, host read latency {latency} ns):")
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
