"""CC.EN 1->0 with I/O in flight: fetching stops, no DMA after CSTS.RDY reads 0,
every queue is deleted and the firmware is told; firmware work that outlives
the reset is refused by the hardware. (Plain re-enabling is enable.py's.)"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import Timer

from models.nvme_commands import read_cmd
from tb.base_test import PAGE, CommandSetTest, QueueTest
from tb.command_sequences import HostBuffer, run_all
from tb.sequences import io_command

TIMEOUT_MS = 20
PAIRS = 4
QUIET_NS = 20_000
CYCLES = 3
BACKEND_READ_NS = 12_000
READ_PAGES = 4
READS_PER_QUEUE = 16


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DisableWithIoInFlight(QueueTest):
    # a slow SoC keeps commands queued in the controller when the host disables it
    firmware_cost_ns = 2_000

    async def body(self) -> None:
        await self.admin.set_num_queues(PAIRS, PAIRS)
        queues = [await self.admin.create_queue_pair(qid, 32) for qid in range(1, PAIRS + 1)]
        for queue in queues:
            await queue.submit_many([io_command() for _ in range(30)])
        await Timer(10_000, "ns")
        assert 0 < sum(self.firmware.commands_per_sq[q.qid] for q in queues) < PAIRS * 30, (
            "the test needs commands both done and still queued when the controller is disabled")
        await self.disable_and_watch(QUIET_NS)
        for qid in range(PAIRS + 1):
            assert not (await self.firmware.mailbox.sq_state(qid)).valid, f"SQ {qid} survived CC.EN=0"
            assert not (await self.firmware.mailbox.cq_state(qid)).valid, f"CQ {qid} survived CC.EN=0"
        assert self.firmware.resets >= 1, "the firmware was not told of the controller reset"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DisableWithBackPressure(DisableWithIoInFlight):
    pacing_seed = 61


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DisableWithReadsInFlight(CommandSetTest):
    """Reads waiting on a slow back end when CC.EN falls, three times over (an independent host's
    report): the firmware's read tasks outlive the reset and then ask for DMA of their data. The
    hardware refuses every such request by its reset generation, so nothing leaves the device after
    CSTS.RDY reads 0; the engine holds no request id afterwards, and each re-enable serves again."""

    backend_config = {"read_ns": BACKEND_READ_NS}

    async def body(self) -> None:
        buffer = await HostBuffer.alloc(self.tb, READ_PAGES)
        reads = [read_cmd(2, i * READ_PAGES, READ_PAGES, *buffer.prps(READ_PAGES * PAGE))
                 for i in range(READS_PER_QUEUE)]
        for cycle in range(CYCLES):
            await self.admin.set_num_queues(PAIRS, PAIRS)
            queues = [await self.admin.create_queue_pair(qid, 32) for qid in range(1, PAIRS + 1)]
            refused, transfers = self.dma.refused, self.dma.transfers
            for queue in queues:
                await queue.submit_many(reads)
            await Timer(BACKEND_READ_NS // 3, "ns")
            taken = sum(self.firmware.commands_per_sq[q.qid] for q in queues)
            assert taken > 0 and self.dma.transfers == transfers, (
                f"cycle {cycle}: the test needs reads taken by the firmware and still waiting on the back "
                f"end ({taken} taken, {self.dma.transfers - transfers} transfers done)")
            self.firmware.commands_per_sq.clear()
            await self.disable_and_watch(BACKEND_READ_NS + QUIET_NS)
            assert self.dma.refused > refused, f"cycle {cycle}: no late DMA request reached the engine"
            assert not self.dma.waiting, f"cycle {cycle}: {self.dma.waiting} firmware DMA waits outlived the reset"
            assert await self.dma.in_flight() == 0, f"cycle {cycle}: the engine still holds request ids"
            await self.bring_up()
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        (cqe,) = await run_all(queue, reads[:1])
        assert cqe.status.is_success, f"after {CYCLES} resets a read completes with {cqe.status}"
