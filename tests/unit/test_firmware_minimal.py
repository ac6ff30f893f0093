"""MinimalFirmware's loop against a fake mailbox: command handling, deferral per CQ, events.

The loop's simulator dependencies are the mailbox, Timer and simulated time;
the fake mailbox holds the command FIFO, per-CQ full flags and what was
posted, and the coroutines run under asyncio.
"""

import asyncio

import pytest

from tests.unit.fake_mailbox import FakeMailbox
from tests.unit.fake_time import FakeClock, install_fake_clock

import firmware.minimal as fm
from firmware.mailbox import DoorbellError, DoorbellErrorKind, IrqBit, MailboxTimeout
from firmware.minimal import MinimalFirmware
from models.nvme_spec import (SUCCESS, AdminOpcode, CommandSpecificStatus, GenericStatus, NvmOpcode, Status,
                              SubmissionEntry, create_io_cq, create_io_sq, delete_io_sq, set_interrupt_coalescing)

BASE = 0x10_0000
WRITE = SubmissionEntry(NvmOpcode.WRITE, nsid=1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return install_fake_clock(monkeypatch, fm)


@pytest.fixture
def mb() -> FakeMailbox:
    return FakeMailbox()


@pytest.fixture
def fw(mb: FakeMailbox, clock: FakeClock) -> MinimalFirmware:
    firmware = MinimalFirmware(mb, cost_ns=100)  # type: ignore[arg-type]
    asyncio.run(firmware.init())
    return firmware


def step(fw: MinimalFirmware) -> bool:
    return asyncio.run(fw.step())


@pytest.fixture
def pair(fw: MinimalFirmware, mb: FakeMailbox) -> MinimalFirmware:
    """CQ 1 and SQ 1 created through the admin queue."""
    mb.queue(0, create_io_cq(1, 15, BASE, iv=1))
    mb.queue(0, create_io_sq(1, 15, BASE + 0x1000, cqid=1))
    step(fw)
    assert [s for _, s, _ in mb.posted] == [SUCCESS, SUCCESS]
    mb.posted.clear()
    return fw


def test_admin_commands_program_the_hardware_then_complete(pair: MinimalFirmware, mb: FakeMailbox) -> None:
    assert mb.hw == [("create_cq", (1, BASE, 15, 1, True)), ("create_sq", (1, BASE + 0x1000, 15, 1, 0))]
    assert pair.admin_opcodes == {AdminOpcode.CREATE_IO_CQ: 1, AdminOpcode.CREATE_IO_SQ: 1}


def test_io_commands_succeed_and_are_counted(pair: MinimalFirmware, mb: FakeMailbox, clock: FakeClock) -> None:
    slots = [mb.queue(1, WRITE), mb.queue(1, SubmissionEntry(NvmOpcode.READ)), mb.queue(1, SubmissionEntry(0x7E))]
    assert step(pair)
    assert mb.posted == [(slots[0], SUCCESS, 0), (slots[1], SUCCESS, 0),
                         (slots[2], Status.of(GenericStatus.INVALID_OPCODE, dnr=True), 0)]
    assert pair.commands_per_sq == {0: 2, 1: 3}
    assert pair.io_opcodes == {NvmOpcode.WRITE: 1, NvmOpcode.READ: 1, 0x7E: 1}
    assert clock.ns == 5 * 100   # per-command cost, admin commands included


def test_admin_error_is_posted_without_programming(fw: MinimalFirmware, mb: FakeMailbox) -> None:
    slot = mb.queue(0, create_io_sq(1, 15, BASE, cqid=1))
    step(fw)
    assert mb.posted == [(slot, Status.of(CommandSpecificStatus.COMPLETION_QUEUE_INVALID, dnr=True), 0)]
    assert mb.hw == []


def test_full_cq_defers_in_order_without_blocking_other_cqs(pair: MinimalFirmware, mb: FakeMailbox) -> None:
    mb.full.add(1)
    io = [mb.queue(1, WRITE) for _ in range(3)]
    admin = mb.queue(0, set_interrupt_coalescing(thr=1, time_100us=1))
    step(pair)
    assert [slot for slot, _, _ in mb.posted] == [admin]
    assert pair.deferred == {1: 3} and pair.completions_deferred == 3
    assert not step(pair)          # still full: nothing to do
    mb.full.discard(1)
    assert step(pair)
    assert [slot for slot, _, _ in mb.posted] == [admin] + io
    assert pair.deferred == {}


def test_new_completion_queues_behind_deferred_ones(pair: MinimalFirmware, mb: FakeMailbox) -> None:
    mb.full.add(1)
    first = mb.queue(1, WRITE)
    step(pair)
    mb.full.discard(1)
    mb.full_answers.extend([True, False])   # still full at the retry, room by the time the next command ends
    second = mb.queue(1, WRITE)
    step(pair)
    step(pair)
    assert [slot for slot, _, _ in mb.posted] == [first, second]


def test_delete_sq_waits_for_its_deferred_completions(pair: MinimalFirmware, mb: FakeMailbox) -> None:
    mb.full.add(1)
    mb.queue(1, WRITE)
    mb.queue(0, delete_io_sq(1))
    with pytest.raises(MailboxTimeout, match="Delete I/O SQ 1"):
        step(pair)
    assert ("delete_sq", (1,)) not in mb.hw


def test_command_of_a_deleted_sq_is_aborted(pair: MinimalFirmware, mb: FakeMailbox) -> None:
    mb.queue(0, delete_io_sq(1))
    late = mb.queue(1, WRITE)
    step(pair)
    assert mb.posted[-1] == (late, Status.of(GenericStatus.ABORT_SQ_DELETION), 0)


def test_controller_reset_drops_queues_and_deferred(pair: MinimalFirmware, mb: FakeMailbox) -> None:
    mb.full.add(1)
    mb.queue(1, WRITE)
    step(pair)
    mb.hw.clear()
    mb.irq = IrqBit.RESET
    step(pair)
    assert IrqBit.RESET in mb.acked
    assert pair.deferred == {} and pair.resets == 1
    assert pair.admin is not None and pair.admin.cq_of(1) is None
    assert ("set_coalescing", (0,)) in mb.hw and ("set_arbitration", (0,)) in mb.hw


def test_invalid_doorbell_is_recorded_and_cleared(fw: MinimalFirmware, mb: FakeMailbox) -> None:
    err = DoorbellError(qid=3, is_cq=False, kind=DoorbellErrorKind.NO_SUCH_QUEUE, count=1)
    mb.db_err = err
    mb.irq = IrqBit.DB_ERROR | IrqBit.SHUTDOWN
    assert step(fw)
    assert fw.async_events == [err]
    assert mb.db_err is None
    assert mb.acked == IrqBit.DB_ERROR | IrqBit.SHUTDOWN


def test_idle_step_does_nothing(fw: MinimalFirmware, mb: FakeMailbox) -> None:
    assert not step(fw)
    assert mb.posted == [] and mb.acked == IrqBit(0)
