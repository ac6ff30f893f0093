"""CompletionChecker: accepts legal completion streams, and catches each kind of bad CQE."""

from collections.abc import Callable

import pytest

from models.completion_check import CompletionChecker
from models.nvme_spec import SUCCESS, CommandSpecificStatus, CompletionEntry, GenericStatus, Status

SIZE = 4
SQS_OF_CQ1 = (1, 2)

Complete = Callable[..., None]


@pytest.fixture
def checker() -> CompletionChecker:
    """CQ 1 of 4 entries shared by SQ 1 and SQ 2, each of 4 entries."""
    c = CompletionChecker()
    c.cq_created(1, SIZE)
    c.sq_created(1, SIZE)
    c.sq_created(2, SIZE)
    return c


@pytest.fixture
def complete(checker: CompletionChecker) -> Complete:
    """Feed a CQE on CQ 1; the phase defaults to what the entry index implies."""
    count = {"n": 0}

    def feed(sq_id: int, cid: int, sq_head: int, phase: int | None = None, status: Status = SUCCESS) -> None:
        if phase is None:
            phase = 1 - (count["n"] // SIZE) % 2
        count["n"] += 1
        checker.completed(1, CompletionEntry(sq_head=sq_head, sq_id=sq_id, cid=cid, phase=phase, status=status),
                          SQS_OF_CQ1)
    return feed


def test_in_order_completions_through_two_wraps(checker: CompletionChecker, complete: Complete) -> None:
    for n in range(10):
        checker.submitted(1, n)
        complete(1, n, (n + 1) % SIZE)
    checker.final_check()
    assert checker.checked == 10


def test_out_of_order_completions_from_two_sqs(checker: CompletionChecker, complete: Complete) -> None:
    for cid in (10, 11, 12):
        checker.submitted(1, cid)
    checker.submitted(2, 10)   # the same CID on another SQ is a different command
    complete(1, 12, 3)
    complete(2, 10, 1)
    complete(1, 10, 3)
    complete(1, 11, 3)
    checker.final_check()


def test_cid_may_be_reused_after_completion(checker: CompletionChecker, complete: Complete) -> None:
    checker.submitted(1, 5)
    complete(1, 5, 1)
    checker.submitted(1, 5)
    complete(1, 5, 2)
    checker.final_check()


def test_duplicate_cid_fails(checker: CompletionChecker, complete: Complete) -> None:
    checker.submitted(1, 5)
    complete(1, 5, 1)
    with pytest.raises(AssertionError, match="duplicate completion of CID 0x0005"):
        complete(1, 5, 1)


def test_never_submitted_cid_fails(checker: CompletionChecker, complete: Complete) -> None:
    checker.submitted(1, 5)
    with pytest.raises(AssertionError, match="never submitted CID 0x0006"):
        complete(1, 6, 1)


def test_wrong_phase_fails(checker: CompletionChecker, complete: Complete) -> None:
    checker.submitted(1, 1)
    with pytest.raises(AssertionError, match="phase 0, expected 1"):
        complete(1, 1, 1, phase=0)


def test_phase_must_flip_exactly_at_wrap(checker: CompletionChecker, complete: Complete) -> None:
    for n in range(SIZE):
        checker.submitted(1, n)
        complete(1, n, (n + 1) % SIZE)
    checker.submitted(1, 9)
    with pytest.raises(AssertionError, match="phase 1, expected 0"):
        complete(1, 9, 1, phase=1)   # a controller that forgot to invert the phase


def test_sq_not_mapped_to_cq_fails(checker: CompletionChecker) -> None:
    checker.sq_created(3, SIZE)
    checker.submitted(3, 1)
    with pytest.raises(AssertionError, match="SQ 3 does not map to this CQ"):
        checker.completed(1, CompletionEntry(sq_head=1, sq_id=3, cid=1, phase=1), SQS_OF_CQ1)


def test_sq_head_passing_the_tail_fails(checker: CompletionChecker, complete: Complete) -> None:
    checker.submitted(1, 1)
    with pytest.raises(AssertionError, match="passes the tail"):
        complete(1, 1, 2)


def test_sq_head_going_backwards_fails(checker: CompletionChecker, complete: Complete) -> None:
    for cid in (1, 2):
        checker.submitted(1, cid)
    complete(1, 1, 2)
    # head 1 after head 2 reads as a jump forward by 3, past the 2 submitted
    with pytest.raises(AssertionError, match="passes the tail"):
        complete(1, 2, 1)


def test_sq_head_must_pass_the_completed_command(checker: CompletionChecker, complete: Complete) -> None:
    for cid in (1, 2):
        checker.submitted(1, cid)
    with pytest.raises(AssertionError, match="has not passed this command's SQE"):
        complete(1, 2, 1)   # CID 2 sits in SQ slot 1; a head of 1 means it was not fetched


def test_head_outside_the_sq_fails(checker: CompletionChecker, complete: Complete) -> None:
    checker.submitted(1, 1)
    with pytest.raises(AssertionError, match="outside an SQ of 4"):
        complete(1, 1, SIZE)


def test_host_overflowing_the_sq_fails(checker: CompletionChecker) -> None:
    for cid in range(SIZE - 1):
        checker.submitted(1, cid)
    with pytest.raises(AssertionError, match="host overflowed the SQ"):
        checker.submitted(1, 99)


def test_reusing_an_outstanding_cid_fails(checker: CompletionChecker) -> None:
    checker.submitted(1, 7)
    with pytest.raises(AssertionError, match="reused CID 0x0007"):
        checker.submitted(1, 7)


def test_unexpected_status_fails_by_default(checker: CompletionChecker, complete: Complete) -> None:
    checker.submitted(1, 1)
    with pytest.raises(AssertionError, match="expected SUCCESS"):
        complete(1, 1, 1, status=Status.of(GenericStatus.INVALID_OPCODE))


def test_expected_status_from_a_dict() -> None:
    bad_qid = Status.of(CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)
    checker = CompletionChecker({(0, 3): bad_qid})
    checker.cq_created(0, SIZE)
    checker.sq_created(0, SIZE)
    checker.submitted(0, 3)
    checker.completed(0, CompletionEntry(sq_head=1, sq_id=0, cid=3, phase=1,
                                         status=Status.of(CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER, dnr=True)),
                      (0,))
    checker.submitted(0, 4)
    with pytest.raises(AssertionError, match="status INVALID_QUEUE_IDENTIFIER.*expected SUCCESS"):
        checker.completed(0, CompletionEntry(sq_head=2, sq_id=0, cid=4, phase=1, status=bad_qid), (0,))


def test_expected_status_from_a_callable() -> None:
    checker = CompletionChecker(lambda sqid, cid: Status.of(GenericStatus.INVALID_FIELD))
    checker.cq_created(1, SIZE)
    checker.sq_created(1, SIZE)
    checker.submitted(1, 1)
    with pytest.raises(AssertionError, match="expected INVALID_FIELD"):
        checker.completed(1, CompletionEntry(sq_head=1, sq_id=1, cid=1, phase=1), (1,))


def test_expected_status_may_name_alternatives() -> None:
    """An Abort's target completes either normally or with Command Abort Requested."""
    aborted = Status.of(GenericStatus.ABORT_REQUESTED)
    checker = CompletionChecker(lambda sqid, cid: (SUCCESS, aborted))
    checker.cq_created(1, SIZE)
    checker.sq_created(1, SIZE)
    for cid, status in ((1, SUCCESS), (2, aborted)):
        checker.submitted(1, cid)
        checker.completed(1, CompletionEntry(sq_head=cid, sq_id=1, cid=cid, phase=1, status=status), (1,))
    checker.submitted(1, 3)
    with pytest.raises(AssertionError, match="expected SUCCESS.* or ABORT_REQUESTED"):
        checker.completed(1, CompletionEntry(sq_head=3, sq_id=1, cid=3, phase=1,
                                             status=Status.of(GenericStatus.INVALID_FIELD)), (1,))


def test_final_check_fails_when_nothing_was_checked(checker: CompletionChecker) -> None:
    with pytest.raises(AssertionError, match="saw no completion"):
        checker.final_check()


def test_final_check_reports_a_lost_completion(checker: CompletionChecker, complete: Complete) -> None:
    checker.submitted(1, 1)
    checker.submitted(1, 2)
    complete(1, 1, 2)
    with pytest.raises(AssertionError, match=r"SQ 1 CIDs \['0x2'\]"):
        checker.final_check()


def test_deleting_an_sq_with_outstanding_commands_fails(checker: CompletionChecker) -> None:
    checker.submitted(2, 1)
    with pytest.raises(AssertionError, match="never completed"):
        checker.sq_deleted(2)


def test_controller_reset_forgets_queues_and_commands(checker: CompletionChecker) -> None:
    checker.submitted(1, 1)
    checker.controller_reset()
    assert checker.outstanding() == {}
    checker.cq_created(1, SIZE)   # no "created twice"


def test_unknown_queues_fail(checker: CompletionChecker) -> None:
    with pytest.raises(AssertionError, match="SQ 9 does not exist"):
        checker.submitted(9, 1)
    with pytest.raises(AssertionError, match="CQ 9 does not exist"):
        checker.completed(9, CompletionEntry(phase=1), (1,))
