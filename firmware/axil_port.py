"""The SoC's AXI4-Lite master on the controller's firmware mailbox: one access at a time, dword wide.

cocotbext-axi's AxiLiteMaster runs five channel coroutines and their
queues; per mailbox access that costs about fifteen Python wake-ups, and a
command takes some thirty accesses, which made the firmware port the
largest Python cost of a simulated command. The SoC issues one access at a
time anyway (its mailbox driver holds a lock), so this master drives each
access from the caller's own coroutine: address and data valid together,
then the response, two or three clock edges in all.

Handshakes are sampled the way cocotbext samples them: a clock edge with
VALID and READY both high transfers. Every access first waits for a clock
edge and drives its signals only then (unless the previous access ended
on an edge of this very time step): a caller woken by a timer at the very
time of an edge would otherwise drive VALID into that edge while reading
the READY of before it, and lose the handshake. Optional pacing (``set_pacing``, the
test bench's pause patterns) holds off AWVALID/WVALID/ARVALID and
BREADY/RREADY for some cycles, to test the RTL's handshakes under idle and
back-pressure.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cocotb.handle import HierarchyObject, LogicObject
from cocotb.simtime import get_sim_time
from cocotb.triggers import Lock, RisingEdge

@dataclass
class _Pacing:
    """Per channel: True in a cycle means hold VALID (AW, W, AR) or READY (B, R) low."""

    aw: Iterator[bool]
    w: Iterator[bool]
    b: Iterator[bool]
    ar: Iterator[bool]
    r: Iterator[bool]


class AxiLitePort:
    """Dword reads and writes on an AXI4-Lite slave port ``<prefix>_*`` of ``dut``."""

    def __init__(self, dut: HierarchyObject, prefix: str, clock: LogicObject) -> None:
        self.clock = clock
        self._sig = {name: getattr(dut, f"{prefix}_{name}") for name in (
            "awaddr", "awprot", "awvalid", "awready", "wdata", "wstrb", "wvalid", "wready", "bresp", "bvalid",
            "bready", "araddr", "arprot", "arvalid", "arready", "rdata", "rresp", "rvalid", "rready")}
        for name in ("awvalid", "wvalid", "bready", "arvalid", "rready", "awprot", "arprot"):
            self._sig[name].value = 0
        self._lock = Lock()
        self._pacing: _Pacing | None = None
        self._edge_at: float | None = None    # sim time of the last edge an access waited for
        self.accesses = 0

    def set_pacing(self, pauses: Sequence[Iterator[bool]] | None) -> None:
        """Pause patterns for AW, W, B, AR and R, in that order (one bool per cycle, True: hold off);
        None for none."""
        self._pacing = None if pauses is None else _Pacing(*pauses)

    async def _edge(self) -> None:
        await RisingEdge(self.clock)
        self._edge_at = get_sim_time()

    async def _sync(self) -> None:
        """Be just after a clock edge before driving anything."""
        if self._edge_at != get_sim_time():
            await self._edge()

    async def _hold(self, pauses: Iterator[bool] | None) -> None:
        """The pacing's idle cycles before a VALID or READY goes high."""
        while pauses is not None and next(pauses):
            await self._edge()

    async def write(self, addr: int, value: int) -> int:
        """Write a dword; returns BRESP."""
        s, p = self._sig, self._pacing
        async with self._lock:
            self.accesses += 1
            await self._sync()
            s["awaddr"].value = addr
            s["wdata"].value = value
            s["wstrb"].value = 0xF
            await self._hold(p and p.aw)
            s["awvalid"].value = 1
            await self._hold(p and p.w)
            s["wvalid"].value = 1
            aw_done = w_done = False
            while not (aw_done and w_done):
                await self._edge()
                aw_done = aw_done or bool(s["awready"].value)
                w_done = w_done or bool(s["wready"].value)
                if aw_done:
                    s["awvalid"].value = 0
                if w_done:
                    s["wvalid"].value = 0
            await self._hold(p and p.b)
            s["bready"].value = 1
            while True:
                await self._edge()
                if s["bvalid"].value:
                    break
            s["bready"].value = 0
            return int(s["bresp"].value)

    async def read(self, addr: int) -> tuple[int, int]:
        """Read a dword; returns (RDATA, RRESP)."""
        s, p = self._sig, self._pacing
        async with self._lock:
            self.accesses += 1
            await self._sync()
            s["araddr"].value = addr
            await self._hold(p and p.ar)
            s["arvalid"].value = 1
            while True:
                await self._edge()
                if s["arready"].value:
                    break
            s["arvalid"].value = 0
            await self._hold(p and p.r)
            s["rready"].value = 1
            while True:
                await self._edge()
                if s["rvalid"].value:
                    break
            s["rready"].value = 0
            return int(s["rdata"].value), int(s["rresp"].value)
