"""The ZNS layouts (models/zoned.py), the back end's failure states and check order, and the model's tracker."""

import pytest

from models.backend import BackendError
from models.flash import Geometry, ZnsBackend
from models.nvme_spec import CommandSpecificStatus, GenericStatus
from models.zone_model import ZoneTracker
from models.zoned import (CHANGED_ZONE_MAX, REPORT_HEADER_SIZE, ZONE_DESCRIPTOR_SIZE, ReportFilter, ZoneAction,
                          ZoneDescriptor, ZoneGeometry, ZoneReceiveFields, ZoneSendFields, ZoneState,
                          changed_zone_log, parse_changed_zone_log, parse_zone_report, zone_receive_cmd,
                          zone_report, zone_send_cmd, zns_identify_namespace)

GEOMETRY = Geometry(channels=2, luns_per_channel=1, planes=1, blocks_per_plane=8, pages_per_block=4,
                    page_size=8192, sector_size=4096, oob_size=64)
ZSZE = 16
CS = CommandSpecificStatus


def code_of(call) -> object:
    with pytest.raises(BackendError) as e:
        call()
    return e.value.code


@pytest.fixture
def zns() -> ZnsBackend:
    return ZnsBackend(geometry=GEOMETRY, zone_cap=12, max_open=2, max_active=3)


def test_zone_descriptor_layout() -> None:
    """ZT 2h in byte 0, ZS in byte 1's high nibble, ZCAP, ZSLBA and WP at 8, 16 and 24 (ZNS figure 37)."""
    raw = ZoneDescriptor(0x40, 48, 0x45, ZoneState.CLOSED).pack()
    assert len(raw) == ZONE_DESCRIPTOR_SIZE and raw[0] == 2 and raw[1] == 0x40
    assert int.from_bytes(raw[8:16], "little") == 48 and int.from_bytes(raw[16:24], "little") == 0x40
    assert ZoneDescriptor.unpack(raw) == ZoneDescriptor(0x40, 48, 0x45, ZoneState.CLOSED)


def test_report_counts_every_match_or_only_those_sent() -> None:
    zones = [ZoneDescriptor(i * ZSZE, 12, i * ZSZE, ZoneState.EMPTY) for i in range(5)]
    length = REPORT_HEADER_SIZE + 2 * ZONE_DESCRIPTOR_SIZE + 8     # room for two and a bit
    assert parse_zone_report(zone_report(zones, partial=False, length=length)) == (5, zones[:2])
    assert parse_zone_report(zone_report(zones, partial=True, length=length)) == (2, zones[:2])
    assert len(zone_report(zones, partial=False, length=length)) == length


def test_changed_zone_list_overflows_to_ffffh() -> None:
    assert parse_changed_zone_log(changed_zone_log([0x10, 0x20])) == [0x10, 0x20]
    assert parse_changed_zone_log(changed_zone_log(list(range(CHANGED_ZONE_MAX + 1)))) is None


def test_command_fields_round_trip() -> None:
    send = ZoneSendFields.decode(zone_send_cmd(1, 1 << 40, ZoneAction.FINISH, select_all=True))
    assert (send.slba, send.action, send.select_all) == (1 << 40, ZoneAction.FINISH, True)
    receive = ZoneReceiveFields.decode(zone_receive_cmd(1, 7, 4096, 0, option=ReportFilter.FULL, partial=True))
    assert (receive.slba, receive.length, receive.option, receive.partial) == (7, 4096, ReportFilter.FULL, True)


def test_identify_reports_limits_zero_based_and_unlimited_as_all_ones() -> None:
    raw = zns_identify_namespace(ZoneGeometry(16, 12, max_open=2, max_active=None), formats=2)
    assert int.from_bytes(raw[4:8], "little") == 0xFFFF_FFFF and int.from_bytes(raw[8:12], "little") == 1
    assert int.from_bytes(raw[2816:2824], "little") == int.from_bytes(raw[2832:2840], "little") == 16


def test_read_only_zone_keeps_its_data_and_refuses_writes(zns) -> None:
    zns.write(0, bytes(3 * 4096), 0)
    zns.fail_zone(0, ZoneState.READ_ONLY)
    assert zns.read(0, 3, 0)[0] == bytes(3 * 4096)
    assert code_of(lambda: zns.write(3, bytes(4096), 0)) is CS.ZONE_IS_READ_ONLY
    assert code_of(lambda: zns.zone_action(ZoneAction.RESET, 0, 0)) is CS.INVALID_ZONE_STATE_TRANSITION
    zns.zone_action(ZoneAction.OFFLINE, 0, 0)
    assert code_of(lambda: zns.read(ZSZE - 1, 2, 0)) is CS.ZONE_IS_OFFLINE      # across into it, or from it
    assert code_of(lambda: zns.append(0, bytes(4096), 0)) is CS.ZONE_IS_OFFLINE


def test_offline_only_from_read_only(zns) -> None:
    assert code_of(lambda: zns.zone_action(ZoneAction.OFFLINE, 0, 0)) is CS.INVALID_ZONE_STATE_TRANSITION
    with pytest.raises(ValueError):
        zns.fail_zone(0, ZoneState.FULL)


def test_state_before_write_pointer_before_capacity(zns) -> None:
    """QEMU's order: a Full zone is Zone Is Full wherever the write lands; off the write pointer is Zone
    Invalid Write even when it would also cross the capacity."""
    zns.zone_action(ZoneAction.FINISH, 0, 0)
    assert code_of(lambda: zns.write(5, bytes(4096), 0)) is CS.ZONE_IS_FULL
    assert code_of(lambda: zns.write(ZSZE + 5, bytes(20 * 4096), 0)) is CS.ZONE_INVALID_WRITE
    assert code_of(lambda: zns.append(ZSZE + 1, bytes(4096), 0)) is GenericStatus.INVALID_FIELD


def test_controller_reset_closes_opened_zones(zns) -> None:
    zns.write(0, bytes(4096), 0)
    zns.zone_action(ZoneAction.OPEN, ZSZE, 0)
    zns.close_opened()
    assert [zns.zone(z * ZSZE).state for z in range(3)] == [ZoneState.CLOSED, ZoneState.CLOSED, ZoneState.EMPTY]
    assert zns.zone(0).wp == 1


def test_tracker_follows_the_same_rules() -> None:
    """The model's tracker: implicit opens close the oldest implicit zone, explicit ones do not; a Full
    zone's write pointer is its capacity's end; an append to a Full zone fails on the zone, not the next."""
    zones = ZoneTracker(ZoneGeometry(16, 12, max_open=2, max_active=3), 128)
    for z in (0, 1, 2):
        assert zones.write(z, z * 16, 1) is None
    assert zones.state[:3] == [ZoneState.CLOSED, ZoneState.IMPLICIT_OPEN, ZoneState.IMPLICIT_OPEN]
    assert zones.write(3, 48, 1) is CS.TOO_MANY_ACTIVE_ZONES
    assert zones.apply(ZoneAction.FINISH, 1) is None and zones.wp[1] == 16 + 12
    assert zones.write_status(1, zones.wp[1], 1) is CS.ZONE_IS_FULL
    assert zones.apply(ZoneAction.CLOSE, 3) is CS.INVALID_ZONE_STATE_TRANSITION
