"""NVMe reference model: the status, DW0 and data every command should complete with.

``NvmeModel`` is a pure-Python controller that keeps the shadow contents of
every namespace and the admin state, and predicts each command from the
configuration in ``models.identify``; the command fields and log layouts it
shares with the host and the firmware live in ``models.nvme_commands`` and
``models.nvme_logs``.

The model is written independently of the firmware (firmware/nvme/) from
the spec, so that the scoreboard compares two readings of it. Where the
spec leaves a choice, both follow the choice documented here:

* CDW0 first, for every command: FUSE other than 00b is Invalid Field
  (Identify FUSES is 0: no fused operation is supported, and 11b is
  reserved), and so is a PSDT the command may not use (admin commands:
  PRPs only; I/O commands: PRPs, or SGLs where Identify SGLS says so; 11b
  is reserved).
* Check order of an I/O command after that: Invalid Opcode (an opcode of
  no command set), the namespace (Invalid Namespace or Format for an
  invalid NSID, Invalid Field for an inactive one), Invalid Opcode (not a
  command of the namespace's set as CC.CSS enabled it), Invalid Field
  (MDTS, Verify included), LBA Out of Range, then data (Compare Failure).
  A zoned namespace's zone checks come before its data moves, its open and
  active resources after (docs/zns.md); an open-channel namespace's chunk
  checks too (docs/open_channel.md). Copy: Descriptor Format, the number of
  ranges, [the ranges arrive], each range's and the total length (Command
  Size Limit Exceeded), the destination's then the sources' LBA range.
* Host statistics (SMART) count successful commands only: Read and Compare
  as reads, Write as writes (5.14.1.2).
* A Get Log Page longer than the log returns zeroes after it (the spec says
  undefined); an offset beyond the log is Invalid Field.
* The Error Information log records invalid doorbell writes (the events
  that refer to it); command errors are reported in their CQEs only.
* A key-value namespace's values take whole logical blocks, free blocks
  counted with those of a value a Store replaces; values and host buffers
  come in whole dwords (docs/key_value.md).
* Power Management, Error Recovery and Write Atomicity Normal (mandatory
  features) are kept as set: PS0 is the only power state, DULBE is not
  supported (Invalid Field), nothing else changes behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from models.identify import (COPY_MAX_RANGES, LBA_FORMATS, NSID_BROADCAST, Cns, ControllerConfig, NamespaceConfig,
                             namespace_list)
from models.namespace_model import NamespaceInventory, Shadow
from models.nvme_spec import (CC_CSS_ALL_IO, IOCS_COMBINATION, SUCCESS, AdminOpcode, CommandSpecificStatus,
                              CompletionEntry, CreateCqFlags, CreateSqFlags, Csi, FeatureId, GenericStatus,
                              GetFeaturesSelect, MediaStatus, NvmOpcode, Status, StatusCode, SubmissionEntry,
                              num_queues_dword, qsize_qid)
from models.nvme_commands import (COPY_RANGE_SIZE, DSM_ATTR_DEALLOCATE, DSM_RANGE_SIZE, ERROR_RECOVERY_DULBE,
                                  FEATURE_SAVE, POWER_STATE_MASK, PSDT_PRP, PSDT_SGL, CopyFields, CopyRange,
                                  DsmRange, LogRequest, dsm_ranges, rw_fields)
from models.nvme_logs import (AEC_KEPT, AsyncEvent, AsyncEventType, COMPOSITE_TEMPERATURE,
                              CRITICAL_WARNING_TEMPERATURE, INVALID_DOORBELL_REGISTER, INVALID_DOORBELL_VALUE, LogId,
                              NAMESPACE_ATTRIBUTE_CHANGED, SmartCounters, TEMPERATURE_THRESHOLD,
                              ZONE_DESCRIPTOR_CHANGED, changed_ns_log, command_effects, command_effects_log,
                              data_units, effects_csi, error_entry, error_log, event_enabled, firmware_slot_log,
                              log_slice, namespace_opcodes, smart_log)
from models.chunk_model import ChunkFailure
from models.open_channel import (MAX_VECTOR_LBAS, OcOpcode, VectorFields, VectorLists, chunk_log, failed_lbas)
from models.key_value import (STORE_ONLY_IF_ABSENT, STORE_ONLY_IF_EXISTS, KvFields, KvOpcode, key_list,
                              kv_identify_namespace)
from models.prp import DataPointerError
from models.queue_budget import QueueBudget
from models.zoned import (IDENTIFY_SIZE, REPORT_HEADER_SIZE, ReportFilter, SELECT_ALL,
                          ZRA_REPORT_ZONES, ZnsOpcode, ZoneAction, ZoneReceiveFields, ZoneSendFields, ZoneState,
                          appended_lba, changed_zone_log, zns_identify_controller, zns_identify_namespace, zone_report)


# The model

# the bits kept of features stored as given
_KEPT_BITS = {FeatureId.INTERRUPT_COALESCING: 0xFFFF, FeatureId.VOLATILE_WRITE_CACHE: 0x1,
              FeatureId.ASYNC_EVENT_CONFIG: AEC_KEPT, FeatureId.POWER_MANAGEMENT: 0xFF,
              FeatureId.ERROR_RECOVERY: 0xFFFF,
              FeatureId.WRITE_ATOMICITY: 0x1, FeatureId.IO_COMMAND_SET_PROFILE: 0x1FF}


@dataclass(frozen=True)
class Prediction:
    """What a command completes with. ``data`` is what it returns to the host; ``dw0`` None is not predicted.

    ``landed``: for a command whose effect the completion decides (Zone Append: the LBA the controller
    chose), called with the successful CQE to check it and apply the effect. ``buffer``: the bytes the
    command's data pointer describes, where ``data`` fills only their start (a KV Retrieve of a value
    shorter than the host buffer); None: as many as ``data``.
    """

    status: Status
    dw0: int | None = 0
    data: bytes | None = None
    dw1: int = 0           # checked with DW0
    landed: Callable[[CompletionEntry], None] | None = None
    buffer: int | None = None


HELD = None   # an Asynchronous Event Request completes later, with an event


@dataclass
class AppendWindow:
    """The Zone Appends in flight to one zone: the write pointer before the first, the blocks landed since."""

    floor: int
    pending: int = 0
    taken: set[int] = field(default_factory=set)


def fail(code: StatusCode) -> Prediction:
    return Prediction(Status.of(code, dnr=True))


class NvmeModel:
    """Predicts every admin and I/O command of one controller built from ``config``."""

    def __init__(self, config: ControllerConfig, io_queue_pairs: int, mqes: int,
                 namespaces: NamespaceInventory | None = None, budget: QueueBudget | None = None,
                 controller: int = 0) -> None:
        self.config = config
        self.io_queue_pairs = io_queue_pairs
        self.mqes = mqes
        # the I/O queue pairs each controller of the subsystem may create (this one is ``controller``): shared
        # with the models of its other controllers
        self.budget = budget if budget is not None else QueueBudget.alone(io_queue_pairs)
        self.controller = controller
        # the subsystem's namespaces and their contents: shared with the models of its other controllers,
        # and kept over a controller reset
        self.namespaces = namespaces if namespaces is not None else NamespaceInventory(config)
        self.namespaces.listen(config.cntlid, self.namespace_changed)
        self.host_reads = self.host_writes = self.read_bytes = self.written_bytes = 0
        self.errors: list[bytes] = []
        self.async_completions: list[int] = []   # DW0 of AERs completed by events, in order
        self.changed_namespaces: list[int] = []
        self.changed_zones: dict[int, list[int]] = {}   # NSID -> the Changed Zone List's ZSLBAs
        self.css = CC_CSS_ALL_IO          # CC.CSS the controller is enabled with (``enabled``)
        self._appends: dict[tuple[int, int], AppendWindow] = {}   # (NSID, zone) -> Zone Appends in flight
        self.reset()

    def enabled(self, css: int) -> None:
        """The host enables the controller with CC.CSS ``css``."""
        self.css = css

    def reset(self) -> None:
        """Controller reset: queues gone, features back to defaults, outstanding AERs dropped, opened zones
        closed (commands in flight are gone: so are their Zone Appends). Data stays."""
        self._appends.clear()
        for shadow in self.namespaces.shadows.values():
            if shadow.zones is not None:
                shadow.zones.controller_reset()
        self.sqs: dict[int, int] = {}           # SQ id -> CQ id
        self.cqs: set[int] = set()
        self.budget.reset(self.controller)
        self.features = self._defaults()
        self.vector_cd: set[int] = set()
        self.outstanding_aers = 0
        self.pending_events: list[AsyncEvent] = []
        self.masked: dict[AsyncEventType, int] = {}    # masked type -> the log page the event named

    def _defaults(self) -> dict[int, int]:
        n = self.budget.allocations[self.controller] - 1
        return {FeatureId.ARBITRATION: 0, FeatureId.NUMBER_OF_QUEUES: num_queues_dword(n, n),
                FeatureId.INTERRUPT_COALESCING: 0, FeatureId.VOLATILE_WRITE_CACHE: 1,
                FeatureId.ASYNC_EVENT_CONFIG: 0,
                FeatureId.TEMPERATURE_THRESHOLD: self.config.identify().wctemp,
                # mandatory, with nothing to change here: PS0 only, no time-limited recovery, atomicity as is
                FeatureId.POWER_MANAGEMENT: 0, FeatureId.ERROR_RECOVERY: 0, FeatureId.WRITE_ATOMICITY: 0,
                FeatureId.IO_COMMAND_SET_PROFILE: 0}   # combination 0 of Identify CNS 1Ch, the only one

    # I/O commands

    def io(self, sqe: SubmissionEntry, data: bytes = b"", pointer_error: DataPointerError | None = None,
           lists: VectorLists | None = None) -> Prediction:
        """Predict an I/O command; ``data`` is what the host's buffer holds for Write, Compare, DSM, Copy,
        Zone Append and Vector Chunk Write; ``lists`` what a vector command's LBA lists hold.

        ``pointer_error``: the command's PRPs or SGL are invalid (models.prp); a
        command that passes its other checks fails with it and changes
        nothing, as the data never moves; so does a Dataset Management or a
        Copy, whose ranges never arrive.
        """
        if sqe.fuse or sqe.psdt > (PSDT_SGL if self.config.sgl else PSDT_PRP):
            return fail(GenericStatus.INVALID_FIELD)
        if sqe.opcode == NvmOpcode.FLUSH:
            ok = sqe.nsid == NSID_BROADCAST or self.active_namespace(sqe.nsid) is not None
            return Prediction(SUCCESS if ok else self.namespaces.inactive_status(sqe.nsid))
        if sqe.opcode not in _NVM_HANDLERS and sqe.opcode not in set(ZnsOpcode) | set(KvOpcode) | set(OcOpcode):
            return fail(GenericStatus.INVALID_OPCODE)
        if self.active_namespace(sqe.nsid) is None:
            return Prediction(self.namespaces.inactive_status(sqe.nsid))
        shadow = self.namespaces.shadows[sqe.nsid]
        if sqe.opcode not in self._opcodes(shadow):
            return fail(GenericStatus.INVALID_OPCODE)   # not a command of the namespace's enabled set
        if shadow.ns.kv is not None:
            return self._key_value(shadow, sqe, data, pointer_error)
        if shadow.zones is not None and sqe.opcode in _ZONED_HANDLERS:
            return _ZONED_HANDLERS[sqe.opcode](self, shadow, sqe, data, pointer_error)
        if sqe.opcode in set(OcOpcode):
            assert lists is not None, "a vector command's LBA lists"
            return self._vector(shadow, sqe, data, pointer_error, lists)
        if shadow.chunks is not None and sqe.opcode == NvmOpcode.WRITE:
            return self._chunk_write(shadow, sqe, data, pointer_error)
        if pointer_error is not None and sqe.opcode in (NvmOpcode.READ, NvmOpcode.WRITE, NvmOpcode.COMPARE):
            return self._check_rw(shadow, sqe) or fail(pointer_error.code)
        if pointer_error is not None and sqe.opcode == NvmOpcode.DATASET_MANAGEMENT:
            return fail(pointer_error.code)   # the ranges never arrive
        if pointer_error is not None and sqe.opcode == NvmOpcode.COPY:
            return self._copy_fields_check(CopyFields.decode(sqe)) or fail(pointer_error.code)
        return _NVM_HANDLERS[sqe.opcode](self, shadow, sqe, data)

    def _opcodes(self, shadow: Shadow) -> set[int]:
        """The I/O opcodes a namespace takes: its command set's, or the NVM set's where CC.CSS enabled only
        that one (a zoned namespace then still keeps its zones' write rules, as QEMU's does, and a key-value
        one takes none)."""
        if self.css != CC_CSS_ALL_IO and shadow.ns.kv is not None:
            return set()
        csi = shadow.ns.csi if self.css == CC_CSS_ALL_IO else Csi.NVM
        return namespace_opcodes(set(command_effects(self.config, csi)[1]), shadow.ns)

    def _check_rw(self, shadow: Shadow, sqe: SubmissionEntry, moves_data: bool = True) -> Prediction | None:
        slba, nlb = rw_fields(sqe)
        limit = self.config.max_transfer
        if moves_data and limit is not None and nlb * shadow.ns.lba_size > limit:
            return fail(GenericStatus.INVALID_FIELD)
        if not shadow.in_range(slba, nlb):
            return fail(GenericStatus.LBA_OUT_OF_RANGE)
        return None

    def _read(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes) -> Prediction:
        if failed := self._check_rw(shadow, sqe):
            return failed
        out = shadow.read(*rw_fields(sqe))
        self._count(reads=1, read_bytes=len(out))
        return Prediction(SUCCESS, data=out)

    def _write(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes) -> Prediction:
        if failed := self._check_rw(shadow, sqe):
            return failed
        slba, nlb = rw_fields(sqe)
        self._expect_length(data, nlb * shadow.ns.lba_size)
        shadow.write(slba, data)
        self._count(writes=1, written_bytes=len(data))
        return Prediction(SUCCESS)

    def _compare(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes) -> Prediction:
        if failed := self._check_rw(shadow, sqe):
            return failed
        slba, nlb = rw_fields(sqe)
        self._expect_length(data, nlb * shadow.ns.lba_size)
        if shadow.read(slba, nlb) != data:
            return Prediction(Status.of(MediaStatus.COMPARE_FAILURE, dnr=True))
        self._count(reads=1, read_bytes=len(data))
        return Prediction(SUCCESS)

    def _write_zeroes(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes) -> Prediction:
        if failed := self._check_rw(shadow, sqe, moves_data=False):
            return failed
        shadow.deallocate(*rw_fields(sqe))   # zeroes and deallocated blocks read alike
        return Prediction(SUCCESS)

    def _verify(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes) -> Prediction:
        """No data moves, but MDTS bounds it as a Read; an nvm back end has no media errors to report."""
        return self._check_rw(shadow, sqe) or Prediction(SUCCESS)

    @staticmethod
    def _copy_fields_check(fields: CopyFields) -> Prediction | None:
        """What the controller checks before it reads the source ranges."""
        if fields.desfmt != 0:
            return fail(GenericStatus.INVALID_FIELD)         # OCFS offers format 0 only
        if fields.ranges > COPY_MAX_RANGES:
            return fail(CommandSpecificStatus.COMMAND_SIZE_LIMIT_EXCEEDED)
        return None

    def _copy(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes) -> Prediction:
        """Copy of the source ranges, in order, to SDLBA: all read before any is written."""
        fields = CopyFields.decode(sqe)
        if failed := self._copy_fields_check(fields):
            return failed
        self._expect_length(data, fields.ranges * COPY_RANGE_SIZE)
        ranges = CopyRange.unpack_all(data)
        limit = shadow.ns.identify().mssrl
        if max(r.nlb for r in ranges) > limit or sum(r.nlb for r in ranges) > shadow.ns.identify().mcl:
            return fail(CommandSpecificStatus.COMMAND_SIZE_LIMIT_EXCEEDED)
        if not shadow.in_range(fields.sdlba, sum(r.nlb for r in ranges)) or not all(
                shadow.in_range(r.slba, r.nlb) for r in ranges):
            return fail(GenericStatus.LBA_OUT_OF_RANGE)
        shadow.write(fields.sdlba, b"".join(shadow.read(r.slba, r.nlb) for r in ranges))
        return Prediction(SUCCESS)

    def _dsm(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes) -> Prediction:
        self._expect_length(data, dsm_ranges(sqe) * DSM_RANGE_SIZE)
        ranges = DsmRange.unpack_all(data)
        if not all(shadow.in_range(r.slba, r.nlb) for r in ranges):
            return fail(GenericStatus.LBA_OUT_OF_RANGE)
        if sqe.cdw11 & DSM_ATTR_DEALLOCATE:
            for r in ranges:
                shadow.deallocate(r.slba, r.nlb)
        return Prediction(SUCCESS)

    @staticmethod
    def _expect_length(data: bytes, length: int) -> None:
        if len(data) != length:
            raise ValueError(f"the command moves {length} bytes, the host buffer given holds {len(data)}")

    def _count(self, reads: int = 0, writes: int = 0, read_bytes: int = 0, written_bytes: int = 0) -> None:
        self.host_reads += reads
        self.host_writes += writes
        self.read_bytes += read_bytes
        self.written_bytes += written_bytes

    # zoned namespaces: the zone checks come before the data moves, the open and active resources after

    def _zoned_read(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes,
                    pointer_error: DataPointerError | None) -> Prediction:
        """Read, Compare and Verify: reads may cross zones (OZCS), but an Offline zone fails them."""
        assert shadow.zones is not None
        if failed := self._check_rw(shadow, sqe):
            return failed
        if shadow.zones.offline(*rw_fields(sqe)):
            return fail(CommandSpecificStatus.ZONE_IS_OFFLINE)
        if pointer_error is not None:
            return fail(pointer_error.code)
        return _NVM_HANDLERS[sqe.opcode](self, shadow, sqe, data)

    def _zoned_write(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes,
                     pointer_error: DataPointerError | None) -> Prediction:
        """Write and Write Zeroes, at the zone's write pointer and within its capacity."""
        assert shadow.zones is not None
        zeroes = sqe.opcode == NvmOpcode.WRITE_ZEROES
        if failed := self._check_rw(shadow, sqe, moves_data=not zeroes):
            return failed
        slba, nlb = rw_fields(sqe)
        z = shadow.zones.zone_of(slba)
        if code := shadow.zones.write_status(z, slba, nlb):
            return fail(code)
        if pointer_error is not None:
            return fail(pointer_error.code)
        if code := shadow.zones.write(z, slba, nlb):
            return fail(code)
        if zeroes:
            shadow.deallocate(slba, nlb)
            return Prediction(SUCCESS)
        return self._write(shadow, sqe, data)

    def _zone_append(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes,
                     pointer_error: DataPointerError | None) -> Prediction:
        """Zone Append: ZSLBA a zone's start, at most ZASL; the LBA it lands at is the controller's choice
        among the appends in flight to the zone, so the completion is checked when it arrives."""
        zones = shadow.zones
        assert zones is not None
        if failed := self._check_rw(shadow, sqe):
            return failed
        zslba, nlb = rw_fields(sqe)
        if zslba % zones.geometry.size or nlb * shadow.ns.lba_size > self.config.max_append:
            return fail(GenericStatus.INVALID_FIELD)
        z = zones.zone_of(zslba)
        first = zones.wp[z]
        if code := zones.write_status(z, first, nlb):
            return fail(code)
        if pointer_error is not None:
            return fail(pointer_error.code)
        if code := zones.write(z, first, nlb):
            return fail(code)
        self._expect_length(data, nlb * shadow.ns.lba_size)
        self._count(writes=1, written_bytes=len(data))
        window = self._appends.setdefault((shadow.ns.nsid, z), AppendWindow(first))
        window.pending += 1
        return Prediction(SUCCESS, dw0=None, landed=lambda cqe: self._append_landed(shadow, z, window, data, cqe))

    def _append_landed(self, shadow: Shadow, z: int, window: AppendWindow, data: bytes,
                       cqe: CompletionEntry) -> None:
        """A Zone Append completed at the LBA its CQE names: inside the zone's appends still in flight, on
        blocks no other append took; its data is there from now on."""
        zones = shadow.zones
        assert zones is not None
        nlb = len(data) // shadow.ns.lba_size
        lba = appended_lba(cqe.dw0, cqe.dw1)
        blocks = set(range(lba, lba + nlb))
        assert window.floor <= lba and lba + nlb <= zones.wp[z] and not blocks & window.taken, (
            f"Zone Append to zone {zones.start(z):#x} landed at LBA {lba:#x}: the appends in flight may take "
            f"{window.floor:#x}..{zones.wp[z] - 1:#x}, and {sorted(blocks & window.taken)[:4]} are taken")
        window.taken |= blocks
        window.pending -= 1
        if not window.pending:
            del self._appends[(shadow.ns.nsid, z)]
        shadow.write(lba, data)

    # open-channel namespaces: the chunk checks come before the data moves

    @staticmethod
    def _chunk_failed(failure: ChunkFailure, entries_base: int = 0) -> Prediction:
        dw0, dw1 = failed_lbas([entries_base + i for i in failure.entries])
        return Prediction(Status.of(failure.code, dnr=True), dw0=dw0, dw1=dw1)

    def _chunk_write(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes,
                     pointer_error: DataPointerError | None) -> Prediction:
        """A scalar Write keeps the chunk rules; its failures name no list entries."""
        chunks = shadow.chunks
        assert chunks is not None
        if failed := self._check_rw(shadow, sqe):
            return failed
        slba, nlb = rw_fields(sqe)
        if failure := chunks.write_failure(list(range(slba, slba + nlb))):
            return fail(failure.code)
        if pointer_error is not None:
            return fail(pointer_error.code)
        chunks.write(list(range(slba, slba + nlb)))
        return self._write(shadow, sqe, data)

    def _vector(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes, pointer_error: DataPointerError | None,
                lists: VectorLists) -> Prediction:
        """Vector Chunk Reset, Write, Read and Copy (docs/open_channel.md)."""
        chunks = shadow.chunks
        assert chunks is not None
        fields = VectorFields.decode(sqe)
        limit = self.config.max_transfer
        moves = sqe.opcode in (OcOpcode.VECTOR_READ, OcOpcode.VECTOR_WRITE)
        too_long = moves and limit is not None and fields.count * shadow.ns.lba_size > limit
        if fields.count > MAX_VECTOR_LBAS or too_long:
            return fail(GenericStatus.INVALID_FIELD)
        if lists.error is not None:
            return fail(lists.error.code)
        lbas = lists.lbas
        if failure := chunks.unknown(lbas):
            return self._chunk_failed(failure)
        size = shadow.ns.lba_size
        if sqe.opcode == OcOpcode.VECTOR_READ:
            if pointer_error is not None:
                return fail(pointer_error.code)
            out = b"".join(shadow.read(lba, 1) for lba in lbas)
            self._count(reads=1, read_bytes=len(out))
            return Prediction(SUCCESS, data=out)
        if sqe.opcode == OcOpcode.VECTOR_RESET:
            if failure := chunks.reset_failure(lbas):
                return self._chunk_failed(failure)
            for index in chunks.reset(lbas):
                shadow.deallocate(chunks.geometry.slba(index), chunks.geometry.clba)
            return fail(lists.mptr_error.code) if fields.mptr and lists.mptr_error else Prediction(SUCCESS)
        dest = lbas if sqe.opcode == OcOpcode.VECTOR_WRITE else lists.dest
        failure = chunks.unknown(dest) or chunks.write_failure(dest)
        if failure:
            return self._chunk_failed(failure)
        if sqe.opcode == OcOpcode.VECTOR_WRITE:
            if pointer_error is not None:
                return fail(pointer_error.code)
            self._expect_length(data, len(lbas) * size)
            self._count(writes=1, written_bytes=len(data))
        else:
            data = b"".join(shadow.read(lba, 1) for lba in lbas)
        chunks.write(dest)
        for i, lba in enumerate(dest):
            shadow.write(lba, data[i * size:(i + 1) * size])
        return Prediction(SUCCESS)

    def chunk_failed(self, nsid: int, lba: int) -> None:
        """A media failure took a chunk offline (the test bench's fault, told to the model): what it held is
        gone."""
        chunks = self.namespaces.shadows[nsid].chunks
        assert chunks is not None, f"namespace {nsid} is not open-channel"
        index = chunks.fail(lba)
        self.namespaces.shadows[nsid].deallocate(chunks.geometry.slba(index), chunks.geometry.clba)

    def _zone_send(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes,
                   pointer_error: DataPointerError | None) -> Prediction:
        """Zone Management Send: one zone (SLBA its start), or every zone the action applies to (Select
        All), in zone order; the first failure ends it. A reset zone reads zeroes."""
        zones = shadow.zones
        assert zones is not None
        fields = ZoneSendFields.decode(sqe)
        if not fields.select_all:
            if fields.slba >= shadow.ns.nlbas:
                return fail(GenericStatus.LBA_OUT_OF_RANGE)
            if fields.slba % zones.geometry.size:
                return fail(GenericStatus.INVALID_FIELD)
        if fields.action not in set(ZoneAction):
            return fail(GenericStatus.INVALID_FIELD)     # no zone descriptor extensions (ZDES 0)
        action = ZoneAction(fields.action)
        targets = [z for z in range(zones.count) if zones.state[z] in SELECT_ALL[action]] \
            if fields.select_all else [zones.zone_of(fields.slba)]
        for z in targets:
            emptied = action == ZoneAction.RESET and zones.state[z] != ZoneState.EMPTY
            if code := zones.apply(action, z):
                return fail(code)
            if emptied:
                shadow.deallocate(zones.start(z), zones.geometry.size)
        return Prediction(SUCCESS)

    def _zone_receive(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes,
                      pointer_error: DataPointerError | None) -> Prediction:
        """Report Zones from the zone holding SLBA, filtered by the reporting option."""
        zones = shadow.zones
        assert zones is not None
        fields = ZoneReceiveFields.decode(sqe)
        limit = self.config.max_transfer
        if fields.slba >= shadow.ns.nlbas:
            return fail(GenericStatus.LBA_OUT_OF_RANGE)
        if fields.action != ZRA_REPORT_ZONES or fields.option not in set(ReportFilter) or \
                fields.length < REPORT_HEADER_SIZE or (limit is not None and fields.length > limit):
            return fail(GenericStatus.INVALID_FIELD)
        if pointer_error is not None:
            return fail(pointer_error.code)
        option = ReportFilter(fields.option)
        matching = [zones.descriptor(z) for z in range(zones.zone_of(fields.slba), zones.count)
                    if option.matches(zones.state[z])]
        return Prediction(SUCCESS, data=zone_report(matching, fields.partial, fields.length))

    # key-value namespaces

    def _key_value(self, shadow: Shadow, sqe: SubmissionEntry, data: bytes,
                   pointer_error: DataPointerError | None) -> Prediction:
        """Store, Retrieve, List, Delete, Exist: the key's length first (List takes 0: from the first key),
        then each command's own checks; data moves last, in whole dwords (values and buffers of other
        sizes are refused: docs/key_value.md)."""
        kv = shadow.ns.kv
        assert kv is not None
        fields, opcode, values = KvFields.decode(sqe), sqe.opcode, shadow.values
        if not (0 if opcode == KvOpcode.LIST else 1) <= fields.key_length <= kv.max_key:
            return fail(GenericStatus.KV_INVALID_KEY_SIZE)
        if opcode == KvOpcode.STORE:
            return self._kv_store(shadow, fields, data, pointer_error)
        if opcode in (KvOpcode.RETRIEVE, KvOpcode.LIST):
            limit = self.config.max_transfer
            if fields.options or fields.size % 4 or (limit is not None and fields.size > limit):
                return fail(GenericStatus.INVALID_FIELD)
            if opcode == KvOpcode.LIST:
                keys = sorted(k for k in values if k >= fields.key)
                return self._sent(key_list(keys, fields.size), fields.size, pointer_error)
        if fields.key not in values:
            return fail(GenericStatus.KV_KEY_DOES_NOT_EXIST)
        if opcode == KvOpcode.RETRIEVE:
            value = values[fields.key]
            sent = self._sent(value[:fields.size], fields.size, pointer_error, dw0=len(value))
            if sent.status.is_success:
                self._count(reads=1, read_bytes=len(sent.data or b""))
            return sent
        if opcode == KvOpcode.DELETE:
            del values[fields.key]
        return Prediction(SUCCESS)

    def _kv_store(self, shadow: Shadow, fields: KvFields, data: bytes,
                  pointer_error: DataPointerError | None) -> Prediction:
        kv = shadow.ns.kv
        assert kv is not None
        if fields.size > kv.max_value or fields.size % 4:
            return fail(GenericStatus.KV_INVALID_VALUE_SIZE)      # values move in whole dwords here
        if fields.options not in (0, STORE_ONLY_IF_EXISTS, STORE_ONLY_IF_ABSENT):
            return fail(GenericStatus.INVALID_FIELD)
        old = shadow.values.get(fields.key)
        if fields.options == STORE_ONLY_IF_EXISTS and old is None:
            return fail(GenericStatus.KV_KEY_DOES_NOT_EXIST)
        if fields.options == STORE_ONLY_IF_ABSENT and old is not None:
            return fail(GenericStatus.KV_KEY_EXISTS)
        if shadow.blocks_of(fields.size) > shadow.free_blocks() + shadow.blocks_of(len(old or b"")):
            return fail(GenericStatus.CAPACITY_EXCEEDED)
        if pointer_error is not None and fields.size:
            return fail(pointer_error.code)
        self._expect_length(data, fields.size)
        shadow.values[fields.key] = data
        self._count(writes=1, written_bytes=len(data))
        return Prediction(SUCCESS)

    @staticmethod
    def _sent(data: bytes, buffer: int, pointer_error: DataPointerError | None, dw0: int = 0) -> Prediction:
        """A command returning ``data`` into the host's ``buffer`` bytes (nothing moves when it is empty, so
        no pointer can fail it)."""
        if not data:
            return Prediction(SUCCESS, dw0=dw0)
        if pointer_error is not None:
            return fail(pointer_error.code)
        return Prediction(SUCCESS, dw0=dw0, data=data, buffer=buffer)

    def zone_failed(self, nsid: int, zslba: int, state: ZoneState) -> None:
        """A media failure made a zone Read Only or Offline (the test bench's fault, told to the model): the
        controller lists it in the namespace's Changed Zone List and raises Zone Descriptor Changed."""
        zones = self.namespaces.shadows[nsid].zones
        assert zones is not None, f"namespace {nsid} is not zoned"
        zones.fail(zones.zone_of(zslba), state)
        listed = self.changed_zones.setdefault(nsid, [])
        if zslba not in listed:
            listed.append(zslba)
        self._event(ZONE_DESCRIPTOR_CHANGED)

    def active_namespace(self, nsid: int) -> NamespaceConfig | None:
        """The namespace if it is attached to this controller."""
        return self.namespaces.active(nsid, self.config.cntlid)

    def read_shadow(self, nsid: int, slba: int, nlb: int) -> bytes:
        """What a read of these blocks must return now: for the data scoreboard."""
        return self.namespaces.shadows[nsid].read(slba, nlb)

    # asynchronous events

    def doorbell_error(self, no_such_queue: bool) -> None:
        """The host wrote an invalid doorbell: an error log entry and an Error event."""
        self.errors.append(error_entry(len(self.errors) + 1))
        self._event(INVALID_DOORBELL_REGISTER if no_such_queue else INVALID_DOORBELL_VALUE)

    def namespace_changed(self, nsids: list[int]) -> None:
        """Namespace attributes changed (a vendor action on the device): a Notice event."""
        self.changed_namespaces = sorted(set(self.changed_namespaces) | set(nsids))
        self._event(NAMESPACE_ATTRIBUTE_CHANGED)

    def _event(self, event: AsyncEvent) -> None:
        if event_enabled(event, self.features[FeatureId.ASYNC_EVENT_CONFIG]):
            self.pending_events.append(event)
            self._deliver()

    def _deliver(self) -> None:
        """Complete outstanding AERs with pending events whose type is not masked (5.2: one per type until
        the host reads the event's log page)."""
        while self.outstanding_aers:
            event = next((e for e in self.pending_events if e.type not in self.masked), None)
            if event is None:
                return
            self.pending_events.remove(event)
            self.masked[event.type] = event.lid
            self.outstanding_aers -= 1
            self.async_completions.append(event.dw0)

    # admin commands

    def admin_data_length(self, sqe: SubmissionEntry) -> int:
        """Bytes of host data an admin command reads (Namespace Management create, Namespace Attachment)."""
        if sqe.fuse or sqe.psdt != PSDT_PRP or sqe.opcode not in (AdminOpcode.NS_MANAGEMENT,
                                                                   AdminOpcode.NS_ATTACHMENT):
            return 0
        return self.namespaces.data_length(sqe)

    def admin(self, sqe: SubmissionEntry, data: bytes = b"",
              pointer_error: DataPointerError | None = None) -> Prediction | None:
        """Predict an admin command; None (HELD) for an AER that waits for an event.

        ``data``: the host data ``admin_data_length`` names, as the host's buffer
        holds it; ``pointer_error``: why that buffer cannot be read, which fails
        the command with nothing changed.
        """
        if pointer_error is not None and self.admin_data_length(sqe):
            return fail(pointer_error.code)
        handlers = {AdminOpcode.CREATE_IO_CQ: self._create_cq, AdminOpcode.CREATE_IO_SQ: self._create_sq,
                    AdminOpcode.DELETE_IO_SQ: self._delete_sq, AdminOpcode.DELETE_IO_CQ: self._delete_cq,
                    AdminOpcode.IDENTIFY: self._identify, AdminOpcode.SET_FEATURES: self._set_features,
                    AdminOpcode.GET_FEATURES: self._get_features, AdminOpcode.GET_LOG_PAGE: self._get_log_page,
                    AdminOpcode.ASYNC_EVENT_REQUEST: self._aer, AdminOpcode.ABORT: self._abort,
                    AdminOpcode.NS_MANAGEMENT: lambda sqe: self._namespace_command(sqe, data),
                    AdminOpcode.NS_ATTACHMENT: lambda sqe: self._namespace_command(sqe, data),
                    AdminOpcode.DOORBELL_BUFFER_CONFIG: self._doorbell_buffer_config}
        if self.config.ocssd_geometry is not None:
            handlers[AdminOpcode.OCSSD_GEOMETRY] = lambda sqe: Prediction(SUCCESS, data=self.config.ocssd_geometry)
        if sqe.fuse or sqe.psdt != PSDT_PRP:
            return fail(GenericStatus.INVALID_FIELD)
        handler = handlers.get(sqe.opcode)
        return handler(sqe) if handler else fail(GenericStatus.INVALID_OPCODE)

    def _allocated(self) -> tuple[int, int]:
        """(SQs, CQs) granted by Number of Queues, as counts."""
        value = self.features[FeatureId.NUMBER_OF_QUEUES]
        return (value & 0xFFFF) + 1, (value >> 16) + 1

    def _new_queue(self, sqe: SubmissionEntry, existing: set[int] | dict[int, int], allocated: int,
                   pc: bool) -> Prediction | None:
        qsize, qid = qsize_qid(sqe.cdw10)
        if not 1 <= qid <= allocated or qid in existing:
            return fail(CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)
        if not 1 <= qsize <= self.mqes:
            return fail(CommandSpecificStatus.INVALID_QUEUE_SIZE)
        if not pc:
            return fail(GenericStatus.INVALID_FIELD)
        if sqe.prp1 % self.config.min_page_size:
            return fail(GenericStatus.PRP_OFFSET_INVALID)
        return None

    def _create_cq(self, sqe: SubmissionEntry) -> Prediction:
        flags = CreateCqFlags.decode(sqe.cdw11)
        if failed := self._new_queue(sqe, self.cqs, self._allocated()[1], flags.pc):
            return failed
        if flags.iv > self.io_queue_pairs:
            return fail(CommandSpecificStatus.INVALID_INTERRUPT_VECTOR)
        self.cqs.add(sqe.cdw10 & 0xFFFF)
        return Prediction(SUCCESS)

    def _create_sq(self, sqe: SubmissionEntry) -> Prediction:
        flags = CreateSqFlags.decode(sqe.cdw11)
        if failed := self._new_queue(sqe, self.sqs, self._allocated()[0], flags.pc):
            return failed
        if flags.cqid not in self.cqs:
            return fail(CommandSpecificStatus.COMPLETION_QUEUE_INVALID)
        self.sqs[sqe.cdw10 & 0xFFFF] = flags.cqid
        return Prediction(SUCCESS)

    def _delete_sq(self, sqe: SubmissionEntry) -> Prediction:
        if self.sqs.pop(sqe.cdw10 & 0xFFFF, None) is None:
            return fail(CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)
        return Prediction(SUCCESS)

    def _delete_cq(self, sqe: SubmissionEntry) -> Prediction:
        qid = sqe.cdw10 & 0xFFFF
        if qid not in self.cqs:
            return fail(CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)
        if qid in self.sqs.values():
            return fail(CommandSpecificStatus.INVALID_QUEUE_DELETION)
        self.cqs.remove(qid)
        return Prediction(SUCCESS)

    def _identify(self, sqe: SubmissionEntry) -> Prediction:
        cns = sqe.cdw10 & 0xFF
        if cns in (Cns.IO_NAMESPACE, Cns.IO_CONTROLLER, Cns.IO_ACTIVE_NAMESPACES, Cns.IO_COMMAND_SETS):
            return self._identify_io_set(cns, sqe.nsid, sqe.cdw11 >> 24)
        if cns == Cns.CONTROLLER:
            unallocated = self.namespaces.free_units * self.config.allocation_unit
            return Prediction(SUCCESS, data=self.config.identify(unallocated).pack())
        if cns not in (Cns.NAMESPACE, Cns.ACTIVE_NAMESPACES, Cns.NS_DESCRIPTORS, Cns.ALLOCATED_NAMESPACES,
                       Cns.ALLOCATED_NAMESPACE, Cns.NS_CONTROLLERS, Cns.CONTROLLERS):
            return fail(GenericStatus.INVALID_FIELD)
        status, data = self.namespaces.identify(sqe, self.config.cntlid)
        return Prediction(status, data=data)

    def _identify_io_set(self, cns: int, nsid: int, csi: int) -> Prediction:
        """The I/O command set specific structures (CNS 05h-07h, for the CSI in CDW11) and the command set
        combinations (1Ch). The NVM and KV sets' controller structures and the NVM set's namespace structure
        hold nothing this controller reports: zeroes."""
        offered = set(Csi)
        if cns == Cns.IO_COMMAND_SETS:
            return Prediction(SUCCESS, data=IOCS_COMBINATION.to_bytes(8, "little").ljust(IDENTIFY_SIZE, b"\0"))
        if cns == Cns.IO_CONTROLLER:
            if csi not in offered:
                return fail(GenericStatus.INVALID_FIELD)
            data = zns_identify_controller(self.config.zasl) if csi == Csi.ZONED else bytes(IDENTIFY_SIZE)
            return Prediction(SUCCESS, data=data)
        if cns == Cns.IO_ACTIVE_NAMESPACES:
            if nsid >= NSID_BROADCAST - 1:
                return fail(GenericStatus.INVALID_NAMESPACE_OR_FORMAT)
            if csi not in offered:
                return fail(GenericStatus.INVALID_FIELD)
            ids = [n for n in self.namespaces.active_ids(self.config.cntlid) if self.active_namespace(n).csi == csi]
            return Prediction(SUCCESS, data=namespace_list(ids, nsid))
        if not self.config.valid_nsid(nsid):
            return fail(GenericStatus.INVALID_NAMESPACE_OR_FORMAT)
        if csi not in offered:
            return fail(GenericStatus.INVALID_FIELD)
        ns = self.active_namespace(nsid)
        if ns is None or csi == Csi.NVM:
            return Prediction(SUCCESS, data=bytes(IDENTIFY_SIZE))
        if csi == Csi.ZONED and ns.zones is not None:
            return Prediction(SUCCESS, data=zns_identify_namespace(ns.zones, len(LBA_FORMATS)))
        if csi == Csi.KEY_VALUE and ns.kv is not None:   # no thin provisioning: NUSE is NSZE, in bytes
            return Prediction(SUCCESS, data=kv_identify_namespace(ns.size, ns.size, ns.kv))
        return fail(GenericStatus.INVALID_FIELD)

    def _namespace_command(self, sqe: SubmissionEntry, data: bytes) -> Prediction:
        """Namespace Management / Attachment: a change to a namespace attached to a controller is a
        Namespace Attribute Changed event there (the inventory tells each controller's model)."""
        status, dw0 = self.namespaces.execute(sqe, data, self.config.cntlid)
        return Prediction(status, dw0=dw0)

    # features

    def _set_features(self, sqe: SubmissionEntry) -> Prediction:
        fid, value = sqe.cdw10 & 0xFF, sqe.cdw11
        if sqe.cdw10 & FEATURE_SAVE:
            return fail(CommandSpecificStatus.FEATURE_NOT_SAVEABLE)
        if fid == FeatureId.NUMBER_OF_QUEUES:
            nsqr, ncqr = value & 0xFFFF, value >> 16
            if 0xFFFF in (nsqr, ncqr):
                return fail(GenericStatus.INVALID_FIELD)
            if self.sqs or self.cqs:
                return fail(GenericStatus.COMMAND_SEQUENCE_ERROR)
            top = self.budget.grant(self.controller, max(nsqr, ncqr) + 1) - 1
            value = num_queues_dword(min(nsqr, top), min(ncqr, top))
        elif fid == FeatureId.INTERRUPT_VECTOR_CONFIG:
            iv, cd = value & 0xFFFF, bool(value >> 16 & 1)
            if iv > self.io_queue_pairs or (iv == 0 and not cd):
                return fail(GenericStatus.INVALID_FIELD)
            self.vector_cd = self.vector_cd | {iv} if cd else self.vector_cd - {iv}
            return Prediction(SUCCESS)
        elif fid == FeatureId.TEMPERATURE_THRESHOLD:
            return self._set_temperature_threshold(value)
        elif fid == FeatureId.POWER_MANAGEMENT and value & POWER_STATE_MASK > self.config.identify().npss:
            return fail(GenericStatus.INVALID_FIELD)        # no such power state
        elif fid == FeatureId.ERROR_RECOVERY and value & ERROR_RECOVERY_DULBE:
            return fail(GenericStatus.INVALID_FIELD)        # NSFEAT bit 2 clear: DULBE not supported
        elif fid == FeatureId.IO_COMMAND_SET_PROFILE and value & _KEPT_BITS[FeatureId(fid)]:
            return fail(CommandSpecificStatus.IO_COMMAND_SET_COMBINATION_REJECTED)   # one combination only
        if fid in _KEPT_BITS:
            value &= _KEPT_BITS[FeatureId(fid)]
        elif fid not in (FeatureId.ARBITRATION, FeatureId.NUMBER_OF_QUEUES):
            return fail(GenericStatus.INVALID_FIELD)
        self.features[fid] = value
        return Prediction(SUCCESS, dw0=value if fid == FeatureId.NUMBER_OF_QUEUES else 0)

    def _set_temperature_threshold(self, cdw11: int) -> Prediction:
        """Only the composite sensor's over-temperature threshold; crossing it raises a SMART event."""
        if cdw11 >> 16 & 0x3F:
            return fail(GenericStatus.INVALID_FIELD)
        was_hot = self._too_hot()
        self.features[FeatureId.TEMPERATURE_THRESHOLD] = cdw11 & 0xFFFF
        if self._too_hot() and not was_hot:
            self._event(TEMPERATURE_THRESHOLD)
        return Prediction(SUCCESS)

    def _too_hot(self) -> bool:
        return COMPOSITE_TEMPERATURE > self.features[FeatureId.TEMPERATURE_THRESHOLD]

    def _get_features(self, sqe: SubmissionEntry) -> Prediction:
        fid, sel = sqe.cdw10 & 0xFF, sqe.cdw10 >> 8 & 0x7
        if sel > GetFeaturesSelect.SUPPORTED_CAPABILITIES:
            return fail(GenericStatus.INVALID_FIELD)
        current = sel == GetFeaturesSelect.CURRENT   # nothing is saveable: saved values are the defaults
        if fid == FeatureId.INTERRUPT_VECTOR_CONFIG:
            iv = sqe.cdw11 & 0xFFFF
            if iv > self.io_queue_pairs:
                return fail(GenericStatus.INVALID_FIELD)
            value = iv | int(iv == 0 or (current and iv in self.vector_cd)) << 16
        elif fid == FeatureId.TEMPERATURE_THRESHOLD and sqe.cdw11 >> 16 & 0x3F:
            return fail(GenericStatus.INVALID_FIELD)
        elif fid in self.features:
            value = (self.features if current else self._defaults())[fid]
        else:
            return fail(GenericStatus.INVALID_FIELD)
        return Prediction(SUCCESS, dw0=1 << 2 if sel == GetFeaturesSelect.SUPPORTED_CAPABILITIES else value)

    # logs, events, abort

    def smart(self) -> SmartCounters:
        return SmartCounters(critical_warning=CRITICAL_WARNING_TEMPERATURE if self._too_hot() else 0,
                             data_units_read=data_units(self.read_bytes),
                             data_units_written=data_units(self.written_bytes), host_reads=self.host_reads,
                             host_writes=self.host_writes, error_entries=len(self.errors))

    def _get_log_page(self, sqe: SubmissionEntry) -> Prediction:
        request = LogRequest.decode(sqe)
        ident = self.config.identify()
        if request.lid == LogId.SMART_HEALTH and sqe.nsid not in (0, NSID_BROADCAST):
            return fail(GenericStatus.INVALID_FIELD)      # LPA bit 0 clear: no per-namespace SMART
        logs = {LogId.ERROR_INFORMATION: lambda: error_log(self.errors, ident.elpe + 1),
                LogId.SMART_HEALTH: lambda: smart_log(self.smart()),
                LogId.FIRMWARE_SLOT: lambda: firmware_slot_log(self.config.fr),
                LogId.CHANGED_NAMESPACES: lambda: changed_ns_log(self.changed_namespaces),
                LogId.COMMANDS_SUPPORTED: lambda: command_effects_log(self.config, effects_csi(request.csi)),
                LogId.CHANGED_ZONES: lambda: changed_zone_log(self.changed_zones.get(sqe.nsid, [])),
                LogId.CHUNK_INFORMATION: lambda: chunk_log(self.namespaces.shadows[sqe.nsid].chunks.descriptors())}
        if request.lid not in logs or (request.lid == LogId.CHUNK_INFORMATION and self.config.ocssd_geometry is None):
            return fail(CommandSpecificStatus.INVALID_LOG_PAGE)
        if request.lid == LogId.COMMANDS_SUPPORTED and effects_csi(request.csi) is None:
            return fail(GenericStatus.INVALID_FIELD)
        if request.lid == LogId.CHANGED_ZONES:
            ns = self.active_namespace(sqe.nsid)
            if request.csi != Csi.ZONED or ns is None or ns.zones is None:
                return fail(GenericStatus.INVALID_FIELD)    # a log of the Zoned set, per zoned namespace
        if request.lid == LogId.CHUNK_INFORMATION:
            ns = self.active_namespace(sqe.nsid)
            if ns is None or ns.chunks is None:
                return fail(GenericStatus.INVALID_FIELD)    # per open-channel namespace
        log = logs[LogId(request.lid)]()
        limit = self.config.max_transfer
        if request.offset % 4 or request.offset > len(log) or (limit is not None and request.length > limit):
            return fail(GenericStatus.INVALID_FIELD)
        if not request.rae:
            if request.lid == LogId.CHANGED_NAMESPACES:
                self.changed_namespaces = []
            if request.lid == LogId.CHANGED_ZONES:
                self.changed_zones.pop(sqe.nsid, None)
            self.masked = {t: lid for t, lid in self.masked.items() if lid != request.lid}
            self._deliver()
        return Prediction(SUCCESS, data=log_slice(log, request))

    def _aer(self, sqe: SubmissionEntry) -> Prediction | None:
        if self.outstanding_aers > self.config.identify().aerl:
            return fail(CommandSpecificStatus.ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED)
        self.outstanding_aers += 1
        self._deliver()
        return HELD

    def _doorbell_buffer_config(self, sqe: SubmissionEntry) -> Prediction:
        """PRP1 (shadow doorbells) and PRP2 (EventIdx) must be memory-page aligned; the buffers are the
        host's, so the model predicts the status only (the host's scoreboards see the doorbells work)."""
        if sqe.prp1 % self.config.min_page_size or sqe.prp2 % self.config.min_page_size:
            return fail(GenericStatus.INVALID_FIELD)
        return Prediction(SUCCESS)

    def _abort(self, sqe: SubmissionEntry) -> Prediction:
        """Whether the target was still queued in the firmware depends on timing: DW0 is not predicted, and a
        target completed with Command Abort Requested is accepted when DW0 bit 0 is clear."""
        return Prediction(SUCCESS, dw0=None)


