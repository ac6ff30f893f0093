"""Shadow doorbells (Doorbell Buffer Config, admin 7Ch), served by the firmware.

The host gives the controller two memory pages: the shadow doorbell buffer,
where it writes every new SQ tail and CQ head of its I/O queues, and the
EventIdx buffer, where the controller says which values it has seen. The
host rings the MMIO doorbell only when the EventIdx lies in [old, new) of
the update it just made (Linux's ``nvme_dbbuf_need_event``), so while the
controller keeps up by reading the shadow buffer, the host writes memory
instead of trapping on MMIO: the point of the command for emulated
controllers and for guests.

Why the firmware: the command exists for emulated controllers, which the
SoC firmware is, and the firmware already reaches host memory through the
DMA engine's host-buffer requests. The hardware gains only a doorbell port
(Q_SQ_DOORBELL, Q_CQ_DOORBELL) that is a compare-and-set, so a shadow value
the firmware read before an MMIO doorbell arrived never undoes it.

A sweep reads the I/O queues' doorbells from the hardware, then the shadow
buffer; rings those that moved, each against the value read first; writes
the values seen to the EventIdx buffer; and reads the shadow buffer again,
repeating until nothing moved. The host writes the shadow before it reads
the EventIdx, and the sweep writes the EventIdx before it reads the shadow
again, so either the host sees the new EventIdx and rings, or the sweep sees
the new value: no update is lost, and after the last pass the host's next
update rings the MMIO doorbell. Sweeps run when the firmware sees work: a
command taken from an I/O SQ, a completion that finds its CQ full.

Polling mode (``poll_ns``), as LeapIO's runtime serves guest queues from
the SoC: a core of its own sweeps every ``poll_ns`` whether or not there is
work, and sets each EventIdx one behind the value it saw, so the host rings
MMIO only when an update laps the queue (Linux's rule compares raw indices,
so an update that wraps from the top of a queue to 0 passes every value
above its old one); kicks are ignored. ``busy_ns`` counts the simulated
time spent in sweeps, in either mode.

The admin queue keeps MMIO doorbells only, as Linux uses it (it never
writes the admin queue's shadow entries). A controller reset forgets the
buffers; the host configures them again after it enables the controller.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from cocotb import start_soon
from cocotb.simtime import get_sim_time
from cocotb.task import Task
from cocotb.triggers import Lock, Timer

from firmware.admin import PAGE_SIZE, AdminState
from firmware.mailbox import CommandSlot, Mailbox
from firmware.nvme.ats import AddressTranslationCache
from firmware.nvme.ports import AddressType, DeviceDram, DmaDirection, DmaPort
from models.nvme_spec import SUCCESS, GenericStatus, Status, SubmissionEntry

ENTRY_SIZE = 4           # one dword per doorbell; the doorbell value is its low 16 bits
SHADOW_SCRATCH = 2 * PAGE_SIZE   # DRAM a controller's sweeps stage in: the buffers' contents, translation answers
VALUE_MASK = 0xFFFF
FIRST_IO_QID = 1


@dataclass(frozen=True)
class ShadowBuffers:
    """Bus addresses of the host's shadow doorbell buffer (PRP1) and EventIdx buffer (PRP2)."""

    doorbells: int
    event_idx: int


def buffers_of(sqe: SubmissionEntry) -> ShadowBuffers | Status:
    """The command's buffers, or Invalid Field if either is not memory-page aligned."""
    if sqe.prp1 % PAGE_SIZE or sqe.prp2 % PAGE_SIZE:
        return Status.of(GenericStatus.INVALID_FIELD, dnr=True)
    return ShadowBuffers(sqe.prp1, sqe.prp2)


def entry_offset(qid: int, cq: bool, stride: int) -> int:
    """Where a doorbell's entry sits in either buffer: the doorbell's own offset from 1000h."""
    return (2 * qid + cq) * stride


