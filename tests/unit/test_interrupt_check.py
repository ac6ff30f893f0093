"""InterruptChecker: causes, masking, unmask delivery, coalescing, lost interrupts."""

import pytest

from models.interrupt_check import NS_PER_100US, InterruptChecker

US = 1_000
IO_VECTOR = 1


@pytest.fixture
def checker() -> InterruptChecker:
    return InterruptChecker(slack_ns=10 * US)


@pytest.fixture
def coalescing(checker: InterruptChecker) -> InterruptChecker:
    """Coalescing on: a message after 4 CQEs (THR 3) or 200 us (TIME 2)."""
    checker.set_coalescing(thr=3, time_100us=2)
    return checker


def test_one_message_per_cqe(checker: InterruptChecker) -> None:
    for n in range(3):
        checker.cqe_posted(1, IO_VECTOR, n * US)
        checker.msix(IO_VECTOR, n * US + 100)
    checker.final_check(5 * US)
    assert checker.messages_checked == 3


def test_one_message_may_cover_several_cqes(checker: InterruptChecker) -> None:
    checker.cqe_posted(1, IO_VECTOR, 0)
    checker.cqe_posted(2, IO_VECTOR, 10)   # two CQs sharing a vector
    checker.msix(IO_VECTOR, 20)
    checker.final_check(30)


def test_message_without_cause_fails(checker: InterruptChecker) -> None:
    with pytest.raises(AssertionError, match="no CQE posted"):
        checker.msix(IO_VECTOR, 0)


def test_second_message_for_one_cqe_fails(checker: InterruptChecker) -> None:
    checker.cqe_posted(1, IO_VECTOR, 0)
    checker.msix(IO_VECTOR, 10)
    with pytest.raises(AssertionError, match="no CQE posted"):
        checker.msix(IO_VECTOR, 20)


def test_cause_on_another_vector_does_not_count(checker: InterruptChecker) -> None:
    checker.cqe_posted(2, 2, 0)
    with pytest.raises(AssertionError, match="vector 1 .* no CQE"):
        checker.msix(IO_VECTOR, 10)


def test_masked_vector_sends_nothing(checker: InterruptChecker) -> None:
    checker.mask(IO_VECTOR, True, 0)
    checker.cqe_posted(1, IO_VECTOR, 10)
    with pytest.raises(AssertionError, match="while the vector is masked"):
        checker.msix(IO_VECTOR, 20)


def test_unmask_delivers_the_pending_message(checker: InterruptChecker) -> None:
    checker.cqe_posted(0, 0, 0)
    checker.msix(0, 10)
    checker.mask(IO_VECTOR, True, 0)
    checker.cqe_posted(1, IO_VECTOR, 10)
    checker.final_check(100 * US)          # masked: a pending message is not lost
    checker.mask(IO_VECTOR, False, 200 * US)
    checker.msix(IO_VECTOR, 200 * US + 50)
    checker.final_check(300 * US)


def test_unmask_without_delivery_fails(checker: InterruptChecker) -> None:
    checker.cqe_posted(0, 0, 0)
    checker.msix(0, 10)
    checker.mask(IO_VECTOR, True, 0)
    checker.cqe_posted(1, IO_VECTOR, 10)
    checker.mask(IO_VECTOR, False, 100 * US)
    checker.final_check(100 * US + 5 * US)   # within the slack: not yet
    with pytest.raises(AssertionError, match="unmasked at 100000 ns with a pending message"):
        checker.final_check(200 * US)


def test_lost_interrupt_fails(checker: InterruptChecker) -> None:
    checker.cqe_posted(0, 0, 0)
    checker.msix(0, 10)
    checker.cqe_posted(1, IO_VECTOR, 1 * US)
    with pytest.raises(AssertionError, match="lost interrupt: message due at 1000 ns"):
        checker.final_check(50 * US)


def test_final_check_fails_without_messages(checker: InterruptChecker) -> None:
    with pytest.raises(AssertionError, match="saw no MSI-X message"):
        checker.final_check(0)


def test_coalescing_waits_for_thr_plus_one(coalescing: InterruptChecker) -> None:
    for n in range(4):
        coalescing.cqe_posted(1, IO_VECTOR, n * US)
    coalescing.msix(IO_VECTOR, 4 * US)
    coalescing.final_check(5 * US)


