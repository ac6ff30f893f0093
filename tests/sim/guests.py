"""Guest VMs, each assigned a controller of its own, and LeapIO's runtime serving them (issue 16).

Every function of the build is a controller assigned to a guest VM of its
own (``IommuConfig.vm``): the guest's driver runs on guest-physical memory,
through its vIOMMU under its own policy (stage 1), over the host IOMMU's
stage 2 for that guest (models/iommu/nested.py). Each guest's commands,
data and interrupts go through its controller's own scoreboards
(tb.controllers.ControllersTest), its requests land only in its own memory
(RequesterIds), and its walks, invalidations and VM exits are counted in
its own domain, where they must be what its policy does and nothing else.

In LeapIO's arrangement the guests write their doorbells to shadow pages in
their own memory, and the SoC firmware polls every guest's pages through
translated requests (PCIe ATS, firmware/nvme/ats.py and tb/ats_agent.py).
"""

from __future__ import annotations

import dataclasses
import random
from functools import partial

import cocotb
import pyuvm

from firmware.nvme.ats import AddressTranslationCache
from models.iommu import DmaDirection, DmaPolicy, FlushQueueConfig, GuestDmaApi, IommuCounters, VmConfig
from models.iommu.pagetable import LEVELS
from models.nvme_commands import read_cmd, write_cmd
from tb.command_sequences import run_all
from tb.controllers import Controller, ControllersTest
from tb.data_pointers import DataPointerBuilder
from tb.iommu_seam import FaultAccount, IommuConfig
from tb.nvme_queues import NvmeQueue
from tb.shadow_doorbells import ShadowDoorbellPages

BUILD_PARAMETERS = {"FUNCTIONS": 4, "IO_QUEUES": 15, "QUEUE_POOL": 32}

TIMEOUT_MS = 20
NSID, LBA, PAGE = 1, 512, 4096
DEPTH = 16
ROUNDS = 6                 # write and read back, per guest
MOST_PAGES = 8             # per transfer: PRP lists too
GUEST_POLICIES = (DmaPolicy.STRICT, DmaPolicy.LAZY, DmaPolicy.PASSTHROUGH)
LAZY_BATCH = 8             # unmaps per lazy flush
SHADOW_DEPTH = 4           # entries of a queue whose doorbells go through the shadow pages: wraps every two rounds
POLL_NS = 2000
NESTED_READS = LEVELS * (LEVELS + 1) + LEVELS   # a stage-2 walk of each stage-1 table, then of the leaf