class ShadowDoorbells:
    """The firmware's half of Doorbell Buffer Config: configure, sweep on work, forget on reset.

    ``scratch``: a page of device DRAM the sweeps stage buffer contents in, apart from every command slot's,
    and the translation answers in the page after it; ``poll_ns``: sweep on a timer instead of on work
    (polling mode); ``atc``: reach the buffers by translated requests (PCIe ATS), as LeapIO's runtime does.
    """

    def __init__(self, mailbox: Mailbox, dma: DmaPort, dram: DeviceDram, queues: AdminState, stride: int,
                 scratch: int, poll_ns: int | None = None, atc: AddressTranslationCache | None = None) -> None:
        self.mailbox = mailbox
        self.dma = dma
        self.dram = dram
        self.queues = queues
        self.stride = stride
        self.scratch = scratch
        self.poll_ns = poll_ns
        self.atc = atc
        self.buffers: ShadowBuffers | None = None
        self.lock = Lock()       # held by a sweep pass, and by the loop while it creates or deletes a queue
        self._slot = CommandSlot(0, 0)
        self._dirty = False
        self._task: Task | None = None
        self.sweeps = 0          # passes made
        self.rung = 0            # doorbells rung from shadow values
        self.failures = 0        # sweeps ended by a failed DMA (not counting those a controller reset ended)
        self.busy_ns = 0         # simulated time spent in passes
        self.log = logging.getLogger("cocotb.firmware.shadow")

    @property
    def enabled(self) -> bool:
        return self.buffers is not None

    async def configure(self, slot: CommandSlot, buffers: ShadowBuffers) -> Status:
        """Doorbell Buffer Config: publish the existing I/O queues' doorbells in both buffers (as QEMU
        does), so shadow and hardware agree from the start; a buffer the DMA cannot reach fails the
        command with the DMA's status and leaves shadow doorbells off."""
        async with self.lock:
            self.buffers = None
            self._slot = slot
            for qid in self._qids():
                seen = await self.mailbox.doorbells(qid)
                for cq, value in ((False, seen.sq_tail), (True, seen.cq_head)):
                    if (status := await self._publish(buffers, qid, cq, value)) != SUCCESS:
                        return status
            self.buffers = buffers
        self.log.info("shadow doorbells at %#x, EventIdx at %#x%s", buffers.doorbells, buffers.event_idx,
                      f", polled every {self.poll_ns} ns" if self.poll_ns else "")
        if self.poll_ns:
            self._task = start_soon(self._poll(buffers))
        return SUCCESS

    async def queue_created(self, qid: int, cq: bool) -> None:
        """A new queue starts at 0 in both buffers, whatever an earlier queue of that id left there.
        Called with ``lock`` held, before the creating command completes."""
        if self.buffers is not None and await self._publish(self.buffers, qid, cq, 0) != SUCCESS:
            self._failed()

    def reset(self) -> None:
        """Controller reset: the buffers are forgotten; a sweep still running ends at its next step."""
        self.buffers = None
        self._dirty = False

    def kick(self) -> None:
        """Something happened that a shadow update may be behind: sweep (again) soon (not in polling mode,
        where only the poller sweeps)."""
        if self.buffers is None or self.poll_ns:
            return
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = start_soon(self._sweep())

    async def _sweep(self) -> None:
        while self._dirty and (buffers := self.buffers) is not None:
            self._dirty = False
            async with self.lock:
                if buffers is self.buffers:
                    self._dirty |= await self._pass(buffers)

    async def _poll(self, buffers: ShadowBuffers) -> None:
        assert self.poll_ns is not None
        while buffers is self.buffers:
            async with self.lock:
                if buffers is self.buffers:
                    await self._pass(buffers)
            await Timer(self.poll_ns, "ns")

    async def _pass(self, buffers: ShadowBuffers) -> bool:
        """One pass; True if the shadow buffer moved meanwhile, so another pass must follow."""
        qids = self._qids()
        if not qids:
            return False
        self.sweeps += 1
        start = get_sim_time("ns")
        try:
            return await self._sweep_queues(buffers, qids)
        finally:
            self.busy_ns += int(get_sim_time("ns") - start)

    async def _sweep_queues(self, buffers: ShadowBuffers, qids: list[int]) -> bool:
        """Ring what moved, write the EventIdx entries, read again: True if something moved meanwhile."""
        seen = {qid: await self.mailbox.doorbells(qid) for qid in qids}
        start = entry_offset(FIRST_IO_QID, False, self.stride)
        length = entry_offset(max(qids) + 1, False, self.stride) - start
        shadow = await self._read(buffers.doorbells + start, length)
        if shadow is None:
            return False
        for qid in qids:
            for cq, hw in ((False, seen[qid].sq_tail), (True, seen[qid].cq_head)):
                if qid not in (self.queues.cqs if cq else self.queues.sqs):
                    continue
                value = self._value(shadow, qid, cq, start)
                if value != hw:
                    await self.mailbox.ring(qid, cq, hw, value)
                    self.rung += 1
        if await self._write(buffers.event_idx + start, self._event_idx(shadow, qids, start)) != SUCCESS:
            self._failed()
            return False
        again = await self._read(buffers.doorbells + start, length)
        return again is not None and any(
            self._value(again, qid, cq, start) != self._value(shadow, qid, cq, start)
            for qid in qids for cq in (False, True))

    def _event_idx(self, shadow: bytes, qids: list[int], start: int) -> bytes:
        """The EventIdx entries to write: the values seen, or in polling mode one behind each (modulo its queue's
        size), so that the host's next update does not pass it."""
        if not self.poll_ns:
            return shadow
        entries = bytearray(shadow)
        for qid in qids:
            for cq, queue in ((False, self.queues.sqs.get(qid)), (True, self.queues.cqs.get(qid))):
                if queue is not None:
                    behind = (self._value(shadow, qid, cq, start) - 1) % (queue.qsize + 1)
                    struct.pack_into("<I", entries, entry_offset(qid, cq, self.stride) - start, behind)
        return bytes(entries)

    def _qids(self) -> list[int]:
        return sorted(set(self.queues.sqs) | set(self.queues.cqs))

    def _value(self, raw: bytes, qid: int, cq: bool, start: int) -> int:
        (word,) = struct.unpack_from("<I", raw, entry_offset(qid, cq, self.stride) - start)
        return word & VALUE_MASK

    async def _publish(self, buffers: ShadowBuffers, qid: int, cq: bool, value: int) -> Status:
        """Write ``value`` as the doorbell's entry in both buffers."""
        offset = entry_offset(qid, cq, self.stride)
        for base in (buffers.doorbells, buffers.event_idx):
            if (status := await self._write(base + offset, struct.pack("<I", value))) != SUCCESS:
                return status
        return SUCCESS

    @asynccontextmanager
    async def _host(self, addr: int, write: bool) -> AsyncIterator[tuple[int, AddressType]]:
        """The address and Address Type to reach host memory at ``addr`` by, for a DMA made inside the block:
        translated where the ATC has (or gets) a translation granting the access, else as it is."""
        if self.atc is None:
            yield addr, AddressType.UNTRANSLATED
            return
        async with self.atc.translated(self._slot, self.scratch + PAGE_SIZE, addr, write) as translated:
            yield (addr, AddressType.UNTRANSLATED) if translated is None else (translated, AddressType.TRANSLATED)

    async def _read(self, addr: int, length: int) -> bytes | None:
        """``length`` bytes of host memory at ``addr``; None (counted in ``failures``) if the DMA failed."""
        async with self._host(addr, write=False) as (host_addr, address_type):
            result = await self.dma.transfer(self._slot, DmaDirection.HOST_TO_DEVICE, 0, length, self.scratch,
                                             length, host_addr=host_addr, address_type=address_type)
        if not result.ok:
            self._failed()
            return None
        return await self.dram.read(self.scratch, length)

    def _failed(self) -> None:
        """A sweep's DMA failed: a fault unless a controller reset dropped it (and the buffers with it)."""
        if self.buffers is not None:
            self.failures += 1
            self.log.warning("a shadow doorbell sweep's DMA failed; sweeping stops until the next kick")

    async def _write(self, addr: int, data: bytes) -> Status:
        await self.dram.write(self.scratch, data)
        async with self._host(addr, write=True) as (host_addr, address_type):
            result = await self.dma.transfer(self._slot, DmaDirection.DEVICE_TO_HOST, 0, len(data), self.scratch,
                                             len(data), host_addr=host_addr, address_type=address_type)
        return SUCCESS if result.ok else result.status
