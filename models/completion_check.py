"""Completion checker: every CQE the controller posts, checked against what the host submitted.

The controller may complete commands in any order (the firmware decides), so
matching is keyed by (SQ id, CID), as a tag-keyed scoreboard does. What is
fixed is checked in order per queue: the phase tag of each CQ slot and the
SQ head each CQE reports. Feed it from the monitors:

- ``cq_created`` / ``sq_created`` (and ``*_deleted``) with queue sizes,
- ``submitted(sqid, cid)`` for every SQE in the order it entered the SQ,
- ``completed(cqid, cqe, expected_sqids_for_cq)`` for every CQE in CQ order.

Every violation raises AssertionError at once, with the queue, CID and what
was expected, because a scoreboard that only logs lets a test pass.
Pure Python.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from models.nvme_spec import SUCCESS, CompletionEntry, Status

# one status, or the statuses any of which is right (an Abort's target may or may not have been aborted)
Expected = Status | tuple[Status, ...]
ExpectedStatus = Callable[[int, int], Expected] | Mapping[tuple[int, int], Expected]


@dataclass
class _Sq:
    size: int
    submitted: int = 0          # entries the host placed in the SQ, ever
    consumed: int = 0           # entries the controller reported fetched (SQ head), ever
    outstanding: dict[int, int] = field(default_factory=dict)  # cid -> index of its SQE
    completed_cids: set[int] = field(default_factory=set)      # completed and not resubmitted since


@dataclass
class _Cq:
    size: int
    posted: int = 0

    @property
    def expected_phase(self) -> int:
        """The phase tag starts at 1 and inverts each time the CQ wraps."""
        return 1 - (self.posted // self.size) % 2


class CompletionChecker:
    """Checks CID, SQ id, CQ mapping, duplicates, SQ head, phase and status of every CQE."""

    def __init__(self, expected_status: ExpectedStatus | None = None) -> None:
        self._expected_status = expected_status
        self._sqs: dict[int, _Sq] = {}
        self._cqs: dict[int, _Cq] = {}
        self.checked = 0

    def cq_created(self, cqid: int, size: int) -> None:
        """A CQ of ``size`` entries (not zero-based) exists from now, starting at phase 1."""
        assert size >= 2, f"CQ {cqid}: a queue has at least 2 entries, got {size}"
        assert cqid not in self._cqs, f"CQ {cqid} created twice"
        self._cqs[cqid] = _Cq(size)

    def sq_created(self, sqid: int, size: int) -> None:
        assert size >= 2, f"SQ {sqid}: a queue has at least 2 entries, got {size}"
        assert sqid not in self._sqs, f"SQ {sqid} created twice"
        self._sqs[sqid] = _Sq(size)

    def sq_deleted(self, sqid: int) -> None:
        """Delete I/O SQ completes only after every command of the SQ has completed."""
        sq = self._sq(sqid)
        assert not sq.outstanding, f"SQ {sqid} deleted with CIDs {sorted(sq.outstanding)} never completed"
        del self._sqs[sqid]

    def cq_deleted(self, cqid: int) -> None:
        self._cq(cqid)
        del self._cqs[cqid]

    def controller_reset(self) -> None:
        """CC.EN 1->0: every queue and every command is gone without a completion."""
        self._sqs.clear()
        self._cqs.clear()

    def submitted(self, sqid: int, cid: int) -> None:
        """The host placed an SQE with ``cid`` in SQ ``sqid`` (in SQ order)."""
        sq = self._sq(sqid)
        assert cid not in sq.outstanding, (
            f"SQ {sqid}: host reused CID {cid:#06x} while it is still outstanding (SQE {sq.outstanding[cid]})")
        assert sq.submitted - sq.consumed < sq.size - 1, (
            f"SQ {sqid}: host overflowed the SQ: {sq.submitted - sq.consumed} entries past the last reported "
            f"head in an SQ of {sq.size}")
        sq.outstanding[cid] = sq.submitted
        sq.completed_cids.discard(cid)
        sq.submitted += 1

    def completed(self, cqid: int, cqe: CompletionEntry, expected_sqids_for_cq: Collection[int]) -> None:
        """Check one CQE read from CQ ``cqid``; ``expected_sqids_for_cq`` are the SQs bound to it."""
        cq = self._cq(cqid)
        where = f"CQ {cqid} entry {cq.posted} (SQ {cqe.sq_id}, CID {cqe.cid:#06x})"
        assert cqe.phase == cq.expected_phase, (
            f"{where}: phase {cqe.phase}, expected {cq.expected_phase} (CQ of {cq.size} entries, "
            f"{cq.posted} posted before)")
        cq.posted += 1
        assert cqe.sq_id in expected_sqids_for_cq, (
            f"{where}: SQ {cqe.sq_id} does not map to this CQ (its SQs: {sorted(expected_sqids_for_cq)})")
        sq = self._sqs.get(cqe.sq_id)
        assert sq is not None, f"{where}: SQ {cqe.sq_id} does not exist"
        if cqe.cid not in sq.outstanding:
            kind = "duplicate completion of" if cqe.cid in sq.completed_cids else "completion of never submitted"
            raise AssertionError(f"{where}: {kind} CID {cqe.cid:#06x}")
        index = sq.outstanding.pop(cqe.cid)
        sq.completed_cids.add(cqe.cid)
        self._check_sq_head(where, sq, cqe.sq_head, index)
        self._check_status(where, cqe)
        self.checked += 1

    def _check_sq_head(self, where: str, sq: _Sq, head: int, index: int) -> None:
        """SQ head only moves forward, never past the tail, and is past the command it completes.

        Between two CQEs of one SQ the head moves by less than the SQ size (the
        host never has more than size-1 entries in the SQ), so the distance
        modulo the size is unambiguous.
        """
        assert head < sq.size, f"{where}: SQ head {head} outside an SQ of {sq.size} entries"
        consumed = sq.consumed + (head - sq.consumed) % sq.size
        assert consumed <= sq.submitted, (
            f"{where}: SQ head {head} passes the tail: {consumed - sq.consumed} entries fetched since "
            f"head {sq.consumed % sq.size}, only {sq.submitted - sq.consumed} submitted")
        assert consumed > index, (
            f"{where}: SQ head {head} has not passed this command's SQE (slot {index % sq.size})")
        sq.consumed = consumed

    def _check_status(self, where: str, cqe: CompletionEntry) -> None:
        if self._expected_status is None:
            expected = SUCCESS
        elif callable(self._expected_status):
            expected = self._expected_status(cqe.sq_id, cqe.cid)
        else:
            expected = self._expected_status.get((cqe.sq_id, cqe.cid), SUCCESS)
        allowed = expected if isinstance(expected, tuple) else (expected,)
        assert any(cqe.status.same_code(e) for e in allowed), (
            f"{where}: status {cqe.status}, expected {' or '.join(str(e) for e in allowed)}")

    def outstanding(self) -> dict[int, list[int]]:
        """CIDs submitted and not completed, per SQ."""
        return {sqid: sorted(sq.outstanding) for sqid, sq in self._sqs.items() if sq.outstanding}

    def final_check(self) -> None:
        """End of test: something was checked and nothing is still waiting for its completion."""
        assert self.checked > 0, "completion checker saw no completion"
        lost = self.outstanding()
        assert not lost, "completions never arrived: " + "; ".join(
            f"SQ {sqid} CIDs {[hex(c) for c in cids]}" for sqid, cids in lost.items())

    def _sq(self, sqid: int) -> _Sq:
        assert sqid in self._sqs, f"SQ {sqid} does not exist"
        return self._sqs[sqid]

    def _cq(self, cqid: int) -> _Cq:
        assert cqid in self._cqs, f"CQ {cqid} does not exist"
        return self._cqs[cqid]
