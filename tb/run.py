"""Command line for `make sim`: run one cocotb test module from tests/sim.

    python -m tb.run --test regs [--testcase RegResetValues] [--waves] [--seed 7]
"""

from __future__ import annotations

import argparse
import sys

from tb.build import SimBuild, sim_modules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test", default="demo", help="module in tests/sim (default: demo, the main job)")
    parser.add_argument("--testcase", default=None, help="run only this test of the module")
    parser.add_argument("--waves", action="store_true", help="write an FST to build/waves/<test>.fst")
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed by cocotb)")
    parser.add_argument("--sim", default="verilator", choices=["verilator", "icarus"])
    args = parser.parse_args(argv)

    if args.test not in sim_modules():
        parser.error(f"no module {args.test!r} in tests/sim; have: {', '.join(sim_modules())}")
    build = SimBuild(waves=args.waves, simulator=args.sim)
    result = build.run(args.test, testcase=args.testcase, seed=args.seed)
    if result.wave_file is not None:
        print(f"waves: {result.wave_file}  (make waves TEST={args.test})")
    print(f"{args.test}: {result.total - result.failed} passed, {result.failed} failed")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
