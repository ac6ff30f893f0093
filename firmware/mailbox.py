"""The firmware's view of the queue engine: the AXI4-Lite mailbox of docs/queue_engine.md.

The register map is written down here once, as constants and small field
decoders; ``Mailbox`` is the driver the firmware uses: AXI4-Lite accesses
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
from cocotb.triggers import First, Lock, RisingEdge, Timer
from firmware.axil_port import AxiLitePort

from models.nvme_spec import SQE_SIZE, Status, SubmissionEntry

# Register map (byte offsets on s_axil)
FW_ID = 0x0000
FW_CTRL_STATUS = 0x0004
FW_IRQ_STATUS = 0x0008
FW_IRQ_ENABLE = 0x000C
FW_PARAMS = 0x0010
FW_SHUTDOWN = 0x0014
FW_STALE = 0x0018
FW_WATCHDOG = 0x001C
CMD_INFO = 0x0100
CMD_POP = 0x0104
CPL_DW0 = 0x0200
CPL_DW1 = 0x0204
CPL_POST = 0x0208
CPL_STATUS = 0x020C
Q_SEL = 0x0300
Q_BASE_LO = 0x0304
Q_BASE_HI = 0x0308
Q_SIZE = 0x030C
Q_ATTR = 0x0310
Q_CMD = 0x0314
Q_SQ_STATE = 0x0318
Q_CQ_STATE = 0x031C
Q_TAILS = 0x0320
DB_ERR = 0x0400
ARB = 0x0500
COALESCE = 0x0504
COALESCE_DISABLE = 0x0600
COALESCE_DISABLE_WORDS = 3
DMA_CTRL = 0x0700
DMA_OFFSET = 0x0704
DMA_LENGTH = 0x0708
DMA_CMD_LEN = 0x070C
DMA_DRAM_LO = 0x0710
DMA_DRAM_HI = 0x0714
DMA_POST = 0x0718
DMA_RESULT = 0x071C
DMA_STATUS = 0x0720
SQE_WINDOW = 0x1000

FW_ID_VALUE = 0x4E56_4D45  # "NVME"
AXI_OKAY = 0b00

CMD_INFO_VALID = 1 << 31
EPOCH_SHIFT = 8            # CMD_INFO, CPL_POST: [15:8]; FW_CTRL_STATUS: [15:8]
CPL_POST_STATUS_SHIFT = 17
FW_SHUTDOWN_DONE = 1 << 0
CPL_STATUS_BUSY = 1 << 0
Q_ATTR_ID_SHIFT = 16       # SQ: CQ id; CQ: interrupt vector
Q_ATTR_CQ_IEN = 1 << 0
DB_ERR_VALID = 1 << 31


class IrqBit(IntFlag):
    """FW_IRQ_STATUS / FW_IRQ_ENABLE bits."""

    COMMAND = 1 << 0        # level: commands wait in the FIFO; not clearable
    DB_ERROR = 1 << 1
    ENABLED = 1 << 2
    RESET = 1 << 3
    SHUTDOWN = 1 << 4
    DMA_RESULT = 1 << 5     # level: DMA results wait; the DMA port polls them, the loop leaves it off

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
        return cls(cmd_slots=raw & 0xFF, io_queue_pairs=raw >> 8 & 0xFF, mqes=raw >> 16)

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

    def __post_init__(self) -> None:
        if not 0 <= self.index < 256 or not 0 <= self.epoch < 256:
            raise ValueError(f"slot {self.index} epoch {self.epoch}: each must fit 8 bits")

    @property
    def tag(self) -> int:
        """{epoch, slot} as CPL_POST and DMA_CTRL carry them in [15:0]."""
        return self.epoch << EPOCH_SHIFT | self.index


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

    @classmethod
    def decode(cls, raw: int) -> CtrlStatus:
        flag = [bool(raw >> bit & 1) for bit in range(6)]
        return cls(*flag, epoch=raw >> EPOCH_SHIFT & 0xFF, fifo_count=raw >> 16 & 0xFF)


@dataclass(frozen=True)
class SqState:
    """Q_SQ_STATE of the selected SQ."""

    valid: bool
    fetch_in_flight: bool
    head: int

    @classmethod
    def decode(cls, raw: int) -> SqState:
        return cls(bool(raw >> 31 & 1), bool(raw >> 30 & 1), raw & 0xFFFF)


@dataclass(frozen=True)
class CqState:
    """Q_CQ_STATE of the selected CQ."""

    valid: bool
    full: bool
    phase: int
    tail: int

    @classmethod
    def decode(cls, raw: int) -> CqState:
        return cls(bool(raw >> 31 & 1), bool(raw >> 30 & 1), raw >> 16 & 1, raw & 0xFFFF)


@dataclass(frozen=True)
class DoorbellError:
    """DB_ERR: the first invalid doorbell write since the log was cleared."""

    qid: int
    is_cq: bool
    kind: DoorbellErrorKind
    count: int  # invalid writes since cleared, saturating at 255

    @classmethod
    def decode(cls, raw: int) -> DoorbellError | None:
        if not raw & DB_ERR_VALID:
            return None
        return cls(qid=raw >> 16 & 0x7F, is_cq=bool(raw >> 8 & 1), kind=DoorbellErrorKind(raw >> 28 & 0x3),
                   count=raw & 0xFF)


def cpl_post_value(slot: CommandSlot, status: Status) -> int:
    """CPL_POST: the 15-bit CQE status field at [31:17], the epoch at [15:8], the slot at [7:0]."""
    return status.encode() << CPL_POST_STATUS_SHIFT | slot.tag


async def _wait_high(line: LogicObject, timeout_ns: int) -> bool:
    if line.value == 1:
        return True
    await First(RisingEdge(line), Timer(timeout_ns, "ns"))
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
        fw_id = await self.read(FW_ID)
        if fw_id != FW_ID_VALUE:
            raise MailboxError(f"FW_ID reads {fw_id:#010x}, expected {FW_ID_VALUE:#010x}: not the NVMe mailbox")

    async def params(self) -> FwParams:
        return FwParams.decode(await self.read(FW_PARAMS))

    async def ctrl_status(self) -> CtrlStatus:
        return CtrlStatus.decode(await self.read(FW_CTRL_STATUS))

    # interrupts

    async def irq_status(self) -> IrqBit:
        return IrqBit(await self.read(FW_IRQ_STATUS) & IrqBit.all())

    async def irq_enable(self, bits: IrqBit) -> None:
        await self.write(FW_IRQ_ENABLE, int(bits))

    async def irq_ack(self, bits: IrqBit) -> None:
        """Clear event bits (RW1C); COMMAND is a level and clears only when the FIFO empties."""
        await self.write(FW_IRQ_STATUS, int(bits))

    async def wait_irq(self, timeout_ns: int) -> bool:
        """Wait until fw_irq is high, at most ``timeout_ns``; False if it stayed low.

        A timeout here is not an error: the caller re-reads FW_IRQ_STATUS, so
        an edge missed between the check and the wait costs at most one period.
        """
        return await _wait_high(self.irq, timeout_ns)

    async def wait_dma_irq(self, timeout_ns: int) -> bool:
        """Wait until fw_dma_irq (DMA results waiting) is high, at most ``timeout_ns``."""
        return await _wait_high(self.dma_irq, timeout_ns)

    # commands

    async def next_command(self) -> tuple[CommandSlot, int] | None:
        """(slot, SQ id) of the command at the head of the FIFO, or None if it is empty."""
        info = await self.read(CMD_INFO)
        if not info & CMD_INFO_VALID:
            return None
        return CommandSlot(info & 0xFF, info >> EPOCH_SHIFT & 0xFF), info >> 16 & 0x7F

    async def read_sqe(self, slot: CommandSlot) -> SubmissionEntry:
        """The slot's 64-byte SQE, dword by dword."""
        base = SQE_WINDOW + SQE_SIZE * slot.index
        return SubmissionEntry.from_dwords([await self.read(base + 4 * dw) for dw in range(SQE_SIZE // 4)])

    async def pop(self) -> None:
        await self.write(CMD_POP, 1)

    async def post_completion(self, slot: CommandSlot, status: Status, dw0: int = 0, dw1: int = 0) -> None:
        """Post the slot's completion once the poster is idle; the hardware fills the rest of the CQE
        (and drops it if the slot's epoch is older than the controller's)."""
        async with self._lock:
            await self.wait_poster_idle(f"posting slot {slot.index}")
            await self.write(CPL_DW0, dw0)
            await self.write(CPL_DW1, dw1)
            await self.write(CPL_POST, cpl_post_value(slot, status))

    async def wait_poster_idle(self, what: str = "checking a CQ") -> None:
        """Wait until CPL_STATUS shows the poster idle, at most ``timeout_ns``."""
        deadline = get_sim_time("ns") + self.timeout_ns
        while await self.read(CPL_STATUS) & CPL_STATUS_BUSY:
            if get_sim_time("ns") >= deadline:
                raise MailboxTimeout(f"CPL_STATUS busy for {self.timeout_ns} ns before {what}: "
                                     "a posted completion still waits for room in a full CQ")

    # shutdown, stale completions, watchdog

    async def shutdown_done(self) -> None:
        """Everything volatile is durable: the hardware may report CSTS.SHST complete."""
        await self.write(FW_SHUTDOWN, FW_SHUTDOWN_DONE)

    async def stale_completions(self) -> int:
        """Completions the hardware dropped because they named an older epoch."""
        return await self.read(FW_STALE) & 0xFFFF

    async def set_watchdog(self, microseconds: int) -> None:
        """How long a command may wait at the head of the FIFO before the firmware is taken for dead
        (0 disarms the watchdog)."""
        if not 0 <= microseconds <= 0xFFFF:
            raise ValueError(f"watchdog {microseconds} us does not fit FW_WATCHDOG[15:0]")
        await self.write(FW_WATCHDOG, microseconds)

    # queues

    async def _queue_command(self, qid: int, cmd: QueueCommand, base: int = 0, qsize: int = 0,
                             attr: int = 0) -> None:
        async with self._lock:
            await self.write(Q_SEL, qid)
            if cmd in (QueueCommand.CREATE_SQ, QueueCommand.CREATE_CQ):
                await self.write(Q_BASE_LO, base & 0xFFFF_FFFF)
                await self.write(Q_BASE_HI, base >> 32)
                await self.write(Q_SIZE, qsize)
                await self.write(Q_ATTR, attr)
            await self.write(Q_CMD, cmd)

    async def create_sq(self, qid: int, base: int, qsize: int, cqid: int, priority: int = 0) -> None:
        """An SQ of ``qsize + 1`` entries bound to ``cqid`` (priority 0 urgent .. 3 low)."""
        await self._queue_command(qid, QueueCommand.CREATE_SQ, base, qsize, cqid << Q_ATTR_ID_SHIFT | priority)

    async def create_cq(self, qid: int, base: int, qsize: int, vector: int, ien: bool) -> None:
        """A CQ of ``qsize + 1`` entries signalling MSI-X ``vector`` when ``ien``."""
        await self._queue_command(qid, QueueCommand.CREATE_CQ, base, qsize,
                                  vector << Q_ATTR_ID_SHIFT | (Q_ATTR_CQ_IEN if ien else 0))

    async def delete_sq(self, qid: int) -> None:
        await self._queue_command(qid, QueueCommand.DELETE_SQ)

    async def delete_cq(self, qid: int) -> None:
        await self._queue_command(qid, QueueCommand.DELETE_CQ)

    async def _selected(self, qid: int, offset: int) -> int:
        async with self._lock:
            await self.write(Q_SEL, qid)
            return await self.read(offset)

    async def sq_state(self, qid: int) -> SqState:
        return SqState.decode(await self._selected(qid, Q_SQ_STATE))

    async def cq_state(self, qid: int) -> CqState:
        return CqState.decode(await self._selected(qid, Q_CQ_STATE))

    async def cq_full(self, cqid: int) -> bool:
        return (await self.cq_state(cqid)).full

    # doorbell errors

    async def db_error(self) -> DoorbellError | None:
        return DoorbellError.decode(await self.read(DB_ERR))

    async def clear_db_error(self) -> None:
        await self.write(DB_ERR, DB_ERR_VALID)

    # features the hardware implements

    async def set_arbitration(self, cdw11: int) -> None:
        """ARB takes the Arbitration feature's CDW11 as is (AB, LPW, MPW, HPW)."""
        await self.write(ARB, cdw11)

    async def set_coalescing(self, cdw11: int) -> None:
        """COALESCE takes the Interrupt Coalescing feature's THR and TIME as is."""
        await self.write(COALESCE, cdw11 & 0xFFFF)

    async def set_coalescing_disable(self, vector: int, disabled: bool) -> None:
        """Set or clear vector's bit in COALESCE_DISABLE (read-modify-write of its dword)."""
        word, bit = divmod(vector, 32)
        if word >= COALESCE_DISABLE_WORDS:
            raise ValueError(f"vector {vector} beyond COALESCE_DISABLE")
        offset = COALESCE_DISABLE + 4 * word
        async with self._lock:
            value = await self.read(offset)
            value = value | 1 << bit if disabled else value & ~(1 << bit)
            await self.write(offset, value)
