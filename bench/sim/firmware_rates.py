"""Command rate with the firmware's SoC cost at zero and at a realistic setting, for bench/firmware_bench.py.

4 KiB reads on namespace 2 from four queues, eight in flight per queue,
through the real queue engine and the NvmeFirmware on the nvm back end
(zero back-end latency here, so the firmware's cost shows). Data moves
through the RTL DMA engine.
"""

from __future__ import annotations

import cocotb
import pyuvm
from cocotb.utils import get_sim_time

from firmware.soc import SocConfig
from models.nvme_commands import read_cmd
from tb.base_test import CommandSetTest

from bench_figures import record

QUEUES = 4
DEPTH = 8
COMMANDS_PER_QUEUE = 64


class FirmwareRate(CommandSetTest):
    backend_config = {"read_ns": 0, "write_ns": 0}
    label = ""

    async def body(self) -> None:
        await self.admin.set_num_queues(QUEUES, QUEUES)
        queues = [await self.admin.create_queue_pair(qid, 32) for qid in range(1, QUEUES + 1)]
        _, prp1, prp2 = await self.prp_buffer(1)

        async def drive(queue) -> None:
            for _ in range(COMMANDS_PER_QUEUE // DEPTH):
                cids = await queue.submit_many([read_cmd(2, 8 * i, 1, prp1, prp2) for i in range(DEPTH)])
                await queue.wait_for(cids)

        start = get_sim_time("ns")
        tasks = [cocotb.start_soon(drive(q)) for q in queues]
        for task in tasks:
            await task
        elapsed_ns = get_sim_time("ns") - start
        commands = QUEUES * COMMANDS_PER_QUEUE
        record("firmware_rates", self.label, {"commands": commands, "sim_ns": elapsed_ns,
                               "commands_per_s": commands / (elapsed_ns * 1e-9)})


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class ZeroCost(FirmwareRate):
    label = "zero cost"


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class RealisticSoc(FirmwareRate):
    label = "1 GHz, 2 cores, 2000 cycles per I/O"
    soc = SocConfig(clock_hz=1e9, cores=2, cycles={"default": 2000, "admin": 2000})
