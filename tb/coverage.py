"""Functional coverage of the queue engine, with cocotb-coverage.

A pyuvm subscriber on the queue monitor's events and the MSI-X host samples
cover points; each simulation run exports its database to
build/coverage/<run>.xml (the run directory: module and build), and
tools/coverage_report.py merges them and
lists the bins never hit. Coverage reports; it does not fail a test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db
from pyuvm import uvm_subscriber

from models.nvme_spec import AdminOpcode, CompletionEntry, GenericStatus, NvmOpcode, StatusCodeType
from models.zoned import ZnsOpcode
from tb.scoreboards import ADMIN_QID, CqeReaped, QueueEvent, SqeSubmitted

COVERAGE_DIR = Path(__file__).resolve().parent.parent / "build" / "coverage"

ADMIN_OPCODES = [int(op) for op in (AdminOpcode.CREATE_IO_CQ, AdminOpcode.CREATE_IO_SQ, AdminOpcode.DELETE_IO_SQ,
                                    AdminOpcode.DELETE_IO_CQ, AdminOpcode.SET_FEATURES, AdminOpcode.GET_FEATURES,
                                    AdminOpcode.NS_MANAGEMENT, AdminOpcode.NS_ATTACHMENT)]
STATUS_KINDS = ["success", "generic error", "command specific"]
# the statuses each of these commands completes with here, each a bin of the command's own cover point
# (Namespace Is Private needs a second controller)
_NAMESPACE_STATUSES = ["SUCCESS", "INVALID_FIELD", "INVALID_NAMESPACE_OR_FORMAT"]
COMMAND_STATUSES: dict[tuple[bool, int], list[str]] = {
    (True, AdminOpcode.NS_MANAGEMENT): _NAMESPACE_STATUSES + [
        "INVALID_FORMAT", "NAMESPACE_INSUFFICIENT_CAPACITY", "NAMESPACE_ID_UNAVAILABLE",
        "THIN_PROVISIONING_NOT_SUPPORTED"],
    (True, AdminOpcode.NS_ATTACHMENT): _NAMESPACE_STATUSES + [
        "NAMESPACE_ALREADY_ATTACHED", "NAMESPACE_NOT_ATTACHED", "CONTROLLER_LIST_INVALID"],
    (False, NvmOpcode.VERIFY): _NAMESPACE_STATUSES + ["LBA_OUT_OF_RANGE"],
    (False, NvmOpcode.COPY): _NAMESPACE_STATUSES + ["COMMAND_SIZE_LIMIT_EXCEEDED", "LBA_OUT_OF_RANGE",
                                                    "PRP_OFFSET_INVALID"],
    # zoned namespaces: Write's zone statuses, and each zone command's
    (False, NvmOpcode.WRITE): ["SUCCESS", "ZONE_INVALID_WRITE", "ZONE_BOUNDARY_ERROR", "ZONE_IS_FULL",
                               "ZONE_IS_READ_ONLY", "ZONE_IS_OFFLINE", "TOO_MANY_ACTIVE_ZONES", "TOO_MANY_OPEN_ZONES"],
    (False, ZnsOpcode.ZONE_APPEND): ["SUCCESS", "INVALID_OPCODE", "INVALID_FIELD", "LBA_OUT_OF_RANGE",
                                     "ZONE_BOUNDARY_ERROR", "ZONE_IS_FULL", "ZONE_IS_READ_ONLY", "ZONE_IS_OFFLINE"],
    (False, ZnsOpcode.ZONE_MGMT_SEND): ["SUCCESS", "INVALID_OPCODE", "INVALID_FIELD", "LBA_OUT_OF_RANGE",
                                        "INVALID_ZONE_STATE_TRANSITION", "TOO_MANY_OPEN_ZONES",
                                        "TOO_MANY_ACTIVE_ZONES"],
    (False, ZnsOpcode.ZONE_MGMT_RECV): ["SUCCESS", "INVALID_OPCODE", "INVALID_FIELD", "LBA_OUT_OF_RANGE"],
}
SIZE_CLASSES = ["2", "3", "4-64", "65-4096"]
VECTOR_CLASSES = ["admin", "io"]


def status_kind(cqe: CompletionEntry) -> str:
    if cqe.status.sct == StatusCodeType.GENERIC and cqe.status.sc == GenericStatus.SUCCESS:
        return "success"
    return "generic error" if cqe.status.sct == StatusCodeType.GENERIC else "command specific"


def size_class(entries: int) -> str:
    if entries <= 3:
        return str(entries)
    return "4-64" if entries <= 64 else "65-4096"


@CoverPoint("nvme.admin.opcode", xf=lambda opcode, kind: opcode, bins=ADMIN_OPCODES,
            bins_labels=[AdminOpcode(op).name for op in ADMIN_OPCODES])
@CoverPoint("nvme.admin.status", xf=lambda opcode, kind: kind, bins=STATUS_KINDS)
@CoverCross("nvme.admin.opcode_x_status", items=["nvme.admin.opcode", "nvme.admin.status"])
def sample_admin(opcode: int, kind: str) -> None:
    """An admin command completed with a status of that kind."""


def _status_point(admin: bool, opcode: int, bins: list[str]) -> Callable[[str], None]:
    name = (AdminOpcode(opcode) if admin else NvmOpcode(opcode) if opcode in set(NvmOpcode)
            else ZnsOpcode(opcode)).name.lower()

    @CoverPoint(f"nvme.{name}.status", xf=lambda status: status, bins=bins)
    def sample(status: str) -> None:
        """The command completed with that status (its name)."""

    return sample


STATUS_POINTS = {key: _status_point(*key, bins) for key, bins in COMMAND_STATUSES.items()}


@CoverPoint("nvme.cq.wrap", xf=lambda size: size, bins=SIZE_CLASSES)
def sample_wrap(size: str) -> None:
    """A CQ of that size class wrapped (a CQE with phase 0 was reaped)."""


@CoverPoint("nvme.io.status", xf=lambda kind: kind, bins=STATUS_KINDS)
def sample_io(kind: str) -> None:
    """An I/O command completed."""


@CoverPoint("nvme.msix.vector", xf=lambda cls, pended: cls, bins=VECTOR_CLASSES)
@CoverPoint("nvme.msix.after_unmask", xf=lambda cls, pended: pended, bins=[False, True])
def sample_msix(cls: str, pended: bool) -> None:
    """An MSI-X message, and whether it had waited in the PBA while masked."""


class QueueCoverage(uvm_subscriber):
    """Samples the cover points from queue events, MSI-X messages and mask changes."""

    def build_phase(self) -> None:
        self.pending_admin: dict[int, int] = {}
        self.pending_io: dict[tuple[int, int], int] = {}    # commands with a status cover point
        self.cq_sizes: dict[int, int] = {}
        self.masked: set[int] = set()
        self.pended: set[int] = set()

    def write(self, event: QueueEvent) -> None:
        if isinstance(event, SqeSubmitted):
            if event.sqid == ADMIN_QID:
                self.pending_admin[event.sqe.cid] = event.sqe.opcode
                if event.sqe.opcode == AdminOpcode.CREATE_IO_CQ:
                    self.cq_sizes[event.sqe.cdw10 & 0xFFFF] = (event.sqe.cdw10 >> 16) + 1
            elif (False, event.sqe.opcode) in STATUS_POINTS:
                self.pending_io[(event.sqid, event.sqe.cid)] = event.sqe.opcode
        elif isinstance(event, CqeReaped):
            if event.cqid == ADMIN_QID:
                opcode = self.pending_admin.pop(event.cqe.cid, None)
                if opcode is not None:
                    sample_admin(opcode, status_kind(event.cqe))
                point = STATUS_POINTS.get((True, opcode))
            else:
                sample_io(status_kind(event.cqe))
                point = STATUS_POINTS.get((False, self.pending_io.pop((event.cqe.sq_id, event.cqe.cid), None)))
            if point is not None:
                point(event.cqe.status.name)
            if event.cqe.phase == 0 and event.cqid in self.cq_sizes:
                sample_wrap(size_class(self.cq_sizes[event.cqid]))

    def admin_queue(self, entries: int) -> None:
        self.cq_sizes[ADMIN_QID] = entries

    def mask(self, vector: int, masked: bool) -> None:
        if masked:
            self.masked.add(vector)
        elif vector in self.masked:
            self.masked.discard(vector)
            self.pended.add(vector)

    def msix(self, vector: int, time_ns: int) -> None:
        sample_msix("admin" if vector == 0 else "io", vector in self.pended)
        self.pended.discard(vector)

    def report_phase(self) -> None:
        # the run's directory names the module and its build (build/runs/<module>[@variant])
        COVERAGE_DIR.mkdir(parents=True, exist_ok=True)
        coverage_db.export_to_xml(filename=str(COVERAGE_DIR / f"{Path.cwd().name}.xml"))
