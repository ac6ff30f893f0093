"""The NVMe reference model in the environment, and the data scoreboard.

``NvmeReference`` feeds every submitted command to models.nvme_model in
submission order (the admin queue executes in order; I/O commands of the
tests touch disjoint LBAs or are serialised by the test) and keeps its
prediction: the completion scoreboard checks each CQE's status against it,
``DataScoreboard`` each read's bytes in host memory and DW0. An Abort's
target may complete either way until the Abort says (tb.aborts). The
command's data pointer (PRPs or SGL) is walked with models.prp at
submission, before the controller can read it: write data comes from the
buffers it describes, and an invalid pointer predicts the status the DMA
engine must report; a command that moves no data (``transfer_length``) is
not walked. Host memory is read through the device's bus addresses
(``HOST_MEMORY``: PcieTb.bus_peek), so under an IOMMU the reference follows
the host's mappings; a command that must read host memory where nothing is
mapped is predicted to fail with Data Transfer Error and change nothing.
An open-channel vector command's LBA lists are read at submission too
(``vector_lists``), as the controller will read them.
"""

from __future__ import annotations

from collections.abc import Callable

from pyuvm import ConfigDB, uvm_subscriber

from models.identify import ControllerConfig, NamespaceConfig
from models.nvme_commands import data_length
from models.nvme_model import NvmeModel, Prediction
from models.completion_check import Expected
from models.nvme_spec import SUCCESS, AdminOpcode, GenericStatus, NvmOpcode, Status, SubmissionEntry
from models.key_value import KvOpcode, kv_data_length
from models.zoned import ZnsOpcode
from models.open_channel import (CHUNK_DESCRIPTOR_SIZE, LBA_ENTRY_SIZE, MAX_VECTOR_LBAS, OcOpcode, VectorFields,
                                 VectorLists, parse_lba_list)
from models.prp import (DataPointerError, ReadBytes, Segment, host_buffer_segments, prp_segments, sgl1_of,
                        sgl_segments)
from tb.aborts import AbortTracker
from tb.device_dram import NoHostMemory
from tb.scoreboards import ADMIN_QID, AdminQueueCreated, ControllerReset, CqeReaped, QueueEvent, SqeSubmitted

PAGE = 4096
ActiveNamespace = Callable[[int], NamespaceConfig | None]
DATA_IN = (NvmOpcode.WRITE, NvmOpcode.COMPARE, NvmOpcode.DATASET_MANAGEMENT, NvmOpcode.COPY, ZnsOpcode.ZONE_APPEND,
           OcOpcode.VECTOR_WRITE)
DATA_OUT = (NvmOpcode.READ, ZnsOpcode.ZONE_MGMT_RECV, OcOpcode.VECTOR_READ)


def pointer_segments(sqe: SubmissionEntry, length: int, peek: ReadBytes) -> list[Segment]:
    """The host memory the command's PRPs or SGL describe, as they are now."""
    if sqe.psdt:
        return sgl_segments(sgl1_of(sqe.prp1, sqe.prp2), length, peek)
    return prp_segments(sqe.prp1, sqe.prp2, length, PAGE, lambda addr: int.from_bytes(peek(addr, 8), "little"))


def transfer_length(sqe: SubmissionEntry, active: ActiveNamespace) -> int | None:
    """Bytes an I/O command's data pointer describes, or None when it moves none.

    None for a command without data, and for one whose namespace is not
    active (``active`` gives the namespace, or None): no LBA size gives its
    length, and the model fails it before any data would move, so its
    pointer is not walked at all. A key-value command's length is in CDW10
    (Store, Retrieve and List; the opcodes mean other things elsewhere);
    the vector commands move data only on an open-channel namespace.
    """
    ns = active(sqe.nsid)
    if ns is None:
        return None
    if ns.kv is not None:
        return kv_data_length(sqe) or None
    if sqe.opcode in set(OcOpcode) and ns.chunks is None:
        return None
    return data_length(sqe, ns.lba_size) if sqe.opcode in DATA_IN + DATA_OUT else None


def host_data(sqe: SubmissionEntry, active: ActiveNamespace,
              peek: ReadBytes) -> tuple[bytes, DataPointerError | None]:
    """What an I/O command's buffer holds now (empty unless it sends data), or why its pointer is invalid."""
    length = transfer_length(sqe, active)
    if length is None:
        return b"", None
    kv = active(sqe.nsid).kv is not None   # active: transfer_length found the namespace
    return buffer_data(sqe, length, peek, sends=sqe.opcode == KvOpcode.STORE if kv else sqe.opcode in DATA_IN)


