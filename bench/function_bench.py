"""Controllers per PCIe function: IOPS per function with 1, 2 and 4 busy, and Jain's fairness index.

Runs bench/sim/function_rates.py on the four-function build (15 I/O
queue ids per controller, 32 queue table entries) and prints each busy function's 4 KiB read IOPS in
simulated time, their sum, and Jain's index (sum x)^2 / (n sum x^2) of the
shares when every function is busy (1.0: equal shares); then the shares of
a function with four busy SQs and one with one, without slot quotas and
with the slots shared 1:1 and 1:3.

Run: .venv/bin/python bench/function_bench.py
"""

from __future__ import annotations

import sys
import time

from simbench import run_bench_module
from tb.build import SimBuild

BUILD = SimBuild(parameters={"FUNCTIONS": 4, "IO_QUEUES": 15, "QUEUE_POOL": 32})


def jain(rates: list[float]) -> float:
    """Jain's fairness index: 1 when every share is equal, 1/n when one takes all."""
    return sum(rates) ** 2 / (len(rates) * sum(r * r for r in rates))


def main() -> int:
    wall = time.perf_counter()
    figures = run_bench_module("function_rates", BUILD)
    if figures is None:
        return 1
    print("controllers per function (256-bit Gen3 x8, 4 KiB reads, QD 16 per function, nvm back end):")
    for busy, rates in figures["iops"].items():
        shares = "  ".join(f"fn{fn} {rate / 1000:7.1f}k" for fn, rate in enumerate(rates))
        print(f"  {busy} busy: {shares}   total {sum(rates) / 1000:7.1f}k IOPS")
    everyone = figures["iops"][max(figures["iops"], key=int)]
    print(f"  Jain's fairness index, {len(everyone)} busy: {jain(everyone):.4f}")
    unequal = figures["unequal"]
    print(f"  fn0 with 4 busy SQs, fn1 with 1 ({unequal['outstanding per SQ']} reads outstanding per SQ):")
    for label, (busy, single) in unequal["iops"].items():
        print(f"    {label:12s} fn0 {busy / 1000:7.1f}k  fn1 {single / 1000:7.1f}k IOPS, "
              f"fn1's share {single / (busy + single):.0%}")
    print(f"  wall clock {time.perf_counter() - wall:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
