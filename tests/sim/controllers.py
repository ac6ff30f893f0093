"""Several NVMe controllers in one subsystem, one per PCIe physical function (issue 15).

Each function is brought up by its own driver as its own controller and
served by the shared queue engine, DMA engine and firmware; every
function's commands, data and interrupts go through that function's own
scoreboards (tb.controllers.ControllersTest), and every request the design
makes names as requester the function whose memory it reaches. A reset or
a shutdown of one controller leaves the others serving, and nothing moves
for a controller after its CSTS.RDY reads 0. Under an IOMMU each function
is a domain of its own, and nothing crosses between them.
"""

from __future__ import annotations

import random

import cocotb
import pyuvm
from cocotb.simtime import get_sim_time
from cocotb.triggers import Timer

from contract import nvme_bar0 as bar0
from models.identify import (CMIC_MULTI_CONTROLLER, OACS_DOORBELL_BUFFER_CONFIG, Cns, IdentifyController,
                             controller_list, parse_controller_list, parse_namespace_list)
from models.iommu import DmaPolicy
from models.nvme_commands import (identify_cmd, ns_attachment_cmd, ns_create_cmd,
                                  ns_create_data, ns_delete_cmd, read_cmd, write_cmd)
from firmware.mailbox import DoorbellErrorKind
from firmware.soc import SocConfig
from models.nvme_spec import (CommandSpecificStatus, FeatureId, GenericStatus, Status, arbitration_dword,
                              coalescing_dword, create_io_cq)
from tb.base_test import SETTLE_NS, mask_vector
from tb.command_sequences import HostBuffer, assert_still_pending, run_all, write_and_read_back
from tb.controllers import Controller, ControllersTest
from tb.iommu_seam import FaultAccount, IommuConfig
from tb.nvme_queues import sq_tail_doorbell
from tb.sequences import io_command, stream_commands

BUILD_PARAMETERS = {"FUNCTIONS": 4, "IO_QUEUES": 15, "QUEUE_POOL": 32}

TIMEOUT_MS = 20
NSID = 1
LBA = 512
CHUNK_LBAS = 8                # 4 KiB per write
DEPTH = 16
BIG_WRITE = 32 * 1024
PAGE = 4096
PENDING_WINDOW_NS = 20_000
QUOTA_DEPTH = 64              # 63 reads outstanding per SQ, 315 in all against 64 command slots
QUOTA_WINDOW_NS = 100_000
CFS_WAIT_NS = 100_000         # beyond the fetch's completion timeout (about 53 us)
COALESCING_TIME_NS = 200_000  # beyond an aggregation time of 100 us, well short of 1 ms
POOL_DEPTH = 4                # entries of each queue when every queue id of the pool is in use
ARB_DEPTH = 128               # room for every command slot's command and a backlog
ARB_BACKLOG = 30
ARB_WINDOW = 18               # fetches of one controller measured, while all its SQs have entries
PRIO_HIGH, PRIO_LOW = 1, 3
ARB_COMMAND_CYCLES = 2000     # 2 us of firmware per command


def lba_base(ctrl: Controller, qid: int) -> int:
    """A controller's queue writes its own LBAs of the shared namespace."""
    return (ctrl.function * 16 + qid) * 1024


