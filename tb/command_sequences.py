"""Sequences for the command-set tests: host data buffers, one command or a batch, bounded waits.

Built for ``tb.base_test.CommandSetTest`` and its host queues; checking is
the scoreboards' (status, DW0 and read data against the NVMe reference
model), so these return CQEs and leave the test to assert what is specific
to it. Every wait is bounded and says what it waited for when it runs out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cocotb.simtime import get_sim_time

from models.iommu import DmaDirection
from models.nvme_commands import read_cmd, write_cmd
from models.nvme_spec import CompletionEntry, SubmissionEntry
from tb.nvme_queues import DEFAULT_TIMEOUT_NS, NvmeQueue, QueueTimeout, SubmissionQueue
from tb.pcie_tb import PcieTb

Queue = NvmeQueue | SubmissionQueue   # anything with submit_many and wait_for

PAGE = 4096


@dataclass(frozen=True)
class HostBuffer:
    """A contiguous host buffer of ``pages`` pages with a PRP list for pages 1..pages-1, so that one buffer
    serves any transfer up to its size: ``prps(length)`` gives PRP1 and PRP2 for the first ``length`` bytes.

    Mapped like dma_alloc_coherent memory, for as long as it lives, in the domain of the function whose
    commands use it: the CPU reaches it at ``addr`` (and the PRP list at ``prp_list``), that function's
    controller at ``bus`` (and ``list_bus``); without an IOMMU the two are the same."""

    addr: int
    pages: int
    prp_list: int
    bus: int
    list_bus: int

    @classmethod
    async def alloc(cls, tb: PcieTb, pages: int, function: int = 0) -> HostBuffer:
        dma = tb.dmas[function]
        addr = tb.alloc_dma(pages * PAGE)
        bus = dma.map_now(addr, pages * PAGE, DmaDirection.BIDIRECTIONAL)
        plist = tb.alloc_dma(PAGE) if pages > 2 else 0
        list_bus = dma.map_now(plist, PAGE, DmaDirection.TO_DEVICE) if plist else 0
        if plist:
            entries = b"".join((bus + PAGE * i).to_bytes(8, "little") for i in range(1, pages))
            await tb.rc.mem_address_space.write(plist, entries)
        return cls(addr, pages, plist, bus, list_bus)

    def prps(self, length: int) -> tuple[int, int]:
        """(PRP1, PRP2) for a transfer of ``length`` bytes from the start of the buffer."""
        pages = -(-length // PAGE)
        if not 1 <= pages <= self.pages:
            raise ValueError(f"{length} bytes do not fit a buffer of {self.pages} pages")
        if pages == 1:
            return self.bus, 0
        return self.bus, self.bus + PAGE if pages == 2 else self.list_bus


async def run_one(queue: Queue, sqe: SubmissionEntry, timeout_ns: int = DEFAULT_TIMEOUT_NS) -> CompletionEntry:
    """Submit one command and wait (bounded) for its CQE."""
    (cid,) = await queue.submit_many([sqe], timeout_ns)
    (cqe,) = await queue.wait_for([cid], timeout_ns)
    return cqe


async def run_all(queue: Queue, sqes: Sequence[SubmissionEntry],
                  timeout_ns: int = DEFAULT_TIMEOUT_NS) -> list[CompletionEntry]:
    """Submit ``sqes`` as many per doorbell as the SQ holds, all in flight together; CQEs in SQE order."""
    batch = (queue.sq if isinstance(queue, NvmeQueue) else queue).depth - 1
    cqes: list[CompletionEntry] = []
    for start in range(0, len(sqes), batch):
        cids = await queue.submit_many(sqes[start:start + batch], timeout_ns)
        cqes += await queue.wait_for(cids, timeout_ns)
    return cqes


async def assert_still_pending(queue: NvmeQueue, cids: Iterable[int], window_ns: int, why: str) -> None:
    """Poll the CQ for ``window_ns`` and fail if any of ``cids`` completes: a command that must wait."""
    wanted = set(cids)
    await queue.cq.poll_until(lambda: bool(wanted & set(queue.sq.done)), get_sim_time("ns") + window_ns)
    early = wanted & set(queue.sq.done)
    assert not early, f"{why}: CIDs {sorted(hex(c) for c in early)} completed early"


async def wait_for_any(queue: NvmeQueue, cids: Iterable[int], why: str,
                       timeout_ns: int = DEFAULT_TIMEOUT_NS) -> CompletionEntry:
    """The first CQE of any of ``cids`` (bounded): for requests the controller completes in its own order."""
    wanted = list(cids)
    if not await queue.cq.poll_until(lambda: any(cid in queue.sq.done for cid in wanted),
                                     get_sim_time("ns") + timeout_ns):
        raise QueueTimeout(f"{why}: none of CIDs {[hex(c) for c in wanted]} completed after {timeout_ns} ns")
    done = [cid for cid in wanted if cid in queue.sq.done]
    return (await queue.wait_for(done[:1], timeout_ns))[0]


async def write_and_read_back(tb: PcieTb, queue: Queue, nsid: int, slba: int, data: bytes, lba_size: int,
                              wbuf: HostBuffer, rbuf: HostBuffer) -> None:
    """Write ``data`` at ``slba``, then read it back through ``queue`` and compare (the data scoreboard
    checks the read as well)."""
    nlb = len(data) // lba_size
    await tb.rc.mem_address_space.write(wbuf.addr, data)
    (wcqe,) = await run_all(queue, [write_cmd(nsid, slba, nlb, *wbuf.prps(len(data)))])
    (rcqe,) = await run_all(queue, [read_cmd(nsid, slba, nlb, *rbuf.prps(len(data)))])
    assert wcqe.status.is_success and rcqe.status.is_success, (
        f"NSID {nsid} LBA {slba}: write {wcqe.status}, read {rcqe.status}")
    got = bytes(await tb.rc.mem_address_space.read(rbuf.addr, len(data)))
    assert got == data, f"queue {queue.qid}, NSID {nsid} LBA {slba}: read back differs"
