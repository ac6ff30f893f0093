"""The firmware loop with the NVMe command set: MinimalFirmware's mailbox handling plus commands as tasks.

``NvmeFirmware`` keeps MinimalFirmware's pass (events, deferred completions,
taking commands in FIFO order) and replaces what happens to a command once
taken: the SoC cost model (``firmware.soc``) gives it a core and an end
time, and it runs as its own task, so I/O commands overlap each other, the
back end and the DMA engine as they do on a multi-core SoC. Admin commands
run one after another in arrival order (each task awaits the previous one),
because queue creation and deletion depend on order. Delete I/O SQ waits
for the SQ's running commands, and Namespace Management and Attachment for
the running I/O on the namespaces they name, so no command outlives its
queue or touches units a deleted namespace gave back.

A command waiting for a core is *queued*: an Abort naming it (SQ id, CID)
completes it with Command Abort Requested before it runs. A controller reset
bumps a generation number; tasks of an older generation finish silently,
since the hardware already dropped their queues and slots (and refuses
their DMA and completions by epoch, should one still try).

A shutdown notification (CC.SHN) makes every later write durable before it
completes, waits for the commands already taken (a normal shutdown; an
abrupt one does not wait), flushes the back end's volatile state and only
then lets the hardware report CSTS.SHST complete: every write completed
before SHST reads 10b survives the power cut that may follow.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cocotb import start_soon
from cocotb.simtime import get_sim_time
from cocotb.task import Task
from cocotb.triggers import Timer

from contract.params import DesignParams
from firmware.admin import ADMIN_QID, CreateCq, CreateSq, DeleteSq, HardwareAction
from firmware.mailbox import CommandSlot, Mailbox, MailboxTimeout
from firmware.minimal import MinimalFirmware
from firmware.nvme.admin import AdminCommands
from firmware.nvme.io import IoCommands, cdw0_status
from firmware.nvme.outcome import now_ns, wait_until
from firmware.nvme.namespaces import NamespaceTable
from firmware.nvme.ports import DeviceDram, DmaPort
from firmware.nvme.ats import AddressTranslationCache
from firmware.nvme.shadow_doorbells import SHADOW_SCRATCH, ShadowDoorbells, buffers_of
from firmware.soc import Slot, Soc, SocConfig, command_kind
from models.backend import Backend
from models.identify import NSID_BROADCAST, ControllerConfig
from models.nvme_commands import ABORT_NOT_ABORTED
from models.zoned import ZoneState
from models.nvme_spec import SUCCESS, AdminOpcode, FeatureId, GenericStatus, Status, SubmissionEntry


@dataclass
class Command:
    slot: CommandSlot
    sqid: int
    sqe: SubmissionEntry
    generation: int
    aborted: bool = False


class NvmeFirmware(MinimalFirmware):
    """The firmware with admin and NVM commands over a back end, device DRAM and the DMA engine.

    Each command slot owns an MDTS-sized staging buffer in DRAM from ``dram_base``; each controller's shadow
    doorbell sweeps stage in two pages of their own after the last slot's.
    """

    def __init__(self, mailbox: Mailbox, backend: Backend, dram: DeviceDram, dma: DmaPort,
                 config: ControllerConfig | None = None, soc: SocConfig | None = None, dram_base: int = 0,
                 auto_complete_reads: bool = False, namespaces: NamespaceTable | None = None,
                 shadow_poll_ns: int | None = None, atc: AddressTranslationCache | None = None,
                 **kwargs: Any) -> None:
        super().__init__(mailbox, cost_ns=0, **kwargs)   # the SoC model charges the cost instead
        self.config = config or ControllerConfig()
        if self.config.max_transfer is None:
            raise ValueError("MDTS 0 (unlimited) leaves the DRAM slot buffers unsized")
        self.buffer_size = self.config.max_transfer
        self.dram_base = dram_base
        self.dma = dma
        self.dram = dram
        self.soc = Soc(soc or SocConfig())
        # the NVM subsystem's namespaces: shared with the other controllers' firmware, if there are any
        self.namespaces = namespaces if namespaces is not None else NamespaceTable(self.config)
        self.namespaces.listen(self.config.cntlid, self.notify_namespace_change)
        self.io = IoCommands(self.config, backend, dram, dma, self.slot_buffer, self.namespaces,
                             auto_complete_reads)
        self.commands: AdminCommands | None = None
        self.shadow: ShadowDoorbells | None = None
        self.shadow_poll_ns = shadow_poll_ns   # shadow doorbells polled on a timer (LeapIO), not swept on work
        self.atc = atc                         # the shadow buffers reached by translated requests (PCIe ATS)
        self.aborted = 0
        self._queued: dict[tuple[int, int], Command] = {}
        self._active: Counter[int] = Counter()   # tasks per SQ not yet finished
        self._ns_active: Counter[int] = Counter()   # I/O tasks per NSID not yet finished
        self._admin_tail: Task | None = None
        self._generation = 0
        self._shutting_down = False
        self.backend = backend
        self.internal_errors: list[str] = []
        self.shutdown_flushes = 0
        self.log = logging.getLogger("cocotb.firmware")

    def slot_buffer(self, slot: CommandSlot) -> int:
        return self.dram_base + slot.index * self.buffer_size

    async def init(self) -> None:
        await super().init()
        assert self.admin is not None
        assert self.params is not None
        chunk_log = self.io.open_channel.chunk_log if self.io.open_channel is not None else None
        self.commands = AdminCommands(self.config, self.admin, self.io.counters, self.namespaces, chunk_log)
        self.shadow = ShadowDoorbells(self.mailbox, self.dma, self.dram, self.admin,
                                      DesignParams.current().doorbell_stride,
                                      self.dram_base + self.params.cmd_slots * self.buffer_size
                                      + self.config.cntlid * SHADOW_SCRATCH,
                                      self.shadow_poll_ns, self.atc)

    # events

    async def _controller_reset(self) -> None:
        assert self.commands is not None
        # the new generation first: the base class awaits the mailbox, and a task of the old one that
        # finishes meanwhile must already find itself stale
        self._generation += 1
        # held Asynchronous Event Requests end with the reset; where slots drain, each must free its slot
        held = self.commands.events.held() if self.mailbox.drains_on_reset else []
        self._queued.clear()
        self._shutting_down = False
        self.dma.reset()
        assert self.shadow is not None
        self.shadow.reset()
        self.commands.reset()
        self.io.controller_reset()
        self.soc.reset()
        await super()._controller_reset()
        for slot in held:
            await self._drop(slot)
        self._update_write_through()

    async def _enabled(self) -> None:
        """CC.EN 0->1: the I/O command sets the host selected (CC.CSS) decide the opcodes namespaces take."""
        self.io.css = (await self.mailbox.ctrl_status()).css

    async def fail_zone(self, nsid: int, zslba: int, state: ZoneState) -> None:
        """A media failure (the test bench's fault): the zone of namespace ``nsid`` at ``zslba`` becomes Read
        Only or Offline, and the host is told (Changed Zone List, Zone Descriptor Changed)."""
        assert self.commands is not None
        ns = self.namespaces.allocated(nsid)
        assert self.io.zoned is not None and ns is not None and ns.zones is not None, f"{nsid} is not zoned"
        self.io.zoned.fail(ns, zslba, state)
        await self._post_due(self.commands.zones_changed(nsid, [zslba]))

    async def _shutdown(self) -> None:
        """CC.SHN: writes durable from now on; the flush runs beside the loop, which keeps posting."""
        status = await self.mailbox.ctrl_status()
        self._shutting_down = True
        self._update_write_through()
        start_soon(self._persist(status.shutdown_abrupt, self._generation))

    async def _persist(self, abrupt: bool, generation: int) -> None:
        if not abrupt:
            await self._drain_all()
        await wait_until(self.backend.flush(now_ns()))
        self.shutdown_flushes += 1
        if generation == self._generation:
            await self.mailbox.shutdown_done()

    async def _drain_all(self) -> None:
        """A normal shutdown: the commands already taken finish first (bounded)."""
        await self.wait_idle("shutdown")

    async def wait_idle(self, what: str = "waiting for the firmware to be idle") -> None:
        """Until no command task of any generation runs (bounded by the mailbox timeout)."""
        await self._wait_for(lambda: not sum(self._active.values()),
                             lambda: f"{what}: {dict(+self._active)} commands per SQ still running")

    async def _wait_for(self, done: Callable[[], bool], still: Callable[[], str]) -> None:
        """Poll until ``done``; past the mailbox timeout, fail with what ``still`` says is running."""
        deadline = get_sim_time("ns") + self.mailbox.timeout_ns
        while not done():
            if get_sim_time("ns") >= deadline:
                raise MailboxTimeout(f"{still()} after {self.mailbox.timeout_ns} ns")
            await Timer(self.retry_ns, "ns")

    def _update_write_through(self) -> None:
        """Writes bypass the volatile cache when the host turned it off, and once shutdown began."""
        assert self.commands is not None
        self.io.write_through = (self._shutting_down
                                 or not self.commands.features[FeatureId.VOLATILE_WRITE_CACHE] & 1)

    async def _log_doorbell_error(self) -> None:
        assert self.commands is not None
        before = len(self.async_events)
        await super()._log_doorbell_error()
        for err in self.async_events[before:]:
            await self._post_due(self.commands.doorbell_error(err))

    async def notify_namespace_change(self, nsids: list[int]) -> None:
        """A change to these namespaces made elsewhere (another controller's command, or a vendor action):
        the Changed Namespace List and a Notice event."""
        assert self.commands is not None
        await self._post_due(self.commands.namespace_changed(nsids))

    # commands

    async def _execute(self, slot: CommandSlot, sqid: int, sqe: SubmissionEntry) -> None:
        """Schedule the command on the SoC and start its task; the loop goes on to the next command."""
        if not await self._accept(slot, sqid):
            return
        admin = sqid == ADMIN_QID
        if not admin:
            assert self.shadow is not None
            self.shadow.kick()   # the host may have queued more behind this command without ringing
        (self.admin_opcodes if admin else self.io_opcodes)[sqe.opcode] += 1
        when = self.soc.schedule(command_kind(admin, sqe.opcode), now_ns(), admin)
        command = Command(slot, sqid, sqe, self._generation)
        self._queued[(sqid, sqe.cid)] = command
        self._active[sqid] += 1
        if not admin:
            self._ns_active[sqe.nsid] += 1
        task = start_soon(self._run(command, when, self._admin_tail if admin else None))
        if admin:
            self._admin_tail = task

    async def _run(self, command: Command, when: Slot, previous: Task | None) -> None:
        try:
            if previous is not None and not previous.done():
                await previous
            await wait_until(when.start_ns)
            self._queued.pop((command.sqid, command.sqe.cid), None)
            if command.aborted:
                return
            await wait_until(when.end_ns)
            if (refused := cdw0_status(command.sqe, command.sqid == ADMIN_QID, self.config.sgl)) is not None:
                await self._finish(command, refused)
            elif command.sqid == ADMIN_QID:
                await self._admin_command(command)
            else:
                outcome = await self.io.execute(command.slot, command.sqe)
                if not outcome.posted:
                    await self._finish(command, outcome.status, outcome.dw0, outcome.dw1)
        except Exception as err:  # noqa: BLE001 - a firmware fault must not lose the completion
            # what a real controller's firmware does on an unexpected fault: complete with
            # Internal Error; the fault is kept for tests to assert on
            self.internal_errors.append(f"SQ {command.sqid} CID {command.sqe.cid:#06x}: {err!r}")
            self.log.error("internal error: %s", self.internal_errors[-1])
            await self._finish(command, Status.of(GenericStatus.INTERNAL_ERROR))
        finally:
            self._active[command.sqid] -= 1
            if command.sqid != ADMIN_QID:
                self._ns_active[command.sqe.nsid] -= 1

    async def _finish(self, command: Command, status: Status, dw0: int = 0, dw1: int = 0) -> None:
        if command.generation == self._generation:
            await self._complete(command.slot, command.sqid, status, dw0, dw1)
        elif self.mailbox.drains_on_reset:
            await self._drop(command.slot)

    async def _admin_command(self, command: Command) -> None:
        assert self.commands is not None
        sqe = command.sqe
        if sqe.opcode == AdminOpcode.ABORT:
            await self._abort(command)
            return
        if sqe.opcode == AdminOpcode.DOORBELL_BUFFER_CONFIG:
            await self._doorbell_buffer_config(command)
            return
        if sqe.opcode == AdminOpcode.DELETE_IO_SQ:
            await self._drain(sqe.cdw10 & 0xFFFF)
        if sqe.opcode in (AdminOpcode.NS_MANAGEMENT, AdminOpcode.NS_ATTACHMENT):
            await self._drain_namespaces(sqe)
        data = b""
        if length := self.commands.data_length(sqe):
            fetched = await self.io.from_host(command.slot, length)
            if isinstance(fetched, Status):
                await self._finish(command, fetched)
                return
            data = fetched
        outcome = self.commands.execute(command.slot, sqe, data)
        self._update_write_through()
        status = outcome.status
        if outcome.data is not None:
            status = await self._to_host(command.slot, outcome.data)
        for start, length in outcome.freed:
            await self.io.zero(start, start + length)
        for action in outcome.actions:
            if isinstance(action, DeleteSq):
                await self._flush_deferred_of_sq(action.qid)
            await self._apply(action)
        await self._post_due(outcome.due)
        await self.namespaces.notify(outcome.notify)
        if not outcome.held:
            await self._finish(command, status, outcome.dw0)

    async def _abort(self, command: Command) -> None:
        """Abort (5.1): complete the named command if it still waits for a core; DW0 bit 0 says if it did."""
        sqid, cid = command.sqe.cdw10 & 0xFFFF, command.sqe.cdw10 >> 16
        target = self._queued.pop((sqid, cid), None)
        if target is not None:
            target.aborted = True
            self.aborted += 1
            await self._finish(target, Status.of(GenericStatus.ABORT_REQUESTED))
        await self._finish(command, SUCCESS, 0 if target else ABORT_NOT_ABORTED)

    async def _doorbell_buffer_config(self, command: Command) -> None:
        assert self.shadow is not None
        config = buffers_of(command.sqe)
        status = config if isinstance(config, Status) else await self.shadow.configure(command.slot, config)
        await self._finish(command, status)

    async def _apply(self, action: HardwareAction) -> None:
        """Queue changes exclude shadow doorbell sweeps, and a new queue starts at 0 in the shadow buffers."""
        assert self.shadow is not None
        async with self.shadow.lock:
            await super()._apply(action)
            if isinstance(action, (CreateSq, CreateCq)):
                await self.shadow.queue_created(action.qid, isinstance(action, CreateCq))

    async def _cq_full(self, cqid: int) -> bool:
        """A CQ that looks full may have a head the host wrote only to the shadow buffer: sweep."""
        full = await super()._cq_full(cqid)
        if full and self.shadow is not None:
            self.shadow.kick()
        return full

    async def _to_host(self, slot: CommandSlot, data: bytes) -> Status:
        result = await self.io.to_host(slot, data)
        return SUCCESS if result.ok else result.status

    async def _post_due(self, due: tuple[tuple[CommandSlot, int], ...] | list[tuple[CommandSlot, int]]) -> None:
        for slot, dw0 in due:
            await self._complete(slot, ADMIN_QID, SUCCESS, dw0)

    async def _drain(self, sqid: int) -> None:
        """Delete I/O SQ completes after the SQ's commands have: wait (bounded) for their tasks."""
        await self._wait_for(lambda: not self._active[sqid],
                             lambda: f"Delete I/O SQ {sqid}: {self._active[sqid]} commands still running")

    async def _drain_namespaces(self, sqe: SubmissionEntry) -> None:
        """A namespace is deleted or detached once the I/O commands already running on it have finished, so
        none reads or writes units a later namespace may be given."""
        nsids = set(self._ns_active) if sqe.nsid == NSID_BROADCAST else {sqe.nsid}
        await self._wait_for(lambda: not any(self._ns_active[n] for n in nsids),
                             lambda: f"namespace change: {dict(+self._ns_active)} I/O commands per NSID running")
