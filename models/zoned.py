"""The Zoned Namespace command set (NVMe ZNS Command Set 1.1): what host, firmware and reference model share.

Zone states and actions with their encodings, the fields of Zone
Management Send (79h), Zone Management Receive (7Ah) and Zone Append (7Dh),
the zone report, the ZNS Identify structures (CNS 05h and 06h with CSI
02h), the Changed Zone List log (BFh) and its event. A layout is written
here once; the zone state machine itself is written twice on purpose: in
the back end (models.flash.zns) and in the reference model
(models.zone_model), so that the scoreboards compare two readings of the
spec.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from models.nvme_spec import SubmissionEntry

IDENTIFY_SIZE = 4096


class ZnsOpcode(IntEnum):
    ZONE_MGMT_SEND = 0x79
    ZONE_MGMT_RECV = 0x7A
    ZONE_APPEND = 0x7D


class ZoneState(IntEnum):
    """Zone states with their encodings (the ZS field of a zone descriptor)."""

    EMPTY = 0x1
    IMPLICIT_OPEN = 0x2
    EXPLICIT_OPEN = 0x3
    CLOSED = 0x4
    READ_ONLY = 0xD
    FULL = 0xE
    OFFLINE = 0xF


OPENED = (ZoneState.IMPLICIT_OPEN, ZoneState.EXPLICIT_OPEN)
ACTIVE = (*OPENED, ZoneState.CLOSED)


class ZoneAction(IntEnum):
    """Zone Management Send actions (ZSA) with their encodings."""

    CLOSE = 0x1
    FINISH = 0x2
    OPEN = 0x3
    RESET = 0x4
    OFFLINE = 0x5


# the zones an action applies to when Select All is set
SELECT_ALL = {
    ZoneAction.CLOSE: OPENED,
    ZoneAction.FINISH: ACTIVE,
    ZoneAction.OPEN: (ZoneState.CLOSED,),
    ZoneAction.RESET: (*ACTIVE, ZoneState.FULL),
    ZoneAction.OFFLINE: (ZoneState.READ_ONLY,),
}


class ReportFilter(IntEnum):
    """Zone Management Receive's Reporting Options (ZRASF for Report Zones)."""

    ALL = 0x0
    EMPTY = 0x1
    IMPLICIT_OPEN = 0x2
    EXPLICIT_OPEN = 0x3
    CLOSED = 0x4
    FULL = 0x5
    READ_ONLY = 0x6
    OFFLINE = 0x7

    def matches(self, state: ZoneState) -> bool:
        return self == ReportFilter.ALL or ZoneState[self.name] == state


ZRA_REPORT_ZONES = 0x0       # Zone Receive Action: Report Zones (Extended Report Zones needs ZDES, which is 0)
ZONE_TYPE_SEQUENTIAL = 0x2   # sequential write required, the only zone type
REPORT_HEADER_SIZE = 64
ZONE_DESCRIPTOR_SIZE = 64


@dataclass(frozen=True)
class ZoneDescriptor:
    """One zone as Report Zones describes it (ZNS figure 37): start, capacity, write pointer, state."""

    zslba: int
    zcap: int
    wp: int
    state: ZoneState

    _FORMAT = struct.Struct("<BBBx4xQQQ32x")

    def pack(self) -> bytes:
        return self._FORMAT.pack(ZONE_TYPE_SEQUENTIAL, self.state << 4, 0, self.zcap, self.zslba, self.wp)

    @classmethod
    def unpack(cls, raw: bytes) -> ZoneDescriptor:
        _, zs, _, zcap, zslba, wp = cls._FORMAT.unpack(raw)
        return cls(zslba, zcap, wp, ZoneState(zs >> 4))


@dataclass(frozen=True)
class ZoneGeometry:
    """A zoned namespace's zones in LBAs, and its open and active resources (None: no limit)."""

    size: int
    capacity: int
    max_open: int | None = None
    max_active: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.capacity <= self.size:
            raise ValueError(f"zone capacity {self.capacity} must be 1..zone size {self.size}")


# command fields

@dataclass(frozen=True)
class ZoneSendFields:
    """Zone Management Send: SLBA (CDW10-11), ZSA (CDW13 [7:0]), Select All (CDW13 bit 8)."""

    slba: int
    action: int
    select_all: bool

    @classmethod
    def decode(cls, sqe: SubmissionEntry) -> ZoneSendFields:
        return cls(sqe.cdw10 | sqe.cdw11 << 32, sqe.cdw13 & 0xFF, bool(sqe.cdw13 >> 8 & 1))


@dataclass(frozen=True)
class ZoneReceiveFields:
    """Zone Management Receive: SLBA (CDW10-11), bytes (NUMD, CDW12, zero-based dwords), ZRA (CDW13 [7:0]),
    the reporting option (CDW13 [15:8]) and Partial Report (CDW13 bit 16)."""

    slba: int
    length: int
    action: int
    option: int
    partial: bool

    @classmethod
    def decode(cls, sqe: SubmissionEntry) -> ZoneReceiveFields:
        return cls(sqe.cdw10 | sqe.cdw11 << 32, 4 * (sqe.cdw12 + 1), sqe.cdw13 & 0xFF, sqe.cdw13 >> 8 & 0xFF,
                   bool(sqe.cdw13 >> 16 & 1))


