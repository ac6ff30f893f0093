"""The RTL DMA engine through real NVMe commands (issue 4).

Writes then reads back through the firmware, the mailbox DMA registers and
the RTL walker and data engines: PRP1 with random dword offsets, PRP2 as a
page and as a list, lists that chain, SGLs with many descriptors in chained
segments, 1 block up to MDTS, below and above 4 GiB. Every host buffer sits
among guard bytes that must stay untouched; data is compared byte for byte
(and by the data scoreboard); the TLP-rule checker watches every request.
Variants: back-pressure on every stream with a reordering, splitting host;
host read latency from zero to 3 us; invalid data pointers; host reads
answered with UR, CA, poison or nothing.
"""

from __future__ import annotations

import dataclasses
import random

import cocotb
import pyuvm

from models.nvme_commands import read_cmd, write_cmd
from models.nvme_spec import GenericStatus, Status, SubmissionEntry
from tb.base_test import CommandSetTest
from tb.data_pointers import PAGE, DataPointerBuilder, HostTransfer
from tb.pcie_tb import MRRS_512, LinkConfig

TIMEOUT_MS = 40
MDTS_BYTES = 128 * 1024
NSID, LBA = 1, 512
DTE = Status.of(GenericStatus.DATA_TRANSFER_ERROR, dnr=True)


