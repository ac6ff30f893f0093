"""Shadow doorbells (Doorbell Buffer Config, admin 7Ch) through the firmware and the queue engine.

The host writes every I/O doorbell update to its shadow page and rings the
MMIO doorbell only when the controller's EventIdx asks for it (Linux's
dbbuf); the firmware reads the shadow page through the DMA engine's
host-buffer requests and rings the queue table's compare-and-set doorbell
(firmware/nvme/shadow_doorbells.py). Random I/O with data runs on queue
pairs of 2, 3 and 8 entries and on an SQ of 8 entries whose CQ holds 2
(full, as the controller sees it, until a sweep finds the head the host
wrote to the shadow page alone), through several wraps each, on a SoC slow
enough that the host updates doorbells while the firmware sweeps; every
scoreboard is on, and each test asserts that doorbells really went through
the shadow page alone.
"""

from __future__ import annotations

import random
import struct

from collections.abc import Awaitable
from typing import TypeVar

import cocotb
import pyuvm
from cocotb.triggers import ClockCycles, RisingEdge

from firmware.nvme.ats import AddressTranslationCache
from firmware.nvme.ports import AddressType, DmaDirection
from firmware.soc import SocConfig
from models.iommu import DmaPolicy
from models.identify import OACS_DOORBELL_BUFFER_CONFIG
from models.nvme_commands import doorbell_buffer_config_cmd, get_log_page_cmd
from models.nvme_logs import LogId, parse_command_effects
from models.nvme_spec import AdminOpcode, GenericStatus, Status, SubmissionEntry
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer, assert_still_pending
from tb.iommu_seam import IommuConfig
from tb.nvme_queues import NvmeQueue, SubmissionQueue
from tb.random_io import LbaLocks, RandomIo, Window
from tb.sequences import io_command
from tb.shadow_doorbells import ShadowDoorbellPages

TIMEOUT_MS = 100
WINDOW_BYTES = 128 * 1024
DEPTHS = (2, 3, 8)
NARROW_SQ, NARROW_CQ = 8, 2     # the SQ and CQ depths of the queue after the pairs
QUEUES = len(DEPTHS) + 1
LAPS = 3                 # each queue wraps this many times (where a test does not say fewer)
QUIET_NS = 20_000        # long enough for the firmware to have fetched, had it been rung
IDENTIFY_OACS = 256      # byte offset of OACS in Identify Controller
INVALID_FIELD = Status.of(GenericStatus.INVALID_FIELD)
T = TypeVar("T")


