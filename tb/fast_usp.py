"""The UltraScale+ hard IP model, event-driven, with taps and a realistic host.

The stock cocotbext-pcie model resumes five coroutines on every user_clk
edge (completer request forwarding, RQ sequence numbers, configuration
status, configuration control, interrupts). At 250 MHz that Python work is
most of a simulation's wall time even when the link is idle. This subclass
replaces those loops, for the ports this design connects, with loops that
wake on a queue, on cfg_interrupt_msix_int, or when the host writes the
functions' configuration space, to copy their state (MPS, MRRS, MSI-X enable
and mask) to the cfg_* outputs.

It also adds what the stock model lacks as a test bed:

- ``rq_observers`` see every request the design sends on RQ,
  ``rc_observers`` every completion handed to it on RC, and
  ``cc_observers`` every completion it sends on CC;
- host memory answers reads after ``read_latency_ns`` (the stock root
  complex answers at once, which hides a read window too small for a real
  server's 0.5-1 us), plus a random ``read_jitter_ns`` per request, which
  makes completions of different requests arrive out of order (those of one
  request keep their order, as PCIe requires);
- ``inject_read_fault`` makes the host answer chosen reads with Unsupported
  Request, Completer Abort or poisoned data, never, or after the design's
  completion timeout;
- ``add_read_latency`` lets the host side (the IOMMU seam, tb/iommu_seam.py)
  add its own time to one outstanding read, on top of the memory latency;
- an MSI-X message requested on cfg_interrupt_msix_int leaves behind the
  posted writes the design handed to RQ before it (it joins the RQ queue as
  a memory write): the stock model sends it at once, so under DMA traffic
  it overtook the CQE write it signals. Whether the real core orders the two
  is not documented; real designs wait for the CQE's pcie_rq_seq_num first.

It does not start user_clk: the stock model's ``Clock`` is cocotb 2's
default, a Python coroutine (two Python wake-ups per cycle, idle or not);
the test bench drives the clock instead, in C++ and stopped while the
design is quiescent (tb/clock_gate.py).

The methods overridden are the model's private ones, and the clock is the
model module's ``Clock`` name: this file is the one place that depends on
them, and it refuses to load on another version of cocotbext-pcie.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable

import cocotb
from cocotb.triggers import Event, First, RisingEdge, Timer
from cocotb.utils import get_sim_time
from cocotbext.pcie.core import __version__ as PCIE_VERSION
from cocotbext.pcie.core.tlp import CplStatus, TlpType
from cocotbext.pcie.xilinx.us import UltraScalePlusPcieDevice
from cocotbext.pcie.xilinx.us import usp_model
from cocotbext.pcie.xilinx.us.tlp import Tlp_us

OVERRIDDEN_VERSION = "0.2.16"
if PCIE_VERSION != OVERRIDDEN_VERSION:
    raise ImportError(f"tb/fast_usp.py overrides private methods of cocotbext-pcie {OVERRIDDEN_VERSION}; "
                      f"{PCIE_VERSION} is installed: check them and update the pin in requirements.txt")


class _ClockLeftToTheTestBench:
    """What the stock model's ``cocotb.start_soon(Clock(...).start())`` builds here: nothing."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def start(self):
        return _nothing()


async def _nothing() -> None:
    pass


usp_model.Clock = _ClockLeftToTheTestBench

Observer = Callable[[Tlp_us, int], None]
FAULT_KINDS = ("ur", "ca", "poison", "drop", "late")
# a "late" read's completions come this much after their due time: past the design's completion timeout
# (53 us), so they reach a design that has given up on the read
LATE_NS = 60_000


class ReadFault:
    """Answer the next ``count`` reads whose address satisfies ``match`` with ``kind``."""

    def __init__(self, match: Callable[[int], bool], kind: str, count: int = 1) -> None:
        assert kind in FAULT_KINDS, f"fault kind {kind!r} not one of {FAULT_KINDS}"
        self.match, self.kind, self.remaining = match, kind, count
        self.hits: list[int] = []


def _now() -> int:
    return int(get_sim_time("ns"))


