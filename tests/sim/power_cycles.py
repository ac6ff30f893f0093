"""Resets, shutdowns and power cuts at random moments under mixed writes, reads and flushes.

Each cycle keeps writes, reads and flushes in flight on both namespaces,
then, at a random moment, one of: CC.EN=0; a normal or an abrupt shutdown
followed by a power cut; a power cut alone (the host sees its controller
reset, the back end loses everything volatile and rebuilds its mapping from
the pages' OOB). The conv back end has its volatile write cache on.

Every block written carries its LBA and a version, so a read tells which
write it holds. The test keeps, per LBA, the versions it may hold:

- a write acknowledged and then covered by a completed Flush or shutdown is
  durable: only it (or a later write to the same LBA) may be read;
- a write acknowledged but not yet flushed survives a controller reset (the
  cache is not power) but may be lost to a power cut: the last durable
  version is allowed then too;
- a write in flight at the interruption may have landed or not.

After recovery every LBA is read back and must hold one allowed version,
whole (nothing torn); a lost durable write fails the test. The reads after
an interruption are checked here, not by the data scoreboard, whose model
cannot know which in-flight writes landed; what was read becomes the model's
contents again.
"""

from __future__ import annotations

import random
import struct
from collections import defaultdict
from dataclasses import dataclass, field

import cocotb
import pyuvm
from cocotb.triggers import Timer

from models.nvme_commands import flush_cmd, read_cmd, write_cmd
from tb.base_test import CommandSetTest
from tb.command_sequences import HostBuffer
from tb.nvme_queues import NvmeQueue

TIMEOUT_MS = 400
CYCLES = 8
BLOCKS = {1: 96, 2: 48}          # the LBAs each namespace's window holds
MAX_NLB = 4
BUFFERS = 12
QUIET_NS = 10_000
KINDS = ("reset", "normal shutdown + power cut", "abrupt shutdown + power cut", "power cut")


