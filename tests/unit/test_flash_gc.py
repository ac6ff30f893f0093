"""Victim policies and the analytic write-amplification formula."""

import math

import numpy as np
import pytest

from models.flash.gc import EXCLUDED, analytic_waf, cost_benefit, fifo, greedy, lambert_w0

SIZE = 100


@pytest.fixture
def blocks():
    """valid, excluded, last_write for five superblocks; #0 is free (excluded)."""
    valid = np.array([0, 50, 20, 90, 20])
    excluded = np.array([EXCLUDED, 0, 0, 0, 0])
    last_write = np.array([0, 10, 900, 5, 1000])
    return valid, excluded, last_write


def test_greedy_ranks_fewest_valid_first_and_skips_excluded(blocks):
    assert greedy(*blocks, 1000, SIZE, 3).tolist() == [2, 4, 1]


def test_fifo_ranks_oldest_first(blocks):
    assert fifo(*blocks, 1000, SIZE, 2).tolist() == [3, 1]


def test_cost_benefit_prefers_old_data_over_fewer_valid(blocks):
    # #1: age 991, u 0.5 -> 495; #2: age 101, u 0.2 -> 202.
    assert cost_benefit(*blocks, 1000, SIZE, 1).tolist() == [1]


def test_no_candidate_gives_empty_ranking():
    valid = np.zeros(3, dtype=np.int64)
    excluded = np.full(3, EXCLUDED)
    assert len(greedy(valid, excluded, valid, 0, SIZE, 2)) == 0


@pytest.mark.parametrize("x", [-1 / math.e, -0.3670, -0.2, -1e-6])
def test_lambert_w0_inverts_w_exp_w(x):
    w = lambert_w0(x)
    assert w * math.exp(w) == pytest.approx(x, abs=1e-12)
    assert w >= -1


def test_analytic_waf_matches_published_values():
    assert [round(analytic_waf(op), 2) for op in (0.07, 0.125, 0.25, 0.5)] == [7.82, 4.68, 2.69, 1.72]
