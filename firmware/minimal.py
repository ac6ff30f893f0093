"""The firmware's mailbox loop: events, queue management and features, and a no-data success for I/O.

``MinimalFirmware`` is the firmware of the queue-engine tests
(tb.base_test.QueueTest): it executes the admin commands that program the
hardware (I/O queue creation and deletion, and the queue-related features,
decided by firmware.admin) and completes every NVM command at once with
success, moving no data; other I/O opcodes are Invalid Opcode. It is also
the base of the full firmware: ``NvmeFirmware`` (firmware/nvme/loop.py)
keeps this loop, its event handling and its per-CQ deferral, and replaces
what happens to a command once taken.

The loop is a background cocotb task (``start()`` / ``stop()``) modelling an
ARM SoC that spends ``cost_ns`` of simulated time per command (0 is a valid
setting, the same code path).

Each pass of the loop reads and acknowledges FW_IRQ_STATUS, handles the
events (controller reset, invalid doorbell, shutdown; an enable needs
nothing here), retries deferred completions, then takes every waiting
command in FIFO order: read the SQE, pop, decide, program the hardware,
complete. When idle it sleeps until fw_irq rises (it looks at the level
first, so no edge is missed), bounded by a long timeout as a safety: an
idle SoC wakes no one, and idle simulated time stays cheap.

A completion for a CQ whose full flag is set would hold the hardware's single
poster busy and block completions to every other CQ, so it waits in a
software FIFO per CQ instead and is retried each pass, preserving order
within the CQ; while one waits the loop sleeps at most ``retry_ns``, and a
command task that defers one wakes it.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import dataclass

import cocotb
from cocotb.handle import HierarchyObject
from cocotb.simtime import get_sim_time
from cocotb.task import Task
from cocotb.triggers import Event, Timer

from firmware.admin import (ADMIN_QID, AdminState, CreateCq, CreateSq, DeleteCq, DeleteSq, HardwareAction,
                            ProgramArbitration, ProgramCoalescing, ProgramCoalescingDisable)
from firmware.mailbox import CommandSlot, DoorbellError, FwParams, IrqBit, Mailbox, MailboxTimeout
from models.nvme_spec import SUCCESS, GenericStatus, NvmOpcode, Status, SubmissionEntry

NVM_OPCODES = frozenset(int(op) for op in NvmOpcode)


@dataclass(frozen=True)
class PendingCompletion:
    slot: CommandSlot
    sqid: int
    status: Status
    dw0: int = 0
    dw1: int = 0


class BackgroundLoop:
    """A firmware loop run as a background cocotb task: ``start()`` runs ``run()`` until ``stop()``; ``pause()``
    stalls it (a stalled SoC) until ``resume()``."""

    _task: Task | None = None

    def __init__(self) -> None:
        self._running = Event()
        self._running.set()

    def pause(self) -> None:
        """Stop taking commands after the current pass, until resume()."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    async def run(self) -> None:
        raise NotImplementedError

    def start(self) -> Task:
        assert self._task is None or self._task.done(), "firmware already running"
        self._task = cocotb.start_soon(self.run())
        return self._task

    def stop(self) -> None:
        """End the loop wherever it waits; an error it raised before stays visible on the task."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None


class MinimalFirmware(BackgroundLoop):
    """Firmware loop over the mailbox: admin queue/feature commands, I/O completed without data."""

    def __init__(self, mailbox: Mailbox, cost_ns: int = 0, idle_wait_ns: int = 1_000_000,
                 retry_ns: int = 1_000, watchdog_us: int | None = None) -> None:
        super().__init__()
        self.mailbox = mailbox
        self.cost_ns = cost_ns
        self.watchdog_us = watchdog_us     # None: the hardware's reset value (FW_WATCHDOG)
        self.idle_wait_ns = idle_wait_ns   # bound on one wait for fw_irq
        self.retry_ns = retry_ns           # how often deferred completions look for room
        self.params: FwParams | None = None
        self.admin: AdminState | None = None
        self.async_events: list[DoorbellError] = []
        self.commands_per_sq: Counter[int] = Counter()
        self.admin_opcodes: Counter[int] = Counter()
        self.io_opcodes: Counter[int] = Counter()
        self.completions_deferred = 0
        self.resets = 0
        self.enables = 0   # controller enables (FW_IRQ_STATUS.ENABLED events) handled
        self._deferred: defaultdict[int, deque[PendingCompletion]] = defaultdict(deque)
        # set when a completion is deferred outside the loop's pass (by a command task): the sleeping loop must
        # wake and retry within retry_ns, not at its next interrupt
        self._wake = Event()
        # SQ id of every command in the order the hardware handed them over
        self.command_order: list[int] = []

    @classmethod
    def from_dut(cls, dut: HierarchyObject, **kwargs: int | None) -> MinimalFirmware:
        return cls(Mailbox.from_dut(dut), **kwargs)

    @property
    def deferred(self) -> dict[int, int]:
        """Completions waiting for room, per CQ."""
        return {cqid: len(q) for cqid, q in self._deferred.items() if q}

    async def init(self) -> None:
        """Check the mailbox, learn the controller's parameters, enable every event."""
        await self.mailbox.check_id()
        self.params = await self.mailbox.params()
        self.admin = AdminState(self.params.io_queue_pairs, self.params.mqes, self.mailbox.budget,
                                self.mailbox.function)
        if self.watchdog_us is not None:
            await self.mailbox.set_watchdog(self.watchdog_us)
        await self.mailbox.irq_enable(IrqBit.all())

    async def run(self) -> None:
        await self.init()
        while True:
            await self._running.wait()
            worked = await self.step()
            if not worked:
                self._wake.clear()
                await self.mailbox.wait_irq(self.retry_ns if self.deferred else self.idle_wait_ns, self._wake)

    async def step(self) -> bool:
        """One pass: events, deferred completions, waiting commands. True if anything was done."""
        events = await self.mailbox.irq_status() & ~IrqBit.COMMAND
        if events:
            # acknowledge first: an event raised while we handle this one sets its bit again
            await self.mailbox.irq_ack(events)
        if events & IrqBit.RESET:
            await self._controller_reset()
        if events & IrqBit.ENABLED:
            self.enables += 1
            await self._enabled()
        if events & IrqBit.DB_ERROR:
            await self._log_doorbell_error()
        if events & IrqBit.SHUTDOWN:
            await self._shutdown()
        worked = bool(events) | await self._retry_deferred()
        while self._running.is_set() and (head := await self.mailbox.next_command()) is not None:
            slot, sqid = head
            sqe = await self.mailbox.read_sqe(slot)
            await self.mailbox.pop()
            if self.cost_ns:
                await Timer(self.cost_ns, "ns")
            await self._execute(slot, sqid, sqe)
            worked = True
        return worked

    # events

    async def _controller_reset(self) -> None:
        """CC.EN 1->0: the hardware dropped the controller's queues (and, with no other controller, every
        slot); drop ours and restore feature defaults. Where the slots drain instead, each deferred
        completion is posted, to be dropped by its epoch and free its slot."""
        assert self.admin is not None
        self.resets += 1
        if self.mailbox.drains_on_reset:
            for fifo in self._deferred.values():
                for completion in fifo:
                    await self._drop(completion.slot)
        self._deferred.clear()
        self.async_events.clear()
        self.admin.reset()
        for action in self.admin.default_actions():
            await self._apply(action)

    async def _enabled(self) -> None:
        """CC.EN 0->1: nothing here depends on how the controller was enabled."""

    async def _shutdown(self) -> None:
        """CC.SHN: nothing here is volatile, so the hardware may report the shutdown complete at once."""
        await self.mailbox.shutdown_done()

    async def _log_doorbell_error(self) -> None:
        """Record the logged invalid doorbell write in ``async_events`` and clear the log for the next one;
        this loop reports no events (NvmeFirmware completes an Asynchronous Event Request with it)."""
        db_error = await self.mailbox.db_error()
        if db_error is not None:
            self.async_events.append(db_error)
        await self.mailbox.clear_db_error()

    # commands

    async def _accept(self, slot: CommandSlot, sqid: int) -> bool:
        """Count a command; complete it at once, and say so, if its SQ is gone."""
        assert self.admin is not None
        self.commands_per_sq[sqid] += 1
        self.command_order.append(sqid)
        if self.admin.cq_of(sqid) is None:
            # fetched before its SQ was deleted: the hardware slot still names the SQ
            await self._post(PendingCompletion(slot, sqid, Status.of(GenericStatus.ABORT_SQ_DELETION)))
            return False
        return True

    async def _execute(self, slot: CommandSlot, sqid: int, sqe: SubmissionEntry) -> None:
        assert self.admin is not None
        if not await self._accept(slot, sqid):
            return
        if sqid == ADMIN_QID:
            self.admin_opcodes[sqe.opcode] += 1
            result = self.admin.execute(sqe)
            for action in result.actions:
                if isinstance(action, DeleteSq):
                    await self._flush_deferred_of_sq(action.qid)
                await self._apply(action)
            await self._complete(slot, sqid, result.status, result.dw0)
        else:
            self.io_opcodes[sqe.opcode] += 1
            ok = sqe.opcode in NVM_OPCODES
            await self._complete(slot, sqid, SUCCESS if ok else Status.of(GenericStatus.INVALID_OPCODE, dnr=True))

    async def _apply(self, action: HardwareAction) -> None:
        mb = self.mailbox
        match action:
            case CreateCq(qid, base, qsize, vector, ien):
                await mb.create_cq(qid, base, qsize, vector, ien)
            case CreateSq(qid, base, qsize, cqid, priority):
                await mb.create_sq(qid, base, qsize, cqid, priority)
            case DeleteSq(qid):
                await mb.delete_sq(qid)
            case DeleteCq(qid):
                await mb.delete_cq(qid)
            case ProgramArbitration(cdw11):
                await mb.set_arbitration(cdw11)
            case ProgramCoalescing(cdw11):
                await mb.set_coalescing(cdw11)
            case ProgramCoalescingDisable(vector, disabled):
                await mb.set_coalescing_disable(vector, disabled)

    # completions

    async def _complete(self, slot: CommandSlot, sqid: int, status: Status, dw0: int = 0, dw1: int = 0) -> None:
        """Post now if the CQ has room and nothing queued before it; otherwise defer."""
        assert self.admin is not None
        cqid = self.admin.cq_of(sqid)
        assert cqid is not None, f"completion for SQ {sqid}, which does not exist"
        completion = PendingCompletion(slot, sqid, status, dw0, dw1)
        fifo = self._deferred[cqid]
        if fifo or await self._cq_full(cqid):
            fifo.append(completion)
            self.completions_deferred += 1
            self._wake.set()
            return
        await self._post(completion)

    async def _cq_full(self, cqid: int) -> bool:
        # a completion still in the poster may not show in the full flag yet
        await self.mailbox.wait_poster_idle()
        return await self.mailbox.cq_full(cqid)

    async def _post(self, c: PendingCompletion) -> None:
        await self.mailbox.post_completion(c.slot, c.status, dw0=c.dw0, dw1=c.dw1)

    async def _drop(self, slot: CommandSlot) -> None:
        """A command of an older epoch than its controller's: its completion, which the hardware drops, only
        frees the slot."""
        await self.mailbox.post_completion(slot, Status.of(GenericStatus.ABORT_REQUESTED))

    async def _retry_deferred(self) -> bool:
        posted = False
        # a copy: a command completing while this awaits may defer to a CQ that had nothing deferred yet
        for cqid, fifo in list(self._deferred.items()):
            while fifo and not await self._cq_full(cqid):
                await self._post(fifo.popleft())
                posted = True
        return posted

    async def _flush_deferred_of_sq(self, sqid: int) -> None:
        """Delete I/O SQ completes only after every command of the SQ has; wait (bounded) for room."""
        assert self.admin is not None
        deadline = get_sim_time("ns") + self.mailbox.timeout_ns
        while any(c.sqid == sqid for fifo in self._deferred.values() for c in fifo):
            if get_sim_time("ns") >= deadline:
                raise MailboxTimeout(f"Delete I/O SQ {sqid}: its completions found no room in their CQ "
                                     f"within {self.mailbox.timeout_ns} ns: {self.deferred}")
            if not await self._retry_deferred():
                await Timer(self.retry_ns, "ns")
