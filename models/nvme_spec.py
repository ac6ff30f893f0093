"""NVMe 1.4 command-level constants and codecs (NVM Express Base Specification 1.4).

Shared by the firmware model, the host driver and the reference models, so
that an opcode, a status code or a field position is written down once. The
byte layouts follow the spec's figures: the 64-byte submission queue entry
(figure 105), the 16-byte completion queue entry (figure 121) and the status
field (figure 123). Pure Python: no cocotb.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

SQE_SIZE = 64
CQE_SIZE = 16


def _field(value: int, width: int, name: str) -> int:
    """A field value checked against its width, so a pack never silently truncates."""
    if not 0 <= value < 1 << width:
        raise ValueError(f"{name}={value:#x} does not fit in {width} bits")
    return value


# CC.CSS values (NVMe 2.0 figure 41): which I/O command sets the host enables the controller with
CC_CSS_NVM = 0b000             # the NVM command set only
CC_CSS_ALL_IO = 0b110          # every I/O command set the I/O Command Set Profile feature selects


class Csi(IntEnum):
    """Command Set Identifiers (NVMe 2.0 figure 286)."""

    NVM = 0x0
    KEY_VALUE = 0x1
    ZONED = 0x2


# Identify CNS 1Ch: I/O Command Set Combination 0, the only one offered: the NVM, Key Value and Zoned sets
IOCS_COMBINATION = 1 << Csi.NVM | 1 << Csi.KEY_VALUE | 1 << Csi.ZONED


class AdminOpcode(IntEnum):
    DELETE_IO_SQ = 0x00
    CREATE_IO_SQ = 0x01
    GET_LOG_PAGE = 0x02
    DELETE_IO_CQ = 0x04
    CREATE_IO_CQ = 0x05
    IDENTIFY = 0x06
    ABORT = 0x08
    SET_FEATURES = 0x09
    GET_FEATURES = 0x0A
    ASYNC_EVENT_REQUEST = 0x0C
    NS_MANAGEMENT = 0x0D
    FW_COMMIT = 0x10
    OCSSD_GEOMETRY = 0xE2   # Open-Channel SSD 2.0, vendor-specific range
    FW_DOWNLOAD = 0x11
    NS_ATTACHMENT = 0x15
    KEEP_ALIVE = 0x18
    DOORBELL_BUFFER_CONFIG = 0x7C
    FORMAT_NVM = 0x80


class NvmOpcode(IntEnum):
    FLUSH = 0x00
    WRITE = 0x01
    READ = 0x02
    WRITE_UNCORRECTABLE = 0x04
    COMPARE = 0x05
    WRITE_ZEROES = 0x08
    DATASET_MANAGEMENT = 0x09
    VERIFY = 0x0C
    COPY = 0x19


class FeatureId(IntEnum):
    ARBITRATION = 0x01
    POWER_MANAGEMENT = 0x02
    LBA_RANGE_TYPE = 0x03
    TEMPERATURE_THRESHOLD = 0x04
    ERROR_RECOVERY = 0x05
    VOLATILE_WRITE_CACHE = 0x06
    NUMBER_OF_QUEUES = 0x07
    INTERRUPT_COALESCING = 0x08
    INTERRUPT_VECTOR_CONFIG = 0x09
    WRITE_ATOMICITY = 0x0A
    ASYNC_EVENT_CONFIG = 0x0B
    AUTONOMOUS_POWER_STATE = 0x0C
    HOST_MEMORY_BUFFER = 0x0D
    TIMESTAMP = 0x0E
    KEEP_ALIVE_TIMER = 0x0F
    IO_COMMAND_SET_PROFILE = 0x19


class GetFeaturesSelect(IntEnum):
    """Get Features CDW10.SEL: which value of the feature to return."""

    CURRENT = 0
    DEFAULT = 1
    SAVED = 2
    SUPPORTED_CAPABILITIES = 3


class StatusCodeType(IntEnum):
    GENERIC = 0
    COMMAND_SPECIFIC = 1
    MEDIA_DATA_INTEGRITY = 2
    PATH_RELATED = 3
    VENDOR_SPECIFIC = 7


class GenericStatus(IntEnum):
    """Status Code Type 0 (figures 125 and 126, NVM command set values from 0x80)."""

    SUCCESS = 0x00
    INVALID_OPCODE = 0x01
    INVALID_FIELD = 0x02
    CID_CONFLICT = 0x03
    DATA_TRANSFER_ERROR = 0x04
    ABORTED_POWER_LOSS = 0x05
    INTERNAL_ERROR = 0x06
    ABORT_REQUESTED = 0x07
    ABORT_SQ_DELETION = 0x08
    ABORT_FAILED_FUSED = 0x09
    ABORT_MISSING_FUSED = 0x0A
    INVALID_NAMESPACE_OR_FORMAT = 0x0B
    COMMAND_SEQUENCE_ERROR = 0x0C
    INVALID_SGL_SEGMENT_DESCRIPTOR = 0x0D
    INVALID_SGL_DESCRIPTOR_COUNT = 0x0E
    DATA_SGL_LENGTH_INVALID = 0x0F
    METADATA_SGL_LENGTH_INVALID = 0x10
    SGL_DESCRIPTOR_TYPE_INVALID = 0x11
    INVALID_USE_OF_CMB = 0x12
    PRP_OFFSET_INVALID = 0x13
    ATOMIC_WRITE_UNIT_EXCEEDED = 0x14
    OPERATION_DENIED = 0x15
    SGL_OFFSET_INVALID = 0x16
    NAMESPACE_WRITE_PROTECTED = 0x20
    COMMAND_INTERRUPTED = 0x21
    LBA_OUT_OF_RANGE = 0x80
    CAPACITY_EXCEEDED = 0x81
    NAMESPACE_NOT_READY = 0x82
    RESERVATION_CONFLICT = 0x83
    FORMAT_IN_PROGRESS = 0x84
    # NVMe Key Value Command Set 1.0c, figure 4: its generic status values
    KV_INVALID_VALUE_SIZE = 0x85
    KV_INVALID_KEY_SIZE = 0x86
    KV_KEY_DOES_NOT_EXIST = 0x87
    KV_KEY_EXISTS = 0x89


class CommandSpecificStatus(IntEnum):
    """Status Code Type 1 (figure 127, NVM command set values from 0x80)."""

    COMPLETION_QUEUE_INVALID = 0x00
    INVALID_QUEUE_IDENTIFIER = 0x01
    INVALID_QUEUE_SIZE = 0x02
    ABORT_COMMAND_LIMIT_EXCEEDED = 0x03
    ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED = 0x05
    INVALID_FIRMWARE_SLOT = 0x06
    INVALID_FIRMWARE_IMAGE = 0x07
    INVALID_INTERRUPT_VECTOR = 0x08
    INVALID_LOG_PAGE = 0x09
    INVALID_FORMAT = 0x0A
    INVALID_QUEUE_DELETION = 0x0C
    FEATURE_NOT_SAVEABLE = 0x0D
    FEATURE_NOT_CHANGEABLE = 0x0E
    FEATURE_NOT_NAMESPACE_SPECIFIC = 0x0F
    NAMESPACE_INSUFFICIENT_CAPACITY = 0x15
    NAMESPACE_ID_UNAVAILABLE = 0x16
    NAMESPACE_ALREADY_ATTACHED = 0x18
    NAMESPACE_IS_PRIVATE = 0x19
    NAMESPACE_NOT_ATTACHED = 0x1A
    THIN_PROVISIONING_NOT_SUPPORTED = 0x1B
    CONTROLLER_LIST_INVALID = 0x1C
    IO_COMMAND_SET_COMBINATION_REJECTED = 0x2B
    CONFLICTING_ATTRIBUTES = 0x80
    INVALID_PROTECTION_INFORMATION = 0x81
    WRITE_TO_READ_ONLY_RANGE = 0x82
    COMMAND_SIZE_LIMIT_EXCEEDED = 0x83    # Copy beyond MSRC, MSSRL or MCL
    # NVM Express Zoned Namespace Command Set Specification 1.0: its command specific status values
    ZONE_BOUNDARY_ERROR = 0xB8
    ZONE_IS_FULL = 0xB9
    ZONE_IS_READ_ONLY = 0xBA
    ZONE_IS_OFFLINE = 0xBB
    ZONE_INVALID_WRITE = 0xBC
    TOO_MANY_ACTIVE_ZONES = 0xBD
    TOO_MANY_OPEN_ZONES = 0xBE
    INVALID_ZONE_STATE_TRANSITION = 0xBF


class MediaStatus(IntEnum):
    """Status Code Type 2 (figure 128)."""

    WRITE_FAULT = 0x80
    UNRECOVERED_READ_ERROR = 0x81
    GUARD_CHECK_ERROR = 0x82
    APPLICATION_TAG_CHECK_ERROR = 0x83
    REFERENCE_TAG_CHECK_ERROR = 0x84
    COMPARE_FAILURE = 0x85
    ACCESS_DENIED = 0x86
    DEALLOCATED_OR_UNWRITTEN_BLOCK = 0x87
    # Open-Channel Solid State Drives Specification 2.0, media errors (vendor-specific range)
    OCSSD_OFFLINE_CHUNK = 0xC0     # Vector Chunk Reset of an Offline chunk
    OCSSD_INVALID_RESET = 0xC1     # Vector Chunk Reset the chunk's state does not allow (a Free chunk)
    OCSSD_OUT_OF_ORDER_WRITE = 0xF2


StatusCode = GenericStatus | CommandSpecificStatus | MediaStatus
_SCT_OF: dict[type, StatusCodeType] = {
    GenericStatus: StatusCodeType.GENERIC,
    CommandSpecificStatus: StatusCodeType.COMMAND_SPECIFIC,
    MediaStatus: StatusCodeType.MEDIA_DATA_INTEGRITY,
}
_CODES_OF: dict[int, type[IntEnum]] = {sct: enum for enum, sct in _SCT_OF.items()}


@dataclass(frozen=True)
class Status:
    """The 15-bit status field of a CQE (DW3 bits 31:17; figure 123).

    SC [7:0], SCT [10:8], CRD [12:11], M [13], DNR [14] of the field. The
    firmware's CPL_POST register takes the same 15 bits at [31:17].
    """

    sc: int
    sct: int = StatusCodeType.GENERIC
    crd: int = 0
    m: bool = False
    dnr: bool = False

    def __post_init__(self) -> None:
        _field(self.sc, 8, "SC")
        _field(self.sct, 3, "SCT")
        _field(self.crd, 2, "CRD")

    @classmethod
    def of(cls, code: StatusCode, dnr: bool = False) -> Status:
        """A status from a named code; the code's enum says which SCT it belongs to."""
        return cls(sc=int(code), sct=_SCT_OF[type(code)], dnr=dnr)

    @classmethod
    def decode(cls, raw: int) -> Status:
        _field(raw, 15, "status field")
        return cls(sc=raw & 0xFF, sct=raw >> 8 & 0x7, crd=raw >> 11 & 0x3, m=bool(raw >> 13 & 1),
                   dnr=bool(raw >> 14 & 1))

    def encode(self) -> int:
        return self.sc | self.sct << 8 | self.crd << 11 | int(self.m) << 13 | int(self.dnr) << 14

    @property
    def is_success(self) -> bool:
        return self.sct == StatusCodeType.GENERIC and self.sc == GenericStatus.SUCCESS

    def has(self, code: StatusCode) -> bool:
        """This status carries ``code`` (its SCT and SC), whatever its retry hints."""
        return self.same_code(Status.of(code))

    def same_code(self, other: Status) -> bool:
        """Same SCT and SC: what a scoreboard compares; CRD, M and DNR are retry hints."""
        return (self.sct, self.sc) == (other.sct, other.sc)

    @property
    def name(self) -> str:
        """The code's name, e.g. NAMESPACE_NOT_ATTACHED; "SC 0x.." when this project names none."""
        enum = _CODES_OF.get(self.sct)
        try:
            return enum(self.sc).name if enum else f"SC {self.sc:#04x}"
        except ValueError:
            return f"SC {self.sc:#04x}"

    def __str__(self) -> str:
        name = self.name
        flags = "".join(f" {f}" for f, on in (("DNR", self.dnr), ("M", self.m)) if on)
        return f"{name} (SCT {self.sct}, SC {self.sc:#04x}{flags})"


