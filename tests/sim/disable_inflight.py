"""CC.EN 1->0 with I/O in flight: fetching stops, no DMA after CSTS.RDY reads 0,
every queue is deleted and the firmware is told. (Re-enabling is enable.py's.)"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import Timer
from cocotb.utils import get_sim_time

from tb.base_test import QueueTest
from tb.sequences import io_command

TIMEOUT_MS = 20
PAIRS = 4
QUIET_NS = 20_000


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DisableWithIoInFlight(QueueTest):
    # a slow SoC keeps commands queued in the controller when the host disables it
    firmware_cost_ns = 2_000

    async def body(self) -> None:
        await self.admin.set_num_queues(PAIRS, PAIRS)
        queues = [await self.admin.create_queue_pair(qid, 32) for qid in range(1, PAIRS + 1)]
        requests: list[int] = []
        self.tb.rq_observers.append(lambda tlp, t: requests.append(t))
        for queue in queues:
            await queue.submit_many([io_command() for _ in range(30)])
        await Timer(10_000, "ns")
        assert 0 < sum(self.firmware.commands_per_sq[q.qid] for q in queues) < PAIRS * 30, (
            "the test needs commands both done and still queued when the controller is disabled")

        await self.driver.nvme_disable_ctrl()
        rdy_low_at = get_sim_time("ns")
        self.env.queue_monitor.controller_reset()
        await Timer(QUIET_NS, "ns")
        late = [t for t in requests if t > rdy_low_at]
        assert not late, f"{len(late)} requests on RQ after CSTS.RDY read 0 at {rdy_low_at} ns: {late[:5]}"
        for qid in range(PAIRS + 1):
            assert not (await self.firmware.mailbox.sq_state(qid)).valid, f"SQ {qid} survived CC.EN=0"
            assert not (await self.firmware.mailbox.cq_state(qid)).valid, f"CQ {qid} survived CC.EN=0"
        assert self.firmware.resets >= 1, "the firmware was not told of the controller reset"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DisableWithBackPressure(DisableWithIoInFlight):
    pacing_seed = 61
