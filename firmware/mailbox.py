"""The firmware's view of the queue engine: the AXI4-Lite mailbox of docs/queue_engine.md.

The register map comes from contract/fw_mailbox.rdl (``contract.fw_mailbox``,
generated); here are the decoders of its multi-field registers and
``Mailbox``, the driver the firmware uses: AXI4-Lite accesses
through the SoC's master (``firmware.axil_port``) plus the ``fw_irq`` line. These are
the firmware's only ports to the controller (DESIGN.md: firmware never
reaches into tb/ or the host).

Multi-register sequences (queue select then access, completion dwords then
post) hold a lock, so that two coroutines of the firmware cannot interleave
them. Every wait is bounded and raises ``MailboxTimeout`` naming what it
waited for.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag

from cocotb.handle import HierarchyObject, LogicObject
from cocotb.simtime import get_sim_time
from cocotb.triggers import Event, First, Lock, RisingEdge, Timer
from firmware.axil_port import AxiLitePort

from contract import fw_mailbox as regs
from models.nvme_spec import SQE_SIZE, Status, SubmissionEntry
from models.queue_budget import QueueBudget

FW_ID_VALUE = regs.FW_ID.RESET_VALUE  # "NVME"
AXI_OKAY = 0b00
NO_QUOTA = 255   # FN_SLOT_QUOTA's reset value: a controller may hold every slot


class IrqBit(IntFlag):
    """FW_IRQ_STATUS / FW_IRQ_ENABLE bits."""

    COMMAND = regs.FW_IRQ_STATUS.COMMAND.bit        # level: commands wait in the FIFO; not clearable
    DB_ERROR = regs.FW_IRQ_STATUS.DB_ERROR.bit
    ENABLED = regs.FW_IRQ_STATUS.ENABLED.bit
    RESET = regs.FW_IRQ_STATUS.CTRL_RESET.bit
    SHUTDOWN = regs.FW_IRQ_STATUS.SHUTDOWN.bit
    # level: DMA results wait; the DMA port sleeps on fw_dma_irq instead, the loop leaves it off
    DMA_RESULT = regs.FW_IRQ_STATUS.DMA_RESULT.bit

    @classmethod
    def all(cls) -> IrqBit:
        """The bits the command loop serves."""
        return cls.COMMAND | cls.DB_ERROR | cls.ENABLED | cls.RESET | cls.SHUTDOWN


class QueueCommand(IntEnum):
    """Q_CMD values."""

    CREATE_SQ = 1
    CREATE_CQ = 2
    DELETE_SQ = 3
    DELETE_CQ = 4


class DoorbellErrorKind(IntEnum):
    """DB_ERR [29:28]."""

    NO_SUCH_QUEUE = 1
    BEYOND_QUEUE_SIZE = 2
    PASSES_OTHER_POINTER = 3


class MailboxError(Exception):
    """The mailbox answered an access with an AXI error response."""


class MailboxTimeout(Exception):
    """A bounded wait on the mailbox ran out."""


@dataclass(frozen=True)
class FwParams:
    """FW_PARAMS: the controller's build parameters."""

    cmd_slots: int
    io_queue_pairs: int
    mqes: int  # zero-based, as CAP.MQES

    @classmethod
    def decode(cls, raw: int) -> FwParams:
        f = regs.FW_PARAMS
        return cls(cmd_slots=f.CMD_SLOTS.get(raw), io_queue_pairs=f.IO_QUEUES.get(raw), mqes=f.MQES.get(raw))

    @property
    def vectors(self) -> int:
        """One MSI-X vector per CQ: the admin CQ and one per I/O pair."""
        return self.io_queue_pairs + 1


@dataclass(frozen=True)
class CommandSlot:
    """A command as the firmware holds it: its slot and the reset generation (epoch) it was fetched in.

    Completions and DMA requests name both; the hardware drops or refuses those of an older epoch,
    since after a controller reset the slot may hold a newer command.
    """

    index: int
    epoch: int = 0
    function: int = 0   # the controller the command is of (CMD_INFO.FUNCTION)

    def __post_init__(self) -> None:
        # CPL_POST and DMA_CTRL carry both; their fields check the ranges
        regs.CPL_POST.encode(SLOT=self.index, EPOCH=self.epoch)


