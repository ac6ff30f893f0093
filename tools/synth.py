"""`make synth`: Yosys synth_xilinx on the top level, then LUT/FF/BRAM counts.

Targets the UltraScale+ family (xcup) that the hard IP model stands for.
The full Yosys log goes to <out>/yosys.log. ``--check`` only elaborates the
design into generic logic and checks it (no driver conflicts, no latches
where flops were meant, no missing modules): seconds instead of minutes,
for `make test`; the full mapping and its counts are `make synth`'s.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

# the generated headers of rtl/include (offsets and parameters from contract/)
INCLUDES = "-I" + str(Path(__file__).resolve().parent.parent / "rtl" / "include")

CATEGORIES = {
    "LUT": re.compile(r"^LUT[1-6]$"),
    "FF": re.compile(r"^FD[CPRSE]+$"),
    "LUTRAM": re.compile(r"^RAM(32|64|128|256)"),
    "BRAM": re.compile(r"^RAMB(18|36)"),
    "DSP": re.compile(r"^DSP48"),
    "CARRY": re.compile(r"^CARRY"),
}


def categorize(cells: dict[str, int]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for cell, n in cells.items():
        for name, pattern in CATEGORIES.items():
            if pattern.match(cell):
                counts[name] += n
    return counts


def parse_stat(log: str) -> dict[str, int]:
    """Cell counts from the last `stat` report of a Yosys log."""
    report = log[log.rindex("Number of cells:"):]
    cells: dict[str, int] = {}
    for line in report.splitlines()[1:]:
        match = re.match(r"^\s+\$?(\w+)\s+(\d+)$", line)
        if match:
            cells[match.group(1)] = int(match.group(2))
        elif cells and not line.strip():
            break
    return cells


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--top", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--check", action="store_true", help="elaborate and check only, no technology mapping")
    parser.add_argument("sources", nargs="+")
    args = parser.parse_args()

    if args.check:
        return check(args.top, args.out, args.sources)
    script = f"read_verilog {INCLUDES} {' '.join(args.sources)}; synth_xilinx -family xcup -top {args.top} -flatten; stat"
    proc = subprocess.run(["yosys", "-q", "-l", str(args.out / "yosys.log"), "-p", script],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        return proc.returncode
    counts = categorize(parse_stat((args.out / "yosys.log").read_text()))
    if counts["LUT"] == 0 or counts["FF"] == 0:
        sys.stderr.write("synth: no LUTs or flip-flops in the netlist; see yosys.log\n")
        return 1
    summary = ", ".join(f"{name} {counts[name]}" for name in CATEGORIES)
    print(f"synth ({args.top}, UltraScale+): {summary}")
    return 0


def check(top: str, out: Path, sources: list[str]) -> int:
    script = (f"read_verilog {INCLUDES} {' '.join(sources)}; hierarchy -check -top {top}; proc; flatten; opt -fast; "
              "setattr -unset init; check -assert")
    proc = subprocess.run(["yosys", "-q", "-l", str(out / "yosys-check.log"), "-p", script],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr + f"synth check failed: see {out / 'yosys-check.log'}\n")
        return proc.returncode
    print(f"synth check ({top}): elaborates, no conflicts or undriven logic (full mapping: make synth)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
