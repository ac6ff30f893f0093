"""Base pyuvm test: builds the PCIe testbench, host driver and env around the DUT.

A test subclasses ``NvmeBaseTest`` and implements ``body()``; setup, the
scoreboards and their checks come from here. Knobs come from the test class
(``link``, ``pacing_seed``) and the SEED the run was started with.
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge
from pyuvm import ConfigDB, uvm_test

from models.nvme_regs import ControllerParams, RegisterModel
from tb.env import NvmeEnv
from tb.nvme_driver import NvmeDriver, RegisterBfm
from tb.pcie_tb import LinkConfig, PcieTb


class NvmeBaseTest(uvm_test):
    """Owns the TB; subclasses write ``body()``."""

    link: LinkConfig = LinkConfig()
    # None: no idle cycles or back-pressure; an int: seeded random pacing
    pacing_seed: int | None = None
    controller_params = ControllerParams()

    def build_phase(self) -> None:
        self.tb = PcieTb(cocotb.top, self.link)
        self.regs = RegisterBfm(self.tb)
        self.driver = NvmeDriver(self.tb, self.regs)
        self.reg_model = RegisterModel(self.controller_params)
        ConfigDB().set(None, "*", "REG_BFM", self.regs)
        ConfigDB().set(None, "*", "REG_MODEL", self.reg_model)
        self.env = NvmeEnv("env", self)

    async def run_phase(self) -> None:
        self.raise_objection()
        try:
            await self.wait_for_reset()
            self.tb.set_stream_pacing(self.pacing_seed)
            await self.body()
        finally:
            self.drop_objection()

    async def wait_for_reset(self) -> None:
        """The hard IP model pulses user_reset after power-up: wait for it to rise and fall."""
        dut = cocotb.top
        # compare, not int(): under Icarus the reset is undriven (Z) at time 0
        if dut.user_reset.value != 1:
            await RisingEdge(dut.user_reset)
        await FallingEdge(dut.user_reset)
        await ClockCycles(dut.user_clk, 4)

    async def body(self) -> None:
        raise NotImplementedError