class EventDrivenUltraScalePlusPcieDevice(UltraScalePlusPcieDevice):
    """UltraScalePlusPcieDevice without per-clock Python loops, with taps and host latency."""

    def __init__(self, *args, read_latency_ns: int = 0, read_jitter_ns: int = 0, seed: int = 0,
                 **kwargs) -> None:
        self.rq_observers: list[Observer] = []
        self.rc_observers: list[Observer] = []
        self.cc_observers: list[Observer] = []
        self.read_latency_ns = read_latency_ns
        self.read_jitter_ns = read_jitter_ns
        self._rng = random.Random(seed)
        self._read_due: dict[int, int] = {}      # tag -> earliest time its completions may go
        self._pending: list[tuple[int, int, Tlp_us]] = []
        self._pending_changed = Event()
        self._order = itertools.count()
        self.read_faults: list[ReadFault] = []
        self._faulted: dict[int, str] = {}      # tag -> fault applied to its read
        self._status_written = Event()
        self._msix_written = Event()
        super().__init__(*args, **kwargs)
        self._watch_config_writes()
        unsupported = ("pcie_cq_np_req", "pcie_rq_seq_num0", "sys_reset", "cfg_config_space_enable")
        for name in unsupported:
            assert getattr(self, name, None) is None, f"{name} is not handled by the event-driven model"
        self._tap_rq()
        self._tap_cc()

    def _watch_config_writes(self) -> None:
        """Tell the cfg_* loops when the host has written a function's configuration space."""
        for function in self.functions:
            function.write_config_register = self._written(function.write_config_register)

    def _written(self, write: Callable) -> Callable:
        async def written(reg: int, data: int, mask: int) -> None:
            await write(reg, data, mask)
            self._status_written.set()
            self._msix_written.set()
        return written

    def _tap_rq(self) -> None:
        # the sink hands each complete frame to _sink_frame: wrapping it sees
        # every request with no per-cycle cost
        sink = self.rq_sink
        deliver = sink._sink_frame
        self._queue_rq_frame = deliver

        def tap(frame) -> None:
            tlp = Tlp_us.unpack_us_rq(frame)
            now = _now()
            if tlp.fmt_type.name.startswith("MEM_READ"):
                jitter = self._rng.randint(0, self.read_jitter_ns) if self.read_jitter_ns else 0
                self._read_due[tlp.tag] = now + self.read_latency_ns + jitter
                self._faulted.pop(tlp.tag, None)
                for fault in self.read_faults:
                    if fault.remaining and fault.match(tlp.address):
                        fault.remaining -= 1
                        fault.hits.append(tlp.address)
                        if fault.kind == "late":
                            self._read_due[tlp.tag] += LATE_NS
                        else:
                            self._faulted[tlp.tag] = fault.kind
                        break
            for observer in self.rq_observers:
                observer(tlp, now)
            deliver(frame)

        sink._sink_frame = tap

    def _tap_cc(self) -> None:
        """``cc_observers`` see every completion the design sends on CC (the BAR completer's)."""
        sink = self.cc_sink
        deliver = sink._sink_frame

        def tap(frame) -> None:
            if self.cc_observers:
                tlp = Tlp_us.unpack_us_cc(frame)
                now = _now()
                for observer in self.cc_observers:
                    observer(tlp, now)
            deliver(frame)

        sink._sink_frame = tap

    async def _run_rc_logic(self) -> None:
        # completions wait until their read's due time; a later completion of
        # the same request never overtakes an earlier one
        cocotb.start_soon(self._release_completions())
        last_due: dict[int, int] = {}
        while True:
            tlp = self._apply_fault(await self.rc_queue.get())
            if tlp is None:
                continue
            due = max(self._read_due.get(tlp.tag, 0), last_due.get(tlp.tag, 0))
            last_due[tlp.tag] = due
            heapq.heappush(self._pending, (due, next(self._order), tlp))
            self._pending_changed.set()

    def add_read_latency(self, tag: int, ns: int) -> None:
        """Hold the completions of the outstanding read ``tag`` ``ns`` longer (a translation's cost)."""
        assert tag in self._read_due, f"tag {tag}: no read of the design outstanding"
        self._read_due[tag] += ns

    def inject_read_fault(self, match: Callable[[int], bool], kind: str, count: int = 1) -> ReadFault:
        fault = ReadFault(match, kind, count)
        self.read_faults.append(fault)
        return fault

    def _apply_fault(self, tlp: Tlp_us) -> Tlp_us | None:
        """The completion the host sends instead, or None when it sends none."""
        kind = self._faulted.get(tlp.tag)
        if kind is None:
            return tlp
        if kind == "poison":
            tlp.ep = True
            return tlp
        if kind == "drop" or kind == "sent":
            return None
        # one completion without data ends the request; later pieces vanish
        self._faulted[tlp.tag] = "sent"
        failed = Tlp_us(tlp)
        failed.fmt_type = TlpType.CPL
        failed.status = CplStatus.UR if kind == "ur" else CplStatus.CA
        failed.length = 0
        failed.data = bytearray()
        failed.request_completed = True
        return failed

    async def _release_completions(self) -> None:
        while True:
            if not self._pending:
                self._pending_changed.clear()
                await self._pending_changed.wait()
                continue
            due = self._pending[0][0]
            if due > _now():
                self._pending_changed.clear()
                await First(Timer(due - _now(), "ns"), self._pending_changed.wait())
                continue
            _, _, tlp = heapq.heappop(self._pending)
            now = _now()
            for observer in self.rc_observers:
                observer(tlp, now)
            await self.rc_source.send(tlp.pack_us_rc())
            self.rx_buf_cplh_fc_count = max(self.rx_buf_cplh_fc_count - 1, 0)
            self.rx_buf_cpld_fc_count = max(self.rx_buf_cpld_fc_count - (tlp.get_data_credits() + 1), 0)

    async def _run_cq_logic(self) -> None:
        # without pcie_cq_np_req the model always has credit: forward in order
        while True:
            tlp = await self.cq_queue.get()
            await self.cq_source.send(tlp.pack_us_cq())

    async def _run_rq_seq_num_logic(self) -> None:
        # sequence numbers are not brought out: drop them
        while True:
            await self.rq_seq_num.get()

    async def _run_cfg_ctrl_logic(self) -> None:
        self.config_space_enable = True

    async def _run_cfg_status_logic(self) -> None:
        pcie_cap = self.functions[0].pcie_cap
        while True:
            self._status_written.clear()
            if self.cfg_max_payload is not None:
                self.cfg_max_payload.value = pcie_cap.max_payload_size & 3
            if self.cfg_max_read_req is not None:
                self.cfg_max_read_req.value = pcie_cap.max_read_request_size
            await self._status_written.wait()

    async def _run_cfg_int_logic(self) -> None:
        """Each function's MSI-X Enable and Function Mask on its bit of cfg_interrupt_msix_enable/mask; a
        message goes out as the function cfg_interrupt_msi_function_number names (function 0 if the design
        does not drive it)."""
        request = self.cfg_interrupt_msix_int
        while True:
            self._msix_written.clear()
            self.cfg_interrupt_msix_enable.value = sum(int(f.msix_cap.msix_enable) << k
                                                       for k, f in enumerate(self.functions))
            self.cfg_interrupt_msix_mask.value = sum(int(f.msix_cap.msix_function_mask) << k
                                                     for k, f in enumerate(self.functions))
            await First(RisingEdge(request), self._msix_written.wait())
            if request.value != 1:
                continue
            number = self.cfg_interrupt_msi_function_number
            function = self.functions[int(number.value) if number is not None else 0]
            if not function.msix_cap.msix_enable:
                raise RuntimeError(f"MSI-X requested for function {function.function_num} while the host has it "
                                   "disabled")
            message = Tlp_us()
            message.fmt_type = TlpType.MEM_WRITE
            message.requester_id = function.pcie_id
            message.set_addr_be_data(int(self.cfg_interrupt_msix_address.value),
                                     int(self.cfg_interrupt_msix_data.value).to_bytes(4, "little"))
            self._queue_rq_frame(message.pack_us_rq())
            self.cfg_interrupt_msix_sent.value = 1
            await RisingEdge(self.user_clk)
            self.cfg_interrupt_msix_sent.value = 0
