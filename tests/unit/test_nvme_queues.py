"""Host queues against a fake controller: CIDs, doorbells, phase and wrap, room, observers, timeouts.

The queues' only simulator dependencies are simulated time and Timer; the
fixtures replace both with a fake clock and run the coroutines with asyncio.
The fake controller fetches on every SQ doorbell and, when told to, posts one
CQE per fetched command, as the queue engine plus a trivial firmware would.
"""

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from tests.unit.fake_time import FakeClock, install_fake_clock

import tb.nvme_queues as nq
from models.nvme_regs import NVME_REG_DBS
from models.nvme_spec import CompletionEntry, NvmOpcode, SubmissionEntry
from tb.nvme_queues import NvmeQueue, QueueError, QueueTimeout

STRIDE = 4
DEPTH = 4
READ = SubmissionEntry(NvmOpcode.READ, nsid=1)


class FakeMemory:
    def __init__(self) -> None:
        self.mem = bytearray(1 << 20)

    async def read(self, addr: int, length: int) -> bytes:
        return bytes(self.mem[addr:addr + length])

    async def write(self, addr: int, data: bytes) -> None:
        self.mem[addr:addr + len(data)] = data


class FakeRc:
    def __init__(self) -> None:
        self.mem_address_space = FakeMemory()
        self.next_addr = 0x1000

    def alloc_region(self, size: int) -> tuple[int, None]:
        addr = self.next_addr
        self.next_addr += size
        return addr, None


class FakeController:
    """Doorbells as register writes; fetches SQEs and posts CQEs into host memory."""

    # the function whose registers these are (RegisterBfm.function), whose domain a ring is mapped in
    function = 0

    def alloc_dma(self, size: int) -> int:
        return self.rc.alloc_region(size)[0]

    def alloc_coherent(self, size: int, function: int = 0) -> tuple[int, int]:
        addr = self.alloc_dma(size)
        return addr, addr

    def __init__(self, rc: FakeRc, clock: FakeClock) -> None:
        self.rc = rc
        self.clock = clock
        self.device_writes = 0
        self.writes: list[tuple[int, int]] = []
        self.queue: NvmeQueue | None = None
        self.complete = True
        self.fetched: list[SubmissionEntry] = []
        self.sq_head = 0
        self.cq_tail = 0
        self.phase = 1

    @property
    def tb(self) -> "FakeController":
        return self

    async def wait_for_device_write(self, mark: int, timeout_ns: int) -> None:
        """Nothing writes on its own here: the wait runs out."""
        self.clock.ns += timeout_ns

    async def writel(self, offset: int, value: int) -> None:
        self.writes.append((offset, value))
        assert self.queue is not None
        if offset == NVME_REG_DBS:   # SQ 0 tail
            mem = self.rc.mem_address_space.mem
            while self.sq_head != value:
                addr = self.queue.sq.addr + 64 * self.sq_head
                sqe = SubmissionEntry.unpack(bytes(mem[addr:addr + 64]))
                self.sq_head = (self.sq_head + 1) % self.queue.sq.depth
                self.fetched.append(sqe)
                if self.complete:
                    self.post(sqe.cid)

    def post(self, cid: int) -> None:
        assert self.queue is not None
        cqe = CompletionEntry(sq_head=self.sq_head, sq_id=0, cid=cid, phase=self.phase)
        addr = self.queue.cq.addr + 16 * self.cq_tail
        self.rc.mem_address_space.mem[addr:addr + 16] = cqe.pack()
        self.device_writes += 1
        self.cq_tail = (self.cq_tail + 1) % self.queue.cq.depth
        if self.cq_tail == 0:
            self.phase ^= 1


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, int, int]] = []

    def submitted(self, sqid: int, sqe: SubmissionEntry) -> None:
        self.events.append(("sq", sqid, sqe.cid))

    def completed(self, cqid: int, cqe: CompletionEntry) -> None:
        self.events.append(("cq", cqid, cqe.cid))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return install_fake_clock(monkeypatch, nq)


