"""pyuvm monitors and scoreboards for queues and interrupts.

``QueueMonitor`` is a queue observer (tb.nvme_queues) that publishes every
SQE the host submits and every CQE it reaps. ``CompletionScoreboard`` learns
the queues from the Create/Delete commands that complete successfully (not
from the host's own state) and checks each CQE with
models.completion_check.CompletionChecker. ``InterruptScoreboard`` sees CQE
writes on RQ (through the PCIe TB's tap), MSI-X messages and mask changes,
and checks them with models.interrupt_check.InterruptChecker.
"""

from __future__ import annotations

from dataclasses import dataclass

from cocotb.utils import get_sim_time
from pyuvm import ConfigDB, uvm_analysis_port, uvm_component, uvm_subscriber

from models.completion_check import CompletionChecker
from models.interrupt_check import InterruptChecker
from models.nvme_spec import AdminOpcode, CompletionEntry, CreateCqFlags, CreateSqFlags, FeatureId, SubmissionEntry

ADMIN_QID = 0


@dataclass(frozen=True)
class SqeSubmitted:
    sqid: int
    sqe: SubmissionEntry


@dataclass(frozen=True)
class CqeReaped:
    cqid: int
    cqe: CompletionEntry


@dataclass(frozen=True)
class AdminQueueCreated:
    """The host set up the admin queue and enables the controller with CC.CSS ``css``."""

    sq_size: int
    cq_size: int
    cq_addr: int
    css: int


@dataclass(frozen=True)
class ControllerReset:
    """The host cleared CC.EN: every queue and outstanding command is gone."""


QueueEvent = SqeSubmitted | CqeReaped | AdminQueueCreated | ControllerReset


class QueueMonitor(uvm_component):
    """Host-queue observer that publishes queue events on ``ap``."""

    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)

    def submitted(self, sqid: int, sqe: SubmissionEntry) -> None:
        self.ap.write(SqeSubmitted(sqid, sqe))

    def completed(self, cqid: int, cqe: CompletionEntry) -> None:
        self.ap.write(CqeReaped(cqid, cqe))

    def admin_created(self, sq_size: int, cq_size: int, cq_addr: int, css: int) -> None:
        self.ap.write(AdminQueueCreated(sq_size, cq_size, cq_addr, css))

    def controller_reset(self) -> None:
        self.ap.write(ControllerReset())


@dataclass
class CqInfo:
    """A CQ as the scoreboards learned it from its Create I/O CQ command."""

    addr: int
    size: int
    vector: int
    ien: bool


class AdminTracker:
    """Follows admin commands to their completion and applies the successful ones."""

    def __init__(self) -> None:
        self.pending: dict[int, SubmissionEntry] = {}

    def on_event(self, event: QueueEvent) -> SubmissionEntry | None:
        """Return the admin SQE that this event completed successfully, if any."""
        if isinstance(event, SqeSubmitted) and event.sqid == ADMIN_QID:
            self.pending[event.sqe.cid] = event.sqe
        elif isinstance(event, CqeReaped) and event.cqid == ADMIN_QID:
            sqe = self.pending.pop(event.cqe.cid, None)
            if sqe is not None and event.cqe.status.is_success:
                return sqe
        elif isinstance(event, ControllerReset):
            self.pending.clear()
        return None