class ControllerIo(ControllersTest):
    """Write and read back 4 KiB chunks on a controller's queues."""

    async def io_rounds(self, ctrl: Controller, queue, rounds: int, rng: random.Random) -> int:
        wbuf, rbuf = await self.buffer(ctrl, 1), await self.buffer(ctrl, 1)
        for n in range(rounds):
            data = rng.randbytes(CHUNK_LBAS * LBA)
            await write_and_read_back(self.tb, queue, NSID, lba_base(ctrl, queue.qid) + n * CHUNK_LBAS, data, LBA,
                                      wbuf, rbuf)
        return rounds

    def start_background(self, ctrls: list[Controller], queues: dict, rng: random.Random) -> list:
        """Rounds on each of ``ctrls`` until ``stop_background``; ``self.rounds`` counts them per function."""
        self.running = True
        self.rounds = {ctrl.function: 0 for ctrl in ctrls}
        return [cocotb.start_soon(self._rounds(ctrl, queues[ctrl.function], random.Random(rng.getrandbits(64))))
                for ctrl in ctrls]

    async def _rounds(self, ctrl: Controller, queue, rng: random.Random) -> None:
        while self.running:
            self.rounds[ctrl.function] += await self.io_rounds(ctrl, queue, 1, rng)

    async def more_rounds(self, count: int) -> None:
        """Until every background controller has run ``count`` more rounds."""
        target = {fn: n + count for fn, n in self.rounds.items()}
        while any(self.rounds[fn] < n for fn, n in target.items()):
            await Timer(1, "us")

    async def stop_background(self, tasks: list) -> None:
        self.running = False
        for task in tasks:
            await task


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class EveryControllerServes(ControllerIo):
    """All controllers at once: each identifies as its own CNTLID in a subsystem of several (CMIC bit 1),
    with Doorbell Buffer Config (OACS bit 8; tests/sim/guests.py uses it), and lists the
    subsystem's controllers (Identify CNS 13h, from CDW10.CNTID on), creates its queues and
    writes and reads back its own LBAs on two queues; each one's completions, data and interrupts pass its
    own scoreboards, and every request names its owner."""

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        everyone = [ctrl.function for ctrl in self.ctrls]
        for ctrl in self.ctrls:
            identify = IdentifyController.unpack(await self.identify_controller(ctrl))
            assert identify.cntlid == ctrl.function, f"function {ctrl.function}: CNTLID {identify.cntlid}"
            assert identify.cmic & CMIC_MULTI_CONTROLLER, f"function {ctrl.function}: CMIC {identify.cmic:#x}"
            assert identify.oacs & OACS_DOORBELL_BUFFER_CONFIG, f"function {ctrl.function}: OACS {identify.oacs:#x}"
            # the subsystem's Controller List, from CDW10.CNTID on: each sees every controller, its own included
            for first in (0, ctrl.function):
                listed = await self.subsystem_controllers(ctrl, first)
                assert listed == everyone[first:], f"function {ctrl.function}: CNS 13h from {first}: {listed}"
        queues = {ctrl.function: await self.queue_pairs(ctrl, 2, DEPTH) for ctrl in self.ctrls}
        tasks = [cocotb.start_soon(self.io_rounds(ctrl, queue, 3, random.Random(rng.getrandbits(64))))
                 for ctrl in self.ctrls for queue in queues[ctrl.function]]
        assert sum([await task for task in tasks]) == 3 * len(tasks)
        per_function = self.requesters.check()
        assert sorted(per_function) == [ctrl.function for ctrl in self.ctrls], f"requesters {dict(per_function)}"
        for ctrl in self.ctrls:
            io_messages = sum(ctrl.msix.counts[q.qid] for q in queues[ctrl.function])
            assert io_messages > 0, f"function {ctrl.function}: no MSI-X message on its I/O vectors"
            self.assert_checked_by(ctrl, reads=6)

    async def subsystem_controllers(self, ctrl: Controller, first: int) -> list[int]:
        """Identify CNS 13h through a controller: the subsystem's controllers from CNTLID ``first`` on."""
        buf = await self.buffer(ctrl, 1)
        await ctrl.admin.execute(identify_cmd(Cns.CONTROLLERS, 0, *buf.prps(PAGE), cntid=first))
        return parse_controller_list(bytes(await self.tb.rc.mem_address_space.read(buf.addr, PAGE)))

    def assert_checked_by(self, ctrl: Controller, reads: int) -> None:
        data = ctrl.checks.data_scoreboard
        assert data.reads_checked >= reads, (
            f"function {ctrl.function}: its data scoreboard checked {data.reads_checked} reads, expected {reads}")


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class QueuesDrawnFromThePool(ControllerIo):
    """The controllers' I/O queue pairs come from one pool: 32 queue table entries, four of them the admin
    queues, for four controllers of 15 queue ids each. Each is granted an equal share by default
    (Number of Queues); what some do not ask for, others get, up to all of a controller's queue ids, and
    then every queue of every controller serves at once, its CQEs naming its own SQ id and its interrupts
    on its controller's vector. A queue beyond the grant is Invalid Queue Identifier. A reset gives the
    controller's entries back, and re-enabled it is granted its share again. A doorbell of a deleted queue
    whose entry went to another controller is that of no queue: logged for its own controller, nothing
    fetched for the other."""

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        design = self.tb.params
        pool = design.queue_table_entries - design.FUNCTIONS
        share = min(design.IO_QUEUES, pool // design.FUNCTIONS)
        for ctrl in self.ctrls:
            assert await self.allocation(ctrl) == share, f"function {ctrl.function}: not granted its share"
        # two ask for one pair, one for every queue id, the last for as many: it gets what is left
        asked = {2: 1, 3: 1, 0: design.IO_QUEUES, 1: design.IO_QUEUES}
        granted = {fn: (await self.ctrls[fn].admin.set_num_queues(n, n))[0] for fn, n in asked.items()}
        left = pool - 2 - design.IO_QUEUES
        assert granted == {2: 1, 3: 1, 0: design.IO_QUEUES, 1: left}, f"granted {granted}"
        queues = {ctrl.function: await self.queue_pairs(ctrl, granted[ctrl.function], POOL_DEPTH)
                  for ctrl in self.ctrls}
        beyond = await self.create_cq(self.ctrls[1], left + 1)
        assert beyond.status.has(CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER), f"beyond the grant: {beyond}"
        await self.every_queue_serves(queues, rng)

        # controller 2's pair goes back to the pool, then controller 1's, and controller 1 draws again
        await self.ctrls[2].admin.delete_queue_pair(queues[2][0])
        victim = self.ctrls[1]
        pool = self.firmware.pool
        assert pool is not None
        held = {pool.entry(1, q.qid) for q in queues[1]}
        await self.reset(victim)
        await self.restart(victim)
        assert await self.allocation(victim) == share, "re-enabled, function 1 is not granted its share"
        queues[1] = await self.queue_pairs(victim, share, POOL_DEPTH)
        await self.stale_doorbell(self.ctrls[2], victim)
        # controller 2's pair again: it takes an entry controller 1 held before its reset, which unmapped it
        queues[2] = await self.queue_pairs(self.ctrls[2], 1, POOL_DEPTH)
        assert pool.entry(2, 1) in held, f"controller 2 drew entry {pool.entry(2, 1)}, not one of {held}"
        await self.every_queue_serves(queues, rng)
        self.requesters.check()

    async def allocation(self, ctrl: Controller) -> int:
        """I/O queue pairs the controller may create (Get Features Number of Queues), SQs and CQs alike."""
        dw0 = (await ctrl.admin.get_features(FeatureId.NUMBER_OF_QUEUES)).dw0
        assert dw0 & 0xFFFF == dw0 >> 16, f"function {ctrl.function}: Number of Queues {dw0:#010x}"
        return (dw0 & 0xFFFF) + 1

    async def create_cq(self, ctrl: Controller, qid: int):
        buf = await self.buffer(ctrl, 1)
        return await ctrl.admin.execute(create_io_cq(qid, POOL_DEPTH - 1, buf.bus, iv=qid), expect=None)

    async def every_queue_serves(self, queues: dict, rng: random.Random) -> None:
        """A write and read-back on every queue of every controller at once; each queue's vector signals."""
        before = {(ctrl.function, q.qid): ctrl.msix.counts[q.qid] for ctrl in self.ctrls
                  for q in queues.get(ctrl.function, [])}
        tasks = [cocotb.start_soon(self.io_rounds(ctrl, queue, 1, random.Random(rng.getrandbits(64))))
                 for ctrl in self.ctrls for queue in queues.get(ctrl.function, [])]
        assert sum([await task for task in tasks]) == len(tasks) == len(before)
        silent = [key for key, count in before.items() if self.ctrls[key[0]].msix.counts[key[1]] == count]
        assert not silent, f"(function, queue) with no MSI-X message on its own vector: {silent}"

    async def stale_doorbell(self, owner: Controller, other: Controller) -> None:
        """``owner``'s SQ 1 was deleted and its entry went to ``other``'s SQ 1: ``owner``'s doorbell of it is
        no queue's."""
        fw_owner, fw_other = self.firmware.controllers[owner.function], self.firmware.controllers[other.function]
        logged, fetched = len(fw_owner.async_events), fw_other.commands_per_sq[1]
        await owner.driver.regs.writel(sq_tail_doorbell(1, owner.driver.cap.doorbell_stride), 1)
        await Timer(SETTLE_NS, "ns")
        assert len(fw_owner.async_events) == logged + 1, f"function {owner.function}: no doorbell error logged"
        event = fw_owner.async_events[-1]
        assert (event.kind, event.qid, event.is_cq) == (DoorbellErrorKind.NO_SUCH_QUEUE, 1, False), event
        assert fw_other.commands_per_sq[1] == fetched, (
            f"function {owner.function}'s doorbell made function {other.function}'s SQ 1 fetch")


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class QueueMapRefusesWhatIsNotSafe(ControllersTest):
    """Q_MAP as the firmware drives it (the hardware/firmware contract): the hardware refuses, and changes
    nothing for, a map of an entry holding another controller's queues, an unmap of an entry with queues
    in it, a second entry for a pair, an admin queue's entry and a pair of queue id 0; a safe map applies
    and an unmap undoes it, and the queues already mapped serve on."""

    functions_used = 2

    async def body(self) -> None:
        queues = [(await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls]
        pool, mailbox = self.firmware.pool, self.firmware.mailbox
        assert pool is not None
        held, spare = pool.entry(0, 1), self.tb.params.queue_table_entries - 1
        assert held is not None and pool.locate(spare) is None, f"entry {spare} was drawn: pick another"
        refused = {"an entry with controller 0's queues, to controller 1": (held, 1, 5, True),
                   "an entry with queues in it, unmapped": (held, 0, 1, False),
                   "a second entry for controller 0's pair 1": (spare, 0, 1, True),
                   "controller 1's admin queue entry": (1, 0, 2, True),
                   "a pair of queue id 0": (spare, 1, 0, True)}
        for what, (entry, function, qid, mapped) in refused.items():
            assert not await mailbox.map_entry(entry, function, qid, mapped), f"Q_MAP took {what}"
        # a queue the firmware created in an unmapped entry keeps the entry from every pair until deleted
        await mailbox.create_cq(spare, queues[0].cq.dma_addr, DEPTH - 1, vector=0, ien=False)
        assert not await mailbox.map_entry(spare, 1, 5), "Q_MAP took an entry with a queue in it"
        await mailbox.delete_cq(spare)
        assert await mailbox.map_entry(spare, 1, 5), "Q_MAP refused a free entry for a new pair"
        assert await mailbox.map_entry(spare, 1, 5, mapped=False), "Q_MAP kept an empty entry mapped"
        for queue in queues:
            await stream_commands(queue, 2 * DEPTH, batch=DEPTH // 2)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ArbitrationPerController(ControllerIo):
    """Each controller's SQs are arbitrated by its own CC.AMS and Arbitration feature: function 0 by round
    robin, function 1 by weighted round robin with 8 high-priority commands to 1 low (function 0's weights
    are the other way round, unused by round robin). Each has a high and a low SQ. Every command slot is
    first taken by function 1's low SQ, with the firmware stalled; the other SQs are loaded, and each slot
    the firmware then frees is a fresh arbitration: function 0 alternates its SQs, function 1 takes about
    8 from its high SQ per 1 from its low one, and the controllers take turns."""

    functions_used = 2
    # each controller's SoC slower than a fetch's round trip, so that every fetch is a fresh arbitration
    # rather than whichever SQ has no read in flight
    soc = SocConfig(cycles={"default": ARB_COMMAND_CYCLES})

    def arbitration_mechanism(self, function: int) -> int:
        return int(function == 1)

    async def body(self) -> None:
        weights = {0: arbitration_dword(ab=0, hpw=0, lpw=7), 1: arbitration_dword(ab=0, hpw=7, lpw=0)}
        sqs = {}
        for ctrl in self.ctrls:
            await ctrl.admin.set_features(FeatureId.ARBITRATION, weights[ctrl.function])
            sqs[ctrl.function] = {prio: await ctrl.admin.create_queue_pair(qid, ARB_DEPTH, priority=prio)
                                  for qid, prio in ((1, PRIO_HIGH), (2, PRIO_LOW))}
            for queue in sqs[ctrl.function].values():
                self.requesters.own_queue(ctrl.function, queue)
        params = await self.firmware.mailbox.params()
        self.firmware.pause()
        orders = [fw.command_order for fw in self.firmware.controllers]
        start = [len(order) for order in orders]
        turns_from = len(self.firmware.function_order) + params.cmd_slots
        cids = {(1, PRIO_LOW): await sqs[1][PRIO_LOW].submit_many(
            [io_command() for _ in range(params.cmd_slots + ARB_BACKLOG)])}
        while (await self.firmware.mailbox.ctrl_status()).fifo_count < params.cmd_slots:
            await Timer(1, "us")
        for fn, prio in ((1, PRIO_HIGH), (0, PRIO_HIGH), (0, PRIO_LOW)):
            cids[fn, prio] = await sqs[fn][prio].submit_many([io_command() for _ in range(ARB_BACKLOG)])
        self.firmware.resume()
        for (fn, prio), sent in cids.items():
            await sqs[fn][prio].wait_for(sent)
        # after the slots function 1's low SQ took while the firmware was stalled
        first = {0: orders[0][start[0]:][:ARB_WINDOW], 1: orders[1][start[1] + params.cmd_slots:][:ARB_WINDOW]}
        turns = self.firmware.function_order[turns_from:][:2 * ARB_WINDOW]
        assert self.alternations(turns) >= 2 * ARB_WINDOW - 3, f"the controllers did not take turns: {turns}"
        assert self.alternations(first[0]) >= ARB_WINDOW - 3, f"function 0 (round robin) fetched its SQs {first[0]}"
        high = first[1].count(1)
        assert high >= ARB_WINDOW * 8 // 9 - 2, f"function 1 (8 high to 1 low) fetched its SQs {first[1]}"

    @staticmethod
    def alternations(order: list[int]) -> int:
        return sum(a != b for a, b in zip(order, order[1:]))


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ResetOneControllerWhileOthersRun(ControllerIo):
    """Function 1 is reset with writes in flight while the others write and read back: after its CSTS.RDY
    reads 0 no request of function 1 leaves the device, the others stay ready and lose nothing (their
    scoreboards see every completion and no stray interrupt), and function 1 serves again once
    re-enabled."""

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}
        victim = self.ctrls[1]
        background = self.start_background([c for c in self.ctrls if c is not victim], queues, rng)
        await self.io_rounds(victim, queues[1], 2, rng)
        buf = await self.buffer(victim, BIG_WRITE // PAGE)
        submitted_at = get_sim_time("ns")
        await queues[1].submit_many(self.big_writes(victim, buf, DEPTH - 1))
        # reset while the DMA engine reads the writes' data
        while not self.reads_of(buf, after_ns=submitted_at):
            await Timer(100, "ns")
        reset_at, rdy_low_at = await self.reset(victim)
        assert self.reads_of(buf, after_ns=reset_at), "function 1's data stopped before its reset: nothing drained"
        # the others keep going past the reset before they stop
        await self.more_rounds(2)
        await self.stop_background(background)
        late = self.requesters.of(1, after_ns=rdy_low_at)
        assert not late, f"{len(late)} requests of function 1 after its CSTS.RDY read 0, the first {late[0]}"
        csts = await self.status()
        assert [bar0.CSTS.RDY.get(c) for c in csts] == [int(c.function != 1) for c in self.ctrls], (
            f"CSTS per function: {[hex(c) for c in csts]}")
        await self.restart(victim)
        (queue,) = await self.queue_pairs(victim, 1, DEPTH)
        await self.io_rounds(victim, queue, 2, rng)
        self.requesters.check()

    def reads_of(self, buf: HostBuffer, after_ns: float) -> list[int]:
        """Addresses of function 1's requests into ``buf`` after ``after_ns``."""
        end = buf.addr + buf.pages * PAGE
        return [addr for addr, _ in self.requesters.of(1, after_ns) if buf.addr <= addr < end]

    def big_writes(self, ctrl: Controller, buf: HostBuffer, count: int) -> list:
        """Writes of all of ``buf`` to LBAs of the controller's queue 1 the rounds do not use: long enough to
        be moving when the reset comes."""
        nlb = BIG_WRITE // LBA
        return [write_cmd(NSID, lba_base(ctrl, 1) + 64 + n * nlb, nlb, *buf.prps(BIG_WRITE)) for n in range(count)]


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class PendingInterruptOutlivesAnotherReset(ControllerIo):
    """Function 2's CQEs on a masked vector leave its PBA bit set and send nothing; resetting function 1
    leaves that bit set, and the message comes once function 2 unmasks the vector: a reset forgets only
    what the reset function's own vectors gathered."""

    async def body(self) -> None:
        waiting, reset = self.ctrls[2], self.ctrls[1]
        queue = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}[2]
        vector = queue.qid
        await mask_vector(waiting.msix, waiting.checks, vector, True)
        sent = waiting.msix.counts[vector]
        await self.io_rounds(waiting, queue, 1, random.Random(random.getrandbits(64)))
        assert await waiting.msix.pending_bits() >> vector & 1, "function 2's masked vector has no pending bit"
        assert waiting.msix.counts[vector] == sent, "a message came on a masked vector"
        await self.reset(reset)
        assert await waiting.msix.pending_bits() >> vector & 1, "function 1's reset cleared function 2's pending bit"
        await mask_vector(waiting.msix, waiting.checks, vector, False)
        await waiting.msix.wait_count(vector, sent + 1, PENDING_WINDOW_NS)


class FetchFailsOneController(ControllerIo):
    """A read of function 1's SQ fails (``kind``: Unsupported Request, or no completion at all): function 1
    alone reports CSTS.CFS, the command slots the read took are given back (every slot the table marks
    taken is held by a controller), and the others stay ready, not fatal, and keep serving. A reset brings
    function 1 back (it must find no slot of its own held), and it serves again."""

    kind = "ur"

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}
        failing = self.ctrls[1]
        background = self.start_background([c for c in self.ctrls if c is not failing], queues, rng)
        await self.fail_fetch(failing, queues[1])
        await self.more_rounds(2)
        await self.stop_background(background)
        csts = await self.status()
        assert [bar0.CSTS.CFS.get(c) for c in csts] == [int(c is failing) for c in self.ctrls], (
            f"CSTS per function: {[hex(c) for c in csts]}")
        assert all(bar0.CSTS.RDY.get(c) for c in csts), f"CSTS per function: {[hex(c) for c in csts]}"
        await self.recover(failing)
        (queue,) = await self.queue_pairs(failing, 1, DEPTH)
        await self.io_rounds(failing, queue, 2, rng)
        self.assert_slots_accounted()

    async def fail_fetch(self, ctrl: Controller, queue) -> None:
        """A full SQ of reads behind one doorbell, whose first read (as many entries as a fetch takes)
        fails; until the controller's CSTS.CFS reads 1."""
        ring = queue.sq.addr, queue.sq.addr + queue.sq.depth * 64
        fault = self.tb.dev.inject_read_fault(lambda addr: ring[0] <= addr < ring[1], self.kind)
        buf = await self.buffer(ctrl, 1)
        await queue.submit_many([read_cmd(NSID, lba_base(ctrl, 1), CHUNK_LBAS, *buf.prps(PAGE))] * (DEPTH - 1))
        deadline = get_sim_time("ns") + CFS_WAIT_NS
        while not bar0.CSTS.CFS.get(await ctrl.driver.regs.readl(bar0.CSTS.OFFSET)):
            assert get_sim_time("ns") < deadline, (
                f"no CSTS.CFS of function {ctrl.function} {CFS_WAIT_NS} ns after its '{self.kind}'")
            await Timer(1, "us")
        assert fault.hits, "the fault never matched a fetch"

    async def recover(self, ctrl: Controller) -> None:
        """The way out of CSTS.CFS: a reset, then the controller brought up again."""
        await self.reset(ctrl)
        assert not bar0.CSTS.CFS.get(await ctrl.driver.regs.readl(bar0.CSTS.OFFSET)), "CFS survived the reset"
        await self.restart(ctrl)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FetchErrorFailsOneController(FetchFailsOneController):
    kind = "ur"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FetchTimeoutFailsOneController(FetchFailsOneController):
    kind = "drop"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FetchTimeoutsNeverUseUpTags(FetchFailsOneController):
    """More lost SQ reads of function 1's, one after another, than the fetch has read tags: each timed-out
    tag is out of use for a quarantine of another timeout, then back (the engines are never cleared with
    several controllers), so function 1 fails and comes back every time, and then every function serves."""

    kind = "drop"

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        failing = self.ctrls[1]
        for _ in range(self.tb.params.FETCH_TAGS + 1):
            (queue,) = await self.queue_pairs(failing, 1, DEPTH)
            await self.fail_fetch(failing, queue)
            await self.recover(failing)
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}
        for ctrl in self.ctrls:
            await self.io_rounds(ctrl, queues[ctrl.function], 1, rng)
        self.assert_slots_accounted()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class CoalescingPerController(ControllerIo):
    """Interrupt Coalescing is each controller's own feature. Function 0 sets THR 3 (time 1 ms): its eight
    completions make two messages. Function 1 sets THR 7 and 100 us: its four completions make none at
    first, then one when its time runs out. Function 2 sets nothing: a message for each of its eight.
    Each one's interrupt scoreboard checks its messages against its own setting."""

    async def body(self) -> None:
        gathering, timed, plain = self.ctrls[:3]
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}
        await gathering.admin.set_features(FeatureId.INTERRUPT_COALESCING, coalescing_dword(thr=3, time_100us=10))
        await timed.admin.set_features(FeatureId.INTERRUPT_COALESCING, coalescing_dword(thr=7, time_100us=1))
        before = {ctrl.function: ctrl.msix.counts[queues[ctrl.function].qid] for ctrl in self.ctrls}
        for ctrl, completions, batch, messages in ((gathering, 8, 8, 2), (timed, 4, 4, 0), (plain, 8, 1, 8)):
            queue = queues[ctrl.function]
            await stream_commands(queue, completions, batch=batch)
            await Timer(SETTLE_NS, "ns")
            sent = ctrl.msix.counts[queue.qid] - before[ctrl.function]
            assert sent == messages, (f"function {ctrl.function}: {completions} completions, {sent} messages, "
                                      f"expected {messages}")
        # function 1's aggregation time (100 us) ends its wait
        await timed.msix.wait_count(queues[timed.function].qid, before[timed.function] + 1, COALESCING_TIME_NS)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ShutdownOneController(ControllerIo):
    """A normal shutdown of function 0 completes (SHST 10b) while the others serve (RDY 1, SHST 00b, their
    data still moving); a command submitted to function 0 after that is not fetched (no request of
    function 0 leaves the device), and what function 0 wrote before reads back through function 2 (one
    namespace, shared)."""

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}
        down, reader = self.ctrls[0], self.ctrls[2]
        await self.io_rounds(down, queues[0], 2, rng)
        background = self.start_background([c for c in self.ctrls if c is not down], queues, rng)
        await self.more_rounds(1)
        await down.driver.nvme_shutdown_ctrl()
        shut_at = get_sim_time("ns")
        shst = [bar0.CSTS.SHST.get(c) for c in await self.status()]
        assert shst == [2 if c is down else 0 for c in self.ctrls], f"CSTS.SHST per function: {shst}"
        buf = await self.buffer(down, 1)
        cids = await queues[0].submit_many([read_cmd(NSID, lba_base(down, 1), CHUNK_LBAS, *buf.prps(CHUNK_LBAS * LBA))])
        await assert_still_pending(queues[0], cids, PENDING_WINDOW_NS, "a read submitted after the shutdown")
        late = self.requesters.of(0, after_ns=shut_at)
        assert not late, f"{len(late)} requests of function 0 after its shutdown completed, the first {late[0]}"
        await self.more_rounds(1)
        await self.stop_background(background)
        assert all(bar0.CSTS.RDY.get(c) for c in await self.status())
        # function 0's LBAs through function 2's queue: the data scoreboard of function 2 checks the read
        rbuf = await self.buffer(reader, 1)
        (cqe,) = await run_all(queues[2], [read_cmd(NSID, lba_base(down, 1), CHUNK_LBAS, *rbuf.prps(CHUNK_LBAS * LBA))])
        assert cqe.status.is_success, f"read of function 0's LBAs through function 2: {cqe.status}"
        # the read function 0 never fetched ends with its reset
        await self.reset(down)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class NamespacesPerController(ControllerIo):
    """Private namespaces (NSIDs 1 and 2, attached to controller 0): every other controller's Active
    Namespace ID list is empty, and its I/O to them (inactive NSIDs) is Invalid Field in Command; NSID 2 moves
    from controller 0 to controller 1 (detach, attach) and serves
    controller 1 only; attaching a private namespace to a second controller is Namespace Is Private; a
    namespace controller 1 creates is attached to it alone and deleted. Each controller's reference model
    predicts every status from the subsystem's shared attachments."""

    shared_namespaces = False

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        owner, guest = self.ctrls[0], self.ctrls[1]
        for ctrl in self.ctrls:
            active = await self.active_namespaces(ctrl)
            assert active == ([NSID, 2] if ctrl is owner else []), f"function {ctrl.function}: active NSIDs {active}"
        queues = {c.function: (await self.queue_pairs(c, 1, DEPTH))[0] for c in (owner, guest)}
        assert (await self.read_status(guest, queues[1], NSID)).has(GenericStatus.INVALID_FIELD)
        assert (await self.read_status(owner, queues[0], NSID)).is_success
        moved = 2
        await self.attachment(owner, moved, [owner.function], detach=True)
        await self.attachment(guest, moved, [guest.function])
        refused = await self.admin_with_data(guest, ns_attachment_cmd(NSID), controller_list([guest.function]))
        assert refused.status.has(CommandSpecificStatus.NAMESPACE_IS_PRIVATE), f"second attach: {refused.status}"
        data = rng.randbytes(PAGE)
        await write_and_read_back(self.tb, queues[1], moved, 0, data, PAGE, await self.buffer(guest, 1),
                                  await self.buffer(guest, 1))
        assert (await self.read_status(owner, queues[0], moved)).has(GenericStatus.INVALID_FIELD)
        created = await self.admin_with_data(guest, ns_create_cmd(), ns_create_data(256, LBA))
        assert created.status.is_success, f"create: {created.status}"
        await self.attachment(guest, created.dw0, [guest.function])
        assert (await self.read_status(guest, queues[1], created.dw0)).is_success
        assert (await self.read_status(owner, queues[0], created.dw0)).has(GenericStatus.INVALID_FIELD)
        deleted = await guest.admin.execute(ns_delete_cmd(created.dw0), expect=None)
        assert deleted.status.is_success, f"delete: {deleted.status}"

    async def active_namespaces(self, ctrl: Controller) -> list[int]:
        """Identify's Active Namespace ID list (CNS 02h) of a controller."""
        buf = await self.buffer(ctrl, 1)
        await ctrl.admin.execute(identify_cmd(Cns.ACTIVE_NAMESPACES, 0, *buf.prps(PAGE)))
        return parse_namespace_list(bytes(await self.tb.rc.mem_address_space.read(buf.addr, PAGE)))

    async def attachment(self, ctrl: Controller, nsid: int, controllers: list[int], detach: bool = False) -> None:
        cqe = await self.admin_with_data(ctrl, ns_attachment_cmd(nsid, detach), controller_list(controllers))
        assert cqe.status.is_success, f"function {ctrl.function}: {'de' if detach else ''}attach {nsid}: {cqe.status}"

    async def read_status(self, ctrl: Controller, queue, nsid: int) -> Status:
        """The status of a one-block read of ``nsid`` through a controller's queue."""
        buf = await self.buffer(ctrl, 1)
        (cqe,) = await run_all(queue, [read_cmd(nsid, 0, 1, *buf.prps(PAGE))])
        return cqe.status



