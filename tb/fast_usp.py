"""The UltraScale+ hard IP model with its housekeeping loops driven by events.

The stock cocotbext-pcie model resumes five coroutines on every user_clk
edge (completer request forwarding, RQ sequence numbers, configuration
status, configuration control, interrupts). At 250 MHz that Python work is
most of a simulation's wall time even when the link is idle. This subclass
replaces those five loops, for the ports this design connects, with loops
that wake on a queue, on cfg_interrupt_msix_int, or every STATUS_POLL_NS to
copy configuration-space state (MPS, MRRS, MSI-X enable and mask) to the
cfg_* outputs. It also shows every RC completion to ``rc_observers``. Everything else (TLP handling, streams, config space) is the
stock model. The methods overridden are the model's private ones: this file
is the one place that depends on them (cocotbext-pcie 0.2.16).
"""

from __future__ import annotations

from collections.abc import Callable

from cocotb.triggers import First, RisingEdge, Timer
from cocotb.utils import get_sim_time
from cocotbext.pcie.xilinx.us import UltraScalePlusPcieDevice
from cocotbext.pcie.xilinx.us.tlp import Tlp_us

# How stale a cfg_* status output may be after the host changes config space
STATUS_POLL_NS = 1000


class EventDrivenUltraScalePlusPcieDevice(UltraScalePlusPcieDevice):
    """UltraScalePlusPcieDevice without per-clock Python loops, with an RC tap.

    ``rc_observers`` see every completion handed to the design on RC.
    """

    def __init__(self, *args, **kwargs) -> None:
        self.rc_observers: list[Callable[[Tlp_us, int], None]] = []
        super().__init__(*args, **kwargs)
        unsupported = ("pcie_cq_np_req", "pcie_rq_seq_num0", "sys_reset", "cfg_config_space_enable")
        for name in unsupported:
            assert getattr(self, name, None) is None, f"{name} is not handled by the event-driven model"

    async def _run_cq_logic(self) -> None:
        # without pcie_cq_np_req the model always has credit: forward in order
        while True:
            tlp = await self.cq_queue.get()
            await self.cq_source.send(tlp.pack_us_cq())

    async def _run_rc_logic(self) -> None:
        # the stock loop, telling the observers first
        while True:
            tlp = await self.rc_queue.get()
            now = int(get_sim_time("ns"))
            for observer in self.rc_observers:
                observer(tlp, now)
            await self.rc_source.send(tlp.pack_us_rc())
            self.rx_buf_cplh_fc_count = max(self.rx_buf_cplh_fc_count - 1, 0)
            self.rx_buf_cpld_fc_count = max(self.rx_buf_cpld_fc_count - (tlp.get_data_credits() + 1), 0)

    async def _run_rq_seq_num_logic(self) -> None:
        # sequence numbers are not brought out: drop them
        while True:
            await self.rq_seq_num.get()

    async def _run_cfg_ctrl_logic(self) -> None:
        self.config_space_enable = True

    async def _run_cfg_status_logic(self) -> None:
        pcie_cap = self.functions[0].pcie_cap
        while True:
            if self.cfg_max_payload is not None:
                self.cfg_max_payload.value = pcie_cap.max_payload_size & 3
            if self.cfg_max_read_req is not None:
                self.cfg_max_read_req.value = pcie_cap.max_read_request_size
            await Timer(STATUS_POLL_NS, "ns")

    async def _run_cfg_int_logic(self) -> None:
        msix_cap = self.functions[0].msix_cap
        request = self.cfg_interrupt_msix_int
        while True:
            self.cfg_interrupt_msix_enable.value = int(msix_cap.msix_enable)
            self.cfg_interrupt_msix_mask.value = int(msix_cap.msix_function_mask)
            await First(RisingEdge(request), Timer(STATUS_POLL_NS, "ns"))
            if request.value != 1:
                continue
            address = int(self.cfg_interrupt_msix_address.value)
            data = int(self.cfg_interrupt_msix_data.value)
            await msix_cap.issue_msix_interrupt(address, data)
            self.cfg_interrupt_msix_sent.value = 1
            await RisingEdge(self.user_clk)
            self.cfg_interrupt_msix_sent.value = 0
