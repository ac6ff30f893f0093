"""A fake firmware mailbox: the command FIFO, per-CQ full flags and what was posted.

Shared by the unit tests of the firmware loops, which run under asyncio
without a simulator.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from firmware.mailbox import CommandSlot, DoorbellError, FwParams, IrqBit
from models.nvme_spec import Status, SubmissionEntry


class FakeMailbox:
    timeout_ns = 5_000
    # True: the mailbox of one controller among several, whose reset leaves its slots to drain
    drains_on_reset = False
    # one controller: every queue id its own
    function = 0
    budget = None

    def __init__(self) -> None:
        self.fifo: deque[tuple[CommandSlot, int, SubmissionEntry]] = deque()
        self.full: set[int] = set()
        self.full_answers: deque[bool] = deque()   # scripted answers before ``full`` applies
        self.posted: list[tuple[CommandSlot, Status, int]] = []
        self.dw1: dict[CommandSlot, int] = {}     # DW1 of the latest completion posted for each slot
        self.hw: list[tuple[str, tuple[int, ...]]] = []
        self.irq = IrqBit(0)
        self.acked = IrqBit(0)
        self.db_err: DoorbellError | None = None
        self.next_slot = 0

    def queue(self, sqid: int, sqe: SubmissionEntry) -> CommandSlot:
        slot = CommandSlot(self.next_slot)
        self.next_slot += 1
        self.fifo.append((slot, sqid, sqe))
        return slot

    async def check_id(self) -> None:
        pass

    async def params(self) -> FwParams:
        return FwParams(cmd_slots=64, io_queue_pairs=4, mqes=255)

    async def irq_enable(self, bits: IrqBit) -> None:
        pass

    async def irq_status(self) -> IrqBit:
        return self.irq | (IrqBit.COMMAND if self.fifo else IrqBit(0))

    async def irq_ack(self, bits: IrqBit) -> None:
        self.acked |= bits
        self.irq &= ~bits

    async def next_command(self) -> tuple[CommandSlot, int] | None:
        return self.fifo[0][:2] if self.fifo else None

    async def read_sqe(self, slot: CommandSlot) -> SubmissionEntry:
        assert self.fifo[0][0] == slot
        return self.fifo[0][2]

    async def pop(self) -> None:
        self.fifo.popleft()

    async def wait_poster_idle(self) -> None:
        pass

    async def cq_full(self, cqid: int) -> bool:
        return self.full_answers.popleft() if self.full_answers else cqid in self.full

    async def post_completion(self, slot: CommandSlot, status: Status, dw0: int = 0, dw1: int = 0) -> None:
        self.posted.append((slot, status, dw0))
        self.dw1[slot] = dw1

    async def db_error(self) -> DoorbellError | None:
        return self.db_err

    async def clear_db_error(self) -> None:
        self.db_err = None

    def __getattr__(self, name: str) -> Any:
        """Queue and feature programming: record it."""
        async def record(*args: int) -> None:
            self.hw.append((name, args))
        return record
