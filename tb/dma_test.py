"""Round trips of host data through the RTL DMA engine by real NVMe commands: the base of the DMA tests.

``DmaTest`` builds guarded host buffers (tb.data_pointers) behind PRPs or
SGLs, mapped through the host's DMA API for the direction each command
moves data (so the same tests run with and without an IOMMU), runs Write
then Read back of random lengths and compares byte for byte; the
scoreboards check every completion and every read. Test modules vary it
by configuration: ``link``, ``cases``, ``sgl``, ``iommu``, ``pacing_seed``.
"""

from __future__ import annotations

import dataclasses
import random

import cocotb

from models.iommu import DmaApi, DmaDirection, DmaPolicy, FaultCause, Iommu
from models.nvme_commands import read_cmd, write_cmd
from models.nvme_spec import GenericStatus, Status, SubmissionEntry
from tb.base_test import CommandSetTest
from tb.data_pointers import PAGE, DataPointerBuilder, HostTransfer
from tb.iommu_seam import FaultAccount, IommuConfig
from tb.pcie_tb import MRRS_512, LinkConfig

MDTS_BYTES = 128 * 1024
NSID, LBA = 1, 512
DTE = Status.of(GenericStatus.DATA_TRANSFER_ERROR, dnr=True)


class DmaTest(CommandSetTest):
    """Round trips of host buffers through the device; knobs: ``link``, ``cases``, ``sgl``."""

    link = LinkConfig(root_mrrs_code=MRRS_512)
    cases = 10
    sgl = False

    async def setup(self) -> None:
        await super().setup()
        self.rng = random.Random(cocotb.RANDOM_SEED)
        self.buffers = DataPointerBuilder(self.tb, self.rng)
        await self.admin.set_num_queues(4, 4)   # ManyInFlight adds three queues
        self.queue = await self.admin.create_queue_pair(1, 32)
        self.next_lba = 0

    async def pointer(self, length: int, high: bool,
                      direction: DmaDirection = DmaDirection.BIDIRECTIONAL) -> HostTransfer:
        """A random data pointer for ``length`` bytes, mapped for ``direction`` under an IOMMU."""
        if self.sgl:
            blocks = self.rng.randint(1, min(40, length // 4))
            return await self.buffers.sgl(length, blocks, self.rng.randint(1, 8), high)
        return await self.buffers.prp(length, 4 * self.rng.randrange(PAGE // 4), high,
                                      list_offset=self.rng.choice((0, 0, PAGE - 24, PAGE - 64)),
                                      direction=direction)

    async def run(self, sqe: SubmissionEntry, transfer: HostTransfer, forced: Status | None = None,
                  unchecked: bool = False) -> Status:
        """The command on ``transfer``'s data pointer, whose buffers are unmapped at completion.
        ``forced``: the status the test makes it end with; ``unchecked``: its read data cannot land (the
        IOMMU drops it), so the data scoreboard must not look for it."""
        sqe = dataclasses.replace(sqe, prp1=transfer.prp1, prp2=transfer.prp2, psdt=transfer.psdt)
        (cid,) = await self.queue.submit_many([sqe])
        if forced is not None:
            self.forced[(self.queue.qid, cid)] = forced
        if unchecked:
            self.env.reference.take(self.queue.qid, cid)
        (cqe,) = await self.queue.wait_for([cid])
        await self.buffers.release(transfer)
        return cqe.status

    async def round_trip(self, length: int, high: bool) -> None:
        data = self.rng.randbytes(length)
        slba, self.next_lba = self.next_lba, self.next_lba + length // LBA
        wt = await self.pointer(length, high, DmaDirection.TO_DEVICE)
        rt = await self.pointer(length, not high, DmaDirection.FROM_DEVICE)
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


class IommuDmaTest(DmaTest):
    """DmaTest with the IOMMU between the root complex and host memory; ``iommu`` chooses the DMA-API
    policy and costs. Every fault the IOMMU logs must be one the test looked at (``expect_faults``)."""

    iommu = IommuConfig(policy=DmaPolicy.STRICT)
    cases = 5

    async def setup(self) -> None:
        await super().setup()
        assert self.tb.iommu_seam is not None and self.tb.dma.api is not None
        self.iommu_model: Iommu = self.tb.iommu_seam.iommu
        self.api: DmaApi = self.tb.dma.api
        self.rid = int(self.tb.func.pcie_id)
        self.faults = FaultAccount(self.iommu_model.fault_log)

    async def teardown(self) -> None:
        await super().teardown()
        self.faults.check_all_seen()

    def expect_faults(self, cause: FaultCause, is_write: bool, pages: list[int], rid: int | None = None) -> None:
        """The faults logged since the last look (FaultAccount.expect), by the controller's rid by default."""
        self.faults.expect(cause, is_write, pages, self.rid if rid is None else rid)
