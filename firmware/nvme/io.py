"""I/O commands: decode, validate, move data through DRAM and the DMA engine, drive the back end.

The NVM command set is here; a zoned namespace's own checks and commands
are in firmware.nvme.zoned, a key-value namespace's in
firmware.nvme.key_value, an open-channel namespace's vector commands in
firmware.nvme.open_channel.

Read: back end -> DRAM -> DMA to the host. Write: DMA from the host -> DRAM
-> back end. A namespace's bytes live in its extents of back-end pages
(firmware.nvme.namespaces), so an LBA smaller than a page (512 B) is a
read-modify-write of the page; a deallocation trims whole pages and
zero-fills partial ones, which reads back as the zeroes Identify Namespace
advertises (DLFEAT).

Checks, in this order (the reference model's order): CDW0's FUSE and PSDT
(``cdw0_status``, for admin commands too, before anything else), Invalid
Opcode (no command set has the opcode), the namespace (an invalid NSID:
Invalid Namespace or Format; one in 1..NN not attached here: Invalid
Field), Invalid Opcode again (not a command of the namespace's set as
CC.CSS enabled it; a key-value namespace's commands then go to
firmware.nvme.key_value, vector commands to firmware.nvme.open_channel),
Invalid Field (MDTS), LBA Out of Range; a zoned or an open-channel
namespace's own checks follow; then the DMA engine's status, then
Compare Failure. The back end's own errors carry their status
(``models.backend.BackendError``). Verify is
a Read that moves no data (MDTS still bounds it, as NVMe 2.0's Verify Size
Limit may). Copy checks its Descriptor Format (Invalid Field) and range
count (Command Size Limit Exceeded) before it fetches the ranges, then each
range's and the total length, then the destination's and every source's
LBA range.

Writes are durable at completion (``write_through``) when the host has
turned the volatile write cache off, and from a shutdown notification on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from firmware.mailbox import CommandSlot
from firmware.nvme.namespaces import NamespaceTable
from firmware.nvme.outcome import IoOutcome, failure, now_ns, wait_until
from firmware.nvme.ports import DeviceDram, DmaDirection, DmaPort, DmaResult
from firmware.nvme.key_value import KeyValueIo
from firmware.nvme.open_channel import OpenChannelIo
from firmware.nvme.zoned import ZonedIo
from models.backend import Backend, BackendError
from models.flash.ocssd import OcssdBackend
from models.flash.zns import ZnsBackend
from models.nvme_logs import command_effects, namespace_opcodes
from models.key_value import KvOpcode
from models.open_channel import OcOpcode
from models.nvme_spec import Csi
from models.zoned import ZnsOpcode
from models.identify import COPY_MAX_RANGES, NSID_BROADCAST, ControllerConfig, NamespaceConfig
from models.nvme_commands import (COPY_FORMAT_0, COPY_RANGE_SIZE, DSM_ATTR_DEALLOCATE, DSM_RANGE_SIZE, PSDT_PRP,
                                  PSDT_SGL, CopyFields, CopyRange, DsmRange,
                                  dsm_ranges, rw_fields)
from models.nvme_spec import (CC_CSS_ALL_IO, SUCCESS, CommandSpecificStatus, GenericStatus, MediaStatus, NvmOpcode,
                              Status, SubmissionEntry)


def cdw0_status(sqe: SubmissionEntry, admin: bool, sgl: bool) -> Status | None:
    """Invalid Field for what CDW0 asks and this controller does not offer, else None.

    FUSE: Identify FUSES is 0, so a fused operation (01b, 10b) is refused like the reserved 11b.
    PSDT: admin commands take PRPs only; I/O commands PRPs, or SGLs where Identify SGLS offers them;
    10b (a metadata SGL) is not offered and 11b is reserved.
    """
    allowed = (PSDT_PRP,) if admin or not sgl else (PSDT_PRP, PSDT_SGL)
    if sqe.fuse or sqe.psdt not in allowed:
        return failure(GenericStatus.INVALID_FIELD)
    return None


@dataclass
class HostCounters:
    """Host I/O as the SMART / Health log reports it: successful Read and Compare, successful Write."""

    reads: int = 0
    writes: int = 0
    read_bytes: int = 0
    written_bytes: int = 0


# every I/O opcode of a command set this controller offers; any other is Invalid Opcode before anything else
_KNOWN = {NvmOpcode.READ, NvmOpcode.WRITE, NvmOpcode.COMPARE, NvmOpcode.VERIFY, NvmOpcode.WRITE_ZEROES,
          NvmOpcode.DATASET_MANAGEMENT, NvmOpcode.COPY, *ZnsOpcode, *KvOpcode, *OcOpcode}


class IoCommands:
    """Executes I/O commands of one controller; ``slot_buffer(slot)`` is the slot's DRAM staging buffer."""

    def __init__(self, config: ControllerConfig, backend: Backend, dram: DeviceDram, dma: DmaPort,
                 slot_buffer: Callable[[CommandSlot], int], namespaces: NamespaceTable,
                 auto_complete_reads: bool = False) -> None:
        self.config = config
        self.backend = backend
        self.dram = dram
        self.dma = dma
        self.slot_buffer = slot_buffer
        self.namespaces = namespaces
        self.auto_complete_reads = auto_complete_reads
        self.write_through = False
        self.counters = HostCounters()
        if config.nvm_capacity > backend.capacity_pages * backend.page_size:
            raise ValueError(f"NVM capacity {config.nvm_capacity} bytes; the back end holds "
                             f"{backend.capacity_pages * backend.page_size}")
        if config.allocation_unit % backend.page_size:
            raise ValueError(f"allocation unit {config.allocation_unit} is not whole back-end pages "
                             f"of {backend.page_size} bytes")
        self._handlers: dict[int, Callable[[CommandSlot, NamespaceConfig, int, int], Awaitable[IoOutcome]]] = {
            NvmOpcode.READ: self._read, NvmOpcode.WRITE: self._write, NvmOpcode.COMPARE: self._compare,
            NvmOpcode.VERIFY: self._verify}
        self.css = CC_CSS_ALL_IO   # the I/O command sets the host enabled the controller with (CC.CSS)
        self.zoned = ZonedIo(self, backend) if isinstance(backend, ZnsBackend) else None
        self.kv = KeyValueIo(self)
        self.open_channel = OpenChannelIo(self, backend) if isinstance(backend, OcssdBackend) else None
        for ns in config.namespaces:
            if ns.zones is not None:
                self._check_zones(ns)
            if ns.kv is not None and self.zoned is not None:
                raise ValueError(f"key-value namespace {ns.nsid} needs a back end that can deallocate, not zns")
            if ns.chunks is not None and self.open_channel is None:
                raise ValueError(f"open-channel namespace {ns.nsid} needs the ocssd back end")

    def _check_zones(self, ns: NamespaceConfig) -> None:
        """A zoned namespace needs the zns back end, whose zones and limits are its own: one LBA per page,
        zones in whole allocation units."""
        backend, g = self.backend, ns.zones
        assert g is not None
        if not isinstance(backend, ZnsBackend) or ns.lba_size != backend.page_size:
            raise ValueError(f"zoned namespace {ns.nsid} needs the zns back end, with LBAs of its page size")
        if (g.size, g.capacity, g.max_open, g.max_active) != (
                backend.zone_size, backend.zone_cap, backend.max_open, backend.max_active):
            raise ValueError(f"zoned namespace {ns.nsid}: zones {g}, the back end's differ")
        if self.config.allocation_unit % (g.size * ns.lba_size):
            raise ValueError(f"allocation unit {self.config.allocation_unit} is not whole zones")

    def controller_reset(self) -> None:
        """Opened zones close on a controller reset (ZNS), as after a power loss."""
        if self.zoned is not None:
            self.backend.close_opened()

    def opcodes(self, ns: NamespaceConfig) -> set[int]:
        """The I/O opcodes a namespace takes: its command set's, or the NVM set's where CC.CSS enabled only
        that (a zoned namespace still keeps its write rules, as QEMU's does; a key-value one takes none);
        never DSM or Copy on a zoned one; the vector commands, and no Write Zeroes, only on an open-channel
        one."""
        if self.css != CC_CSS_ALL_IO and ns.csi == Csi.KEY_VALUE:
            return set()
        csi = ns.csi if self.css == CC_CSS_ALL_IO else Csi.NVM
        return namespace_opcodes(set(command_effects(self.config, csi)[1]), ns)

    async def execute(self, slot: CommandSlot, sqe: SubmissionEntry) -> IoOutcome:
        """Run one command to its status."""
        try:
            return IoOutcome(await self._flush(sqe.nsid)) if sqe.opcode == NvmOpcode.FLUSH \
                else await self._dispatch(slot, sqe)
        except BackendError as err:
            return IoOutcome(err.status)

    async def _dispatch(self, slot: CommandSlot, sqe: SubmissionEntry) -> IoOutcome:
        if sqe.opcode not in _KNOWN:
            return IoOutcome(failure(GenericStatus.INVALID_OPCODE))
        ns = self.namespaces.active(sqe.nsid, self.config.cntlid)
        if ns is None:
            return IoOutcome(self._inactive(sqe.nsid))
        if sqe.opcode not in self.opcodes(ns):
            return IoOutcome(failure(GenericStatus.INVALID_OPCODE))
        if ns.kv is not None:
            return await self.kv.execute(slot, ns, sqe)
        if sqe.opcode in set(OcOpcode):
            assert self.open_channel is not None   # only an open-channel namespace takes them
            return await self.open_channel.execute(slot, ns, sqe)
        if self.zoned is not None and sqe.opcode == ZnsOpcode.ZONE_MGMT_SEND:
            return IoOutcome(await self.zoned.send(ns, sqe))
        if self.zoned is not None and sqe.opcode == ZnsOpcode.ZONE_MGMT_RECV:
            return IoOutcome(await self.zoned.receive(slot, ns, sqe))
        if sqe.opcode == NvmOpcode.DATASET_MANAGEMENT:
            return IoOutcome(await self._dsm(slot, ns, dsm_ranges(sqe), bool(sqe.cdw11 & DSM_ATTR_DEALLOCATE)))
        if sqe.opcode == NvmOpcode.COPY:
            return IoOutcome(await self._copy(slot, ns, CopyFields.decode(sqe)))
        slba, nlb = rw_fields(sqe)
        limit = self.config.max_transfer
        if sqe.opcode != NvmOpcode.WRITE_ZEROES and limit is not None and nlb * ns.lba_size > limit:
            return IoOutcome(failure(GenericStatus.INVALID_FIELD))
        if slba + nlb > ns.nlbas:
            return IoOutcome(failure(GenericStatus.LBA_OUT_OF_RANGE))
        if self.zoned is not None and ns.zones is not None:
            return await self.zoned.rw(slot, ns, sqe, slba, nlb)
        if self.open_channel is not None and ns.chunks is not None and sqe.opcode == NvmOpcode.WRITE:
            self.open_channel.check_write(slba, nlb)
        if sqe.opcode == NvmOpcode.WRITE_ZEROES:
            await self.zero_blocks(ns, slba, nlb)
            return IoOutcome(SUCCESS)
        return await self.nvm_rw(slot, ns, sqe.opcode, slba, nlb)

    async def nvm_rw(self, slot: CommandSlot, ns: NamespaceConfig, opcode: int, slba: int, nlb: int) -> IoOutcome:
        """Read, Write, Compare or Verify of checked blocks."""
        return await self._handlers[opcode](slot, ns, slba, nlb)

    def _inactive(self, nsid: int) -> Status:
        """An NSID in 1..NN with no namespace attached here is inactive: Invalid Field; any other is
        invalid: Invalid Namespace or Format."""
        return failure(GenericStatus.INVALID_FIELD if self.config.valid_nsid(nsid)
                       else GenericStatus.INVALID_NAMESPACE_OR_FORMAT)

    def pieces(self, ns: NamespaceConfig, slba: int, nlb: int) -> list[tuple[int, int]]:
        """Back-end (offset, length) ranges holding blocks slba..slba+nlb-1."""
        return self.namespaces.pieces(ns.nsid, slba * ns.lba_size, nlb * ns.lba_size)

    async def load_blocks(self, ns: NamespaceConfig, slba: int, nlb: int) -> bytes:
        return await self.load_spans(self.pieces(ns, slba, nlb))

    async def store_blocks(self, ns: NamespaceConfig, slba: int, data: bytes) -> None:
        done = 0
        for start, length in self.pieces(ns, slba, len(data) // ns.lba_size):
            await self._store(start, data[done:done + length])
            done += length

    async def zero_blocks(self, ns: NamespaceConfig, slba: int, nlb: int) -> None:
        for start, length in self.pieces(ns, slba, nlb):
            await self.zero(start, start + length)

    # commands

    async def _flush(self, nsid: int) -> Status:
        if nsid != NSID_BROADCAST and self.namespaces.active(nsid, self.config.cntlid) is None:
            return self._inactive(nsid)
        await wait_until(self.backend.flush(now_ns()))
        return SUCCESS

    async def _read(self, slot: CommandSlot, ns: NamespaceConfig, slba: int, nlb: int) -> IoOutcome:
        length = nlb * ns.lba_size
        result = await self.to_host(slot, await self.load_blocks(ns, slba, nlb), self.auto_complete_reads)
        if result.ok:
            self.counters.reads += 1
            self.counters.read_bytes += length
        return IoOutcome(result.status, posted=result.auto_completed)

    async def to_host(self, slot: CommandSlot, data: bytes, auto_complete: bool = False) -> DmaResult:
        """Send the command's data through the slot's buffer."""
        buf = self.slot_buffer(slot)
        await self.dram.write(buf, data)
        return await self.dma.transfer(slot, DmaDirection.DEVICE_TO_HOST, 0, len(data), buf, len(data),
                                       auto_complete=auto_complete)

    async def from_host(self, slot: CommandSlot, length: int) -> bytes | Status:
        """The command's data, fetched into the slot's buffer; the DMA status if that failed."""
        buf = self.slot_buffer(slot)
        result = await self.dma.transfer(slot, DmaDirection.HOST_TO_DEVICE, 0, length, buf, length)
        return await self.dram.read(buf, length) if result.ok else result.status

    async def from_host_buffer(self, slot: CommandSlot, addr: int, length: int) -> bytes | Status:
        """``length`` bytes of the host buffer at ``addr`` a command points at, through the slot's buffer."""
        buf = self.slot_buffer(slot)
        result = await self.dma.transfer(slot, DmaDirection.HOST_TO_DEVICE, 0, length, buf, length, host_addr=addr)
        return await self.dram.read(buf, length) if result.ok else result.status

    async def to_host_buffer(self, slot: CommandSlot, addr: int, data: bytes) -> DmaResult:
        """Write ``data`` to the host buffer at ``addr`` a command points at, through the slot's buffer."""
        buf = self.slot_buffer(slot)
        await self.dram.write(buf, data)
        return await self.dma.transfer(slot, DmaDirection.DEVICE_TO_HOST, 0, len(data), buf, len(data),
                                       host_addr=addr)

    async def _write(self, slot: CommandSlot, ns: NamespaceConfig, slba: int, nlb: int) -> IoOutcome:
        data = await self.from_host(slot, nlb * ns.lba_size)
        if isinstance(data, Status):
            return IoOutcome(data)
        await self.store_blocks(ns, slba, data)
        self.counters.writes += 1
        self.counters.written_bytes += len(data)
        return IoOutcome(SUCCESS)

    async def _compare(self, slot: CommandSlot, ns: NamespaceConfig, slba: int, nlb: int) -> IoOutcome:
        data = await self.from_host(slot, nlb * ns.lba_size)
        if isinstance(data, Status):
            return IoOutcome(data)
        if await self.load_blocks(ns, slba, nlb) != data:
            return IoOutcome(failure(MediaStatus.COMPARE_FAILURE))
        self.counters.reads += 1
        self.counters.read_bytes += len(data)
        return IoOutcome(SUCCESS)

    async def _verify(self, slot: CommandSlot, ns: NamespaceConfig, slba: int, nlb: int) -> IoOutcome:
        """Read the blocks from the media and return nothing: the back end's read errors are the result."""
        await self.load_blocks(ns, slba, nlb)
        return IoOutcome(SUCCESS)

    async def _copy(self, slot: CommandSlot, ns: NamespaceConfig, fields: CopyFields) -> Status:
        """Copy (format 0): every source range is read before the destination is written, so sources that
        overlap the destination copy what they held before the command."""
        if fields.desfmt != COPY_FORMAT_0:
            return failure(GenericStatus.INVALID_FIELD)
        if fields.ranges > COPY_MAX_RANGES:
            return failure(CommandSpecificStatus.COMMAND_SIZE_LIMIT_EXCEEDED)
        data = await self.from_host(slot, fields.ranges * COPY_RANGE_SIZE)
        if isinstance(data, Status):
            return data
        ranges = CopyRange.unpack_all(data)
        total = sum(r.nlb for r in ranges)
        if any(r.nlb > ns.copy_blocks for r in ranges) or total > ns.copy_blocks:
            return failure(CommandSpecificStatus.COMMAND_SIZE_LIMIT_EXCEEDED)
        if fields.sdlba + total > ns.nlbas or any(r.slba + r.nlb > ns.nlbas for r in ranges):
            return failure(GenericStatus.LBA_OUT_OF_RANGE)
        copied = await self.load_spans([span for r in ranges for span in self.pieces(ns, r.slba, r.nlb)])
        await self.store_blocks(ns, fields.sdlba, copied)
        return SUCCESS

    async def _dsm(self, slot: CommandSlot, ns: NamespaceConfig, count: int, deallocate: bool) -> Status:
        data = await self.from_host(slot, count * DSM_RANGE_SIZE)
        if isinstance(data, Status):
            return data
        ranges = DsmRange.unpack_all(data)
        if any(r.slba + r.nlb > ns.nlbas for r in ranges):
            return failure(GenericStatus.LBA_OUT_OF_RANGE)
        if deallocate:
            for r in ranges:
                await self.zero_blocks(ns, r.slba, r.nlb)
        return SUCCESS

    # back-end bytes

    def _pages(self, start: int, end: int) -> tuple[int, int]:
        """(first page, page count) covering back-end bytes [start, end)."""
        ps = self.backend.page_size
        return start // ps, -(-end // ps) - start // ps

    async def load_spans(self, spans: list[tuple[int, int]]) -> bytes:
        """Back-end byte ranges (offset, length), concatenated; all issued at once, as the controller would
        queue them, so the back end overlaps them as far as its parallelism allows."""
        issue = now_ns()
        done, parts = issue, []
        for start, length in spans:
            first, count = self._pages(start, start + length)
            data, finished = self.backend.read(first, count, issue)
            skip = start - first * self.backend.page_size
            parts.append(data[skip:skip + length])
            done = max(done, finished)
        await wait_until(done)
        return b"".join(parts)

    async def _store(self, start: int, data: bytes) -> None:
        """Write bytes; the rest of partially covered pages is read first.

        The read and the write are issued back to back without yielding (the
        write at the read's completion time), so two commands writing
        different LBAs of one page never lose each other's update.
        """
        ps = self.backend.page_size
        first, count = self._pages(start, start + len(data))
        skip = start - first * ps
        issue = now_ns()
        if skip or (skip + len(data)) % ps:
            whole, issue = self.backend.read(first, count, issue)
            data = whole[:skip] + data + whole[skip + len(data):]
        await self.settle(self.backend.write(first, data, issue))

    async def settle(self, done: int) -> None:
        """Wait for a write the back end completes at ``done``: until it is durable, when writes go through."""
        await wait_until(self.backend.flush(done) if self.write_through else done)

    async def zero(self, start: int, end: int) -> None:
        """Back-end bytes [start, end): deallocate whole pages, zero-fill the partial pages at either end."""
        if start == end:
            return   # a DSM range of no blocks
        ps = self.backend.page_size
        lo, hi = -(-start // ps), end // ps
        if lo >= hi:
            await self._store(start, bytes(end - start))
            return
        if start < lo * ps:
            await self._store(start, bytes(lo * ps - start))
        await wait_until(self.backend.trim(lo, hi - lo, now_ns()))
        if hi * ps < end:
            await self._store(hi * ps, bytes(end - hi * ps))
