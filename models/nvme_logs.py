"""Log pages (NVMe 1.4, 5.14.1) and asynchronous events (5.2): layouts and encodings.

Shared by the firmware, which builds the logs it returns, and the reference
model, which predicts them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from models.identify import ControllerConfig, NamespaceConfig, namespace_list
from models.nvme_commands import LogRequest
from models.nvme_spec import AdminOpcode, Csi, NvmOpcode
from models.key_value import KvOpcode
from models.open_channel import LOG_CHUNK_INFO, OcOpcode
from models.zoned import AEC_ZONE_DESCRIPTOR_CHANGED, CHANGED_ZONE_LIST, ZnsOpcode

# Log pages (section 5.14.1)

class LogId(IntEnum):
    ERROR_INFORMATION = 0x01
    SMART_HEALTH = 0x02
    FIRMWARE_SLOT = 0x03
    CHANGED_NAMESPACES = 0x04
    COMMANDS_SUPPORTED = 0x05
    CHANGED_ZONES = CHANGED_ZONE_LIST     # of the Zoned Namespace command set (CSI 02h), per namespace
    CHUNK_INFORMATION = LOG_CHUNK_INFO    # Open-Channel SSD 2.0, per open-channel namespace


ERROR_ENTRY_SIZE = 64
SMART_LOG_SIZE = 512
FIRMWARE_SLOT_LOG_SIZE = 512
CHANGED_NS_LOG_SIZE = 4096
NO_COMMAND = 0xFFFF    # SQID/CID of an error not tied to a command
COMPOSITE_TEMPERATURE = 313   # Kelvin: the device always runs at 40 C
CRITICAL_WARNING_TEMPERATURE = 1 << 1
AVAILABLE_SPARE = 100
SPARE_THRESHOLD = 10


@dataclass(frozen=True)
class SmartCounters:
    """What the SMART / Health log reports that the host can predict."""

    critical_warning: int = 0
    data_units_read: int = 0
    data_units_written: int = 0
    host_reads: int = 0
    host_writes: int = 0
    error_entries: int = 0


def data_units(nbytes: int) -> int:
    """SMART data units: thousands of 512-byte units, rounded up."""
    return -(-nbytes // 512_000)


def smart_log(c: SmartCounters) -> bytes:
    """SMART / Health Information (figure 194); 16-byte counters are little endian."""
    buf = bytearray(SMART_LOG_SIZE)
    struct.pack_into("<BHBB", buf, 0, c.critical_warning, COMPOSITE_TEMPERATURE, AVAILABLE_SPARE, SPARE_THRESHOLD)
    for offset, value in ((32, c.data_units_read), (48, c.data_units_written), (64, c.host_reads),
                          (80, c.host_writes), (176, c.error_entries)):
        buf[offset:offset + 16] = value.to_bytes(16, "little")
    return bytes(buf)


def firmware_slot_log(fr: str) -> bytes:
    """Firmware Slot Information (figure 195): slot 1 active, holding revision ``fr``."""
    return bytes([1]).ljust(8, b"\0") + fr.encode("ascii").ljust(8, b" ") + bytes(FIRMWARE_SLOT_LOG_SIZE - 16)


def error_entry(error_count: int, sqid: int = NO_COMMAND, cid: int = NO_COMMAND, status: int = 0) -> bytes:
    """One Error Information entry (figure 193); parameter error location FFFFh (not a command field)."""
    return struct.pack("<QHHHH", error_count, sqid, cid, status << 1, 0xFFFF).ljust(ERROR_ENTRY_SIZE, b"\0")


def error_log(entries: list[bytes], capacity: int) -> bytes:
    """The newest ``capacity`` entries, newest first, zero entries after them."""
    newest = list(reversed(entries))[:capacity]
    return b"".join(newest).ljust(capacity * ERROR_ENTRY_SIZE, b"\0")


def changed_ns_log(nsids: list[int]) -> bytes:
    return namespace_list(nsids, 0)


class Effect(IntFlag):
    """A Commands Supported and Effects entry (figure 210 of 1.4)."""

    CSUPP = 1 << 0    # supported
    LBCC = 1 << 1     # may change logical block content
    NCC = 1 << 2      # may change namespace capabilities
    NIC = 1 << 3      # may change the namespace inventory
    CCC = 1 << 4      # may change controller capabilities


COMMAND_EFFECTS_LOG_SIZE = 4096
_ADMIN_EFFECTS = {op: Effect.CSUPP for op in (
    AdminOpcode.DELETE_IO_SQ, AdminOpcode.CREATE_IO_SQ, AdminOpcode.GET_LOG_PAGE, AdminOpcode.DELETE_IO_CQ,
    AdminOpcode.CREATE_IO_CQ, AdminOpcode.IDENTIFY, AdminOpcode.ABORT, AdminOpcode.SET_FEATURES,
    AdminOpcode.GET_FEATURES, AdminOpcode.ASYNC_EVENT_REQUEST, AdminOpcode.DOORBELL_BUFFER_CONFIG)} | {
    AdminOpcode.NS_MANAGEMENT: Effect.CSUPP | Effect.NIC, AdminOpcode.NS_ATTACHMENT: Effect.CSUPP | Effect.NIC}
_IO_EFFECTS = {NvmOpcode.FLUSH: Effect.CSUPP, NvmOpcode.READ: Effect.CSUPP, NvmOpcode.COMPARE: Effect.CSUPP,
               NvmOpcode.VERIFY: Effect.CSUPP} | {op: Effect.CSUPP | Effect.LBCC for op in (
    NvmOpcode.WRITE, NvmOpcode.WRITE_ZEROES, NvmOpcode.DATASET_MANAGEMENT, NvmOpcode.COPY)}
# the Open-Channel SSD 2.0 vector commands, vendor-specific commands of the NVM set
_VECTOR_EFFECTS = {OcOpcode.VECTOR_READ: Effect.CSUPP} | {
    op: Effect.CSUPP | Effect.LBCC for op in (OcOpcode.VECTOR_RESET, OcOpcode.VECTOR_WRITE, OcOpcode.VECTOR_COPY)}
# a zoned namespace takes the NVM commands but Dataset Management and Copy, and the zone commands; a
# key-value one Flush and the KV commands
_IO_EFFECTS_BY_CSI = {
    Csi.NVM: _IO_EFFECTS,
    Csi.ZONED: {op: e for op, e in _IO_EFFECTS.items() if op not in (NvmOpcode.DATASET_MANAGEMENT, NvmOpcode.COPY)}
    | {ZnsOpcode.ZONE_MGMT_SEND: Effect.CSUPP | Effect.LBCC, ZnsOpcode.ZONE_APPEND: Effect.CSUPP | Effect.LBCC,
       ZnsOpcode.ZONE_MGMT_RECV: Effect.CSUPP},
    Csi.KEY_VALUE: {NvmOpcode.FLUSH: Effect.CSUPP, KvOpcode.RETRIEVE: Effect.CSUPP, KvOpcode.LIST: Effect.CSUPP,
                    KvOpcode.EXIST: Effect.CSUPP, KvOpcode.STORE: Effect.CSUPP | Effect.LBCC,
                    KvOpcode.DELETE: Effect.CSUPP | Effect.LBCC}}


def command_effects(config: ControllerConfig, csi: Csi = Csi.NVM) -> tuple[dict[int, Effect], dict[int, Effect]]:
    """(admin, I/O) opcode -> effects of every command this controller supports, the I/O commands those of
    the command set ``csi``: the device's list, which the firmware implements and a host can check each
    opcode against."""
    admin = dict(_ADMIN_EFFECTS)
    io = dict(_IO_EFFECTS_BY_CSI[csi])
    if config.ocssd_geometry is not None:
        admin[AdminOpcode.OCSSD_GEOMETRY] = Effect.CSUPP
        if csi == Csi.NVM:
            io |= _VECTOR_EFFECTS
    return admin, io


def namespace_opcodes(offered: set[int], ns: NamespaceConfig) -> set[int]:
    """Which of the I/O opcodes ``offered`` for a namespace's command set the namespace takes: a zoned one
    no Dataset Management or Copy; an open-channel one the vector commands but no Write Zeroes, Dataset
    Management or Copy, whose blocks it resets only in whole chunks; any other no vector commands."""
    if ns.zones is not None:
        return offered - {NvmOpcode.DATASET_MANAGEMENT, NvmOpcode.COPY}
    if ns.chunks is not None:
        return offered - {NvmOpcode.WRITE_ZEROES, NvmOpcode.DATASET_MANAGEMENT, NvmOpcode.COPY}
    return offered - set(OcOpcode)


def effects_csi(csi: int) -> Csi | None:
    """The command set a Commands Supported and Effects request names, if this controller offers it."""
    return Csi(csi) if csi in _IO_EFFECTS_BY_CSI else None


def command_effects_log(config: ControllerConfig, csi: Csi = Csi.NVM) -> bytes:
    """Commands Supported and Effects (LID 05h): 256 admin then 256 I/O dwords, by opcode; 2 KiB reserved."""
    admin, io = command_effects(config, csi)
    words = struct.pack("<512I", *(admin.get(op, 0) for op in range(256)), *(io.get(op, 0) for op in range(256)))
    return words.ljust(COMMAND_EFFECTS_LOG_SIZE, b"\0")


def parse_command_effects(raw: bytes) -> tuple[dict[int, Effect], dict[int, Effect]]:
    """(admin, I/O) opcode -> effects of the opcodes a Commands Supported and Effects log marks."""
    words = struct.unpack_from("<512I", raw)
    return ({op: Effect(w) for op, w in enumerate(words[:256]) if w},
            {op: Effect(w) for op, w in enumerate(words[256:]) if w})


def log_slice(log: bytes, request: LogRequest) -> bytes:
    """The requested window of a log: zeroes past its end."""
    return log[request.offset:request.offset + request.length].ljust(request.length, b"\0")


# Asynchronous events (section 5.2)

class AsyncEventType(IntEnum):
    ERROR = 0
    SMART_HEALTH = 1
    NOTICE = 2


@dataclass(frozen=True)
class AsyncEvent:
    """An event as reported in an AER completion's DW0: type [2:0], information [15:8], log page [23:16]."""

    type: AsyncEventType
    info: int
    lid: LogId

    @property
    def dw0(self) -> int:
        return self.type | self.info << 8 | self.lid << 16


