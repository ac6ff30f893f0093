"""Firmware benchmark: commands per second of simulated time at two SoC cost settings.

Runs bench/sim/firmware_rates.py and prints the table. The data path is the
testbench's DMA stand-in until the RTL DMA engine exists.

Run: .venv/bin/python bench/firmware_bench.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tb.build import BUILD_ROOT, SimBuild  # noqa: E402

OUT = BUILD_ROOT / "bench" / "firmware_rates.json"


def main() -> int:
    wall = time.perf_counter()
    OUT.unlink(missing_ok=True)
    result = SimBuild().run("firmware_rates", module_dir=ROOT / "bench" / "sim", extra_env={"BENCH_OUT": str(OUT)})
    if not result.passed:
        print("firmware bench: simulation failed, see", result.results_xml)
        return 1
    print("firmware command rate, 4 KiB reads, 4 queues x 8 in flight, nvm back end at zero latency:")
    for label, f in json.loads(OUT.read_text()).items():
        print(f"  {label:38s} {f['commands_per_s']:12,.0f} commands/s of simulated time "
              f"({f['commands']} commands in {f['sim_ns'] / 1000:.1f} us)")
    print(f"  wall clock {time.perf_counter() - wall:.1f} s (data path: the testbench DMA stand-in)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