def vector_lists(sqe: SubmissionEntry, peek: ReadBytes) -> VectorLists:
    """What an open-channel vector command's LBA lists hold now, or why the controller cannot read them."""
    fields = VectorFields.decode(sqe)
    if fields.count > MAX_VECTOR_LBAS:
        return VectorLists([], [])     # refused before any list is read

    def listed(lbal: int) -> list[int]:
        if not fields.listed:
            return [lbal]
        segments = host_buffer_segments(lbal, fields.count * LBA_ENTRY_SIZE, peek)
        return parse_lba_list(b"".join(peek(seg.addr, seg.length) for seg in segments))

    try:
        lbas = listed(fields.lbal)
        dest = listed(fields.dlbal) if sqe.opcode == OcOpcode.VECTOR_COPY else []
    except DataPointerError as err:
        return VectorLists([], [], err)
    except NoHostMemory as err:
        return VectorLists([], [], DataPointerError(GenericStatus.DATA_TRANSFER_ERROR, str(err)))
    mptr_error = None
    if sqe.opcode == OcOpcode.VECTOR_RESET and fields.mptr:
        try:
            host_buffer_segments(fields.mptr, fields.count * CHUNK_DESCRIPTOR_SIZE, peek)
        except DataPointerError as err:
            mptr_error = err
    return VectorLists(lbas, dest, mptr_error=mptr_error)


def buffer_data(sqe: SubmissionEntry, length: int, peek: ReadBytes,
                sends: bool = True) -> tuple[bytes, DataPointerError | None]:
    """The ``length`` bytes the command's pointer describes (empty unless ``sends``), or why it is invalid.

    Only the host's faults are predictions here: an invalid PRP or SGL, or
    host memory where nothing answers. Any other exception is a bug of the
    test bench or the models and propagates.
    """
    try:
        segments = pointer_segments(sqe, length, peek)
        if not sends:
            return b"", None
        return b"".join(peek(seg.addr, seg.length) for seg in segments), None
    except DataPointerError as err:
        return b"", err
    except NoHostMemory as err:
        # the controller's read is refused (UR): Data Transfer Error, nothing written
        return b"", DataPointerError(GenericStatus.DATA_TRANSFER_ERROR, str(err))


def leading(segments: list[Segment], length: int) -> list[Segment]:
    """The first ``length`` bytes of what ``segments`` describe."""
    out: list[Segment] = []
    for seg in segments:
        if length <= 0:
            break
        out.append(Segment(seg.addr, min(seg.length, length)))
        length -= seg.length
    return out


def landed(segments: list[Segment], data: bytes) -> tuple[list[Segment], bytes]:
    """Where ``data`` ends up when written through ``segments`` in order, and what those bytes hold then.

    Segments may alias (a fuzzed PRP list can name one page twice): the later
    write wins, as the DMA engine's posted writes arrive in order. Without
    aliasing, that is the segments and the data as they are.
    """
    spans = sorted((seg.addr, seg.addr + seg.length) for seg in segments)
    if all(end <= start for (_, end), (start, _) in zip(spans, spans[1:])):
        return segments, data
    image: dict[int, int] = {}
    pos = 0
    for seg in segments:
        image.update(zip(range(seg.addr, seg.addr + seg.length), data[pos:pos + seg.length]))
        pos += seg.length
    runs: list[Segment] = []
    for addr in sorted(image):
        if runs and runs[-1].addr + runs[-1].length == addr:
            runs[-1] = Segment(runs[-1].addr, runs[-1].length + 1)
        else:
            runs.append(Segment(addr, 1))
    return runs, bytes(image[a] for run in runs for a in range(run.addr, run.addr + run.length))


