"""NVMe controller registers (NVM Express Base Specification 1.4, section 3.1).

Offsets and fields come from contract/nvme_bar0.rdl (``contract.nvme_bar0``);
the ``NVME_REG_*`` / ``NVME_CC_*`` names are Linux's (include/linux/nvme.h),
which the host driver and the tests use. ``RegisterModel`` predicts what
every register read returns given the writes so far; it is the generated
pyuvm register model (``contract.uvm.nvme_bar0``) with the behaviour the
access types cannot say written on top.
"""

from __future__ import annotations

import logging

from dataclasses import dataclass, field

from pyuvm import uvm_predict_e, uvm_reg, uvm_reg_field

from contract import nvme_bar0 as bar0
from contract.params import DesignParams
from contract.uvm.nvme_bar0 import nvme_bar0 as Bar0Block

NVME_REG_CAP = bar0.CAP.OFFSET
NVME_REG_VS = bar0.VS.OFFSET
NVME_REG_INTMS = bar0.INTMS.OFFSET
NVME_REG_INTMC = bar0.INTMC.OFFSET
NVME_REG_CC = bar0.CC.OFFSET
NVME_REG_CSTS = bar0.CSTS.OFFSET
NVME_REG_AQA = bar0.AQA.OFFSET
NVME_REG_ASQ = bar0.ASQ.OFFSET
NVME_REG_ACQ = bar0.ACQ.OFFSET
NVME_REG_DBS = bar0.DOORBELL.OFFSET

# CAP.CSS bits (NVMe 2.0 figure 36); the CC.CSS values are models.nvme_spec's
CAP_CSS_NVM = 1 << 0           # the NVM command set
CAP_CSS_IO_SETS = 1 << 6       # one or more I/O command sets, listed by Identify CNS 1Ch

NVME_CC_ENABLE = bar0.CC.EN.bit
NVME_CC_CSS_SHIFT = bar0.CC.CSS.lsb
NVME_CC_MPS_SHIFT = bar0.CC.MPS.lsb
NVME_CC_AMS_SHIFT = bar0.CC.AMS.lsb
NVME_CC_SHN_SHIFT = bar0.CC.SHN.lsb
NVME_CC_IOSQES_SHIFT = bar0.CC.IOSQES.lsb
NVME_CC_IOCQES_SHIFT = bar0.CC.IOCQES.lsb
NVME_CC_SHN_NORMAL = bar0.CC.SHN.put(0b01)
NVME_CC_SHN_ABRUPT = bar0.CC.SHN.put(0b10)
NVME_CC_SHN_MASK = bar0.CC.SHN.mask

NVME_CSTS_RDY = bar0.CSTS.RDY.bit
NVME_CSTS_CFS = bar0.CSTS.CFS.bit
NVME_CSTS_SHST_SHIFT = bar0.CSTS.SHST.lsb
NVME_CSTS_SHST_MASK = bar0.CSTS.SHST.mask
NVME_CSTS_SHST_OCCUR = bar0.CSTS.SHST.put(0b01)
NVME_CSTS_SHST_CMPLT = bar0.CSTS.SHST.put(0b10)

NVME_VS_1_4 = bar0.VS.RESET_VALUE


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
        f = bar0.CAP.decode(raw)
        flags = ("CQR", "NSSRS", "BPS", "PMRS", "CMBS")
        return cls(**{name.lower(): bool(value) if name in flags else value for name, value in f.items()})

    def encode(self) -> int:
        return bar0.CAP.encode(**{name: int(getattr(self, name.lower())) for name in bar0.CAP.fields()})

    @property
    def timeout_ms(self) -> int:
        return self.to * 500

    @property
    def doorbell_stride(self) -> int:
        return 4 << self.dstrd

    def summary(self) -> str:
        page = lambda mps: f"{4 << mps} KiB"  # noqa: E731
        sets = "+".join(name for bit, name in ((CAP_CSS_NVM, "NVM"), (CAP_CSS_IO_SETS, "I/O sets"))
                        if self.css & bit) or "none"
        return (f"MQES {self.mqes + 1} entries, CQR {int(self.cqr)}, AMS {self.ams:#04b}, "
                f"TO {self.timeout_ms} ms, DSTRD {self.doorbell_stride} B, NSSRS {int(self.nssrs)}, "
                f"CSS {sets}, MPS {page(self.mpsmin)}..{page(self.mpsmax)}")


def decode_version(raw: int) -> str:
    f = bar0.VS
    return f"{f.MJR.get(raw)}.{f.MNR.get(raw)}.{f.TER.get(raw)}"


@dataclass
class ControllerParams:
    """The design parameters the register file reflects in CAP (by default, the build's)."""

    design: DesignParams = field(default_factory=DesignParams.current)

    @property
    def mqes(self) -> int:
        return self.design.MQES

    @property
    def queue_count(self) -> int:
        return self.design.queue_count

    def cap(self) -> Cap:
        d = self.design
        return Cap(mqes=d.MQES, cqr=True, ams=d.AMS, to=d.TIMEOUT, dstrd=d.DSTRD, nssrs=False,
                   css=CAP_CSS_NVM | CAP_CSS_IO_SETS, bps=False,
                   mpsmin=d.MPSMIN, mpsmax=d.MPSMAX, pmrs=False, cmbs=False)


# what a controller reset (CC.EN 1->0) leaves alone (spec 3.1: the admin queue registers and CC)
KEPT_BY_CONTROLLER_RESET = ("AQA", "ASQ", "ACQ", "CC")
# fields the host may change only while CC.EN is 0
CC_FIXED_WHILE_ENABLED = ("CSS", "MPS", "AMS")


