"""Zoned namespaces (the ZNS command set) over the zns back end: zone checks, Zone Management, Zone Append.

A zoned namespace's LBAs are back-end pages (its LBA size is the page
size), and its allocation units are whole back-end zones
(``ControllerConfig.allocation_unit``), so each namespace zone is one
back-end zone, wherever the namespace's extents put it. The back end keeps
the zone state machine (models.flash.zns); this module translates zones
and checks what must fail before data moves.

Checks, in this order (the reference model's, QEMU's): for Write and Write
Zeroes, after MDTS and the LBA range, the zone's state, write pointer and
capacity, then the data, then the open and active resources as the back
end takes the write. Zone Append: MDTS and the LBA range, ZSLBA a zone's
start and the size within ZASL (Invalid Field), the zone as for a write at
its write pointer, the data, the resources; the LBA it landed at goes back
in DW0 and DW1. Read, Compare and Verify may cross zones but fail on an
Offline zone before any data moves. Zone Management Send: without Select
All, SLBA in range and a zone's start; the action; then each zone in zone
order, the first failure ending the command. Zone Management Receive: SLBA
in range, Report Zones only (no zone descriptor extensions), a known
reporting option, at least the 64-byte header and at most MDTS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.mailbox import CommandSlot
from firmware.nvme.outcome import IoOutcome, now_ns, wait_until
from models.backend import BackendError
from models.flash.zns import ZnsBackend
from models.identify import NamespaceConfig
from models.nvme_spec import SUCCESS, GenericStatus, NvmOpcode, Status, SubmissionEntry
from models.zoned import (REPORT_HEADER_SIZE, SELECT_ALL, ZRA_REPORT_ZONES, ReportFilter, ZoneAction,
                          ZoneDescriptor, ZoneReceiveFields, ZoneSendFields, ZoneState, zone_report)

if TYPE_CHECKING:
    from firmware.nvme.io import IoCommands


def _invalid_field() -> BackendError:
    return BackendError(GenericStatus.INVALID_FIELD)


class ZonedIo:
    """The zoned-namespace commands of one controller, through its ``IoCommands`` data paths."""

    def __init__(self, io: IoCommands, backend: ZnsBackend) -> None:
        self.io = io
        self.backend = backend

    def _page(self, ns: NamespaceConfig, lba: int) -> int:
        """The back-end page holding the namespace's block ``lba``."""
        start, _ = self.io.pieces(ns, lba, 1)[0]
        return start // self.backend.page_size

    async def rw(self, slot: CommandSlot, ns: NamespaceConfig, sqe: SubmissionEntry, slba: int,
                 nlb: int) -> IoOutcome:
        """Read, Compare, Verify, Write, Write Zeroes and Zone Append, once MDTS and the LBA range passed."""
        if sqe.opcode in (NvmOpcode.READ, NvmOpcode.COMPARE, NvmOpcode.VERIFY):
            page = self.backend.page_size
            for start, length in self.io.pieces(ns, slba, nlb):
                self.backend.check_read(start // page, length // page)
            return await self.io.nvm_rw(slot, ns, sqe.opcode, slba, nlb)
        if sqe.opcode == NvmOpcode.WRITE_ZEROES:
            self.backend.check_write(self._page(ns, slba), nlb)
            await self.io.store_blocks(ns, slba, bytes(nlb * ns.lba_size))
            return IoOutcome(SUCCESS)
        if sqe.opcode == NvmOpcode.WRITE:
            self.backend.check_write(self._page(ns, slba), nlb)
            return await self.io.nvm_rw(slot, ns, sqe.opcode, slba, nlb)
        return await self._append(slot, ns, slba, nlb)

    async def _append(self, slot: CommandSlot, ns: NamespaceConfig, zslba: int, nlb: int) -> IoOutcome:
        assert ns.zones is not None
        if zslba % ns.zones.size or nlb * ns.lba_size > self.io.config.max_append:
            raise _invalid_field()
        zone = self._page(ns, zslba)
        self.backend.check_append(zone, nlb)
        data = await self.io.from_host(slot, nlb * ns.lba_size)
        if isinstance(data, Status):
            return IoOutcome(data)
        landed, done = self.backend.append(zone, data, now_ns())
        await self.io.settle(done)
        self.io.counters.writes += 1
        self.io.counters.written_bytes += len(data)
        lba = zslba + landed - zone
        return IoOutcome(SUCCESS, dw0=lba & 0xFFFF_FFFF, dw1=lba >> 32)

    async def send(self, ns: NamespaceConfig, sqe: SubmissionEntry) -> Status:
        """Zone Management Send."""
        assert ns.zones is not None
        fields = ZoneSendFields.decode(sqe)
        size = ns.zones.size
        if not fields.select_all:
            if fields.slba >= ns.nlbas:
                raise BackendError(GenericStatus.LBA_OUT_OF_RANGE)
            if fields.slba % size:
                raise _invalid_field()
        if fields.action not in set(ZoneAction):
            raise _invalid_field()   # no zone descriptor extensions: ZDES is 0
        action = ZoneAction(fields.action)
        starts = range(0, ns.nlbas, size) if fields.select_all else [fields.slba]
        issue = now_ns()
        done = issue
        for zslba in starts:
            page = self._page(ns, zslba)
            if fields.select_all and self.backend.zone(page).state not in SELECT_ALL[action]:
                continue
            done = max(done, self.backend.zone_action(action, page, issue))
        await wait_until(done)
        return SUCCESS

    async def receive(self, slot: CommandSlot, ns: NamespaceConfig, sqe: SubmissionEntry) -> Status:
        """Zone Management Receive: Report Zones from the zone holding SLBA."""
        assert ns.zones is not None
        fields = ZoneReceiveFields.decode(sqe)
        limit = self.io.config.max_transfer
        if fields.slba >= ns.nlbas:
            raise BackendError(GenericStatus.LBA_OUT_OF_RANGE)
        if fields.action != ZRA_REPORT_ZONES or fields.option not in set(ReportFilter) or \
                fields.length < REPORT_HEADER_SIZE or (limit is not None and fields.length > limit):
            raise _invalid_field()
        option = ReportFilter(fields.option)
        size = ns.zones.size
        zones = []
        for zslba in range(fields.slba - fields.slba % size, ns.nlbas, size):
            zone = self.backend.zone(self._page(ns, zslba))
            if option.matches(zone.state):
                zones.append(ZoneDescriptor(zslba, zone.zcap, zslba + zone.wp - zone.zslba, zone.state))
        result = await self.io.to_host(slot, zone_report(zones, fields.partial, fields.length))
        return result.status

    def fail(self, ns: NamespaceConfig, zslba: int, state: ZoneState) -> None:
        """A media failure: the namespace's zone at ``zslba`` becomes Read Only or Offline."""
        self.backend.fail_zone(self._page(ns, zslba), state)