def test_coalescing_early_message_fails(coalescing: InterruptChecker) -> None:
    for n in range(3):
        coalescing.cqe_posted(1, IO_VECTOR, n * US)
    with pytest.raises(AssertionError, match="coalescing violated: 3 CQE"):
        coalescing.msix(IO_VECTOR, 4 * US)


def test_coalescing_time_expiry_allows_a_message(coalescing: InterruptChecker) -> None:
    coalescing.cqe_posted(1, IO_VECTOR, 0)
    with pytest.raises(AssertionError, match="coalescing violated"):
        coalescing.msix(IO_VECTOR, 2 * NS_PER_100US - 1)
    coalescing.msix(IO_VECTOR, 2 * NS_PER_100US)
    coalescing.final_check(2 * NS_PER_100US)


def test_coalescing_lost_after_time_expiry(coalescing: InterruptChecker) -> None:
    coalescing.cqe_posted(0, 0, 0)
    coalescing.msix(0, 0)
    coalescing.cqe_posted(1, IO_VECTOR, 0)
    coalescing.final_check(2 * NS_PER_100US)   # due at 200 us, within slack
    with pytest.raises(AssertionError, match="lost interrupt"):
        coalescing.final_check(2 * NS_PER_100US + 20 * US)


def test_admin_vector_is_never_coalesced(coalescing: InterruptChecker) -> None:
    coalescing.cqe_posted(0, 0, 0)
    coalescing.msix(0, 10)
    assert not coalescing.coalesced(0)


def test_coalescing_disabled_vector_fires_at_once(coalescing: InterruptChecker) -> None:
    coalescing.set_coalescing_disabled(IO_VECTOR, True)
    coalescing.cqe_posted(1, IO_VECTOR, 0)
    coalescing.msix(IO_VECTOR, 10)
    coalescing.set_coalescing_disabled(IO_VECTOR, False)
    coalescing.cqe_posted(1, IO_VECTOR, 20)
    with pytest.raises(AssertionError, match="coalescing violated"):
        coalescing.msix(IO_VECTOR, 30)


def test_unmask_before_the_message_is_due_keeps_coalescing(coalescing: InterruptChecker) -> None:
    coalescing.mask(IO_VECTOR, True, 0)
    coalescing.cqe_posted(1, IO_VECTOR, 10)
    coalescing.mask(IO_VECTOR, False, 20)   # one CQE, time not expired: nothing pending in the PBA
    with pytest.raises(AssertionError, match="coalescing violated"):
        coalescing.msix(IO_VECTOR, 30)


def test_unmask_of_a_due_coalesced_message_delivers_at_once(coalescing: InterruptChecker) -> None:
    coalescing.mask(IO_VECTOR, True, 0)
    for n in range(4):
        coalescing.cqe_posted(1, IO_VECTOR, 10 + n)
    coalescing.mask(IO_VECTOR, False, 100)
    coalescing.msix(IO_VECTOR, 110)
    coalescing.final_check(120)


def test_aggregation_keeps_the_time_it_started_with(coalescing: InterruptChecker) -> None:
    """A TIME set while CQEs gather applies to the next aggregation, as in the RTL."""
    coalescing.cqe_posted(1, IO_VECTOR, 0)
    coalescing.set_coalescing(thr=3, time_100us=9)
    coalescing.msix(IO_VECTOR, 2 * NS_PER_100US)   # due by the TIME of 2 in force at the first CQE
    coalescing.cqe_posted(1, IO_VECTOR, 3 * NS_PER_100US)
    with pytest.raises(AssertionError, match="coalescing violated"):
        coalescing.msix(IO_VECTOR, 5 * NS_PER_100US)   # now TIME 9 from the first CQE


def test_controller_reset_turns_coalescing_off(coalescing: InterruptChecker) -> None:
    coalescing.set_coalescing_disabled(2, True)
    coalescing.controller_reset()
    coalescing.cqe_posted(1, IO_VECTOR, 0)
    coalescing.msix(IO_VECTOR, 10)    # at once: the features are back to their defaults
    assert coalescing.coalesced(2)


def test_time_zero_makes_the_next_cqe_due(coalescing: InterruptChecker) -> None:
    """Coalescing turned off (TIME 0) while CQEs gather: the RTL signals at the next CQE."""
    coalescing.cqe_posted(1, IO_VECTOR, 0)
    coalescing.set_coalescing(thr=3, time_100us=0)
    coalescing.cqe_posted(1, IO_VECTOR, 50)
    coalescing.msix(IO_VECTOR, 60)
    assert coalescing.messages_checked == 1
