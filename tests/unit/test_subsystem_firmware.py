"""firmware/subsystem.py against a fake AXI4-Lite port: each controller's ids land in its own entries of the
shared queue table, and the subsystem's loop hands events and commands to the controller they are for."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from contract import fw_mailbox as regs
from firmware.mailbox import CommandSlot, DoorbellErrorKind, Mailbox
from firmware.subsystem import ControllerMailbox, SubsystemFirmware
from models.nvme_spec import SubmissionEntry

QUEUES = 16
FUNCTIONS = 4


class FakePort:
    """Registers as a dict; every write recorded in order."""

    def __init__(self, values: dict[int, int] | None = None) -> None:
        self.values = values or {}
        self.writes: list[tuple[int, int]] = []

    async def read(self, offset: int) -> tuple[int, int]:
        return self.values.get(offset, 0), 0

    async def write(self, offset: int, value: int) -> int:
        self.writes.append((offset, value))
        return 0


def bus(values: dict[int, int] | None = None) -> Mailbox:
    mailbox = Mailbox(FakePort(values), irq=None, dma_irq=None)
    mailbox._lock = asyncio.Lock()
    return mailbox


def written(mailbox: Mailbox, offset: int) -> list[int]:
    return [value for at, value in mailbox.port.writes if at == offset]


def test_queue_ids_and_vectors_are_the_functions_entries() -> None:
    shared = bus()
    view = ControllerMailbox(shared, 2, QUEUES, FUNCTIONS)
    asyncio.run(view.create_cq(3, 0x10000, 15, vector=3, ien=True))
    asyncio.run(view.create_sq(3, 0x20000, 15, cqid=3))
    asyncio.run(view.delete_sq(3))
    assert written(shared, regs.Q_SEL.OFFSET) == [2 * QUEUES + 3] * 3
    assert [regs.Q_ATTR.ID.get(v) for v in written(shared, regs.Q_ATTR.OFFSET)] == [2 * QUEUES + 3] * 2
    asyncio.run(view.ring(0, cq=True, expect=1, value=2))
    assert written(shared, regs.Q_SEL.OFFSET)[-1] == 2 * QUEUES


def test_another_controllers_queue_is_out_of_reach() -> None:
    view = ControllerMailbox(bus(), 1, QUEUES, FUNCTIONS)
    with pytest.raises(ValueError):
        view.entry(QUEUES)


def test_status_and_shutdown_are_the_functions() -> None:
    status = regs.FW_CTRL_STATUS.encode(ENABLED=1, EPOCH=7)
    shared = bus({regs.FN_STATUS.OFFSET + 3 * regs.FN_STATUS.STRIDE: status})
    view = ControllerMailbox(shared, 3, QUEUES, FUNCTIONS)
    got = asyncio.run(view.ctrl_status())
    assert (got.enabled, got.epoch) == (True, 7)
    asyncio.run(view.shutdown_done())
    assert written(shared, regs.FW_SHUTDOWN.OFFSET) == [1 << 3]
    assert view.drains_on_reset and not ControllerMailbox(shared, 0, QUEUES, 1).drains_on_reset


def test_interrupt_coalescing_is_the_functions() -> None:
    shared = bus()
    asyncio.run(ControllerMailbox(shared, 2, QUEUES, FUNCTIONS).set_coalescing(0x0304))
    assert written(shared, regs.COALESCE.OFFSET + 2 * regs.COALESCE.STRIDE) == [0x0304]
    assert not written(shared, regs.COALESCE.OFFSET)


def test_doorbell_error_is_seen_by_its_controller_only() -> None:
    raw = regs.DB_ERR.encode(VALID=1, KIND=DoorbellErrorKind.NO_SUCH_QUEUE, QID=QUEUES + 5, IS_CQ=1)
    shared = bus({regs.DB_ERR.OFFSET: raw})
    assert asyncio.run(ControllerMailbox(shared, 0, QUEUES, FUNCTIONS).db_error()) is None
    error = asyncio.run(ControllerMailbox(shared, 1, QUEUES, FUNCTIONS).db_error())
    assert error is not None and (error.qid, error.is_cq) == (5, True)


@dataclass
class FakeController:
    """What the subsystem's loop calls on a controller's firmware, recorded."""

    mailbox: ControllerMailbox
    calls: list = field(default_factory=list)
    enables: int = 0
    deferred: dict = field(default_factory=dict)

    async def _execute(self, slot: CommandSlot, sqid: int, sqe: SubmissionEntry) -> None:
        self.calls.append(("execute", slot, sqid))

    async def _drop(self, slot: CommandSlot) -> None:
        self.calls.append(("drop", slot))

    async def _controller_reset(self) -> None:
        self.calls.append(("reset",))

    async def _enabled(self) -> None:
        self.calls.append(("enabled",))

    async def _shutdown(self) -> None:
        self.calls.append(("shutdown",))


def subsystem(values: dict[int, int] | None = None) -> tuple[SubsystemFirmware, list[FakeController]]:
    shared = bus(values)
    controllers = [FakeController(ControllerMailbox(shared, fn, QUEUES, FUNCTIONS)) for fn in range(FUNCTIONS)]
    loop = SubsystemFirmware(shared, controllers)
    loop._epochs = [0] * FUNCTIONS
    return loop, controllers


def test_commands_go_to_their_sqs_controller_with_its_own_sq_id() -> None:
    loop, controllers = subsystem()
    sqe = SubmissionEntry(opcode=0)
    asyncio.run(loop._dispatch(CommandSlot(4), 2 * QUEUES + 1, sqe))
    asyncio.run(loop._dispatch(CommandSlot(5), 3 * QUEUES, sqe))
    assert controllers[2].calls == [("execute", CommandSlot(4), 1)]
    assert controllers[3].calls == [("execute", CommandSlot(5), 0)]
    assert not controllers[0].calls and not controllers[1].calls


def test_a_command_fetched_before_its_controllers_reset_only_frees_its_slot() -> None:
    loop, controllers = subsystem()
    loop._epochs[1] = 2
    asyncio.run(loop._dispatch(CommandSlot(9, epoch=1), QUEUES + 3, SubmissionEntry(opcode=1)))
    assert controllers[1].calls == [("drop", CommandSlot(9, epoch=1))]
    assert loop.stale_commands == 1


def test_events_go_to_the_controllers_fn_events_names() -> None:
    events = regs.FN_EVENTS.encode(CTRL_RESET=0b0100, ENABLED=0b0010, SHUTDOWN=0b1000)
    status = regs.FW_CTRL_STATUS.encode(EPOCH=5)
    loop, controllers = subsystem({regs.FN_EVENTS.OFFSET: events,
                                   regs.FN_STATUS.OFFSET + 2 * regs.FN_STATUS.STRIDE: status})
    asyncio.run(loop._controller_events())
    assert [c.calls for c in controllers] == [[], [("enabled",)], [("reset",)], [("shutdown",)]]
    assert loop._epochs[2] == 5 and controllers[1].enables == 1
    # the events read are acknowledged as read
    assert written(loop.mailbox, regs.FN_EVENTS.OFFSET) == [events]


def test_slots_shared_by_weight() -> None:
    params = regs.FW_PARAMS.encode(CMD_SLOTS=64, IO_QUEUES=QUEUES - 1, MQES=255)
    loop, _ = subsystem({regs.FW_PARAMS.OFFSET: params})
    assert asyncio.run(loop.share_slots([1, 3, 0, 0])) == [16, 48, 0, 0]
    (raw,) = written(loop.mailbox, regs.FN_SLOT_QUOTA.OFFSET)
    assert regs.FN_SLOT_QUOTA.decode(raw) == {"F0": 16, "F1": 48, "F2": 0, "F3": 0}


def test_unnamed_functions_keep_no_quota() -> None:
    shared = bus()
    asyncio.run(shared.set_slot_quotas([10]))
    (raw,) = written(shared, regs.FN_SLOT_QUOTA.OFFSET)
    assert regs.FN_SLOT_QUOTA.decode(raw) == {"F0": 10, "F1": 255, "F2": 255, "F3": 255}
