"""Namespace Management and Namespace Attachment through the real queues and DMA engine.

A namespace's life (create, attach, I/O, detach, delete, a new one at the
same NSID reading zeroes), a namespace spread over the holes a delete left,
every status the two commands complete with here, the Namespace Attribute
Changed event with the Changed Namespace List, namespaces that outlive a
controller reset, and seeded random churn of all of it between I/O. The
completion scoreboard checks every status and the data scoreboard every
read and returned structure against the reference model
(models.namespace_model); each test adds what is specific to it.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pyuvm

from models.identify import (NSID_BROADCAST, Cns, IdentifyController, IdentifyNamespace, controller_list,
                             parse_controller_list, parse_namespace_list)
from models.nvme_commands import (CopyRange, async_event_request_cmd, copy_cmd, get_log_page_cmd, ns_attachment_cmd,
                                  ns_create_cmd, ns_create_data, ns_delete_cmd, read_cmd, write_cmd)
from models.namespace_model import NamespaceInventory
from models.nvme_logs import AEC_NAMESPACE_ATTRIBUTE, LogId
from models.nvme_spec import (CommandSpecificStatus, CompletionEntry, FeatureId, GenericStatus, Status, StatusCode,
                              SubmissionEntry)
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer, run_all, wait_for_any, write_and_read_back
from tb.nvme_queues import NvmeQueue

TIMEOUT_MS = 20
MIB = 1 << 20
CHURN_STEPS = 40


class NamespaceTest(CommandSetTest):
    """CommandSetTest with an I/O queue pair, buffers, and the namespace commands as one-liners."""

    async def setup(self) -> None:
        await super().setup()
        self.data = await HostBuffer.alloc(self.tb, 1)      # what a namespace command sends
        self.wbuf = await HostBuffer.alloc(self.tb, 8)
        self.rbuf = await HostBuffer.alloc(self.tb, 8)
        await self.admin.set_num_queues(1, 1)
        self.queue: NvmeQueue = await self.admin.create_queue_pair(1, 16)
        self.me = self.config.cntlid

    async def send(self, sqe: SubmissionEntry, data: bytes = b"") -> CompletionEntry:
        """A namespace command with ``data`` (up to 4 KiB) in the host buffer it points at; any status."""
        await self.tb.rc.mem_address_space.write(self.data.addr, data.ljust(PAGE, b"\0"))
        return await self.admin.execute(replace(sqe, prp1=self.data.addr), expect=None)

    async def create(self, nlbas: int, lba_size: int) -> int:
        cqe = await self.send(ns_create_cmd(), ns_create_data(nlbas, lba_size))
        assert cqe.status.is_success, f"create {nlbas} x {lba_size} B: {cqe.status}"
        return cqe.dw0

    async def attach(self, nsid: int, detach: bool = False) -> CompletionEntry:
        return await self.send(ns_attachment_cmd(nsid, detach), controller_list([self.me]))

    async def read_status(self, nsid: int) -> Status:
        (cqe,) = await run_all(self.queue, [read_cmd(nsid, 0, 1, *self.rbuf.prps(PAGE))])
        return cqe.status

    async def host_bytes(self, length: int) -> bytes:
        return bytes(await self.tb.rc.mem_address_space.read(self.rbuf.addr, length))


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class NamespaceLifeCycle(NamespaceTest):
    """Create (DW0 is the new NSID, UNVMCAP drops), I/O only while attached, data kept over a detach, gone
    after a delete: a namespace created at the same NSID reads zeroes and has new unique identifiers."""

    async def body(self) -> None:
        before = IdentifyController.unpack(await self.identify(Cns.CONTROLLER)).unvmcap
        nsid = await self.create(1024, 4096)                                  # 4 MiB
        assert nsid == 3, f"the lowest free NSID is 3, the controller gave {nsid}"
        after = IdentifyController.unpack(await self.identify(Cns.CONTROLLER)).unvmcap
        assert before - after == 4 * MIB, f"UNVMCAP {before:#x} -> {after:#x}, 4 MiB allocated"
        assert parse_namespace_list(await self.identify(Cns.ALLOCATED_NAMESPACES)) == [1, 2, 3]
        assert parse_namespace_list(await self.identify(Cns.ACTIVE_NAMESPACES)) == [1, 2]
        assert (await self.read_status(nsid)).has(GenericStatus.INVALID_FIELD), "I/O before the attach"

        assert (await self.attach(nsid)).status.is_success
        old = IdentifyNamespace.unpack(await self.identify(Cns.NAMESPACE, nsid))
        assert (old.nsze, old.lba_size) == (1024, 4096), old
        assert parse_controller_list(await self.identify(Cns.NS_CONTROLLERS, nsid)) == [self.me]
        data = bytes(range(256)) * 64
        await write_and_read_back(self.tb, self.queue, nsid, 1000, data, 4096, self.wbuf, self.rbuf)

        assert (await self.attach(nsid, detach=True)).status.is_success
        assert (await self.read_status(nsid)).has(GenericStatus.INVALID_FIELD), "I/O after the detach"
        assert (await self.attach(nsid)).status.is_success
        (cqe,) = await run_all(self.queue, [read_cmd(nsid, 1000, 4, *self.rbuf.prps(len(data)))])
        assert cqe.status.is_success and await self.host_bytes(len(data)) == data, "data lost over a detach"

        assert (await self.send(ns_delete_cmd(nsid))).status.is_success
        assert (await self.read_status(nsid)).has(GenericStatus.INVALID_FIELD), "I/O after the delete"
        assert await self.create(8192, 512) == nsid                        # the same 4 MiB, in 512 B LBAs
        assert (await self.attach(nsid)).status.is_success
        new = IdentifyNamespace.unpack(await self.identify(Cns.NAMESPACE, nsid))
        assert (new.eui64, new.nguid) != (old.eui64, old.nguid), "identifiers reused for a new namespace"
        (cqe,) = await run_all(self.queue, [read_cmd(nsid, 8000, 8, *self.rbuf.prps(PAGE))])   # where data was
        assert cqe.status.is_success, cqe.status
        assert await self.host_bytes(PAGE) == bytes(PAGE), "a new namespace shows the deleted one's data"
        self.assert_checked(reads=8)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class NamespaceAcrossHoles(NamespaceTest):
    """Delete the namespace between two others, then create one larger than the hole: it takes the hole and
    units after the last namespace. A transfer across its seam moves the right bytes, and the neighbours
    keep theirs."""

    async def body(self) -> None:
        a, b = await self.create(512, 4096), await self.create(512, 4096)   # 2 MiB each
        c = await self.create(512, 4096)
        for nsid in (a, b, c):
            assert (await self.attach(nsid)).status.is_success
        edges = {a: 504, c: 0}                                               # last blocks of a, first of c
        for nsid, slba in edges.items():
            await write_and_read_back(self.tb, self.queue, nsid, slba, bytes([nsid]) * 8 * PAGE, 4096,
                                      self.wbuf, self.rbuf)
        assert (await self.send(ns_delete_cmd(b))).status.is_success
        wide = await self.create(768, 4096)                                  # 3 MiB: b's 2 MiB, then 1 MiB
        assert wide == b and (await self.attach(wide)).status.is_success
        seam = bytes(range(256)) * 32 * 4                                   # 8 blocks across the 2 MiB seam
        await write_and_read_back(self.tb, self.queue, wide, 508, seam, 4096, self.wbuf, self.rbuf)
        for nsid, slba in edges.items():
            (cqe,) = await run_all(self.queue, [read_cmd(nsid, slba, 8, *self.rbuf.prps(8 * PAGE))])
            assert cqe.status.is_success and await self.host_bytes(8 * PAGE) == bytes([nsid]) * 8 * PAGE, (
                f"namespace {nsid} changed")
        self.assert_checked(reads=5)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class NamespaceCommandErrors(NamespaceTest):
    """Every status Namespace Management and Attachment complete with here, each changing nothing; and a
    create whose data pointer is invalid fails as the DMA engine reports it."""

    async def body(self) -> None:
        nn, me = self.config.max_namespaces, [self.me]
        huge = self.config.nvm_capacity // 4096
        cases: dict[str, tuple[SubmissionEntry, bytes, StatusCode]] = {
            "reserved SEL": (SubmissionEntry(0x0D, cdw10=2), b"", GenericStatus.INVALID_FIELD),
            "create with an NSID": (replace(ns_create_cmd(), nsid=1), ns_create_data(8, 512),
                                    GenericStatus.INVALID_FIELD),
            "create a zoned namespace": (ns_create_cmd(csi=2), ns_create_data(8, 512), GenericStatus.INVALID_FIELD),
            "NSZE 0": (ns_create_cmd(), ns_create_data(0, 512), GenericStatus.INVALID_FIELD),
            "NCAP below NSZE": (ns_create_cmd(), ns_create_data(8, 512, ncap=4),
                                CommandSpecificStatus.THIN_PROVISIONING_NOT_SUPPORTED),
            "protection information": (ns_create_cmd(), ns_create_data(8, 512, dps=1), GenericStatus.INVALID_FIELD),
            "LBA format 2": (ns_create_cmd(), IdentifyNamespace(nsze=8, ncap=8, nuse=0, flbas=2).pack(),
                             CommandSpecificStatus.INVALID_FORMAT),
            "more than the capacity": (ns_create_cmd(), ns_create_data(huge, 4096),
                                       CommandSpecificStatus.NAMESPACE_INSUFFICIENT_CAPACITY),
            "delete NSID 0": (ns_delete_cmd(0), b"", GenericStatus.INVALID_NAMESPACE_OR_FORMAT),
            "delete beyond NN": (ns_delete_cmd(nn + 1), b"", GenericStatus.INVALID_NAMESPACE_OR_FORMAT),
            "delete unallocated": (ns_delete_cmd(nn), b"", GenericStatus.INVALID_FIELD),
            "attach FFFFFFFFh": (ns_attachment_cmd(NSID_BROADCAST), controller_list(me),
                                 GenericStatus.INVALID_NAMESPACE_OR_FORMAT),
            "attach unallocated": (ns_attachment_cmd(nn), controller_list(me), GenericStatus.INVALID_FIELD),
            "empty controller list": (ns_attachment_cmd(1, detach=True), controller_list([]),
                                      CommandSpecificStatus.CONTROLLER_LIST_INVALID),
            "unknown controller": (ns_attachment_cmd(1, detach=True), controller_list([self.me + 1]),
                                   CommandSpecificStatus.CONTROLLER_LIST_INVALID),
            "already attached": (ns_attachment_cmd(1), controller_list(me),
                                 CommandSpecificStatus.NAMESPACE_ALREADY_ATTACHED),
        }
        for what, (sqe, data, code) in cases.items():
            cqe = await self.send(sqe, data)
            assert cqe.status.has(code), f"{what}: {cqe.status}, expected {code.name}"

        for nsid in range(3, nn + 1):
            assert await self.create(8, 512) == nsid
        cqe = await self.send(ns_create_cmd(), ns_create_data(8, 512))
        assert cqe.status.has(CommandSpecificStatus.NAMESPACE_ID_UNAVAILABLE), cqe.status
        cqe = await self.send(ns_attachment_cmd(3, detach=True), controller_list(me))
        assert cqe.status.has(CommandSpecificStatus.NAMESPACE_NOT_ATTACHED), cqe.status

        misaligned = replace(ns_create_cmd(), prp1=self.data.addr + 2)
        cqe = await self.admin.execute(misaligned, expect=None)
        assert not cqe.status.is_success, "a create read its data through a misaligned PRP1"
        assert parse_namespace_list(await self.identify(Cns.ACTIVE_NAMESPACES)) == [1, 2]


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class AttachmentChangeEvent(NamespaceTest):
    """With Namespace Attribute notices on, a detach completes a held AER (DW0 as the model says) and the
    Changed Namespace List names the namespace; deleting a namespace attached elsewhere (nowhere) does not."""

    async def body(self) -> None:
        model = self.env.reference.model
        await self.admin.set_features(FeatureId.ASYNC_EVENT_CONFIG, AEC_NAMESPACE_ATTRIBUTE)
        held = await self.admin.queue.submit_many([async_event_request_cmd()])
        detached = await self.create(8, 512)                                 # allocated, never attached
        assert (await self.send(ns_delete_cmd(detached))).status.is_success
        assert (await self.attach(2, detach=True)).status.is_success
        cqe = await wait_for_any(self.admin.queue, held, "AER after the detach")
        assert cqe.status.is_success and model.async_completions == [cqe.dw0], (
            f"AER DW0 {cqe.dw0:#x}, the model completed {model.async_completions}")
        log = await self.send(get_log_page_cmd(LogId.CHANGED_NAMESPACES, PAGE))
        assert log.status.is_success
        assert parse_namespace_list(bytes(await self.tb.rc.mem_address_space.read(self.data.addr, PAGE))) == [2]
        self.assert_checked(reads=1)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class NamespacesOutliveReset(NamespaceTest):
    """Namespaces are the subsystem's, not the controller's: a created and attached namespace, and a
    detached default one, are as they were after CC.EN 1->0->1, with their data."""

    async def body(self) -> None:
        nsid = await self.create(256, 512)
        assert (await self.attach(nsid)).status.is_success
        assert (await self.attach(1, detach=True)).status.is_success
        data = bytes(range(256)) * 16
        await write_and_read_back(self.tb, self.queue, nsid, 7, data, 512, self.wbuf, self.rbuf)
        await self.disable_and_watch(quiet_ns=2_000)
        await self.bring_up()
        assert parse_namespace_list(await self.identify(Cns.ACTIVE_NAMESPACES)) == [2, nsid]
        await self.admin.set_num_queues(1, 1)
        self.queue = await self.admin.create_queue_pair(1, 16)
        (cqe,) = await run_all(self.queue, [read_cmd(nsid, 7, 8, *self.rbuf.prps(len(data)))])
        assert cqe.status.is_success and await self.host_bytes(len(data)) == data, "data lost over a reset"
        self.assert_checked(reads=2)


@pyuvm.test(timeout_time=100, timeout_unit="ms")
class RandomNamespaceChurn(NamespaceTest):
    """Seeded random namespace management between batches of I/O: creates of random sizes and LBA
    formats, deletes (now and then all at once), attaches and detaches, some of them wrong on purpose;
    after each, writes, then reads and copies, on random NSIDs in 0..NN+1, active or not. It opens with
    one namespace's whole life (create, attach, detach, delete) and a create with a wrong field, so
    each kind has succeeded once and one has failed. The scoreboards check every status and every read
    against the model."""

    async def body(self) -> None:
        rng = random.Random(random.getrandbits(64))   # cocotb seeds `random` per test from SEED
        inventory = self.env.reference.model.namespaces
        outcomes: dict[str, int] = {}
        opening = [("create", False), ("attach", False), ("detach", False), ("delete", False), ("create", True)]
        for step in range(CHURN_STEPS):
            what, wrong = opening[step] if step < len(opening) else (None, rng.random() < 0.15)
            what, cqe = await self.random_change(rng, inventory, what, wrong)
            outcome = f"{what}: {'success' if cqe.status.is_success else cqe.status.name}"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            await self.random_io(rng, inventory)
        self.logger.info("namespace changes: %s", dict(sorted(outcomes.items())))
        for what in ("create", "attach", "detach", "delete"):
            assert f"{what}: success" in outcomes, f"no {what} succeeded: {outcomes}"
        assert "create: INVALID_FIELD" in outcomes, f"the wrong create did not fail: {outcomes}"
        self.assert_checked(reads=4)   # at least the opening's: two active namespaces read after each of 2 steps

    async def random_change(self, rng: random.Random, inventory: NamespaceInventory, what: str | None,
                            wrong: bool) -> tuple[str, CompletionEntry]:
        """One namespace command of kind ``what`` (random if None): unless ``wrong``, one the model's
        inventory says should succeed; a wrong one names any NSID, or creates with a field not offered."""
        nn = self.config.max_namespaces
        allocated = sorted(inventory.allocated)
        attached = inventory.active_ids(self.me)
        detached = [n for n in allocated if n not in attached]
        any_nsid = rng.randint(1, nn + 1)
        what = what or rng.choices(["create", "delete", "attach", "detach"], weights=[4, 2, 3, 2])[0]
        if what == "create":
            nlbas = rng.choice([rng.randint(1, 64), rng.randint(1, 4096)])
            fields = rng.choice([{"nmic": 1}, {"dps": 1}]) if wrong else {}   # one controller, no PI
            return what, await self.send(ns_create_cmd(), ns_create_data(nlbas, rng.choice([512, 4096]), **fields))
        if what == "delete":
            nsid = rng.choice(allocated) if allocated and not wrong else any_nsid
            if rng.random() < 0.05:
                nsid = NSID_BROADCAST
            return what, await self.send(ns_delete_cmd(nsid))
        pool = detached if what == "attach" else attached
        nsid = rng.choice(pool) if pool and not wrong else any_nsid
        return what, await self.attach(nsid, detach=what == "detach")

    async def random_io(self, rng: random.Random, inventory: NamespaceInventory) -> None:
        """Writes to up to two active namespaces and one random NSID, then reads and a copy of what they wrote
        (each batch on distinct NSIDs, so its commands touch disjoint blocks)."""
        attached = inventory.active_ids(self.me)
        active = rng.sample(attached, min(2, len(attached)))
        other = rng.choice([n for n in range(0, self.config.max_namespaces + 2) if n not in active])
        targets = []
        for nsid in [*active, other]:
            ns = inventory.allocated.get(nsid)
            lba_size, nlbas = (ns.lba_size, ns.nlbas) if ns else (512, 8)
            nlb = min(nlbas, PAGE // lba_size)
            targets.append((nsid, rng.randrange(nlbas - nlb + 1), nlb, lba_size))
        writes = []
        for i, (nsid, slba, nlb, lba_size) in enumerate(targets):
            await self.tb.rc.mem_address_space.write(self.wbuf.addr + i * PAGE, rng.randbytes(nlb * lba_size))
            writes.append(write_cmd(nsid, slba, nlb, self.wbuf.addr + i * PAGE))
        await run_all(self.queue, writes)
        reads = [read_cmd(nsid, slba, nlb, self.rbuf.addr + i * PAGE)
                 for i, (nsid, slba, nlb, _) in enumerate(targets)]
        await run_all(self.queue, reads)
        nsid, slba, nlb, _ = targets[0]
        await self.tb.rc.mem_address_space.write(self.data.addr, CopyRange(slba, nlb).pack())
        await run_all(self.queue, [copy_cmd(nsid, slba, 1, self.data.addr)])   # onto itself
