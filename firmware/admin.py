"""Admin command decisions of the firmware: queue management and the queue-related features.

Pure Python, so the spec's checks are unit tested without a simulator.
``AdminState`` is the firmware's software copy of the queues and features;
``execute`` validates one admin command against it (NVMe 1.4 sections 5.3,
5.4, 5.5, 5.6, 5.9, 5.21), updates the copy, and returns the status, DW0
and the hardware actions the firmware then applies through the mailbox.
Deciding first and programming the hardware second keeps the hardware a
pure function of accepted commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.nvme_spec import (SUCCESS, AdminOpcode, CommandSpecificStatus, CreateCqFlags, CreateSqFlags, FeatureId,
                              GenericStatus, GetFeaturesSelect, Status, StatusCode, SubmissionEntry,
                              num_queues_dword, qsize_qid, vector_config_dword)
from models.queue_budget import QueueBudget

ADMIN_QID = 0
MAX_QID = 0x7F  # Q_SEL and CMD_INFO carry 7-bit queue ids
PAGE_SIZE = 4096
# Get Features SEL=3 capabilities: bit 2 changeable (not saveable, not namespace specific)
FEATURE_CHANGEABLE = 1 << 2


@dataclass(frozen=True)
class CreateCq:
    qid: int
    base: int
    qsize: int
    vector: int
    ien: bool


@dataclass(frozen=True)
class CreateSq:
    qid: int
    base: int
    qsize: int
    cqid: int
    priority: int


@dataclass(frozen=True)
class DeleteSq:
    qid: int


@dataclass(frozen=True)
class DeleteCq:
    qid: int


@dataclass(frozen=True)
class ProgramArbitration:
    cdw11: int


@dataclass(frozen=True)
class ProgramCoalescing:
    cdw11: int


@dataclass(frozen=True)
class ProgramCoalescingDisable:
    vector: int
    disabled: bool


HardwareAction = (CreateCq | CreateSq | DeleteSq | DeleteCq | ProgramArbitration | ProgramCoalescing
                  | ProgramCoalescingDisable)


@dataclass(frozen=True)
class AdminResult:
    status: Status
    dw0: int = 0
    actions: tuple[HardwareAction, ...] = ()


def error(code: StatusCode) -> AdminResult:
    """A failed command: DNR set, since retrying the same command fails the same way."""
    return AdminResult(Status.of(code, dnr=True))


@dataclass
class _Features:
    """Current values of the queue-related features; a controller reset restores these defaults."""

    nsqa: int           # allocated I/O SQs, zero-based
    ncqa: int           # allocated I/O CQs, zero-based
    arbitration: int = 0
    coalescing: int = 0
    coalescing_disabled: frozenset[int] = frozenset()


class AdminState:
    """The firmware's copy of the I/O queues and features, and the admin commands that change them."""

    def __init__(self, io_queue_pairs: int, mqes: int, budget: QueueBudget | None = None,
                 controller: int = 0) -> None:
        """``io_queue_pairs``: the controller's I/O queue ids and vectors; ``budget``: how many pairs it may
        create, shared with the subsystem's other controllers (its own, of every id, when alone)."""
        if not 1 <= io_queue_pairs <= MAX_QID:
            raise ValueError(f"{io_queue_pairs} I/O queue pairs: the mailbox addresses 1..{MAX_QID}")
        self.io_queue_pairs = io_queue_pairs
        self.mqes = mqes
        self.budget = budget if budget is not None else QueueBudget.alone(io_queue_pairs)
        self.controller = controller
        self.vectors = io_queue_pairs + 1
        self._handlers: dict[int, Callable[[SubmissionEntry], AdminResult]] = {
            AdminOpcode.CREATE_IO_CQ: self._create_cq,
            AdminOpcode.CREATE_IO_SQ: self._create_sq,
            AdminOpcode.DELETE_IO_SQ: self._delete_sq,
            AdminOpcode.DELETE_IO_CQ: self._delete_cq,
            AdminOpcode.SET_FEATURES: self._set_features,
            AdminOpcode.GET_FEATURES: self._get_features,
        }
        self.reset()

    def reset(self) -> None:
        """Controller reset: no I/O queue exists, every feature is back to its default, and the allocation
        of queues back to the controller's share of the pool."""
        self.cqs: dict[int, CreateCq] = {}
        self.sqs: dict[int, CreateSq] = {}
        self.budget.reset(self.controller)
        self.features = self._default_features()

    def _default_features(self) -> _Features:
        pairs = self.budget.allocations[self.controller]
        return _Features(nsqa=pairs - 1, ncqa=pairs - 1)

    def default_actions(self) -> tuple[HardwareAction, ...]:
        """Hardware writes that put the feature registers back to the defaults after a reset."""
        return ((ProgramArbitration(0), ProgramCoalescing(0))
                + tuple(ProgramCoalescingDisable(v, False) for v in range(1, self.vectors)))

    def cq_of(self, sqid: int) -> int | None:
        """The CQ an SQ posts to; None if the SQ does not exist."""
        if sqid == ADMIN_QID:
            return ADMIN_QID
        sq = self.sqs.get(sqid)
        return sq.cqid if sq else None

    def execute(self, sqe: SubmissionEntry) -> AdminResult:
        handler = self._handlers.get(sqe.opcode)
        if handler is None:
            return error(GenericStatus.INVALID_OPCODE)
        return handler(sqe)

    # queues

    def _check_new_queue(self, qid: int, qsize: int, allocated: int, existing: dict, sqe: SubmissionEntry,
                         pc: bool) -> AdminResult | None:
        if qid == ADMIN_QID or qid > allocated + 1 or qid in existing:
            return error(CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)
        if qsize == 0 or qsize > self.mqes:
            return error(CommandSpecificStatus.INVALID_QUEUE_SIZE)
        if not pc:  # CAP.CQR = 1: queues must be physically contiguous
            return error(GenericStatus.INVALID_FIELD)
        if sqe.prp1 % PAGE_SIZE:
            return error(GenericStatus.PRP_OFFSET_INVALID)
        return None

    def _create_cq(self, sqe: SubmissionEntry) -> AdminResult:
        qsize, qid = qsize_qid(sqe.cdw10)
        flags = CreateCqFlags.decode(sqe.cdw11)
        failed = self._check_new_queue(qid, qsize, self.features.ncqa, self.cqs, sqe, flags.pc)
        if failed:
            return failed
        if flags.iv >= self.vectors:
            return error(CommandSpecificStatus.INVALID_INTERRUPT_VECTOR)
        cq = CreateCq(qid, sqe.prp1, qsize, flags.iv, flags.ien)
        self.cqs[qid] = cq
        return AdminResult(SUCCESS, actions=(cq,))

    def _create_sq(self, sqe: SubmissionEntry) -> AdminResult:
        qsize, qid = qsize_qid(sqe.cdw10)
        flags = CreateSqFlags.decode(sqe.cdw11)
        failed = self._check_new_queue(qid, qsize, self.features.nsqa, self.sqs, sqe, flags.pc)
        if failed:
            return failed
        if flags.cqid not in self.cqs:  # includes CQID 0: an I/O SQ never posts to the admin CQ
            return error(CommandSpecificStatus.COMPLETION_QUEUE_INVALID)
        sq = CreateSq(qid, sqe.prp1, qsize, flags.cqid, flags.qprio)
        self.sqs[qid] = sq
        return AdminResult(SUCCESS, actions=(sq,))

    def _delete_sq(self, sqe: SubmissionEntry) -> AdminResult:
        qid = sqe.cdw10 & 0xFFFF
        if qid not in self.sqs:
            return error(CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)
        del self.sqs[qid]
        return AdminResult(SUCCESS, actions=(DeleteSq(qid),))

    def _delete_cq(self, sqe: SubmissionEntry) -> AdminResult:
        qid = sqe.cdw10 & 0xFFFF
        if qid not in self.cqs:
            return error(CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)
        if any(sq.cqid == qid for sq in self.sqs.values()):
            return error(CommandSpecificStatus.INVALID_QUEUE_DELETION)
        del self.cqs[qid]
        return AdminResult(SUCCESS, actions=(DeleteCq(qid),))

    # features

    def _set_features(self, sqe: SubmissionEntry) -> AdminResult:
        fid = sqe.cdw10 & 0xFF
        if sqe.cdw10 >> 31:
            return error(CommandSpecificStatus.FEATURE_NOT_SAVEABLE)
        cdw11 = sqe.cdw11
        f = self.features
        if fid == FeatureId.NUMBER_OF_QUEUES:
            nsqr, ncqr = cdw11 & 0xFFFF, cdw11 >> 16
            if nsqr == 0xFFFF or ncqr == 0xFFFF:
                return error(GenericStatus.INVALID_FIELD)
            if self.sqs or self.cqs:  # only before any I/O queue exists (5.21.1.7)
                return error(GenericStatus.COMMAND_SEQUENCE_ERROR)
            pairs = self.budget.grant(self.controller, max(nsqr, ncqr) + 1)
            f.nsqa = min(nsqr, pairs - 1)
            f.ncqa = min(ncqr, pairs - 1)
            return AdminResult(SUCCESS, num_queues_dword(f.nsqa, f.ncqa))
        if fid == FeatureId.ARBITRATION:
            f.arbitration = cdw11
            return AdminResult(SUCCESS, actions=(ProgramArbitration(cdw11),))
        if fid == FeatureId.INTERRUPT_COALESCING:
            f.coalescing = cdw11 & 0xFFFF
            return AdminResult(SUCCESS, actions=(ProgramCoalescing(f.coalescing),))
        if fid == FeatureId.INTERRUPT_VECTOR_CONFIG:
            iv, cd = cdw11 & 0xFFFF, bool(cdw11 >> 16 & 1)
            # the admin vector is never coalesced, so it cannot be configured to be
            if iv >= self.vectors or (iv == 0 and not cd):
                return error(GenericStatus.INVALID_FIELD)
            f.coalescing_disabled = f.coalescing_disabled | {iv} if cd else f.coalescing_disabled - {iv}
            return AdminResult(SUCCESS, actions=(ProgramCoalescingDisable(iv, cd),))
        return error(GenericStatus.INVALID_FIELD)

    def _get_features(self, sqe: SubmissionEntry) -> AdminResult:
        fid = sqe.cdw10 & 0xFF
        sel = sqe.cdw10 >> 8 & 0x7
        if sel > GetFeaturesSelect.SUPPORTED_CAPABILITIES:
            return error(GenericStatus.INVALID_FIELD)
        # nothing is saveable, so the saved value is the default (5.9.2)
        f = self.features if sel == GetFeaturesSelect.CURRENT else self._default_features()
        if fid == FeatureId.INTERRUPT_VECTOR_CONFIG:
            iv = sqe.cdw11 & 0xFFFF
            if iv >= self.vectors:
                return error(GenericStatus.INVALID_FIELD)
            value = vector_config_dword(iv, iv == 0 or iv in f.coalescing_disabled)
        elif fid == FeatureId.NUMBER_OF_QUEUES:
            value = num_queues_dword(f.nsqa, f.ncqa)
        elif fid == FeatureId.ARBITRATION:
            value = f.arbitration
        elif fid == FeatureId.INTERRUPT_COALESCING:
            value = f.coalescing
        else:
            return error(GenericStatus.INVALID_FIELD)
        if sel == GetFeaturesSelect.SUPPORTED_CAPABILITIES:
            value = FEATURE_CHANGEABLE
        return AdminResult(SUCCESS, value)
