"""tnvme's NVM and queue rules with the command set, data included: lbaOutOfRange, cidAccepted,
qIdVariations with maxIOQ, sqcqSizeMismatch.

What admin_errors and queue_full already cover with no-data commands
(illegal creates and deletes, full queues) is not repeated; these add real
reads and writes through the firmware on the same queue shapes. Statuses
and read data are checked by the scoreboards against the NVMe reference
model; each test asserts what it is about as well.
"""

from __future__ import annotations

import dataclasses
import random

import cocotb
import pyuvm

from models.identify import Cns
from models.nvme_commands import (DsmRange, compare_cmd, dsm_cmd, identify_cmd, read_cmd, write_cmd,
                                  write_zeroes_cmd)
from models.nvme_spec import (CommandSpecificStatus, FeatureId, GenericStatus, NvmOpcode, Status, SubmissionEntry,
                              create_io_cq, create_io_sq, get_features)
from tb.base_test import CommandSetTest
from tb.command_sequences import PAGE, HostBuffer, Queue, run_all, write_and_read_back

TIMEOUT_MS = 30
LAST_LBA = (1 << 64) - 1
INVALID_FIELD = Status.of(GenericStatus.INVALID_FIELD, dnr=True)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class LbaOutOfRange(CommandSetTest):
    """Read, Write, Compare, Write Zeroes and DSM ranges at and past the end of both namespaces (NSZE,
    NSZE-1 with 2 blocks, LBA 2^64-1 alone and wrapping) fail with LBA Out of Range; the last LBA works."""

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 32)
        buf = await HostBuffer.alloc(self.tb, 2)
        ranges = await HostBuffer.alloc(self.tb, 1)
        bad: list[SubmissionEntry] = []
        for ns in self.config.namespaces:
            for slba, nlb in ((ns.nlbas, 1), (ns.nlbas - 1, 2), (LAST_LBA, 1), (LAST_LBA, 2)):
                prps = buf.prps(nlb * ns.lba_size)
                bad += [read_cmd(ns.nsid, slba, nlb, *prps), write_cmd(ns.nsid, slba, nlb, *prps),
                        compare_cmd(ns.nsid, slba, nlb, *prps), write_zeroes_cmd(ns.nsid, slba, nlb)]
        await self.tb.rc.mem_address_space.write(ranges.addr, DsmRange(0, 8).pack() + DsmRange(
            self.config.namespace(1).nlbas - 4, 8).pack())
        bad.append(dsm_cmd(1, 2, *ranges.prps(32)))
        for sqe, cqe in zip(bad, await run_all(queue, bad)):
            assert cqe.status.same_code(Status.of(GenericStatus.LBA_OUT_OF_RANGE)), (
                f"opcode {sqe.opcode:#x} NSID {sqe.nsid} CDW10-12 {sqe.cdw10:#x} {sqe.cdw11:#x} {sqe.cdw12:#x}: "
                f"{cqe.status}")
        rng = random.Random(3)
        for ns in self.config.namespaces:
            await write_and_read_back(self.tb, queue, ns.nsid, ns.nlbas - 1, rng.randbytes(ns.lba_size),
                                      ns.lba_size, buf, buf)
        await self.admin.delete_queue_pair(queue)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class CidAccepted(CommandSetTest):
    """Any CID the host picks comes back in its CQE: across the wrap from FFFEh to 0 and bit patterns,
    on the admin queue and on an I/O queue, several in flight."""

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        buf = await HostBuffer.alloc(self.tb, 1)
        for sq, sqe in ((self.admin.queue.sq, get_features(FeatureId.ARBITRATION)),
                        (queue.sq, read_cmd(2, 7, 1, *buf.prps(PAGE)))):
            for first, count, expected in ((0xFFFB, 6, [0xFFFB, 0xFFFC, 0xFFFD, 0xFFFE, 0, 1]),
                                           (0x5555, 1, [0x5555]), (0xAAAA, 1, [0xAAAA]), (0x7FFF, 2, [0x7FFF, 0x8000])):
                sq.use_cids_from(first)
                cqes = await run_all(sq, [sqe] * count)
                assert [c.cid for c in cqes] == expected and all(c.status.is_success for c in cqes), (
                    f"SQ {sq.qid}: CIDs {[hex(c.cid) for c in cqes]}, statuses {[str(c.status) for c in cqes]}")
        await self.admin.delete_queue_pair(queue)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class QidVariationsUpToMaxIoq(CommandSetTest):
    """Number of Queues asks for FFFEh and is granted what the controller has (maxIOQ); queue ids at the
    top of that range, SQ ids that differ from their CQ's, two SQs on one CQ, all carrying data; one
    beyond the grant is Invalid Queue Identifier."""

    async def body(self) -> None:
        pairs = self.controller_params.queue_count - 1
        granted = await self.admin.set_num_queues(0xFFFF, 0xFFFF)
        assert granted == (pairs, pairs), f"asked for every queue, granted {granted}, the controller has {pairs}"
        top_cq = await self.admin.create_cq(pairs, 8)
        low_cq = await self.admin.create_cq(1, 8)
        sqs = [await self.admin.create_sq(pairs, 8, low_cq), await self.admin.create_sq(1, 8, top_cq),
               await self.admin.create_sq(pairs // 2, 4, top_cq)]
        ring = self.tb.alloc_dma(PAGE)
        for sqe in (create_io_cq(pairs + 1, 7, ring, iv=1), create_io_sq(pairs + 1, 7, ring, cqid=1)):
            cqe = await self.admin.execute(sqe, expect=None)
            assert cqe.status.same_code(Status.of(CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)), cqe.status
        rng = random.Random(5)
        wbuf, rbuf = await HostBuffer.alloc(self.tb, 4), await HostBuffer.alloc(self.tb, 4)
        for i, sq in enumerate(sqs):
            await write_and_read_back(self.tb, sq, 2, 100 * i, rng.randbytes(4 * PAGE), PAGE, wbuf, rbuf)
        for sq in sqs:
            await self.admin.delete_sq(sq)
        for cq in (top_cq, low_cq):
            await self.admin.delete_cq(cq)


async def writes_then_reads(test: CommandSetTest, queue: Queue, nsid: int, first_lba: int, count: int,
                            rng: random.Random) -> None:
    """``count`` one-page writes to consecutive pages, all in flight, then their reads, compared."""
    lba_size = test.config.namespace(nsid).lba_size
    nlb = PAGE // lba_size
    mem = test.tb.rc.mem_address_space
    data = [rng.randbytes(PAGE) for _ in range(count)]
    wbufs = [await HostBuffer.alloc(test.tb, 1) for _ in range(count)]
    rbufs = [await HostBuffer.alloc(test.tb, 1) for _ in range(count)]
    for buf, block in zip(wbufs, data):
        await mem.write(buf.addr, block)
    lbas = [first_lba + i * nlb for i in range(count)]
    writes = await run_all(queue, [write_cmd(nsid, lba, nlb, *b.prps(PAGE)) for lba, b in zip(lbas, wbufs)])
    reads = await run_all(queue, [read_cmd(nsid, lba, nlb, *b.prps(PAGE)) for lba, b in zip(lbas, rbufs)])
    assert all(c.status.is_success for c in writes + reads), [str(c.status) for c in writes + reads]
    for lba, buf, block in zip(lbas, rbufs, data):
        assert bytes(await mem.read(buf.addr, PAGE)) == block, f"SQ {queue.qid} NSID {nsid} LBA {lba}: differs"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class SqCqSizeMismatch(CommandSetTest):
    """An SQ of 32 on a CQ of 2 (the CQ fills, completions wait in the firmware) and an SQ of 2 on a CQ
    of 32, both busy at once with writes then reads of 40 pages each."""

    async def body(self) -> None:
        await self.admin.set_num_queues(2, 2)
        small_cq = await self.admin.create_cq(1, 2)
        big_cq = await self.admin.create_cq(2, 32)
        wide_sq = await self.admin.create_sq(1, 32, small_cq)
        narrow_sq = await self.admin.create_sq(2, 2, big_cq)
        rng = random.Random(7)
        tasks = [cocotb.start_soon(writes_then_reads(self, sq, nsid, 0, 40, random.Random(rng.random())))
                 for sq, nsid in ((wide_sq, 1), (narrow_sq, 2))]
        for task in tasks:
            await task
        assert self.firmware.completions_deferred > 0, "the CQ of 2 never filled"
        for sq in (wide_sq, narrow_sq):
            await self.admin.delete_sq(sq)
        for cq in (small_cq, big_cq):
            await self.admin.delete_cq(cq)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ReservedCdw0Fields(CommandSetTest):
    """FUSE 01b, 10b (fused operations: Identify FUSES is 0) and the reserved 11b on Read and Write, and
    PSDT 11b (reserved) on Flush, Read and Write, fail with Invalid Field in Command, as do SGLs and the
    reserved PSDT on admin commands (PRPs only); nothing moves, and a plain Read and Write work after."""

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 32)
        buf = await HostBuffer.alloc(self.tb, 1)
        nsid, lba_size = 2, self.config.namespace(2).lba_size
        plain = [read_cmd(nsid, 0, 1, *buf.prps(lba_size)), write_cmd(nsid, 0, 1, *buf.prps(lba_size))]
        bad = [dataclasses.replace(sqe, fuse=fuse) for sqe in plain for fuse in (1, 2, 3)]
        bad += [dataclasses.replace(sqe, psdt=3) for sqe in plain + [SubmissionEntry(NvmOpcode.FLUSH, nsid=nsid)]]
        requests: list[int] = []
        self.tb.rq_observers.append(lambda tlp, t: requests.append(t) if tlp.address == buf.addr else None)
        for sqe, cqe in zip(bad, await run_all(queue, bad)):
            assert cqe.status.same_code(INVALID_FIELD), (
                f"opcode {sqe.opcode:#x} FUSE {sqe.fuse:02b} PSDT {sqe.psdt:02b}: {cqe.status}")
        assert not requests, f"{len(requests)} DMA requests to the buffer of refused commands"
        for psdt in (1, 2, 3):
            await self.admin.execute(dataclasses.replace(identify_cmd(Cns.CONTROLLER, 0, *buf.prps(PAGE)),
                                                         psdt=psdt), expect=INVALID_FIELD)
        await write_and_read_back(self.tb, queue, nsid, 7, bytes(range(256)) * (lba_size // 256), lba_size,
                                  buf, buf)
        await self.admin.delete_queue_pair(queue)
