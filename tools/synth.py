"""`make synth`: Yosys synth_xilinx on the top level, then LUT/FF/BRAM counts.

Targets the UltraScale+ family (xcup) that the hard IP model stands for.
``--param NAME=VALUE`` overrides a top-level parameter (the stream width,
for `make synth`'s build at each width). The full Yosys log goes to
<out>/yosys.log. ``--check`` only elaborates the
design into generic logic and checks it (no driver conflicts, no latches
where flops were meant, no missing modules): seconds instead of minutes,
for `make test`; the full mapping and its counts are `make synth`'s.
``--modules`` maps without flattening and prints each module's own counts
times its instances, largest first (`make synth-modules`): where the LUTs
go, at the price of no optimization across module boundaries, so its
total is above the flattened one.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
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


def parse_modules(log: str) -> dict[str, tuple[int, Counter[str]]]:
    """Per module (parameterized variants under their module's name): its instances in the design and
    the counts of the cells it holds itself, from the last hierarchical `stat` report of a Yosys log."""
    report = log[log.rindex("Printing statistics."):]
    own: dict[str, Counter[str]] = {}
    sections = re.split(r"^=== (.+) ===$", report, flags=re.M)
    hierarchy = ""
    for name, body in zip(sections[1::2], sections[2::2]):
        if name == "design hierarchy":
            hierarchy = body
            continue
        cells = parse_stat(body) if "Number of cells:" in body else {}
        own[name] = categorize(cells)
    modules: dict[str, tuple[int, Counter[str]]] = {}
    for line in hierarchy.splitlines():
        match = re.match(r"^\s+(\S+)\s+(\d+)$", line)
        if match and match.group(1) in own:
            name, count = match.group(1), int(match.group(2))
            base = module_name(name)
            instances, total = modules.get(base, (0, Counter()))
            modules[base] = (instances + count, total + Counter({k: v * count for k, v in own[name].items()}))
    return modules


def module_name(yosys_name: str) -> str:
    """``$paramod$<hash>\\name`` or ``$paramod\\name\\P=V...`` -> name."""
    if not yosys_name.startswith("$paramod"):
        return yosys_name.lstrip("\\")
    parts = yosys_name.split("\\")
    return parts[1]


# "21.43. Executing ABC pass (technology mapping using ABC)." : a stage of synth_xilinx
STAGE = re.compile(r"^\d+\.\d+\. Executing (\S+) pass")


def run_yosys(script: str, log: Path, stages: bool) -> int:
    """Run Yosys with its whole log in ``log``; with ``stages``, print each stage as it starts (the
    mapping takes minutes). On failure, print Yosys's ERROR lines and where the log is."""
    start = time.monotonic()
    with subprocess.Popen(["yosys", "-l", str(log), "-p", script], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        errors = []
        for line in proc.stdout:
            if stages and (stage := STAGE.match(line)):
                print(f"synth: {time.monotonic() - start:6.0f} s  {stage.group(1)}", flush=True)
            if line.startswith("ERROR"):
                errors.append(line.rstrip())
    if proc.returncode != 0:
        print("\n".join(errors + [f"synth: yosys failed, see {log}"]), file=sys.stderr)
    return proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--top", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--check", action="store_true", help="elaborate and check only, no technology mapping")
    parser.add_argument("--modules", action="store_true", help="map without flattening; counts per module")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a top-level parameter other than its default (repeatable)")
    parser.add_argument("sources", nargs="+")
    args = parser.parse_args()
    read = read_script(args.top, args.sources, args.param)

    if shutil.which("yosys") is None:
        print("synth: yosys is not installed: `apt-get install yosys` (tools/setup.sh does it as root)",
              file=sys.stderr)
        return 1
    if args.check:
        return check(read, args.top, args.out, args.param)
    if args.modules:
        return per_module(read, args.top, args.out, args.param)
    script = f"{read}; synth_xilinx -family xcup -top {args.top} -flatten; stat"
    status = run_yosys(script, args.out / "yosys.log", stages=True)
    if status != 0:
        return status
    counts = categorize(parse_stat((args.out / "yosys.log").read_text()))
    if counts["LUT"] == 0 or counts["FF"] == 0:
        sys.stderr.write("synth: no LUTs or flip-flops in the netlist; see yosys.log\n")
        return 1
    summary = ", ".join(f"{name} {counts[name]}" for name in CATEGORIES)
    print(f"synth ({args.top}{described(args.param)}, UltraScale+): {summary}")
    return 0


def read_script(top: str, sources: list[str], params: list[str]) -> str:
    """Yosys commands that read the sources and set the top level's parameters."""
    script = f"read_verilog {INCLUDES} {' '.join(sources)}"
    sets = []
    for param in params:
        name, _, value = param.partition("=")
        if not name or not value.isdigit():
            raise SystemExit(f"synth: --param takes NAME=VALUE with a decimal value, not {param!r}")
        sets.append(f"-set {name} {value}")
    # one chparam: the design is elaborated with every value at once (its parameter checks see them together)
    return f"{script}; chparam {' '.join(sets)} {top}" if sets else script


def described(params: list[str]) -> str:
    return "".join(f" {param}" for param in params)


def per_module(read: str, top: str, out: Path, params: list[str]) -> int:
    script = f"{read}; synth_xilinx -family xcup -top {top}; stat"
    if run_yosys(script, out / "yosys-modules.log", stages=True) != 0:
        return 1
    modules = parse_modules((out / "yosys-modules.log").read_text())
    if not modules:
        sys.stderr.write("synth: no per-module statistics in yosys-modules.log\n")
        return 1
    total = sum((counts for _, counts in modules.values()), Counter())
    print(f"synth per module ({top}{described(params)}, UltraScale+, not flattened; "
          f"each module's own cells times its instances):")
    print(f"  {'module':24s} {'inst':>5s} {'LUT':>8s} {'FF':>8s} {'LUTRAM':>7s} {'LUT %':>6s}")
    for name, (instances, counts) in sorted(modules.items(), key=lambda m: -m[1][1]["LUT"]):
        print(f"  {name:24s} {instances:5d} {counts['LUT']:8d} {counts['FF']:8d} {counts['LUTRAM']:7d} "
              f"{100 * counts['LUT'] / max(total['LUT'], 1):5.1f}%")
    print(f"  {'total':24s} {'':5s} {total['LUT']:8d} {total['FF']:8d} {total['LUTRAM']:7d}")
    return 0


def check(read: str, top: str, out: Path, params: list[str]) -> int:
    script = f"{read}; hierarchy -check -top {top}; proc; flatten; opt -fast; setattr -unset init; check -assert"
    if run_yosys(script, out / "yosys-check.log", stages=False) != 0:
        return 1
    print(f"synth check ({top}{described(params)}): elaborates, no conflicts or undriven logic (full mapping: make synth)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
