"""Command line for `make sim`: run one cocotb test module from tests/sim.

    python -m tb.run --test regs [--testcase RegResetValues] [--waves] [--seed 7]
                     [--sim icarus] [--param AXIS_PCIE_DATA_WIDTH=128]

The terminal shows one line per test; the simulator's whole output is in
build/runs/<module>/sim.log and each test's part in <Test>.log. The last
lines name every failing test with its seed, its log and the command that
reruns exactly it with waves.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from tb.build import TESTS_DIR, BuildError, SimBuild, module_parameters, sim_modules
from tb.results import WATCHDOG_MESSAGE, Outcome, module_failures, relative


def _parameter(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    try:
        return name, int(value, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: the value is not an integer") from None


def last_error(log: Path) -> str:
    """The last exception line of a log, or the wall-clock watchdog's verdict (why a module could not start or
    finish), or a pointer to the log."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    errors = [line.strip() for line in lines
              if re.match(r"^\w*(Error|Exception)\b.*:", line.strip()) or line.startswith(WATCHDOG_MESSAGE)]
    return errors[-1] if errors else "the end of the log says why"


def _progress(outcome: Outcome) -> None:
    print(outcome.line(), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test", default="demo", help="module in tests/sim (default: demo, the main job)")
    parser.add_argument("--testcase", default=None, help="run only this test of the module")
    parser.add_argument("--waves", action="store_true", help="write an FST to build/waves/<test>.fst")
    parser.add_argument("--seed", type=int, default=None, help="random seed (a new one each run if not given)")
    parser.add_argument("--sim", default="verilator", choices=["verilator", "icarus"])
    parser.add_argument("--param", type=_parameter, action="append", default=[], metavar="NAME=VALUE",
                        help="a top-level parameter other than contract/params.py's default (a build of its own)")
    parser.add_argument("--tests-dir", type=Path, default=TESTS_DIR,
                        help="directory of the cocotb module (default: tests/sim)")
    args = parser.parse_args(argv)

    tests_dir = args.tests_dir.resolve()
    modules = sim_modules(tests_dir)
    if args.test not in modules:
        parser.error(f"no module {args.test!r} in {relative(tests_dir)}; have: {', '.join(modules)}")
    # the module's own build (its BUILD_PARAMETERS), with --param on top
    parameters = module_parameters(args.test, tests_dir) | dict(args.param)
    build = SimBuild(parameters=parameters, waves=args.waves, simulator=args.sim)
    try:
        result = build.run(args.test, testcase=args.testcase, seed=args.seed, module_dir=tests_dir,
                           progress=_progress)
    except BuildError as error:
        print(f"{args.test}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{args.test}: interrupted; what ran so far is in {relative(build.run_dir(args.test))}",
              file=sys.stderr)
        return 130
    if result.wave_file is not None:
        print(f"waves: {relative(result.wave_file)}  (make waves TEST={args.test})")
    print(f"{args.test}: {result.total - result.failed} passed, {result.failed} failed "
          f"(seed {result.seed}, log {relative(result.log)})")
    if result.total == 0:
        print(f"{args.test}: no test finished: {last_error(result.log)}\n  log: {relative(result.log)}", file=sys.stderr)
    for failure in module_failures(result.results_xml) if result.results_xml.exists() else []:
        print("\n".join(failure.lines()))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
