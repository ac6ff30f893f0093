"""Namespace management: the firmware's table and commands against the reference model's reading."""

from __future__ import annotations

import pytest

from firmware.nvme.namespaces import NamespaceTable
from firmware.nvme.ns_admin import NamespaceCommands
from dataclasses import replace

from models.identify import (IDENTIFY_SIZE, NSID_BROADCAST, Cns, ControllerConfig, IdentifyNamespace,
                             NamespaceConfig, controller_list, parse_controller_list, parse_namespace_list)
from models.namespace_model import NamespaceInventory
from models.nvme_commands import (NS_DATA_SIZE, identify_cmd, ns_attachment_cmd, ns_create_cmd, ns_create_data,
                                  ns_delete_cmd)
from models.nvme_spec import SUCCESS, CommandSpecificStatus, GenericStatus, Status, StatusCode, SubmissionEntry

MIB = 1 << 20
# 16 MiB in 1 MiB units; namespace 1 takes 2 units, namespace 2 one
CONFIG = ControllerConfig(namespaces=(NamespaceConfig(1, 512, 4096), NamespaceConfig(2, 4096, 256)),
                          max_namespaces=4, nvm_capacity=16 * MIB, allocation_unit=MIB)
ME = [CONFIG.cntlid]


def failed(code: StatusCode) -> Status:
    return Status.of(code, dnr=True)


# the table


def test_power_on_namespaces_are_one_extent_each_in_nsid_order() -> None:
    table = NamespaceTable(CONFIG)
    assert table.pieces(1, 0, 2 * MIB) == [(0, 2 * MIB)]
    assert table.pieces(2, 4096, 8192) == [(2 * MIB + 4096, 8192)]
    assert table.active_ids(CONFIG.cntlid) == [1, 2] and table.unallocated_bytes() == 13 * MIB


