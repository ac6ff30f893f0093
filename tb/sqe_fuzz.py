"""SQE fuzzing: random 64-byte submission entries over every field and every opcode.

Each field is drawn from a mix of values a fuzzer should try: zero, one,
all ones, single bits, small numbers, the namespace's edges and uniform
random, so that most commands are wrong in some field and some are right.
The reference model predicts every status; the scoreboards check it.

What is constrained, and why:

- Queue-management opcodes (Create and Delete I/O SQ and CQ) are kept out:
  they would tear down the queues the fuzzer submits on; so is Doorbell
  Buffer Config, which would move the doorbells it rings into arena pages
  of random bytes. Every other admin opcode (all 256 values) and every NVM
  opcode may come.
- Data pointers stay inside the ``Arena``, the one host region a fuzzed
  command is given: PRP1, PRP2, PRP list entries and SGL descriptors take
  any offset, alignment and descriptor type, but point at arena pages, so
  that a memory request anywhere else is a device bug (the TLP-rule checker
  fails the test on it). The PRP list and SGL pages hold random entries (one
  of ``VARIANTS`` drawings of each, picked afresh for every command, as
  drawing 800 entries per command would cost more than the command's
  simulation), and PRP2 points at the list page whenever
  the command's transfer needs a list (a data page read as a list would
  send the data wherever its bytes say).
- Commands run one at a time: each may touch any LBA, and the model
  predicts in submission order.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass

from models.identify import NSID_BROADCAST, ControllerConfig
from models.nvme_commands import COPY_RANGE_SIZE, DsmRange
from models.nvme_logs import LogId
from models.nvme_spec import AdminOpcode, FeatureId, NvmOpcode, SubmissionEntry
from models.prp import SGL_DESCRIPTOR_SIZE, SglType
from tb.pcie_tb import PcieTb

PAGE = 4096
DATA_PAGES = 33             # MDTS (128 KiB) from any offset in the first page
LIST_PAGE = DATA_PAGES      # PRP list entries
SGL_PAGE = DATA_PAGES + 1   # SGL descriptors
ARENA_PAGES = DATA_PAGES + 2
NOT_FUZZED = frozenset({AdminOpcode.CREATE_IO_SQ, AdminOpcode.DELETE_IO_SQ, AdminOpcode.CREATE_IO_CQ,
                              AdminOpcode.DELETE_IO_CQ, AdminOpcode.DOORBELL_BUFFER_CONFIG})
ADMIN_OPCODES = [op for op in range(256) if op not in NOT_FUZZED]
SUPPORTED_ADMIN = [AdminOpcode.GET_LOG_PAGE, AdminOpcode.IDENTIFY, AdminOpcode.ABORT, AdminOpcode.SET_FEATURES,
                   AdminOpcode.GET_FEATURES, AdminOpcode.ASYNC_EVENT_REQUEST]
SUPPORTED_NVM = list(NvmOpcode)
MAX_DSM_RANGES = 256
VARIANTS = 16


def _dword(rng: random.Random) -> int:
    """A 32-bit value as a fuzzer draws one."""
    kind = rng.randrange(6)
    if kind == 0:
        return 0
    if kind == 1:
        return rng.randrange(16)
    if kind == 2:
        return 1 << rng.randrange(32)
    if kind == 3:
        return 0xFFFF_FFFF
    return rng.getrandbits(32)


@dataclass(frozen=True)
class Arena:
    """The host memory every fuzzed command may reach (registered with the TLP-rule checker)."""

    base: int

    @classmethod
    def alloc(cls, tb: PcieTb) -> Arena:
        return cls(tb.alloc_dma(ARENA_PAGES * PAGE))

    def page(self, index: int) -> int:
        return self.base + index * PAGE


class SqeFuzzer:
    """Draws fuzzed SQEs; ``refresh`` redraws the arena's PRP list and SGL pages and data first."""

    def __init__(self, rng: random.Random, arena: Arena, config: ControllerConfig) -> None:
        self.rng = rng
        self.arena = arena
        self.config = config
        self._lists = [self._prp_list_page() for _ in range(VARIANTS)]
        self._sgls = [b"".join(self._sgl_descriptor(in_segment=True) for _ in range(PAGE // SGL_DESCRIPTOR_SIZE))
                      for _ in range(VARIANTS)]
        self._ranges = [b"".join(DsmRange(self._slba(), _dword(rng), _dword(rng)).pack()
                                 for _ in range(MAX_DSM_RANGES)) for _ in range(VARIANTS)]
        self._noise = rng.randbytes(8 * PAGE)

    # the arena's pointer pages and data

    async def refresh(self, tb: PcieTb) -> None:
        """New PRP list and SGL pages, DSM ranges and write data in the arena for the next command."""
        mem, rng = tb.rc.mem_address_space, self.rng
        await mem.write(self.arena.page(LIST_PAGE), rng.choice(self._lists))
        await mem.write(self.arena.page(SGL_PAGE), rng.choice(self._sgls))
        # DSM ranges at the start of the first data page, write data after them
        await mem.write(self.arena.page(0), rng.choice(self._ranges))
        start = rng.randrange(6 * PAGE)
        await mem.write(self.arena.page(1), self._noise[start:start + 2 * PAGE])

    def _prp_list_page(self) -> bytes:
        entries = [self._data_pointer(page_aligned=self.rng.random() < 0.9) for _ in range(PAGE // 8 - 1)]
        # the last entry chains: to the list page itself (a loop the length bound ends) or a data page
        entries.append(self.arena.page(self.rng.choice((LIST_PAGE, self.rng.randrange(DATA_PAGES)))))
        return struct.pack(f"<{len(entries)}Q", *entries)

    def _data_pointer(self, page_aligned: bool) -> int:
        """An address in a data page: page aligned, or at any byte offset."""
        offset = 0 if page_aligned else self.rng.choice((4 * self.rng.randrange(PAGE // 4), self.rng.randrange(PAGE)))
        return self.arena.page(self.rng.randrange(DATA_PAGES)) + offset

    def _sgl_descriptor(self, in_segment: bool) -> bytes:
        """Any descriptor type; data blocks in the data pages, segments in the SGL page."""
        rng = self.rng
        kind = rng.choice([SglType.DATA_BLOCK] * 4 + [SglType.SEGMENT, SglType.LAST_SEGMENT, SglType.BIT_BUCKET,
                                                       rng.randrange(16)])
        subtype = 0 if rng.random() < 0.9 else rng.randrange(16)
        if kind in (SglType.SEGMENT, SglType.LAST_SEGMENT):
            slot = rng.randrange(PAGE // SGL_DESCRIPTOR_SIZE)
            addr = self.arena.page(SGL_PAGE) + SGL_DESCRIPTOR_SIZE * slot
            addr += 0 if rng.random() < 0.9 else rng.randrange(16)
            # a segment ends inside the SGL page; now and then its length is not whole descriptors
            room = PAGE // SGL_DESCRIPTOR_SIZE - slot - (addr % SGL_DESCRIPTOR_SIZE != 0)
            length = SGL_DESCRIPTOR_SIZE * rng.randint(0, min(room, 8 if in_segment else 32))
            length -= rng.randrange(SGL_DESCRIPTOR_SIZE) if length and rng.random() < 0.1 else 0
        else:
            addr = self._data_pointer(page_aligned=rng.random() < 0.5)
            length = rng.choice((4 * rng.randint(1, 1024), rng.randint(1, 2 * PAGE), _dword(rng)))
        # never past the arena: a block's bytes end inside the data pages
        if kind not in (SglType.SEGMENT, SglType.LAST_SEGMENT) and addr + length > self.arena.page(DATA_PAGES):
            length = self.arena.page(DATA_PAGES) - addr
        return struct.pack("<QI3xB", addr, length & 0xFFFF_FFFF, (int(kind) & 0xF) << 4 | subtype)

    # fields

    def _nsid(self) -> int:
        """Mostly the power-on namespaces; else invalid (0, beyond NN, FFFFFFFEh...) or inactive ones."""
        nn = self.config.max_namespaces
        return self.rng.choice((1, 1, 2, 2, 0, nn + 1, self.rng.randint(3, nn), NSID_BROADCAST, NSID_BROADCAST - 1,
                                _dword(self.rng)))

    def _slba(self) -> int:
        rng = self.rng
        nlbas = min(ns.nlbas for ns in self.config.namespaces)
        return rng.choice((rng.randrange(64), rng.randrange(nlbas), nlbas - rng.randrange(1, 8),
                           rng.getrandbits(64), (1 << 64) - 1))

    def _nlb(self) -> int:
        """CDW12: NLB (zero-based), mostly small, and now and then the high bits (FUA, LR, PRINFO)."""
        rng = self.rng
        nlb = rng.choice((rng.randrange(8), rng.randrange(8), rng.randrange(256), rng.getrandbits(16)))
        return nlb | (rng.getrandbits(16) << 16 if rng.random() < 0.2 else 0)

    def _pointers(self, length: int) -> tuple[int, int]:
        """PRP1 and PRP2 inside the arena for a transfer of ``length`` bytes (0: none, or unknown)."""
        rng = self.rng
        prp1 = self._data_pointer(page_aligned=rng.random() < 0.6)
        if rng.random() < 0.05:
            prp1 |= rng.randrange(1, 4)   # not even dword aligned
        to_list = [self.arena.page(LIST_PAGE) + 8 * rng.randrange(PAGE // 8), self.arena.page(LIST_PAGE)]
        to_data = [self._data_pointer(page_aligned=True), self._data_pointer(page_aligned=False)]
        reach = prp1 % PAGE + length
        if reach > 2 * PAGE:
            return prp1, rng.choice(to_list)
        if reach > PAGE:    # PRP2 is the second page: any address taken there is written
            return prp1, rng.choice(to_data)
        return prp1, rng.choice([0, rng.getrandbits(64), *to_data, *to_list])   # PRP2 unused

    def _cdw0(self, opcode: int, admin: bool) -> dict[str, int]:
        rng = self.rng
        psdt = rng.choices((0, 1, 2, 3), weights=(85, 5, 5, 5) if admin else (60, 30, 5, 5))[0]
        return {"opcode": opcode, "fuse": 0 if rng.random() < 0.9 else rng.randrange(4), "psdt": psdt}

    def _common(self) -> dict[str, int]:
        rng = self.rng
        return {"nsid": self._nsid(), "cdw2": 0 if rng.random() < 0.8 else _dword(rng),
                "cdw3": 0 if rng.random() < 0.8 else _dword(rng),
                "mptr": 0 if rng.random() < 0.8 else rng.getrandbits(64)}

    def _data_pointer_fields(self, fields: dict[str, int], length: int) -> None:
        """PRP1 and PRP2, or with PSDT 01b SGL1 in their 16 bytes."""
        if fields["psdt"] == 1:
            fields["prp1"], fields["prp2"] = struct.unpack("<QQ", self._sgl_descriptor(in_segment=False))
        else:
            fields["prp1"], fields["prp2"] = self._pointers(length)

    # commands

    def io(self) -> SubmissionEntry:
        rng = self.rng
        opcode = rng.choice(SUPPORTED_NVM) if rng.random() < 0.8 else rng.randrange(256)
        fields = {**self._cdw0(opcode, admin=False), **self._common()}
        slba = self._slba()
        cdws = [slba & 0xFFFF_FFFF, slba >> 32, self._nlb(), _dword(rng), _dword(rng), _dword(rng)]
        ns = self.config.namespace(fields["nsid"])
        length = ((cdws[2] & 0xFFFF) + 1) * (ns.lba_size if ns else PAGE)
        if opcode == NvmOpcode.DATASET_MANAGEMENT:
            cdws[0] = rng.choice((0, rng.randrange(4), rng.randrange(MAX_DSM_RANGES), _dword(rng)))
            cdws[1] = rng.choice((1 << 2, 1 << 2, 0, _dword(rng)))   # mostly Deallocate
            length = ((cdws[0] & 0xFF) + 1) * 16
        elif opcode == NvmOpcode.COPY:
            # NR mostly within MSRC, now and then a reserved Descriptor Format; the ranges are what the
            # arena holds where PRP1 points
            cdws[2] = rng.choice((0, rng.randrange(4), rng.randrange(256))) | (
                rng.randrange(16) << 8 if rng.random() < 0.1 else 0)
            length = ((cdws[2] & 0xFF) + 1) * COPY_RANGE_SIZE
        self._data_pointer_fields(fields, length)
        return SubmissionEntry(**fields, **dict(zip(("cdw10", "cdw11", "cdw12", "cdw13", "cdw14", "cdw15"), cdws)))

    def admin(self) -> SubmissionEntry:
        rng = self.rng
        opcode = rng.choice(SUPPORTED_ADMIN) if rng.random() < 0.8 else rng.choice(ADMIN_OPCODES)
        fields = {**self._cdw0(opcode, admin=True), **self._common()}
        cdws = [_dword(rng) for _ in range(6)]
        length = PAGE   # Identify, and every other admin transfer of a page or less
        if opcode == AdminOpcode.IDENTIFY:
            cdws[0] = rng.choice((0, 1, 2, 3, rng.randrange(256), _dword(rng)))
        elif opcode == AdminOpcode.GET_LOG_PAGE:
            lid = rng.choice([int(lid) for lid in LogId] + [rng.randrange(256)])
            numd = rng.choice((rng.randrange(128), rng.randrange(1024), rng.getrandbits(16)))
            cdws[0] = lid | (rng.getrandbits(1) << 15) | (numd & 0xFFFF) << 16
            cdws[1] = numd >> 16 if rng.random() < 0.9 else _dword(rng)
            cdws[2], cdws[3] = (4 * rng.randrange(128), 0) if rng.random() < 0.9 else (_dword(rng), _dword(rng))
            length = (numd + 1) * 4
        elif opcode in (AdminOpcode.SET_FEATURES, AdminOpcode.GET_FEATURES):
            fid = rng.choice([int(fid) for fid in FeatureId] + [rng.randrange(256)])
            cdws[0] = fid | (rng.randrange(8) << 8 if opcode == AdminOpcode.GET_FEATURES else 0)
            cdws[0] |= (1 << 31) if rng.random() < 0.1 else 0    # SV
            if fid == FeatureId.INTERRUPT_COALESCING:
                cdws[1] &= 0x03FF   # aggregation time up to 300 us: the run stays within its time budget
        elif opcode == AdminOpcode.ABORT:
            cdws[0] = rng.choice((0, 1, _dword(rng)))
        self._data_pointer_fields(fields, length)
        return SubmissionEntry(**fields, **dict(zip(("cdw10", "cdw11", "cdw12", "cdw13", "cdw14", "cdw15"), cdws)))
