"""Host-side NVMe queues, like struct nvme_queue in Linux's drivers/nvme/host/pci.c.

Rings live in the root complex's host memory (cocotbext-pcie's pool), where
the controller reads SQEs and writes CQEs by DMA; the host touches them the
way a CPU does, through ``rc.mem_address_space``, in zero simulated time.
Doorbells are BAR0 writes through the ``RegisterBfm``.

- ``SubmissionQueue``: writes SQEs, rings the tail doorbell, assigns CIDs,
  never overflows (room is computed from the SQ head the controller reports
  in CQEs, as Linux does), tracks outstanding commands.
- ``CompletionQueue``: consumes CQEs by phase tag, hands each to its SQ, rings
  the head doorbell once per batch. Several SQs may share one CQ.
- ``NvmeQueue``: the usual pair with one qid, as Linux creates them.
- ``NvmeAdmin``: the admin commands that create and delete I/O queues and set
  features, raising on an unexpected status.

Observers (the pyuvm completion monitor) see every SQE as it is submitted and
every CQE as it is reaped, like ``RegisterBfm.observers``. All waits are
bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from cocotb.simtime import get_sim_time

from models.nvme_regs import NVME_REG_DBS
from models.nvme_spec import (CQE_SIZE, SQE_SIZE, SUCCESS, CompletionEntry, FeatureId, GetFeaturesSelect, Status,
                              SubmissionEntry, create_io_cq, create_io_sq, delete_io_cq, delete_io_sq, get_features,
                              set_features, set_num_queues)
from tb.nvme_driver import NvmeDriver, RegisterBfm
from tb.pcie_tb import PcieTb
from tb.shadow_doorbells import ShadowDoorbellPages

DEFAULT_TIMEOUT_NS = 1_000_000
# the host looks at a CQ when the device has written host memory, and at the latest this often
POLL_NS = 10_000
CID_LIMIT = 0xFFFF  # CID FFFFh means "no command" in the error log; never use it


class QueueObserver(Protocol):
    def submitted(self, sqid: int, sqe: SubmissionEntry) -> None: ...

    def completed(self, cqid: int, cqe: CompletionEntry) -> None: ...


class QueueTimeout(Exception):
    """A bounded wait on a queue ran out."""


class QueueError(Exception):
    """The controller posted something the host cannot account for."""


class NvmeCommandError(Exception):
    """A command completed with a status the caller did not expect."""

    def __init__(self, sqe: SubmissionEntry, cqe: CompletionEntry, expected: Status) -> None:
        super().__init__(f"opcode {sqe.opcode:#04x} CID {cqe.cid:#06x} on SQ {cqe.sq_id}: "
                         f"{cqe.status}, expected {expected}")
        self.sqe = sqe
        self.cqe = cqe


def doorbell_index(qid: int, cq: bool) -> int:
    """Doorbells from 1000h in stride units: SQ y tail 2y, CQ y head 2y + 1 (the shadow pages' layout too)."""
    return 2 * qid + cq


def sq_tail_doorbell(qid: int, stride: int) -> int:
    return NVME_REG_DBS + doorbell_index(qid, False) * stride


def cq_head_doorbell(qid: int, stride: int) -> int:
    return NVME_REG_DBS + doorbell_index(qid, True) * stride


class _Ring:
    """What both queue kinds share: id, depth, ring memory, doorbell access, observers.

    ``shadow``: the shadow doorbell pages once the host configured them (I/O queues only); then an update
    rings the MMIO doorbell only when the controller's EventIdx asks for it.
    """

    entry_size: int
    is_cq: bool

    def __init__(self, qid: int, depth: int, tb: PcieTb, regs: RegisterBfm, stride: int,
                 observers: list[QueueObserver] | None, addr: tuple[int, int] | None) -> None:
        """``addr``: (host physical, bus address) of memory already allocated, else allocated here."""
        if depth < 2:
            raise ValueError(f"queue {qid}: depth {depth}, at least 2 entries")
        self.qid = qid
        self.depth = depth
        self.tb = tb
        self.regs = regs
        self.stride = stride
        self.observers = observers if observers is not None else []
        self.shadow: ShadowDoorbellPages | None = None
        self.mmio_doorbells = 0
        # the CPU reaches the ring at addr, the controller at dma_addr (equal without an IOMMU)
        self.addr, self.dma_addr = tb.alloc_coherent(depth * self.entry_size, regs.function) if addr is None else addr

    @property
    def qsize(self) -> int:
        """Zero-based size, as Create I/O SQ/CQ and AQA take it."""
        return self.depth - 1

    def _slot_addr(self, index: int) -> int:
        return self.addr + index * self.entry_size

    async def _ring(self, old: int, new: int) -> None:
        """The doorbell moves from ``old`` to ``new``: through the shadow page, or MMIO, or both."""
        index = doorbell_index(self.qid, self.is_cq)
        if self.shadow is None or await self.shadow.update(index, old, new):
            await self.regs.writel(NVME_REG_DBS + index * self.stride, new)
            self.mmio_doorbells += 1


class CompletionQueue(_Ring):
    entry_size = CQE_SIZE
    is_cq = True

    def __init__(self, qid: int, depth: int, tb: PcieTb, regs: RegisterBfm, stride: int,
                 observers: list[QueueObserver] | None = None, addr: tuple[int, int] | None = None) -> None:
        super().__init__(qid, depth, tb, regs, stride, observers, addr)
        self.head = 0
        self.phase = 1
        self.sqs: dict[int, SubmissionQueue] = {}

    async def poll(self) -> list[CompletionEntry]:
        """Reap every new CQE (phase tag matches), then ring the head doorbell once."""
        reaped: list[CompletionEntry] = []
        old = self.head
        mem = self.tb.rc.mem_address_space
        while True:
            cqe = CompletionEntry.unpack(bytes(await mem.read(self._slot_addr(self.head), CQE_SIZE)))
            if cqe.phase != self.phase:
                break
            reaped.append(cqe)
            self.head += 1
            if self.head == self.depth:
                self.head = 0
                self.phase ^= 1
        for cqe in reaped:
            for observer in self.observers:
                observer.completed(self.qid, cqe)
            sq = self.sqs.get(cqe.sq_id)
            if sq is None:
                raise QueueError(f"CQ {self.qid}: CQE for SQ {cqe.sq_id}, which does not post here "
                                 f"(SQs {sorted(self.sqs)})")
            sq.reaped(cqe)
        if reaped:
            await self._ring(old, self.head)
        return reaped

    async def poll_until(self, done: Callable[[], bool], deadline_ns: float) -> bool:
        """Reap CQEs each time the device writes host memory until ``done()`` (True) or the deadline
        (False): as a driver sleeps until an interrupt, not on a timer."""
        while True:
            mark = self.tb.device_writes
            await self.poll()
            if done():
                return True
            now = get_sim_time("ns")
            if now >= deadline_ns:
                return False
            await self.tb.wait_for_device_write(mark, min(POLL_NS, deadline_ns - now))


class SubmissionQueue(_Ring):
    entry_size = SQE_SIZE
    is_cq = False

    def __init__(self, qid: int, depth: int, cq: CompletionQueue, tb: PcieTb, regs: RegisterBfm, stride: int,
                 observers: list[QueueObserver] | None = None, addr: tuple[int, int] | None = None) -> None:
        super().__init__(qid, depth, tb, regs, stride, observers, addr)
        self.cq = cq
        cq.sqs[qid] = self
        self.tail = 0
        self.head = 0          # as the controller last reported it
        self.outstanding: dict[int, SubmissionEntry] = {}
        self.done: dict[int, CompletionEntry] = {}   # reaped, not yet collected by wait_for
        self._next_cid = 0

    @property
    def free_slots(self) -> int:
        """Entries the host may add: one slot stays empty so that full and empty differ."""
        return self.depth - 1 - (self.tail - self.head) % self.depth

    def use_cids_from(self, cid: int) -> None:
        """Allocate CIDs from ``cid`` on (wrapping before FFFFh), for tests of particular CID values."""
        if not 0 <= cid < CID_LIMIT:
            raise ValueError(f"CID {cid:#x}: the host uses 0..{CID_LIMIT - 1:#x}")
        self._next_cid = cid

    def _alloc_cid(self) -> int:
        for _ in range(CID_LIMIT):
            cid = self._next_cid
            self._next_cid = (self._next_cid + 1) % CID_LIMIT
            if cid not in self.outstanding and cid not in self.done:
                return cid
        raise QueueError(f"SQ {self.qid}: every CID is in use")

    async def submit(self, entry: SubmissionEntry, timeout_ns: int = DEFAULT_TIMEOUT_NS) -> int:
        """Place one command and ring the doorbell; returns its CID (the entry's own CID is replaced)."""
        return (await self.submit_many([entry], timeout_ns))[0]

    async def submit_many(self, entries: Sequence[SubmissionEntry],
                          timeout_ns: int = DEFAULT_TIMEOUT_NS) -> list[int]:
        """Place several commands behind one doorbell write; waits (bounded) for room if the SQ is full."""
        if len(entries) > self.depth - 1:
            raise ValueError(f"SQ {self.qid}: {len(entries)} entries never fit a queue of {self.depth}")
        await self._wait_for_room(len(entries), timeout_ns)
        mem = self.tb.rc.mem_address_space
        cids = []
        old = self.tail
        for entry in entries:
            sqe = replace(entry, cid=self._alloc_cid())
            await mem.write(self._slot_addr(self.tail), sqe.pack())
            self.tail = (self.tail + 1) % self.depth
            self.outstanding[sqe.cid] = sqe
            cids.append(sqe.cid)
            for observer in self.observers:
                observer.submitted(self.qid, sqe)
        await self._ring(old, self.tail)
        return cids

    async def _wait_for_room(self, count: int, timeout_ns: int) -> None:
        if not await self.cq.poll_until(lambda: self.free_slots >= count, get_sim_time("ns") + timeout_ns):
            raise QueueTimeout(f"SQ {self.qid}: no room for {count} entries after {timeout_ns} ns "
                               f"(tail {self.tail}, head {self.head}, {len(self.outstanding)} outstanding)")

    def reaped(self, cqe: CompletionEntry) -> None:
        """A CQE of this SQ was consumed from its CQ: learn the SQ head, retire the CID."""
        if cqe.cid not in self.outstanding:
            raise QueueError(f"SQ {self.qid}: completion of CID {cqe.cid:#06x}, which is not outstanding")
        self.head = cqe.sq_head
        del self.outstanding[cqe.cid]
        self.done[cqe.cid] = cqe

    async def wait_for(self, cids: Iterable[int], timeout_ns: int = DEFAULT_TIMEOUT_NS) -> list[CompletionEntry]:
        """The CQEs of ``cids``, in that order, polling the CQ until all have arrived (bounded)."""
        wanted = list(cids)
        if not await self.cq.poll_until(lambda: all(cid in self.done for cid in wanted),
                                        get_sim_time("ns") + timeout_ns):
            missing = [cid for cid in wanted if cid not in self.done]
            raise QueueTimeout(f"SQ {self.qid}: CIDs {[hex(c) for c in missing]} not completed on CQ "
                               f"{self.cq.qid} after {timeout_ns} ns")
        return [self.done.pop(cid) for cid in wanted]


class NvmeQueue:
    """An SQ and its CQ with the same qid, as nvme-pci allocates them."""

    def __init__(self, qid: int, depth: int, tb: PcieTb, regs: RegisterBfm, stride: int,
                 observers: list[QueueObserver] | None = None, sq_addr: tuple[int, int] | None = None,
                 cq_addr: tuple[int, int] | None = None) -> None:
        self.qid = qid
        observers = [] if observers is None else observers   # one list: SQ and CQ report to the same observers
        self.cq = CompletionQueue(qid, depth, tb, regs, stride, observers, cq_addr)
        self.sq = SubmissionQueue(qid, depth, self.cq, tb, regs, stride, observers, sq_addr)

    async def submit(self, entry: SubmissionEntry, timeout_ns: int = DEFAULT_TIMEOUT_NS) -> int:
        return await self.sq.submit(entry, timeout_ns)

    async def submit_many(self, entries: Sequence[SubmissionEntry],
                          timeout_ns: int = DEFAULT_TIMEOUT_NS) -> list[int]:
        return await self.sq.submit_many(entries, timeout_ns)

    async def poll_cq(self) -> list[CompletionEntry]:
        return await self.cq.poll()

    async def wait_for(self, cids: Iterable[int], timeout_ns: int = DEFAULT_TIMEOUT_NS) -> list[CompletionEntry]:
        return await self.sq.wait_for(cids, timeout_ns)


class NvmeAdmin:
    """Admin commands for the queue-engine tests, on the admin queue the driver set up.

    After ``configure_shadow_doorbells``, the I/O queues created here use the shadow doorbell pages.
    """

    def __init__(self, queue: NvmeQueue, timeout_ns: int = DEFAULT_TIMEOUT_NS) -> None:
        self.queue = queue
        self.timeout_ns = timeout_ns
        self.shadow: ShadowDoorbellPages | None = None

    @classmethod
    def from_driver(cls, driver: NvmeDriver, observers: list[QueueObserver] | None = None,
                    timeout_ns: int = DEFAULT_TIMEOUT_NS) -> NvmeAdmin:
        """Wrap the admin rings that nvme_pci_configure_admin_queue programmed into ASQ/ACQ."""
        assert driver.cap is not None and driver.ready_after_ns is not None, "driver.probe() first"
        queue = NvmeQueue(0, driver.q_depth, driver.tb, driver.regs, driver.cap.doorbell_stride, observers,
                          sq_addr=driver.asq, cq_addr=driver.acq)
        return cls(queue, timeout_ns)

    async def execute(self, sqe: SubmissionEntry, expect: Status | None = SUCCESS) -> CompletionEntry:
        """Submit one admin command and wait for it; raise unless its status has ``expect``'s code.

        ``expect=None`` returns whatever status came, for tests that inspect it.
        """
        cid = await self.queue.submit(sqe, self.timeout_ns)
        (cqe,) = await self.queue.wait_for([cid], self.timeout_ns)
        if expect is not None and not cqe.status.same_code(expect):
            raise NvmeCommandError(sqe, cqe, expect)
        return cqe

    def _new_ring_args(self) -> tuple[PcieTb, RegisterBfm, int, list[QueueObserver]]:
        admin = self.queue.sq
        return admin.tb, admin.regs, admin.stride, admin.observers

    async def configure_shadow_doorbells(self, pages: ShadowDoorbellPages, expect: Status | None = SUCCESS
                                         ) -> CompletionEntry:
        """Doorbell Buffer Config with ``pages`` (cleared first); I/O queues created from now on use them."""
        await pages.clear()
        cqe = await self.execute(pages.config_cmd(), expect)
        if cqe.status.is_success:
            self.shadow = pages
        return cqe

    async def create_cq(self, qid: int, depth: int, vector: int | None = None, ien: bool = True) -> CompletionQueue:
        """Allocate and create an I/O CQ; its vector defaults to its qid (one vector per CQ)."""
        cq = CompletionQueue(qid, depth, *self._new_ring_args())
        cq.shadow = self.shadow
        await self.execute(create_io_cq(qid, cq.qsize, cq.dma_addr, iv=qid if vector is None else vector, ien=ien))
        return cq

    async def create_sq(self, qid: int, depth: int, cq: CompletionQueue, priority: int = 0) -> SubmissionQueue:
        """Allocate and create an I/O SQ posting to ``cq`` (several SQs may share one CQ)."""
        sq = SubmissionQueue(qid, depth, cq, *self._new_ring_args())
        sq.shadow = self.shadow
        try:
            await self.execute(create_io_sq(qid, sq.qsize, sq.dma_addr, cqid=cq.qid, qprio=priority))
        except NvmeCommandError:
            del cq.sqs[qid]
            raise
        return sq

    async def create_queue_pair(self, qid: int, depth: int, vector: int | None = None, ien: bool = True,
                                priority: int = 0) -> NvmeQueue:
        """Create I/O CQ then I/O SQ with one qid, as nvme_create_queue does."""
        queue = NvmeQueue(qid, depth, *self._new_ring_args())
        queue.sq.shadow = queue.cq.shadow = self.shadow
        await self.execute(create_io_cq(qid, queue.cq.qsize, queue.cq.dma_addr, iv=qid if vector is None else vector,
                                        ien=ien))
        await self.execute(create_io_sq(qid, queue.sq.qsize, queue.sq.dma_addr, cqid=qid, qprio=priority))
        return queue

    async def delete_sq(self, sq: SubmissionQueue) -> CompletionEntry:
        cqe = await self.execute(delete_io_sq(sq.qid))
        del sq.cq.sqs[sq.qid]
        return cqe

    async def delete_cq(self, cq: CompletionQueue) -> CompletionEntry:
        return await self.execute(delete_io_cq(cq.qid))

    async def delete_queue_pair(self, queue: NvmeQueue) -> None:
        """Delete I/O SQ then I/O CQ, the order the spec requires."""
        await self.delete_sq(queue.sq)
        await self.delete_cq(queue.cq)

    async def set_features(self, fid: FeatureId, cdw11: int, expect: Status | None = SUCCESS) -> CompletionEntry:
        return await self.execute(set_features(fid, cdw11), expect)

    async def get_features(self, fid: FeatureId, sel: GetFeaturesSelect = GetFeaturesSelect.CURRENT,
                           cdw11: int = 0) -> CompletionEntry:
        return await self.execute(get_features(fid, sel, cdw11))

    async def set_num_queues(self, nsq: int, ncq: int) -> tuple[int, int]:
        """Request I/O queue counts; returns the allocated (SQs, CQs) as counts, not zero-based."""
        dw0 = (await self.execute(set_num_queues(nsq, ncq))).dw0
        return (dw0 & 0xFFFF) + 1, (dw0 >> 16) + 1
