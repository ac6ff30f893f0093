"""SQ arbitration: round robin fairness and weighted round robin with urgent class.

The firmware records the SQ of every command in the order the hardware
handed them over, which is fetch order. With the arbitration burst at one
command, every grant fetches one entry. The first CMD_SLOTS fetches happen
as the doorbells ring, while the engine allows one read in flight per SQ;
after that the stalled-then-resumed firmware frees one slot per command, so
each fetch is a fresh arbitration among all loaded SQs. Shares are measured
there, after the slots and the reads in flight at resume.
"""

from __future__ import annotations

from collections import Counter

import pyuvm

from models.nvme_spec import FeatureId, arbitration_dword
from tb.base_test import QueueTest
from tb.sequences import io_command

TIMEOUT_MS = 50
CMD_SLOTS = 64
FETCH_TAGS = 8
PRIO_URGENT, PRIO_HIGH, PRIO_MEDIUM, PRIO_LOW = range(4)


class ArbitrationTest(QueueTest):
    """Load several SQs while the firmware is stalled, then let it run and read the fetch order."""

    backlog = 40

    async def load(self, priorities: dict[int, int]) -> list[int]:
        """Create one pair per qid with that priority, queue ``backlog`` commands in each."""
        await self.admin.set_num_queues(len(priorities), len(priorities))
        pairs = [await self.admin.create_queue_pair(qid, 64, priority=prio) for qid, prio in priorities.items()]
        self.firmware.pause()
        start = len(self.firmware.command_order)
        cids = [await pair.submit_many([io_command() for _ in range(self.backlog)]) for pair in pairs]
        self.firmware.resume()
        for pair, pair_cids in zip(pairs, cids):
            await pair.wait_for(pair_cids)
        return self.firmware.command_order[start + CMD_SLOTS + FETCH_TAGS:]


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class RoundRobinFairness(ArbitrationTest):
    """8 SQs: every window of 8 fetches while all have entries serves each SQ once or twice."""

    async def body(self) -> None:
        await self.admin.set_features(FeatureId.ARBITRATION, arbitration_dword(ab=0))
        order = await self.load({qid: PRIO_MEDIUM for qid in range(1, 9)})
        busy = order[: 8 * (self.backlog - CMD_SLOTS // 8 - 2)]
        assert len(busy) >= 64, f"too few fetches to measure: {len(busy)}"
        for start in range(0, len(busy) - 8, 8):
            window = Counter(busy[start:start + 8])
            assert max(window.values()) <= 2, f"unfair round robin at fetch {start}: {dict(window)}"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class WeightedRoundRobin(ArbitrationTest):
    """Urgent first; then high, medium and low shares in the ratio of their weights 8:4:2."""

    hpw, mpw, lpw = 8, 4, 2
    cc_ams = 1
    backlog = 30
    # a firmware slower than a fetch round trip, so that every fetch is a
    # fresh arbitration rather than whichever SQ has no read in flight
    firmware_cost_ns = 1000

    async def body(self) -> None:
        await self.admin.set_features(
            FeatureId.ARBITRATION, arbitration_dword(ab=0, lpw=self.lpw - 1, mpw=self.mpw - 1, hpw=self.hpw - 1))
        prios = {1: PRIO_URGENT, 2: PRIO_HIGH, 3: PRIO_HIGH, 4: PRIO_MEDIUM, 5: PRIO_MEDIUM, 6: PRIO_LOW, 7: PRIO_LOW}
        order = await self.load(prios)
        first_non_urgent = next(i for i, q in enumerate(order) if q != 1)
        assert 1 not in order[first_non_urgent:], f"urgent SQ not served before the others: {order[:60]}"
        # whole rounds (each ends with the low class) while every class still has entries
        start = next(i for i in range(first_non_urgent + 1, len(order))
                     if prios[order[i - 1]] == PRIO_LOW and prios[order[i]] != PRIO_LOW)
        round_len = self.hpw + self.mpw + self.lpw
        window = order[start:start + 3 * round_len]
        shares = Counter(prios[q] for q in window)
        expected = {PRIO_HIGH: 3 * self.hpw, PRIO_MEDIUM: 3 * self.mpw, PRIO_LOW: 3 * self.lpw}
        assert shares == expected, f"weighted shares {dict(shares)} != {expected} in {window}"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class RoundRobinWithBackPressure(RoundRobinFairness):
    """Fairness holds with idle cycles and back-pressure on every stream."""

    pacing_seed = 31