class ShadowDoorbellTest(CommandSetTest):
    """CommandSetTest whose host configures shadow doorbells before it creates its I/O queues."""

    soc = SocConfig(cores=2, cycles={"default": 300, "read": 600, "write": 900})

    def pages(self, mmio_always: float = 0.0) -> ShadowDoorbellPages:
        """Fresh pages; ``mmio_always``: the share of updates that ring MMIO too, whatever the EventIdx says."""
        return ShadowDoorbellPages(self.tb, self.driver.cap.doorbell_stride, mmio_always,
                                   seed=random.getrandbits(32))

    async def random_io_on_new_queues(self, rng: random.Random, laps: int = LAPS) -> list[SubmissionQueue]:
        """Queue pairs of every depth in DEPTHS and the narrow-CQ queue, each SQ driven through ``laps`` wraps of
        random I/O, all at once."""
        pairs = [await self.admin.create_queue_pair(qid, depth) for qid, depth in enumerate(DEPTHS, 1)]
        narrow = await self.admin.create_cq(QUEUES, NARROW_CQ)
        queues = [q.sq for q in pairs] + [await self.admin.create_sq(QUEUES, NARROW_SQ, narrow)]
        windows = [Window(ns, WINDOW_BYTES // ns.lba_size) for ns in self.config.namespaces]
        io = RandomIo(self.tb, rng, windows, LbaLocks(), self.env.reference.model.read_shadow)
        tasks = [cocotb.start_soon(io.drive(sq, laps * sq.depth + 1, min(sq.depth - 1, 4))) for sq in queues]
        for task in tasks:
            await task
        return queues

    async def shadow_round(self, rng: random.Random, laps: int = LAPS, mmio_always: float = 0.0,
                           rung_before: int = 0) -> ShadowDoorbellPages:
        """Fresh pages configured, then new queues driven through ``laps`` wraps on them; the pages, once the
        doorbells are seen to have gone through them (``rung_before``: what the firmware had rung before)."""
        pages = self.pages(mmio_always)
        await self.admin.configure_shadow_doorbells(pages)
        await self.random_io_on_new_queues(rng, laps)
        self.assert_shadow_carried(pages, rung_before)
        return pages

    def assert_shadow_carried(self, pages: ShadowDoorbellPages, before: int = 0) -> None:
        """Some updates reached the controller through the shadow page alone, and it rang them itself."""
        shadow = self.firmware.shadow
        assert shadow is not None and shadow.failures == 0, f"{shadow and shadow.failures} sweeps failed"
        assert pages.mmio < pages.updates, f"all {pages.updates} doorbell updates rang MMIO"
        assert shadow.rung > before, "the firmware rang no doorbell from the shadow page"
        assert not self.firmware.async_events, f"doorbell errors: {self.firmware.async_events}"
        assert not self.firmware.internal_errors, self.firmware.internal_errors
        self.logger.info("%d doorbell updates, %d by MMIO; the firmware rang %d in %d sweeps",
                         pages.updates, pages.mmio, shadow.rung, shadow.sweeps)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ShadowOnlyAtEveryWrap(ShadowDoorbellTest):
    """Every queue through LAPS wraps, MMIO only where the EventIdx asks for it."""

    async def body(self) -> None:
        await self.admin.set_num_queues(QUEUES, QUEUES)
        await self.shadow_round(random.Random(random.getrandbits(64)))
        self.assert_checked(reads=1)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ShadowPolled(ShadowDoorbellTest):
    """Polling mode (LeapIO's runtime): the firmware sweeps every 2 us whatever happens and keeps each EventIdx
    one behind, so most updates reach it through the shadow page alone; the rest ring MMIO where an update
    wraps past the EventIdx."""

    def make_firmware(self, dut):
        firmware = super().make_firmware(dut)
        firmware.shadow_poll_ns = 2000
        return firmware

    async def body(self) -> None:
        await self.admin.set_num_queues(QUEUES, QUEUES)
        pages = await self.shadow_round(random.Random(random.getrandbits(64)), laps=2)
        assert pages.mmio < pages.updates // 2, f"{pages.mmio} of {pages.updates} updates rang MMIO"
        assert self.firmware.shadow is not None and self.firmware.shadow.busy_ns > 0


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ShadowPolledThroughAts(ShadowDoorbellTest):
    """LeapIO's runtime under a strict IOMMU: the polling core reaches the shadow pages by translated requests
    (PCIe ATS), one Translation Request per page and then translated reads and writes that the IOMMU lets
    through untouched. After a controller reset the host frees the old pages, and strict hands their IOVAs
    out again at once for the new pages, at other physical addresses: each unmap's invalidation reaches the
    firmware's address translation cache (an Invalidate Request, whose Completion the host waits for), and
    the firmware translates the reused IOVAs again. Had it kept the old translations it would read the old
    page, left full of plausible doorbell values; the root complex's checker refuses and logs any translated
    request that no translation in force grants."""

    iommu = IommuConfig(policy=DmaPolicy.STRICT)

    def make_firmware(self, dut):
        firmware = super().make_firmware(dut)
        firmware.shadow_poll_ns = 2000
        firmware.atc = AddressTranslationCache(firmware.dma, firmware.dram)
        return firmware

    async def setup(self) -> None:
        await super().setup()
        self.tb.iommu_seam.ats.enable(int(self.tb.func.pcie_id), self.firmware.atc)

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        atc, agent, shadow = self.firmware.atc, self.tb.iommu_seam.ats, self.firmware.shadow
        await self.admin.set_num_queues(QUEUES, QUEUES)
        old = await self.shadow_round(rng, laps=1)
        assert atc.translation_requests == agent.translation_requests == 2, (
            f"{atc.translation_requests} Translation Requests for the two pages")
        assert atc.hits > 2 * shadow.sweeps and agent.translated >= 3 * shadow.sweeps, (
            f"{shadow.sweeps} sweeps: {atc.hits} translations from the cache, {agent.translated} translated requests")
        await self.disable_and_watch(QUIET_NS)
        await self.bring_up()
        # the host frees the old pages: strict invalidates each, the firmware's translation of it with it
        for _, bus in (old.doorbells, old.event_idx):
            await self.tb.dma.unmap(bus)
        assert atc.invalidated == agent.invalidate_requests == 2 and not atc.entries, (
            f"{atc.invalidated} Invalidate Requests answered, {len(atc.entries)} translations left")
        await self.tb.rc.mem_address_space.write(old.doorbells[0], struct.pack("<256I", *([1] * 256)))
        await self.admin.set_num_queues(QUEUES, QUEUES)
        new = await self.shadow_round(rng, laps=2, rung_before=shadow.rung)
        assert {new.doorbells[1], new.event_idx[1]} == {old.doorbells[1], old.event_idx[1]}, (
            "strict did not hand the freed IOVAs out again: nothing here would catch a stale translation")
        assert atc.translation_requests == 4, f"{atc.translation_requests} Translation Requests"
        assert not agent.violations, agent.violations


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FirmwareRequestsTheEngineRefuses(ShadowDoorbellTest):
    """The DMA requests the firmware may not make end without a memory request: an Address Type on a request
    that moves a command's data, and the reserved Address Type 3, with Internal Error; a host-buffer request
    for a controller the build does not have (DMA_CTRL.FN_SEL), with Command Abort Requested. The same
    host-buffer read with none of these moves the page."""

    async def body(self) -> None:
        pages = self.pages()
        await self.admin.configure_shadow_doorbells(pages)
        shadow, dma = self.firmware.shadow, self.firmware.dma
        assert shadow is not None
        slot, scratch, host = shadow._slot, shadow.scratch, pages.doorbells[1]
        requests: list[float] = []
        self.tb.rq_observers.append(lambda tlp, t: requests.append(t))

        async def read(**kwargs) -> GenericStatus:
            result = await dma.transfer(slot, DmaDirection.HOST_TO_DEVICE, 0, PAGE, scratch, PAGE, **kwargs)
            return result.code

        assert await read(address_type=AddressType.TRANSLATED) == GenericStatus.INTERNAL_ERROR
        assert await read(host_addr=host, address_type=3) == GenericStatus.INTERNAL_ERROR
        assert await read(host_addr=host, requester=self.tb.params.FUNCTIONS) == GenericStatus.ABORT_REQUESTED
        assert not requests, f"{len(requests)} memory requests from refused DMA requests"
        await self.tb.rc.mem_address_space.write(pages.doorbells[0], b"\x5a" * PAGE)
        assert await read(host_addr=host, requester=0) == GenericStatus.SUCCESS and requests
        assert await self.firmware.dram.read(scratch, PAGE) == b"\x5a" * PAGE


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ShadowAfterReset(ShadowDoorbellTest):
    """A controller reset forgets the pages: afterwards the old page full of plausible doorbell values is
    never read, MMIO doorbells alone work, and configuring new pages brings shadow doorbells back, here with
    half of the updates also rung by MMIO when the EventIdx does not ask: both kinds mixed."""

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        await self.admin.set_num_queues(QUEUES, QUEUES)
        old = await self.shadow_round(rng, laps=1)
        await self.disable_and_watch(QUIET_NS)
        await self.bring_up()
        # values each new queue would accept: if the firmware still read this page, it would ring them
        await self.tb.rc.mem_address_space.write(old.doorbells[0], struct.pack("<256I", *([1] * 256)))
        shadow = self.firmware.shadow
        assert shadow is not None and not shadow.enabled, "shadow doorbells survived the controller reset"
        sweeps, rung = shadow.sweeps, shadow.rung
        await self.admin.set_num_queues(QUEUES, QUEUES)
        queues = await self.random_io_on_new_queues(rng, laps=1)
        assert (shadow.sweeps, shadow.rung) == (sweeps, rung), "the firmware swept after the reset"
        assert all(sq.mmio_doorbells and sq.shadow is None for sq in queues), "MMIO doorbells were not used"
        for sq in queues:
            await self.admin.delete_sq(sq)
        for sq in queues:
            await self.admin.delete_cq(sq.cq)
        await self.shadow_round(rng, laps=2, mmio_always=0.5, rung_before=rung)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ShadowConfigErrors(ShadowDoorbellTest):
    """OACS and the effects log offer the command; either buffer off a page boundary, or an SGL, is Invalid
    Field and leaves shadow doorbells off."""

    async def body(self) -> None:
        oacs = struct.unpack_from("<H", await self.identify(1), IDENTIFY_OACS)[0]
        assert oacs & OACS_DOORBELL_BUFFER_CONFIG, f"OACS {oacs:#06x}: Doorbell Buffer Config not offered"
        buf = await HostBuffer.alloc(self.tb, 1)
        await self.admin.execute(get_log_page_cmd(LogId.COMMANDS_SUPPORTED, PAGE, prp1=buf.bus))
        admin_effects, _ = parse_command_effects(bytes(await self.tb.rc.mem_address_space.read(buf.addr, PAGE)))
        assert AdminOpcode.DOORBELL_BUFFER_CONFIG in admin_effects, sorted(admin_effects)
        pages = self.pages()
        good = pages.config_cmd()
        bad = [doorbell_buffer_config_cmd(good.prp1 + 4, good.prp2),
               doorbell_buffer_config_cmd(good.prp1, good.prp2 + 512),
               SubmissionEntry(good.opcode, psdt=1, prp1=good.prp1, prp2=good.prp2)]
        for sqe in bad:
            await self.admin.execute(sqe, INVALID_FIELD)
            assert not self.firmware.shadow.enabled, f"{sqe}: shadow doorbells on after Invalid Field"
        await self.admin.configure_shadow_doorbells(pages)
        assert self.firmware.shadow.enabled


class UnheardPages(ShadowDoorbellPages):
    """Shadow pages the host writes and the controller was never given: no update rings MMIO."""

    async def update(self, index: int, old: int, new: int) -> bool:
        await super().update(index, old, new)
        return False


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FirmwareDoorbellIsCompareAndSet(ShadowDoorbellTest):
    """The queue table's firmware doorbell (Q_SQ_DOORBELL) applies only if the tail still holds EXPECT,
    and is checked like a host's, but one for a queue that does not exist is silently dropped (the sweep
    may race a deletion): driven here through the firmware's own mailbox, on a queue whose host never
    rings MMIO."""

    async def silent_queue(self, qid: int) -> NvmeQueue:
        """A queue pair whose host writes SQ tails to a shadow page the controller was never given, and never
        rings MMIO for them: only the firmware's doorbell can start its commands."""
        queue = await self.admin.create_queue_pair(qid, 8)
        queue.sq.shadow = UnheardPages(self.tb, self.driver.cap.doorbell_stride)
        return queue

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.silent_queue(1)
        cids = await queue.submit_many([io_command() for _ in range(3)])
        assert queue.sq.mmio_doorbells == 0, "the host rang MMIO"
        mailbox = self.firmware.mailbox
        await mailbox.ring(1, False, expect=1, value=3)      # the tail holds 0: no effect
        await assert_still_pending(queue, cids, QUIET_NS, "a compare-and-set with the wrong EXPECT applied")
        assert (await mailbox.doorbells(1)).sq_tail == 0
        await mailbox.ring(1, False, expect=0, value=9)      # beyond the queue: logged, no effect
        await assert_still_pending(queue, cids, QUIET_NS, "a doorbell beyond the queue size applied")
        assert [(e.qid, e.is_cq) for e in self.firmware.async_events] == [(1, False)], self.firmware.async_events
        self.firmware.async_events.clear()
        await mailbox.ring(QUEUES, True, expect=0, value=1)   # a queue that does not exist: no effect, no error
        await mailbox.ring(1, False, expect=0, value=3)
        await queue.wait_for(cids)
        assert (await mailbox.doorbells(1)).sq_tail == 3
        assert not self.firmware.async_events, f"a missing queue's doorbell was logged: {self.firmware.async_events}"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FirmwareDoorbellWaitsBehindMmio(FirmwareDoorbellIsCompareAndSet):
    """A firmware doorbell that reaches the queue table in the same cycle as a host's MMIO doorbell waits a
    cycle and still applies: the firmware's ring is started at every offset around the host's write until
    the two meet, and each time the silent queue's command must run."""

    OFFSETS = range(-16, 17)   # clock cycles between the host's MMIO write and the firmware's ring

    async def body(self) -> None:
        await self.admin.set_num_queues(2, 2)
        silent, loud = await self.silent_queue(1), await self.admin.create_queue_pair(2, 8)
        design, mailbox = self.tb.design, self.firmware.mailbox
        collisions = 0

        async def watch() -> None:
            nonlocal collisions
            while True:
                await RisingEdge(design.user_clk)
                collisions += bool(design.db_valid.value and design.fw_db_valid.value)

        async def after(cycles: int, action: Awaitable[T]) -> T:
            await ClockCycles(design.user_clk, cycles)
            return await action

        watcher = cocotb.start_soon(watch())
        for offset in self.OFFSETS:
            tail = silent.sq.tail
            quiet = await silent.submit_many([io_command()])
            host = cocotb.start_soon(after(max(0, -offset), loud.submit_many([io_command()])))
            await after(max(0, offset), mailbox.ring(1, False, expect=tail, value=silent.sq.tail))
            await host
            await silent.wait_for(quiet)
            await loud.wait_for(host.result())
        watcher.cancel()
        assert collisions, f"no offset in {self.OFFSETS} put the two doorbells in one cycle"
        assert silent.sq.mmio_doorbells == 0
