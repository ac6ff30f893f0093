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
from pyuvm import ConfigDB, uvm_subscriber

from models.identify import ControllerConfig
from models.key_value import KvOpcode
from models.nvme_spec import AdminOpcode, CompletionEntry, Csi, GenericStatus, NvmOpcode, StatusCodeType
from models.open_channel import OcOpcode
from models.zoned import ZnsOpcode
from tb.scoreboards import ADMIN_QID, CqeReaped, QueueEvent, SqeSubmitted

COVERAGE_DIR = Path(__file__).resolve().parent.parent / "build" / "coverage"
# the hard IP's four physical functions, one controller each: the same bins in every build, so that the
# runs of all builds merge (a one-function build leaves functions 1 to 3 to the four-function build's runs)
FUNCTIONS = [0, 1, 2, 3]

ADMIN_OPCODES = [int(op) for op in (AdminOpcode.CREATE_IO_CQ, AdminOpcode.CREATE_IO_SQ, AdminOpcode.DELETE_IO_SQ,
                                    AdminOpcode.DELETE_IO_CQ, AdminOpcode.SET_FEATURES, AdminOpcode.GET_FEATURES,
                                    AdminOpcode.NS_MANAGEMENT, AdminOpcode.NS_ATTACHMENT,
                                    AdminOpcode.DOORBELL_BUFFER_CONFIG)]
STATUS_KINDS = ["success", "generic error", "command specific"]
# the statuses each of these commands completes with here, each a bin of the command's own cover point; a
# key is (None, admin opcode) or (the command set of the namespace named, I/O opcode), since I/O opcodes mean
# different commands in different sets (Namespace Is Private needs a second controller); an open-channel
# namespace, in the NVM set, has its own key for its vendor-specific vector commands and chunk rules
ADMIN = None
OPEN_CHANNEL = "ocssd"
Scope = Csi | str | None
_NAMESPACE_STATUSES = ["SUCCESS", "INVALID_FIELD", "INVALID_NAMESPACE_OR_FORMAT"]
_ZONE_STATE_STATUSES = ["ZONE_IS_FULL", "ZONE_IS_READ_ONLY", "ZONE_IS_OFFLINE"]
_CHUNK_STATUSES = ["SUCCESS", "INVALID_FIELD", "LBA_OUT_OF_RANGE"]
COMMAND_STATUSES: dict[tuple[Scope, int], list[str]] = {
    (ADMIN, AdminOpcode.NS_MANAGEMENT): _NAMESPACE_STATUSES + [
        "INVALID_FORMAT", "NAMESPACE_INSUFFICIENT_CAPACITY", "NAMESPACE_ID_UNAVAILABLE",
        "THIN_PROVISIONING_NOT_SUPPORTED"],
    (ADMIN, AdminOpcode.NS_ATTACHMENT): _NAMESPACE_STATUSES + [
        "NAMESPACE_ALREADY_ATTACHED", "NAMESPACE_NOT_ATTACHED", "CONTROLLER_LIST_INVALID"],
    (ADMIN, AdminOpcode.DOORBELL_BUFFER_CONFIG): ["SUCCESS", "INVALID_FIELD"],
    (Csi.NVM, NvmOpcode.VERIFY): _NAMESPACE_STATUSES + ["LBA_OUT_OF_RANGE"],
    (Csi.NVM, NvmOpcode.COPY): _NAMESPACE_STATUSES + ["COMMAND_SIZE_LIMIT_EXCEEDED", "LBA_OUT_OF_RANGE",
                                                      "PRP_OFFSET_INVALID"],
    (Csi.ZONED, NvmOpcode.WRITE): ["SUCCESS", "ZONE_INVALID_WRITE", "ZONE_BOUNDARY_ERROR", *_ZONE_STATE_STATUSES,
                                   "TOO_MANY_ACTIVE_ZONES", "TOO_MANY_OPEN_ZONES"],
    (Csi.ZONED, ZnsOpcode.ZONE_APPEND): ["SUCCESS", "INVALID_OPCODE", "INVALID_FIELD", "LBA_OUT_OF_RANGE",
                                         "ZONE_BOUNDARY_ERROR", *_ZONE_STATE_STATUSES],
    (Csi.ZONED, ZnsOpcode.ZONE_MGMT_SEND): ["SUCCESS", "INVALID_OPCODE", "INVALID_FIELD", "LBA_OUT_OF_RANGE",
                                            "INVALID_ZONE_STATE_TRANSITION", "TOO_MANY_OPEN_ZONES",
                                            "TOO_MANY_ACTIVE_ZONES"],
    (Csi.ZONED, ZnsOpcode.ZONE_MGMT_RECV): ["SUCCESS", "INVALID_OPCODE", "INVALID_FIELD", "LBA_OUT_OF_RANGE"],
    (Csi.KEY_VALUE, KvOpcode.STORE): ["SUCCESS", "INVALID_OPCODE", "INVALID_FIELD", "KV_INVALID_KEY_SIZE",
                                      "KV_INVALID_VALUE_SIZE", "KV_KEY_DOES_NOT_EXIST", "KV_KEY_EXISTS",
                                      "CAPACITY_EXCEEDED", "PRP_OFFSET_INVALID"],
    (Csi.KEY_VALUE, KvOpcode.RETRIEVE): ["SUCCESS", "INVALID_FIELD", "KV_INVALID_KEY_SIZE",
                                         "KV_KEY_DOES_NOT_EXIST"],
    (Csi.KEY_VALUE, KvOpcode.LIST): ["SUCCESS", "INVALID_FIELD", "KV_INVALID_KEY_SIZE"],
    (Csi.KEY_VALUE, KvOpcode.DELETE): ["SUCCESS", "KV_INVALID_KEY_SIZE", "KV_KEY_DOES_NOT_EXIST"],
    (Csi.KEY_VALUE, KvOpcode.EXIST): ["SUCCESS", "KV_INVALID_KEY_SIZE", "KV_KEY_DOES_NOT_EXIST"],
    (OPEN_CHANNEL, OcOpcode.VECTOR_WRITE): _CHUNK_STATUSES + ["WRITE_FAULT", "OCSSD_OUT_OF_ORDER_WRITE"],
    (OPEN_CHANNEL, OcOpcode.VECTOR_READ): _CHUNK_STATUSES + ["DATA_TRANSFER_ERROR"],
    (OPEN_CHANNEL, OcOpcode.VECTOR_RESET): _CHUNK_STATUSES + ["OCSSD_OFFLINE_CHUNK", "OCSSD_INVALID_RESET"],
    (OPEN_CHANNEL, OcOpcode.VECTOR_COPY): ["SUCCESS", "OCSSD_OUT_OF_ORDER_WRITE"],
    (OPEN_CHANNEL, NvmOpcode.WRITE): ["SUCCESS", "OCSSD_OUT_OF_ORDER_WRITE"],
    (OPEN_CHANNEL, NvmOpcode.WRITE_ZEROES): ["INVALID_OPCODE"],
}
_SET_NAMES = {Csi.NVM: ("", NvmOpcode), Csi.ZONED: ("zoned.", ZnsOpcode), Csi.KEY_VALUE: ("kv.", KvOpcode),
              OPEN_CHANNEL: ("ocssd.", OcOpcode)}
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
@CoverCross("nvme.admin.opcode_x_status", items=["nvme.admin.opcode", "nvme.admin.status"],
            ign_bins=[(AdminOpcode.DOORBELL_BUFFER_CONFIG.name, "command specific")])   # it has no such status
