"""The RTL DMA engine through real NVMe commands.

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

import cocotb
import pyuvm
from cocotb.triggers import Timer

from firmware.mailbox import CtrlStatus
from models.nvme_commands import read_cmd, write_cmd
from models.nvme_spec import GenericStatus, Status, SubmissionEntry
from tb.data_pointers import PAGE, HostTransfer
from tb.dma_test import DTE, LBA, MDTS_BYTES, NSID, DmaTest
from tb.pcie_tb import MRRS_512, LinkConfig

TIMEOUT_MS = 40
QUIET_NS = 10_000
STATUS_POLL_NS = 2_000


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
class ResetDuringTransfers(DmaTest):
    """CC.EN=0 with 128 KiB writes in flight, one waiting on a completion the host never sends: CSTS.RDY
    falls once the engine has drained (the lost read timed out), no request follows it on RQ, every
    firmware wait on the DMA engine ends; re-enabled, the engine serves again."""

    async def body(self) -> None:
        lost = await self.pointer(MDTS_BYTES, high=False)
        target = lost.pieces[5].addr
        self.tb.dev.inject_read_fault(lambda addr, a=target: a <= addr < a + PAGE, "drop")
        transfers = [lost] + [await self.pointer(MDTS_BYTES, high=bool(i % 2)) for i in range(5)]
        nlb = MDTS_BYTES // LBA
        for i, t in enumerate(transfers):
            await self.queue.submit_many([dataclasses.replace(write_cmd(NSID, i * nlb, nlb), prp1=t.prp1,
                                                              prp2=t.prp2)])
        await Timer(5_000, "ns")
        assert self.dma.waiting, "the test needs DMA transfers in flight when the controller is disabled"
        seen: list[CtrlStatus] = []
        sampler = cocotb.start_soon(self.sample_ctrl_status(seen))
        await self.disable_and_watch(QUIET_NS)
        sampler.cancel()
        # what the firmware sees through the reset: serving, then draining (the lost read holds it for
        # the completion timeout), then disabled
        states = [(s.enabled, s.reset_in_progress) for s in seen]
        assert states[0] == (True, False) and (False, True) in states and states[-1] == (False, False), (
            f"FW_CTRL_STATUS (enabled, reset in progress) through the reset: {sorted(set(states))}")
        assert seen[-1].epoch == (seen[0].epoch + 1) % 256, "the controller reset did not advance the epoch"
        assert not self.dma.waiting, f"{self.dma.waiting} firmware DMA waits outlived the controller reset"
        await self.bring_up()
        await self.admin.set_num_queues(1, 1)
        self.queue = await self.admin.create_queue_pair(1, 32)
        self.next_lba = 64 * nlb
        await self.round_trip(MDTS_BYTES, high=True)
        await self.buffers.check_guards()


    async def sample_ctrl_status(self, seen: list[CtrlStatus]) -> None:
        while True:
            seen.append(await self.firmware.mailbox.ctrl_status())
            await Timer(STATUS_POLL_NS, "ns")


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

    @staticmethod
    def faulted_page(t: HostTransfer) -> int:
        """The host page whose read the host answers badly: one of the command's data pages."""
        return t.pieces[3].addr

    async def body(self) -> None:
        for kind in ("ur", "ca", "poison", "drop"):
            t = await self.buffers.prp(8 * PAGE, 0, list_offset=0)
            target = self.faulted_page(t)
            fault = self.tb.dev.inject_read_fault(lambda addr, a=target: a <= addr < a + PAGE, kind)
            status = await self.run(write_cmd(NSID, 4096, 64), t, forced=DTE)
            assert status == DTE, f"{kind}: {status}"
            assert fault.remaining == 0, f"{kind}: the faulted read never happened"
            await self.round_trip(2 * PAGE, high=False)
        await self.buffers.check_guards()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class PrpListReadErrors(HostReadErrors):
    """The same faults on the read of the command's PRP list: the walk ends with Data Transfer Error
    (a lost list read after the completion timeout), and no entry is ever taken from a failed read."""

    @staticmethod
    def faulted_page(t: HostTransfer) -> int:
        return t.prp2