@dataclass(frozen=True)
class CtrlStatus:
    """FW_CTRL_STATUS."""

    enabled: bool
    reset_in_progress: bool
    shutdown_requested: bool
    shutdown_abrupt: bool
    shutdown_complete: bool
    firmware_dead: bool     # the watchdog fired: CSTS.CFS until the controller reset
    epoch: int
    fifo_count: int
    css: int = 0            # CC.CSS at the enable: models.nvme_regs.CC_CSS_NVM or CC_CSS_ALL_IO

    @classmethod
    def decode(cls, raw: int) -> CtrlStatus:
        f = regs.FW_CTRL_STATUS
        return cls(enabled=bool(f.ENABLED.get(raw)), reset_in_progress=bool(f.RESETTING.get(raw)),
                   shutdown_requested=bool(f.SHUTDOWN_REQ.get(raw)), shutdown_abrupt=bool(f.ABRUPT.get(raw)),
                   shutdown_complete=bool(f.SHUTDOWN_DONE.get(raw)), firmware_dead=bool(f.FW_DEAD.get(raw)),
                   epoch=f.EPOCH.get(raw), fifo_count=f.CMD_COUNT.get(raw), css=f.CSS.get(raw))


@dataclass(frozen=True)
class SqState:
    """Q_SQ_STATE of the selected SQ."""

    valid: bool
    fetch_in_flight: bool
    head: int

    @classmethod
    def decode(cls, raw: int) -> SqState:
        f = regs.Q_SQ_STATE
        return cls(bool(f.VALID.get(raw)), bool(f.FETCHING.get(raw)), f.HEAD.get(raw))


@dataclass(frozen=True)
class CqState:
    """Q_CQ_STATE of the selected CQ."""

    valid: bool
    full: bool
    phase: int
    tail: int

    @classmethod
    def decode(cls, raw: int) -> CqState:
        f = regs.Q_CQ_STATE
        return cls(bool(f.VALID.get(raw)), bool(f.FULL.get(raw)), f.PHASE.get(raw), f.TAIL.get(raw))


@dataclass(frozen=True)
class Doorbells:
    """Q_TAILS: the selected queue pair's doorbells as last rung, by the host or the firmware."""

    sq_tail: int
    cq_head: int

    @classmethod
    def decode(cls, raw: int) -> Doorbells:
        f = regs.Q_TAILS
        return cls(f.SQ_TAIL.get(raw), f.CQ_HEAD.get(raw))


@dataclass(frozen=True)
class DoorbellError:
    """DB_ERR: the first invalid doorbell write since the log was cleared."""

    qid: int
    is_cq: bool
    kind: DoorbellErrorKind
    count: int  # invalid writes since cleared, saturating at 255

    @classmethod
    def decode(cls, raw: int) -> DoorbellError | None:
        f = regs.DB_ERR
        if not f.VALID.get(raw):
            return None
        return cls(qid=f.QID.get(raw), is_cq=bool(f.IS_CQ.get(raw)), kind=DoorbellErrorKind(f.KIND.get(raw)),
                   count=f.WRITES.get(raw))


def cpl_post_value(slot: CommandSlot, status: Status) -> int:
    """CPL_POST: the CQE status field (without the phase tag), the slot's epoch and index."""
    return regs.CPL_POST.encode(STATUS=status.encode(), EPOCH=slot.epoch, SLOT=slot.index)


async def _wait_high(line: LogicObject, timeout_ns: int, wake: Event | None = None) -> bool:
    if line.value == 1:
        return True
    await First(RisingEdge(line), Timer(timeout_ns, "ns"), *([wake.wait()] if wake is not None else []))
    return line.value == 1