class DmaTest(CommandSetTest):
    """Round trips of host buffers through the device; knobs: ``link``, ``cases``, ``sgl``."""

    link = LinkConfig(root_mrrs_code=MRRS_512)
    cases = 10
    sgl = False

    def expected_status(self):
        # commands whose host reads the test makes fail; the rest from the reference model
        self.forced: dict[tuple[int, int], Status] = {}
        return lambda sqid, cid: self.forced.get((sqid, cid)) or self.env.reference.expected_status(sqid, cid)

    async def setup(self) -> None:
        await super().setup()
        self.rng = random.Random(cocotb.RANDOM_SEED)
        self.buffers = DataPointerBuilder(self.tb, self.rng)
        await self.admin.set_num_queues(4, 4)
        self.queue = await self.admin.create_queue_pair(1, 32)
        self.next_lba = 0

    async def pointer(self, length: int, high: bool) -> HostTransfer:
        if self.sgl:
            blocks = self.rng.randint(1, min(40, length // 4))
            return await self.buffers.sgl(length, blocks, self.rng.randint(1, 8), high)
        return await self.buffers.prp(length, 4 * self.rng.randrange(PAGE // 4), high,
                                      list_offset=self.rng.choice((0, 0, PAGE - 24, PAGE - 64)))

    async def run(self, sqe: SubmissionEntry, transfer: HostTransfer, forced: Status | None = None) -> Status:
        """The command on ``transfer``'s data pointer; ``forced``: the status the test makes it end with."""
        sqe = dataclasses.replace(sqe, prp1=transfer.prp1, prp2=transfer.prp2, psdt=transfer.psdt)
        (cid,) = await self.queue.submit_many([sqe])
        if forced is not None:
            self.forced[(self.queue.qid, cid)] = forced
        (cqe,) = await self.queue.wait_for([cid])
        return cqe.status

    async def round_trip(self, length: int, high: bool) -> None:
        data = self.rng.randbytes(length)
        slba, self.next_lba = self.next_lba, self.next_lba + length // LBA
        wt, rt = await self.pointer(length, high), await self.pointer(length, not high)
        await self.buffers.fill(wt, data)
        status = await self.run(write_cmd(NSID, slba, length // LBA), wt)
        assert status.is_success, f"write of {length} bytes: {status}"
        status = await self.run(read_cmd(NSID, slba, length // LBA), rt)
        assert status.is_success, f"read of {length} bytes: {status}"
        got = await self.buffers.read(rt)
        assert got == data, f"{length} bytes read back differ from those written (first at byte "\
                            f"{next(i for i, (a, b) in enumerate(zip(got, data)) if a != b)})"

    async def body(self) -> None:
        lengths = [LBA, MDTS_BYTES] + [LBA * self.rng.randint(1, MDTS_BYTES // LBA) for _ in range(self.cases - 2)]
        for i, length in enumerate(lengths):
            await self.round_trip(length, high=bool(i % 2))
        await self.buffers.check_guards()
        assert self.dma.transfers >= 2 * len(lengths), f"only {self.dma.transfers} DMA transfers seen"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class PrpRoundTrips(DmaTest):
    pass


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class SglRoundTrips(DmaTest):
    sgl = True


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class PacedReorderingHost(DmaTest):
    """Back-pressure and idle cycles on the PCIe streams and all five DRAM channels; completions split at
    every RCB and reordered by jitter."""

    pacing_seed = 7
    link = LinkConfig(root_mrrs_code=MRRS_512, host_read_jitter_ns=600, split_completions=True)
    cases = 6


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class InstantHost(DmaTest):
    link = LinkConfig(root_mrrs_code=MRRS_512, host_read_latency_ns=0)
    cases = 4


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class SlowHost(DmaTest):
    link = LinkConfig(root_mrrs_code=MRRS_512, host_read_latency_ns=3000, host_read_jitter_ns=1000)
    cases = 4


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ManyInFlight(DmaTest):
    """24 transfers of 32 KiB at once from three queues: the walker waits on the data engines, requests
    queue behind it, the request queue fills and its pointers wrap; every byte still lands right."""

    QUEUES, DEPTH, LENGTH = 3, 8, 32 * 1024

    async def body(self) -> None:
        queues = [await self.admin.create_queue_pair(qid, 16) for qid in range(2, self.QUEUES + 2)]
        nlb = self.LENGTH // LBA
        jobs = [(q, i * nlb, self.rng.randbytes(self.LENGTH)) for i, q in enumerate(queues * self.DEPTH)]
        writes = [await self.pointer(self.LENGTH, high=False) for _ in jobs]
        reads = [await self.pointer(self.LENGTH, high=True) for _ in jobs]
        for t, (_, _, data) in zip(writes, jobs):
            await self.buffers.fill(t, data)
        for make, pointers in ((write_cmd, writes), (read_cmd, reads)):
            cids = {}
            for t, (q, slba, _) in zip(pointers, jobs):
                sqe = make(NSID, slba, nlb)
                (cids[id(t)],) = await q.submit_many([dataclasses.replace(sqe, prp1=t.prp1, prp2=t.prp2)])
            for t, (q, _, _) in zip(pointers, jobs):
                (cqe,) = await q.wait_for([cids[id(t)]])
                assert cqe.status.is_success, f"{make.__name__}: {cqe.status}"
        for t, (_, slba, data) in zip(reads, jobs):
            assert await self.buffers.read(t) == data, f"LBA {slba}: data read back differs"
        await self.buffers.check_guards()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class InvalidDataPointers(DmaTest):
    """PRP entries with forbidden offsets and bad SGL descriptors get the status the spec names."""

    async def expect(self, sqe: SubmissionEntry, transfer: HostTransfer, code: GenericStatus) -> None:
        status = await self.run(sqe, transfer)
        assert status == Status.of(code, dnr=True), f"{code.name} expected, got {status}"

    async def body(self) -> None:
        write = write_cmd(NSID, 0, 16)   # 8 KiB: PRP2 is the second page
        t = await self.buffers.prp(2 * PAGE, 0)
        await self.expect(write, dataclasses.replace(t, prp2=t.prp2 + 0x200), GenericStatus.PRP_OFFSET_INVALID)
        await self.expect(read_cmd(NSID, 0, 16), dataclasses.replace(t, prp1=t.prp1 + 2),
                          GenericStatus.PRP_OFFSET_INVALID)
        t = await self.buffers.prp(4 * PAGE, 0)
        entry = bytes(await self.tb.rc.mem_address_space.read(t.prp2 + 8, 8))
        await self.tb.rc.mem_address_space.write(t.prp2 + 8, (int.from_bytes(entry, "little") + 64).to_bytes(8, "little"))
        await self.expect(write_cmd(NSID, 0, 32), t, GenericStatus.PRP_OFFSET_INVALID)
        t = await self.buffers.prp(4 * PAGE, 0)
        await self.expect(read_cmd(NSID, 0, 32), dataclasses.replace(t, prp2=t.prp2 + 4),
                          GenericStatus.PRP_OFFSET_INVALID)
        t = await self.buffers.sgl(4 * PAGE, 1, 1)
        await self.expect(write_cmd(NSID, 0, 32), dataclasses.replace(t, prp2=t.prp2 & ~(0xFF << 56) | 0x50 << 56),
                          GenericStatus.SGL_DESCRIPTOR_TYPE_INVALID)
        t = await self.buffers.sgl(2 * PAGE, 1, 1)   # 8 KiB of SGL for a 16 KiB read
        await self.expect(read_cmd(NSID, 0, 32), t, GenericStatus.DATA_SGL_LENGTH_INVALID)
        t = await self.buffers.sgl(4 * PAGE, 6, 2)
        await self.expect(read_cmd(NSID, 0, 16), t, GenericStatus.DATA_SGL_LENGTH_INVALID)
        await self.round_trip(4 * PAGE, high=True)   # the engine goes on serving
        await self.buffers.check_guards()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class HostReadErrors(DmaTest):
    """A data read answered with UR, CA, a poisoned completion, or nothing: Data Transfer Error, no hang,
    nothing written outside the buffers, and the next command succeeds."""

    async def body(self) -> None:
        for kind in ("ur", "ca", "poison", "drop"):
            t = await self.buffers.prp(8 * PAGE, 0, list_offset=0)
            target = t.pieces[3].addr
            fault = self.tb.dev.inject_read_fault(lambda addr, a=target: a <= addr < a + PAGE, kind)
            status = await self.run(write_cmd(NSID, 4096, 64), t, forced=DTE)
            assert status == DTE, f"{kind}: {status}"
            assert fault.remaining == 0, f"{kind}: the faulted read never happened"
            await self.round_trip(2 * PAGE, high=False)
        await self.buffers.check_guards()