class NvmeReference(uvm_subscriber):
    """Predicts every command from the reference model."""

    def build_phase(self) -> None:
        self.config: ControllerConfig = ConfigDB().get(self, "", "CONTROLLER_CONFIG")
        # the subsystem's namespaces and their contents, which every controller's model shares
        # and the queue pairs the subsystem's controllers may create (one per function, numbered by CNTLID)
        self.model = NvmeModel(self.config, ConfigDB().get(self, "", "IO_QUEUE_PAIRS"),
                               ConfigDB().get(self, "", "MQES"), ConfigDB().get(self, "", "NAMESPACES"),
                               ConfigDB().get(self, "", "QUEUE_BUDGET"), self.config.cntlid)
        self.peek = ConfigDB().get(self, "", "HOST_MEMORY")
        self.predictions: dict[tuple[int, int], Prediction] = {}
        self.aborts = AbortTracker()

    def write(self, event: QueueEvent) -> None:
        if isinstance(event, SqeSubmitted):
            key = (event.sqid, event.sqe.cid)
            if event.sqid == ADMIN_QID:
                length = self.model.admin_data_length(event.sqe)
                data, pointer_error = buffer_data(event.sqe, length, self.peek) if length else (b"", None)
                prediction = self._with_pointer(event.sqe, self.model.admin(event.sqe, data, pointer_error))
                if event.sqe.opcode == AdminOpcode.ABORT:
                    self.aborts.abort_submitted(event.sqe)
            else:
                data, pointer_error = host_data(event.sqe, self.model.active_namespace, self.peek)
                ns = self.model.active_namespace(event.sqe.nsid)
                lists = vector_lists(event.sqe, self.peek) \
                    if event.sqe.opcode in set(OcOpcode) and ns is not None and ns.chunks is not None else None
                prediction = self.model.io(event.sqe, data, pointer_error, lists)
            if prediction is not None:
                self.predictions[key] = prediction
        elif isinstance(event, CqeReaped):
            # seen before the completion scoreboard asks for this CQE's expected status
            if event.cqid == ADMIN_QID:
                self.aborts.abort_completed(event.cqe)
            else:
                self.aborts.completed((event.cqe.sq_id, event.cqe.cid), event.cqe.status)
        elif isinstance(event, AdminQueueCreated):
            self.model.enabled(event.css)
        elif isinstance(event, ControllerReset):
            self.model.reset()
            self.predictions.clear()
            self.aborts.reset()

    def _with_pointer(self, sqe: SubmissionEntry, prediction: Prediction | None) -> Prediction | None:
        """An admin command that returns data fails as the DMA engine would if its PRPs are invalid."""
        if prediction is None or prediction.data is None or not prediction.status.is_success:
            return prediction
        try:
            pointer_segments(sqe, len(prediction.data), self.peek)
        except DataPointerError as err:
            return Prediction(Status.of(err.code, dnr=True))
        except NoHostMemory:
            return Prediction(Status.of(GenericStatus.DATA_TRANSFER_ERROR, dnr=True))
        return prediction

    def expected_status(self, sqid: int, cid: int) -> Expected:
        prediction = self.predictions.get((sqid, cid))
        return self.aborts.expected((sqid, cid), SUCCESS if prediction is None else prediction.status)

    def take(self, sqid: int, cid: int) -> Prediction | None:
        return self.predictions.pop((sqid, cid), None)


class DataScoreboard(uvm_subscriber):
    """Every successful read's bytes in host memory against the model's shadow contents, and DW0-DW1 of
    every completion whose status is the predicted one (Set/Get Features values, Number of Queues)."""

    def build_phase(self) -> None:
        self.reference: NvmeReference = ConfigDB().get(self, "", "REFERENCE")
        self.peek = ConfigDB().get(self, "", "HOST_MEMORY")
        self.pending: dict[tuple[int, int], SubmissionEntry] = {}
        self.reads_checked = 0
        self.bytes_checked = 0
        self.dw0_checked = 0

    def write(self, event: QueueEvent) -> None:
        if isinstance(event, SqeSubmitted):
            self.pending[(event.sqid, event.sqe.cid)] = event.sqe
        elif isinstance(event, CqeReaped):
            key = (event.cqe.sq_id, event.cqe.cid)
            sqe = self.pending.pop(key, None)
            prediction = self.reference.take(*key)
            if prediction is None or not event.cqe.status.same_code(prediction.status):
                return
            if prediction.dw0 is not None:
                assert (event.cqe.dw0, event.cqe.dw1) == (prediction.dw0, prediction.dw1), (
                    f"SQ {key[0]} CID {key[1]:#06x}: DW0-DW1 {event.cqe.dw0:#010x} {event.cqe.dw1:#010x}, the "
                    f"model predicts {prediction.dw0:#010x} {prediction.dw1:#010x}")
                self.dw0_checked += 1
            if prediction.landed is not None and event.cqe.status.is_success:
                prediction.landed(event.cqe)
                self.dw0_checked += 1
            if sqe is None or prediction.data is None or not event.cqe.status.is_success:
                return
            described = pointer_segments(sqe, prediction.buffer or len(prediction.data), self.peek)
            segments, expected = landed(leading(described, len(prediction.data)), prediction.data)
            got = b"".join(self.peek(seg.addr, seg.length) for seg in segments)
            assert got == expected, (
                f"SQ {key[0]} CID {key[1]:#06x}: {len(got)} bytes read differ from the shadow contents "
                f"(first difference at byte {next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)})")
            self.reads_checked += 1
            self.bytes_checked += len(got)
        elif isinstance(event, ControllerReset):
            self.pending.clear()

    def report_phase(self) -> None:
        self.logger.info("data scoreboard: %d reads, %d bytes, %d DW0 checked", self.reads_checked,
                         self.bytes_checked, self.dw0_checked)
