"""The main job (`make sim`): bring the controller up like nvme-pci and use it.

Enumerate, enable MSI-X, configure the admin queue, enable the controller,
identify it, create I/O queue pairs through admin commands that the
firmware model executes, write data and read it back on every queue
through the RTL DMA engine and the conv FTL at the OX preset's NAND
timings, shut down (the firmware flushes the write cache to NAND first),
and print a short summary.
"""

from __future__ import annotations

import os
import random
import time

import cocotb
import pyuvm
from cocotb.utils import get_sim_time

from models.identify import Cns, IdentifyController, IdentifyNamespace, parse_namespace_list
from models.nvme_commands import read_cmd, write_cmd
from models.nvme_regs import decode_version
from tb.base_test import PAGE, CommandSetTest

GT_PER_S = {1: "2.5", 2: "5", 3: "8", 4: "16"}
PAIRS = 4
# write-and-read-backs per queue; the regression's run under Icarus, the second simulator, takes 4: the same
# paths, a quarter of the data (tests/test_simulations.py)
TRANSFERS_PER_QUEUE = int(os.environ.get("NVME_COSIM_DEMO_TRANSFERS", "16"))


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class Demo(CommandSetTest):
    """Probe, identify, create queues, write and read back, report."""

    backend_kind = "conv"

    async def body(self) -> None:
        wall_start = time.perf_counter()
        ctrl = IdentifyController.unpack(await self.identify(Cns.CONTROLLER))
        nsids = parse_namespace_list(await self.identify(Cns.ACTIVE_NAMESPACES))
        namespaces = [IdentifyNamespace.unpack(await self.identify(Cns.NAMESPACE, nsid)) for nsid in nsids]
        granted = await self.admin.set_num_queues(PAIRS, PAIRS)
        queues = [await self.admin.create_queue_pair(qid, 32) for qid in range(1, PAIRS + 1)]
        io_start = get_sim_time("ns")
        tasks = [cocotb.start_soon(self.write_read(q, random.Random(q.qid))) for q in queues]
        moved = sum([await task for task in tasks])
        io_ns = get_sim_time("ns") - io_start
        for queue in queues:
            await self.admin.delete_queue_pair(queue)
        await self.driver.nvme_shutdown_ctrl()

        dev, cap = self.tb.dev, self.driver.cap
        smart = self.backend.smart()
        assert cap is not None
        commands = 2 * PAIRS * TRANSFERS_PER_QUEUE
        ns_text = ", ".join(f"ns{nsid} {ns.nsze * ns.lba_size / 2**20:.0f} MiB in {ns.lba_size} B LBAs"
                            for nsid, ns in zip(nsids, namespaces))
        lines = [
            "nvme-cosim: controller bring-up and I/O",
            f"  link        Gen{dev.pcie_generation} x{dev.pcie_link_width} ({GT_PER_S[dev.pcie_generation]} GT/s "
            f"per lane), {self.tb.data_width}-bit streams at {self.link.user_clk_hz / 1e6:.0f} MHz",
            f"  BAR0        {self.tb.bar0_address:#x} (64-bit, {self.tb.bar0_size // 1024} KiB)",
            f"  VS          NVMe {decode_version(self.driver.version)}",
            f"  CAP         {cap.summary()}",
            f"  ready       CSTS.RDY after {self.driver.ready_after_ns} ns of simulated time",
            f"  identify    {ctrl.mn.strip()} (serial {ctrl.sn.strip()}, firmware {ctrl.fr.strip()}), "
            f"MDTS {2 ** ctrl.mdts * 4} KiB",
            f"  namespaces  {ns_text}",
            f"  queues      {granted[0]} I/O queue pairs granted, {PAIRS} created (32 entries, one MSI-X vector each)",
            f"  I/O         {commands} commands, {moved / 2**20:.2f} MiB written and read back in "
            f"{io_ns / 1000:.1f} us of simulated time, every byte checked",
            f"  checked     {self.env.completion_scoreboard.checker.checked} CQEs, "
            f"{sum(self.msix.counts.values())} MSI-X messages, {self.env.data_scoreboard.reads_checked} reads "
            f"against the reference model",
            f"  data path   RTL DMA engine: {self.dma.transfers} transfers, {self.dma.bytes / 2**20:.2f} MiB between "
            f"host memory and device DRAM",
            f"  back end    conv FTL, OX preset: {smart['host_write_pages']} pages written by the host, "
            f"{smart['nand_write_pages']} programmed to NAND (with the shutdown's flush)",
            f"  shutdown    CSTS.SHST complete at {get_sim_time('ns') / 1000:.1f} us",
            f"  wall clock  {time.perf_counter() - wall_start:.1f} s, the clock stopped for "
            f"{self.tb.clock_gate.skipped_ns / 1000:.1f} us of quiescent time",
        ]
        print("\n" + "\n".join(lines) + "\n")

    async def write_read(self, queue, rng: random.Random) -> int:
        """Write random data to random LBAs of namespace 2 and read it back; bytes moved each way."""
        moved = 0
        for i in range(TRANSFERS_PER_QUEUE):
            pages = rng.choice([1, 2, 4, 8])
            slba = queue.qid * 4096 + i * 8
            data = rng.randbytes(pages * PAGE)
            wbuf, wp1, wp2 = await self.prp_buffer(pages)
            rbuf, rp1, rp2 = await self.prp_buffer(pages)
            await self.tb.rc.mem_address_space.write(wbuf, data)
            (cid,) = await queue.submit_many([write_cmd(2, slba, pages, wp1, wp2)])
            await queue.wait_for([cid])
            (cid,) = await queue.submit_many([read_cmd(2, slba, pages, rp1, rp2)])
            await queue.wait_for([cid])
            got = bytes(await self.tb.rc.mem_address_space.read(rbuf, pages * PAGE))
            assert got == data, f"queue {queue.qid}: LBA {slba} read back differs"
            moved += len(data)
        return moved
