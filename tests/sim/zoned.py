"""The Zoned Namespace command set through the real front end, queues and DMA engine, on the zns back end.

One zoned namespace (NSID 1) of 16 zones of 64 LBAs, each with a zone
capacity of 48, at most 3 open and 5 active zones; LBAs are 4 KiB, MDTS
is 128 KiB and ZASL 64 KiB. The completion scoreboard checks every status
against the reference model's own zone state machine (models/zone_model.py),
the data scoreboard every read, zone report and Zone Append LBA; each test
also asserts what it expects itself. Read Only and Offline zones come from
a media failure the test injects into the back end and tells the model of.
"""

from __future__ import annotations

import struct
from dataclasses import replace

import pyuvm

from contract import nvme_bar0 as bar0
from models.flash import Geometry
from models.identify import IDENTIFY_SIZE, LBA_FORMATS, Cns, NidType, parse_namespace_list, parse_ns_descriptors
from models.nvme_commands import (async_event_request_cmd, get_log_page_cmd, identify_cmd, read_cmd, write_cmd,
                                  write_zeroes_cmd)
from models.nvme_logs import ZONE_DESCRIPTOR_CHANGED, LogId, parse_command_effects
from models.nvme_regs import CAP_CSS_IO_SETS, NVME_REG_CC
from models.nvme_spec import (CC_CSS_ALL_IO, CC_CSS_NVM, IOCS_COMBINATION, CommandSpecificStatus, CompletionEntry,
                              Csi, FeatureId, GenericStatus, NvmOpcode, Status, StatusCode, SubmissionEntry)
from models.zoned import (AEC_ZONE_DESCRIPTOR_CHANGED, LBAFE_OFFSET, ReportFilter, ZnsOpcode,
                          ZoneAction, ZoneDescriptor, ZoneState, appended_lba, parse_changed_zone_log,
                          parse_zone_report, zone_append_cmd, zone_receive_cmd, zone_send_cmd)
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer, assert_still_pending, run_all, wait_for_any
from tb.nvme_queues import NvmeQueue

TIMEOUT_MS = 200
# a write waits for the NAND programs of the pages it fills (tPROG 500 us, two LUNs), a reset for an erase
COMMAND_TIMEOUT_NS = 20_000_000
NSID = 1
# 2 columns x 8 pages x 4 sectors: zones of 64 LBAs, 16 of them
GEOMETRY = Geometry(channels=2, luns_per_channel=1, planes=1, blocks_per_plane=16, pages_per_block=8,
                    page_size=16384, sector_size=4096, oob_size=64)
ZONE, ZCAP, ZONES, MAX_OPEN, MAX_ACTIVE = 64, 48, 16, 3, 5
OK: StatusCode = GenericStatus.SUCCESS
UNKNOWN_CSI = 0x3   # no command set has it

CS = CommandSpecificStatus


def zslba(zone: int) -> int:
    return zone * ZONE


