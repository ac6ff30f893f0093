"""The reference model's reading of the NVM subsystem's namespaces: which exist, which controllers each is
attached to, what each holds, and what Namespace Management, Namespace Attachment and the namespace
Identify CNS values complete with.

Written from the spec apart from the firmware (firmware/nvme/ns_admin.py),
in the check order documented there. It counts allocation units; where a
namespace's units lie in the back end is the firmware's business, not a
prediction. One inventory serves every controller's model
(``models.nvme_model.NvmeModel``); each registers how it is told of a
change to a namespace attached to it (``listen``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from models.identify import (IDENTIFY_SIZE, LBA_FORMATS, NMIC_SHARED, NSID_BROADCAST, Cns, ControllerConfig,
                             IdentifyNamespace, NamespaceConfig, common_namespace_fields, controller_list,
                             namespace_list, parse_controller_list)
from models.nvme_commands import NS_DATA_SIZE, NsAttachmentSel, NsManagementSel, csi_of, sel_of
from models.chunk_model import ChunkTracker
from models.zone_model import ZoneTracker
from models.nvme_spec import (SUCCESS, AdminOpcode, CommandSpecificStatus, GenericStatus, Status, StatusCode,
                              SubmissionEntry)


def _fail(code: StatusCode) -> Status:
    return Status.of(code, dnr=True)


class Shadow:
    """Expected contents of one namespace: LBAs never written or deallocated read as zeroes (DLFEAT); the
    zones of a zoned namespace; the pairs of a key-value one; the chunks of an open-channel one."""

    def __init__(self, ns: NamespaceConfig) -> None:
        self.ns = ns
        self._blocks: dict[int, bytes] = {}
        self.zones = ZoneTracker(ns.zones, ns.nlbas) if ns.zones is not None else None
        self.values: dict[bytes, bytes] = {}     # a key-value namespace's pairs
        self.chunks = ChunkTracker(ns.chunks) if ns.chunks is not None else None

    def blocks_of(self, size: int) -> int:
        """Logical blocks a key-value namespace spends on a value of ``size`` bytes."""
        return -(-size // self.ns.lba_size)

    def free_blocks(self) -> int:
        return self.ns.nlbas - sum(self.blocks_of(len(v)) for v in self.values.values())

    def read(self, slba: int, nlb: int) -> bytes:
        zero = bytes(self.ns.lba_size)
        return b"".join(self._blocks.get(lba, zero) for lba in range(slba, slba + nlb))

    def write(self, slba: int, data: bytes) -> None:
        size = self.ns.lba_size
        for i in range(len(data) // size):
            self._blocks[slba + i] = data[i * size:(i + 1) * size]

    def deallocate(self, slba: int, nlb: int) -> None:
        # a range may span the namespace (DSM takes 32-bit lengths): visit the fewer of the two
        lbas = range(slba, slba + nlb) if nlb <= len(self._blocks) else [
            lba for lba in self._blocks if slba <= lba < slba + nlb]
        for lba in lbas:
            self._blocks.pop(lba, None)

    def in_range(self, slba: int, nlb: int) -> bool:
        return slba + nlb <= self.ns.nlbas


class NamespaceInventory:
    """Allocated namespaces with their contents, the controllers each is attached to, free allocation units."""

    def __init__(self, config: ControllerConfig) -> None:
        self.config = config
        self.allocated: dict[int, NamespaceConfig] = {ns.nsid: ns for ns in config.namespaces}
        self.shadows = {ns.nsid: Shadow(ns) for ns in config.namespaces}
        first = config.controllers[0]
        self.attachments: dict[int, set[int]] = {
            ns.nsid: set(config.controllers) if ns.shared else {first} for ns in config.namespaces}
        self._created = Counter(dict.fromkeys(self.allocated, 1))
        self.free_units = config.nvm_capacity // config.allocation_unit - sum(
            config.units(ns.size) for ns in self.allocated.values())
        self._listeners: dict[int, Callable[[list[int]], None]] = {}

    def listen(self, cntlid: int, listener: Callable[[list[int]], None]) -> None:
        """``listener(nsids)``: these namespaces changed for controller ``cntlid`` (its model's event)."""
        self._listeners[cntlid] = listener

    def active(self, nsid: int, cntlid: int) -> NamespaceConfig | None:
        return self.allocated.get(nsid) if cntlid in self.attachments.get(nsid, ()) else None

    def active_ids(self, cntlid: int) -> list[int]:
        return sorted(n for n, ctrls in self.attachments.items() if cntlid in ctrls)

    def inactive_status(self, nsid: int) -> Status:
        """For a command naming a namespace not active here: inactive (1..NN) or invalid."""
        return _fail(GenericStatus.INVALID_FIELD if self.config.valid_nsid(nsid)
                     else GenericStatus.INVALID_NAMESPACE_OR_FORMAT)

    # Identify

    def identify(self, sqe: SubmissionEntry, cntlid: int) -> tuple[Status, bytes | None]:
        """Identify for the namespace and controller-list CNS values (00h, 02h, 03h, 10h-13h)."""
        cns, cntid, nsid = sqe.cdw10 & 0xFF, sqe.cdw10 >> 16, sqe.nsid
        if cns == Cns.CONTROLLERS:
            return SUCCESS, controller_list([c for c in sorted(self.config.controllers) if c >= cntid])
        if cns in (Cns.ACTIVE_NAMESPACES, Cns.ALLOCATED_NAMESPACES):
            if nsid >= NSID_BROADCAST - 1:
                return _fail(GenericStatus.INVALID_NAMESPACE_OR_FORMAT), None
            ids = self.active_ids(cntlid) if cns == Cns.ACTIVE_NAMESPACES else list(self.allocated)
            return SUCCESS, namespace_list(ids, nsid)
        if cns == Cns.NAMESPACE and nsid == NSID_BROADCAST:
            return SUCCESS, common_namespace_fields().pack()
        if not self.config.valid_nsid(nsid):
            return _fail(GenericStatus.INVALID_NAMESPACE_OR_FORMAT), None
        if cns == Cns.NS_CONTROLLERS:
            return SUCCESS, controller_list([c for c in sorted(self.attachments.get(nsid, ())) if c >= cntid])
        ns = self.allocated.get(nsid) if cns == Cns.ALLOCATED_NAMESPACE else self.active(nsid, cntlid)
        if cns == Cns.NS_DESCRIPTORS:
            return (SUCCESS, ns.descriptors()) if ns else (_fail(GenericStatus.INVALID_FIELD), None)
        return SUCCESS, ns.identify_data() if ns else bytes(IDENTIFY_SIZE)

    # Namespace Management and Attachment

    def data_length(self, sqe: SubmissionEntry) -> int:
        """Host data the command reads: 4 KiB for a create or an attachment whose SQE fields pass."""
        if self._refused(sqe) is not None:
            return 0
        create = sqe.opcode == AdminOpcode.NS_MANAGEMENT and sel_of(sqe) == NsManagementSel.CREATE
        return NS_DATA_SIZE if create or sqe.opcode == AdminOpcode.NS_ATTACHMENT else 0

    def execute(self, sqe: SubmissionEntry, data: bytes, cntlid: int) -> tuple[Status, int]:
        """Status and DW0 of the command as controller ``cntlid`` processes it; every controller whose
        namespaces it changed is told (``listen``)."""
        if (refused := self._refused(sqe)) is not None:
            return refused, 0
        if sqe.opcode == AdminOpcode.NS_ATTACHMENT:
            return self._attach(sqe.nsid, parse_controller_list(data), sel_of(sqe) == NsAttachmentSel.DETACH), 0
        if sel_of(sqe) == NsManagementSel.CREATE:
            return self._create(IdentifyNamespace.unpack(data))
        return self._delete(sorted(self.allocated) if sqe.nsid == NSID_BROADCAST else [sqe.nsid]), 0

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

    def _create(self, asked: IdentifyNamespace) -> tuple[Status, int]:
        if asked.format_index >= len(LBA_FORMATS):
            return _fail(CommandSpecificStatus.INVALID_FORMAT), 0
        shareable = NMIC_SHARED if self.config.multi_controller else 0
        if not asked.nsze or asked.ncap > asked.nsze or asked.dps or asked.nmic & ~shareable:
            return _fail(GenericStatus.INVALID_FIELD), 0
        if asked.ncap != asked.nsze:
            return _fail(CommandSpecificStatus.THIN_PROVISIONING_NOT_SUPPORTED), 0
        free = [n for n in range(1, self.config.max_namespaces + 1) if n not in self.allocated]
        if not free:
            return _fail(CommandSpecificStatus.NAMESPACE_ID_UNAVAILABLE), 0
        ns = NamespaceConfig(free[0], LBA_FORMATS[asked.format_index].lba_size, asked.nsze,
                             generation=self._created[free[0]], shared=bool(asked.nmic & NMIC_SHARED))
        if self.config.units(ns.size) > self.free_units:
            return _fail(CommandSpecificStatus.NAMESPACE_INSUFFICIENT_CAPACITY), 0
        self.allocated[ns.nsid] = ns
        self.shadows[ns.nsid] = Shadow(ns)        # a new namespace reads zeroes
        self.attachments[ns.nsid] = set()
        self._created[ns.nsid] += 1
        self.free_units -= self.config.units(ns.size)
        return SUCCESS, ns.nsid

    def _delete(self, nsids: list[int]) -> Status:
        changed: dict[int, list[int]] = {}
        for nsid in nsids:
            for cntlid in self.attachments.pop(nsid):
                changed.setdefault(cntlid, []).append(nsid)
            self.free_units += self.config.units(self.allocated.pop(nsid).size)
            del self.shadows[nsid]                 # its data is gone
        self._tell(changed)
        return SUCCESS

    def _attach(self, nsid: int, ids: list[int], detach: bool) -> Status:
        if not ids or len(ids) != len(set(ids)) or not set(ids) <= set(self.config.controllers):
            return _fail(CommandSpecificStatus.CONTROLLER_LIST_INVALID)
        attached = self.attachments[nsid]
        if detach:
            if not set(ids) <= attached:
                return _fail(CommandSpecificStatus.NAMESPACE_NOT_ATTACHED)
            attached -= set(ids)
        else:
            if attached & set(ids):
                return _fail(CommandSpecificStatus.NAMESPACE_ALREADY_ATTACHED)
            if not self.allocated[nsid].shared and (len(ids) > 1 or attached):
                return _fail(CommandSpecificStatus.NAMESPACE_IS_PRIVATE)
            attached |= set(ids)
        self._tell({cntlid: [nsid] for cntlid in ids})
        return SUCCESS

    def _tell(self, changed: dict[int, list[int]]) -> None:
        for cntlid, nsids in sorted(changed.items()):
            if cntlid in self._listeners:
                self._listeners[cntlid](sorted(nsids))
