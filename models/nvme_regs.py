"""NVMe controller registers (NVM Express Base Specification 1.4, section 3.1).

Offsets and field decoders shared by the host driver and the scoreboards, and
``RegisterModel``: the reference model of the register file, which predicts
what every read returns given the writes so far. Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

NVME_REG_CAP = 0x00
NVME_REG_VS = 0x08
NVME_REG_INTMS = 0x0C
NVME_REG_INTMC = 0x10
NVME_REG_CC = 0x14
NVME_REG_CSTS = 0x1C
NVME_REG_NSSR = 0x20
NVME_REG_AQA = 0x24
NVME_REG_ASQ = 0x28
NVME_REG_ACQ = 0x30
NVME_REG_DBS = 0x1000

NVME_CC_ENABLE = 1 << 0
NVME_CC_CSS_SHIFT = 4
NVME_CC_MPS_SHIFT = 7
NVME_CC_AMS_SHIFT = 11
NVME_CC_SHN_SHIFT = 14
NVME_CC_IOSQES_SHIFT = 16
NVME_CC_IOCQES_SHIFT = 20
NVME_CC_SHN_NORMAL = 1 << NVME_CC_SHN_SHIFT
NVME_CC_SHN_ABRUPT = 2 << NVME_CC_SHN_SHIFT
NVME_CC_SHN_MASK = 3 << NVME_CC_SHN_SHIFT

NVME_CSTS_RDY = 1 << 0
NVME_CSTS_CFS = 1 << 1
NVME_CSTS_SHST_SHIFT = 2
NVME_CSTS_SHST_MASK = 3 << NVME_CSTS_SHST_SHIFT
NVME_CSTS_SHST_OCCUR = 1 << NVME_CSTS_SHST_SHIFT
NVME_CSTS_SHST_CMPLT = 2 << NVME_CSTS_SHST_SHIFT

NVME_VS_1_4 = 0x0001_0400


def bits(value: int, lo: int, width: int) -> int:
    return (value >> lo) & ((1 << width) - 1)


@dataclass(frozen=True)
class Cap:
    """Controller Capabilities, decoded."""

    mqes: int
    cqr: bool
    ams: int
    to: int
    dstrd: int
    nssrs: bool
    css: int
    bps: bool
    mpsmin: int
    mpsmax: int
    pmrs: bool
    cmbs: bool

    @classmethod
    def decode(cls, raw: int) -> "Cap":
        return cls(
            mqes=bits(raw, 0, 16), cqr=bool(bits(raw, 16, 1)), ams=bits(raw, 17, 2),
            to=bits(raw, 24, 8), dstrd=bits(raw, 32, 4), nssrs=bool(bits(raw, 36, 1)),
            css=bits(raw, 37, 8), bps=bool(bits(raw, 45, 1)), mpsmin=bits(raw, 48, 4),
            mpsmax=bits(raw, 52, 4), pmrs=bool(bits(raw, 56, 1)), cmbs=bool(bits(raw, 57, 1)),
        )

    def encode(self) -> int:
        return (self.mqes | self.cqr << 16 | self.ams << 17 | self.to << 24 | self.dstrd << 32
                | self.nssrs << 36 | self.css << 37 | self.bps << 45 | self.mpsmin << 48
                | self.mpsmax << 52 | self.pmrs << 56 | self.cmbs << 57)

    @property
    def timeout_ms(self) -> int:
        return self.to * 500

    @property
    def doorbell_stride(self) -> int:
        return 4 << self.dstrd

    def summary(self) -> str:
        page = lambda mps: f"{4 << mps} KiB"  # noqa: E731
        sets = "NVM" if self.css & 1 else "none"
        return (f"MQES {self.mqes + 1} entries, CQR {int(self.cqr)}, AMS {self.ams:#04b}, "
                f"TO {self.timeout_ms} ms, DSTRD {self.doorbell_stride} B, NSSRS {int(self.nssrs)}, "
                f"CSS {sets}, MPS {page(self.mpsmin)}..{page(self.mpsmax)}")


def decode_version(raw: int) -> str:
    return f"{bits(raw, 16, 16)}.{bits(raw, 8, 8)}.{bits(raw, 0, 8)}"


class Access(Enum):
    """How a register bit reacts to a write."""

    RO = "RO"
    RW = "RW"
    RW1S = "RW1S"
    RW1C = "RW1C"


@dataclass
class RegisterField:
    name: str
    lo: int
    width: int
    access: Access
    reset: int = 0

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lo


@dataclass
class Register:
    """A 32-bit register of the map; 64-bit registers are two of these."""

    name: str
    offset: int
    fields: list[RegisterField]
    # bits whose value depends on controller timing (CSTS), not on writes alone
    volatile_mask: int = 0

    @property
    def reset_value(self) -> int:
        return sum(f.reset << f.lo for f in self.fields)

    def mask_of(self, access: Access) -> int:
        return sum(f.mask for f in self.fields if f.access is access)


@dataclass
class ControllerParams:
    """The design parameters the register file reflects in CAP."""

    mqes: int = 4095
    # weighted round robin with urgent priority class
    ams: int = 1
    to: int = 1
    dstrd: int = 0
    mpsmin: int = 0
    mpsmax: int = 2
    queue_count: int = 65

    def cap(self) -> Cap:
        return Cap(mqes=self.mqes, cqr=True, ams=self.ams, to=self.to, dstrd=self.dstrd, nssrs=False,
                   css=1, bps=False, mpsmin=self.mpsmin, mpsmax=self.mpsmax, pmrs=False, cmbs=False)


def register_map(params: ControllerParams) -> list[Register]:
    """The controller registers with reset values and access types (spec 3.1)."""
    cap = params.cap().encode()
    return [
        Register("CAP_LO", 0x00, [RegisterField("CAP_LO", 0, 32, Access.RO, cap & 0xFFFF_FFFF)]),
        Register("CAP_HI", 0x04, [RegisterField("CAP_HI", 0, 32, Access.RO, cap >> 32)]),
        Register("VS", 0x08, [RegisterField("VS", 0, 32, Access.RO, NVME_VS_1_4)]),
        Register("INTMS", 0x0C, [RegisterField("IVMS", 0, 32, Access.RW1S)]),
        Register("INTMC", 0x10, [RegisterField("IVMC", 0, 32, Access.RW1C)]),
        Register("CC", 0x14, [
            RegisterField("EN", 0, 1, Access.RW), RegisterField("CSS", 4, 3, Access.RW),
            RegisterField("MPS", 7, 4, Access.RW), RegisterField("AMS", 11, 3, Access.RW),
            RegisterField("SHN", 14, 2, Access.RW), RegisterField("IOSQES", 16, 4, Access.RW),
            RegisterField("IOCQES", 20, 4, Access.RW)]),
        Register("CSTS", 0x1C, [
            RegisterField("RDY", 0, 1, Access.RO), RegisterField("CFS", 1, 1, Access.RO),
            RegisterField("SHST", 2, 2, Access.RO), RegisterField("NSSRO", 4, 1, Access.RO),
            RegisterField("PP", 5, 1, Access.RO)], volatile_mask=0xF),
        Register("AQA", 0x24, [RegisterField("ASQS", 0, 12, Access.RW), RegisterField("ACQS", 16, 12, Access.RW)]),
        Register("ASQ_LO", 0x28, [RegisterField("ASQB", 12, 20, Access.RW)]),
        Register("ASQ_HI", 0x2C, [RegisterField("ASQB_HI", 0, 32, Access.RW)]),
        Register("ACQ_LO", 0x30, [RegisterField("ACQB", 12, 20, Access.RW)]),
        Register("ACQ_HI", 0x34, [RegisterField("ACQB_HI", 0, 32, Access.RW)]),
    ]


@dataclass
class RegisterModel:
    """Predicts register reads from the writes the host made.

    Works on dwords with byte enables, as the BAR completer does. The
    intermask registers INTMS and INTMC share one mask. CC.CSS, CC.MPS and
    CC.AMS are read-only while CC.EN is 1. Offsets outside the map read 0,
    including the doorbells, which are write-only.
    """

    params: ControllerParams = field(default_factory=ControllerParams)

    def __post_init__(self) -> None:
        self.registers = {r.offset: r for r in register_map(self.params)}
        self.reset()

    def reset(self) -> None:
        self.values = {off: r.reset_value for off, r in self.registers.items()}

    def controller_reset(self) -> None:
        """CC.EN 1->0: everything but AQA, ASQ, ACQ and CC returns to reset."""
        for off, reg in self.registers.items():
            if reg.name not in ("AQA", "ASQ_LO", "ASQ_HI", "ACQ_LO", "ACQ_HI", "CC"):
                self.values[off] = reg.reset_value

    def read_dword(self, offset: int) -> tuple[int, int]:
        """Value and mask of the bits that are predictable at this moment."""
        reg = self.registers.get(offset)
        if reg is None:
            return 0, 0xFFFF_FFFF
        if reg.name in ("INTMS", "INTMC"):
            return self.values[0x0C], 0xFFFF_FFFF
        return self.values[offset], 0xFFFF_FFFF & ~reg.volatile_mask

    def write_dword(self, offset: int, data: int, byte_enable: int = 0xF) -> None:
        reg = self.registers.get(offset)
        if reg is None:
            return
        be_mask = sum(0xFF << (8 * i) for i in range(4) if byte_enable >> i & 1)
        data &= be_mask
        old = self.values[offset]
        if reg.name == "INTMS":
            self.values[0x0C] |= data
        elif reg.name == "INTMC":
            self.values[0x0C] &= ~data
        else:
            writable = reg.mask_of(Access.RW) & be_mask
            if reg.name == "CC" and old & NVME_CC_ENABLE:
                writable &= ~((0x7 << NVME_CC_CSS_SHIFT) | (0xF << NVME_CC_MPS_SHIFT) | (0x7 << NVME_CC_AMS_SHIFT))
            self.values[offset] = (old & ~writable) | (data & writable)
            if reg.name == "CC" and old & NVME_CC_ENABLE and not self.values[offset] & NVME_CC_ENABLE:
                self.controller_reset()

    def read(self, offset: int, length: int) -> tuple[bytes, bytes]:
        """Predicted bytes of an access of any size and alignment, and their check mask."""
        value = bytearray()
        mask = bytearray()
        for dw in range(offset & ~3, offset + length, 4):
            v, m = self.read_dword(dw)
            value += v.to_bytes(4, "little")
            mask += m.to_bytes(4, "little")
        start = offset & 3
        return bytes(value[start:start + length]), bytes(mask[start:start + length])

    def write(self, offset: int, data: bytes) -> None:
        """Apply a host write of any size and alignment, dword by dword."""
        end = offset + len(data)
        for dw in range(offset & ~3, end, 4):
            be = 0
            word = 0
            for i in range(4):
                addr = dw + i
                if offset <= addr < end:
                    be |= 1 << i
                    word |= data[addr - offset] << (8 * i)
            self.write_dword(dw, word, be)
