"""firmware/subsystem.py and firmware/queue_pool.py against a fake AXI4-Lite port: each controller's queue pairs
get entries of the shared queue table from the pool, its vectors are its own, and the subsystem's loop hands
events and commands to the controller they are for."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from contract import fw_mailbox as regs
from firmware.mailbox import CommandSlot, DoorbellErrorKind, Mailbox, MailboxError
from firmware.queue_pool import QueuePool
from firmware.subsystem import ControllerMailbox, SubsystemFirmware
from models.nvme_spec import SubmissionEntry

QUEUES = 16
FUNCTIONS = 4
ENTRIES = 32


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


class MapPort(FakePort):
    """Q_MAP as the hardware keeps it, per entry Q_SEL selects; a map of an entry in ``refused`` changes
    nothing, as the hardware's does for an entry still in use."""

    def __init__(self, values: dict[int, int] | None = None, refused: frozenset[int] = frozenset()) -> None:
        super().__init__(values)
        self.refused = refused
        self.maps: dict[int, int] = {}

    async def read(self, offset: int) -> tuple[int, int]:
        if offset == regs.Q_MAP.OFFSET:
            return self.maps.get(self.values.get(regs.Q_SEL.OFFSET, 0), 0), 0
        return await super().read(offset)

    async def write(self, offset: int, value: int) -> int:
        entry = self.values.get(regs.Q_SEL.OFFSET, 0)
        if offset == regs.Q_SEL.OFFSET:
            self.values[offset] = value
        elif offset == regs.Q_MAP.OFFSET and entry not in self.refused:
            self.maps[entry] = value if regs.Q_MAP.MAPPED.get(value) else 0
        return await super().write(offset, value)


def bus(values: dict[int, int] | None = None, refused: frozenset[int] = frozenset()) -> Mailbox:
    mailbox = Mailbox(MapPort(values, refused), irq=None, dma_irq=None)
    mailbox._lock = asyncio.Lock()
    return mailbox


def pooled(shared: Mailbox, function: int) -> ControllerMailbox:
    """Controller ``function``'s view, with a pool of ENTRIES entries."""
    view = ControllerMailbox(shared, function, QUEUES, FUNCTIONS)
    view.pool = QueuePool(shared, FUNCTIONS, ENTRIES, QUEUES)
    return view


def written(mailbox: Mailbox, offset: int) -> list[int]:
    return [value for at, value in mailbox.port.writes if at == offset]


def pair_with_sq_deleted(view: ControllerMailbox, qid: int) -> None:
    """Queue pair ``qid`` created (CQ on vector ``qid``, then SQ), then its SQ deleted."""
    asyncio.run(view.create_cq(qid, 0x10000, 15, vector=qid, ien=True))
    asyncio.run(view.create_sq(qid, 0x20000, 15, cqid=qid))
    asyncio.run(view.delete_sq(qid))


def test_a_queue_pair_draws_a_pool_entry_and_its_vector_is_the_functions() -> None:
    shared = bus()
    view = pooled(shared, 2)
    pair_with_sq_deleted(view, 3)
    # the first pool entry (after the four admin queues), mapped once, then created in and deleted from
    assert written(shared, regs.Q_MAP.OFFSET) == [regs.Q_MAP.encode(MAPPED=1, FUNCTION=2, QID=3)]
    assert written(shared, regs.Q_SEL.OFFSET) == [FUNCTIONS] * 4
    # the CQ's vector is {function, vector}; the SQ names its CQ's entry
    assert [regs.Q_ATTR.ID.get(v) for v in written(shared, regs.Q_ATTR.OFFSET)] == [2 * QUEUES + 3, FUNCTIONS]
    asyncio.run(view.ring(0, cq=True, expect=1, value=2))
    assert written(shared, regs.Q_SEL.OFFSET)[-1] == 2, "the admin queue of controller 2 is entry 2"


def test_the_entry_goes_back_with_the_pairs_last_queue() -> None:
    shared = bus()
    view = pooled(shared, 1)
    pair_with_sq_deleted(view, 1)
    assert view.entry(1) == FUNCTIONS and not written(shared, regs.Q_MAP.OFFSET)[1:]
    asyncio.run(view.delete_cq(1))
    assert written(shared, regs.Q_MAP.OFFSET)[1:] == [regs.Q_MAP.encode(MAPPED=0, FUNCTION=1, QID=1)]
    with pytest.raises(ValueError):
        view.entry(1)
    assert view.pool is not None and view.pool.locate(FUNCTIONS) == (1, 1), "an entry remembers its last pair"