INVALID_DOORBELL_REGISTER = AsyncEvent(AsyncEventType.ERROR, 0x00, LogId.ERROR_INFORMATION)
INVALID_DOORBELL_VALUE = AsyncEvent(AsyncEventType.ERROR, 0x01, LogId.ERROR_INFORMATION)
TEMPERATURE_THRESHOLD = AsyncEvent(AsyncEventType.SMART_HEALTH, 0x01, LogId.SMART_HEALTH)
NAMESPACE_ATTRIBUTE_CHANGED = AsyncEvent(AsyncEventType.NOTICE, 0x00, LogId.CHANGED_NAMESPACES)
ZONE_DESCRIPTOR_CHANGED = AsyncEvent(AsyncEventType.NOTICE, 0xEF, LogId.CHANGED_ZONES)
AEC_NAMESPACE_ATTRIBUTE = 1 << 8
AEC_KEPT = 0x1FF | AEC_ZONE_DESCRIPTOR_CHANGED   # the Asynchronous Event Configuration bits kept
# the AEC bit that enables each notice
_NOTICE_ENABLES = {NAMESPACE_ATTRIBUTE_CHANGED: AEC_NAMESPACE_ATTRIBUTE,
                   ZONE_DESCRIPTOR_CHANGED: AEC_ZONE_DESCRIPTOR_CHANGED}


def event_enabled(event: AsyncEvent, aec: int) -> bool:
    """Errors are always reported; SMART events per critical-warning bit of AEC, each notice per its AEC bit.

    Once an event is reported, its type stays masked until the host reads the log page that event named
    (5.2): two notices of different log pages still mask each other, as they share the type.
    """
    if event.type == AsyncEventType.SMART_HEALTH:
        return bool(aec & CRITICAL_WARNING_TEMPERATURE) if event == TEMPERATURE_THRESHOLD else False
    if event.type == AsyncEventType.NOTICE:
        return bool(aec & _NOTICE_ENABLES[event])
    return True


def temperature_threshold_dword(kelvin: int, under: bool = False) -> int:
    """Temperature Threshold CDW11: TMPTH [15:0], TMPSEL [19:16] (0 composite), THSEL [21:20] (0 over, 1 under)."""
    return kelvin | int(under) << 20
