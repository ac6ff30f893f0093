"""Illegal queue management and unknown admin opcodes (tnvme's illegalCreateOrder,
illegalCreateQs, illegalDeleteQs, qIdVariations).

The completion scoreboard checks every status against the NVMe reference
model (models/nvme_model.py); the test adds that each illegal command did
fail, and that the legal ones around them still work.
"""

from __future__ import annotations

import pyuvm

from models.nvme_spec import SubmissionEntry, create_io_cq, create_io_sq, delete_io_cq, delete_io_sq
from tb.base_test import QueueTest
from tb.sequences import stream_commands

TIMEOUT_MS = 20
DEPTH = 16


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IllegalQueueManagement(QueueTest):
    async def body(self) -> None:
        await self.admin.set_num_queues(2, 2)
        ring = self.tb.alloc_dma(DEPTH * 64)
        mqes = self.driver.cap.mqes
        illegal = {
            "SQ before its CQ": create_io_sq(1, DEPTH - 1, ring, cqid=1),
            "CQ id 0": create_io_cq(0, DEPTH - 1, ring, iv=0),
            "CQ id above the queues granted": create_io_cq(3, DEPTH - 1, ring, iv=3),
            "CQ larger than MQES": create_io_cq(1, mqes + 1, ring, iv=1),
            "CQ of one entry": create_io_cq(1, 0, ring, iv=1),
            "CQ with a vector beyond the table": create_io_cq(1, DEPTH - 1, ring, iv=100),
            "non-contiguous CQ (CAP.CQR=1)": create_io_cq(1, DEPTH - 1, ring, iv=1, pc=False),
            "delete an SQ that does not exist": delete_io_sq(2),
            "delete a CQ that does not exist": delete_io_cq(2),
            "unknown admin opcode": SubmissionEntry(0x7F),
        }
        for what, sqe in illegal.items():
            cqe = await self.admin.execute(sqe, expect=None)
            assert not cqe.status.is_success, f"{what}: accepted"

        queue = await self.admin.create_queue_pair(1, DEPTH)
        again = await self.admin.execute(create_io_cq(1, DEPTH - 1, ring, iv=1), expect=None)
        assert not again.status.is_success, "a CQ id created twice was accepted"
        in_use = await self.admin.execute(delete_io_cq(1), expect=None)
        assert not in_use.status.is_success, "a CQ still used by an SQ was deleted"
        await stream_commands(queue, 2 * DEPTH, batch=5)
        await self.admin.delete_queue_pair(queue)
        assert not self.env.reference.predictions, "predictions no completion ever consumed"
