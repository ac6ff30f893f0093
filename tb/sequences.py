"""Reusable stimulus: streams of commands on host queues.

Sequences work on tb.nvme_queues objects and leave checking to the
scoreboards; they return what a test may want to assert on (CQEs, timing).
"""

from __future__ import annotations

from cocotb.utils import get_sim_time

from models.nvme_spec import NvmOpcode, SubmissionEntry
from tb.nvme_queues import NvmeQueue

NSID = 1


def io_command(opcode: NvmOpcode = NvmOpcode.FLUSH, nsid: int = NSID) -> SubmissionEntry:
    """An I/O command that moves no data (the queue engine's tests need no DMA)."""
    return SubmissionEntry(int(opcode), nsid=nsid)


async def stream_commands(queue: NvmeQueue, count: int, batch: int, timeout_ns: int = 2_000_000) -> int:
    """Submit ``count`` no-data commands ``batch`` per doorbell and reap them all; return ns taken."""
    start = get_sim_time("ns")
    done = 0
    while done < count:
        n = min(batch, count - done)
        cids = await queue.submit_many([io_command() for _ in range(n)], timeout_ns)
        await queue.wait_for(cids, timeout_ns)
        done += n
    return int(get_sim_time("ns") - start)
