"""AbortTracker: an Abort's target may complete either way until the Abort's DW0 says which."""

from dataclasses import replace

import pytest

from models.nvme_commands import abort_cmd
from models.nvme_spec import SUCCESS, CompletionEntry, GenericStatus, Status
from tb.aborts import ABORTED, AbortTracker

ABORT_CID = 9
TARGET = (1, 4)


@pytest.fixture
def tracker() -> AbortTracker:
    t = AbortTracker()
    t.abort_submitted(replace(abort_cmd(*TARGET), cid=ABORT_CID))
    return t


def abort_cqe(aborted: bool) -> CompletionEntry:
    return CompletionEntry(cid=ABORT_CID, dw0=0 if aborted else 1)


def test_target_may_complete_either_way_while_its_abort_is_outstanding(tracker: AbortTracker) -> None:
    assert tracker.expected(TARGET, SUCCESS) == (SUCCESS, ABORTED)
    assert tracker.expected((1, 5), SUCCESS) == SUCCESS


def test_an_abort_that_succeeded_first_makes_the_target_aborted_once(tracker: AbortTracker) -> None:
    tracker.abort_completed(abort_cqe(aborted=True))
    tracker.completed(TARGET, ABORTED)
    assert tracker.expected(TARGET, SUCCESS) == ABORTED
    assert tracker.expected(TARGET, SUCCESS) == SUCCESS   # the CID may be used again


def test_target_first_then_an_abort_that_disagrees_fails(tracker: AbortTracker) -> None:
    tracker.completed(TARGET, SUCCESS)
    with pytest.raises(AssertionError, match="says aborted"):
        tracker.abort_completed(abort_cqe(aborted=True))


def test_target_aborted_but_abort_says_not_fails(tracker: AbortTracker) -> None:
    tracker.completed(TARGET, Status.of(GenericStatus.ABORT_REQUESTED))
    with pytest.raises(AssertionError, match="says not aborted"):
        tracker.abort_completed(abort_cqe(aborted=False))
