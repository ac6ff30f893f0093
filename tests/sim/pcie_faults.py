"""PCIe faults and hostile host behaviour while I/O streams.

- Host reads answered with UR, CA, poison or not at all, scattered over a
  stream of writes on several queues: exactly the hit commands fail with
  Data Transfer Error, every other one moves its data, nothing lands
  outside the buffers given.
- Doorbell writes while the controller resets: nothing is fetched for
  them, nothing leaves the device after CSTS.RDY reads 0, and the
  controller comes back.
- BAR accesses of sizes and alignments a driver never makes, during I/O:
  each is answered as bar_access.py expects, and the I/O goes on unharmed.
- MSI-X table entries rewritten and vectors masked and unmasked while
  their interrupts fire: no message is lost or sent without a cause (the
  interrupt scoreboard).
"""

from __future__ import annotations

import dataclasses

import cocotb
import pyuvm
from cocotb.triggers import Timer

from models.nvme_commands import read_cmd, write_cmd
from models.nvme_regs import NVME_REG_CAP, NVME_REG_CSTS, NVME_REG_INTMC, NVME_REG_INTMS, NVME_REG_VS
from tb.data_pointers import PAGE
from tb.dma_test import DTE, LBA, NSID, DmaTest
from tb.nvme_queues import NvmeQueue, cq_head_doorbell, sq_tail_doorbell
from contract import nvme_bar0 as bar0

TIMEOUT_MS = 40
QUEUES, DEPTH, LENGTH = 3, 6, 16 * 1024
QUIET_NS = 10_000
FAULTS = ("ur", "ca", "poison", "drop")


