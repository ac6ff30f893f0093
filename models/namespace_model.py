"""The reference model's reading of namespace management: what Namespace Management, Namespace
Attachment and the namespace Identify CNS values complete with.

Written from the spec apart from the firmware (firmware/nvme/ns_admin.py),
in the check order documented there. It counts allocation units; where a
namespace's units lie in the back end is the firmware's business, not a
prediction. The subsystem has one controller (``ControllerConfig.cntlid``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from models.identify import (IDENTIFY_SIZE, LBA_FORMATS, NSID_BROADCAST, Cns, ControllerConfig, IdentifyNamespace,
                             NamespaceConfig, common_namespace_fields, controller_list, namespace_list,
                             parse_controller_list)
from models.nvme_commands import NS_DATA_SIZE, NsAttachmentSel, NsManagementSel, csi_of, sel_of
from models.nvme_spec import (SUCCESS, AdminOpcode, CommandSpecificStatus, GenericStatus, Status, StatusCode,
                              SubmissionEntry)


def _fail(code: StatusCode) -> Status:
    return Status.of(code, dnr=True)


@dataclass(frozen=True)
class NsChange:
    """What a namespace command did: its status and DW0, and the namespaces it made, removed or changed
    for this controller (for the data shadows and the Namespace Attribute Changed event)."""

    status: Status
    dw0: int = 0
    created: NamespaceConfig | None = None
    deleted: tuple[int, ...] = ()
    changed: tuple[int, ...] = ()


@dataclass
class NamespaceInventory:
    """Allocated namespaces, those attached to the controller, and the free allocation units."""

    config: ControllerConfig
    allocated: dict[int, NamespaceConfig] = field(init=False)
    attached: set[int] = field(init=False)
    free_units: int = field(init=False)
    _created: Counter[int] = field(init=False)

    def __post_init__(self) -> None:
        self.allocated = {ns.nsid: ns for ns in self.config.namespaces}
        self.attached = set(self.allocated)
        self._created = Counter(dict.fromkeys(self.allocated, 1))
        self.free_units = self.config.nvm_capacity // self.config.allocation_unit - sum(
            self.config.units(ns.size) for ns in self.allocated.values())

    def active(self, nsid: int) -> NamespaceConfig | None:
        return self.allocated.get(nsid) if nsid in self.attached else None

    def inactive_status(self, nsid: int) -> Status:
        """For a command naming a namespace not active here: inactive (1..NN) or invalid."""
        return _fail(GenericStatus.INVALID_FIELD if self.config.valid_nsid(nsid)
                     else GenericStatus.INVALID_NAMESPACE_OR_FORMAT)

    # Identify

    def identify(self, sqe: SubmissionEntry) -> tuple[Status, bytes | None]:
        """Identify for the namespace and controller-list CNS values (00h, 02h, 03h, 10h-13h)."""
        cns, cntid, nsid = sqe.cdw10 & 0xFF, sqe.cdw10 >> 16, sqe.nsid
        me = self.config.cntlid
        if cns == Cns.CONTROLLERS:
            return SUCCESS, controller_list([me] if me >= cntid else [])
        if cns in (Cns.ACTIVE_NAMESPACES, Cns.ALLOCATED_NAMESPACES):
            if nsid >= NSID_BROADCAST - 1:
                return _fail(GenericStatus.INVALID_NAMESPACE_OR_FORMAT), None
            ids = self.attached if cns == Cns.ACTIVE_NAMESPACES else self.allocated
            return SUCCESS, namespace_list(list(ids), nsid)
        if cns == Cns.NAMESPACE and nsid == NSID_BROADCAST:
            return SUCCESS, common_namespace_fields().pack()
        if not self.config.valid_nsid(nsid):
            return _fail(GenericStatus.INVALID_NAMESPACE_OR_FORMAT), None
        if cns == Cns.NS_CONTROLLERS:
            return SUCCESS, controller_list([me] if nsid in self.attached and me >= cntid else [])
        ns = self.allocated.get(nsid) if cns == Cns.ALLOCATED_NAMESPACE else self.active(nsid)
        if cns == Cns.NS_DESCRIPTORS:
            return (SUCCESS, ns.descriptors()) if ns else (_fail(GenericStatus.INVALID_FIELD), None)
        return SUCCESS, ns.identify().pack() if ns else bytes(IDENTIFY_SIZE)

    # Namespace Management and Attachment

    def data_length(self, sqe: SubmissionEntry) -> int:
        """Host data the command reads: 4 KiB for a create or an attachment whose SQE fields pass."""
        if self._refused(sqe) is not None:
            return 0
        create = sqe.opcode == AdminOpcode.NS_MANAGEMENT and sel_of(sqe) == NsManagementSel.CREATE
        return NS_DATA_SIZE if create or sqe.opcode == AdminOpcode.NS_ATTACHMENT else 0

    def execute(self, sqe: SubmissionEntry, data: bytes) -> NsChange:
        if (refused := self._refused(sqe)) is not None:
            return NsChange(refused)
        if sqe.opcode == AdminOpcode.NS_ATTACHMENT:
            return self._attach(sqe.nsid, parse_controller_list(data), sel_of(sqe) == NsAttachmentSel.DETACH)
        if sel_of(sqe) == NsManagementSel.CREATE:
            return self._create(IdentifyNamespace.unpack(data))
        return self._delete(sorted(self.allocated) if sqe.nsid == NSID_BROADCAST else [sqe.nsid])

    def _refused(self, sqe: SubmissionEntry) -> Status | None:
        """The SQE-level checks, before any data is read."""
        sel = sel_of(sqe)
        management = sqe.opcode == AdminOpcode.NS_MANAGEMENT
        if sel > (NsManagementSel.DELETE if management else NsAttachmentSel.DETACH):
            return _fail(GenericStatus.INVALID_FIELD)
        if management and sel == NsManagementSel.CREATE:
            return _fail(GenericStatus.INVALID_FIELD) if sqe.nsid != 0 or csi_of(sqe) else None
        if management and sqe.nsid == NSID_BROADCAST:
            return None
        if not self.config.valid_nsid(sqe.nsid):
            return _fail(GenericStatus.INVALID_NAMESPACE_OR_FORMAT)
        return None if sqe.nsid in self.allocated else _fail(GenericStatus.INVALID_FIELD)

    def _create(self, asked: IdentifyNamespace) -> NsChange:
        if asked.format_index >= len(LBA_FORMATS):
            return NsChange(_fail(CommandSpecificStatus.INVALID_FORMAT))
        if not asked.nsze or asked.ncap > asked.nsze or asked.dps or asked.nmic:
            return NsChange(_fail(GenericStatus.INVALID_FIELD))
        if asked.ncap != asked.nsze:
            return NsChange(_fail(CommandSpecificStatus.THIN_PROVISIONING_NOT_SUPPORTED))
        free = [n for n in range(1, self.config.max_namespaces + 1) if n not in self.allocated]
        if not free:
            return NsChange(_fail(CommandSpecificStatus.NAMESPACE_ID_UNAVAILABLE))
        ns = NamespaceConfig(free[0], LBA_FORMATS[asked.format_index].lba_size, asked.nsze,
                             generation=self._created[free[0]])
        if self.config.units(ns.size) > self.free_units:
            return NsChange(_fail(CommandSpecificStatus.NAMESPACE_INSUFFICIENT_CAPACITY))
        self.allocated[ns.nsid] = ns
        self._created[ns.nsid] += 1
        self.free_units -= self.config.units(ns.size)
        return NsChange(SUCCESS, dw0=ns.nsid, created=ns)

    def _delete(self, nsids: list[int]) -> NsChange:
        changed = tuple(n for n in nsids if n in self.attached)
        for nsid in nsids:
            self.free_units += self.config.units(self.allocated.pop(nsid).size)
            self.attached.discard(nsid)
        return NsChange(SUCCESS, deleted=tuple(nsids), changed=changed)

    def _attach(self, nsid: int, ids: list[int], detach: bool) -> NsChange:
        if not ids or len(ids) != len(set(ids)) or set(ids) != {self.config.cntlid}:
            return NsChange(_fail(CommandSpecificStatus.CONTROLLER_LIST_INVALID))
        if detach and nsid not in self.attached:
            return NsChange(_fail(CommandSpecificStatus.NAMESPACE_NOT_ATTACHED))
        if not detach and nsid in self.attached:
            return NsChange(_fail(CommandSpecificStatus.NAMESPACE_ALREADY_ATTACHED))
        (self.attached.discard if detach else self.attached.add)(nsid)
        return NsChange(SUCCESS, changed=(nsid,))