@pytest.fixture
def ctrl(clock: FakeClock) -> FakeController:
    return FakeController(FakeRc(), clock)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def queue(ctrl: FakeController, recorder: Recorder) -> NvmeQueue:
    q = NvmeQueue(0, DEPTH, ctrl, ctrl, STRIDE, [recorder])  # type: ignore[arg-type]
    ctrl.queue = q
    return q


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def test_doorbell_offsets() -> None:
    assert nq.sq_tail_doorbell(3, 4) == 0x1018 and nq.cq_head_doorbell(3, 4) == 0x101C
    assert nq.sq_tail_doorbell(1, 16) == 0x1020 and nq.cq_head_doorbell(1, 16) == 0x1030


def test_submit_many_writes_entries_and_rings_once(queue: NvmeQueue, ctrl: FakeController) -> None:
    ctrl.complete = False
    cids = run(queue.submit_many([READ, READ, READ]))
    assert len(set(cids)) == 3
    assert [s.cid for s in ctrl.fetched] == cids
    assert all(s.opcode == NvmOpcode.READ and s.nsid == 1 for s in ctrl.fetched)
    assert ctrl.writes == [(NVME_REG_DBS, 3)]
    assert queue.sq.free_slots == 0


def test_completions_through_wraps_keep_phase_and_ring_head(queue: NvmeQueue, ctrl: FakeController) -> None:
    async def body() -> None:
        for _ in range(3 * DEPTH + 1):
            cid = await queue.submit(READ)
            (cqe,) = await queue.wait_for([cid])
            assert cqe.cid == cid
    run(body())
    heads = [v for off, v in ctrl.writes if off == NVME_REG_DBS + STRIDE]
    assert heads == [(n + 1) % DEPTH for n in range(3 * DEPTH + 1)]
    assert queue.cq.phase == 0 and queue.sq.outstanding == {}


def test_one_cq_doorbell_per_batch(queue: NvmeQueue, ctrl: FakeController) -> None:
    async def body() -> list[CompletionEntry]:
        await queue.submit_many([READ] * 3)
        return await queue.poll_cq()
    assert len(run(body())) == 3
    assert ctrl.writes == [(NVME_REG_DBS, 3), (NVME_REG_DBS + STRIDE, 3)]


def test_submit_waits_for_room_from_the_reported_head(queue: NvmeQueue, ctrl: FakeController) -> None:
    async def body() -> None:
        await queue.submit_many([READ] * (DEPTH - 1))
        await queue.submit(READ)   # full: reaps the completions to learn the new SQ head
    run(body())
    assert len(ctrl.fetched) == DEPTH
    assert queue.sq.head == DEPTH - 1


def test_full_sq_without_completions_times_out(queue: NvmeQueue, ctrl: FakeController, clock: FakeClock) -> None:
    ctrl.complete = False
    run(queue.submit_many([READ] * (DEPTH - 1)))
    with pytest.raises(QueueTimeout, match="no room for 1 entries"):
        run(queue.submit(READ, timeout_ns=10_000))
    assert clock.ns >= 10_000


def test_wait_for_times_out_naming_the_missing_cid(queue: NvmeQueue, ctrl: FakeController) -> None:
    ctrl.complete = False
    cid = run(queue.submit(READ))
    with pytest.raises(QueueTimeout, match=hex(cid)):
        run(queue.wait_for([cid], timeout_ns=1000))


def test_wait_for_returns_in_the_order_asked(queue: NvmeQueue) -> None:
    async def body() -> tuple[list[int], list[CompletionEntry]]:
        cids = await queue.submit_many([READ] * 3)
        return cids, await queue.wait_for(reversed(cids))
    cids, cqes = run(body())
    assert [c.cid for c in cqes] == cids[::-1]


def test_observers_see_every_sqe_and_cqe(queue: NvmeQueue, recorder: Recorder) -> None:
    async def body() -> int:
        cid = await queue.submit(READ)
        await queue.wait_for([cid])
        return cid
    cid = run(body())
    assert recorder.events == [("sq", 0, cid), ("cq", 0, cid)]


def test_completion_of_an_unknown_cid_is_an_error(queue: NvmeQueue, ctrl: FakeController) -> None:
    ctrl.post(0x1234)
    with pytest.raises(QueueError, match="not outstanding"):
        run(queue.poll_cq())


def test_cids_stay_unique_while_outstanding(queue: NvmeQueue, ctrl: FakeController) -> None:
    ctrl.complete = False
    queue.sq._next_cid = nq.CID_LIMIT - 1
    cids = run(queue.submit_many([READ] * 3))
    assert cids == [nq.CID_LIMIT - 1, 0, 1]   # wraps before FFFFh