class Mailbox:
    """Async driver of the firmware mailbox: registers over AXI4-Lite, and the fw_irq and fw_dma_irq lines."""

    def __init__(self, port: AxiLitePort, irq: LogicObject, dma_irq: LogicObject,
                 timeout_ns: int = 1_000_000) -> None:
        self.port = port
        self.irq = irq
        self.dma_irq = dma_irq
        self.timeout_ns = timeout_ns
        self._lock = Lock()

    # a reset of the one controller frees its slots at once; a ControllerMailbox of a subsystem of several
    # is True: the reset controller's commands drain, each freed by its (dropped) completion
    drains_on_reset = False
    # the controller this is the view of, and the I/O queue pairs it may create (None: every queue id it has);
    # a ControllerMailbox's are its function's and its subsystem's budget
    function = 0
    budget: QueueBudget | None = None

    @classmethod
    def from_dut(cls, dut: HierarchyObject, timeout_ns: int = 1_000_000) -> Mailbox:
        """The mailbox on the top level's s_axil port, in the user_clk domain."""
        return cls(AxiLitePort(dut, "s_axil", dut.user_clk), dut.fw_irq, dut.fw_dma_irq, timeout_ns)

    # raw access

    async def read(self, offset: int) -> int:
        data, resp = await self.port.read(offset)
        if resp != AXI_OKAY:
            raise MailboxError(f"read of {offset:#06x} answered RRESP {resp:#04b}")
        return data

    async def write(self, offset: int, value: int) -> None:
        resp = await self.port.write(offset, value)
        if resp != AXI_OKAY:
            raise MailboxError(f"write of {value:#010x} to {offset:#06x} answered BRESP {resp:#04b}")

    # identity and status

    async def check_id(self) -> None:
        fw_id = await self.read(regs.FW_ID.OFFSET)
        if fw_id != FW_ID_VALUE:
            raise MailboxError(f"FW_ID reads {fw_id:#010x}, expected {FW_ID_VALUE:#010x}: not the NVMe mailbox")

    async def params(self) -> FwParams:
        return FwParams.decode(await self.read(regs.FW_PARAMS.OFFSET))

    async def ctrl_status(self) -> CtrlStatus:
        return CtrlStatus.decode(await self.read(regs.FW_CTRL_STATUS.OFFSET))

    # interrupts

    async def irq_status(self) -> IrqBit:
        return IrqBit(await self.read(regs.FW_IRQ_STATUS.OFFSET) & IrqBit.all())

    async def irq_enable(self, bits: IrqBit) -> None:
        await self.write(regs.FW_IRQ_ENABLE.OFFSET, int(bits))

    async def irq_ack(self, bits: IrqBit) -> None:
        """Clear event bits (RW1C); COMMAND is a level and clears only when the FIFO empties."""
        await self.write(regs.FW_IRQ_STATUS.OFFSET, int(bits))

    async def wait_irq(self, timeout_ns: int, wake: Event | None = None) -> bool:
        """Wait until fw_irq is high, at most ``timeout_ns`` or until ``wake`` is set; False if it stayed low.

        A timeout here is not an error: the caller re-reads FW_IRQ_STATUS, so
        an edge missed between the check and the wait costs at most one period.
        """
        return await _wait_high(self.irq, timeout_ns, wake)

    async def wait_dma_irq(self, timeout_ns: int) -> bool:
        """Wait until fw_dma_irq (DMA results waiting) is high, at most ``timeout_ns``."""
        return await _wait_high(self.dma_irq, timeout_ns)

    # commands

    async def next_command(self) -> tuple[CommandSlot, int] | None:
        """(slot, SQ id) of the command at the head of the FIFO, or None if it is empty."""
        f = regs.CMD_INFO
        info = await self.read(f.OFFSET)
        if not f.VALID.get(info):
            return None
        return CommandSlot(f.SLOT.get(info), f.EPOCH.get(info), f.FUNCTION.get(info)), f.SQID.get(info)

    async def read_sqe(self, slot: CommandSlot) -> SubmissionEntry:
        """The slot's 64-byte SQE, dword by dword."""
        base = regs.SQE.OFFSET + SQE_SIZE * slot.index
        return SubmissionEntry.from_dwords([await self.read(base + 4 * dw) for dw in range(SQE_SIZE // 4)])

    async def pop(self) -> None:
        await self.write(regs.CMD_POP.OFFSET, regs.CMD_POP.POP.bit)

    async def post_completion(self, slot: CommandSlot, status: Status, dw0: int = 0, dw1: int = 0) -> None:
        """Post the slot's completion once the poster is idle; the hardware fills the rest of the CQE
        (and drops it if the slot's epoch is older than the controller's)."""
        async with self._lock:
            await self.wait_poster_idle(f"posting slot {slot.index}")
            await self.write(regs.CPL_DW0.OFFSET, dw0)
            await self.write(regs.CPL_DW1.OFFSET, dw1)
            await self.write(regs.CPL_POST.OFFSET, cpl_post_value(slot, status))

    async def wait_poster_idle(self, what: str = "checking a CQ") -> None:
        """Wait until CPL_STATUS shows the poster idle, at most ``timeout_ns``."""
        deadline = get_sim_time("ns") + self.timeout_ns
        while regs.CPL_STATUS.BUSY.get(await self.read(regs.CPL_STATUS.OFFSET)):
            if get_sim_time("ns") >= deadline:
                raise MailboxTimeout(f"CPL_STATUS busy for {self.timeout_ns} ns before {what}: "
                                     "a posted completion still waits for room in a full CQ")

    # shutdown, stale completions, watchdog

    async def shutdown_done(self, function: int = 0) -> None:
        """Everything volatile of controller ``function`` is durable: the hardware may report its CSTS.SHST
        complete."""
        await self.write(regs.FW_SHUTDOWN.OFFSET, regs.FW_SHUTDOWN.DONE.put(1 << function))

    async def stale_completions(self) -> int:
        """Completions the hardware dropped because they named an older epoch."""
        return regs.FW_STALE.DROPPED.get(await self.read(regs.FW_STALE.OFFSET))

    async def set_slot_quotas(self, quotas: list[int]) -> None:
        """The most command slots each controller may hold, function 0's first (FN_SLOT_QUOTA); the
        functions not named keep 255, no quota."""
        f = regs.FN_SLOT_QUOTA
        names = ("F0", "F1", "F2", "F3")
        await self.write(f.OFFSET, f.encode(**dict(zip(names, list(quotas) + [NO_QUOTA] * (4 - len(quotas))))))

    async def set_watchdog(self, microseconds: int) -> None:
        """How long a command may wait at the head of the FIFO before the firmware is taken for dead
        (0 disarms the watchdog)."""
        await self.write(regs.FW_WATCHDOG.OFFSET, regs.FW_WATCHDOG.encode(LIMIT_US=microseconds))

    # queues

    async def _queue_command(self, qid: int, cmd: QueueCommand, base: int = 0, qsize: int = 0,
                             attr: int = 0) -> None:
        async with self._lock:
            await self.write(regs.Q_SEL.OFFSET, qid)
            if cmd in (QueueCommand.CREATE_SQ, QueueCommand.CREATE_CQ):
                await self.write(regs.Q_BASE_LO.OFFSET, base & 0xFFFF_FFFF)
                await self.write(regs.Q_BASE_HI.OFFSET, base >> 32)
                await self.write(regs.Q_SIZE.OFFSET, qsize)
                await self.write(regs.Q_ATTR.OFFSET, attr)
            await self.write(regs.Q_CMD.OFFSET, cmd)

    async def create_sq(self, qid: int, base: int, qsize: int, cqid: int, priority: int = 0) -> None:
        """An SQ of ``qsize + 1`` entries bound to ``cqid`` (priority 0 urgent .. 3 low)."""
        await self._queue_command(qid, QueueCommand.CREATE_SQ, base, qsize, regs.Q_ATTR.encode(ID=cqid, MODE=priority))

    async def create_cq(self, qid: int, base: int, qsize: int, vector: int, ien: bool) -> None:
        """A CQ of ``qsize + 1`` entries signalling MSI-X ``vector`` when ``ien``."""
        await self._queue_command(qid, QueueCommand.CREATE_CQ, base, qsize,
                                  regs.Q_ATTR.encode(ID=vector, MODE=int(ien)))

    async def delete_sq(self, qid: int) -> None:
        await self._queue_command(qid, QueueCommand.DELETE_SQ)

    async def delete_cq(self, qid: int) -> None:
        await self._queue_command(qid, QueueCommand.DELETE_CQ)

    async def map_entry(self, entry: int, function: int, qid: int, mapped: bool = True) -> bool:
        """Map queue table entry ``entry`` to controller ``function``'s queue pair ``qid`` (Q_MAP), or unmap it;
        True if the hardware took it (it refuses what is not safe, and changes nothing then)."""
        f = regs.Q_MAP
        async with self._lock:
            await self.write(regs.Q_SEL.OFFSET, entry)
            await self.write(f.OFFSET, f.encode(MAPPED=int(mapped), FUNCTION=function, QID=qid))
            state = await self.read(f.OFFSET)
        if not mapped:
            return not f.MAPPED.get(state)
        return (f.MAPPED.get(state), f.FUNCTION.get(state), f.QID.get(state)) == (1, function, qid)

    async def _selected(self, qid: int, offset: int) -> int:
        async with self._lock:
            await self.write(regs.Q_SEL.OFFSET, qid)
            return await self.read(offset)

    async def sq_state(self, qid: int) -> SqState:
        return SqState.decode(await self._selected(qid, regs.Q_SQ_STATE.OFFSET))

    async def cq_state(self, qid: int) -> CqState:
        return CqState.decode(await self._selected(qid, regs.Q_CQ_STATE.OFFSET))

    async def cq_full(self, cqid: int) -> bool:
        return (await self.cq_state(cqid)).full

    async def doorbells(self, qid: int) -> Doorbells:
        return Doorbells.decode(await self._selected(qid, regs.Q_TAILS.OFFSET))

    async def ring(self, qid: int, cq: bool, expect: int, value: int) -> None:
        """Ring queue ``qid``'s SQ tail (or CQ head) doorbell with ``value`` if it still holds ``expect``
        (Q_SQ_DOORBELL, Q_CQ_DOORBELL: a compare-and-set, which never undoes an MMIO doorbell)."""
        reg = regs.Q_CQ_DOORBELL if cq else regs.Q_SQ_DOORBELL
        async with self._lock:
            await self.write(regs.Q_SEL.OFFSET, qid)
            await self.write(reg.OFFSET, reg.encode(EXPECT=expect, VALUE=value))

    # doorbell errors

    async def db_error(self) -> DoorbellError | None:
        return DoorbellError.decode(await self.read(regs.DB_ERR.OFFSET))

    async def clear_db_error(self) -> None:
        await self.write(regs.DB_ERR.OFFSET, regs.DB_ERR.VALID.bit)

    # features the hardware implements

    async def set_arbitration(self, cdw11: int, function: int = 0) -> None:
        """Controller ``function``'s ARB takes its Arbitration feature's CDW11 as is (AB, LPW, MPW, HPW)."""
        await self.write(regs.ARB.OFFSET + regs.ARB.STRIDE * function, cdw11)

    async def set_coalescing(self, cdw11: int, function: int = 0) -> None:
        """Controller ``function``'s COALESCE takes its Interrupt Coalescing feature's THR and TIME as is."""
        await self.write(regs.COALESCE.OFFSET + regs.COALESCE.STRIDE * function,
                         cdw11 & (regs.COALESCE.TIME.mask | regs.COALESCE.THR.mask))

    async def set_coalescing_disable(self, vector: int, disabled: bool) -> None:
        """Set or clear vector's bit in COALESCE_DISABLE (read-modify-write of its dword)."""
        word, bit = divmod(vector, 32)
        if word >= regs.COALESCE_DISABLE.COUNT:
            raise ValueError(f"vector {vector} beyond COALESCE_DISABLE")
        offset = regs.COALESCE_DISABLE.OFFSET + regs.COALESCE_DISABLE.STRIDE * word
        async with self._lock:
            value = await self.read(offset)
            value = value | 1 << bit if disabled else value & ~(1 << bit)
            await self.write(offset, value)
