"""Key-value namespaces (the KV command set): an index from keys to pages of the namespace, values through
the back end.

Like NVMeVirt's KV mode, the firmware keeps the index itself and stores
each value in whole logical blocks of its namespace (a value of n bytes
takes ceil(n / LBA size) blocks, the lowest free ones first), so values
cost what the back end's writes and reads cost: on the ``conv`` back end
they go through the FTL and the NAND model. A replaced or deleted value's
blocks are deallocated and free again; a replacement takes free blocks
first, reserved before its data moves, and reuses the old value's blocks
only for what they lack.

Checks, in this order (the reference model's):
- every command: the key length, 1 to 16 bytes (KV Invalid Key Size; List
  also takes 0, for "from the first key");
- Store: the value size against the KV format's maximum, and in whole
  dwords (KV Invalid Value Size: the DMA engine moves dwords, and a
  partial one would touch host bytes beyond the buffer); reserved option bits, or both "only if it exists" and "only if it
  is absent" (Invalid Field); then the key against the options (KV Key Does
  Not Exist, KV Key Exists); the blocks free, counting those of a value it
  replaces (Capacity Exceeded); then the value moves;
- Retrieve and List: a host buffer beyond MDTS or not whole dwords, or
  reserved option bits (Invalid Field); Retrieve then needs the key (KV Key Does Not Exist),
  returns as much of the value as the buffer holds and its whole size in
  DW0; List returns the keys from the first one not below the given key, in
  byte order, as many as fit;
- Delete and Exist: the key must exist (KV Key Does Not Exist).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from firmware.mailbox import CommandSlot
from firmware.nvme.outcome import IoOutcome, failure
from firmware.nvme.ports import DmaDirection
from models.identify import NamespaceConfig
from models.key_value import (STORE_ONLY_IF_ABSENT, STORE_ONLY_IF_EXISTS, KvFields, KvOpcode, key_list)
from models.nvme_spec import SUCCESS, GenericStatus, Status, SubmissionEntry

if TYPE_CHECKING:
    from firmware.nvme.io import IoCommands

DWORD = 4   # the DMA engine's granularity


@dataclass
class KvStore:
    """One KV namespace's index: key -> (the blocks holding its value, in order; its size in bytes)."""

    blocks: int
    block_size: int
    index: dict[bytes, tuple[list[int], int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.free = list(range(self.blocks))

    def blocks_for(self, size: int) -> int:
        return -(-size // self.block_size)

    def take(self, count: int) -> list[int]:
        taken, self.free = self.free[:count], self.free[count:]
        return taken

    def give_back(self, blocks: list[int]) -> None:
        self.free = sorted(self.free + blocks)


class KeyValueIo:
    """The KV commands of one controller, through its ``IoCommands`` data paths."""

    def __init__(self, io: IoCommands) -> None:
        self.io = io
        self._stores: dict[tuple[int, int], KvStore] = {}   # (NSID, generation): a new namespace starts empty

    def _store_of(self, ns: NamespaceConfig) -> KvStore:
        key = (ns.nsid, ns.generation)
        if key not in self._stores:
            self._stores[key] = KvStore(ns.nlbas, ns.lba_size)
        return self._stores[key]

    async def execute(self, slot: CommandSlot, ns: NamespaceConfig, sqe: SubmissionEntry) -> IoOutcome:
        assert ns.kv is not None
        fields = KvFields.decode(sqe)
        shortest = 0 if sqe.opcode == KvOpcode.LIST else 1
        if not shortest <= fields.key_length <= ns.kv.max_key:
            return IoOutcome(failure(GenericStatus.KV_INVALID_KEY_SIZE))
        store = self._store_of(ns)
        if sqe.opcode == KvOpcode.STORE:
            return IoOutcome(await self._store(slot, ns, store, fields))
        if sqe.opcode in (KvOpcode.RETRIEVE, KvOpcode.LIST):
            limit = self.io.config.max_transfer
            if fields.options or fields.size % DWORD or (limit is not None and fields.size > limit):
                return IoOutcome(failure(GenericStatus.INVALID_FIELD))
            if sqe.opcode == KvOpcode.LIST:
                keys = sorted(k for k in store.index if k >= fields.key)
                return IoOutcome(await self._send(slot, key_list(keys, fields.size), fields.size))
        if fields.key not in store.index:
            return IoOutcome(failure(GenericStatus.KV_KEY_DOES_NOT_EXIST))
        if sqe.opcode == KvOpcode.RETRIEVE:
            return await self._retrieve(slot, ns, store, fields)
        if sqe.opcode == KvOpcode.DELETE:
            await self._release(ns, store, store.index.pop(fields.key)[0])
        return IoOutcome(SUCCESS)

    async def _store(self, slot: CommandSlot, ns: NamespaceConfig, store: KvStore, fields: KvFields) -> Status:
        assert ns.kv is not None
        if fields.size > ns.kv.max_value or fields.size % DWORD:
            return failure(GenericStatus.KV_INVALID_VALUE_SIZE)
        both = STORE_ONLY_IF_EXISTS | STORE_ONLY_IF_ABSENT
        if fields.options & ~both or fields.options == both:
            return failure(GenericStatus.INVALID_FIELD)
        old = store.index.get(fields.key)
        if fields.options & STORE_ONLY_IF_EXISTS and old is None:
            return failure(GenericStatus.KV_KEY_DOES_NOT_EXIST)
        if fields.options & STORE_ONLY_IF_ABSENT and old is not None:
            return failure(GenericStatus.KV_KEY_EXISTS)
        needed = store.blocks_for(fields.size)
        kept = old[0] if old else []
        if needed > len(store.free) + len(kept):
            return failure(GenericStatus.CAPACITY_EXCEEDED)
        # reserve free blocks before anything waits, so a command running meanwhile cannot take them; the
        # rest comes from the value replaced, which is overwritten only once the new one has arrived
        fresh = store.take(min(needed, len(store.free)))
        value = await self.io.from_host(slot, fields.size) if fields.size else b""
        if isinstance(value, Status):
            store.give_back(fresh)
            return value
        blocks = fresh + kept[:needed - len(fresh)]
        await self._release(ns, store, kept[needed - len(fresh):])
        size = ns.lba_size
        for i, block in enumerate(blocks):
            await self.io.store_blocks(ns, block, value[i * size:(i + 1) * size].ljust(size, b"\0"))
        store.index[fields.key] = (blocks, fields.size)
        self.io.counters.writes += 1
        self.io.counters.written_bytes += fields.size
        return SUCCESS

    async def _retrieve(self, slot: CommandSlot, ns: NamespaceConfig, store: KvStore, fields: KvFields) -> IoOutcome:
        blocks, size = store.index[fields.key]
        value = (await self.io.load_spans([span for block in blocks for span in self.io.pieces(ns, block, 1)]))[:size]
        status = await self._send(slot, value[:fields.size], fields.size)
        if status.is_success:
            self.io.counters.reads += 1
            self.io.counters.read_bytes += min(size, fields.size)
        return IoOutcome(status, dw0=size)

    async def _send(self, slot: CommandSlot, data: bytes, buffer: int) -> Status:
        """``data`` to the host's buffer of ``buffer`` bytes (which its PRPs describe)."""
        if not data:
            return SUCCESS
        buf = self.io.slot_buffer(slot)
        await self.io.dram.write(buf, data)
        result = await self.io.dma.transfer(slot, DmaDirection.DEVICE_TO_HOST, 0, len(data), buf, buffer)
        return SUCCESS if result.ok else result.status

    async def _release(self, ns: NamespaceConfig, store: KvStore, blocks: list[int]) -> None:
        for block in blocks:
            await self.io.zero_blocks(ns, block, 1)
        store.give_back(blocks)