def test_a_new_namespace_fills_the_holes_lowest_first() -> None:
    table = NamespaceTable(CONFIG)
    assert table.delete(1) == [(0, 2 * MIB)]
    ns = table.create(nlbas=4 * MIB // 4096, lba_size=4096)      # 4 units: the 2 freed, then 2 after ns 2
    assert ns.nsid == 1 and ns.generation == 1
    assert table.pieces(1, 0, 4 * MIB) == [(0, 2 * MIB), (3 * MIB, 2 * MIB)]
    # a transfer across the hole is two back-end ranges, in namespace order
    assert table.pieces(1, 2 * MIB - 512, 1024) == [(2 * MIB - 512, 512), (3 * MIB, 512)]
    assert table.active(1, CONFIG.cntlid) is None and table.allocated(1) == ns   # created, not attached


def test_freed_units_merge_back() -> None:
    table = NamespaceTable(CONFIG)
    table.delete(2)
    table.delete(1)
    assert table.free_units() == 16
    assert table.pieces(table.create(16 * MIB // 512, 512).nsid, 0, 16 * MIB) == [(0, 16 * MIB)]


def test_generation_changes_the_unique_identifiers() -> None:
    table = NamespaceTable(CONFIG)
    old = table.allocated(2)
    table.delete(2)
    table.delete(1)
    table.create(8, 512)
    new = table.create(8, 512)
    assert new.nsid == 2 and (new.eui64, new.nguid) != (old.eui64, old.nguid)


# the commands: firmware and model side by side


class Both:
    """The firmware's commands and the model's inventory of one subsystem, fed the same commands as
    controller ``cntlid`` processes them; the changes each reports per controller are compared too."""

    def __init__(self, config: ControllerConfig = CONFIG) -> None:
        self.config = config
        self.table = NamespaceTable(config)
        self.model = NamespaceInventory(config)
        self.told: list[tuple[int, tuple[int, ...]]] = []
        for cntlid in config.controllers:
            self.model.listen(cntlid, lambda nsids, c=cntlid: self.told.append((c, tuple(nsids))))

    def run(self, sqe: SubmissionEntry, data: bytes = b"", cntlid: int | None = None) -> tuple[Status, int]:
        config = replace(self.config, cntlid=self.config.controllers[0] if cntlid is None else cntlid)
        firmware = NamespaceCommands(config, self.table)
        length = firmware.data_length(sqe)
        assert length == self.model.data_length(sqe), sqe
        data = data.ljust(length, b"\0") if length else b""
        self.told.clear()
        fw = firmware.execute(sqe, data)
        status, dw0 = self.model.execute(sqe, data, config.cntlid)
        assert (fw.status, fw.dw0) == (status, dw0), sqe
        assert sorted(fw.changed.items()) == self.told, sqe
        assert self.table.allocated_ids() == sorted(self.model.allocated)
        for c in self.config.controllers:
            assert self.table.active_ids(c) == self.model.active_ids(c)
        assert self.table.free_units() == self.model.free_units
        return fw.status, fw.dw0


@pytest.fixture
def both() -> Both:
    return Both()


def create(nlbas: int, lba_size: int = 4096, **fields: int) -> tuple[SubmissionEntry, bytes]:
    return ns_create_cmd(), ns_create_data(nlbas, lba_size, **fields)


def test_create_attach_detach_delete(both: Both) -> None:
    assert both.run(*create(256)) == (SUCCESS, 3)
    assert both.run(ns_attachment_cmd(3), controller_list(ME))[0] == SUCCESS
    assert both.run(ns_attachment_cmd(3, detach=True), controller_list(ME))[0] == SUCCESS
    assert both.run(ns_delete_cmd(3))[0] == SUCCESS
    assert both.run(ns_delete_cmd(NSID_BROADCAST))[0] == SUCCESS
    assert both.table.allocated_ids() == [] and both.table.free_units() == 16


@pytest.mark.parametrize("sqe, data, code", [
    (SubmissionEntry(0x0D, cdw10=2), b"", GenericStatus.INVALID_FIELD),                  # SEL reserved
    (ns_create_cmd(csi=2), ns_create_data(8, 512), GenericStatus.INVALID_FIELD),          # zoned: not offered
    (SubmissionEntry(0x0D, nsid=1, cdw10=0), ns_create_data(8, 512), GenericStatus.INVALID_FIELD),  # NSID set
    (ns_create_cmd(), ns_create_data(0, 512), GenericStatus.INVALID_FIELD),               # NSZE 0
    (ns_create_cmd(), ns_create_data(8, 512, ncap=9), GenericStatus.INVALID_FIELD),       # NCAP > NSZE
    (ns_create_cmd(), ns_create_data(8, 512, ncap=4), CommandSpecificStatus.THIN_PROVISIONING_NOT_SUPPORTED),
    (ns_create_cmd(), ns_create_data(8, 512, dps=1), GenericStatus.INVALID_FIELD),        # protection info
    (ns_create_cmd(), ns_create_data(8, 512, nmic=1), GenericStatus.INVALID_FIELD),       # shared: one controller
    (ns_create_cmd(), IdentifyNamespace(nsze=8, ncap=8, nuse=0, flbas=2).pack(), CommandSpecificStatus.INVALID_FORMAT),
    (ns_create_cmd(), ns_create_data(14 * MIB // 4096, 4096), CommandSpecificStatus.NAMESPACE_INSUFFICIENT_CAPACITY),
    (ns_delete_cmd(0), b"", GenericStatus.INVALID_NAMESPACE_OR_FORMAT),
    (ns_delete_cmd(5), b"", GenericStatus.INVALID_NAMESPACE_OR_FORMAT),                  # beyond NN
    (ns_delete_cmd(3), b"", GenericStatus.INVALID_FIELD),                                # not allocated
    (SubmissionEntry(0x15, nsid=1, cdw10=2), controller_list(ME), GenericStatus.INVALID_FIELD),
    (ns_attachment_cmd(NSID_BROADCAST), controller_list(ME), GenericStatus.INVALID_NAMESPACE_OR_FORMAT),
    (ns_attachment_cmd(4), controller_list(ME), GenericStatus.INVALID_FIELD),
    (ns_attachment_cmd(1, detach=True), controller_list([]), CommandSpecificStatus.CONTROLLER_LIST_INVALID),
    (ns_attachment_cmd(1, detach=True), controller_list([7]), CommandSpecificStatus.CONTROLLER_LIST_INVALID),
    (ns_attachment_cmd(1, detach=True), controller_list(ME * 2), CommandSpecificStatus.CONTROLLER_LIST_INVALID),
    (ns_attachment_cmd(1), controller_list(ME), CommandSpecificStatus.NAMESPACE_ALREADY_ATTACHED),
])
def test_every_status(both: Both, sqe: SubmissionEntry, data: bytes, code: StatusCode) -> None:
    assert both.run(sqe, data)[0] == failed(code)
    assert both.table.active_ids(CONFIG.cntlid) == [1, 2] and both.table.free_units() == 13   # nothing changed


def test_not_attached_and_no_free_id(both: Both) -> None:
    both.run(ns_attachment_cmd(2, detach=True), controller_list(ME))
    assert both.run(ns_attachment_cmd(2, detach=True), controller_list(ME))[0] == failed(
        CommandSpecificStatus.NAMESPACE_NOT_ATTACHED)
    assert [both.run(*create(8))[1] for _ in range(2)] == [3, 4]
    assert both.run(*create(8))[0] == failed(CommandSpecificStatus.NAMESPACE_ID_UNAVAILABLE)


def test_sqe_checks_come_before_the_data(both: Both) -> None:
    firmware = NamespaceCommands(CONFIG, both.table)
    assert firmware.data_length(ns_delete_cmd(1)) == 0
    assert firmware.data_length(ns_attachment_cmd(4)) == 0               # unallocated: fails without data
    assert firmware.data_length(ns_attachment_cmd(1)) == NS_DATA_SIZE
    assert firmware.data_length(ns_create_cmd()) == NS_DATA_SIZE


def test_a_delete_reports_only_the_attached_namespaces(both: Both) -> None:
    both.run(*create(8))                                                 # 3: allocated, not attached
    assert both.run(ns_delete_cmd(NSID_BROADCAST))[0] == SUCCESS
    assert both.told == [(CONFIG.cntlid, (1, 2))]


# Identify through the model


@pytest.mark.parametrize("cns, nsid, cntid, expected", [
    (Cns.ALLOCATED_NAMESPACES, 0, 0, [1, 2, 3]), (Cns.ACTIVE_NAMESPACES, 0, 0, [1, 2]),
    (Cns.CONTROLLERS, 0, 0, ME), (Cns.CONTROLLERS, 0, CONFIG.cntlid + 1, []),
    (Cns.NS_CONTROLLERS, 1, 0, ME), (Cns.NS_CONTROLLERS, 3, 0, [])])
def test_lists(both: Both, cns: int, nsid: int, cntid: int, expected: list[int]) -> None:
    both.run(*create(8))
    status, data = both.model.identify(identify_cmd(cns, nsid, cntid=cntid), CONFIG.cntlid)
    assert status == SUCCESS and data is not None
    parse = parse_controller_list if cns in (Cns.CONTROLLERS, Cns.NS_CONTROLLERS) else parse_namespace_list
    assert parse(data) == expected


def test_identify_of_allocated_and_inactive(both: Both) -> None:
    both.run(*create(8, 512))
    def identify(cns: int, nsid: int) -> tuple[Status, bytes | None]:
        return both.model.identify(identify_cmd(cns, nsid), CONFIG.cntlid)

    assert IdentifyNamespace.unpack(identify(Cns.ALLOCATED_NAMESPACE, 3)[1]).nsze == 8
    assert identify(Cns.NAMESPACE, 3)[1] == bytes(IDENTIFY_SIZE)                     # not attached
    assert identify(Cns.NS_DESCRIPTORS, 3)[0] == failed(GenericStatus.INVALID_FIELD)
    common = IdentifyNamespace.unpack(identify(Cns.NAMESPACE, NSID_BROADCAST)[1])
    assert common.nsze == 0 and len(common.lbaf) == 2


# a subsystem of two controllers


TWO = replace(CONFIG, controllers=(0, 1), namespaces=(NamespaceConfig(1, 512, 4096),
                                                      NamespaceConfig(2, 4096, 256, shared=True)))


@pytest.fixture
def two() -> Both:
    return Both(TWO)


def test_power_on_namespaces_attach_to_the_first_controller_or_all_when_shared(two: Both) -> None:
    assert (two.table.active_ids(0), two.table.active_ids(1)) == ([1, 2], [2])
    assert TWO.identify().cmic and NamespaceConfig(2, 4096, 256, shared=True).identify().nmic == 1


def test_a_private_namespace_attaches_to_one_controller(two: Both) -> None:
    is_private = failed(CommandSpecificStatus.NAMESPACE_IS_PRIVATE)
    assert two.run(ns_attachment_cmd(1), controller_list([1]))[0] == is_private        # attached to 0
    nsid = two.run(*create(8))[1]
    assert two.run(ns_attachment_cmd(nsid), controller_list([0, 1]))[0] == is_private
    assert two.run(ns_attachment_cmd(nsid), controller_list([1]), cntlid=0)[0] == SUCCESS
    assert two.told == [(1, (nsid,))]                 # the controller attached is told, not the one asking
    assert two.table.active_ids(1) == [2, nsid] and two.table.active_ids(0) == [1, 2]


def test_a_shared_namespace_attaches_to_all(two: Both) -> None:
    nsid = two.run(ns_create_cmd(), ns_create_data(8, 512, nmic=1))[1]
    assert two.run(ns_attachment_cmd(nsid), controller_list([0, 1]))[0] == SUCCESS
    assert two.told == [(0, (nsid,)), (1, (nsid,))]
    assert two.run(ns_attachment_cmd(nsid, detach=True), controller_list([1]))[0] == SUCCESS
    assert two.told == [(1, (nsid,))] and two.table.controllers(nsid) == {0}
    assert two.run(ns_delete_cmd(2), cntlid=1)[0] == SUCCESS
    assert two.told == [(0, (2,)), (1, (2,))]         # every controller it was attached to


def test_controller_lists_name_the_subsystems_controllers(two: Both) -> None:
    assert two.run(ns_attachment_cmd(1, detach=True), controller_list([2]))[0] == failed(
        CommandSpecificStatus.CONTROLLER_LIST_INVALID)
    assert parse_controller_list(two.model.identify(identify_cmd(Cns.CONTROLLERS), 1)[1]) == [0, 1]
    assert parse_controller_list(two.model.identify(identify_cmd(Cns.CONTROLLERS, cntid=1), 0)[1]) == [1]
    assert parse_controller_list(two.model.identify(identify_cmd(Cns.NS_CONTROLLERS, 2), 0)[1]) == [0, 1]
    assert parse_namespace_list(two.model.identify(identify_cmd(Cns.ACTIVE_NAMESPACES), 1)[1]) == [2]
