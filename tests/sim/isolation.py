"""Every test starts from a clean reset, however the previous one in the same simulator ended.

The first test fails on purpose (expect_fail) with reads and writes in
flight, the firmware and the host mid-transaction on every port; the next
test in the same process must find a design and a test bench that know
nothing of it: the firmware starts, the controller comes up, data moves.
"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import Timer

from models.nvme_commands import read_cmd, write_cmd
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer, write_and_read_back

TIMEOUT_MS = 10
IN_FLIGHT = 24


class DeliberateFailure(Exception):
    """The failure the first test ends with."""


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms", expect_error=DeliberateFailure)
class FailsWithIoInFlight(CommandSetTest):
    backend_config = {"read_ns": 5_000, "write_ns": 5_000}

    async def body(self) -> None:
        await self.admin.set_num_queues(2, 2)
        buf = await HostBuffer.alloc(self.tb, 8)
        prps = buf.prps(8 * PAGE)
        for qid in (1, 2):
            queue = await self.admin.create_queue_pair(qid, 32)
            await queue.submit_many([(read_cmd if i % 2 else write_cmd)(2, i * 8, 8, *prps)
                                     for i in range(IN_FLIGHT)])
        await Timer(3_000, "ns")
        assert self.dma.waiting or self.firmware.io_opcodes, "the test needs I/O in flight when it fails"
        raise DeliberateFailure("failing on purpose with I/O in flight")


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class NextTestStartsClean(CommandSetTest):
    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        buf = await HostBuffer.alloc(self.tb, 2)
        await write_and_read_back(self.tb, queue, 2, 0, bytes(range(256)) * 32, 4096, buf, buf)
        await self.admin.delete_queue_pair(queue)
