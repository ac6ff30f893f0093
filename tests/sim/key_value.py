"""The Key Value command set through the real front end, queues and DMA engine, over the FTL and NAND model.

Namespace 1 is an NVM namespace, namespace 2 a key-value one of 64 blocks
of 4 KiB: keys of up to 16 bytes, values of up to 128 KiB, each value in
whole blocks that the firmware writes through the ``conv`` back end (its
FTL, write cache and NAND timing). The completion scoreboard checks every
status against the reference model's own key-value pairs, the data
scoreboard every value and key list returned and DW0; each test also
asserts what it expects itself.
"""

from __future__ import annotations

import struct
from dataclasses import replace

import pyuvm

from contract import nvme_bar0 as bar0
from models.identify import (IDENTIFY_SIZE, Cns, ControllerConfig, NamespaceConfig, NidType, parse_namespace_list,
                             parse_ns_descriptors)
from models.key_value import (STORE_ONLY_IF_ABSENT, STORE_ONLY_IF_EXISTS, KvFormat, KvOpcode, kv_cmd,
                              parse_key_list)
from models.nvme_commands import get_log_page_cmd, identify_cmd, read_cmd
from models.nvme_logs import LogId, parse_command_effects
from models.nvme_regs import NVME_REG_CC
from models.nvme_spec import (CC_CSS_NVM, IOCS_COMBINATION, CompletionEntry, Csi, GenericStatus, NvmOpcode,
                              StatusCode, SubmissionEntry)
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer, run_all
from tb.nvme_queues import NvmeQueue

TIMEOUT_MS = 100
COMMAND_TIMEOUT_NS = 20_000_000      # a value's blocks may wait for NAND reads (tR 50 us)
NVM, KV = 1, 2
KV_BLOCKS = 64
FORMAT = KvFormat()
OK: StatusCode = GenericStatus.SUCCESS