class ZonedTest(CommandSetTest):
    """CommandSetTest on the zns back end, with an I/O queue pair and an MDTS-sized data buffer."""

    backend_kind = "zns"
    backend_config = {"geometry": GEOMETRY, "zone_cap": ZCAP, "max_open": MAX_OPEN, "max_active": MAX_ACTIVE}

    async def setup(self) -> None:
        await super().setup()
        await self.open_queue()
        self.buf = await HostBuffer.alloc(self.tb, 32)

    async def open_queue(self) -> None:
        await self.admin.set_num_queues(1, 1)
        self.queue: NvmeQueue = await self.admin.create_queue_pair(1, 32)

    async def run(self, sqe: SubmissionEntry, code: StatusCode = OK) -> CompletionEntry:
        (cqe,) = await run_all(self.queue, [sqe], COMMAND_TIMEOUT_NS)
        assert cqe.status.has(code), (f"opcode {sqe.opcode:#04x} CDW10 {sqe.cdw10:#x}: {cqe.status}, "
                                      f"expected {code.name}")
        return cqe

    def pattern(self, slba: int, nlb: int, tag: int) -> bytes:
        return b"".join(struct.pack("<QQ", lba, tag) * (PAGE // 16) for lba in range(slba, slba + nlb))

    async def write(self, slba: int, nlb: int, tag: int = 1, code: StatusCode = OK) -> bytes:
        data = self.pattern(slba, nlb, tag)
        await self.tb.rc.mem_address_space.write(self.buf.addr, data)
        await self.run(write_cmd(NSID, slba, nlb, *self.buf.prps(len(data))), code)
        return data

    async def read(self, slba: int, nlb: int, code: StatusCode = OK) -> bytes:
        await self.run(read_cmd(NSID, slba, nlb, *self.buf.prps(nlb * PAGE)), code)
        return bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, nlb * PAGE))

    async def append(self, zone: int, nlb: int, tag: int = 1, code: StatusCode = OK) -> int:
        """A Zone Append; the LBA it landed at."""
        data = self.pattern(0, nlb, tag)
        await self.tb.rc.mem_address_space.write(self.buf.addr, data)
        cqe = await self.run(zone_append_cmd(NSID, zslba(zone), nlb, *self.buf.prps(len(data))), code)
        return appended_lba(cqe.dw0, cqe.dw1)

    async def send(self, slba: int, action: ZoneAction | int, select_all: bool = False, code: StatusCode = OK) -> None:
        await self.run(zone_send_cmd(NSID, slba, action, select_all), code)

    async def report(self, slba: int = 0, option: ReportFilter = ReportFilter.ALL, partial: bool = False,
                     length: int = PAGE) -> tuple[int, list[ZoneDescriptor]]:
        await self.run(zone_receive_cmd(NSID, slba, length, *self.buf.prps(length), option=option, partial=partial))
        return parse_zone_report(bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, length)))

    async def zone(self, zone: int) -> ZoneDescriptor:
        _, (found, *_) = await self.report(zslba(zone), length=128)
        return found

    async def fail_zone(self, zone: int, state: ZoneState) -> None:
        """A media failure: the back end's zone turns Read Only or Offline; the model is told first, so it
        expects the notice the firmware then raises."""
        self.env.reference.model.zone_failed(NSID, zslba(zone), state)
        await self.firmware.fail_zone(NSID, zslba(zone), state)

    async def admin_data(self, sqe: SubmissionEntry, code: StatusCode = OK) -> bytes:
        """An admin command returning 4 KiB into the data buffer."""
        prp1, prp2 = self.buf.prps(IDENTIFY_SIZE)
        sqe = replace(sqe, prp1=prp1, prp2=prp2)
        cqe = await self.admin.execute(sqe, expect=None)
        assert cqe.status.has(code), f"admin {sqe.opcode:#04x} CDW10 {sqe.cdw10:#x}: {cqe.status}, expected {code.name}"
        return bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, IDENTIFY_SIZE))


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class CommandSetSelection(ZonedTest):
    """CAP.CSS offers I/O command sets and the host enables all of them (CC.CSS 110b); Identify describes
    the Zoned set (CNS 1Ch, 05h, 06h, 07h, the CSI descriptor), and a CSI no set has, or the KV set's
    structure for a zoned namespace, is Invalid Field; the effects log is per command set; the I/O Command
    Set Profile takes only combination 0."""

    async def body(self) -> None:
        assert self.driver.cap is not None and self.driver.cap.css & CAP_CSS_IO_SETS
        assert bar0.CC.CSS.get(await self.regs.readl(NVME_REG_CC)) == CC_CSS_ALL_IO
        sets = await self.admin_data(identify_cmd(Cns.IO_COMMAND_SETS))
        assert struct.unpack_from("<Q", sets)[0] == IOCS_COMBINATION
        assert (await self.admin_data(identify_cmd(Cns.IO_CONTROLLER, csi=Csi.ZONED)))[0] == self.config.zasl
        zns = await self.admin_data(identify_cmd(Cns.IO_NAMESPACE, NSID, csi=Csi.ZONED))
        mar, mor = struct.unpack_from("<II", zns, 4)
        zsze = struct.unpack_from("<Q", zns, LBAFE_OFFSET + 16 * [f.lba_size for f in LBA_FORMATS].index(PAGE))[0]
        assert (mar, mor, zsze) == (MAX_ACTIVE - 1, MAX_OPEN - 1, ZONE), f"MAR {mar} MOR {mor} ZSZE {zsze}"
        assert not any(await self.admin_data(identify_cmd(Cns.IO_NAMESPACE, NSID, csi=Csi.NVM)))
        await self.admin_data(identify_cmd(Cns.IO_NAMESPACE, NSID, csi=Csi.KEY_VALUE), GenericStatus.INVALID_FIELD)
        await self.admin_data(identify_cmd(Cns.IO_CONTROLLER, csi=UNKNOWN_CSI), GenericStatus.INVALID_FIELD)
        assert parse_namespace_list(await self.admin_data(identify_cmd(Cns.IO_ACTIVE_NAMESPACES, csi=Csi.ZONED))) == [1]
        assert parse_namespace_list(await self.admin_data(identify_cmd(Cns.IO_ACTIVE_NAMESPACES, csi=Csi.NVM))) == []
        ids = parse_ns_descriptors(await self.admin_data(identify_cmd(Cns.NS_DESCRIPTORS, NSID)))
        assert ids[NidType.CSI] == bytes([Csi.ZONED])
        effects = await self.admin_data(get_log_page_cmd(LogId.COMMANDS_SUPPORTED, IDENTIFY_SIZE, csi=Csi.ZONED))
        _, io = parse_command_effects(effects)
        assert set(ZnsOpcode) <= set(io) and not {NvmOpcode.DATASET_MANAGEMENT, NvmOpcode.COPY} & set(io), sorted(io)
        await self.admin_data(get_log_page_cmd(LogId.COMMANDS_SUPPORTED, IDENTIFY_SIZE, csi=UNKNOWN_CSI),
                              GenericStatus.INVALID_FIELD)
        await self.admin.set_features(FeatureId.IO_COMMAND_SET_PROFILE, 0)
        await self.admin.set_features(FeatureId.IO_COMMAND_SET_PROFILE, 1,
                                      expect=Status.of(CS.IO_COMMAND_SET_COMBINATION_REJECTED))
        assert (await self.admin.get_features(FeatureId.IO_COMMAND_SET_PROFILE)).dw0 == 0
        count, zones = await self.report()
        assert count == ZONES and all(z.state == ZoneState.EMPTY and z.zcap == ZCAP for z in zones)
        self.assert_checked(reads=1, dw0s=1)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ZoneLifeCycle(ZonedTest):
    """Writes at the write pointer, every action on one zone and with Select All, Write Zeroes, and the
    report: all, filtered, from inside a zone, full and partial."""

    async def body(self) -> None:
        first = await self.write(0, 8, tag=1) + await self.write(8, 8, tag=2)
        assert await self.zone(0) == ZoneDescriptor(0, ZCAP, 16, ZoneState.IMPLICIT_OPEN)
        await self.send(zslba(1), ZoneAction.OPEN)
        await self.send(zslba(0), ZoneAction.CLOSE)
        assert [z.zslba for z in (await self.report(option=ReportFilter.CLOSED))[1]] == [zslba(0)]
        assert [z.zslba for z in (await self.report(option=ReportFilter.EXPLICIT_OPEN))[1]] == [zslba(1)]
        assert await self.read(0, 16) == first
        await self.send(zslba(0), ZoneAction.FINISH)
        assert await self.zone(0) == ZoneDescriptor(0, ZCAP, ZCAP, ZoneState.FULL)
        assert await self.read(0, 16) == first and not any(await self.read(16, 32))
        await self.send(zslba(0), ZoneAction.RESET)
        assert not any(await self.read(0, 16)), "a reset zone must read zeroes"
        await self.write(0, 4, tag=3)
        await self.run(write_zeroes_cmd(NSID, 4, 4))
        assert (await self.zone(0)).wp == 8 and not any((await self.read(0, 8))[4 * PAGE:])
        # the report: 4 descriptors fit; Number of Zones counts all that match, or those sent (partial)
        length = 64 + 4 * 64
        assert (await self.report(length=length))[0] == ZONES
        count, sent = await self.report(length=length, partial=True)
        assert count == len(sent) == 4
        count, sent = await self.report(zslba(5) + 7)
        assert count == ZONES - 5 and sent[0].zslba == zslba(5)
        await self.send(0, ZoneAction.CLOSE, select_all=True)
        assert {z.zslba for z in (await self.report(option=ReportFilter.CLOSED))[1]} == {zslba(0), zslba(1)}
        await self.send(0, ZoneAction.FINISH, select_all=True)
        await self.send(0, ZoneAction.RESET, select_all=True)
        assert (await self.report(option=ReportFilter.EMPTY))[0] == ZONES
        self.assert_checked(reads=12)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ZoneAppendsInFlight(ZonedTest):
    """Eight Zone Appends in flight to one zone, each from its own buffer: each lands on blocks of its own
    inside the zone, its LBA in DW0/DW1, and reads back there; then the zone fills and an append that does
    not fit fails."""

    async def body(self) -> None:
        zone, nlb, count = 3, 2, 8
        buffers = [await HostBuffer.alloc(self.tb, nlb) for _ in range(count)]
        datas = [self.pattern(0, nlb, tag) for tag in range(count)]
        for buf, data in zip(buffers, datas):
            await self.tb.rc.mem_address_space.write(buf.addr, data)
        cqes = await run_all(self.queue, [zone_append_cmd(NSID, zslba(zone), nlb, *buf.prps(nlb * PAGE))
                                          for buf in buffers], COMMAND_TIMEOUT_NS)
        assert all(cqe.status.is_success for cqe in cqes), [cqe.status for cqe in cqes]
        lbas = [appended_lba(cqe.dw0, cqe.dw1) for cqe in cqes]
        base = zslba(zone)
        assert sorted(lbas) == list(range(base, base + count * nlb, nlb)), [hex(lba) for lba in lbas]
        for lba, data in zip(lbas, datas):
            assert await self.read(lba, nlb) == data, f"appended data not at LBA {lba:#x}"
        used = count * nlb                                          # 16 blocks of ZCAP's 48
        assert await self.append(zone, 16) == base + used           # ZASL: 64 KiB
        assert await self.append(zone, 12) == base + used + 16
        await self.append(zone, 8, code=CS.ZONE_BOUNDARY_ERROR)     # 44 + 8 > ZCAP
        assert await self.append(zone, 4) == base + used + 28
        assert (await self.zone(zone)).state == ZoneState.FULL
        await self.append(zone, 1, code=CS.ZONE_IS_FULL)
        self.assert_checked(reads=count, dw0s=count + 3)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class EveryZoneStatus(ZonedTest):
    """Each zone status, and the Invalid Field and LBA Out of Range cases of the zone commands, in the
    order the checks run."""

    async def body(self) -> None:
        end = ZONES * ZONE
        await self.write(zslba(4) + 5, 1, code=CS.ZONE_INVALID_WRITE)
        misaligned = self.buf.addr + 2                                      # PRP Offset Invalid, were it used
        await self.run(write_cmd(NSID, zslba(4) + 5, 1, misaligned), CS.ZONE_INVALID_WRITE)   # zone before data
        await self.write(zslba(4), 32)
        await self.write(zslba(4) + 32, 32, code=CS.ZONE_BOUNDARY_ERROR)     # past ZCAP
        await self.append(4, 16)
        await self.write(zslba(4) + 48, 1, code=CS.ZONE_IS_FULL)             # state before write pointer
        await self.send(zslba(5), ZoneAction.CLOSE, code=CS.INVALID_ZONE_STATE_TRANSITION)
        await self.send(zslba(4), ZoneAction.OPEN, code=CS.INVALID_ZONE_STATE_TRANSITION)
        await self.send(zslba(4), ZoneAction.OFFLINE, code=CS.INVALID_ZONE_STATE_TRANSITION)
        for zone in (6, 7, 8):
            await self.send(zslba(zone), ZoneAction.OPEN)
        await self.send(zslba(9), ZoneAction.OPEN, code=CS.TOO_MANY_OPEN_ZONES)
        await self.write(zslba(9), 1, code=CS.TOO_MANY_OPEN_ZONES)          # only explicit zones are open
        await self.send(0, ZoneAction.CLOSE, select_all=True)
        await self.write(zslba(9), 1)
        await self.write(zslba(10), 1)                                     # five active now
        await self.write(zslba(11), 1, code=CS.TOO_MANY_ACTIVE_ZONES)
        await self.send(zslba(11), ZoneAction.OPEN, code=CS.TOO_MANY_ACTIVE_ZONES)
        await self.send(0, ZoneAction.RESET, select_all=True)
        # the fields of the zone commands
        await self.run(zone_append_cmd(NSID, zslba(2) + 1, 1, *self.buf.prps(PAGE)), GenericStatus.INVALID_FIELD)
        await self.append(2, 17, code=GenericStatus.INVALID_FIELD)          # over ZASL, under MDTS
        await self.run(zone_append_cmd(NSID, end, 1, *self.buf.prps(PAGE)), GenericStatus.LBA_OUT_OF_RANGE)
        await self.send(zslba(2) + 1, ZoneAction.OPEN, code=GenericStatus.INVALID_FIELD)
        await self.send(end, ZoneAction.OPEN, code=GenericStatus.LBA_OUT_OF_RANGE)
        for action in (0x0, 0x10):                                         # reserved; Set Zone Descriptor Ext.
            await self.send(zslba(2), action, code=GenericStatus.INVALID_FIELD)
        for sqe in (zone_receive_cmd(NSID, 0, PAGE, *self.buf.prps(PAGE), action=1),
                    zone_receive_cmd(NSID, 0, PAGE, *self.buf.prps(PAGE), option=8),
                    zone_receive_cmd(NSID, 0, 32, *self.buf.prps(32))):
            await self.run(sqe, GenericStatus.INVALID_FIELD)
        await self.run(zone_receive_cmd(NSID, end, PAGE, *self.buf.prps(PAGE)), GenericStatus.LBA_OUT_OF_RANGE)
        # a media failure: Read Only keeps the data readable, Offline nothing
        data = await self.write(zslba(12), 4)
        await self.fail_zone(12, ZoneState.READ_ONLY)
        assert await self.read(zslba(12), 4) == data
        await self.write(zslba(12) + 4, 1, code=CS.ZONE_IS_READ_ONLY)
        await self.append(12, 1, code=CS.ZONE_IS_READ_ONLY)
        await self.send(zslba(12), ZoneAction.RESET, code=CS.INVALID_ZONE_STATE_TRANSITION)
        assert [z.zslba for z in (await self.report(option=ReportFilter.READ_ONLY))[1]] == [zslba(12)]
        await self.send(0, ZoneAction.OFFLINE, select_all=True)
        assert (await self.zone(12)).state == ZoneState.OFFLINE
        await self.read(zslba(12), 1, code=CS.ZONE_IS_OFFLINE)
        await self.run(read_cmd(NSID, zslba(12), 1, misaligned), CS.ZONE_IS_OFFLINE)
        await self.read(zslba(11) + 60, 8, code=CS.ZONE_IS_OFFLINE)          # across into the Offline zone
        await self.write(zslba(12) + 4, 1, code=CS.ZONE_IS_OFFLINE)
        await self.append(12, 1, code=CS.ZONE_IS_OFFLINE)
        await self.fail_zone(13, ZoneState.OFFLINE)
        await self.send(zslba(13), ZoneAction.OFFLINE)
        assert (await self.report(option=ReportFilter.OFFLINE))[0] == 2
        self.assert_checked(reads=1)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class NvmCommandSetOnly(ZonedTest):
    """Enabled with CC.CSS 000b, the zoned namespace takes the NVM commands only: the zone commands are
    Invalid Opcode, but a write still goes at the write pointer (as QEMU's controller does)."""

    cc_css = CC_CSS_NVM

    async def body(self) -> None:
        assert bar0.CC.CSS.get(await self.regs.readl(NVME_REG_CC)) == CC_CSS_NVM
        for sqe in (zone_send_cmd(NSID, 0, ZoneAction.OPEN), zone_receive_cmd(NSID, 0, PAGE, *self.buf.prps(PAGE)),
                    zone_append_cmd(NSID, 0, 1, *self.buf.prps(PAGE))):
            await self.run(sqe, GenericStatus.INVALID_OPCODE)
        data = await self.write(0, 4)
        await self.write(8, 1, code=CS.ZONE_INVALID_WRITE)
        assert await self.read(0, 4) == data
        self.assert_checked(reads=1)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ZonesAfterReset(ZonedTest):
    """A controller reset closes the opened zones, implicitly and explicitly opened alike; write pointers
    and data stay."""

    async def body(self) -> None:
        data = await self.write(0, 6)
        await self.send(zslba(1), ZoneAction.OPEN)
        await self.disable_and_watch(quiet_ns=2_000)
        await self.bring_up()
        await self.open_queue()
        assert [(z.state, z.wp) for z in (await self.report(length=64 + 2 * 64))[1]] == [
            (ZoneState.CLOSED, 6), (ZoneState.CLOSED, zslba(1))]
        assert await self.read(0, 6) == data
        await self.write(6, 2)
        assert (await self.zone(0)).state == ZoneState.IMPLICIT_OPEN
        self.assert_checked(reads=2)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ZoneFailureNotice(ZonedTest):
    """With Zone Descriptor Changed notices on (AEC bit 27), a zone the controller turns Read Only completes
    a held AER; the Changed Zone List names it and, read with RAE, keeps it; a second failure's notice waits,
    masked, until the list is read without RAE, which empties it, then completes the next AER."""

    async def body(self) -> None:
        model = self.env.reference.model
        await self.admin.set_features(FeatureId.ASYNC_EVENT_CONFIG, AEC_ZONE_DESCRIPTOR_CHANGED)
        held = await self.admin.queue.submit_many([async_event_request_cmd()])
        await self.fail_zone(2, ZoneState.READ_ONLY)
        cqe = await wait_for_any(self.admin.queue, held, "AER after the zone failed")
        assert cqe.dw0 == ZONE_DESCRIPTOR_CHANGED.dw0 and model.async_completions == [cqe.dw0], hex(cqe.dw0)
        changed = get_log_page_cmd(LogId.CHANGED_ZONES, IDENTIFY_SIZE, nsid=NSID, csi=Csi.ZONED)
        assert parse_changed_zone_log(await self.admin_data(replace(changed, cdw10=changed.cdw10 | 1 << 15))) \
            == [zslba(2)]
        held = await self.admin.queue.submit_many([async_event_request_cmd()])
        await self.fail_zone(5, ZoneState.OFFLINE)
        await assert_still_pending(self.admin.queue, held, 20_000, "the notice is masked until the list is read")
        assert parse_changed_zone_log(await self.admin_data(changed)) == [zslba(2), zslba(5)]
        cqe = await wait_for_any(self.admin.queue, held, "AER once the list was read")
        assert model.async_completions == [ZONE_DESCRIPTOR_CHANGED.dw0] * 2
        assert parse_changed_zone_log(await self.admin_data(changed)) == [], "read without RAE: the list empties"
        await self.admin_data(replace(changed, cdw14=0), GenericStatus.INVALID_FIELD)   # a log of the Zoned set
        self.assert_checked(reads=3)