class CompletionScoreboard(uvm_subscriber):
    """Every reaped CQE checked: CID, SQ id, CQ mapping, SQ head, phase, status."""

    def build_phase(self) -> None:
        # a test may override the reference model's predictions (its self-test does)
        override = ConfigDB().get(self, "", "EXPECTED_STATUS")
        reference = ConfigDB().get(self, "", "REFERENCE")
        self.checker = CompletionChecker(override if override is not None else reference.expected_status)
        self.admin = AdminTracker()
        self.cq_of_sq: dict[int, int] = {}

    def write(self, event: QueueEvent) -> None:
        if isinstance(event, AdminQueueCreated):
            self.checker.cq_created(ADMIN_QID, event.cq_size)
            self.checker.sq_created(ADMIN_QID, event.sq_size)
            self.cq_of_sq[ADMIN_QID] = ADMIN_QID
        elif isinstance(event, ControllerReset):
            self.checker.controller_reset()
            self.cq_of_sq.clear()
        elif isinstance(event, SqeSubmitted):
            self.checker.submitted(event.sqid, event.sqe.cid)
        elif isinstance(event, CqeReaped):
            sqids = [sq for sq, cq in self.cq_of_sq.items() if cq == event.cqid]
            self.checker.completed(event.cqid, event.cqe, sqids)
        done = self.admin.on_event(event)
        if done is not None:
            self._apply(done)

    def _apply(self, sqe: SubmissionEntry) -> None:
        qid, qsize = sqe.cdw10 & 0xFFFF, sqe.cdw10 >> 16
        if sqe.opcode == AdminOpcode.CREATE_IO_CQ:
            self.checker.cq_created(qid, qsize + 1)
        elif sqe.opcode == AdminOpcode.CREATE_IO_SQ:
            self.checker.sq_created(qid, qsize + 1)
            self.cq_of_sq[qid] = CreateSqFlags.decode(sqe.cdw11).cqid
        elif sqe.opcode == AdminOpcode.DELETE_IO_SQ:
            self.checker.sq_deleted(qid)
            self.cq_of_sq.pop(qid, None)
        elif sqe.opcode == AdminOpcode.DELETE_IO_CQ:
            self.checker.cq_deleted(qid)

    def check_phase(self) -> None:
        self.checker.final_check()
        self.logger.info("completion scoreboard: %d CQEs checked", self.checker.checked)


class InterruptScoreboard(uvm_subscriber):
    """MSI-X messages against CQE writes, masking and coalescing.

    CQE writes are recognised by address as they reach the root complex, in
    the order the host sees them and the MSI-X messages: a memory write into
    a CQ ring the scoreboard learned from the admin queue setup or a
    successful Create I/O CQ, by the function whose scoreboard this is (under
    an IOMMU each function's bus addresses are its own, and two functions may
    use the same one).
    """

    def __init__(self, name: str, parent, function: int = 0) -> None:
        super().__init__(name, parent)
        self.function = function

    def build_phase(self) -> None:
        self.checker = InterruptChecker()
        self.admin = AdminTracker()
        self.cqs: dict[int, CqInfo] = {}

    def write(self, event: QueueEvent) -> None:
        if isinstance(event, AdminQueueCreated):
            self.cqs[ADMIN_QID] = CqInfo(event.cq_addr, event.cq_size, 0, True)
        elif isinstance(event, ControllerReset):
            self.cqs.clear()
            self.checker.controller_reset()
        done = self.admin.on_event(event)
        if done is None:
            return
        qid = done.cdw10 & 0xFFFF
        if done.opcode == AdminOpcode.CREATE_IO_CQ:
            flags = CreateCqFlags.decode(done.cdw11)
            self.cqs[qid] = CqInfo(done.prp1, (done.cdw10 >> 16) + 1, flags.iv, flags.ien)
        elif done.opcode == AdminOpcode.DELETE_IO_CQ:
            self.cqs.pop(qid, None)
        elif done.opcode == AdminOpcode.SET_FEATURES:
            fid = done.cdw10 & 0xFF
            if fid == FeatureId.INTERRUPT_COALESCING:
                self.checker.set_coalescing(done.cdw11 & 0xFF, (done.cdw11 >> 8) & 0xFF)
            elif fid == FeatureId.INTERRUPT_VECTOR_CONFIG:
                self.checker.set_coalescing_disabled(done.cdw11 & 0xFFFF, bool(done.cdw11 >> 16 & 1))

    def host_write(self, tlp, time_ns: int) -> None:
        """A memory write reaching the root complex: a CQE write raises its CQ's vector."""
        if not tlp.fmt_type.name.startswith("MEM_WRITE") or tlp.requester_id.function != self.function:
            return
        for cqid, cq in self.cqs.items():
            if cq.ien and cq.addr <= tlp.address < cq.addr + 16 * cq.size:
                self.checker.cqe_posted(cqid, cq.vector, time_ns)

    def msix(self, vector: int, time_ns: int) -> None:
        self.checker.msix(vector, time_ns)

    def mask(self, vector: int, masked: bool) -> None:
        self.checker.mask(vector, masked, int(get_sim_time("ns")))

    def check_phase(self) -> None:
        self.checker.final_check(int(get_sim_time("ns")))
        assert self.checker.messages_checked > 0, "interrupt scoreboard saw no MSI-X message"
        self.logger.info("interrupt scoreboard: %d messages checked", self.checker.messages_checked)
