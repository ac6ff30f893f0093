"""Identify data structures (NVMe 1.4 section 5.15) and the device configuration they describe.

``ControllerConfig`` is the one description of the virtual device (who it
is, MDTS, its namespaces and their LBA formats): the firmware answers
Identify from it and the reference model predicts from the same object, so
the two never disagree about configuration, only about behaviour.

Each structure is a dataclass that packs to the 4096 bytes the controller
returns and unpacks them again for the host driver. Only the fields a
controller of this kind fills in are named; the rest stay zero.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, fields
from enum import IntEnum, IntFlag
from typing import Any, ClassVar

from models.pci_identity import PciIdentity
from models.key_value import KvFormat
from models.nvme_spec import Csi
from models.open_channel import ChunkGeometry
from models.zoned import AEC_ZONE_DESCRIPTOR_CHANGED, ZoneGeometry

IDENTIFY_SIZE = 4096
NSID_BROADCAST = 0xFFFF_FFFF
NS_LIST_MAX = IDENTIFY_SIZE // 4
VERSION_1_4 = 0x0001_0400


class Cns(IntEnum):
    """Identify CDW10.CNS values this controller answers."""

    NAMESPACE = 0x00
    CONTROLLER = 0x01
    ACTIVE_NAMESPACES = 0x02
    NS_DESCRIPTORS = 0x03
    ALLOCATED_NAMESPACES = 0x10    # allocated NSIDs, attached or not (namespace management)
    ALLOCATED_NAMESPACE = 0x11     # Identify Namespace of an allocated NSID
    NS_CONTROLLERS = 0x12          # controllers the namespace is attached to
    CONTROLLERS = 0x13             # every controller of the NVM subsystem
    IO_NAMESPACE = 0x05            # the I/O command set specific Identify Namespace (CDW11.CSI)
    IO_CONTROLLER = 0x06           # the I/O command set specific Identify Controller (CDW11.CSI)
    IO_ACTIVE_NAMESPACES = 0x07    # active NSIDs of one I/O command set (CDW11.CSI)
    IO_COMMAND_SETS = 0x1C         # the I/O Command Set combinations offered


class Oncs(IntFlag):
    """Optional NVM Command Support."""

    COMPARE = 1 << 0
    WRITE_UNCORRECTABLE = 1 << 1
    DATASET_MANAGEMENT = 1 << 2
    WRITE_ZEROES = 1 << 3
    SAVE_SELECT = 1 << 4      # Set Features Save and Get Features Select
    RESERVATIONS = 1 << 5
    TIMESTAMP = 1 << 6
    VERIFY = 1 << 7
    COPY = 1 << 8


class NidType(IntEnum):
    """Namespace Identification Descriptor types (figure 249)."""

    EUI64 = 1
    NGUID = 2
    UUID = 3
    CSI = 4     # the namespace's command set (NVMe 2.0)


NID_LENGTHS = {NidType.EUI64: 8, NidType.NGUID: 16, NidType.UUID: 16, NidType.CSI: 1}

DLFEAT_READ_ZEROES = 0b001    # a read of a deallocated block returns all zeroes
VWC_PRESENT = 1 << 0
VWC_FLUSH_BROADCAST = 0b11 << 1   # Flush with NSID FFFFFFFFh supported
OAES_NAMESPACE_ATTRIBUTE = 1 << 8
CMIC_MULTI_CONTROLLER = 1 << 1   # the NVM subsystem may contain two or more controllers
NMIC_SHARED = 1 << 0             # the namespace may be attached to two or more controllers
OACS_NS_MANAGEMENT = 1 << 3   # Namespace Management and Namespace Attachment supported
OACS_DOORBELL_BUFFER_CONFIG = 1 << 8   # Doorbell Buffer Config supported (shadow doorbells)
LPA_COMMAND_EFFECTS = 1 << 1  # the Commands Supported and Effects log
LPA_EXTENDED_DATA = 1 << 2    # NUMDU and the Log Page Offset are honoured
OCFS_FORMAT_0 = 1 << 0        # Copy source range descriptor format 0
# Copy limits of every namespace: up to 128 source ranges, each and all together up to 128 KiB
COPY_MAX_RANGES = 128
COPY_MAX_BYTES = 128 << 10
SGLS_SUPPORTED = 0b10         # SGLs supported, with dword alignment and granularity of data blocks
FRMW_SLOT1_READ_ONLY = 1 << 0


class _Packed:
    """Dataclass fields at fixed byte offsets of a 4096-byte structure: (name, offset, struct format).

    Strings are ASCII padded with spaces, as the spec requires for SN, MN and FR.
    """

    LAYOUT: ClassVar[tuple[tuple[str, int, str], ...]]

    def pack(self) -> bytes:
        buf = bytearray(IDENTIFY_SIZE)
        for name, offset, fmt in self.LAYOUT:
            value: Any = getattr(self, name)
            if isinstance(value, str):
                value = value.encode("ascii").ljust(struct.calcsize(fmt), b" ")
            struct.pack_into("<" + fmt, buf, offset, value)
        return bytes(buf)

    @classmethod
    def _unpack_fields(cls, raw: bytes) -> dict[str, Any]:
        if len(raw) != IDENTIFY_SIZE:
            raise ValueError(f"Identify data is {IDENTIFY_SIZE} bytes, got {len(raw)}")
        text = {f.name for f in fields(cls) if f.type in ("str", str)}  # type: ignore[arg-type]
        values = {}
        for name, offset, fmt in cls.LAYOUT:
            (value,) = struct.unpack_from("<" + fmt, raw, offset)
            values[name] = value.decode("ascii").rstrip(" \0") if name in text else value
        return values


@dataclass(frozen=True)
class IdentifyController(_Packed):
    """Identify Controller data structure (CNS 01h, figure 247)."""

    vid: int
    ssvid: int
    sn: str
    mn: str
    fr: str
    mdts: int          # max transfer 2^MDTS minimum memory pages; 0 = no limit
    ver: int = VERSION_1_4
    cmic: int = 0
    cntlid: int = 0
    oaes: int = 0
    cntrltype: int = 1   # I/O controller
    oacs: int = 0
    acl: int = 3         # zero-based: concurrent Abort commands
    aerl: int = 3        # zero-based: outstanding Asynchronous Event Requests
    frmw: int = FRMW_SLOT1_READ_ONLY | 1 << 1   # one slot, read-only
    lpa: int = LPA_EXTENDED_DATA | LPA_COMMAND_EFFECTS
    elpe: int = 15       # zero-based: Error Information log entries
    npss: int = 0        # zero-based: power states (PS0 only)
    wctemp: int = 343    # Kelvin
    cctemp: int = 353
    tnvmcap: int = 0     # bytes of NVM capacity, all of it allocatable (low 64 of the 128 bits)
    unvmcap: int = 0     # bytes not allocated to a namespace
    sqes: int = 0x66     # SQ entries of exactly 64 bytes
    cqes: int = 0x44     # CQ entries of exactly 16 bytes
    nn: int = 0
    oncs: int = 0
    vwc: int = 0
    ocfs: int = 0
    sgls: int = 0

    LAYOUT = (("vid", 0, "H"), ("ssvid", 2, "H"), ("sn", 4, "20s"), ("mn", 24, "40s"), ("fr", 64, "8s"),
              ("cmic", 76, "B"), ("mdts", 77, "B"), ("cntlid", 78, "H"), ("ver", 80, "I"), ("oaes", 92, "I"),
              ("cntrltype", 111, "B"),
              ("oacs", 256, "H"), ("acl", 258, "B"), ("aerl", 259, "B"), ("frmw", 260, "B"), ("lpa", 261, "B"),
              ("elpe", 262, "B"), ("npss", 263, "B"), ("wctemp", 266, "H"), ("cctemp", 268, "H"),
              ("tnvmcap", 280, "Q"), ("unvmcap", 296, "Q"), ("sqes", 512, "B"),
              ("cqes", 513, "B"), ("nn", 516, "I"), ("oncs", 520, "H"), ("vwc", 525, "B"), ("ocfs", 534, "H"),
              ("sgls", 536, "I"))

    @classmethod
    def unpack(cls, raw: bytes) -> IdentifyController:
        return cls(**cls._unpack_fields(raw))

    def max_transfer(self, min_page_size: int = 4096) -> int | None:
        """Largest data transfer in bytes (MDTS is in CAP.MPSMIN pages); None when unlimited."""
        return min_page_size << self.mdts if self.mdts else None


@dataclass(frozen=True)
class LbaFormat:
    """An LBA Format entry: metadata size, LBA data size 2^LBADS, relative performance."""

    lbads: int
    ms: int = 0
    rp: int = 0

    def encode(self) -> int:
        return self.ms | self.lbads << 16 | self.rp << 24

    @classmethod
    def decode(cls, raw: int) -> LbaFormat:
        return cls(lbads=raw >> 16 & 0xFF, ms=raw & 0xFFFF, rp=raw >> 24 & 0x3)

    @property
    def lba_size(self) -> int:
        return 1 << self.lbads


# The formats every namespace offers: 512 B and 4 KiB, the 4 KiB one the faster.
LBA_FORMATS = (LbaFormat(lbads=9, rp=1), LbaFormat(lbads=12, rp=0))
LBAF_OFFSET = 128
MAX_LBAF = 16


@dataclass(frozen=True)
class IdentifyNamespace(_Packed):
    """Identify Namespace data structure (CNS 00h, figure 245)."""

    nsze: int
    ncap: int
    nuse: int
    flbas: int
    lbaf: tuple[LbaFormat, ...] = LBA_FORMATS
    nsfeat: int = 0
    dps: int = 0
    nmic: int = 0
    dlfeat: int = 0
    mssrl: int = 0       # Copy: blocks per source range
    mcl: int = 0         # Copy: blocks in all
    msrc: int = 0        # Copy: source ranges, zero-based
    nguid: bytes = bytes(16)
    eui64: bytes = bytes(8)

    LAYOUT = (("nsze", 0, "Q"), ("ncap", 8, "Q"), ("nuse", 16, "Q"), ("nsfeat", 24, "B"), ("flbas", 26, "B"),
              ("dps", 29, "B"), ("nmic", 30, "B"), ("dlfeat", 33, "B"), ("mssrl", 74, "H"), ("mcl", 76, "I"),
              ("msrc", 80, "B"), ("nguid", 104, "16s"), ("eui64", 120, "8s"))
    NLBAF_OFFSET = 25

    def pack(self) -> bytes:
        if not 1 <= len(self.lbaf) <= MAX_LBAF:
            raise ValueError(f"{len(self.lbaf)} LBA formats; 1 to {MAX_LBAF} fit")
        buf = bytearray(super().pack())
        buf[self.NLBAF_OFFSET] = len(self.lbaf) - 1
        struct.pack_into(f"<{len(self.lbaf)}I", buf, LBAF_OFFSET, *(f.encode() for f in self.lbaf))
        return bytes(buf)

    @classmethod
    def unpack(cls, raw: bytes) -> IdentifyNamespace:
        values = cls._unpack_fields(raw)
        count = raw[cls.NLBAF_OFFSET] + 1
        lbaf = tuple(LbaFormat.decode(v) for v in struct.unpack_from(f"<{count}I", raw, LBAF_OFFSET))
        return cls(lbaf=lbaf, **values)

    @property
    def format_index(self) -> int:
        """The LBA format in use: FLBAS [3:0], with [6:5] as its high bits (NVMe 2.0)."""
        return self.flbas & 0xF | (self.flbas >> 5 & 0x3) << 4

    @property
    def lba_size(self) -> int:
        return self.lbaf[self.format_index].lba_size


# Namespace lists and identification descriptors

def namespace_list(nsids: list[int], after: int) -> bytes:
    """Active namespace list (CNS 02h): active NSIDs greater than ``after``, ascending, zero padded."""
    chosen = sorted(n for n in nsids if n > after)[:NS_LIST_MAX]
    return struct.pack(f"<{len(chosen)}I", *chosen).ljust(IDENTIFY_SIZE, b"\0")


def parse_namespace_list(raw: bytes) -> list[int]:
    ids = struct.unpack(f"<{NS_LIST_MAX}I", raw)
    return list(ids[:ids.index(0)] if 0 in ids else ids)


CONTROLLER_LIST_MAX = IDENTIFY_SIZE // 2 - 1


def controller_list(ids: list[int]) -> bytes:
    """Controller List (figure 134 of 1.4): the number of identifiers, then the identifiers, ascending.

    Identify CNS 12h and 13h return it for the identifiers at or above CDW10.CNTID; the host sends one
    with Namespace Attachment, where its order is the host's.
    """
    chosen = ids[:CONTROLLER_LIST_MAX]
    return struct.pack(f"<H{len(chosen)}H", len(chosen), *chosen).ljust(IDENTIFY_SIZE, b"\0")


def parse_controller_list(raw: bytes) -> list[int]:
    """The identifiers of a Controller List; a count beyond what 4 KiB holds is read as the 2047 that fit."""
    (count,) = struct.unpack_from("<H", raw)
    count = min(count, CONTROLLER_LIST_MAX)
    return list(struct.unpack_from(f"<{count}H", raw, 2))


def ns_descriptors(ids: dict[NidType, bytes]) -> bytes:
    """Namespace Identification Descriptor list (CNS 03h): NIDT, NIDL, 2 reserved, NID; ends at a zero NIDT."""
    out = bytearray()
    for kind, nid in ids.items():
        if len(nid) != NID_LENGTHS[kind]:
            raise ValueError(f"{kind.name} is {NID_LENGTHS[kind]} bytes, got {len(nid)}")
        out += bytes((kind, len(nid), 0, 0)) + nid
    return bytes(out.ljust(IDENTIFY_SIZE, b"\0"))


def parse_ns_descriptors(raw: bytes) -> dict[NidType, bytes]:
    ids = {}
    pos = 0
    while pos + 4 <= len(raw) and raw[pos]:
        kind, length = NidType(raw[pos]), raw[pos + 1]
        ids[kind] = raw[pos + 4:pos + 4 + length]
        pos += 4 + length
    return ids


# The device

@dataclass(frozen=True)
class NamespaceConfig:
    """One namespace: its id, LBA size (one of LBA_FORMATS) and size in LBAs; ``zones`` makes it a zoned
    namespace (CSI 02h), ``kv`` a key-value one (CSI 01h) whose values take whole logical blocks, ``chunks``
    an open-channel one (OCSSD 2.0, in the NVM command set), whose LBAs are its chunks' physical addresses.

    ``generation`` counts the namespaces created with this NSID before: it
    goes into the EUI-64 and NGUID, which must never be reused for a new
    namespace (those configured at power-on are generation 0).
    """

    nsid: int
    lba_size: int
    nlbas: int
    generation: int = 0
    shared: bool = False     # NMIC bit 0: may be attached to several controllers at once
    zones: ZoneGeometry | None = None
    kv: KvFormat | None = None
    chunks: ChunkGeometry | None = None

    def __post_init__(self) -> None:
        if self.lba_size not in [f.lba_size for f in LBA_FORMATS]:
            raise ValueError(f"LBA size {self.lba_size}: the formats are {[f.lba_size for f in LBA_FORMATS]}")
        if self.zones is not None and self.nlbas % self.zones.size:
            raise ValueError(f"a zoned namespace of {self.nlbas} LBAs is not whole zones of {self.zones.size}")
        if sum(x is not None for x in (self.zones, self.kv, self.chunks)) > 1:
            raise ValueError("a namespace is zoned, key-value or open-channel, one at most")
        if self.chunks is not None and self.nlbas != 1 << self.chunks.address_bits:
            raise ValueError(f"an open-channel namespace spans its {self.chunks.address_bits}-bit address space")

    @property
    def csi(self) -> Csi:
        return Csi.ZONED if self.zones is not None else Csi.KEY_VALUE if self.kv is not None else Csi.NVM

    def identify_data(self) -> bytes:
        """Identify CNS 00h/11h: the NVM command set's structure; zeroes for a key-value namespace, which is
        not of that set (CNS 05h with CSI 01h describes it)."""
        return bytes(IDENTIFY_SIZE) if self.kv is not None else self.identify().pack()

    @property
    def flbas(self) -> int:
        return [f.lba_size for f in LBA_FORMATS].index(self.lba_size)

    @property
    def eui64(self) -> bytes:
        # "nvme", the generation, the NSID
        return (0x6E76_6D65_0000_0000 | self.generation << 16 | self.nsid).to_bytes(8, "big")

    @property
    def nguid(self) -> bytes:
        return b"nvme-cosim-" + (self.generation << 32 | self.nsid).to_bytes(5, "big")

    @property
    def size(self) -> int:
        return self.nlbas * self.lba_size

    @property
    def copy_blocks(self) -> int:
        """MSSRL and MCL: the blocks of COPY_MAX_BYTES."""
        return COPY_MAX_BYTES // self.lba_size

    def identify(self) -> IdentifyNamespace:
        """No thin provisioning: capacity and utilization are the size; deallocated and unwritten blocks read
        zeroes. A zoned or open-channel namespace takes no Copy: its Copy limits are zero."""
        copy = self.copy_blocks if self.zones is None and self.chunks is None else 0
        return IdentifyNamespace(nsze=self.nlbas, ncap=self.nlbas, nuse=self.nlbas, flbas=self.flbas,
                                 nmic=NMIC_SHARED if self.shared else 0, dlfeat=DLFEAT_READ_ZEROES,
                                 mssrl=copy, mcl=copy, msrc=COPY_MAX_RANGES - 1 if copy else 0,
                                 nguid=self.nguid, eui64=self.eui64)

    def descriptors(self) -> bytes:
        return ns_descriptors({NidType.EUI64: self.eui64, NidType.NGUID: self.nguid,
                               NidType.CSI: bytes([self.csi])})


def common_namespace_fields() -> IdentifyNamespace:
    """Identify Namespace for NSID FFFFFFFFh with namespace management: what every namespace shares
    (the LBA formats, DLFEAT), sizes zero."""
    return IdentifyNamespace(nsze=0, ncap=0, nuse=0, flbas=0, dlfeat=DLFEAT_READ_ZEROES)


def _default_namespaces() -> tuple[NamespaceConfig, ...]:
    return (NamespaceConfig(1, 512, 1 << 21), NamespaceConfig(2, 4096, 1 << 18))   # 1 GiB each


@dataclass(frozen=True)
class ControllerConfig:
    """What the virtual controller is: identity, limits, namespaces. Firmware and model share it.

    ``namespaces`` are those allocated at power-on, each attached to the
    subsystem's first controller (and, if shared, to all of them);
    Namespace Management changes the set from there, up to
    ``max_namespaces`` (NN), inside ``nvm_capacity`` bytes allocated in
    ``allocation_unit`` steps. ``controllers`` are the CNTLIDs of the NVM
    subsystem's controllers, this one (``cntlid``) among them; every
    controller of a subsystem is described with the same values but its own
    ``cntlid``.
    """

    namespaces: tuple[NamespaceConfig, ...] = field(default_factory=_default_namespaces)
    max_namespaces: int = 8
    nvm_capacity: int = 4 << 30
    allocation_unit: int = 1 << 20
    cntlid: int = 0
    controllers: tuple[int, ...] = (0,)
    mdts: int = 5              # 128 KiB at 4 KiB CAP.MPSMIN
    zasl: int = 4              # Zone Append Size Limit: 64 KiB at 4 KiB CAP.MPSMIN, below MDTS
    min_page_size: int = 4096
    pci: PciIdentity = PciIdentity()
    sn: str = "NVMECOSIM0001"
    mn: str = "nvme-cosim virtual NVMe controller"
    fr: str = "0.1"
    sgl: bool = True
    oncs: Oncs = (Oncs.COMPARE | Oncs.DATASET_MANAGEMENT | Oncs.WRITE_ZEROES | Oncs.SAVE_SELECT | Oncs.VERIFY
                  | Oncs.COPY)
    # Open-Channel SSD 2.0 Geometry (admin opcode E2h) when the back end is open-channel
    ocssd_geometry: bytes | None = None

    def __post_init__(self) -> None:
        if self.cntlid not in self.controllers or len(set(self.controllers)) != len(self.controllers):
            raise ValueError(f"CNTLID {self.cntlid} among distinct controllers {self.controllers}, expected")
        nsids = [ns.nsid for ns in self.namespaces]
        if len(set(nsids)) != len(nsids) or not all(1 <= n <= self.max_namespaces for n in nsids):
            raise ValueError(f"namespace ids {nsids}: expected distinct ids in 1..{self.max_namespaces} (NN)")
        if self.zasl < 1 or self.zasl > self.mdts > 0:
            raise ValueError(f"ZASL {self.zasl} must be at least 1 and at most MDTS {self.mdts} (0: unlimited)")
        if self.nvm_capacity % self.allocation_unit:
            raise ValueError(f"NVM capacity {self.nvm_capacity} is not whole allocation units of "
                             f"{self.allocation_unit} bytes")
        if sum(self.units(ns.size) for ns in self.namespaces) * self.allocation_unit > self.nvm_capacity:
            raise ValueError(f"the namespaces need more than the {self.nvm_capacity} bytes of NVM capacity")

    @property
    def max_transfer(self) -> int | None:
        return self.identify().max_transfer(self.min_page_size)

    @property
    def max_append(self) -> int:
        """Bytes a Zone Append may carry (ZASL)."""
        return self.min_page_size << self.zasl

    def units(self, size: int) -> int:
        """Allocation units a namespace of ``size`` bytes takes."""
        return -(-size // self.allocation_unit)

    @property
    def multi_controller(self) -> bool:
        """CMIC bit 1: a namespace may be shared (NMIC bit 0) only in such a subsystem."""
        return len(self.controllers) > 1

    def valid_nsid(self, nsid: int) -> bool:
        """1..NN: a namespace may exist there (active or not); anything else is an invalid NSID."""
        return 1 <= nsid <= self.max_namespaces

    def namespace(self, nsid: int) -> NamespaceConfig | None:
        """The namespace ``nsid`` configured at power-on, or None."""
        return next((ns for ns in self.namespaces if ns.nsid == nsid), None)

    def identify(self, unallocated: int | None = None) -> IdentifyController:
        """Identify Controller; ``unallocated`` bytes (UNVMCAP) as namespace management left them,
        by default as at power-on."""
        if unallocated is None:
            unallocated = self.nvm_capacity - sum(self.units(ns.size) for ns in self.namespaces) * self.allocation_unit
        return IdentifyController(vid=self.pci.vendor_id, ssvid=self.pci.subsystem_vendor_id, sn=self.sn,
                                  mn=self.mn, fr=self.fr, mdts=self.mdts, cntlid=self.cntlid,
                                  cmic=CMIC_MULTI_CONTROLLER if self.multi_controller else 0,
                                  oaes=OAES_NAMESPACE_ATTRIBUTE | AEC_ZONE_DESCRIPTOR_CHANGED,
                                  oacs=OACS_NS_MANAGEMENT | OACS_DOORBELL_BUFFER_CONFIG,
                                  nn=self.max_namespaces,
                                  oncs=int(self.oncs), vwc=VWC_PRESENT | VWC_FLUSH_BROADCAST,
                                  ocfs=OCFS_FORMAT_0 if Oncs.COPY in self.oncs else 0,
                                  sgls=SGLS_SUPPORTED if self.sgl else 0, tnvmcap=self.nvm_capacity,
                                  unvmcap=unallocated)
