"""Open-channel namespaces (OCSSD 2.0) over the ocssd back end: vector commands and the Chunk Information log.

An open-channel namespace's LBAs are the back end's physical addresses:
its LBA size is the back-end page (a NAND sector) and it is the only
namespace, at the start of the back end, so LBA n is back-end page n. The
back end keeps the chunk state machine and its rules
(models.flash.ocssd); this module fetches what the command points at and
moves the data.

Checks, in this order (the reference model's): NLB within 64 LBAs, and for
Vector Chunk Read and Write MDTS (Invalid Field); the LBA list, read from
host memory through a host-buffer DMA request when the command names more
than one LBA (its DMA status), then Vector Chunk Copy's destination list;
every LBA naming a chunk (LBA Out of Range); the chunks (Write Fault,
Invalid Field, Out of Order Write, Offline Chunk, Invalid Reset); then the
data (its DMA status). A failure names the LBA-list entries it failed on
in DW0-DW1; a copy's write failures name destination entries. Vector Chunk
Reset returns the reset chunks' descriptors, one per LBA, to the metadata
pointer when it is not 0. Scalar Read and Write keep the chunk rules; Write
Zeroes, Dataset Management and Copy are not offered, as a chunk is only
ever reset whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.mailbox import CommandSlot
from firmware.nvme.outcome import IoOutcome, failure, now_ns, wait_until
from models.flash.ocssd import ChunkError, OcssdBackend
from models.identify import NamespaceConfig
from models.nvme_spec import SUCCESS, GenericStatus, Status, SubmissionEntry
from models.open_channel import (LBA_ENTRY_SIZE, MAX_VECTOR_LBAS, OcOpcode, VectorFields, chunk_log, failed_lbas,
                                 parse_lba_list)

if TYPE_CHECKING:
    from firmware.nvme.io import IoCommands


class OpenChannelIo:
    """The open-channel commands of one controller, through its ``IoCommands`` data paths."""

    def __init__(self, io: IoCommands, backend: OcssdBackend) -> None:
        self.io = io
        self.backend = backend
        for ns in io.config.namespaces:
            if ns.chunks is not None and (ns.chunks != backend.chunk_geometry() or ns.lba_size != backend.page_size
                                          or io.pieces(ns, 0, ns.nlbas) != [(0, ns.size)]):
                raise ValueError(f"open-channel namespace {ns.nsid} must be the back end's chunks, LBA n on page n")

    async def execute(self, slot: CommandSlot, ns: NamespaceConfig, sqe: SubmissionEntry) -> IoOutcome:
        fields = VectorFields.decode(sqe)
        limit = self.io.config.max_transfer
        moves = sqe.opcode in (OcOpcode.VECTOR_READ, OcOpcode.VECTOR_WRITE)
        if fields.count > MAX_VECTOR_LBAS or (moves and limit is not None and fields.count * ns.lba_size > limit):
            return IoOutcome(failure(GenericStatus.INVALID_FIELD))
        lbas = await self._lba_list(slot, fields.lbal, fields.count)
        if isinstance(lbas, Status):
            return IoOutcome(lbas)
        try:
            if sqe.opcode == OcOpcode.VECTOR_READ:
                return await self._read(slot, lbas)
            if sqe.opcode == OcOpcode.VECTOR_WRITE:
                return await self._write(slot, lbas)
            if sqe.opcode == OcOpcode.VECTOR_RESET:
                return IoOutcome(await self._reset(slot, lbas, fields.mptr))
            dest = await self._lba_list(slot, fields.dlbal, fields.count)
            return IoOutcome(dest if isinstance(dest, Status) else await self._copy(lbas, dest))
        except ChunkError as err:
            dw0, dw1 = failed_lbas(err.failed)
            return IoOutcome(err.status, dw0=dw0, dw1=dw1)

    async def _lba_list(self, slot: CommandSlot, lbal: int, count: int) -> list[int] | Status:
        """The LBAs a command names: ``lbal`` itself when it names one, else the list there in host memory."""
        if count == 1:
            return [lbal]
        raw = await self.io.from_host_buffer(slot, lbal, count * LBA_ENTRY_SIZE)
        return raw if isinstance(raw, Status) else parse_lba_list(raw)

    async def _read(self, slot: CommandSlot, lbas: list[int]) -> IoOutcome:
        data, done = self.backend.vector_read(lbas, now_ns())
        await wait_until(done)
        result = await self.io.to_host(slot, data)
        if result.ok:
            self.io.counters.reads += 1
            self.io.counters.read_bytes += len(data)
        return IoOutcome(result.status)

    async def _write(self, slot: CommandSlot, lbas: list[int]) -> IoOutcome:
        self.backend.check_write(lbas)
        data = await self.io.from_host(slot, len(lbas) * self.backend.page_size)
        if isinstance(data, Status):
            return IoOutcome(data)
        await self.io.settle(self.backend.vector_write(lbas, data, now_ns()))
        self.io.counters.writes += 1
        self.io.counters.written_bytes += len(data)
        return IoOutcome(SUCCESS)

    async def _reset(self, slot: CommandSlot, lbas: list[int], mptr: int) -> Status:
        await wait_until(self.backend.vector_reset(lbas, now_ns()))
        if not mptr:
            return SUCCESS
        chunks = [chunk for chunk, _ in self.backend.locate(lbas)]
        result = await self.io.to_host_buffer(slot, mptr, b"".join(self.backend.descriptor(c).pack() for c in chunks))
        return result.status

    async def _copy(self, lbas: list[int], dest: list[int]) -> Status:
        """Read every source block before the destination is written, inside the device."""
        self.backend.locate(lbas)
        self.backend.check_write(dest)
        data, done = self.backend.vector_read(lbas, now_ns())
        await wait_until(done)
        await self.io.settle(self.backend.vector_write(dest, data, now_ns()))
        return SUCCESS

    def check_write(self, slba: int, nlb: int) -> None:
        """A scalar Write's chunk checks, before its data moves."""
        self.backend.check_write(range(slba, slba + nlb))

    def chunk_log(self) -> bytes:
        """The Chunk Information log of the open-channel namespace."""
        return chunk_log(self.backend.descriptors())
