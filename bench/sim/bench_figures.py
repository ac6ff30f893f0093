"""Where a benchmark module leaves its figures: a JSON file that bench/simbench.py reads back."""

from __future__ import annotations

import json
import os
from pathlib import Path


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def record(name: str, label: str, values: dict) -> None:
    """Add ``values`` under ``label`` to $BENCH_OUT (default build/bench/<name>.json)."""
    out = Path(os.environ.get("BENCH_OUT", f"build/bench/{name}.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    figures = json.loads(out.read_text()) if out.exists() else {}
    figures[label] = values
    out.write_text(json.dumps(figures, indent=2))