_NVM_HANDLERS: dict[int, Callable[[NvmeModel, Shadow, SubmissionEntry, bytes], Prediction]] = {
    NvmOpcode.READ: NvmeModel._read, NvmOpcode.WRITE: NvmeModel._write, NvmOpcode.COMPARE: NvmeModel._compare,
    NvmOpcode.WRITE_ZEROES: NvmeModel._write_zeroes, NvmOpcode.DATASET_MANAGEMENT: NvmeModel._dsm,
    NvmOpcode.VERIFY: NvmeModel._verify, NvmOpcode.COPY: NvmeModel._copy}
# what differs on a zoned namespace
_ZONED_HANDLERS: dict[int, Callable[[NvmeModel, Shadow, SubmissionEntry, bytes, DataPointerError | None],
                                    Prediction]] = {
    NvmOpcode.READ: NvmeModel._zoned_read, NvmOpcode.COMPARE: NvmeModel._zoned_read,
    NvmOpcode.VERIFY: NvmeModel._zoned_read, NvmOpcode.WRITE: NvmeModel._zoned_write,
    NvmOpcode.WRITE_ZEROES: NvmeModel._zoned_write, ZnsOpcode.ZONE_APPEND: NvmeModel._zone_append,
    ZnsOpcode.ZONE_MGMT_SEND: NvmeModel._zone_send, ZnsOpcode.ZONE_MGMT_RECV: NvmeModel._zone_receive}
