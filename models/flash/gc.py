"""Garbage-collection victim policies.

A policy ranks superblocks for collection from per-superblock arrays, so it
costs a few vector operations however many superblocks there are:

* ``valid``: valid sectors in each superblock;
* ``excluded``: 0 for a candidate (a closed superblock), ``EXCLUDED`` for a
  free or open one; added to a score that is minimised, it keeps
  non-candidates out without a separate mask pass;
* ``last_write``: the FTL's sequence number when the superblock was last
  written (its age clock);
* ``now``: the current sequence number; ``size``: sectors per superblock;
* ``count``: how many candidates to return at most.

Each returns candidate indices, best first (empty when there is none). The
FTL collects several at once: relocation only fills the GC stream's open
superblock, which is not a candidate, so taking the top few of one ranking
is the same as ranking again after each victim.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

EXCLUDED = 1 << 40

VictimPolicy = Callable[[np.ndarray, np.ndarray, np.ndarray, int, int, int], np.ndarray]


def _smallest(key: np.ndarray, excluded: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` smallest keys among candidates, ascending."""
    key = key + excluded
    if count < len(key):
        top = np.argpartition(key, count)[:count]
        top = top[np.argsort(key[top], kind="stable")]
    else:
        top = np.argsort(key, kind="stable")
    return top[excluded[top] == 0]


def greedy(valid: np.ndarray, excluded: np.ndarray, last_write: np.ndarray,
           now: int, size: int, count: int) -> np.ndarray:
    """Fewest valid sectors: the least copying per reclaimed sector.

    Best for uniform random writes; the analytic write amplification
    a / (a + W0(-a e^-a)) is its large-block limit.
    """
    return _smallest(valid, excluded, count)


def fifo(valid: np.ndarray, excluded: np.ndarray, last_write: np.ndarray,
         now: int, size: int, count: int) -> np.ndarray:
    """Oldest written superblock first: a log's cleaning order ("LRU" in Desnoyers)."""
    return _smallest(last_write, excluded, count)


def cost_benefit(valid: np.ndarray, excluded: np.ndarray, last_write: np.ndarray,
                 now: int, size: int, count: int) -> np.ndarray:
    """Rosenblum and Ousterhout's benefit/cost = age * (1 - u) / 2u, highest first.

    Prefers old superblocks whose remaining data is likely cold, which beats
    greedy when the workload has hot and cold data.
    """
    u = valid / size
    age = (now - last_write + 1).astype(np.float64)
    with np.errstate(divide="ignore"):
        benefit = np.where(u > 0, age * (1.0 - u) / (2.0 * u), np.inf)
    return _smallest(np.where(excluded == 0, -benefit, 0.0), excluded, count)


POLICIES: dict[str, VictimPolicy] = {"greedy": greedy, "cost_benefit": cost_benefit, "fifo": fifo}


def lambert_w0(x: float) -> float:
    """Principal branch of Lambert W on [-1/e, 0), by Halley iteration.

    Started from the branch-point series, which is already close for the
    arguments the write-amplification formula produces (near -1/e).
    """
    if not -1 / math.e <= x < 0:
        raise ValueError("lambert_w0 is implemented for -1/e <= x < 0")
    p = math.sqrt(max(0.0, 2 * (1 + math.e * x)))
    w = -1 + p - p * p / 3
    for _ in range(50):
        ew = math.exp(w)
        f = w * ew - x
        if f == 0 or w == -1:
            break
        step = f / (ew * (w + 1) - (w + 2) * f / (2 * w + 2))
        w -= step
        if abs(step) < 1e-15:
            break
    return w


def analytic_waf(op: float) -> float:
    """Write amplification of uniform random writes: a / (a + W0(-a e^-a)), a = 1 + op.

    Exact for FIFO cleaning and the large-block limit of greedy (Desnoyers,
    "Analytic models of SSD write performance").
    """
    a = 1.0 + op
    return a / (a + lambert_w0(-a * math.exp(-a)))
