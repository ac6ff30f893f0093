"""The regression's JUnit and its failures, for `make test` and CI.

    python tools/results.py expand build/results/unit.xml build/results/pytest.xml --out build/results/junit.xml
    python tools/results.py merge --out junit.xml shard-1/junit.xml shard-2/junit.xml ...
    python tools/results.py failures build/results/junit.xml

``expand`` gives one testcase per cocotb test (pytest sees one per module
run); ``merge`` joins the CI shards' files; ``failures`` prints every
failing test with its seed, log and rerun command, and exits 1 if there is
one (so that it can end a CI job).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tb.results import expand_junit, failures, junit_testcases, merge_junit  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    expand = commands.add_parser("expand", help="one testcase per cocotb test")
    expand.add_argument("pytest_xmls", type=Path, nargs="+")
    expand.add_argument("--out", type=Path, required=True)
    merge = commands.add_parser("merge", help="join JUnit files")
    merge.add_argument("inputs", type=Path, nargs="+")
    merge.add_argument("--out", type=Path, required=True)
    failed = commands.add_parser("failures", help="list failing tests with seed, log and rerun command")
    failed.add_argument("inputs", type=Path, nargs="+")
    args = parser.parse_args(argv)

    if args.command == "expand":
        expand_junit(args.pytest_xmls, args.out)
    elif args.command == "merge":
        merge_junit(args.inputs, args.out)
    else:
        found = failures(junit_testcases(args.inputs))
        for failure in found:
            print("\n".join(failure.lines()))
        if found:
            print(f"{len(found)} failed; each `rerun` line repeats exactly that test with waves")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
