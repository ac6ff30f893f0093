"""NVM and admin command fields and SQE builders beyond the queue commands of models.nvme_spec.

Written down once for the host (building commands), the firmware (decoding
them) and the reference model (predicting them).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from enum import IntEnum

from models.identify import LBA_FORMATS, NSID_BROADCAST, IdentifyNamespace
from models.nvme_spec import AdminOpcode, NvmOpcode, SubmissionEntry
from models.open_channel import OcOpcode
from models.zoned import ZnsOpcode, ZoneReceiveFields

# Command fields (NVM command set section 6, admin commands section 5)

PSDT_PRP = 0
PSDT_SGL = 1          # SGL for data, MPTR a metadata pointer; 2 (metadata SGL) and 3 are not taken
DSM_RANGE_SIZE = 16
DSM_ATTR_DEALLOCATE = 1 << 2
FEATURE_SAVE = 1 << 31
POWER_STATE_MASK = 0x1F          # Power Management CDW11 PS [4:0]; WH [7:5] is a hint, kept as given
ERROR_RECOVERY_DULBE = 1 << 16   # Error Recovery CDW11 DULBE: only if Identify Namespace NSFEAT bit 2 is set
ABORT_NOT_ABORTED = 1   # Abort DW0 bit 0: the command was not aborted


def rw_fields(sqe: SubmissionEntry) -> tuple[int, int]:
    """(SLBA, number of blocks) of Read, Write, Compare and Write Zeroes: CDW10-11 SLBA, CDW12 NLB zero-based."""
    return sqe.cdw10 | sqe.cdw11 << 32, (sqe.cdw12 & 0xFFFF) + 1


@dataclass(frozen=True)
class DsmRange:
    """A Dataset Management range (figure 364): context attributes, length in LBAs (not zero-based), SLBA."""

    slba: int
    nlb: int
    attributes: int = 0

    _FORMAT = struct.Struct("<IIQ")

    def pack(self) -> bytes:
        return self._FORMAT.pack(self.attributes, self.nlb, self.slba)

    @classmethod
    def unpack_all(cls, data: bytes) -> list[DsmRange]:
        return [cls(slba, nlb, attrs) for attrs, nlb, slba in cls._FORMAT.iter_unpack(data)]


def dsm_ranges(sqe: SubmissionEntry) -> int:
    """Number of ranges of a Dataset Management command (CDW10 NR zero-based)."""
    return (sqe.cdw10 & 0xFF) + 1


COPY_RANGE_SIZE = 32
COPY_FORMAT_0 = 0     # the only source range format offered (Identify OCFS bit 0)


@dataclass(frozen=True)
class CopyRange:
    """A Copy source range, descriptor format 0: SLBA at byte 8, NLB zero-based at byte 16 (kept here as a
    count); the end-to-end protection fields after it are not offered (DPS 0) and stay zero."""

    slba: int
    nlb: int

    _FORMAT = struct.Struct("<8xQH14x")

    def pack(self) -> bytes:
        return self._FORMAT.pack(self.slba, self.nlb - 1)

    @classmethod
    def unpack_all(cls, data: bytes) -> list[CopyRange]:
        return [cls(slba, nlb + 1) for slba, nlb in cls._FORMAT.iter_unpack(data)]


@dataclass(frozen=True)
class CopyFields:
    """Copy: CDW10-11 SDLBA, CDW12 NR [7:0] zero-based (kept as a count) and Descriptor Format [11:8]."""

    sdlba: int
    ranges: int
    desfmt: int

    @classmethod
    def decode(cls, sqe: SubmissionEntry) -> CopyFields:
        return cls(sdlba=sqe.cdw10 | sqe.cdw11 << 32, ranges=(sqe.cdw12 & 0xFF) + 1, desfmt=sqe.cdw12 >> 8 & 0xF)


@dataclass(frozen=True)
class LogRequest:
    """Get Log Page fields: LID, RAE, the length in bytes (NUMDU:NUMDL dwords), the byte offset and the
    command set the log is of (CSI, CDW14 [31:24])."""

    lid: int
    rae: bool
    length: int
    offset: int
    csi: int = 0

    @classmethod
    def decode(cls, sqe: SubmissionEntry) -> LogRequest:
        numd = (sqe.cdw10 >> 16 | (sqe.cdw11 & 0xFFFF) << 16) + 1
        return cls(lid=sqe.cdw10 & 0xFF, rae=bool(sqe.cdw10 >> 15 & 1), length=4 * numd,
                   offset=sqe.cdw12 | sqe.cdw13 << 32, csi=sqe.cdw14 >> 24)


def data_length(sqe: SubmissionEntry, lba_size: int | None) -> int:
    """Bytes the command moves through PRP1/PRP2 (0 for none); ``lba_size`` of its namespace for NVM commands."""
    if sqe.opcode in (NvmOpcode.READ, NvmOpcode.WRITE, NvmOpcode.COMPARE, ZnsOpcode.ZONE_APPEND,
                      OcOpcode.VECTOR_READ, OcOpcode.VECTOR_WRITE):   # a vector command's NLB is at the same place
        assert lba_size is not None, "an LBA-addressed transfer needs its namespace's LBA size"
        return rw_fields(sqe)[1] * lba_size
    if sqe.opcode == NvmOpcode.DATASET_MANAGEMENT:
        return dsm_ranges(sqe) * DSM_RANGE_SIZE
    if sqe.opcode == ZnsOpcode.ZONE_MGMT_RECV:
        return ZoneReceiveFields.decode(sqe).length
    if sqe.opcode == NvmOpcode.COPY:
        return CopyFields.decode(sqe).ranges * COPY_RANGE_SIZE
    raise ValueError(f"opcode {sqe.opcode:#04x} is not an NVM data command")


# SQE builders for the host

def _rw(opcode: NvmOpcode, nsid: int, slba: int, nlb: int, prp1: int, prp2: int) -> SubmissionEntry:
    if not 1 <= nlb <= 0x10000:
        raise ValueError(f"{nlb} blocks: NLB holds 1..65536")
    return SubmissionEntry(opcode, nsid=nsid, prp1=prp1, prp2=prp2, cdw10=slba & 0xFFFF_FFFF, cdw11=slba >> 32,
                           cdw12=nlb - 1)


def read_cmd(nsid: int, slba: int, nlb: int, prp1: int = 0, prp2: int = 0) -> SubmissionEntry:
    return _rw(NvmOpcode.READ, nsid, slba, nlb, prp1, prp2)


def write_cmd(nsid: int, slba: int, nlb: int, prp1: int = 0, prp2: int = 0) -> SubmissionEntry:
    return _rw(NvmOpcode.WRITE, nsid, slba, nlb, prp1, prp2)


def compare_cmd(nsid: int, slba: int, nlb: int, prp1: int = 0, prp2: int = 0) -> SubmissionEntry:
    return _rw(NvmOpcode.COMPARE, nsid, slba, nlb, prp1, prp2)


def write_zeroes_cmd(nsid: int, slba: int, nlb: int) -> SubmissionEntry:
    return _rw(NvmOpcode.WRITE_ZEROES, nsid, slba, nlb, 0, 0)


def flush_cmd(nsid: int) -> SubmissionEntry:
    return SubmissionEntry(NvmOpcode.FLUSH, nsid=nsid)


def dsm_cmd(nsid: int, ranges: int, prp1: int = 0, prp2: int = 0, deallocate: bool = True) -> SubmissionEntry:
    return SubmissionEntry(NvmOpcode.DATASET_MANAGEMENT, nsid=nsid, prp1=prp1, prp2=prp2, cdw10=ranges - 1,
                           cdw11=DSM_ATTR_DEALLOCATE if deallocate else 0)


def verify_cmd(nsid: int, slba: int, nlb: int) -> SubmissionEntry:
    return _rw(NvmOpcode.VERIFY, nsid, slba, nlb, 0, 0)


def copy_cmd(nsid: int, sdlba: int, ranges: int, prp1: int = 0, prp2: int = 0, desfmt: int = 0) -> SubmissionEntry:
    """Copy ``ranges`` source ranges (their descriptors at PRP1/PRP2) to ``sdlba``."""
    return SubmissionEntry(NvmOpcode.COPY, nsid=nsid, prp1=prp1, prp2=prp2, cdw10=sdlba & 0xFFFF_FFFF,
                           cdw11=sdlba >> 32, cdw12=(ranges - 1) & 0xFF | desfmt << 8)


def identify_cmd(cns: int, nsid: int = 0, prp1: int = 0, prp2: int = 0, cntid: int = 0,
                 csi: int = 0) -> SubmissionEntry:
    return SubmissionEntry(AdminOpcode.IDENTIFY, nsid=nsid, prp1=prp1, prp2=prp2, cdw10=cns | cntid << 16,
                           cdw11=csi << 24)


def get_log_page_cmd(lid: int, length: int, offset: int = 0, rae: bool = False, nsid: int = NSID_BROADCAST,
                     prp1: int = 0, prp2: int = 0, csi: int = 0) -> SubmissionEntry:
    """Get Log Page of ``length`` bytes (a multiple of 4) from byte ``offset``, of command set ``csi``."""
    numd = length // 4 - 1
    return SubmissionEntry(AdminOpcode.GET_LOG_PAGE, nsid=nsid, prp1=prp1, prp2=prp2,
                           cdw10=lid | int(rae) << 15 | (numd & 0xFFFF) << 16, cdw11=numd >> 16,
                           cdw12=offset & 0xFFFF_FFFF, cdw13=offset >> 32, cdw14=csi << 24)


def abort_cmd(sqid: int, cid: int) -> SubmissionEntry:
    return SubmissionEntry(AdminOpcode.ABORT, cdw10=sqid | cid << 16)


def async_event_request_cmd() -> SubmissionEntry:
    return SubmissionEntry(AdminOpcode.ASYNC_EVENT_REQUEST)


def doorbell_buffer_config_cmd(shadow_doorbells: int, event_idx: int) -> SubmissionEntry:
    """Doorbell Buffer Config: PRP1 the shadow doorbell buffer, PRP2 the EventIdx buffer (bus addresses)."""
    return SubmissionEntry(AdminOpcode.DOORBELL_BUFFER_CONFIG, prp1=shadow_doorbells, prp2=event_idx)


# Namespace Management (0Dh) and Namespace Attachment (15h), sections 5.20 and 5.19 of 1.4

class NsManagementSel(IntEnum):
    CREATE = 0
    DELETE = 1


class NsAttachmentSel(IntEnum):
    ATTACH = 0
    DETACH = 1


NS_DATA_SIZE = 4096   # the host-specified Identify Namespace fields, or a Controller List


def sel_of(sqe: SubmissionEntry) -> int:
    return sqe.cdw10 & 0xF


def csi_of(sqe: SubmissionEntry) -> int:
    """Namespace Management CDW11 [31:24]: the command set of the namespace to create (0: NVM)."""
    return sqe.cdw11 >> 24


def ns_create_cmd(prp1: int = 0, prp2: int = 0, csi: int = 0) -> SubmissionEntry:
    return SubmissionEntry(AdminOpcode.NS_MANAGEMENT, prp1=prp1, prp2=prp2, cdw10=NsManagementSel.CREATE,
                           cdw11=csi << 24)


def ns_delete_cmd(nsid: int) -> SubmissionEntry:
    return SubmissionEntry(AdminOpcode.NS_MANAGEMENT, nsid=nsid, cdw10=NsManagementSel.DELETE)


def ns_attachment_cmd(nsid: int, detach: bool = False, prp1: int = 0, prp2: int = 0) -> SubmissionEntry:
    return SubmissionEntry(AdminOpcode.NS_ATTACHMENT, nsid=nsid, prp1=prp1, prp2=prp2,
                           cdw10=NsAttachmentSel.DETACH if detach else NsAttachmentSel.ATTACH)


def ns_create_data(nlbas: int, lba_size: int, ncap: int | None = None, dps: int = 0, nmic: int = 0) -> bytes:
    """The data of a create: the host-specified fields of Identify Namespace (NSZE, NCAP, FLBAS, DPS,
    NMIC); NCAP defaults to NSZE (fully provisioned)."""
    flbas = [f.lba_size for f in LBA_FORMATS].index(lba_size)
    return IdentifyNamespace(nsze=nlbas, ncap=nlbas if ncap is None else ncap, nuse=0, flbas=flbas, dps=dps,
                             nmic=nmic).pack()
