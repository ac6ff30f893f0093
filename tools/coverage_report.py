"""`make coverage`: merge the functional coverage of every simulation run and list holes.

    python tools/coverage_report.py                  build/coverage (`make coverage`)
    python tools/coverage_report.py shards/*/coverage   CI: the coverage of every shard

Reads <dir>/<run>.xml (one per run, written by tb/coverage.py) from each
directory given, merges them with cocotb-coverage into build/coverage/merged.xml,
and prints each cover point's percentage and the bins never hit.
"""

from __future__ import annotations

import argparse
import logging
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from cocotb_coverage.coverage import merge_coverage

COVERAGE_DIR = Path(__file__).resolve().parent.parent / "build" / "coverage"
MERGED = COVERAGE_DIR / "merged.xml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", type=Path, nargs="*", default=[COVERAGE_DIR],
                        help="directories of <run>.xml files (default: build/coverage)")
    args = parser.parse_args(argv)
    # an earlier merge's output is not a run of its own
    runs = sorted(p for d in args.dirs for p in d.glob("*.xml") if p.name != MERGED.name)
    if not runs:
        print("coverage: no runs recorded (run `make test` or `make sim`)")
        return 0
    MERGED.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.WARNING)
    merge_coverage(logging.getLogger("coverage").info, str(MERGED), *map(str, runs))
    print(f"functional coverage over {len(runs)} simulation runs ({MERGED}):")
    for point in ET.parse(MERGED).getroot().iter():
        if point.get("weight") is None:
            continue
        holes = [b.get("bin") for b in point if b.get("hits") == "0"]
        print(f"  {point.get('abs_name'):40s} {float(point.get('cover_percentage')):6.1f}%"
              + (f"   never hit: {', '.join(holes)}" if holes else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
