"""Constrained-random NVM traffic for the command-set tests: a mix of good and bad commands per queue.

Commands in flight together touch disjoint LBAs (``LbaLocks``): the
reference model predicts in submission order, the firmware runs commands
in parallel, and only disjoint commands make the two orders agree. Within
that rule the mix is free: Read, Write, Write Zeroes, DSM deallocate,
Compare (matching and not), Verify, Copy (inside one claimed range: sources
in its first half, in one or two pieces in either order, to its second
half), Flush (one namespace or all), and bad commands
(LBA out of range, invalid namespace, unsupported opcode, reserved PSDT).
Transfers of 1 to 8 pages use PRP1 alone, PRP2 as a page and PRP2 as a
list. Checking is the scoreboards'; ``RandomIo`` returns what ran.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from models.identify import NSID_BROADCAST, NamespaceConfig
from models.nvme_commands import (COPY_RANGE_SIZE, CopyRange, DsmRange, compare_cmd, copy_cmd, dsm_cmd, flush_cmd,
                                  read_cmd, verify_cmd, write_cmd, write_zeroes_cmd)
from models.nvme_spec import NvmOpcode, SubmissionEntry
from tb.command_sequences import PAGE, HostBuffer, Queue
from tb.pcie_tb import PcieTb

MAX_PAGES = 8
# relative weights of the kinds of command
MIX = {"read": 30, "write": 30, "write_zeroes": 8, "dsm": 6, "compare": 8, "verify": 4, "copy": 6, "flush": 6,
       "bad": 12}
UNSUPPORTED_NVM_OPCODES = (NvmOpcode.WRITE_UNCORRECTABLE, 0x0D, 0x7E, 0x81)   # 0Dh: Reservation Register


class LbaLocks:
    """LBA ranges of the commands in flight, per namespace."""

    def __init__(self) -> None:
        self._busy: defaultdict[int, set[tuple[int, int]]] = defaultdict(set)

    def take(self, nsid: int, slba: int, nlb: int) -> bool:
        """Claim [slba, slba + nlb) unless it overlaps a claimed range."""
        if any(slba < s + n and s < slba + nlb for s, n in self._busy[nsid]):
            return False
        self._busy[nsid].add((slba, nlb))
        return True

    def release(self, nsid: int, slba: int, nlb: int) -> None:
        self._busy[nsid].remove((slba, nlb))


@dataclass(frozen=True)
class Window:
    """The LBAs of a namespace the workload uses: small, so that reads find earlier writes."""

    ns: NamespaceConfig
    blocks: int


@dataclass
class Planned:
    kind: str
    sqe: SubmissionEntry
    claim: tuple[int, int, int] | None = None   # (NSID, SLBA, NLB) held until completion


class RandomIo:
    """Makes and runs random commands; ``shadow(nsid, slba, nlb)`` is the reference model's view of
    the blocks now, from which Compare takes matching (or deliberately wrong) data."""

    def __init__(self, tb: PcieTb, rng: random.Random, windows: list[Window], locks: LbaLocks,
                 shadow: Callable[[int, int, int], bytes]) -> None:
        self.tb = tb
        self.rng = rng
        self.windows = windows
        self.locks = locks
        self.shadow = shadow
        self.outcomes: Counter[tuple[str, str]] = Counter()   # (kind, status name) of every command run

    async def drive(self, queue: Queue, commands: int, max_in_flight: int) -> None:
        """Run ``commands`` commands on ``queue`` in batches of 1 to ``max_in_flight``, one doorbell each."""
        buffers = [await HostBuffer.alloc(self.tb, MAX_PAGES) for _ in range(max_in_flight)]
        done = 0
        while done < commands:
            batch = [await self.plan(buf) for buf in buffers[:min(self.rng.randint(1, max_in_flight),
                                                                   commands - done)]]
            cids = await queue.submit_many([p.sqe for p in batch])
            for planned, cqe in zip(batch, await queue.wait_for(cids)):
                if planned.claim is not None:
                    self.locks.release(*planned.claim)
                self.outcomes[(planned.kind, "success" if cqe.status.is_success else str(cqe.status).split()[0])] += 1
            done += len(batch)

    async def plan(self, buf: HostBuffer) -> Planned:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        window = self.rng.choice(self.windows)
        ns = window.ns
        if kind == "bad":
            return Planned(kind, self._bad(ns, buf))
        if kind == "flush":
            return Planned(kind, flush_cmd(self.rng.choice([ns.nsid, NSID_BROADCAST])))
        claim = self._claim(window)
        if claim is None:   # everything near is busy: something that needs no blocks
            return Planned("flush", flush_cmd(ns.nsid))
        _, slba, nlb = claim
        length = nlb * ns.lba_size
        mem = self.tb.rc.mem_address_space
        if kind == "read":
            sqe = read_cmd(ns.nsid, slba, nlb, *buf.prps(length))
        elif kind == "write":
            await mem.write(buf.addr, self.rng.randbytes(length))
            sqe = write_cmd(ns.nsid, slba, nlb, *buf.prps(length))
        elif kind == "compare":
            data = bytearray(self.shadow(ns.nsid, slba, nlb))
            if self.rng.random() < 0.3:
                data[self.rng.randrange(length)] ^= 0x5A
            await mem.write(buf.addr, bytes(data))
            sqe = compare_cmd(ns.nsid, slba, nlb, *buf.prps(length))
        elif kind == "write_zeroes":
            sqe = write_zeroes_cmd(ns.nsid, slba, nlb)
        elif kind == "verify":
            sqe = verify_cmd(ns.nsid, slba, nlb)
        elif kind == "copy":
            half = max(1, nlb // 2)
            cut = self.rng.randint(0, half)
            pieces = [CopyRange(s, n) for s, n in ((slba, cut), (slba + cut, half - cut)) if n]
            if self.rng.random() < 0.5:
                pieces.reverse()
            await mem.write(buf.addr, b"".join(r.pack() for r in pieces))
            sqe = copy_cmd(ns.nsid, slba + nlb - half, len(pieces), *buf.prps(COPY_RANGE_SIZE * len(pieces)))
        else:
            cuts = sorted(self.rng.sample(range(1, nlb), min(nlb - 1, self.rng.randint(0, 2))))
            bounds = [0, *cuts, nlb]
            ranges = [DsmRange(slba + a, b - a) for a, b in zip(bounds, bounds[1:])]
            await mem.write(buf.addr, b"".join(r.pack() for r in ranges))
            sqe = dsm_cmd(ns.nsid, len(ranges), *buf.prps(16 * len(ranges)))
        return Planned(kind, sqe, claim)

    def _claim(self, window: Window) -> tuple[int, int, int] | None:
        ns = window.ns
        max_blocks = MAX_PAGES * PAGE // ns.lba_size
        for _ in range(8):
            nlb = self.rng.randint(1, max_blocks)
            slba = self.rng.randrange(0, window.blocks - nlb + 1)
            if self.locks.take(ns.nsid, slba, nlb):
                return ns.nsid, slba, nlb
        return None

    def _bad(self, ns: NamespaceConfig, buf: HostBuffer) -> SubmissionEntry:
        prps = buf.prps(ns.lba_size)
        return self.rng.choice([
            read_cmd(ns.nsid, ns.nlbas - self.rng.randint(0, 3), 4, *buf.prps(4 * ns.lba_size)),
            write_zeroes_cmd(ns.nsid, ns.nlbas, 1),
            read_cmd(self.rng.choice([0, 0x1000, NSID_BROADCAST - 1]), 0, 1, *prps),
            SubmissionEntry(int(self.rng.choice(UNSUPPORTED_NVM_OPCODES)), nsid=ns.nsid),
            replace(read_cmd(ns.nsid, 0, 1, *prps), psdt=2),
        ])