class RegisterModel:
    """Predicts register reads from the writes the host made.

    Works on dwords with byte enables, as the BAR completer does: only the
    enabled bytes of a field change (pyuvm predicts a field from the enable
    of its lowest byte). On top of the access types: INTMS and INTMC share
    one mask; CC.CSS, CC.MPS and CC.AMS are read-only while CC.EN is 1;
    CC.EN 1->0 resets every register but the admin queue registers and CC;
    CSTS depends on controller timing and is not predicted. Offsets outside
    the controller registers read 0, including the doorbells, which are
    write-only.
    """

    def __init__(self, params: ControllerParams | None = None) -> None:
        self.params = params or ControllerParams()
        # pyuvm warns on every predict through an unlocked map and on every read of a volatile
        # field's mirror; both are how this model works (CSTS is masked out of the checks), so
        # only its errors are shown
        logging.getLogger("RegModel").setLevel(logging.ERROR)
        self.block = Bar0Block()
        # not locked: the generated map has no endianness, which locking needs for address
        # translation, and nothing here goes through the map
        self.block.build()
        cap = self.params.cap().encode()
        for f in self.block.CAP.get_fields():
            f.set_reset(bar0.CAP.fields()[f.get_name()].get(cap))
        # dword offset -> (register, bit position of the dword in it)
        self._dwords: dict[int, tuple[uvm_reg, int]] = {}
        for reg in (self.block.CAP, self.block.VS, self.block.INTMS, self.block.INTMC, self.block.CC,
                    self.block.CSTS, self.block.AQA, self.block.ASQ, self.block.ACQ):
            for half in range(reg.get_n_bytes() // 4):
                self._dwords[getattr(bar0, reg.get_name()).OFFSET + 4 * half] = (reg, 32 * half)
        self.reset()

    def reset(self) -> None:
        self.block.reset()

    def dwords(self) -> list[tuple[str, int]]:
        """(register name, dword offset) of every dword of the controller registers, in address order."""
        return sorted(((reg.get_name(), offset) for offset, (reg, _) in self._dwords.items()), key=lambda r: r[1])

    def describe(self, offset: int, got: int, expected: int, length: int = 4) -> str:
        """A read mismatch in the specification's words: the register, and each field that differs.

        ``got`` and ``expected`` are the little-endian values of ``length`` bytes read at ``offset``.
        """
        dword = offset & ~3
        if dword not in self._dwords:
            return f"offset {offset:#06x} (no register)"
        reg, shift = self._dwords[dword]
        name = reg.get_name() + (f"[{shift + 31}:{shift}]" if reg.get_n_bytes() > 4 else "")
        lsb = shift + 8 * (offset & 3)
        differing = []
        for f in reg.get_fields():
            low, width = f.get_lsb_pos() - lsb, f.get_n_bits()
            if low + width <= 0 or low >= 8 * length:
                continue
            field_mask = ((1 << width) - 1 << low if low >= 0 else (1 << (width + low)) - 1) & ((1 << 8 * length) - 1)
            if (got ^ expected) & field_mask:
                g, e = ((v & field_mask) >> max(low, 0) for v in (got, expected))
                differing.append(f"{f.get_name()} got {g:#x}, expected {e:#x}")
        return f"{name} ({offset:#06x})" + (": " + "; ".join(differing) if differing else "")

    def controller_reset(self) -> None:
        """CC.EN 1->0: everything but AQA, ASQ, ACQ and CC returns to its reset value."""
        for reg in self.block.get_registers():
            if reg.get_name() not in KEPT_BY_CONTROLLER_RESET:
                reg.reset()

    @staticmethod
    def _unpredictable(reg: uvm_reg) -> int:
        """Bits of the register that follow controller timing, not the writes (CSTS)."""
        return sum(((1 << f.get_n_bits()) - 1) << f.get_lsb_pos() for f in reg.get_fields() if f.is_volatile())

    def read_dword(self, offset: int) -> tuple[int, int]:
        """Value and mask of the bits that are predictable at this moment."""
        if offset not in self._dwords:
            return 0, 0xFFFF_FFFF
        reg, shift = self._dwords[offset]
        value = reg.get_mirrored_value() >> shift & 0xFFFF_FFFF
        return value, ~(self._unpredictable(reg) >> shift) & 0xFFFF_FFFF

    def write_dword(self, offset: int, data: int, byte_enable: int = 0xF) -> None:
        if offset not in self._dwords:
            return
        reg, shift = self._dwords[offset]
        bytes_mask = sum(0xFF << (8 * i) for i in range(4) if byte_enable >> i & 1) << shift
        data = (data << shift) & bytes_mask
        old = reg.get_mirrored_value()
        if reg is self.block.INTMS or reg is self.block.INTMC:
            # write-1-to-set / -clear: bytes not enabled write zeros, which change nothing
            reg.predict(data, -1, uvm_predict_e.UVM_PREDICT_WRITE)
            other = self.block.INTMC if reg is self.block.INTMS else self.block.INTMS
            other.predict(reg.get_mirrored_value())
            return
        # plain read/write fields: bytes not enabled keep their value
        reg.predict((old & ~bytes_mask) | data, -1, uvm_predict_e.UVM_PREDICT_WRITE)
        if reg is self.block.CC:
            self._cc_written(old)

    def _cc_written(self, old: int) -> None:
        cc = self.block.CC
        was_enabled = bar0.CC.EN.get(old)
        if was_enabled:
            fixed: list[uvm_reg_field] = [getattr(cc, name) for name in CC_FIXED_WHILE_ENABLED]
            for f in fixed:
                f.predict(bar0.CC.fields()[f.get_name()].get(old))
        if was_enabled and not cc.EN.get_mirrored_value():
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
