"""Trace-driven use of the IOMMU, for benchmarks outside the simulator.

A benchmark describes the device's DMAs as (rid, iova, length, is_write,
time) records, possibly interleaved with DMA-API calls of its own, and
asks what the IOMMU made of them: per-access cost and fault, plus the
counter deltas over the trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .iommu import Iommu, IommuCounters, Translation


@dataclass(frozen=True)
class DmaAccess:
    rid: int
    iova: int
    length: int
    is_write: bool
    time_ns: int


@dataclass(frozen=True)
class TraceResult:
    translations: tuple[Translation, ...]
    counters: IommuCounters

    @property
    def cost_ns(self) -> tuple[int, ...]:
        return tuple(t.cost_ns for t in self.translations)

    @property
    def total_cost_ns(self) -> int:
        return sum(self.cost_ns)


def run_trace(iommu: Iommu, accesses: Iterable[DmaAccess]) -> TraceResult:
    """Translate every access in order; counters are deltas over the trace."""
    before = iommu.counters.snapshot()
    translations = tuple(iommu.translate(a.rid, a.iova, a.length, a.is_write, a.time_ns)
                         for a in accesses)
    return TraceResult(translations, iommu.counters - before)
