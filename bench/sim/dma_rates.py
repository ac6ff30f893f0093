"""DMA throughput of real NVMe commands, for bench/dma_bench.py.

128 KiB Writes (host to device) or Reads (device to host) on namespace 2,
PRP lists in host memory, 4 queues with 4 commands in flight each, through
the queue engine, the zero-cost firmware (Reads auto-completed by the DMA
engine) and the RTL DMA engine; 256-bit Gen3 x8, MPS 256, MRRS 512, the
default 800 ns host read latency. Throughput counts data bytes over the
simulated time from the first doorbell to the last completion, so command,
PRP-list and completion traffic is all inside it.
"""

from __future__ import annotations

import time

import cocotb
import pyuvm
from cocotb.utils import get_sim_time

from models.nvme_commands import read_cmd, write_cmd
from tb.base_test import PAGE, CommandSetTest
from tb.pcie_tb import MRRS_512, LinkConfig

from bench_figures import record

QUEUES = 4
DEPTH = 4
ROUNDS = 4
LENGTH = 128 * 1024


class DmaRate(CommandSetTest):
    link = LinkConfig(root_mrrs_code=MRRS_512)
    backend_config = {"read_ns": 0, "write_ns": 0}
    label = ""
    make_cmd = staticmethod(write_cmd)

    def make_firmware(self, dut):
        firmware = super().make_firmware(dut)
        firmware.io.auto_complete_reads = True
        return firmware

    async def body(self) -> None:
        await self.admin.set_num_queues(QUEUES, QUEUES)
        queues = [await self.admin.create_queue_pair(qid, 32) for qid in range(1, QUEUES + 1)]
        buffers = [await self.prp_buffer(LENGTH // PAGE) for _ in range(QUEUES * DEPTH)]
        nlb = LENGTH // 4096

        async def drive(q: int) -> None:
            for _ in range(ROUNDS):
                cmds = [self.make_cmd(2, nlb * (q * DEPTH + i), nlb, *buffers[q * DEPTH + i][1:])
                        for i in range(DEPTH)]
                cids = await queues[q].submit_many(cmds)
                for cqe in await queues[q].wait_for(cids):
                    assert cqe.status.is_success, cqe.status

        wall = time.perf_counter()
        start = get_sim_time("ns")
        tasks = [cocotb.start_soon(drive(q)) for q in range(QUEUES)]
        for task in tasks:
            await task
        elapsed_ns = get_sim_time("ns") - start
        wall = time.perf_counter() - wall
        total = QUEUES * DEPTH * ROUNDS * LENGTH
        record("dma_rates", self.label, {"bytes": total, "sim_ns": elapsed_ns, "gb_per_s": total / elapsed_ns,
                               "wall_s_per_mib": wall / (total / 2**20)})


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class HostToDevice(DmaRate):
    label = "host -> device (Write)"


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class DeviceToHost(DmaRate):
    label = "device -> host (Read)"
    make_cmd = staticmethod(read_cmd)
