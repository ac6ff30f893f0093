"""ZNS back end: zone state machine, write pointer, append, limits, errors."""

import pytest

from models.backend import BackendError
from models.flash import Geometry, ZnsBackend
from models.zoned import ZoneAction, ZoneState
from models.nvme_spec import CommandSpecificStatus, GenericStatus, StatusCode

# Zones of 2 blocks x 4 pages x 2 sectors = 16 LBAs; 8 zones.
GEOMETRY = Geometry(channels=2, luns_per_channel=1, planes=1, blocks_per_plane=8,
                    pages_per_block=4, page_size=8192, sector_size=4096, oob_size=64)
PAGE = 4096
ZSZE = 16


@pytest.fixture
def zns() -> ZnsBackend:
    return ZnsBackend(geometry=GEOMETRY, max_open=2, max_active=3)


def data(n: int, tag: int = 1) -> bytes:
    return bytes([tag]) * (n * PAGE)


def state(z: ZnsBackend, zone: int) -> ZoneState:
    return z.report()[zone].state


def code_of(call) -> StatusCode:
    with pytest.raises(BackendError) as e:
        call()
    return e.value.code


def test_sequential_writes_read_back_and_advance_the_write_pointer(zns):
    zns.write(0, data(3, 7), 0)
    assert zns.report()[0].wp == 3
    assert state(zns, 0) == ZoneState.IMPLICIT_OPEN
    got, _ = zns.read(0, 4, 0)
    assert got == data(3, 7) + bytes(PAGE)  # beyond the write pointer: zeros


def test_write_not_at_write_pointer_is_zone_invalid_write(zns):
    zns.write(0, data(1), 0)
    assert code_of(lambda: zns.write(5, data(1), 0)) is CommandSpecificStatus.ZONE_INVALID_WRITE


def test_write_past_capacity_is_boundary_error(zns):
    assert code_of(lambda: zns.write(0, data(ZSZE + 1), 0)) is CommandSpecificStatus.ZONE_BOUNDARY_ERROR


def test_filling_a_zone_makes_it_full_and_releases_resources(zns):
    zns.write(0, data(ZSZE), 0)
    assert state(zns, 0) == ZoneState.FULL
    assert code_of(lambda: zns.append(0, data(1), 0)) is CommandSpecificStatus.ZONE_IS_FULL
    assert zns.read(0, ZSZE, 0)[0] == data(ZSZE)


def test_append_returns_the_assigned_lba(zns):
    assert zns.append(ZSZE, data(2), 0)[0] == ZSZE
    assert zns.append(ZSZE, data(1), 0)[0] == ZSZE + 2
    assert code_of(lambda: zns.append(ZSZE + 1, data(1), 0)) is GenericStatus.INVALID_FIELD


def test_implicit_open_beyond_limit_closes_the_oldest_implicit_zone(zns):
    for z in range(2):
        zns.write(z * ZSZE, data(1), 0)
    zns.write(2 * ZSZE, data(1), 0)
    assert [state(zns, z) for z in range(3)] == [ZoneState.CLOSED, ZoneState.IMPLICIT_OPEN,
                                                 ZoneState.IMPLICIT_OPEN]


def test_explicitly_opened_zones_are_not_closed_for_room(zns):
    for z in range(2):
        zns.zone_action(ZoneAction.OPEN, z * ZSZE, 0)
    assert code_of(lambda: zns.write(2 * ZSZE, data(1), 0)) is CommandSpecificStatus.TOO_MANY_OPEN_ZONES


def test_active_limit(zns):
    for z in range(3):
        zns.write(z * ZSZE, data(1), 0)  # three active (one closed to make room)
    assert code_of(lambda: zns.write(3 * ZSZE, data(1), 0)) is CommandSpecificStatus.TOO_MANY_ACTIVE_ZONES


@pytest.mark.parametrize("action, start, end", [
    (ZoneAction.CLOSE, ZoneState.IMPLICIT_OPEN, ZoneState.CLOSED),
    (ZoneAction.OPEN, ZoneState.IMPLICIT_OPEN, ZoneState.EXPLICIT_OPEN),
    (ZoneAction.FINISH, ZoneState.IMPLICIT_OPEN, ZoneState.FULL),
    (ZoneAction.RESET, ZoneState.IMPLICIT_OPEN, ZoneState.EMPTY),
    (ZoneAction.OPEN, ZoneState.EMPTY, ZoneState.EXPLICIT_OPEN),
    (ZoneAction.FINISH, ZoneState.EMPTY, ZoneState.FULL),
    (ZoneAction.RESET, ZoneState.EMPTY, ZoneState.EMPTY),
])
def test_transitions(zns, action, start, end):
    if start == ZoneState.IMPLICIT_OPEN:
        zns.write(0, data(1), 0)
    zns.zone_action(action, 0, 0)
    assert state(zns, 0) == end


@pytest.mark.parametrize("action", [ZoneAction.CLOSE, ZoneAction.OPEN])
def test_invalid_transitions_from_full(zns, action):
    zns.zone_action(ZoneAction.FINISH, 0, 0)
    assert code_of(lambda: zns.zone_action(action, 0, 0)) is CommandSpecificStatus.INVALID_ZONE_STATE_TRANSITION


def test_finish_keeps_data_and_moves_the_write_pointer_to_the_end(zns):
    zns.write(0, data(3, 9), 0)  # one sector still in the partial page
    zns.zone_action(ZoneAction.FINISH, 0, 0)
    assert zns.report()[0].wp == ZSZE
    assert zns.read(0, 4, 0)[0] == data(3, 9) + bytes(PAGE)


def test_reset_erases_and_allows_rewrite(zns):
    zns.write(0, data(4, 1), 0)
    erases = zns.smart()["block_erases"]
    zns.zone_action(ZoneAction.RESET, 0, 0)
    assert zns.smart()["block_erases"] == erases + GEOMETRY.columns
    assert zns.read(0, 4, 0)[0] == bytes(4 * PAGE)
    zns.write(0, data(4, 2), 0)
    assert zns.read(0, 4, 0)[0] == data(4, 2)


def test_select_all_closes_every_open_zone(zns):
    zns.write(0, data(1), 0)
    zns.zone_action(ZoneAction.OPEN, ZSZE, 0)
    zns.zone_action(ZoneAction.CLOSE, 0, 0, select_all=True)
    assert [state(zns, z) for z in range(3)] == [ZoneState.CLOSED, ZoneState.CLOSED, ZoneState.EMPTY]


def test_power_loss_keeps_data_and_closes_open_zones(zns):
    zns.write(0, data(3, 5), 0)
    zns.power_loss()
    zns.recover()
    assert state(zns, 0) == ZoneState.CLOSED
    assert zns.read(0, 3, 0)[0] == data(3, 5)
    zns.write(3, data(1, 6), 0)  # writing resumes at the write pointer
    assert zns.read(3, 1, 0)[0] == data(1, 6)


def test_deallocate_is_not_supported(zns):
    assert code_of(lambda: zns.trim(0, 1, 0)) is GenericStatus.INVALID_OPCODE
