"""The main job (`make sim`): bring the controller up like nvme-pci and drive its queues.

Enumerate, enable MSI-X, configure the admin queue, enable the controller,
create I/O queue pairs through admin commands that the firmware model
executes, run no-data I/O commands on them, and print a short summary.
"""

from __future__ import annotations

import time

import cocotb
import pyuvm
from cocotb.utils import get_sim_time

from models.nvme_regs import decode_version
from tb.base_test import QueueTest
from tb.sequences import stream_commands

GT_PER_S = {1: "2.5", 2: "5", 3: "8", 4: "16"}
PAIRS = 4
COMMANDS_PER_QUEUE = 64


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class Demo(QueueTest):
    """Probe, create queues, run commands, report."""

    async def body(self) -> None:
        wall_start = time.perf_counter()
        granted = await self.admin.set_num_queues(PAIRS, PAIRS)
        queues = [await self.admin.create_queue_pair(qid, 32) for qid in range(1, PAIRS + 1)]
        io_start = get_sim_time("ns")
        tasks = [cocotb.start_soon(stream_commands(q, COMMANDS_PER_QUEUE, batch=8)) for q in queues]
        for task in tasks:
            await task
        io_ns = get_sim_time("ns") - io_start
        for queue in queues:
            await self.admin.delete_queue_pair(queue)
        await self.driver.nvme_shutdown_ctrl()

        dev, cap = self.tb.dev, self.driver.cap
        assert cap is not None
        io_commands = sum(self.firmware.commands_per_sq[q.qid] for q in queues)
        assert io_commands == PAIRS * COMMANDS_PER_QUEUE
        lines = [
            "nvme-cosim: controller bring-up and queues",
            f"  link        Gen{dev.pcie_generation} x{dev.pcie_link_width} ({GT_PER_S[dev.pcie_generation]} GT/s "
            f"per lane), {self.tb.data_width}-bit streams at {self.link.user_clk_hz / 1e6:.0f} MHz",
            f"  BAR0        {self.tb.bar0_address:#x} (64-bit, {self.link.bar0_size // 1024} KiB)",
            f"  VS          NVMe {decode_version(self.driver.version)}",
            f"  CAP         {cap.summary()}",
            f"  ready       CSTS.RDY after {self.driver.ready_after_ns} ns of simulated time",
            f"  queues      {granted[0]} I/O queue pairs granted, {PAIRS} created (32 entries, one MSI-X vector each)",
            f"  I/O         {io_commands} commands in {io_ns / 1000:.1f} us "
            f"({io_commands / (io_ns / 1000):.2f} per us, zero-cost firmware, no data)",
            f"  interrupts  {sum(self.msix.counts.values())} MSI-X messages, "
            f"{self.env.completion_scoreboard.checker.checked} CQEs checked",
            f"  shutdown    CSTS.SHST complete at {get_sim_time('ns') / 1000:.1f} us",
            f"  wall clock  {time.perf_counter() - wall_start:.1f} s",
        ]
        print("\n" + "\n".join(lines) + "\n")
