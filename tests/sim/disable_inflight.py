"""CC.EN 1->0 with I/O in flight: fetching stops, no DMA after CSTS.RDY reads 0,
every queue is deleted and the firmware is told; firmware work that outlives
the reset is refused by the hardware. (Plain re-enabling is enable.py's.)"""

from __future__ import annotations

import pyuvm
from cocotb.simtime import get_sim_time
from cocotb.triggers import RisingEdge, Timer

from firmware.mailbox import CommandSlot
from firmware.nvme.ports import DmaDirection
from models.nvme_commands import read_cmd
from models.nvme_regs import NVME_CSTS_CFS, NVME_CSTS_RDY, NVME_REG_CSTS
from models.nvme_spec import GenericStatus, Status
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
F_REQ = 2                     # nvme_sq_fetch: a read with its slots and tag, waiting for the request builder
ISSUE_WAIT_CYCLES = 2_000
RESET_SEEN_NS = 2_000         # the CC write reaches the controller and its reset clears the engines
FETCH_TIMEOUT_NS = 120_000    # beyond the fetch's completion timeout (about 53 us) and its quarantine
RESET_BOUND_NS = 20_000       # a reset with nothing outstanding, well short of that timeout


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
class DisableWhileAFetchWaitsToIssue(QueueTest):
    """CC.EN 1->0 while an SQ read holds its command slots and read tag but cannot be issued (RQ held
    back, the request builder already holding another SQ's read): the reset drops that read and gives its
    tag back at once, so CSTS.RDY reads 0 without waiting out a completion timeout for a read that never
    left. Re-enabled, the controller serves and stays clear of a fatal status past the timeout."""

    async def body(self) -> None:
        await self.admin.set_num_queues(2, 2)
        queues = [await self.admin.create_queue_pair(qid, 16) for qid in (1, 2)]
        fetch = self.tb.design.sq_fetch_inst
        self.tb.dev.rq_sink.pause = True
        for queue in queues:
            await queue.submit_many([io_command()])
        for _ in range(ISSUE_WAIT_CYCLES):
            if int(fetch.f_state_reg.value) == F_REQ:
                break
            await RisingEdge(self.tb.design.user_clk)
        assert int(fetch.f_state_reg.value) == F_REQ, "no SQ read waiting to be issued"
        disabled_at = get_sim_time("ns")
        await self.driver.clear_enable()
        await Timer(RESET_SEEN_NS, "ns")
        self.tb.dev.rq_sink.pause = False
        await self.driver.nvme_wait_ready(False)
        took = get_sim_time("ns") - disabled_at
        assert took < RESET_BOUND_NS, f"the reset took {took:.0f} ns: it waited for a tag with no read behind it"
        self.env.queue_monitor.controller_reset()
        await self.bring_up()
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        await run_all(queue, [io_command() for _ in range(8)])
        await Timer(FETCH_TIMEOUT_NS, "ns")
        csts = await self.regs.readl(NVME_REG_CSTS)
        assert csts & NVME_CSTS_RDY and not csts & NVME_CSTS_CFS, f"CSTS {csts:#x} after the timeout's span"
        await run_all(queue, [io_command() for _ in range(8)])


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
            assert self.firmware.enables == cycle + 1, (
                f"cycle {cycle}: the firmware handled {self.firmware.enables} enable events for {cycle + 1} enables")
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


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class StaleEpochRefused(CommandSetTest):
    """What a firmware task that outlived a controller reset might still try, done on purpose: a
    completion and a DMA request naming the previous epoch. The completion is dropped (and counted),
    the DMA request refused with Command Abort Requested; neither reaches the host, even though the
    slot they name is in use again. A DMA request while the controller is disabled is refused too."""

    async def body(self) -> None:
        mailbox = self.firmware.mailbox
        old = (await mailbox.ctrl_status()).epoch
        await self.disable_and_watch(QUIET_NS)
        disabled = await mailbox.ctrl_status()
        assert disabled.epoch == (old + 1) % 256 and not disabled.enabled, disabled
        refused = await self.dma.transfer(CommandSlot(0, disabled.epoch), DmaDirection.DEVICE_TO_HOST, 0, PAGE,
                                          0, PAGE)
        assert refused.code == GenericStatus.ABORT_REQUESTED, f"DMA while disabled: {refused}"
        await self.bring_up()
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        buf = await HostBuffer.alloc(self.tb, 1)
        requests: list[int] = []
        self.tb.rq_observers.append(lambda tlp, t: requests.append(t) if tlp.address == buf.addr else None)
        # a read held in the back end keeps slot 0's command open while the stale requests arrive
        self.firmware.pause()
        (cid,) = await queue.submit_many([read_cmd(2, 0, 1, *buf.prps(PAGE))])
        await Timer(2_000, "ns")
        head = await mailbox.next_command()
        assert head is not None and head[0].epoch == disabled.epoch, f"command FIFO head {head}"
        stale = CommandSlot(head[0].index, old)
        dropped = await mailbox.stale_completions()
        await mailbox.post_completion(stale, Status.of(GenericStatus.SUCCESS))
        assert await mailbox.stale_completions() == dropped + 1, "a completion of the old epoch was posted"
        result = await self.dma.transfer(stale, DmaDirection.DEVICE_TO_HOST, 0, PAGE, 0, PAGE)
        assert result.code == GenericStatus.ABORT_REQUESTED, f"DMA of the old epoch: {result}"
        assert not requests and not await queue.poll_cq(), "a stale request reached the host"
        self.firmware.resume()
        (cqe,) = await queue.wait_for([cid])
        assert cqe.status.is_success, cqe.status
