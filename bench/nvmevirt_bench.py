"""NVMeVirt latency check: the whole stack at NVMeVirt's SAMSUNG_970PRO settings against the real device.

Runs bench/sim/nvmevirt_970pro.py (real, unscaled NAND timings, in
simulated time) and prints QD1 4 KiB random read latency, QD32 4 KiB random
read IOPS and sequential 128 KiB write bandwidth beside the 970 PRO 512 GB
spec sheet's figures. docs/flash.md explains the differences over 10 %.

Run: .venv/bin/python bench/nvmevirt_bench.py
"""

from __future__ import annotations

import sys
import time

from simbench import run_bench_module

# Samsung 970 PRO 512 GB (MZ-V7P512), the manufacturer's figures: random 4 KiB read at QD32 with 4 threads,
# sequential write; no QD1 latency is given
SPEC_QD32_IOPS = 370_000
SPEC_SEQ_WRITE_MB_S = 2_300


def difference(measured: float, reference: float) -> str:
    return f"{100 * (measured - reference) / reference:+.0f} %"


def main() -> int:
    wall = time.perf_counter()
    figures = run_bench_module("nvmevirt_970pro")
    if figures is None:
        return 1
    f = figures["measured"]
    print("NVMeVirt SAMSUNG_970PRO settings through the whole stack (conv FTL, tR 35.76 us, tPROG 185 us, "
          "firmware 21.5 us per 4 KiB read), simulated time:")
    print(f"  QD1 4 KiB random read latency    p50 {f['qd1_p50_us']:6.1f} us   p99 {f['qd1_p99_us']:6.1f} us   "
          f"(spec sheet: none given)")
    print(f"  QD32 4 KiB random read           {f['qd32_iops']:9,.0f} IOPS   spec sheet {SPEC_QD32_IOPS:,} "
          f"(at QD32 x 4 threads): {difference(f['qd32_iops'], SPEC_QD32_IOPS)}")
    print(f"  sequential 128 KiB write (QD8)   {f['seq_write_mb_s']:9,.0f} MB/s   spec sheet {SPEC_SEQ_WRITE_MB_S:,}: "
          f"{difference(f['seq_write_mb_s'], SPEC_SEQ_WRITE_MB_S)}")
    print("  the NVMeVirt paper's own figures for its 970 PRO emulation were not available to this project: "
          "not compared")
    print(f"  {f['reads']} reads checked by the data scoreboard, {f['written_mib']:.0f} MiB timed; "
          f"wall clock {time.perf_counter() - wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
