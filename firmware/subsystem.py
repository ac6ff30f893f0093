"""The firmware of an NVM subsystem of several controllers, one per PCIe physical function.

The controllers share the mailbox, the queue table, the command FIFO and
the DMA engine (docs/virtual_controllers.md). Each controller's firmware is
an ordinary ``MinimalFirmware`` or ``NvmeFirmware``, written for one
controller, that sees the mailbox through a ``ControllerMailbox``: its
queue ids and interrupt vectors are its own (0 is its admin queue). The
view maps its queue pairs to the shared table's entries, drawn from the
subsystem's ``QueuePool`` as they are created, and its vectors to
f x queues + v. Its status is its function's (FN_STATUS), its shutdown
and reset are its own, and its Number of Queues is granted from the
pool's budget.

``SubsystemFirmware`` runs the one loop the shared mailbox allows: it
reads the events and hands each to the controller it came from
(FN_EVENTS), hands each command to its controller (CMD_INFO.FUNCTION),
and retries every controller's deferred completions.

With several controllers a reset leaves the shared engines running: the
reset controller's commands in flight drain. The hardware drops their
completions and refuses their DMA by epoch, and frees a command's slot
only when its (dropped) completion is posted, so a controller's firmware
must still post one for every command it took (``drains_on_reset``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from cocotb.triggers import Event

from contract import fw_mailbox as regs
from firmware.mailbox import CommandSlot, CtrlStatus, DoorbellError, IrqBit, Mailbox, MailboxError
from firmware.dma import MailboxDma
from firmware.minimal import BackgroundLoop, MinimalFirmware
from firmware.nvme.ports import AddressType, DmaDirection, DmaResult
from firmware.queue_pool import QueuePool
from models.nvme_spec import SubmissionEntry
from models.queue_budget import QueueBudget

CONTROLLER_EVENTS = IrqBit.ENABLED | IrqBit.RESET | IrqBit.SHUTDOWN


class ControllerMailbox(Mailbox):
    """One controller's view of the shared mailbox: its own queue ids, vectors, status, shutdown,
    arbitration and interrupt coalescing.

    It shares the port, the interrupt lines and the lock of ``bus``, so the
    register sequences of different controllers (Q_SEL then Q_CMD) never
    interleave. Its queue pairs' entries are drawn from ``pool``, which the
    subsystem's loop attaches (``SubsystemFirmware``).
    """

    def __init__(self, bus: Mailbox, function: int, queues: int, functions: int) -> None:
        super().__init__(bus.port, bus.irq, bus.dma_irq, bus.timeout_ns)
        self._lock = bus._lock
        self.function = function
        self.queues = queues            # one controller's queue ids and vectors, its admin queue's included
        self.functions = functions
        self.pool: QueuePool | None = None

    @property
    def drains_on_reset(self) -> bool:
        """A reset of this controller leaves its commands to drain (the engines are shared)."""
        return self.functions > 1

    @property
    def budget(self) -> QueueBudget | None:
        return self._pool().budget

    def _pool(self) -> QueuePool:
        if self.pool is None:
            raise MailboxError(f"controller {self.function}'s view has no queue pool: run it under SubsystemFirmware")
        return self.pool

    def _check(self, qid: int) -> None:
        if not 0 <= qid < self.queues:
            raise ValueError(f"controller {self.function} has queues and vectors 0..{self.queues - 1}, not {qid}")

    def entry(self, qid: int) -> int:
        """The shared table's entry of this controller's queue pair ``qid``."""
        self._check(qid)
        entry = self._pool().entry(self.function, qid)
        if entry is None:
            raise ValueError(f"controller {self.function}'s queue pair {qid} has no entry: none of its queues exists")
        return entry

    def vector(self, vector: int) -> int:
        """The MSI-X vector number of this controller's vector ``vector``."""
        self._check(vector)
        return self.function * self.queues + vector

    async def ctrl_status(self) -> CtrlStatus:
        return CtrlStatus.decode(await self.read(regs.FN_STATUS.OFFSET + regs.FN_STATUS.STRIDE * self.function))

    async def shutdown_done(self, function: int | None = None) -> None:
        await super().shutdown_done(self.function if function is None else function)

    async def _queue_command(self, qid: int, cmd, base: int = 0, qsize: int = 0, attr: int = 0) -> None:
        await super()._queue_command(self.entry(qid), cmd, base, qsize, attr)

    async def create_sq(self, qid: int, base: int, qsize: int, cqid: int, priority: int = 0) -> None:
        self._check(qid)
        await self._pool().hold(self.function, qid)
        await super().create_sq(qid, base, qsize, self.entry(cqid), priority)

    async def create_cq(self, qid: int, base: int, qsize: int, vector: int, ien: bool) -> None:
        self._check(qid)
        await self._pool().hold(self.function, qid)
        await super().create_cq(qid, base, qsize, self.vector(vector), ien)

    async def delete_sq(self, qid: int) -> None:
        await super().delete_sq(qid)
        await self._pool().release(self.function, qid)

    async def delete_cq(self, qid: int) -> None:
        await super().delete_cq(qid)
        await self._pool().release(self.function, qid)

    async def _selected(self, qid: int, offset: int) -> int:
        return await super()._selected(self.entry(qid), offset)

    async def ring(self, qid: int, cq: bool, expect: int, value: int) -> None:
        await super().ring(self.entry(qid), cq, expect, value)

    async def set_arbitration(self, cdw11: int, function: int | None = None) -> None:
        await super().set_arbitration(cdw11, self.function if function is None else function)

    async def set_coalescing(self, cdw11: int, function: int | None = None) -> None:
        await super().set_coalescing(cdw11, self.function if function is None else function)

    async def set_coalescing_disable(self, vector: int, disabled: bool) -> None:
        await super().set_coalescing_disable(self.vector(vector), disabled)

    async def db_error(self) -> DoorbellError | None:
        """The logged invalid doorbell write, if it was one of this controller's, with its own queue id."""
        error = await super().db_error()
        if error is None or error.qid // self.queues != self.function:
            return None
        return replace(error, qid=error.qid % self.queues)


