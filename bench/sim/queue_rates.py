"""Queue-engine figures in simulated time, for bench/queue_bench.py.

- doorbell-to-mailbox latency: an SQ tail doorbell on an idle queue, from
  the doorbell event inside the design (and from the host's MMIO write) to
  the command being valid at the head of the firmware's command FIFO;
- fetch rate: 8 SQs loaded with 8 entries each while the firmware is
  stalled; 64 commands (every slot) from the first doorbell to the last
  command queued for the firmware;
- end-to-end rate with the zero-cost firmware: commands completed per us
  over 8 busy queues.
"""

from __future__ import annotations

import cocotb
import pyuvm
from cocotb.triggers import RisingEdge, Timer
from cocotb.utils import get_sim_time

from tb.base_test import QueueTest
from tb.pcie_tb import LinkConfig
from tb.sequences import io_command, stream_commands

from bench_figures import record



class QueueRates(QueueTest):
    async def body(self) -> None:
        dut = self.tb.design
        await self.admin.set_num_queues(8, 8)
        queues = [await self.admin.create_queue_pair(qid, 64) for qid in range(1, 9)]
        results = {}

        # doorbell to mailbox, idle queue
        self.firmware.pause()
        host_write = get_sim_time("ns")
        db_event = cocotb.start_soon(RisingEdge(dut.db_valid))
        cmd_event = cocotb.start_soon(RisingEdge(dut.cmd_valid))
        cid = await queues[0].submit(io_command())
        await db_event
        t_db = get_sim_time("ns")
        await cmd_event
        t_cmd = get_sim_time("ns")
        results["doorbell_to_mailbox_ns"] = t_cmd - t_db
        results["host_write_to_mailbox_ns"] = t_cmd - host_write
        self.firmware.resume()
        await queues[0].wait_for([cid])

        # burst fetch: every slot, 8 SQs
        self.firmware.pause()
        await Timer(1000, "ns")
        pushes = []

        async def count_pushes() -> None:
            while True:
                await RisingEdge(dut.user_clk)
                if int(dut.push_valid.value):
                    pushes.append(get_sim_time("ns"))

        counter = cocotb.start_soon(count_pushes())
        start = get_sim_time("ns")
        cids = [await q.submit_many([io_command() for _ in range(8)]) for q in queues]
        while len(pushes) < 64:
            await Timer(100, "ns")
        counter.cancel()
        results["fetch_64_ns"] = pushes[63] - start
        results["fetch_rate_cmds_per_us"] = 64 / ((pushes[63] - start) / 1000)
        # between the first and the last command queued: the engine's own pace
        results["fetch_engine_cmds_per_us"] = 63 / ((pushes[63] - pushes[0]) / 1000)
        self.firmware.resume()
        for q, c in zip(queues, cids):
            await q.wait_for(c)

        # end to end with the zero-cost firmware
        start = get_sim_time("ns")
        tasks = [cocotb.start_soon(stream_commands(q, 32, batch=16)) for q in queues]
        for task in tasks:
            await task
        elapsed = get_sim_time("ns") - start
        results["end_to_end_cmds_per_us"] = 8 * 32 / (elapsed / 1000)

        record("queue_rates", str(self.link.host_read_latency_ns), results)
        self.logger.info("queue rates: %s", results)


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class QueueRatesInstantHost(QueueRates):
    link = LinkConfig(host_read_latency_ns=0)


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class QueueRatesServerHost(QueueRates):
    """Host memory reads answered after 800 ns, as on a server."""

    link = LinkConfig(host_read_latency_ns=800)
