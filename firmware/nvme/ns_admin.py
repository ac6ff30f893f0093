"""Namespace Management (0Dh) and Namespace Attachment (15h) in the firmware.

Checks, in this order (the reference model's order, models.nvme_model):

* from the SQE, before any data moves: SEL other than create/delete or
  attach/detach is Invalid Field; a create with an NSID or a command set
  other than NVM is Invalid Field; a delete or an attachment names an
  invalid NSID (0, beyond NN; FFFFFFFFh too for an attachment, while a
  delete of FFFFFFFFh deletes them all): Invalid Namespace or Format; an
  unallocated one: Invalid Field;
* then ``data_length`` asks for the data (4 KiB) and the loop fetches it;
* create: an LBA format not offered is Invalid Format; NSZE 0, NCAP above
  NSZE, protection information, or NMIC other than 0 (or 1, a shared
  namespace, in a subsystem of several controllers: CMIC bit 1) is Invalid
  Field; NCAP below NSZE is Thin Provisioning Not Supported; no free NSID is
  Namespace Identifier Unavailable; too few free allocation units is
  Namespace Insufficient Capacity;
* attachment: a list that is empty, repeats an identifier or names a
  controller the subsystem lacks is Controller List Invalid; then Namespace
  Already Attached / Namespace Not Attached if any listed controller is
  already in the asked state; then, for an attach of a private namespace to
  more than one controller or to another while it is attached, Namespace Is
  Private. A failed command changes nothing.

Every controller whose attachment a command changed (a delete: every
controller the namespace was attached to) gets Namespace Attribute Changed,
the controller that processed it included (as QEMU does; Linux also rescans
on the command's effects). A deleted namespace's blocks are trimmed before
the command completes, so a namespace created there later reads zeroes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from firmware.nvme.outcome import failure
from firmware.nvme.namespaces import Changes, Extent, NamespaceTable
from models.identify import (LBA_FORMATS, NMIC_SHARED, NSID_BROADCAST, ControllerConfig, IdentifyNamespace,
                             parse_controller_list)
from models.nvme_commands import NS_DATA_SIZE, NsAttachmentSel, NsManagementSel, csi_of, sel_of
from models.nvme_spec import SUCCESS, AdminOpcode, CommandSpecificStatus, GenericStatus, Status, SubmissionEntry

CSI_NVM = 0


@dataclass(frozen=True)
class NsOutcome:
    status: Status
    dw0: int = 0
    changed: Changes = field(default_factory=dict)   # per controller, the NSIDs whose attachment changed
    freed: tuple[Extent, ...] = ()    # back-end byte ranges a delete released, to trim


class NamespaceCommands:
    """Namespace Management and Attachment over the subsystem's ``NamespaceTable``."""

    def __init__(self, config: ControllerConfig, table: NamespaceTable) -> None:
        self.config = config
        self.table = table

    def data_length(self, sqe: SubmissionEntry) -> int:
        """Bytes of host data the command takes: 4 KiB for a create or an attachment whose SQE passed its
        checks, else 0 (it fails, or needs none)."""
        if self._sqe_check(sqe) is not None:
            return 0
        takes = sqe.opcode == AdminOpcode.NS_ATTACHMENT or sel_of(sqe) == NsManagementSel.CREATE
        return NS_DATA_SIZE if takes else 0

    def execute(self, sqe: SubmissionEntry, data: bytes) -> NsOutcome:
        if (refused := self._sqe_check(sqe)) is not None:
            return NsOutcome(refused)
        if sqe.opcode == AdminOpcode.NS_ATTACHMENT:
            return self._attachment(sqe, data)
        if sel_of(sqe) == NsManagementSel.CREATE:
            return self._create(data)
        return self._delete(sqe.nsid)

    def _sqe_check(self, sqe: SubmissionEntry) -> Status | None:
        sel, nsid = sel_of(sqe), sqe.nsid
        if sqe.opcode == AdminOpcode.NS_MANAGEMENT:
            if sel not in set(NsManagementSel):
                return failure(GenericStatus.INVALID_FIELD)
            if sel == NsManagementSel.CREATE:
                return failure(GenericStatus.INVALID_FIELD) if nsid or csi_of(sqe) != CSI_NVM else None
            if nsid == NSID_BROADCAST:
                return None
        elif sel not in set(NsAttachmentSel):
            return failure(GenericStatus.INVALID_FIELD)
        if not self.config.valid_nsid(nsid):
            return failure(GenericStatus.INVALID_NAMESPACE_OR_FORMAT)
        if self.table.allocated(nsid) is None:
            return failure(GenericStatus.INVALID_FIELD)
        return None

    def _create(self, data: bytes) -> NsOutcome:
        asked = IdentifyNamespace.unpack(data)
        if asked.format_index >= len(LBA_FORMATS):
            return NsOutcome(failure(CommandSpecificStatus.INVALID_FORMAT))
        shareable = NMIC_SHARED if self.config.multi_controller else 0
        if asked.nsze == 0 or asked.ncap > asked.nsze or asked.dps or asked.nmic & ~shareable:
            return NsOutcome(failure(GenericStatus.INVALID_FIELD))
        if asked.ncap < asked.nsze:
            return NsOutcome(failure(CommandSpecificStatus.THIN_PROVISIONING_NOT_SUPPORTED))
        if self.table.free_nsid() is None:
            return NsOutcome(failure(CommandSpecificStatus.NAMESPACE_ID_UNAVAILABLE))
        lba_size = LBA_FORMATS[asked.format_index].lba_size
        if self.config.units(asked.nsze * lba_size) > self.table.free_units():
            return NsOutcome(failure(CommandSpecificStatus.NAMESPACE_INSUFFICIENT_CAPACITY))
        ns = self.table.create(asked.nsze, lba_size, shared=bool(asked.nmic & NMIC_SHARED))
        return NsOutcome(SUCCESS, dw0=ns.nsid)

    def _delete(self, nsid: int) -> NsOutcome:
        nsids = self.table.allocated_ids() if nsid == NSID_BROADCAST else [nsid]
        changed: dict[int, list[int]] = {}
        for n in nsids:
            for cntlid in sorted(self.table.controllers(n)):
                changed.setdefault(cntlid, []).append(n)
        freed = tuple(extent for n in nsids for extent in self.table.delete(n))
        return NsOutcome(SUCCESS, changed={c: tuple(n) for c, n in changed.items()}, freed=freed)

    def _attachment(self, sqe: SubmissionEntry, data: bytes) -> NsOutcome:
        ids = parse_controller_list(data)
        if not ids or len(set(ids)) != len(ids) or not set(ids) <= set(self.config.controllers):
            return NsOutcome(failure(CommandSpecificStatus.CONTROLLER_LIST_INVALID))
        attached = self.table.controllers(sqe.nsid)
        if sel_of(sqe) == NsAttachmentSel.ATTACH:
            if attached & set(ids):
                return NsOutcome(failure(CommandSpecificStatus.NAMESPACE_ALREADY_ATTACHED))
            ns = self.table.allocated(sqe.nsid)
            assert ns is not None
            if not ns.shared and (len(ids) > 1 or attached):
                return NsOutcome(failure(CommandSpecificStatus.NAMESPACE_IS_PRIVATE))
            for cntlid in ids:
                self.table.attach(sqe.nsid, cntlid)
        else:
            if set(ids) - attached:
                return NsOutcome(failure(CommandSpecificStatus.NAMESPACE_NOT_ATTACHED))
            for cntlid in ids:
                self.table.detach(sqe.nsid, cntlid)
        return NsOutcome(SUCCESS, changed={cntlid: (sqe.nsid,) for cntlid in sorted(ids)})