class ControllerDma:
    """One controller's DmaPort on the subsystem's shared one: a reset of the controller ends no transfer
    when its commands drain (the engine finishes or refuses them, and each gets its result). Its host-buffer
    transfers name this controller (DMA_CTRL.FN_SEL): a shadow doorbell sweep's slot may hold another
    controller's command by now."""

    def __init__(self, shared: MailboxDma, mailbox: ControllerMailbox) -> None:
        self.shared = shared
        self.mailbox = mailbox

    async def transfer(self, slot: CommandSlot, direction: DmaDirection, offset: int, length: int, dram_addr: int,
                       cmd_len: int, auto_complete: bool = False, host_addr: int | None = None,
                       address_type: AddressType = AddressType.UNTRANSLATED) -> DmaResult:
        return await self.shared.transfer(slot, direction, offset, length, dram_addr, cmd_len, auto_complete,
                                          host_addr, address_type,
                                          None if host_addr is None else self.mailbox.function)

    def reset(self) -> None:
        if not self.mailbox.drains_on_reset:
            self.shared.reset()


class SubsystemFirmware(BackgroundLoop):
    """The mailbox loop of several controllers' firmware: events and commands to the controller they are
    for. ``controllers[f]`` is function f's firmware, built on ``ControllerMailbox(bus, f, ...)``."""

    def __init__(self, bus: Mailbox, controllers: Sequence[MinimalFirmware], idle_wait_ns: int = 1_000_000,
                 retry_ns: int = 1_000) -> None:
        super().__init__()
        self.mailbox = bus
        self.controllers = list(controllers)
        self.pool: QueuePool | None = None   # the queue table's entries, read from the hardware at init
        self.idle_wait_ns = idle_wait_ns
        self.retry_ns = retry_ns
        self.stale_commands = 0   # commands of an older epoch than their controller's, completed unexecuted
        self.commands_per_function: Counter[int] = Counter()   # commands taken from the FIFO, per controller
        self.function_order: list[int] = []   # the controller of every command, in the order they were taken
        self._epochs: list[int] = []
        self._wake = Event()
        for controller in self.controllers:
            # a controller task that defers a completion wakes this loop, not its own (which never runs)
            controller._wake = self._wake

    async def init(self) -> None:
        await self.mailbox.check_id()
        params = await self.mailbox.params()
        self.pool = await QueuePool.read(self.mailbox, params.io_queue_pairs + 1)
        if self.pool.functions != len(self.controllers):
            raise MailboxError(f"FW_FUNCTIONS reads {self.pool.functions} controllers, the firmware has "
                               f"{len(self.controllers)}")
        for controller in self.controllers:
            controller.mailbox.pool = self.pool
            await controller.init()
        self._epochs = [(await c.mailbox.ctrl_status()).epoch for c in self.controllers]

    async def run(self) -> None:
        await self.init()
        while True:
            await self._running.wait()
            if not await self.step():
                self._wake.clear()
                deferred = any(c.deferred for c in self.controllers)
                await self.mailbox.wait_irq(self.retry_ns if deferred else self.idle_wait_ns, self._wake)

    async def step(self) -> bool:
        """One pass: events, deferred completions, waiting commands. True if anything was done."""
        events = await self.mailbox.irq_status() & ~IrqBit.COMMAND
        if events:
            await self.mailbox.irq_ack(events)
        if events & CONTROLLER_EVENTS:
            await self._controller_events()
        if events & IrqBit.DB_ERROR:
            await self._doorbell_error()
        worked = bool(events)
        for controller in self.controllers:
            worked |= await controller._retry_deferred()
        while self._running.is_set() and (head := await self.mailbox.next_command()) is not None:
            slot, sqid = head
            sqe = await self.mailbox.read_sqe(slot)
            await self.mailbox.pop()
            await self._dispatch(slot, sqid, sqe)
            worked = True
        return worked

    async def share_slots(self, weights: Sequence[int]) -> list[int]:
        """Divide the command slots between the controllers by weight (FN_SLOT_QUOTA): a controller holding
        its share is not fetched until one of its commands completes, so under load each gets its
        weight's share of the subsystem whatever number of SQs it keeps busy. Returns the quotas."""
        assert len(weights) == len(self.controllers) and sum(weights) > 0, f"weights {weights}"
        params = await self.mailbox.params()
        quotas = [params.cmd_slots * w // sum(weights) for w in weights]
        await self.mailbox.set_slot_quotas(quotas)
        return quotas

    async def _controller_events(self) -> None:
        f = regs.FN_EVENTS
        raw = await self.mailbox.read(f.OFFSET)
        await self.mailbox.write(f.OFFSET, raw)
        for function, controller in enumerate(self.controllers):
            if f.CTRL_RESET.get(raw) >> function & 1:
                self._epochs[function] = (await controller.mailbox.ctrl_status()).epoch
                self._pool().reset(function)
                await controller._controller_reset()
            if f.ENABLED.get(raw) >> function & 1:
                controller.enables += 1
                await controller._enabled()
            if f.SHUTDOWN.get(raw) >> function & 1:
                await controller._shutdown()

    async def _doorbell_error(self) -> None:
        error = await self.mailbox.db_error()
        if error is None:
            return
        queues = self.controllers[0].mailbox.queues
        # the controller reads the log through its view and clears it
        await self.controllers[error.qid // queues]._log_doorbell_error()

    def _pool(self) -> QueuePool:
        if self.pool is None:
            raise MailboxError("the subsystem's loop was not initialized: no queue pool")
        return self.pool

    async def _dispatch(self, slot: CommandSlot, sqid: int, sqe: SubmissionEntry) -> None:
        function = slot.function
        controller = self.controllers[function]
        self.commands_per_function[function] += 1
        self.function_order.append(function)
        if slot.epoch != self._epochs[function]:
            # fetched before its controller's reset: its completion is dropped and frees the slot
            self.stale_commands += 1
            await controller._drop(slot)
            return
        pair = self._pool().locate(sqid)
        if pair is None or pair[0] != function:
            # its SQ was deleted and the entry went to another controller: the hardware drops its completion
            # (the CQ it would name is the other's), which frees the slot
            await controller._drop(slot)
            return
        await controller._execute(slot, pair[1], sqe)
