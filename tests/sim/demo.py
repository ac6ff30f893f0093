"""The main job (`make sim`): enumerate, bring the controller up, print a summary."""

from __future__ import annotations

import time

import pyuvm
from cocotb.utils import get_sim_time

from models.nvme_regs import decode_version
from tb.base_test import NvmeBaseTest

GT_PER_S = {1: "2.5", 2: "5", 3: "8", 4: "16"}


@pyuvm.test(timeout_time=1, timeout_unit="ms")
class Demo(NvmeBaseTest):
    """Probe the controller like nvme-pci does and report what was found."""

    async def body(self) -> None:
        wall_start = time.perf_counter()
        await self.driver.probe()
        gen = self.tb.dev.pcie_generation
        cap = self.driver.cap
        assert cap is not None
        lines = [
            "nvme-cosim: controller bring-up",
            f"  link        Gen{gen} x{self.tb.dev.pcie_link_width} ({GT_PER_S[gen]} GT/s per lane), "
            f"{self.tb.data_width}-bit streams at {self.link.user_clk_hz / 1e6:.0f} MHz",
            f"  BAR0        {self.tb.bar0_address:#x} (64-bit, {self.link.bar0_size // 1024} KiB)",
            f"  VS          NVMe {decode_version(self.driver.version)}",
            f"  CAP         {cap.summary()}",
            f"  ready       CSTS.RDY after {self.driver.ready_after_ns} ns of simulated time",
            f"  simulated   {get_sim_time('ns'):.0f} ns in {time.perf_counter() - wall_start:.2f} s wall",
        ]
        print("\n" + "\n".join(lines) + "\n")
        await self.driver.nvme_shutdown_ctrl()
        await self.driver.nvme_disable_ctrl()
