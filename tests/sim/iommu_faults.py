"""IOMMU faults during real NVMe commands, stale IOTLB entries, and isolation between domains.

A translation fault never touches host memory: the controller's read is
answered with Unsupported Request, which the RTL DMA engine turns into Data
Transfer Error, and its write is dropped. A dropped write is a posted
request with no reply, so the controller cannot see it: a Read command
whose data the IOMMU drops completes successfully, exactly as on real
hardware, and only the IOMMU's fault log tells. Every host buffer is
guarded; the bytes of a refused target must stay as they were; the next
command must succeed; every fault logged must be one the test expects.

Stale entries: after an unmap, lazy leaves the IOTLB entry usable until its
flush queue is invalidated (after Linux's 10 ms flush timer: the idle wait
costs little with the clock stopped), strict never does.

Isolation: a second PCIe device, in a domain of its own, and the controller
aim DMA at each other's buffers by bus address and by physical address.
"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import Timer
from cocotb.utils import get_sim_time

from models.iommu import DmaDirection, DmaPolicy, FaultCause, FlushQueueConfig
from models.nvme_commands import read_cmd, write_cmd
from models.prp import Segment
from tb.data_pointers import GUARD, HostTransfer
from tb.device_dram import NoHostMemory
from tb.dma_test import DTE, NSID, PAGE, IommuDmaTest
from tb.iommu_seam import IommuConfig

TIMEOUT_MS = 40
BLOCKS_PER_PAGE = PAGE // 512
# LBAs of commands the test makes fail: never read back, as their data is undefined after the error
FAILED_LBA = 4096


class FaultTest(IommuDmaTest):
    """Helpers: a guarded target with known contents, and the check that a refused command left it so."""

    async def target(self, pages: int, direction: DmaDirection) -> tuple[HostTransfer, bytes]:
        transfer = await self.buffers.prp(pages * PAGE, 0, direction=direction)
        before = self.rng.randbytes(pages * PAGE)
        await self.buffers.fill(transfer, before)
        return transfer, before

    async def assert_untouched(self, transfer: HostTransfer, before: bytes, why: str) -> None:
        assert await self.buffers.read(transfer) == before, f"{why}: the refused DMA changed the buffer"

    async def unmap_piece(self, transfer: HostTransfer, bus: int) -> None:
        """The host unmaps one of the command's pages before the command runs (a driver bug)."""
        transfer.mappings.remove(bus)
        await self.tb.dma.unmap(bus)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ReadsRefused(FaultTest):
    """The controller's reads of an unmapped data page (Write command) and of an unmapped PRP list (Read
    command) get Unsupported Request: Data Transfer Error, and nothing lands in the pages behind the list."""

    async def body(self) -> None:
        t, _ = await self.target(8, DmaDirection.TO_DEVICE)
        await self.unmap_piece(t, t.bus[3])
        status = await self.run(write_cmd(NSID, FAILED_LBA, 8 * BLOCKS_PER_PAGE), t)
        assert status == DTE, f"Write with an unmapped data page: {status}"
        self.expect_faults(FaultCause.NOT_PRESENT, is_write=False, pages=[t.bus[3]])

        t, before = await self.target(4, DmaDirection.FROM_DEVICE)
        await self.unmap_piece(t, t.mappings[-1])   # the PRP list
        status = await self.run(read_cmd(NSID, 0, 4 * BLOCKS_PER_PAGE), t)
        assert status == DTE, f"Read with an unmapped PRP list: {status}"
        self.expect_faults(FaultCause.NOT_PRESENT, is_write=False, pages=[t.prp2 & ~(PAGE - 1)])
        # PRP1's page is mapped and may hold data (NVMe leaves a failed Read's buffer undefined); the
        # pages behind the list were never learned
        got = await self.buffers.read(t)
        assert got[PAGE:] == before[PAGE:], "Read with an unmapped PRP list: data landed behind the list"

        await self.round_trip(2 * PAGE, high=True)
        await self.buffers.check_guards()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class WritesDropped(FaultTest):
    """A Read command's data writes to an unmapped page and to a page mapped read-only (DMA_TO_DEVICE)
    are dropped and logged; the buffer keeps its bytes; the command itself completes successfully."""

    async def body(self) -> None:
        await self.round_trip(PAGE, high=False)    # LBA 0.. holds data to read
        t, before = await self.target(1, DmaDirection.FROM_DEVICE)
        page = t.bus[0]
        await self.unmap_piece(t, page)
        status = await self.run(read_cmd(NSID, 0, BLOCKS_PER_PAGE), t, unchecked=True)
        assert status.is_success, f"a dropped posted write cannot fail the command: {status}"
        self.expect_faults(FaultCause.NOT_PRESENT, is_write=True, pages=[page])
        await self.assert_untouched(t, before, "Read into an unmapped page")

        t, before = await self.target(2, DmaDirection.TO_DEVICE)
        status = await self.run(read_cmd(NSID, 0, 2 * BLOCKS_PER_PAGE), t, unchecked=True)
        assert status.is_success, status
        self.expect_faults(FaultCause.WRITE_TO_READ_ONLY, is_write=True, pages=t.bus)
        await self.assert_untouched(t, before, "Read into read-only pages")

        await self.round_trip(2 * PAGE, high=True)
        await self.buffers.check_guards()