SUCCESS = Status.of(GenericStatus.SUCCESS)


@dataclass(frozen=True)
class SubmissionEntry:
    """A 64-byte submission queue entry (figure 105).

    CDW0: opcode [7:0], FUSE [9:8], PSDT [15:14], CID [31:16]; DW1 NSID;
    DW2-3 reserved in 1.4 but carried so that any 64 bytes round-trip;
    DW4-5 MPTR, DW6-7 PRP1, DW8-9 PRP2, DW10-15 command specific.
    """

    opcode: int
    fuse: int = 0
    psdt: int = 0
    cid: int = 0
    nsid: int = 0
    cdw2: int = 0
    cdw3: int = 0
    mptr: int = 0
    prp1: int = 0
    prp2: int = 0
    cdw10: int = 0
    cdw11: int = 0
    cdw12: int = 0
    cdw13: int = 0
    cdw14: int = 0
    cdw15: int = 0

    _FORMAT = struct.Struct("<IIIIQQQIIIIII")

    def __post_init__(self) -> None:
        _field(self.opcode, 8, "opcode")
        _field(self.fuse, 2, "FUSE")
        _field(self.psdt, 2, "PSDT")
        _field(self.cid, 16, "CID")

    def pack(self) -> bytes:
        cdw0 = self.opcode | self.fuse << 8 | self.psdt << 14 | self.cid << 16
        return self._FORMAT.pack(cdw0, self.nsid, self.cdw2, self.cdw3, self.mptr, self.prp1, self.prp2,
                                 self.cdw10, self.cdw11, self.cdw12, self.cdw13, self.cdw14, self.cdw15)

    @classmethod
    def unpack(cls, data: bytes) -> SubmissionEntry:
        if len(data) != SQE_SIZE:
            raise ValueError(f"an SQE is {SQE_SIZE} bytes, got {len(data)}")
        cdw0, nsid, cdw2, cdw3, mptr, prp1, prp2, *cdws = cls._FORMAT.unpack(data)
        return cls(cdw0 & 0xFF, cdw0 >> 8 & 0x3, cdw0 >> 14 & 0x3, cdw0 >> 16, nsid, cdw2, cdw3, mptr,
                   prp1, prp2, *cdws)

    @classmethod
    def from_dwords(cls, dwords: list[int]) -> SubmissionEntry:
        """From the 16 dwords the firmware reads out of a command slot."""
        return cls.unpack(struct.pack("<16I", *dwords))


