"""Run a benchmark's cocotb module from bench/sim and return the figures it wrote.

Each bench module writes its figures as JSON to the path in BENCH_OUT; the
*_bench.py scripts, which `make bench` runs, print them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tb.build import BUILD_ROOT, SimBuild  # noqa: E402


def run_bench_module(module: str, build: SimBuild | None = None, env: dict[str, str] | None = None,
                     testcase: str | None = None) -> dict | None:
    """Figures of bench/sim/<module>.py on ``build`` (default: the controller's default build), with the
    extra environment ``env`` (the module's knobs), of the tests ``testcase`` selects (default all),
    or None if its simulation failed."""
    out = BUILD_ROOT / "bench" / f"{module}.json"
    out.unlink(missing_ok=True)
    result = (build or SimBuild()).run(module, testcase, module_dir=ROOT / "bench" / "sim",
                                       extra_env={"BENCH_OUT": str(out), **(env or {})})
    if not result.passed:
        print(f"{module}: simulation failed, see {result.log}")
        return None
    return json.loads(out.read_text())