class StaleEntry(FaultTest):
    """A Read's buffer, unmapped at its completion, is read into again through the same bus address:
    lazy lets it land through the stale IOTLB entry until the flush, strict never."""

    iommu = IommuConfig(policy=DmaPolicy.STRICT)

    async def read_into(self, t: HostTransfer, slba: int) -> bytes:
        """Read one page at ``slba`` into ``t`` (whose mapping may be gone) over fresh host contents;
        returns those contents."""
        fresh = self.rng.randbytes(PAGE)
        await self.buffers.fill(t, fresh)
        status = await self.run(read_cmd(NSID, slba, BLOCKS_PER_PAGE), t, unchecked=True)
        assert status.is_success, status
        return fresh

    async def body(self) -> None:
        data = self.rng.randbytes(PAGE)
        w, _ = await self.target(1, DmaDirection.TO_DEVICE)
        await self.buffers.fill(w, data)
        assert (await self.run(write_cmd(NSID, 0, BLOCKS_PER_PAGE), w)).is_success

        t, _ = await self.target(1, DmaDirection.FROM_DEVICE)
        assert (await self.run(read_cmd(NSID, 0, BLOCKS_PER_PAGE), t)).is_success   # unmapped at completion
        assert await self.buffers.read(t) == data
        stale = t.bus[0]
        fresh = await self.read_into(t, 0)
        got = await self.buffers.read(t)
        if self.iommu.policy is DmaPolicy.LAZY:
            assert got == data and not self.faults.take(), "lazy: the stale entry must still reach the page"
            await self.wait_for_flush()
            fresh = await self.read_into(t, 0)
            got = await self.buffers.read(t)
        assert got == fresh, "a DMA reached a page after its unmap was invalidated"
        self.expect_faults(FaultCause.NOT_PRESENT, is_write=True, pages=[stale])
        await self.buffers.check_guards()

    async def wait_for_flush(self) -> None:
        """The flush timer's batched invalidation (bounded by its own deadline)."""
        deadline = self.api.next_flush_ns
        assert deadline is not None and self.api.pending_unmaps > 0, "lazy: nothing waits for a flush"
        await Timer(deadline - int(get_sim_time("ns")) + 1000, "ns")
        assert self.api.pending_unmaps == 0 and self.api.stats.fq_flushes_timer == 1, self.api.stats


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class LazyStaleEntryUntilFlush(StaleEntry):
    iommu = IommuConfig(policy=DmaPolicy.LAZY, flush_queue=FlushQueueConfig())


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class StrictNeverStale(StaleEntry):
    iommu = IommuConfig(policy=DmaPolicy.STRICT)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DomainIsolation(FaultTest):
    """A second device in a domain of its own; neither reaches the other's buffer, by bus or physical
    address, while each reaches its own."""

    def build_phase(self) -> None:
        super().build_phase()
        self.tb.add_peer()

    async def setup(self) -> None:
        await super().setup()
        self.peer = self.tb.peer.functions[0]
        self.peer_rid = int(self.peer.pcie_id)
        # IOVAs of its own, far from the controller's, so that no number is live in both domains
        self.peer_dma = self.tb.iommu_seam.dma_api(self.peer_rid, DmaPolicy.STRICT, dma_limit=1 << 36)
        assert self.peer_dma.domain.domain_id != self.api.domain.domain_id

    async def body(self) -> None:
        theirs = await self.buffers.region(3 * PAGE) + PAGE        # a page between guard pages
        self.buffers.pieces.append(Segment(theirs, PAGE))          # checked here, not as a guard
        their_bus = self.peer_dma.map(theirs, PAGE, DmaDirection.BIDIRECTIONAL).iova
        own = b"the peer's own data, in its own domain".ljust(64)
        await self.peer.mem_write(their_bus, own)                 # the peer reaches its own buffer
        assert await self.peer.mem_read(their_bus, len(own), timeout=20, timeout_unit="us") == own
        for target in (their_bus, theirs):
            await self.controller_refused(target)
        got = bytes(await self.tb.rc.mem_address_space.read(theirs, PAGE))
        assert got == own + bytes([GUARD]) * (PAGE - len(own)), "the controller reached the other domain's page"

        ours, before = await self.target(1, DmaDirection.FROM_DEVICE)
        for target in (ours.bus[0], ours.pieces[0].addr):
            await self.peer_refused(target)
        await self.assert_untouched(ours, before, "the peer's DMA")
        await self.buffers.release(ours)
        await self.round_trip(2 * PAGE, high=False)
        await self.buffers.check_guards()

    async def controller_refused(self, target: int) -> None:
        """A Read into and a Write from ``target``, which the controller's domain does not map."""
        try:
            self.tb.bus_peek(target, 1)
        except NoHostMemory:
            pass
        else:
            raise AssertionError(f"{target:#x} is mapped in the controller's domain too")
        t = HostTransfer(target, 0, 0, [], [target])
        page = target & ~(PAGE - 1)
        status = await self.run(read_cmd(NSID, 0, BLOCKS_PER_PAGE), t, unchecked=True)
        assert status.is_success, status
        self.expect_faults(FaultCause.NOT_PRESENT, is_write=True, pages=[page])
        status = await self.run(write_cmd(NSID, FAILED_LBA, BLOCKS_PER_PAGE), t)
        assert status == DTE, f"Write from the other domain's buffer: {status}"
        self.expect_faults(FaultCause.NOT_PRESENT, is_write=False, pages=[page])

    async def peer_refused(self, target: int) -> None:
        """The peer writes to and reads from ``target``, the controller's buffer."""
        page = target & ~(PAGE - 1)
        await self.peer.mem_write(target, b"\xff" * 64)
        await self.faults.wait_for(1)
        self.expect_faults(FaultCause.NOT_PRESENT, is_write=True, pages=[page], rid=self.peer_rid)
        try:
            await self.peer.mem_read(target, 64, timeout=20, timeout_unit="us")
        except Exception as err:   # cocotbext-pcie raises a bare Exception for a UR completion
            assert "Unsuccessful completion" in str(err), f"the peer's read of {target:#x}: {err}"
        else:
            raise AssertionError(f"the peer read the controller's buffer at {target:#x}")
        self.expect_faults(FaultCause.NOT_PRESENT, is_write=False, pages=[page], rid=self.peer_rid)