@dataclass(frozen=True)
class CompletionEntry:
    """A 16-byte completion queue entry (figure 121).

    DW0 and DW1 command specific; DW2: SQ head [15:0], SQ id [31:16];
    DW3: CID [15:0], phase tag [16], status [31:17].
    """

    dw0: int = 0
    dw1: int = 0
    sq_head: int = 0
    sq_id: int = 0
    cid: int = 0
    phase: int = 0
    status: Status = field(default=SUCCESS)

    _FORMAT = struct.Struct("<IIHHI")

    def __post_init__(self) -> None:
        _field(self.sq_head, 16, "SQ head")
        _field(self.sq_id, 16, "SQ id")
        _field(self.cid, 16, "CID")
        _field(self.phase, 1, "phase")

    def pack(self) -> bytes:
        dw3 = self.cid | self.phase << 16 | self.status.encode() << 17
        return self._FORMAT.pack(self.dw0, self.dw1, self.sq_head, self.sq_id, dw3)

    @classmethod
    def unpack(cls, data: bytes) -> CompletionEntry:
        if len(data) != CQE_SIZE:
            raise ValueError(f"a CQE is {CQE_SIZE} bytes, got {len(data)}")
        dw0, dw1, sq_head, sq_id, dw3 = cls._FORMAT.unpack(data)
        return cls(dw0, dw1, sq_head, sq_id, dw3 & 0xFFFF, dw3 >> 16 & 1, Status.decode(dw3 >> 17))