class GuestsTest(ControllersTest):
    """One guest per policy, each owning controller f (function f) with its policy from GUEST_POLICIES."""

    functions_used = len(GUEST_POLICIES)
    # a short flush queue, so that the lazy guest flushes (and traps) a few times in a test
    iommu = IommuConfig(vm=VmConfig(), policies=GUEST_POLICIES, flush_queue=FlushQueueConfig(size=LAZY_BATCH))

    def api(self, ctrl: Controller) -> GuestDmaApi:
        api = self.tb.dmas[ctrl.function].api
        assert isinstance(api, GuestDmaApi), f"function {ctrl.function} is not in a guest: {api}"
        return api

    def counters(self, ctrl: Controller) -> IommuCounters:
        """What the IOMMU has counted in the guest's domain so far."""
        iommu = self.tb.iommu_seam.iommu
        return iommu.domain_counters.get(self.api(ctrl).domain.domain_id, IommuCounters()).snapshot()

    async def round_trips(self, ctrl: Controller, queue: NvmeQueue, rng: random.Random) -> int:
        """Write and read back random data through buffers the guest maps per command, as its driver does
        (TO_DEVICE for the Write, FROM_DEVICE for the Read, unmapped at completion under its policy)."""
        buffers = DataPointerBuilder(self.tb, rng, ctrl.function, partial(self.requesters.own, ctrl.function))
        for n in range(ROUNDS):
            length = PAGE * rng.randint(1, MOST_PAGES)
            data = rng.randbytes(length)
            slba = (ctrl.function * 16 + queue.qid) * 1024 + n * MOST_PAGES * PAGE // LBA
            write = await buffers.prp(length, 0, direction=DmaDirection.TO_DEVICE)
            read = await buffers.prp(length, 0, direction=DmaDirection.FROM_DEVICE)
            await buffers.fill(write, data)
            for sqe, transfer in ((write_cmd(NSID, slba, length // LBA), write),
                                  (read_cmd(NSID, slba, length // LBA), read)):
                (cqe,) = await run_all(queue, [dataclasses.replace(sqe, prp1=transfer.prp1, prp2=transfer.prp2)])
                assert cqe.status.is_success, f"guest {ctrl.function}: {cqe}"
                await buffers.release(transfer)
            assert await buffers.read(read) == data, f"guest {ctrl.function}: LBA {slba} read back differs"
        await buffers.check_guards()
        return ROUNDS


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class GuestsServeUnderTheirOwnPolicies(GuestsTest):
    """Three guests at once, strict, lazy and passthrough on their vIOMMUs, each writing and reading back
    its own LBAs through buffers it maps per command. Each guest has a VM, a stage 2 and a domain of its
    own; each one's data passes its own scoreboards; and each domain's counters show its policy's mechanics
    and no other's: strict one invalidation per unmap and lazy one per flush (a batch of 8 unmaps), each a VM exit first; every
    miss of a guest with a stage-1 table a 24-read nested walk, of the passthrough guest a walk of stage 2
    alone; the passthrough guest invalidates nothing."""

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        apis = [self.api(ctrl) for ctrl in self.ctrls]
        assert len({id(api.vm) for api in apis}) == len({id(api.vm.stage2) for api in apis}) == len(apis), (
            "the guests share a VM or a stage-2 table")
        assert [api.policy for api in apis] == list(GUEST_POLICIES), [api.policy for api in apis]
        assert [api.domain.page_table is None for api in apis] == [
            p is DmaPolicy.PASSTHROUGH for p in GUEST_POLICIES], "a stage-1 table where the policy says none"
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}
        before = {ctrl.function: (self.counters(ctrl), dataclasses.replace(self.api(ctrl).stats))
                  for ctrl in self.ctrls}
        tasks = [cocotb.start_soon(self.round_trips(ctrl, queues[ctrl.function], random.Random(rng.getrandbits(64))))
                 for ctrl in self.ctrls]
        assert sum([await task for task in tasks]) == ROUNDS * len(tasks)
        for ctrl in self.ctrls:
            counters, stats = before[ctrl.function]
            self.check_mechanics(ctrl, self.counters(ctrl) - counters, stats)
            assert ctrl.checks.data_scoreboard.reads_checked >= ROUNDS, (
                f"guest {ctrl.function}: its data scoreboard checked {ctrl.checks.data_scoreboard.reads_checked}")
            assert ctrl.msix.counts[queues[ctrl.function].qid] > 0, f"guest {ctrl.function}: no I/O interrupt"
        per_function = self.requesters.check()
        assert sorted(per_function) == [ctrl.function for ctrl in self.ctrls], f"requesters {dict(per_function)}"

    def check_mechanics(self, ctrl: Controller, c: IommuCounters, before) -> None:
        api = self.api(ctrl)
        unmaps = api.stats.unmaps - before.unmaps
        traps = api.stats.traps - before.traps
        flushes = sum(getattr(api.stats, f) - getattr(before, f)
                      for f in ("fq_flushes_full", "fq_flushes_timer", "fq_flushes_explicit"))
        what = f"guest {ctrl.function} ({api.policy.value}): {c}, {unmaps} unmaps, {traps} traps"
        assert c.faults == 0 and c.page_walks == c.iotlb_misses > 0 and unmaps >= 2 * ROUNDS, what
        assert traps == c.invalidations, f"every guest invalidation traps first: {what}"
        if api.policy is DmaPolicy.PASSTHROUGH:
            assert c.invalidations == 0 and c.walk_reads == LEVELS * c.page_walks, what
            return
        assert c.walk_reads == NESTED_READS * c.page_walks, what
        if api.policy is DmaPolicy.STRICT:
            assert c.invalidations == unmaps, what
        else:
            assert 0 < c.invalidations == flushes <= unmaps // LAZY_BATCH, what


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class GuestQueuesPolledThroughAts(GuestsTest):
    """LeapIO's runtime serving the three guests at once: each guest's driver writes its doorbell updates to
    shadow pages in its own memory and rings MMIO only where the EventIdx asks, and each controller's
    firmware polls its guest's pages every 2 us through translated requests (PCIe ATS) that name its own
    function. Each guest's data pass its own scoreboards; most updates reach the controllers through the
    shadow pages alone; every invalidation of a guest's domain (strict's per unmap, lazy's per flush) reaches
    that guest's controller's translation cache and no other's, and a lazy flush, which takes back the
    whole domain, costs its cache a new Translation Request; and no translated request goes anywhere a
    translation in force does not grant."""

    def controller_firmware(self, mailbox, function: int):
        firmware = super().controller_firmware(mailbox, function)
        firmware.shadow_poll_ns = POLL_NS
        firmware.atc = AddressTranslationCache(firmware.dma, firmware.dram)
        return firmware

    async def setup(self) -> None:
        await super().setup()
        for ctrl in self.ctrls:
            self.tb.iommu_seam.ats.enable(int(self.tb.funcs[ctrl.function].pcie_id), self.atc(ctrl))

    def atc(self, ctrl: Controller) -> AddressTranslationCache:
        return self.firmware.controllers[ctrl.function].atc

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        pages = {}
        for ctrl in self.ctrls:
            pages[ctrl.function] = ShadowDoorbellPages(self.tb, ctrl.driver.cap.doorbell_stride, seed=rng.getrandbits(32),
                                                       function=ctrl.function)
            for addr, _ in (pages[ctrl.function].doorbells, pages[ctrl.function].event_idx):
                self.requesters.own(ctrl.function, addr, PAGE)
            await ctrl.admin.configure_shadow_doorbells(pages[ctrl.function])
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, SHADOW_DEPTH))[0] for ctrl in self.ctrls}
        before = {ctrl.function: (self.counters(ctrl).invalidations, self.atc(ctrl).invalidated) for ctrl in self.ctrls}
        tasks = [cocotb.start_soon(self.round_trips(ctrl, queues[ctrl.function], random.Random(rng.getrandbits(64))))
                 for ctrl in self.ctrls]
        assert sum([await task for task in tasks]) == ROUNDS * len(tasks)
        for ctrl in self.ctrls:
            fn, atc = ctrl.function, self.atc(ctrl)
            shadow = self.firmware.controllers[fn].shadow
            assert shadow is not None and shadow.failures == 0 and shadow.rung > 0, (
                f"guest {fn}: {shadow and shadow.failures} sweeps failed, {shadow and shadow.rung} doorbells rung")
            assert pages[fn].mmio < pages[fn].updates // 2, f"guest {fn}: {pages[fn].mmio} of {pages[fn].updates} rang MMIO"
            invalidations = self.counters(ctrl).invalidations - before[fn][0]
            told = atc.invalidated - before[fn][1]
            assert told == invalidations, f"guest {fn}: {invalidations} invalidations of its domain, its cache told {told}"
            # two pages: asked for once, unless a lazy flush (the whole domain) took them back, each time at most
            # twice more (a request the flush passed on the link is asked again)
            asked = atc.translation_requests
            if self.api(ctrl).policy is DmaPolicy.LAZY:
                assert 2 < asked <= 2 + 3 * invalidations, f"guest {fn}: {asked} Translation Requests, {invalidations} flushes"
            else:
                assert asked == 2, f"guest {fn}: {asked} Translation Requests for its two pages"
            assert ctrl.checks.data_scoreboard.reads_checked >= ROUNDS
        assert not self.tb.iommu_seam.ats.violations, self.tb.iommu_seam.ats.violations
        self.requesters.check()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class GuestsCannotReachEachOther(GuestsTest):
    """The strict and the lazy guest hand their controllers the same bus addresses for memory of their own
    (the IOVAs of their admin SQs), each reaching its own. The passthrough guest's controller addresses
    guest-physical memory directly, and its stage 2 backs only its own: aimed at the strict guest's buffer
    by that buffer's GPA, a Write fails with Data Transfer Error, a Read's data is dropped, both faults
    are logged under its requester id, the buffer keeps its bytes, and the other guests run on meanwhile."""

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        faults = FaultAccount(self.tb.iommu_seam.iommu.fault_log)
        owner, neighbour, intruder = self.ctrls
        self.assert_one_address_two_memories(owner, neighbour)
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}
        theirs = await self.buffer(owner, 1)
        before = rng.randbytes(PAGE)
        await self.tb.rc.mem_address_space.write(theirs.addr, before)
        target = theirs.addr + self.api(owner).vm.config.gpa_offset    # the owner's GPA of its buffer
        self.assert_unreachable(intruder, target)
        others = [cocotb.start_soon(self.round_trips(ctrl, queues[ctrl.function], random.Random(rng.getrandbits(64))))
                  for ctrl in (owner, neighbour)]
        queue = queues[intruder.function]
        await self.intrude(intruder, queue, 0, target, faults)
        assert sum([await task for task in others]) == 2 * ROUNDS
        assert bytes(await self.tb.rc.mem_address_space.read(theirs.addr, PAGE)) == before, (
            "the passthrough guest's DMA changed the strict guest's buffer")
        assert await self.round_trips(intruder, queue, rng) == ROUNDS
        faults.check_all_seen()
        self.requesters.check()
