"""Queue wrap at sizes 2, 3, 64 and 4096 (tnvme's AdminQRollChk and IOQRollChk).

Each queue is driven through at least two and a half wraps; the completion
scoreboard checks the phase tag flips exactly at each wrap and the SQ head
moves with it.
"""

from __future__ import annotations

import pyuvm

from models.nvme_spec import SUCCESS, FeatureId, GenericStatus, Status, set_num_queues
from tb.base_test import QueueTest
from tb.sequences import stream_commands

TIMEOUT_MS = 200


class AdminWrap(QueueTest):
    """The admin queue itself at a small size, wrapped with Get/Set Features."""

    async def body(self) -> None:
        for _ in range(5 * self.admin_depth // 2 + 1):
            await self.admin.execute(set_num_queues(4, 4))
        await self.admin.get_features(FeatureId.NUMBER_OF_QUEUES)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class AdminWrap2(AdminWrap):
    admin_depth = 2


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class AdminWrap3(AdminWrap):
    admin_depth = 3


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class AdminWrap64(AdminWrap):
    admin_depth = 64


class IoWrap(QueueTest):
    """One I/O queue pair of ``depth`` entries, wrapped ``laps`` times."""

    depth = 2
    laps = 2.5
    batch = 1

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, self.depth)
        await stream_commands(queue, int(self.depth * self.laps) + 1, self.batch)
        await self.admin.delete_queue_pair(queue)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IoWrap2(IoWrap):
    depth = 2


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IoWrap3(IoWrap):
    depth = 3
    batch = 2


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IoWrap64(IoWrap):
    depth = 64
    batch = 63


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IoWrap4096(IoWrap):
    """The largest size tested: one lap and a half keeps the run short but wraps once."""

    depth = 4096
    laps = 1.1
    batch = 64


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms", expect_fail=True)
class ScoreboardSeesWrongStatus(IoWrap):
    """The completion scoreboard must fail when it expects another status (corrupted on purpose)."""

    depth = 3

    def expected_status(self, function: int = 0):
        return lambda sqid, cid: Status.of(GenericStatus.DATA_TRANSFER_ERROR) if sqid == 1 else SUCCESS


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IoWrapWithBackPressure(IoWrap):
    """Size 3 with idle cycles and back-pressure on every PCIe stream and the AXI4-Lite port."""

    depth = 3
    batch = 2
    pacing_seed = 11
