"""Admin commands beyond queue management: Identify, Get Log Page, the remaining features, AER.

Pure decisions, like ``firmware.admin.AdminState`` (which still owns the
queues and the queue-related features and is delegated to): ``execute``
returns the status, DW0, the data to return to the host, and the hardware
actions; the loop moves the data through DRAM and the DMA engine. Abort is
the loop's, since only the loop knows which commands wait for a core.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware.admin import AdminState, HardwareAction
from firmware.mailbox import CommandSlot, DoorbellError, DoorbellErrorKind
from firmware.nvme.events import AsyncEvents
from firmware.nvme.io import HostCounters
from firmware.nvme.outcome import failure
from firmware.nvme.namespaces import Changes, Extent, NamespaceTable
from firmware.nvme.ns_admin import NamespaceCommands
from models.identify import (IDENTIFY_SIZE, LBA_FORMATS, NSID_BROADCAST, Cns, ControllerConfig,
                             common_namespace_fields, controller_list, namespace_list)
from models.key_value import kv_identify_namespace
from models.nvme_spec import IOCS_COMBINATION, Csi
from models.zoned import changed_zone_log, zns_identify_controller, zns_identify_namespace
from models.nvme_commands import ERROR_RECOVERY_DULBE, FEATURE_SAVE, POWER_STATE_MASK, LogRequest
from models.nvme_logs import (AEC_KEPT, COMPOSITE_TEMPERATURE, CRITICAL_WARNING_TEMPERATURE, INVALID_DOORBELL_REGISTER,
                              INVALID_DOORBELL_VALUE, LogId, NAMESPACE_ATTRIBUTE_CHANGED, SmartCounters,
                              TEMPERATURE_THRESHOLD, ZONE_DESCRIPTOR_CHANGED, changed_ns_log, command_effects_log,
                              data_units, effects_csi, error_entry, error_log, firmware_slot_log, log_slice, smart_log)
from models.nvme_spec import (SUCCESS, AdminOpcode, CommandSpecificStatus, FeatureId, GenericStatus,
                              GetFeaturesSelect, Status, SubmissionEntry)

FEATURE_CHANGEABLE = 1 << 2
# features kept here, with the bits each keeps; the queue-related ones are AdminState's. Power
# Management, Error Recovery and Write Atomicity Normal are mandatory (NVMe 1.4 figure 271) even
# where, as here, they change nothing: PS0 only, no time-limited recovery, atomicity as advertised.
_MASKS = {FeatureId.VOLATILE_WRITE_CACHE: 0x1, FeatureId.ASYNC_EVENT_CONFIG: AEC_KEPT,
          FeatureId.TEMPERATURE_THRESHOLD: 0xFFFF, FeatureId.POWER_MANAGEMENT: 0xFF,
          FeatureId.ERROR_RECOVERY: 0xFFFF, FeatureId.WRITE_ATOMICITY: 0x1, FeatureId.IO_COMMAND_SET_PROFILE: 0x1FF}

Due = list[tuple[CommandSlot, int]]   # AER slots to complete now, with their DW0


@dataclass(frozen=True)
class AdminOutcome:
    status: Status
    dw0: int = 0
    data: bytes | None = None
    actions: tuple[HardwareAction, ...] = ()
    held: bool = False          # an AER: its slot stays open until an event
    due: tuple[tuple[CommandSlot, int], ...] = ()
    freed: tuple[Extent, ...] = ()   # back-end byte ranges to trim before completing
    notify: Changes = field(default_factory=dict)   # other controllers' namespace changes, to tell them


class AdminCommands:
    """``chunk_log``: the open-channel namespace's Chunk Information log, where the back end has chunks."""

    def __init__(self, config: ControllerConfig, queues: AdminState, counters: HostCounters,
                 namespaces: NamespaceTable, chunk_log: Callable[[], bytes] | None = None) -> None:
        self.config = config
        self.chunk_log = chunk_log
        self.ident = config.identify()
        self.namespaces = namespaces
        self.ns_commands = NamespaceCommands(config, namespaces)
        self.queues = queues
        self.counters = counters
        self.events = AsyncEvents(self.ident.aerl + 1)
        self.errors: list[bytes] = []
        self.changed: list[int] = []
        self.changed_zones: dict[int, list[int]] = {}   # NSID -> ZSLBAs for the Changed Zone List
        self.reset()

    def reset(self) -> None:
        """Controller reset (the loop resets ``queues`` itself): these features to defaults, AERs gone."""
        self.features = self._defaults()
        self.events.reset()

    def _defaults(self) -> dict[int, int]:
        return {FeatureId.VOLATILE_WRITE_CACHE: 1, FeatureId.ASYNC_EVENT_CONFIG: 0,
                FeatureId.TEMPERATURE_THRESHOLD: self.ident.wctemp, FeatureId.POWER_MANAGEMENT: 0,
                FeatureId.ERROR_RECOVERY: 0, FeatureId.WRITE_ATOMICITY: 0,
                FeatureId.IO_COMMAND_SET_PROFILE: 0}   # I/O Command Set Combination 0 (CNS 1Ch), the only one

    def data_length(self, sqe: SubmissionEntry) -> int:
        """Bytes of host data ``execute`` needs for this command (fetched by the loop first); 0: none."""
        if sqe.opcode in (AdminOpcode.NS_MANAGEMENT, AdminOpcode.NS_ATTACHMENT):
            return self.ns_commands.data_length(sqe)
        return 0

    def execute(self, slot: CommandSlot, sqe: SubmissionEntry, data: bytes = b"") -> AdminOutcome:
        """``data``: the host data ``data_length`` asked for."""
        if sqe.opcode in (AdminOpcode.NS_MANAGEMENT, AdminOpcode.NS_ATTACHMENT):
            result = self.ns_commands.execute(sqe, data)
            mine = result.changed.get(self.config.cntlid)
            due = self.namespace_changed(list(mine)) if mine else []
            others = {c: nsids for c, nsids in result.changed.items() if c != self.config.cntlid}
            return AdminOutcome(result.status, result.dw0, due=tuple(due), freed=result.freed, notify=others)
        if sqe.opcode == AdminOpcode.IDENTIFY:
            return self._identify(sqe)
        if sqe.opcode == AdminOpcode.GET_LOG_PAGE:
            return self._get_log_page(sqe)
        if sqe.opcode == AdminOpcode.OCSSD_GEOMETRY and self.config.ocssd_geometry is not None:
            return AdminOutcome(SUCCESS, data=self.config.ocssd_geometry)
        if sqe.opcode == AdminOpcode.ASYNC_EVENT_REQUEST:
            due = self.events.request(slot)
            if due is None:
                return AdminOutcome(failure(CommandSpecificStatus.ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED))
            return AdminOutcome(SUCCESS, held=True, due=tuple(due))
        if sqe.opcode in (AdminOpcode.SET_FEATURES, AdminOpcode.GET_FEATURES) and sqe.cdw10 & 0xFF in _MASKS:
            return self._set_feature(sqe) if sqe.opcode == AdminOpcode.SET_FEATURES else self._get_feature(sqe)
        result = self.queues.execute(sqe)
        return AdminOutcome(result.status, result.dw0, actions=result.actions)

    # events from outside the command stream

    def doorbell_error(self, err: DoorbellError) -> Due:
        self.errors.append(error_entry(len(self.errors) + 1))
        event = INVALID_DOORBELL_REGISTER if err.kind == DoorbellErrorKind.NO_SUCH_QUEUE else INVALID_DOORBELL_VALUE
        return self.events.event(event, self.features[FeatureId.ASYNC_EVENT_CONFIG])

    def zones_changed(self, nsid: int, zslbas: list[int]) -> Due:
        """The controller changed these zones itself (a media failure): the namespace's Changed Zone List
        and a Zone Descriptor Changed notice."""
        listed = self.changed_zones.setdefault(nsid, [])
        listed += [z for z in zslbas if z not in listed]
        return self.events.event(ZONE_DESCRIPTOR_CHANGED, self.features[FeatureId.ASYNC_EVENT_CONFIG])

    def namespace_changed(self, nsids: list[int]) -> Due:
        self.changed = sorted(set(self.changed) | set(nsids))
        return self.events.event(NAMESPACE_ATTRIBUTE_CHANGED, self.features[FeatureId.ASYNC_EVENT_CONFIG])

    # commands

    def _identify(self, sqe: SubmissionEntry) -> AdminOutcome:
        """Active means attached to this controller; an inactive NSID in 1..NN gets a zeroed structure
        (CNS 00h, 11h) or Invalid Field (03h), one outside it Invalid Namespace or Format."""
        cns, cntid, nsid = sqe.cdw10 & 0xFF, sqe.cdw10 >> 16, sqe.nsid
        table, me = self.namespaces, self.config.cntlid
        if cns in (Cns.IO_NAMESPACE, Cns.IO_CONTROLLER, Cns.IO_ACTIVE_NAMESPACES, Cns.IO_COMMAND_SETS):
            return self._identify_io_set(cns, nsid, sqe.cdw11 >> 24)
        if cns == Cns.CONTROLLER:
            return AdminOutcome(SUCCESS, data=self.config.identify(table.unallocated_bytes()).pack())
        if cns == Cns.CONTROLLERS:
            return AdminOutcome(SUCCESS, data=controller_list(sorted(c for c in self.config.controllers if c >= cntid)))
        if cns in (Cns.ACTIVE_NAMESPACES, Cns.ALLOCATED_NAMESPACES):
            if nsid in (NSID_BROADCAST - 1, NSID_BROADCAST):
                return AdminOutcome(failure(GenericStatus.INVALID_NAMESPACE_OR_FORMAT))
            ids = table.active_ids(me) if cns == Cns.ACTIVE_NAMESPACES else table.allocated_ids()
            return AdminOutcome(SUCCESS, data=namespace_list(ids, nsid))
        if cns not in (Cns.NAMESPACE, Cns.NS_DESCRIPTORS, Cns.ALLOCATED_NAMESPACE, Cns.NS_CONTROLLERS):
            return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        if cns == Cns.NAMESPACE and nsid == NSID_BROADCAST:
            return AdminOutcome(SUCCESS, data=common_namespace_fields().pack())
        if not self.config.valid_nsid(nsid):
            return AdminOutcome(failure(GenericStatus.INVALID_NAMESPACE_OR_FORMAT))
        if cns == Cns.NS_CONTROLLERS:
            return AdminOutcome(SUCCESS, data=controller_list(sorted(c for c in table.controllers(nsid) if c >= cntid)))
        ns = table.allocated(nsid) if cns == Cns.ALLOCATED_NAMESPACE else table.active(nsid, me)
        if ns is None:
            if cns == Cns.NS_DESCRIPTORS:
                return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
            return AdminOutcome(SUCCESS, data=bytes(IDENTIFY_SIZE))
        return AdminOutcome(SUCCESS, data=ns.descriptors() if cns == Cns.NS_DESCRIPTORS else ns.identify_data())

    def _identify_io_set(self, cns: int, nsid: int, csi: int) -> AdminOutcome:
        """CNS 05h-07h for each set (the NVM set's structures and the KV set's controller structure report
        nothing here: zeroes), and CNS 1Ch; an NSID that is valid but inactive gets zeroes, as with CNS 00h."""
        if cns == Cns.IO_COMMAND_SETS:
            return AdminOutcome(SUCCESS, data=struct.pack("<Q", IOCS_COMBINATION).ljust(IDENTIFY_SIZE, b"\0"))
        if cns == Cns.IO_ACTIVE_NAMESPACES and nsid in (NSID_BROADCAST - 1, NSID_BROADCAST):
            return AdminOutcome(failure(GenericStatus.INVALID_NAMESPACE_OR_FORMAT))
        if cns == Cns.IO_NAMESPACE and not self.config.valid_nsid(nsid):
            return AdminOutcome(failure(GenericStatus.INVALID_NAMESPACE_OR_FORMAT))
        if csi not in set(Csi):
            return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        if cns == Cns.IO_CONTROLLER:
            data = zns_identify_controller(self.config.zasl) if csi == Csi.ZONED else bytes(IDENTIFY_SIZE)
            return AdminOutcome(SUCCESS, data=data)
        me = self.config.cntlid
        if cns == Cns.IO_ACTIVE_NAMESPACES:
            ids = [n for n in self.namespaces.active_ids(me) if self.namespaces.allocated(n).csi == csi]
            return AdminOutcome(SUCCESS, data=namespace_list(ids, nsid))
        ns = self.namespaces.active(nsid, me)
        if ns is None or csi == Csi.NVM:
            return AdminOutcome(SUCCESS, data=bytes(IDENTIFY_SIZE))
        if csi == Csi.ZONED and ns.zones is not None:
            return AdminOutcome(SUCCESS, data=zns_identify_namespace(ns.zones, len(LBA_FORMATS)))
        if csi == Csi.KEY_VALUE and ns.kv is not None:   # no thin provisioning: NUSE is NSZE, in bytes
            return AdminOutcome(SUCCESS, data=kv_identify_namespace(ns.size, ns.size, ns.kv))
        return AdminOutcome(failure(GenericStatus.INVALID_FIELD))

    def _too_hot(self) -> bool:
        return COMPOSITE_TEMPERATURE > self.features[FeatureId.TEMPERATURE_THRESHOLD]

    def _set_feature(self, sqe: SubmissionEntry) -> AdminOutcome:
        fid = sqe.cdw10 & 0xFF
        if sqe.cdw10 & FEATURE_SAVE:
            return AdminOutcome(failure(CommandSpecificStatus.FEATURE_NOT_SAVEABLE))
        if fid == FeatureId.TEMPERATURE_THRESHOLD and sqe.cdw11 >> 16 & 0x3F:   # composite, over only
            return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        if fid == FeatureId.POWER_MANAGEMENT and sqe.cdw11 & POWER_STATE_MASK > self.ident.npss:
            return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        if fid == FeatureId.ERROR_RECOVERY and sqe.cdw11 & ERROR_RECOVERY_DULBE:   # NSFEAT DULBE clear
            return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        if fid == FeatureId.IO_COMMAND_SET_PROFILE and sqe.cdw11 & _MASKS[FeatureId(fid)]:
            return AdminOutcome(failure(CommandSpecificStatus.IO_COMMAND_SET_COMBINATION_REJECTED))
        was_hot = self._too_hot()
        self.features[fid] = sqe.cdw11 & _MASKS[FeatureId(fid)]
        due: Due = []
        if self._too_hot() and not was_hot:
            due = self.events.event(TEMPERATURE_THRESHOLD, self.features[FeatureId.ASYNC_EVENT_CONFIG])
        return AdminOutcome(SUCCESS, due=tuple(due))

    def _get_feature(self, sqe: SubmissionEntry) -> AdminOutcome:
        fid, sel = sqe.cdw10 & 0xFF, sqe.cdw10 >> 8 & 0x7
        if sel > GetFeaturesSelect.SUPPORTED_CAPABILITIES or (
                fid == FeatureId.TEMPERATURE_THRESHOLD and sqe.cdw11 >> 16 & 0x3F):
            return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        if sel == GetFeaturesSelect.SUPPORTED_CAPABILITIES:
            return AdminOutcome(SUCCESS, FEATURE_CHANGEABLE)
        values = self.features if sel == GetFeaturesSelect.CURRENT else self._defaults()  # saved = default
        return AdminOutcome(SUCCESS, values[fid])

    def smart(self) -> SmartCounters:
        c = self.counters
        return SmartCounters(CRITICAL_WARNING_TEMPERATURE if self._too_hot() else 0, data_units(c.read_bytes),
                             data_units(c.written_bytes), c.reads, c.writes, len(self.errors))

    def _get_log_page(self, sqe: SubmissionEntry) -> AdminOutcome:
        request = LogRequest.decode(sqe)
        if request.lid not in set(LogId) or (request.lid == LogId.CHUNK_INFORMATION and self.chunk_log is None):
            return AdminOutcome(failure(CommandSpecificStatus.INVALID_LOG_PAGE))
        if request.lid == LogId.SMART_HEALTH and sqe.nsid not in (0, NSID_BROADCAST):
            return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        effects_set = effects_csi(request.csi)
        if request.lid == LogId.COMMANDS_SUPPORTED and effects_set is None:
            return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        if request.lid == LogId.CHANGED_ZONES:
            ns = self.namespaces.active(sqe.nsid, self.config.cntlid)
            if request.csi != Csi.ZONED or ns is None or ns.zones is None:
                return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        if request.lid == LogId.CHUNK_INFORMATION:
            ns = self.namespaces.active(sqe.nsid, self.config.cntlid)
            if ns is None or ns.chunks is None:
                return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        log = {LogId.ERROR_INFORMATION: lambda: error_log(self.errors, self.ident.elpe + 1),
               LogId.SMART_HEALTH: lambda: smart_log(self.smart()),
               LogId.FIRMWARE_SLOT: lambda: firmware_slot_log(self.config.fr),
               LogId.CHANGED_NAMESPACES: lambda: changed_ns_log(self.changed),
               LogId.COMMANDS_SUPPORTED: lambda: command_effects_log(self.config, effects_set),
               LogId.CHANGED_ZONES: lambda: changed_zone_log(self.changed_zones.get(sqe.nsid, [])),
               LogId.CHUNK_INFORMATION: self.chunk_log}[
            LogId(request.lid)]()
        limit = self.config.max_transfer
        if request.offset % 4 or request.offset > len(log) or (limit is not None and request.length > limit):
            return AdminOutcome(failure(GenericStatus.INVALID_FIELD))
        due: Due = []
        if not request.rae:
            if request.lid == LogId.CHANGED_NAMESPACES:
                self.changed = []
            if request.lid == LogId.CHANGED_ZONES:
                self.changed_zones.pop(sqe.nsid, None)
            due = self.events.log_read(request.lid)
        return AdminOutcome(SUCCESS, data=log_slice(log, request), due=tuple(due))
