"""Simulated time for unit tests of cocotb code run under asyncio.

Modules that import ``get_sim_time`` and ``Timer`` from cocotb get these
stand-ins patched in: a Timer simply advances the clock.
"""

from __future__ import annotations

from collections.abc import Coroutine
from types import ModuleType
from typing import Any

import pytest


class FakeClock:
    def __init__(self) -> None:
        self.ns = 0

    def get_sim_time(self, unit: str) -> int:
        return self.ns

    def timer(self, time: int, unit: str) -> Coroutine[Any, Any, None]:
        async def elapse() -> None:
            self.ns += time
        return elapse()


def install_fake_clock(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> FakeClock:
    """Patch ``module``'s get_sim_time and Timer (where it uses one) with a fresh FakeClock."""
    clock = FakeClock()
    monkeypatch.setattr(module, "get_sim_time", clock.get_sim_time)
    if hasattr(module, "Timer"):
        monkeypatch.setattr(module, "Timer", clock.timer)
    return clock
