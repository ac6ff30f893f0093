"""Idle and back-pressure patterns for AXI streams.

cocotbext's sources and sinks take a pause generator: an iterator of
booleans, one per clock, True meaning "stall this cycle". The patterns here
are seeded so that a failing run can be reproduced.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator


def random_pauses(seed: int, stall_probability: float = 0.3) -> Iterator[bool]:
    """Stall each cycle independently with the given probability."""
    rng = random.Random(seed)
    while True:
        yield rng.random() < stall_probability


def bursty_pauses(seed: int, max_run: int = 8) -> Iterator[bool]:
    """Alternate runs of activity and stalls of random length up to max_run."""
    rng = random.Random(seed)
    while True:
        yield from itertools.repeat(False, rng.randint(1, max_run))
        yield from itertools.repeat(True, rng.randint(1, max_run))