def block(nsid: int, lba: int, version: int, size: int) -> bytes:
    """A block that says which LBA and which write it is; any mix of two blocks is told apart."""
    return struct.pack("<IIQ", nsid, version, lba) * (size // 16)


@dataclass
class LbaState:
    """What one LBA may hold: ``durable`` for sure, plus the versions that may or may not have landed."""

    durable: int = 0                        # 0: never written (zeroes)
    maybe: set[int] = field(default_factory=set)


class Ledger:
    """Per LBA, the versions a read may find, as writes are submitted, acknowledged, flushed, cut."""

    def __init__(self) -> None:
        self.lbas: defaultdict[tuple[int, int], LbaState] = defaultdict(LbaState)
        self.acked_unflushed: dict[tuple[int, int], int] = {}
        self.in_flight: dict[tuple[int, int], set[int]] = defaultdict(set)
        self.versions = 0

    def submit(self, nsid: int, slba: int, nlb: int) -> int:
        self.versions += 1
        for lba in range(slba, slba + nlb):
            self.in_flight[(nsid, lba)].add(self.versions)
        return self.versions

    def acked(self, nsid: int, slba: int, nlb: int, version: int) -> None:
        for lba in range(slba, slba + nlb):
            self.in_flight[(nsid, lba)].discard(version)
            state = self.lbas[(nsid, lba)]
            state.maybe.add(version)
            self.acked_unflushed[(nsid, lba)] = max(version, self.acked_unflushed.get((nsid, lba), 0))

    def flushed(self) -> None:
        """A Flush or a shutdown completed: every write acknowledged before it is durable."""
        for key, version in self.acked_unflushed.items():
            state = self.lbas[key]
            state.durable = max(state.durable, version)
            state.maybe = {v for v in state.maybe if v > state.durable}
        self.acked_unflushed.clear()

    def allowed(self, key: tuple[int, int], power_cut: bool) -> set[int]:
        state = self.lbas[key]
        versions = {state.durable} | state.maybe | self.in_flight[key]
        if not power_cut and key in self.acked_unflushed:
            # the cache survives a controller reset: nothing older than the last acknowledged write
            versions = {v for v in versions if v >= self.acked_unflushed[key]}
        return versions

    def settle(self, key: tuple[int, int], found: int) -> None:
        """After recovery the LBA holds ``found``, durably from now on (the next cycle starts flushed)."""
        self.lbas[key] = LbaState(durable=found)
        self.in_flight[key].clear()
        self.acked_unflushed.pop(key, None)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class InterruptionsUnderLoad(CommandSetTest):
    backend_kind = "conv"

    async def body(self) -> None:
        rng = random.Random(cocotb.RANDOM_SEED)
        ledger = Ledger()
        self.found_written = 0
        self.buffers = [await HostBuffer.alloc(self.tb, MAX_NLB) for _ in range(BUFFERS)]
        counts: defaultdict[str, int] = defaultdict(int)
        queue = await self.queues()
        for cycle in range(CYCLES):
            kind = rng.choice(KINDS)
            load = cocotb.start_soon(self.load(queue, rng, ledger))
            await Timer(rng.randint(20_000, 200_000), "ns")
            load.cancel()
            power_cut = await self.interrupt(kind, ledger)
            counts[kind] += 1
            await self.bring_up()
            queue = await self.queues()
            checked = await self.verify(queue, ledger, power_cut)
            self.logger.info("cycle %d: %s, %d LBAs checked", cycle, kind, checked)
        self.logger.info("interruptions survived: %s; versions written: %d; LBAs found written: %d", dict(counts),
                         ledger.versions, self.found_written)
        assert sum(counts.values()) == CYCLES
        assert ledger.versions >= CYCLES and self.found_written > 0, "too little was written to check anything"

    async def queues(self) -> NvmeQueue:
        await self.admin.set_num_queues(1, 1)
        return await self.admin.create_queue_pair(1, 32)

    async def load(self, queue: NvmeQueue, rng: random.Random, ledger: Ledger) -> None:
        """Batches of writes and reads on both namespaces, now and then a Flush alone (so that it covers
        exactly the writes acknowledged before it), until cancelled."""
        mem = self.tb.rc.mem_address_space
        while True:
            if rng.random() < 0.15:
                (cid,) = await queue.submit_many([flush_cmd(rng.choice(list(BLOCKS)))])
                (cqe,) = await queue.wait_for([cid])
                assert cqe.status.is_success, f"Flush: {cqe.status}"
                ledger.flushed()
                continue
            busy: set[tuple[int, int]] = set()
            batch = []
            for buf in rng.sample(self.buffers, rng.randint(1, BUFFERS)):
                nsid = rng.choice(list(BLOCKS))
                size = self.config.namespace(nsid).lba_size
                nlb = rng.randint(1, MAX_NLB * 4096 // size if size < 4096 else MAX_NLB)
                slba = rng.randrange(BLOCKS[nsid] - nlb + 1)
                if any((nsid, lba) in busy for lba in range(slba, slba + nlb)):
                    continue
                busy.update((nsid, lba) for lba in range(slba, slba + nlb))
                if rng.random() < 0.65:
                    version = ledger.submit(nsid, slba, nlb)
                    await mem.write(buf.addr, b"".join(block(nsid, lba, version, size)
                                                      for lba in range(slba, slba + nlb)))
                    batch.append((write_cmd(nsid, slba, nlb, *buf.prps(nlb * size)), (nsid, slba, nlb, version)))
                else:
                    batch.append((read_cmd(nsid, slba, nlb, *buf.prps(nlb * size)), None))
            cids = await queue.submit_many([sqe for sqe, _ in batch])
            for (sqe, write), cqe in zip(batch, await queue.wait_for(cids)):
                assert cqe.status.is_success, f"opcode {sqe.opcode:#x}: {cqe.status}"
                if write is not None:
                    ledger.acked(*write)

    async def interrupt(self, kind: str, ledger: Ledger) -> bool:
        """Interrupt the load; True if the back end lost power."""
        if "shutdown" in kind:
            await self.driver.nvme_shutdown_ctrl(abrupt=kind.startswith("abrupt"))
            ledger.flushed()
        await self.disable_and_watch(QUIET_NS)
        # the firmware's commands of before the reset finish (their completions go nowhere): nothing
        # may land in the back end after the cut or after the check
        await self.firmware.wait_idle()
        if "power cut" not in kind:
            return False
        self.backend.power_loss()
        self.backend.recover()
        return True

    async def verify(self, queue: NvmeQueue, ledger: Ledger, power_cut: bool) -> int:
        """Read every LBA of both windows back; each must hold one allowed version, whole."""
        mem = self.tb.rc.mem_address_space
        buf = self.buffers[0]
        model = self.env.reference.model
        checked = 0
        for nsid, blocks in BLOCKS.items():
            size = self.config.namespace(nsid).lba_size
            for lba in range(blocks):
                (cid,) = await queue.submit_many([read_cmd(nsid, lba, 1, *buf.prps(size))])
                self.env.reference.take(queue.qid, cid)   # which writes landed is checked here
                (cqe,) = await queue.wait_for([cid])
                assert cqe.status.is_success, f"NSID {nsid} LBA {lba}: {cqe.status}"
                data = bytes(await mem.read(buf.addr, size))
                found = 0 if data == bytes(size) else struct.unpack_from("<IIQ", data)[1]
                allowed = ledger.allowed((nsid, lba), power_cut)
                assert found in allowed and (found == 0 or data == block(nsid, lba, found, size)), (
                    f"NSID {nsid} LBA {lba} holds version {found} ({'torn' if found in allowed else 'not allowed'}); "
                    f"allowed: {sorted(allowed)}")
                ledger.settle((nsid, lba), found)
                self.found_written += found != 0
                model.namespaces.shadows[nsid].write(lba, data)
                checked += 1
        return checked
