"""models/queue_budget.py: Number of Queues granted from a pool shared by a subsystem's controllers."""

from __future__ import annotations

import pytest

from models.queue_budget import QueueBudget


def test_each_controller_starts_with_an_equal_share() -> None:
    budget = QueueBudget(28, 4, 15)
    assert budget.share == 7 and budget.allocations == [7] * 4


def test_a_grant_takes_what_the_others_leave() -> None:
    budget = QueueBudget(28, 4, 15)
    assert [budget.grant(fn, 1) for fn in (1, 2, 3)] == [1, 1, 1]
    assert budget.grant(0, 64) == 15, "no more than the controller's queue ids"
    assert budget.grant(1, 64) == 11, "28 less the 15, 1 and 1 the others hold"
    assert budget.grant(2, 64) == 1, "never less than one pair"
    assert sum(budget.allocations) == 28


def test_a_reset_gives_back_all_but_the_share_or_what_is_left() -> None:
    budget = QueueBudget(28, 4, 15)
    budget.grant(0, 15)
    assert budget.grant(1, 15) == 7
    assert budget.reset(0) == 7
    assert budget.grant(1, 15) == 7, "the others still hold their shares"


def test_alone_every_queue_id_is_the_controllers() -> None:
    budget = QueueBudget.alone(64)
    assert budget.allocations == [64] and budget.grant(0, 3) == 3 and budget.reset(0) == 64


def test_every_controller_needs_a_pair() -> None:
    with pytest.raises(ValueError):
        QueueBudget(3, 4, 15)
