"""Write .test_durations, the file pytest-split balances the CI's simulation shards by.

    python tools/durations.py build/results/pytest.xml       after a full `make test`
    python tools/durations.py shards/*/results/pytest.xml    CI's shard artifacts (the report job does this)

Reads pytest's own JUnit XML (one testcase per pytest test, not the per-cocotb-test
file that tools/results.py expands it into) and keeps the simulation-level
testcases, those of tests/ outside tests/unit (SIM_ARGS): the unit tests take
seconds and are not sharded.
Each becomes its pytest node id with its time in seconds, so the shards split
by what the modules really cost rather than by count (dma_transfers and
sqe_fuzz each take as long as ten register-level modules).

The file is written whole from the JUnit given: a test missing from it is
missing from the file, and tests/unit/test_shards.py fails until the
durations are refreshed from a run that had every test.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATIONS = ROOT / ".test_durations"
# the sharded regression, as pytest arguments: every test module of tests/ but the unit tests
SIM_ARGS = ["tests", "--ignore=tests/unit"]
UNIT_PACKAGE = "tests.unit."


def is_simulation_test(classname: str) -> bool:
    """Whether a JUnit classname (tests.test_simulations) is a test module that SIM_ARGS select."""
    return classname.startswith("tests.") and not classname.startswith(UNIT_PACKAGE)


def sim_durations(junit: Path) -> dict[str, float]:
    """Node id -> seconds for every simulation testcase of one pytest JUnit file."""
    return {
        f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}": round(float(case.get("time", "0")), 3)
        for case in ET.parse(junit).getroot().iter("testcase")
        if is_simulation_test(case.get("classname", ""))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("junit", type=Path, nargs="+", help="pytest JUnit XML files (shards are disjoint)")
    parser.add_argument("--out", type=Path, default=DURATIONS, help="default: .test_durations")
    args = parser.parse_args(argv)
    durations: dict[str, float] = {}
    for junit in args.junit:
        durations.update(sim_durations(junit))
    if not durations:
        print(f"durations: no simulation testcase in {', '.join(map(str, args.junit))}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(durations, indent=2, sort_keys=True) + "\n")
    print(f"durations: {len(durations)} tests, {sum(durations.values()):.0f} s in all -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
