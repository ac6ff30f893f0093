"""`make coverage`: merge the functional coverage of every simulation run and list holes.

Reads build/coverage/<module>.xml (one per run, written by tb/coverage.py),
merges them with cocotb-coverage into build/coverage/merged.xml, and prints
each cover point's percentage and the bins never hit.
"""

from __future__ import annotations

import logging
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from cocotb_coverage.coverage import merge_coverage

COVERAGE_DIR = Path(__file__).resolve().parent.parent / "build" / "coverage"
MERGED = COVERAGE_DIR / "merged.xml"


def main() -> int:
    runs = sorted(p for p in COVERAGE_DIR.glob("*.xml") if p != MERGED)
    if not runs:
        print("coverage: no runs recorded (run `make test` or `make sim`)")
        return 0
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
