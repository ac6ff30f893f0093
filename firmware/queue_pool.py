"""The shared queue table as a subsystem's firmware hands it out to its controllers.

Entry f of the table is controller f's admin queue pair for good; every
other entry is the pool (docs/virtual_controllers.md). An I/O queue pair
of a controller gets an entry when its first queue (SQ or CQ) is created
and gives it back when its last is deleted, or when its controller is
reset (the hardware unmaps a reset controller's entries itself). The
firmware tells the hardware through Q_MAP and reads the entry back: the
hardware refuses a map that is not safe (an entry with a queue or an SQ
read still in it), and then the next free entry is tried.

How many pairs each controller may hold is the ``budget``'s (Number of
Queues), so the pool never runs short of what was granted.
"""

from __future__ import annotations

from collections import Counter

from contract import fw_mailbox as regs
from firmware.mailbox import Mailbox, MailboxError
from models.queue_budget import QueueBudget


class QueuePool:
    """Which controller's queue pair each entry of the queue table holds."""

    def __init__(self, bus: Mailbox, functions: int, entries: int, queue_ids: int) -> None:
        """``entries`` of the table for ``functions`` controllers of ``queue_ids`` queue ids each."""
        self.bus = bus
        self.functions = functions
        self.budget = QueueBudget(entries - functions, functions, queue_ids - 1)
        self._free = list(range(functions, entries))
        self._entries: dict[tuple[int, int], int] = {}     # (controller, queue id) -> entry
        self._pairs: dict[int, tuple[int, int]] = {}       # entry -> the pair it holds, or last held
        self._queues: Counter[int] = Counter()             # SQs and CQs in each held entry

    @classmethod
    async def read(cls, bus: Mailbox, queue_ids: int) -> QueuePool:
        """The pool of the hardware behind ``bus`` (FW_FUNCTIONS)."""
        raw = await bus.read(regs.FW_FUNCTIONS.OFFSET)
        return cls(bus, regs.FW_FUNCTIONS.FUNCTIONS.get(raw), regs.FW_FUNCTIONS.ENTRIES.get(raw), queue_ids)

    def entry(self, function: int, qid: int) -> int | None:
        """The entry of a controller's queue pair, None if it has none."""
        return function if qid == 0 else self._entries.get((function, qid))

    def locate(self, entry: int) -> tuple[int, int] | None:
        """(controller, queue id) of the pair an entry holds, or last held."""
        return (entry, 0) if entry < self.functions else self._pairs.get(entry)

    async def hold(self, function: int, qid: int) -> int:
        """One more queue of a controller's pair ``qid``: its entry, drawn from the pool for its first."""
        entry = self.entry(function, qid)
        if entry is None:
            entry = await self._draw(function, qid)
        self._queues[entry] += 1
        return entry

    async def release(self, function: int, qid: int) -> None:
        """One queue of the pair fewer (deleted): the entry goes back with the pair's last queue."""
        entry = self.entry(function, qid)
        if entry is None or qid == 0:
            raise ValueError(f"controller {function}'s queue {qid} holds no pool entry")
        self._queues[entry] -= 1
        if self._queues[entry] == 0:
            if not await self.bus.map_entry(entry, function, qid, mapped=False):
                raise MailboxError(f"the hardware kept entry {entry} (controller {function}'s pair {qid}) mapped")
            self._give_back(entry)

    def reset(self, function: int) -> None:
        """A controller reset: the hardware unmapped the controller's entries; they are free again."""
        for (owner, _), entry in list(self._entries.items()):
            if owner == function:
                self._give_back(entry)

    async def _draw(self, function: int, qid: int) -> int:
        for entry in self._free:
            if await self.bus.map_entry(entry, function, qid):
                self._free.remove(entry)
                self._entries[function, qid] = entry
                self._pairs[entry] = (function, qid)
                return entry
        raise MailboxError(f"no free entry of the pool took controller {function}'s pair {qid} "
                           f"({len(self._free)} free, granted {self.budget.allocations})")

    def _give_back(self, entry: int) -> None:
        del self._entries[self._pairs[entry]]
        del self._queues[entry]
        self._free.append(entry)
