"""Host side of MSI-X: enable the vectors and see every message that arrives.

cocotbext-pcie's root complex owns an MSI region; after alloc_irq_vectors()
each vector's table entry points there, and a message runs the callbacks
registered with request_irq(). ``MsixHost`` turns those into per-vector
events and counts, and tells its observers (the interrupt monitor).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from cocotb.triggers import Event, SimTimeoutError, with_timeout
from cocotb.utils import get_sim_time

from contract import nvme_bar0 as bar0
from tb.pcie_tb import PcieTb


class MsixHost:
    """Per-vector interrupt events and counters for one PCIe function."""

    def __init__(self, tb: PcieTb, function: int = 0) -> None:
        self.tb = tb
        self.function = function
        self.counts: Counter[int] = Counter()
        self.events: dict[int, Event] = {}
        self.observers: list[Callable[[int, int], None]] = []
        self.vectors = 0

    async def enable(self, vectors: int) -> int:
        """Allocate and enable MSI-X vectors as pci_alloc_irq_vectors does; return how many."""
        assert self.tb.funcs, "enumerate first"
        func = self.tb.funcs[self.function]
        got = await func.alloc_irq_vectors(1, vectors)
        assert got >= 1, f"MSI-X could not be enabled ({got})"
        self.vectors = got
        for vector in range(got):
            self.events[vector] = Event()
            func.request_irq(vector, self._handler(vector))
        return got

    def _handler(self, vector: int) -> Callable:
        async def handle() -> None:
            self.counts[vector] += 1
            now = int(get_sim_time("ns"))
            for observer in self.observers:
                observer(vector, now)
            self.events[vector].set()
        return handle

    async def wait_count(self, vector: int, count: int, timeout_ns: int) -> None:
        """Wait until ``vector`` has seen ``count`` messages in all; fail clearly if not in time."""
        deadline = get_sim_time("ns") + timeout_ns
        while self.counts[vector] < count:
            remaining = deadline - get_sim_time("ns")
            event = self.events[vector]
            event.clear()
            try:
                if remaining <= 0:
                    raise SimTimeoutError
                await with_timeout(event.wait(), int(remaining), "ns")
            except SimTimeoutError as err:
                raise AssertionError(f"vector {vector}: {self.counts[vector]} MSI-X messages, "
                                     f"expected {count} within {timeout_ns} ns") from err

    async def set_mask(self, vector: int, masked: bool) -> None:
        """Set or clear a vector's mask bit in the device's MSI-X table, and read it back, as Linux's
        pci_msix_write_vector_ctrl() callers do: the read's completion cannot pass a message the device
        sent before the write reached it, so once it returns, no message of before the mask is on its way."""
        ctrl = bar0.MSIX_TABLE.OFFSET + bar0.MSIX_TABLE.STRIDE * vector + bar0.MSIX_TABLE.VECTOR_CTRL.OFFSET
        window = self.tb.bar0_of(self.function)
        await window.write_dword(ctrl, bar0.MSIX_TABLE.VECTOR_CTRL.encode(MASK=masked))
        await window.read_dword(ctrl)

    async def pending_bits(self) -> int:
        """The PBA as one integer, bit v for vector v."""
        words = (self.vectors + 31) // 32
        raw = await self.tb.bar0_of(self.function).read(bar0.MSIX_PBA.OFFSET, bar0.MSIX_PBA.STRIDE * words)
        return int.from_bytes(raw, "little")
