"""Busy-until timing: parallel units overlap, shared ones serialize."""

import pytest

from models.flash import PRESETS, NandTimingModel

GEOMETRY = PRESETS["ox"].geometry
T = PRESETS["ox"].timing
PAGE = GEOMETRY.page_size
READ = T.t_read_ns + T.xfer_ns(PAGE)


@pytest.fixture
def model() -> NandTimingModel:
    return NandTimingModel(GEOMETRY, T)


def block(channel: int, lun: int, plane: int = 0) -> int:
    return GEOMETRY.block_id(channel, lun, plane, 0)


def test_single_read_is_tr_plus_transfer(model):
    assert model.read(block(0, 0), 1000, PAGE) == 1000 + READ


def test_reads_on_different_channels_overlap(model):
    assert model.read(block(0, 0), 0, PAGE) == READ
    assert model.read(block(1, 0), 0, PAGE) == READ


def test_reads_on_one_lun_serialize(model):
    model.read(block(0, 0), 0, PAGE)
    assert model.read(block(0, 0, plane=1), 0, PAGE) == 2 * READ


def test_same_channel_other_lun_shares_only_the_transfer(model):
    model.read(block(0, 0), 0, PAGE)
    # tR overlaps on the second LUN; its transfer waits for the channel.
    assert model.read(block(0, 1), 0, PAGE) == READ + T.xfer_ns(PAGE)


def test_program_is_transfer_then_tprog_and_frees_the_channel(model):
    done = model.program(block(0, 0), 0, PAGE)
    assert done == T.xfer_ns(PAGE) + T.t_prog_ns
    # Another LUN on that channel starts its transfer as soon as the first one ends.
    assert model.program(block(0, 1), 0, PAGE) == 2 * T.xfer_ns(PAGE) + T.t_prog_ns


def test_erase_holds_the_lun(model):
    assert model.erase(block(2, 3), 0) == T.t_erase_ns
    assert model.read(block(2, 3), 0, PAGE) == T.t_erase_ns + READ
    assert model.idle_since() == T.t_erase_ns + READ
