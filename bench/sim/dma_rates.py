"""DMA throughput and 4 KiB IOPS of real NVMe commands, for bench/dma_bench.py.

Writes (host to device) or Reads (device to host) on namespace 2 through
the queue engine, the zero-cost firmware (Reads auto-completed by the DMA
engine) and the RTL DMA engine, with the default 800 ns host read latency,
on the build bench/dma_bench.py chose (256-bit Gen3 x8 or 512-bit Gen4 x8):

- throughput: 128 KiB commands with PRP lists in host memory, 4 queues with
  4 commands in flight each, at MPS 256 and 512;
- IOPS: 4 KiB commands (PRP1 only), 8 queues with 16 in flight each, at
  MPS 256.

The device's max read request size is BENCH_MRRS bytes. Figures count the
simulated time from the first doorbell to the last completion, so command,
PRP-list and completion traffic is all inside them.
"""

from __future__ import annotations

import os
import time

import cocotb
import pyuvm
from cocotb.utils import get_sim_time

from models.nvme_commands import read_cmd, write_cmd
from tb.base_test import PAGE, CommandSetTest
from tb.pcie_tb import LinkConfig

from bench_figures import record

MRRS = int(os.environ.get("BENCH_MRRS", "512"))


def size_code(size: int) -> int:
    """PCIe Device Control's encoding of a max payload or read request size: 128 << code bytes."""
    return (size // 128).bit_length() - 1


def link(mps: int) -> LinkConfig:
    """The bench's link: device and root at MPS ``mps``, reads of up to MRRS bytes."""
    return LinkConfig(max_payload_size=mps, root_mps_code=size_code(mps), device_mrrs_code=size_code(MRRS))


class DmaRate(CommandSetTest):
    """``queues`` queues each keep ``depth`` commands of ``length`` bytes in flight, ``rounds`` times."""

    link = link(256)
    backend_config = {"read_ns": 0, "write_ns": 0}
    label = ""
    make_cmd = staticmethod(write_cmd)
    queues = 4
    depth = 4
    rounds = 4
    length = 128 * 1024

    def make_firmware(self, dut):
        firmware = super().make_firmware(dut)
        firmware.io.auto_complete_reads = True
        return firmware

    async def body(self) -> None:
        await self.admin.set_num_queues(self.queues, self.queues)
        queues = [await self.admin.create_queue_pair(qid, 32) for qid in range(1, self.queues + 1)]
        buffers = [await self.prp_buffer(self.length // PAGE) for _ in range(self.queues * self.depth)]
        nlb = self.length // 4096

        async def drive(q: int) -> None:
            for _ in range(self.rounds):
                cmds = [self.make_cmd(2, nlb * (q * self.depth + i), nlb, *buffers[q * self.depth + i][1:])
                        for i in range(self.depth)]
                cids = await queues[q].submit_many(cmds)
                for cqe in await queues[q].wait_for(cids):
                    assert cqe.status.is_success, cqe.status

        wall = time.perf_counter()
        start = get_sim_time("ns")
        tasks = [cocotb.start_soon(drive(q)) for q in range(self.queues)]
        for task in tasks:
            await task
        elapsed_ns = get_sim_time("ns") - start
        wall = time.perf_counter() - wall
        commands = self.queues * self.depth * self.rounds
        total = commands * self.length
        record("dma_rates", self.label, {"bytes": total, "sim_ns": elapsed_ns, "gb_per_s": total / elapsed_ns,
                                         "iops": commands / (elapsed_ns * 1e-9),
                                         "wall_s_per_mib": wall / (total / 2**20)})


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class WriteMps256(DmaRate):
    label = "host -> device (Write), MPS 256"


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class ReadMps256(DmaRate):
    label = "device -> host (Read), MPS 256"
    make_cmd = staticmethod(read_cmd)


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class WriteMps512(WriteMps256):
    link = link(512)
    label = "host -> device (Write), MPS 512"


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class ReadMps512(ReadMps256):
    link = link(512)
    label = "device -> host (Read), MPS 512"


class Iops4k(DmaRate):
    queues = 8
    depth = 16
    rounds = 8
    length = 4096


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class Write4k(Iops4k):
    label = "4 KiB Writes"


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class Read4k(Iops4k):
    label = "4 KiB Reads"
    make_cmd = staticmethod(read_cmd)
