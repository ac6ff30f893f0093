"""What simulated time costs in wall-clock time, for bench/sim_cost_bench.py: an idle millisecond, QD1
4 KiB reads on the conv back end at the preset's real NAND timings, and register accesses."""

from __future__ import annotations

import random
import time

import pyuvm
from cocotb.triggers import Timer
from cocotb.utils import get_sim_time

from models.nvme_commands import read_cmd, write_cmd
from models.nvme_regs import NVME_REG_CAP, NVME_REG_CSTS, NVME_REG_VS
from tb.base_test import PAGE, CommandSetTest, NvmeBaseTest
from tb.command_sequences import HostBuffer, run_all, run_one

from bench_figures import record

IDLE_NS = 1_000_000
WRITTEN_PAGES = 256          # 1 MiB written, then read back at random, one read at a time
QD1_READS = 200
REGISTER_READS = 300


class Timed:
    """Simulated ns and wall seconds from construction to ``stop()``."""

    def __init__(self) -> None:
        self.sim_ns, self.wall = get_sim_time("ns"), time.perf_counter()

    def stop(self) -> tuple[float, float]:
        return get_sim_time("ns") - self.sim_ns, time.perf_counter() - self.wall


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class IdleMillisecond(CommandSetTest):
    """The controller enabled with an I/O queue pair, the firmware waiting, nothing in flight."""

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        timed = Timed()
        await Timer(IDLE_NS, "ns")
        sim_ns, wall = timed.stop()
        record("sim_cost", "idle", {"sim_ns": sim_ns, "wall_s": wall, "wall_s_per_ms": wall / (sim_ns / 1e6)})
        # the controller still answers
        (cqe,) = await run_all(queue, [read_cmd(1, 0, 1, *(await HostBuffer.alloc(self.tb, 1)).prps(512))])
        assert cqe.status.is_success


@pyuvm.test(timeout_time=200, timeout_unit="ms")
class ConvQd1Reads(CommandSetTest):
    """QD1 4 KiB random reads of written data on the conv FTL at the OX preset's NAND timings."""

    backend_kind = "conv"

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        buf = await HostBuffer.alloc(self.tb, 32)
        chunk = 32
        for slba in range(0, WRITTEN_PAGES, chunk):
            await self.tb.rc.mem_address_space.write(buf.addr, random.randbytes(chunk * PAGE))
            cqe = await run_one(queue, write_cmd(2, slba, chunk, *buf.prps(chunk * PAGE)), 50_000_000)
            assert cqe.status.is_success, cqe.status
        await self.backend_flush()
        rng = random.Random(7)
        timed = Timed()
        for _ in range(QD1_READS):
            cqe = await run_one(queue, read_cmd(2, rng.randrange(WRITTEN_PAGES), 1, *buf.prps(PAGE)), 5_000_000)
            assert cqe.status.is_success, cqe.status
        sim_ns, wall = timed.stop()
        record("sim_cost", "conv_qd1", {"reads": QD1_READS, "sim_ns": sim_ns, "wall_s": wall,
                                         "wall_s_per_ms": wall / (sim_ns / 1e6),
                                         "reads_per_wall_minute": QD1_READS / wall * 60,
                                         "mean_latency_us": sim_ns / QD1_READS / 1000})

    async def backend_flush(self) -> None:
        """Everything written reaches NAND, so that every read below takes a NAND read."""
        await Timer(max(1, self.backend.flush(int(get_sim_time("ns"))) - int(get_sim_time("ns"))), "ns")


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class RegisterReads(NvmeBaseTest):
    """BAR0 reads of CAP, VS and CSTS, one after another, as the register tests make them."""

    async def body(self) -> None:
        await self.driver.nvme_pci_enable()
        timed = Timed()
        for n in range(REGISTER_READS):
            await self.regs.readl((NVME_REG_CAP, NVME_REG_VS, NVME_REG_CSTS)[n % 3])
        sim_ns, wall = timed.stop()
        record("sim_cost", "registers", {"sim_ns": sim_ns, "wall_s": wall, "sim_ns_per_wall_s": sim_ns / wall})
