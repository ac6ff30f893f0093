"""Shutdown notifications keep every completed write (NVMe 1.4, 7.6.2) on the conv back end, whose
volatile write cache is present and enabled, at the presets' real NAND timings.

Writes complete into the write cache; then a normal (CC.SHN 01b) or an
abrupt (10b) shutdown: the firmware flushes the cache to NAND before the
hardware may report CSTS.SHST 10b. Then the power is cut in the back end
(its volatile state is gone, the mapping is rebuilt from the pages' OOB), the
host resets the controller, brings it up again, and every write reads back:
the reference model kept them, and the data scoreboard checks each read.
After SHST reads 10b nothing moves: a command submitted then is not even
fetched.
"""

from __future__ import annotations

import random

import pyuvm
from cocotb.triggers import Timer

from models.nvme_commands import read_cmd, write_cmd
from models.nvme_regs import NVME_CSTS_SHST_CMPLT, NVME_CSTS_SHST_MASK, NVME_REG_CSTS
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer, run_all

TIMEOUT_MS = 40
NSID = 2            # 4 KiB LBAs: one back-end page each
QUIET_NS = 20_000


class ShutdownKeepsWrites(CommandSetTest):
    backend_kind = "conv"
    abrupt = False

    async def body(self) -> None:
        rng = random.Random(f"shutdown-{self.abrupt}")
        # one page short of a NAND page: every write stays in the volatile cache
        writes = self.backend.geometry.sectors_per_page - 1
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        buffers = [await HostBuffer.alloc(self.tb, 1) for _ in range(writes)]
        lbas = rng.sample(range(1 << 12), writes)
        for buf, lba in zip(buffers, lbas):
            await self.tb.rc.mem_address_space.write(buf.addr, rng.randbytes(PAGE))
        cqes = await run_all(queue, [write_cmd(NSID, lba, 1, *buf.prps(PAGE)) for buf, lba in zip(buffers, lbas)])
        assert all(c.status.is_success for c in cqes), [str(c.status) for c in cqes]
        assert self.backend.cached_pages == writes, (
            f"the test needs the completed writes in the volatile cache: {self.backend.cached_pages} pages there")

        took = await self.driver.nvme_shutdown_ctrl(abrupt=self.abrupt)
        assert self.backend.cached_pages == 0, f"SHST reads 10b with {self.backend.cached_pages} pages unflushed"
        assert self.firmware.shutdown_flushes == 1
        self.logger.info("%s shutdown complete after %.1f us", "abrupt" if self.abrupt else "normal", took / 1000)
        await self.nothing_moves_after_shutdown(queue)

        self.backend.power_loss()
        self.backend.recover()
        await self.driver.nvme_disable_ctrl()
        self.env.queue_monitor.controller_reset()
        await self.bring_up()
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        rbuf = await HostBuffer.alloc(self.tb, 1)
        for buf, lba in zip(buffers, lbas):
            (cqe,) = await run_all(queue, [read_cmd(NSID, lba, 1, *rbuf.prps(PAGE))])
            assert cqe.status.is_success, f"LBA {lba}: {cqe.status}"
            got = await self.tb.rc.mem_address_space.read(rbuf.addr, PAGE)
            assert bytes(got) == bytes(await self.tb.rc.mem_address_space.read(buf.addr, PAGE)), (
                f"LBA {lba}: a write completed before the shutdown did not survive the power cut")

    async def nothing_moves_after_shutdown(self, queue) -> None:
        """With SHST 10b a command rung in is not fetched: no request on RQ, no completion."""
        csts = await self.regs.readl(NVME_REG_CSTS)
        assert csts & NVME_CSTS_SHST_MASK == NVME_CSTS_SHST_CMPLT, f"CSTS={csts:#x}"
        requests: list[int] = []
        self.tb.rq_observers.append(lambda tlp, t: requests.append(t))
        await queue.submit_many([read_cmd(NSID, 0, 1, *(await HostBuffer.alloc(self.tb, 1)).prps(PAGE))])
        await Timer(QUIET_NS, "ns")
        assert not requests, f"{len(requests)} requests on RQ after CSTS.SHST read 10b"
        assert await queue.poll_cq() == [], "a command completed after the shutdown"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class NormalShutdown(ShutdownKeepsWrites):
    abrupt = False


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class AbruptShutdown(ShutdownKeepsWrites):
    abrupt = True