# Command Dword fields of the queue and feature commands (spec 5.3-5.5, 5.21).

def qsize_qid(cdw10: int) -> tuple[int, int]:
    """Create I/O SQ/CQ CDW10: (QSIZE zero-based [31:16], QID [15:0])."""
    return cdw10 >> 16, cdw10 & 0xFFFF


@dataclass(frozen=True)
class CreateCqFlags:
    """Create I/O CQ CDW11: IV [31:16], IEN [1], PC [0]."""

    pc: bool
    ien: bool
    iv: int

    @classmethod
    def decode(cls, cdw11: int) -> CreateCqFlags:
        return cls(pc=bool(cdw11 & 1), ien=bool(cdw11 >> 1 & 1), iv=cdw11 >> 16)

    def encode(self) -> int:
        return int(self.pc) | int(self.ien) << 1 | _field(self.iv, 16, "IV") << 16


@dataclass(frozen=True)
class CreateSqFlags:
    """Create I/O SQ CDW11: CQID [31:16], QPRIO [2:1], PC [0]."""

    pc: bool
    qprio: int
    cqid: int

    @classmethod
    def decode(cls, cdw11: int) -> CreateSqFlags:
        return cls(pc=bool(cdw11 & 1), qprio=cdw11 >> 1 & 0x3, cqid=cdw11 >> 16)

    def encode(self) -> int:
        return int(self.pc) | _field(self.qprio, 2, "QPRIO") << 1 | _field(self.cqid, 16, "CQID") << 16