class KeyValueTest(CommandSetTest):
    """CommandSetTest with an NVM and a key-value namespace on the conv back end, an I/O queue pair and an
    MDTS-sized buffer."""

    backend_kind = "conv"

    def controller_config(self) -> ControllerConfig:
        return replace(super().controller_config(), namespaces=(
            NamespaceConfig(NVM, PAGE, 1024), NamespaceConfig(KV, PAGE, KV_BLOCKS, kv=FORMAT)))

    async def setup(self) -> None:
        await super().setup()
        await self.admin.set_num_queues(1, 1)
        self.queue: NvmeQueue = await self.admin.create_queue_pair(1, 32)
        self.buf = await HostBuffer.alloc(self.tb, 32)

    async def run(self, sqe: SubmissionEntry, code: StatusCode = OK) -> CompletionEntry:
        (cqe,) = await run_all(self.queue, [sqe], COMMAND_TIMEOUT_NS)
        assert cqe.status.has(code), (f"opcode {sqe.opcode:#04x} key length {sqe.cdw11 & 0xFF}: {cqe.status}, "
                                      f"expected {code.name}")
        return cqe

    async def store(self, key: bytes, value: bytes, options: int = 0, code: StatusCode = OK) -> None:
        await self.tb.rc.mem_address_space.write(self.buf.addr, value)
        prps = self.buf.prps(len(value)) if value else (0, 0)
        await self.run(kv_cmd(KvOpcode.STORE, KV, key, len(value), options, *prps), code)

    async def retrieve(self, key: bytes, buffer: int, code: StatusCode = OK) -> tuple[int, bytes]:
        """(DW0: the value's size, what landed in the buffer)."""
        prps = self.buf.prps(buffer) if buffer else (0, 0)
        cqe = await self.run(kv_cmd(KvOpcode.RETRIEVE, KV, key, buffer, 0, *prps), code)
        return cqe.dw0, bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, buffer))

    async def list_keys(self, start: bytes = b"", buffer: int = PAGE) -> list[bytes]:
        await self.run(kv_cmd(KvOpcode.LIST, KV, start, buffer, 0, *self.buf.prps(buffer)))
        return parse_key_list(bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, buffer)))

    async def admin_data(self, sqe: SubmissionEntry, code: StatusCode = OK) -> bytes:
        prp1, prp2 = self.buf.prps(IDENTIFY_SIZE)
        cqe = await self.admin.execute(replace(sqe, prp1=prp1, prp2=prp2), expect=None)
        assert cqe.status.has(code), f"admin {sqe.opcode:#04x}: {cqe.status}, expected {code.name}"
        return bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, IDENTIFY_SIZE))


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class KeyValueIdentify(KeyValueTest):
    """CNS 1Ch offers the KV set; CNS 05h with CSI 01h gives the KV format (key and value limits) and the
    size in bytes; CNS 07h lists the KV namespace; its descriptors carry CSI 01h; CNS 00h is zeroes (not an
    NVM namespace); the effects log with CSI 01h marks exactly Flush and the KV commands."""

    async def body(self) -> None:
        assert struct.unpack_from("<Q", await self.admin_data(identify_cmd(Cns.IO_COMMAND_SETS)))[0] == \
            IOCS_COMBINATION and IOCS_COMBINATION & 1 << Csi.KEY_VALUE
        ident = await self.admin_data(identify_cmd(Cns.IO_NAMESPACE, KV, csi=Csi.KEY_VALUE))
        nsze, _, nuse, _, nkvf = struct.unpack_from("<QQQBB", ident)
        mkl, _, _, mvl, mnk = struct.unpack_from("<HBBII", ident, 72)
        assert (nsze, nuse, nkvf) == (KV_BLOCKS * PAGE, KV_BLOCKS * PAGE, 1), (nsze, nuse, nkvf)
        assert (mkl, mvl, mnk) == (FORMAT.max_key, FORMAT.max_value, FORMAT.max_keys)
        await self.admin_data(identify_cmd(Cns.IO_NAMESPACE, NVM, csi=Csi.KEY_VALUE), GenericStatus.INVALID_FIELD)
        assert parse_namespace_list(await self.admin_data(identify_cmd(Cns.IO_ACTIVE_NAMESPACES,
                                                                       csi=Csi.KEY_VALUE))) == [KV]
        assert parse_ns_descriptors(await self.admin_data(identify_cmd(Cns.NS_DESCRIPTORS, KV)))[NidType.CSI] == \
            bytes([Csi.KEY_VALUE])
        assert not any(await self.admin_data(identify_cmd(Cns.NAMESPACE, KV)))
        _, io = parse_command_effects(await self.admin_data(get_log_page_cmd(LogId.COMMANDS_SUPPORTED,
                                                                             IDENTIFY_SIZE, csi=Csi.KEY_VALUE)))
        assert set(io) == {NvmOpcode.FLUSH, *KvOpcode}, sorted(io)
        self.assert_checked(reads=6)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class KeyValueRoundTrip(KeyValueTest):
    """Values of 4 bytes to 128 KiB stored, retrieved whole, into a shorter buffer (DW0 still the whole size)
    and into none; Exist; List from the first key, from a key, into a buffer that holds two; a value
    replaced by a shorter one; Delete; the values reached the FTL."""

    async def body(self) -> None:
        values = {b"a": b"\x5a" * 4, b"blob": bytes(range(256)) * 20, b"big-value-key-16": bytes(range(251)) * 520,
                  b"m": b"meta" * 1024}
        writes_before = self.backend.smart()["host_write_pages"]
        for key, value in values.items():
            await self.store(key, value)
        for key, value in values.items():
            size, got = await self.retrieve(key, len(value))
            assert size == len(value) and got[:len(value)] == value, f"{key!r}: {size} bytes"
        size, got = await self.retrieve(b"blob", 100)
        assert size == len(values[b"blob"]) and got == values[b"blob"][:100]
        assert (await self.retrieve(b"m", 0))[0] == len(values[b"m"])
        await self.run(kv_cmd(KvOpcode.EXIST, KV, b"a"))
        assert await self.list_keys() == sorted(values)
        assert await self.list_keys(b"b") == [k for k in sorted(values) if k >= b"b"]
        two = 4 + 4 + 20            # the count, then "a" and "big-value-key-16" with their lengths, padded
        assert await self.list_keys(buffer=two) == sorted(values)[:2]
        assert await self.list_keys(buffer=two - 4) == sorted(values)[:1]
        await self.store(b"blob", b"shrt")
        await self.tb.rc.mem_address_space.write(self.buf.addr, b"\xee" * 8)
        assert await self.retrieve(b"blob", 8) == (4, b"shrt" + b"\xee" * 4), "the buffer past the value changed"
        await self.run(kv_cmd(KvOpcode.DELETE, KV, b"a"))
        await self.run(kv_cmd(KvOpcode.EXIST, KV, b"a"), GenericStatus.KV_KEY_DOES_NOT_EXIST)
        assert await self.list_keys() == sorted(set(values) - {b"a"})
        written = self.backend.smart()["host_write_pages"] - writes_before
        assert written >= sum(-(-len(v) // PAGE) for v in values.values()), f"the FTL saw {written} page writes"
        self.assert_checked(reads=11, dw0s=8)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class KeyValueErrors(KeyValueTest):
    """Every KV status in check order: key sizes, value size (too big, not whole dwords), options, the key
    against the options, capacity, a misaligned PRP that stores nothing, buffers beyond MDTS or not whole
    dwords, an NVM opcode the set lacks."""

    async def body(self) -> None:
        for opcode in (KvOpcode.STORE, KvOpcode.RETRIEVE, KvOpcode.DELETE, KvOpcode.EXIST):
            for length in (0, FORMAT.max_key + 1):
                await self.run(kv_cmd(opcode, KV, b"k", key_length=length), GenericStatus.KV_INVALID_KEY_SIZE)
        await self.run(kv_cmd(KvOpcode.LIST, KV, b"k", PAGE, 0, *self.buf.prps(PAGE), key_length=17),
                       GenericStatus.KV_INVALID_KEY_SIZE)
        await self.run(kv_cmd(KvOpcode.STORE, KV, b"k", FORMAT.max_value + 4), GenericStatus.KV_INVALID_VALUE_SIZE)
        await self.store(b"k", b"odd", code=GenericStatus.KV_INVALID_VALUE_SIZE)          # not whole dwords
        await self.run(kv_cmd(KvOpcode.LIST, KV, b"", 6, 0, *self.buf.prps(6)), GenericStatus.INVALID_FIELD)
        await self.store(b"k", b"vvvv", STORE_ONLY_IF_EXISTS | STORE_ONLY_IF_ABSENT, GenericStatus.INVALID_FIELD)
        await self.store(b"k", b"vvvv", STORE_ONLY_IF_EXISTS, GenericStatus.KV_KEY_DOES_NOT_EXIST)
        await self.store(b"k", b"vvvv", STORE_ONLY_IF_ABSENT)
        await self.store(b"k", b"v2v2", STORE_ONLY_IF_ABSENT, GenericStatus.KV_KEY_EXISTS)
        await self.store(b"k", b"v3v3", STORE_ONLY_IF_EXISTS)
        await self.run(kv_cmd(KvOpcode.RETRIEVE, KV, b"k", 64 * PAGE), GenericStatus.INVALID_FIELD)   # > MDTS
        await self.run(kv_cmd(KvOpcode.RETRIEVE, KV, b"k", PAGE, 1, *self.buf.prps(PAGE)),
                       GenericStatus.INVALID_FIELD)                                        # reserved option
        await self.run(kv_cmd(KvOpcode.RETRIEVE, KV, b"gone", PAGE, 0, *self.buf.prps(PAGE)),
                       GenericStatus.KV_KEY_DOES_NOT_EXIST)
        await self.run(kv_cmd(KvOpcode.DELETE, KV, b"gone"), GenericStatus.KV_KEY_DOES_NOT_EXIST)
        await self.run(kv_cmd(KvOpcode.STORE, KV, b"bad-prp", 8, 0, self.buf.addr + 2),
                       GenericStatus.PRP_OFFSET_INVALID)
        await self.run(kv_cmd(KvOpcode.EXIST, KV, b"bad-prp"), GenericStatus.KV_KEY_DOES_NOT_EXIST)
        big = bytes(FORMAT.max_value)                    # 32 blocks each: the namespace holds one more
        await self.store(b"big1", big)
        await self.store(b"big2", big, code=GenericStatus.CAPACITY_EXCEEDED)
        await self.store(b"big1", big)                   # a replacement may reuse its own blocks
        await self.run(replace(read_cmd(KV, 0, 1), opcode=NvmOpcode.COMPARE), GenericStatus.INVALID_OPCODE)
        self.assert_checked(dw0s=20)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class KeyValueNeedsItsSet(KeyValueTest):
    """Enabled with CC.CSS 000b (the NVM set only), the key-value namespace takes no command: Invalid
    Opcode; the NVM namespace still works."""

    cc_css = CC_CSS_NVM

    async def body(self) -> None:
        assert bar0.CC.CSS.get(await self.regs.readl(NVME_REG_CC)) == CC_CSS_NVM
        for opcode in KvOpcode:
            await self.run(kv_cmd(opcode, KV, b"k"), GenericStatus.INVALID_OPCODE)
        await self.run(read_cmd(NVM, 0, 1, *self.buf.prps(PAGE)))
        self.assert_checked(reads=1)