@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class SlotQuotasShareTheSubsystem(ControllerIo):
    """Function 0 keeps four SQs busy and function 1 one, far more reads outstanding than command slots, so
    that the arbiter alone would give function 1 about a fifth. With the slots divided between the two by
    weight (FN_SLOT_QUOTA), equal weights give function 1 about half the reads and three to one in its
    favour about three quarters; the firmware's count of commands per controller agrees."""

    functions_used = 2

    async def body(self) -> None:
        busy, single = self.ctrls
        queues = {busy.function: await self.queue_pairs(busy, 4, QUOTA_DEPTH),
                  single.function: await self.queue_pairs(single, 1, QUOTA_DEPTH)}
        buffers = {id(q): [await self.buffer(ctrl, 1) for _ in range(QUOTA_DEPTH - 1)]
                   for ctrl in self.ctrls for q in queues[ctrl.function]}
        idle = [0] * (self.tb.params.FUNCTIONS - len(self.ctrls))   # the functions this test leaves down
        for weights, least, most in (([1, 1], 0.4, 0.6), ([1, 3], 0.65, 0.85)):
            quotas = await self.firmware.share_slots(weights + idle)
            end = get_sim_time("ns") + QUOTA_WINDOW_NS
            tasks = [(ctrl.function, cocotb.start_soon(self.reads_until(ctrl, q, buffers[id(q)], end)))
                     for ctrl in self.ctrls for q in queues[ctrl.function]]
            done = [0, 0]
            for fn, task in tasks:
                done[fn] += await task
            share = done[single.function] / sum(done)
            assert least < share < most, (f"quotas {quotas}: reads completed per function {done}, function 1 "
                                          f"{share:.0%}, expected {least:.0%} to {most:.0%}")
        taken = self.firmware.commands_per_function
        assert taken[single.function] >= done[single.function], f"firmware's commands per function {dict(taken)}"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MemoryIsolatedPerFunction(ControllerIo):
    """Under the IOMMU each function's requester id is a domain of its own: the same bus address reaches
    each function's own memory (their admin SQs have one), and every request lands in memory of the
    function it names. While the others run, function 1 aims a Write and a Read at a buffer of function
    0's by its physical address, which function 1's domain does not map: the Write fails with Data
    Transfer Error, the Read's data is dropped, both faults are logged under function 1's requester id
    alone, the buffer keeps its bytes, and every other command of every function succeeds, function 1's
    next ones included."""

    iommu = IommuConfig(policy=DmaPolicy.STRICT)

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))
        iommu = self.tb.iommu_seam.iommu
        faults = FaultAccount(iommu.fault_log)
        rids = [int(func.pcie_id) for func in self.tb.funcs]
        domains = {iommu.domain_of(rid).domain_id for rid in rids}
        assert len(domains) == len(rids), f"requester ids {[hex(r) for r in rids]} share domains {domains}"
        owner, intruder = self.ctrls[0], self.ctrls[1]
        self.assert_one_address_two_memories(owner, intruder)
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}
        theirs = await self.buffer(owner, 1)
        before = rng.randbytes(PAGE)
        await self.tb.rc.mem_address_space.write(theirs.addr, before)
        self.assert_unreachable(intruder, theirs.addr)
        background = self.start_background([c for c in self.ctrls if c is not intruder], queues, rng)
        await self.more_rounds(1)
        queue = queues[intruder.function]
        await self.intrude(intruder, queue, lba_base(intruder, 1), theirs.addr, faults)
        await self.more_rounds(1)
        await self.stop_background(background)
        assert bytes(await self.tb.rc.mem_address_space.read(theirs.addr, PAGE)) == before, (
            "function 1's DMA changed function 0's buffer")
        await self.io_rounds(intruder, queue, 1, rng)
        faults.check_all_seen()
        per_function = self.requesters.check()
        assert sorted(per_function) == [ctrl.function for ctrl in self.ctrls], f"requesters {dict(per_function)}"