def num_queues_dword(nsq: int, ncq: int) -> int:
    """Number of Queues CDW11 (requested) or DW0 (allocated): NCQ [31:16], NSQ [15:0], zero-based."""
    return _field(nsq, 16, "NSQ") | _field(ncq, 16, "NCQ") << 16


def arbitration_dword(ab: int, lpw: int = 0, mpw: int = 0, hpw: int = 0) -> int:
    """Arbitration CDW11: AB [2:0] (burst 2^AB, 7 = no limit), LPW, MPW, HPW zero-based weights."""
    return (_field(ab, 3, "AB") | _field(lpw, 8, "LPW") << 8 | _field(mpw, 8, "MPW") << 16
            | _field(hpw, 8, "HPW") << 24)


def coalescing_dword(thr: int, time_100us: int) -> int:
    """Interrupt Coalescing CDW11: THR [7:0] (entries, zero-based), TIME [15:8] (100 us units)."""
    return _field(thr, 8, "THR") | _field(time_100us, 8, "TIME") << 8


def vector_config_dword(iv: int, cd: bool) -> int:
    """Interrupt Vector Configuration CDW11: IV [15:0], CD [16] (coalescing disable)."""
    return _field(iv, 16, "IV") | int(cd) << 16


# Builders for the admin commands the queue-engine tests send. CID is 0: the
# host queue assigns it when it submits.

def create_io_cq(qid: int, qsize: int, prp1: int, iv: int, ien: bool = True, pc: bool = True) -> SubmissionEntry:
    """Create I/O Completion Queue; ``qsize`` is the zero-based QSIZE field."""
    return SubmissionEntry(AdminOpcode.CREATE_IO_CQ, prp1=prp1,
                           cdw10=_field(qsize, 16, "QSIZE") << 16 | _field(qid, 16, "QID"),
                           cdw11=CreateCqFlags(pc=pc, ien=ien, iv=iv).encode())


def create_io_sq(qid: int, qsize: int, prp1: int, cqid: int, qprio: int = 0, pc: bool = True) -> SubmissionEntry:
    """Create I/O Submission Queue; ``qsize`` is the zero-based QSIZE field."""
    return SubmissionEntry(AdminOpcode.CREATE_IO_SQ, prp1=prp1,
                           cdw10=_field(qsize, 16, "QSIZE") << 16 | _field(qid, 16, "QID"),
                           cdw11=CreateSqFlags(pc=pc, qprio=qprio, cqid=cqid).encode())


def delete_io_sq(qid: int) -> SubmissionEntry:
    return SubmissionEntry(AdminOpcode.DELETE_IO_SQ, cdw10=_field(qid, 16, "QID"))


def delete_io_cq(qid: int) -> SubmissionEntry:
    return SubmissionEntry(AdminOpcode.DELETE_IO_CQ, cdw10=_field(qid, 16, "QID"))


def set_features(fid: int, cdw11: int, save: bool = False) -> SubmissionEntry:
    """Set Features: CDW10 FID [7:0], SV [31]."""
    return SubmissionEntry(AdminOpcode.SET_FEATURES, cdw10=_field(fid, 8, "FID") | int(save) << 31, cdw11=cdw11)


def get_features(fid: int, sel: GetFeaturesSelect = GetFeaturesSelect.CURRENT, cdw11: int = 0) -> SubmissionEntry:
    """Get Features: CDW10 FID [7:0], SEL [10:8]; CDW11 carries IV for Interrupt Vector Configuration."""
    return SubmissionEntry(AdminOpcode.GET_FEATURES, cdw10=_field(fid, 8, "FID") | _field(sel, 3, "SEL") << 8,
                           cdw11=cdw11)


def set_num_queues(nsq: int, ncq: int) -> SubmissionEntry:
    """Request ``nsq`` I/O SQs and ``ncq`` I/O CQs (counts, not zero-based)."""
    return set_features(FeatureId.NUMBER_OF_QUEUES, num_queues_dword(nsq - 1, ncq - 1))


def set_arbitration(ab: int, lpw: int = 0, mpw: int = 0, hpw: int = 0) -> SubmissionEntry:
    return set_features(FeatureId.ARBITRATION, arbitration_dword(ab, lpw, mpw, hpw))


def set_interrupt_coalescing(thr: int, time_100us: int) -> SubmissionEntry:
    return set_features(FeatureId.INTERRUPT_COALESCING, coalescing_dword(thr, time_100us))


def set_interrupt_vector_config(iv: int, cd: bool) -> SubmissionEntry:
    return set_features(FeatureId.INTERRUPT_VECTOR_CONFIG, vector_config_dword(iv, cd))