def zone_report(zones: list[ZoneDescriptor], partial: bool, length: int) -> bytes:
    """Report Zones data of ``length`` bytes for the zones that match, from the one holding SLBA on.

    Number of Zones counts every match without Partial Report, and the descriptors that fit with it.
    """
    fits = max(0, (length - REPORT_HEADER_SIZE) // ZONE_DESCRIPTOR_SIZE)
    sent = zones[:fits]
    header = struct.pack("<Q", len(sent) if partial else len(zones)).ljust(REPORT_HEADER_SIZE, b"\0")
    return (header + b"".join(z.pack() for z in sent)).ljust(length, b"\0")[:length]


def parse_zone_report(raw: bytes) -> tuple[int, list[ZoneDescriptor]]:
    """(Number of Zones, the descriptors the data holds)."""
    (count,) = struct.unpack_from("<Q", raw)
    fits = (len(raw) - REPORT_HEADER_SIZE) // ZONE_DESCRIPTOR_SIZE
    return count, [ZoneDescriptor.unpack(raw[REPORT_HEADER_SIZE + i * ZONE_DESCRIPTOR_SIZE:][:ZONE_DESCRIPTOR_SIZE])
                   for i in range(min(count, fits))]


# Identify

OZCS_READ_ACROSS_BOUNDARIES = 1 << 0   # a read may span zones
LBAFE_OFFSET = 2816                   # the LBA Format Extensions: ZSZE (8 bytes), ZDES, 7 reserved


def _limit(resources: int | None) -> int:
    """MAR and MOR: zero-based, FFFFFFFFh for no limit."""
    return 0xFFFF_FFFF if resources is None else resources - 1


def zns_identify_namespace(zones: ZoneGeometry, formats: int) -> bytes:
    """ZNS Identify Namespace (CNS 05h, CSI 02h): reads may cross zone boundaries, MAR, MOR, and the zone
    size of every LBA format (``formats`` of them); no zone descriptor extensions (ZDES 0)."""
    buf = bytearray(IDENTIFY_SIZE)
    struct.pack_into("<HHII", buf, 0, 0, OZCS_READ_ACROSS_BOUNDARIES, _limit(zones.max_active),
                     _limit(zones.max_open))
    for i in range(formats):
        struct.pack_into("<Q", buf, LBAFE_OFFSET + 16 * i, zones.size)
    return bytes(buf)


def zns_identify_controller(zasl: int) -> bytes:
    """ZNS Identify Controller (CNS 06h, CSI 02h): ZASL, the Zone Append Size Limit in 2^n minimum pages."""
    return bytes([zasl]).ljust(IDENTIFY_SIZE, b"\0")


# the Changed Zone List log page (ZNS 5.3.2.1) and the event that refers to it

CHANGED_ZONE_LIST = 0xBF
CHANGED_ZONE_MAX = 511
AEC_ZONE_DESCRIPTOR_CHANGED = 1 << 27   # the Asynchronous Event Configuration bit, and OAES's


def changed_zone_log(zslbas: list[int]) -> bytes:
    """Number of Zone Identifiers, then the ZSLBAs; FFFFh and none when more than 511 changed."""
    if len(zslbas) > CHANGED_ZONE_MAX:
        return struct.pack("<H", 0xFFFF).ljust(IDENTIFY_SIZE, b"\0")
    return struct.pack(f"<H6x{len(zslbas)}Q", len(zslbas), *zslbas).ljust(IDENTIFY_SIZE, b"\0")


def parse_changed_zone_log(raw: bytes) -> list[int] | None:
    """The ZSLBAs listed; None when the log overflowed."""
    (count,) = struct.unpack_from("<H", raw)
    return None if count == 0xFFFF else list(struct.unpack_from(f"<{count}Q", raw, 8))


# SQE builders for the host

def zone_send_cmd(nsid: int, slba: int, action: ZoneAction | int, select_all: bool = False) -> SubmissionEntry:
    return SubmissionEntry(ZnsOpcode.ZONE_MGMT_SEND, nsid=nsid, cdw10=slba & 0xFFFF_FFFF, cdw11=slba >> 32,
                           cdw13=int(action) | int(select_all) << 8)


def zone_receive_cmd(nsid: int, slba: int, length: int, prp1: int, prp2: int = 0,
                     option: ReportFilter | int = ReportFilter.ALL, partial: bool = False,
                     action: int = ZRA_REPORT_ZONES) -> SubmissionEntry:
    return SubmissionEntry(ZnsOpcode.ZONE_MGMT_RECV, nsid=nsid, prp1=prp1, prp2=prp2, cdw10=slba & 0xFFFF_FFFF,
                           cdw11=slba >> 32, cdw12=length // 4 - 1,
                           cdw13=action | int(option) << 8 | int(partial) << 16)


def zone_append_cmd(nsid: int, zslba: int, nlb: int, prp1: int = 0, prp2: int = 0) -> SubmissionEntry:
    return SubmissionEntry(ZnsOpcode.ZONE_APPEND, nsid=nsid, prp1=prp1, prp2=prp2, cdw10=zslba & 0xFFFF_FFFF,
                           cdw11=zslba >> 32, cdw12=nlb - 1)


def appended_lba(dw0: int, dw1: int) -> int:
    """The LBA a Zone Append wrote its first block at: the completion's DW0 and DW1."""
    return dw0 | dw1 << 32