def test_an_entry_the_hardware_refuses_is_passed_over() -> None:
    shared = bus(refused=frozenset({FUNCTIONS, FUNCTIONS + 1}))
    view = pooled(shared, 0)
    asyncio.run(view.create_cq(5, 0x10000, 15, vector=0, ien=False))
    assert view.entry(5) == FUNCTIONS + 2
    everything = bus(refused=frozenset(range(ENTRIES)))
    with pytest.raises(MailboxError):
        asyncio.run(pooled(everything, 0).create_cq(5, 0x10000, 15, vector=0, ien=False))


def test_a_reset_frees_the_controllers_entries_only() -> None:
    shared = bus()
    views = [pooled(shared, fn) for fn in range(2)]
    views[1].pool = views[0].pool
    for view in views:
        asyncio.run(view.create_cq(1, 0x10000, 15, vector=1, ien=True))
    assert (views[0].entry(1), views[1].entry(1)) == (FUNCTIONS, FUNCTIONS + 1)
    assert views[0].pool is not None
    views[0].pool.reset(0)
    with pytest.raises(ValueError):
        views[0].entry(1)
    assert views[1].entry(1) == FUNCTIONS + 1
    asyncio.run(views[1].create_cq(2, 0x10000, 15, vector=2, ien=True))
    assert views[1].entry(2) == FUNCTIONS + 2, "a freed entry goes to the back of the free list"


def test_another_controllers_queue_is_out_of_reach() -> None:
    view = pooled(bus(), 1)
    with pytest.raises(ValueError):
        view.entry(QUEUES)
    with pytest.raises(ValueError):
        view.vector(QUEUES)


def test_status_and_shutdown_are_the_functions() -> None:
    status = regs.FW_CTRL_STATUS.encode(ENABLED=1, EPOCH=7)
    shared = bus({regs.FN_STATUS.OFFSET + 3 * regs.FN_STATUS.STRIDE: status})
    view = ControllerMailbox(shared, 3, QUEUES, FUNCTIONS)
    got = asyncio.run(view.ctrl_status())
    assert (got.enabled, got.epoch) == (True, 7)
    asyncio.run(view.shutdown_done())
    assert written(shared, regs.FW_SHUTDOWN.OFFSET) == [1 << 3]
    assert view.drains_on_reset and not ControllerMailbox(shared, 0, QUEUES, 1).drains_on_reset


def test_interrupt_coalescing_and_arbitration_are_the_functions() -> None:
    shared = bus()
    view = ControllerMailbox(shared, 2, QUEUES, FUNCTIONS)
    asyncio.run(view.set_coalescing(0x0304))
    asyncio.run(view.set_arbitration(0x0302_0100))
    assert written(shared, regs.COALESCE.OFFSET + 2 * regs.COALESCE.STRIDE) == [0x0304]
    assert written(shared, regs.ARB.OFFSET + 2 * regs.ARB.STRIDE) == [0x0302_0100]
    assert not written(shared, regs.COALESCE.OFFSET) and not written(shared, regs.ARB.OFFSET)


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
    loop.pool = QueuePool(shared, FUNCTIONS, ENTRIES, QUEUES)
    loop._epochs = [0] * FUNCTIONS
    return loop, controllers


def test_commands_go_to_their_controller_with_its_own_sq_id() -> None:
    loop, controllers = subsystem()
    assert loop.pool is not None
    entry = asyncio.run(loop.pool.hold(2, 1))
    sqe = SubmissionEntry(opcode=0)
    asyncio.run(loop._dispatch(CommandSlot(4, function=2), entry, sqe))
    asyncio.run(loop._dispatch(CommandSlot(5, function=3), 3, sqe))
    assert controllers[2].calls == [("execute", CommandSlot(4, function=2), 1)]
    assert controllers[3].calls == [("execute", CommandSlot(5, function=3), 0)]
    assert not controllers[0].calls and not controllers[1].calls


def test_a_command_whose_sq_entry_went_to_another_controller_only_frees_its_slot() -> None:
    loop, controllers = subsystem()
    loop.pool = QueuePool(loop.mailbox, FUNCTIONS, 2 * FUNCTIONS, QUEUES)   # four pool entries
    entry = asyncio.run(loop.pool.hold(1, 2))
    for qid in (1, 2, 3):
        asyncio.run(loop.pool.hold(0, qid))
    loop.pool.reset(1)
    assert asyncio.run(loop.pool.hold(0, 4)) == entry
    asyncio.run(loop._dispatch(CommandSlot(6, function=1), entry, SubmissionEntry(opcode=1)))
    assert controllers[1].calls == [("drop", CommandSlot(6, function=1))] and not controllers[0].calls


def test_a_command_fetched_before_its_controllers_reset_only_frees_its_slot() -> None:
    loop, controllers = subsystem()
    loop._epochs[1] = 2
    asyncio.run(loop._dispatch(CommandSlot(9, epoch=1, function=1), FUNCTIONS + 3, SubmissionEntry(opcode=1)))
    assert controllers[1].calls == [("drop", CommandSlot(9, epoch=1, function=1))]
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