class StreamTest(DmaTest):
    """DmaTest with a stream of writes then reads of LENGTH bytes on QUEUES queues, DEPTH each."""

    async def stream(self, queues: list[NvmeQueue], faults: dict[int, str] | None = None) -> None:
        """Write every job, read it back, compare; ``faults`` maps a job to the fault its write meets."""
        faults = faults or {}
        nlb = LENGTH // LBA
        jobs = [(q, self.next_lba + i * nlb, self.rng.randbytes(LENGTH)) for i, q in enumerate(queues * DEPTH)]
        self.next_lba += len(jobs) * nlb
        writes = [await self.pointer(LENGTH, high=bool(i % 2)) for i in range(len(jobs))]
        for n, kind in faults.items():
            page = writes[n].pieces[1].addr
            self.tb.dev.inject_read_fault(lambda addr, a=page: a <= addr < a + PAGE, kind)
        for t, (_, _, data) in zip(writes, jobs):
            await self.buffers.fill(t, data)
        cids = []
        for n, (t, (q, slba, _)) in enumerate(zip(writes, jobs)):
            (cid,) = await q.submit_many([dataclasses.replace(write_cmd(NSID, slba, nlb), prp1=t.prp1, prp2=t.prp2)])
            if n in faults:
                self.forced[(q.qid, cid)] = DTE
            cids.append(cid)
        for n, ((q, _, _), cid) in enumerate(zip(jobs, cids)):
            (cqe,) = await q.wait_for([cid])
            want = DTE if n in faults else None
            assert (cqe.status == want) if want else cqe.status.is_success, f"write {n}: {cqe.status}"
        for n, (q, slba, data) in enumerate(jobs):
            if n in faults:
                continue
            t = await self.pointer(LENGTH, high=bool(n % 2))
            status = await self.run(read_cmd(NSID, slba, nlb), t)
            assert status.is_success, f"read {n}: {status}"
            assert await self.buffers.read(t) == data, f"job {n}: data read back differs"
        await self.buffers.check_guards()

    async def io_queues(self) -> list[NvmeQueue]:
        return [await self.admin.create_queue_pair(qid, 16) for qid in range(2, QUEUES + 2)]


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class HostReadFaultsInStreams(StreamTest):
    async def body(self) -> None:
        queues = await self.io_queues()
        jobs = QUEUES * DEPTH
        hit = self.rng.sample(range(jobs), len(FAULTS))
        await self.stream(queues, dict(zip(hit, FAULTS)))
        await self.stream(queues)   # the engine serves on, every tag it lost to a drop aside


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DoorbellsDuringReset(StreamTest):
    """Writes in flight, CC.EN=0, and every queue's doorbells rung all through the reset and after it:
    nothing is fetched for them and nothing leaves the device after CSTS.RDY reads 0."""

    async def body(self) -> None:
        queues = await self.io_queues()
        nlb = LENGTH // LBA
        for n, q in enumerate(queues * 2):
            t = await self.pointer(LENGTH, high=False)
            await q.submit_many([dataclasses.replace(write_cmd(NSID, 1000 + n * nlb, nlb), prp1=t.prp1,
                                                     prp2=t.prp2)])
        ringer = cocotb.start_soon(self.ring(queues))
        await self.disable_and_watch(QUIET_NS)
        ringer.cancel()
        fetched = self.firmware.commands_per_sq.copy()
        await self.ring(queues, rounds=3)
        await Timer(QUIET_NS, "ns")
        assert self.firmware.commands_per_sq == fetched, "doorbells of a disabled controller made it fetch"
        await self.bring_up()
        await self.admin.set_num_queues(4, 4)
        self.queue = await self.admin.create_queue_pair(1, 32)
        await self.stream(await self.io_queues())

    async def ring(self, queues: list[NvmeQueue], rounds: int | None = None) -> None:
        """Each queue's SQ tail (as the host last wrote it) and CQ head doorbells, every 200 ns."""
        n = 0
        while rounds is None or n < rounds:
            for q in queues:
                await self.regs.writel(sq_tail_doorbell(q.qid, q.sq.stride), q.sq.tail)
                await self.regs.writel(cq_head_doorbell(q.qid, q.cq.stride), q.cq.head)
            await Timer(200, "ns")
            n += 1


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class OddBarAccessesDuringIo(StreamTest):
    """While data streams: reads of 1 to 128 bytes at odd offsets (the register scoreboard checks each),
    byte writes to the interrupt mask registers, and a 256-byte read that must end in Completer Abort."""

    async def body(self) -> None:
        poker = cocotb.start_soon(self.poke())
        await self.stream(await self.io_queues())
        poker.cancel()
        assert self.pokes > 3, f"only {self.pokes} rounds of odd accesses during the stream"

    async def poke(self) -> None:
        self.pokes = 0
        while True:
            for offset, length in ((NVME_REG_CAP + 1, 2), (NVME_REG_VS, 8), (NVME_REG_CSTS + 2, 1), (0x3, 61),
                                   (0, 128), (0x1000, 128)):
                await self.regs.read(offset, length)
            await self.regs.write(NVME_REG_INTMS + 2, b"\x00")
            await self.regs.write(NVME_REG_INTMC + 1, b"\x00\x00")
            try:
                await self.tb.bar0.read(0, 256)
            except Exception as err:  # cocotbext-pcie raises a bare Exception for non-SC completions
                assert "Unsuccessful completion" in str(err), err
            else:
                raise AssertionError("a 256-byte BAR read completed successfully")
            self.pokes += 1
            await Timer(1_000, "ns")


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MsixTableWritesWhileFiring(StreamTest):
    """While every I/O vector fires: its table entry rewritten dword by dword (same address and data) and
    the vector masked and unmasked; the interrupt scoreboard sees every message have a cause and every
    due message come."""

    async def body(self) -> None:
        queues = await self.io_queues()
        fiddler = cocotb.start_soon(self.fiddle([q.qid for q in queues]))
        await self.stream(queues)
        fiddler.cancel()
        for q in queues:
            await self.set_mask(q.qid, False)
        assert self.rewrites > 3, f"only {self.rewrites} table rewrites during the stream"

    async def fiddle(self, vectors: list[int]) -> None:
        self.rewrites = 0
        bar = self.tb.bar0
        while True:
            for vector in vectors:
                entry = bar0.MSIX_TABLE.OFFSET + bar0.MSIX_TABLE.STRIDE * vector
                for dword in range(3):
                    value = await bar.read_dword(entry + 4 * dword)
                    await bar.write_dword(entry + 4 * dword, value)
                await self.set_mask(vector, True)
                await Timer(300, "ns")
                await self.set_mask(vector, False)
            self.rewrites += 1
