"""Firmware and device faults: a firmware that stops answering, one that fails inside a command, and
device DRAM that answers with errors.

A stalled firmware leaves commands waiting at the head of the command
FIFO; the hardware watchdog (FW_WATCHDOG, armed by the firmware) then sets
CSTS.CFS within its bound, and the controller stops fetching and moving
data. A controller reset clears it and the controller serves again. A
firmware that is slow but takes each command within the bound is never
declared dead. An
exception inside one command's execution gives that command Internal
Error, and the controller goes on serving the others. DRAM that answers a
DMA burst with SLVERR fails that command with Internal Error too.
"""

from __future__ import annotations

import pyuvm
from cocotb.simtime import get_sim_time
from cocotb.triggers import Timer

from firmware.mailbox import CommandSlot
from models.backend import NvmBackend
from models.identify import ControllerConfig
from models.nvme_commands import read_cmd, write_cmd
from models.nvme_regs import NVME_CSTS_CFS, NVME_REG_CSTS
from models.nvme_spec import FeatureId, GenericStatus, Status, get_features
from tb.base_test import PAGE, CommandSetTest, QueueTest
from tb.command_sequences import HostBuffer, run_all
from tb.sequences import io_command

TIMEOUT_MS = 10
WATCHDOG_US = 40
SLOW_COMMANDS = 6      # together they wait several times the watchdog's bound
POLL_NS = 1_000
QUIET_NS = 20_000
INTERNAL_ERROR = Status.of(GenericStatus.INTERNAL_ERROR)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class WatchdogCatchesStalledFirmware(QueueTest):
    """The firmware stalls with a command waiting: CSTS.CFS rises between the watchdog's bound and one
    microsecond tick after it, the firmware's status shows it dead, nothing is fetched or moved
    afterwards, and a controller reset brings the controller back."""

    watchdog_us = WATCHDOG_US

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        self.firmware.pause()
        await queue.submit_many([io_command()])
        stalled_at = get_sim_time("ns")
        csts = 0
        while not csts & NVME_CSTS_CFS:
            assert get_sim_time("ns") - stalled_at < 2 * WATCHDOG_US * 1000, (
                f"no CSTS.CFS {2 * WATCHDOG_US} us after the firmware stalled (CSTS={csts:#x})")
            await Timer(POLL_NS, "ns")
            csts = await self.regs.readl(NVME_REG_CSTS)
        fired_after = get_sim_time("ns") - stalled_at
        assert fired_after >= WATCHDOG_US * 1000, f"the watchdog fired after {fired_after:.0f} ns, before its bound"
        status = await self.firmware.mailbox.ctrl_status()
        assert status.firmware_dead and status.enabled, status

        requests: list[int] = []
        self.tb.rq_observers.append(lambda tlp, t: requests.append(t))
        await queue.submit_many([io_command() for _ in range(4)])
        await Timer(QUIET_NS, "ns")
        assert not requests, f"{len(requests)} requests on RQ after CSTS.CFS"

        await self.driver.nvme_disable_ctrl()
        self.env.queue_monitor.controller_reset()
        assert not (await self.firmware.mailbox.ctrl_status()).firmware_dead, "the reset kept the firmware dead"
        self.firmware.resume()
        await self.bring_up()
        await self.admin.execute(get_features(FeatureId.NUMBER_OF_QUEUES))


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class WatchdogBoundIsPerCommand(QueueTest):
    """Command after command waits at the head of the FIFO for three quarters of the watchdog's bound
    before the firmware takes it: the bound is per command (the count restarts at every pop), so however
    long the run, CSTS.CFS never rises and the firmware is never declared dead."""

    watchdog_us = WATCHDOG_US

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        wait_ns = WATCHDOG_US * 1000 * 3 // 4
        for n in range(1, SLOW_COMMANDS + 1):
            self.firmware.pause()
            cids = await queue.submit_many([io_command()])
            await Timer(wait_ns, "ns")
            self.firmware.resume()
            await queue.wait_for(cids)
            csts = await self.regs.readl(NVME_REG_CSTS)
            assert not csts & NVME_CSTS_CFS, (
                f"CSTS.CFS after {n} commands that each waited {wait_ns} ns, under the {WATCHDOG_US} us bound")
        assert not (await self.firmware.mailbox.ctrl_status()).firmware_dead


class FaultyBackend(NvmBackend):
    """An nvm back end whose read of one page raises, as a firmware bug would."""

    faulty_page = 1     # namespace 1 (512 B LBAs) starts the back end: LBAs 8-15

    def read(self, lpn: int, count: int, now_ns: int) -> tuple[bytes, int]:
        if lpn <= self.faulty_page < lpn + count:
            raise RuntimeError(f"injected firmware fault reading page {self.faulty_page}")
        return super().read(lpn, count, now_ns)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ExceptionGivesInternalError(CommandSetTest):
    """The one command whose execution raises completes with Internal Error; the reads around it and a
    write after it succeed: the controller keeps serving."""

    def controller_config(self) -> ControllerConfig:
        config = super().controller_config()
        self.backend = FaultyBackend()
        return config

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        buf = await HostBuffer.alloc(self.tb, 1)
        lbas_per_page = PAGE // 512
        reads = [read_cmd(1, page * lbas_per_page, lbas_per_page, *buf.prps(PAGE)) for page in range(4)]
        cids = await queue.submit_many(reads)
        self.forced[(queue.qid, cids[FaultyBackend.faulty_page])] = INTERNAL_ERROR
        cqes = await queue.wait_for(cids)
        for page, cqe in enumerate(cqes):
            want = INTERNAL_ERROR if page == FaultyBackend.faulty_page else Status.of(GenericStatus.SUCCESS)
            assert cqe.status.same_code(want), f"read of back-end page {page}: {cqe.status}"
        assert len(self.firmware.internal_errors) == 1, self.firmware.internal_errors
        (cqe,) = await run_all(queue, [write_cmd(1, 64, lbas_per_page, *buf.prps(PAGE))])
        assert cqe.status.is_success, f"a write after the fault: {cqe.status}"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DeviceDramErrors(CommandSetTest):
    """Device DRAM answering the DMA engine with SLVERR: a Write whose data cannot be stored in DRAM and a
    Read whose data cannot be read from it each complete with Internal Error (the status both AXI4 error
    responses map to); with DRAM healthy again, the same commands succeed."""

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        buf = await HostBuffer.alloc(self.tb, 2)
        dram = self.tb.dram
        last_slot = CommandSlot(self.firmware.params.cmd_slots - 1)
        staging = (0, self.firmware.slot_buffer(last_slot) + self.firmware.buffer_size)   # every slot's buffer
        for reads, writes, sqe in ((False, True, write_cmd(2, 4, 2, *buf.prps(2 * PAGE))),
                                   (True, False, read_cmd(2, 4, 2, *buf.prps(2 * PAGE)))):
            dram.inject_errors(*staging, reads=reads, writes=writes)
            (cid,) = await queue.submit_many([sqe])
            self.forced[(queue.qid, cid)] = INTERNAL_ERROR
            (cqe,) = await queue.wait_for([cid])
            assert cqe.status.same_code(INTERNAL_ERROR), f"opcode {sqe.opcode:#x} with DRAM errors: {cqe.status}"
            dram.inject_errors(0, 0, reads=False, writes=False)
            (cqe,) = await run_all(queue, [sqe])
            assert cqe.status.is_success, f"opcode {sqe.opcode:#x} with DRAM healthy: {cqe.status}"