def sample_admin(opcode: int, kind: str) -> None:
    """An admin command completed with a status of that kind."""


def _status_point(scope: Scope, opcode: int, bins: list[str]) -> Callable[[str], None]:
    if scope is ADMIN:
        name = AdminOpcode(opcode).name.lower()
    else:
        prefix, opcodes = _SET_NAMES[scope]
        name = prefix + (opcodes(opcode) if opcode in set(opcodes) else NvmOpcode(opcode)).name.lower()

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


@CoverPoint("nvme.function.io", xf=lambda function, kind: function, bins=FUNCTIONS)
@CoverPoint("nvme.function.io_status", xf=lambda function, kind: kind, bins=STATUS_KINDS)
@CoverCross("nvme.function.io_x_status", items=["nvme.function.io", "nvme.function.io_status"])
def sample_function_io(function: int, kind: str) -> None:
    """An I/O command of that function's controller completed."""


@CoverPoint("nvme.function.msix", xf=lambda function: function, bins=FUNCTIONS)
def sample_function_msix(function: int) -> None:
    """An MSI-X message of that function."""


class QueueCoverage(uvm_subscriber):
    """Samples the cover points from one function's queue events, MSI-X messages and mask changes."""

    def __init__(self, name: str, parent, function: int = 0) -> None:
        super().__init__(name, parent)
        self.function = function

    def build_phase(self) -> None:
        config: ControllerConfig = ConfigDB().get(self, "", "CONTROLLER_CONFIG")
        # the command set of each namespace configured (those Namespace Management creates are NVM)
        self.command_set: dict[int, Scope] = {ns.nsid: OPEN_CHANNEL if ns.chunks is not None else ns.csi
                                              for ns in config.namespaces}
        self.pending_admin: dict[int, int] = {}
        self.pending_io: dict[tuple[int, int], tuple[Scope, int]] = {}    # commands with a status cover point
        self.cq_sizes: dict[int, int] = {}
        self.masked: set[int] = set()
        self.pended: set[int] = set()

    def write(self, event: QueueEvent) -> None:
        if isinstance(event, SqeSubmitted):
            if event.sqid == ADMIN_QID:
                self.pending_admin[event.sqe.cid] = event.sqe.opcode
                if event.sqe.opcode == AdminOpcode.CREATE_IO_CQ:
                    self.cq_sizes[event.sqe.cdw10 & 0xFFFF] = (event.sqe.cdw10 >> 16) + 1
            elif (key := (self.command_set.get(event.sqe.nsid, Csi.NVM), event.sqe.opcode)) in STATUS_POINTS:
                self.pending_io[(event.sqid, event.sqe.cid)] = key
        elif isinstance(event, CqeReaped):
            if event.cqid == ADMIN_QID:
                opcode = self.pending_admin.pop(event.cqe.cid, None)
                if opcode is not None:
                    sample_admin(opcode, status_kind(event.cqe))
                point = STATUS_POINTS.get((ADMIN, opcode))
            else:
                sample_io(status_kind(event.cqe))
                sample_function_io(self.function, status_kind(event.cqe))
                point = STATUS_POINTS.get(self.pending_io.pop((event.cqe.sq_id, event.cqe.cid), None))
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
        sample_function_msix(self.function)
        self.pended.discard(vector)

    def report_phase(self) -> None:
        # the run's directory names the module and its build (build/runs/<module>[@variant])
        COVERAGE_DIR.mkdir(parents=True, exist_ok=True)
        coverage_db.export_to_xml(filename=str(COVERAGE_DIR / f"{Path.cwd().name}.xml"))
