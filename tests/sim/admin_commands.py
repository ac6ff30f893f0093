"""The firmware's admin command set over the real queue engine, good and bad inputs.

Identify (every CNS, reserved CNS), Get/Set Features with every SEL, Get
Log Page (every log, windows, NUMD beyond the log, bad offsets and IDs),
Asynchronous Event Requests held until an event, Abort of a queued command,
and tnvme's illegalAdminCmds / illegalNVMCmds (every opcode the controller
does not support). Statuses are checked by the completion scoreboard, DW0
and returned data by the data scoreboard, both against the NVMe reference
model; each test adds what is specific to it and that the scoreboards
really checked something.
"""

from __future__ import annotations

import struct
from dataclasses import replace

import pyuvm

from firmware.soc import SocConfig
from models.identify import NSID_BROADCAST, Cns, Oncs
from models.nvme_commands import (ABORT_NOT_ABORTED, abort_cmd, async_event_request_cmd, flush_cmd,
                                  get_log_page_cmd, identify_cmd, read_cmd, write_cmd)
from models.nvme_logs import (AEC_NAMESPACE_ATTRIBUTE, CRITICAL_WARNING_TEMPERATURE, SMART_LOG_SIZE, LogId,
                              parse_command_effects, temperature_threshold_dword)
from models.nvme_spec import (AdminOpcode, CommandSpecificStatus, CompletionEntry, FeatureId, GenericStatus,
                              GetFeaturesSelect, NvmOpcode, Status, StatusCode, SubmissionEntry,
                              arbitration_dword, coalescing_dword, create_io_cq, get_features, num_queues_dword,
                              set_features, vector_config_dword)
from models.pci_identity import NVME_CLASS_CODE
from tb.base_test import CommandSetTest
from tb.command_sequences import HostBuffer, assert_still_pending, run_all, run_one, wait_for_any
from tb.nvme_queues import sq_tail_doorbell

TIMEOUT_MS = 20
PENDING_WINDOW_NS = 30_000     # how long a held command must stay held


def has_code(cqe: CompletionEntry, code: StatusCode) -> bool:
    return cqe.status.same_code(Status.of(code))


class AdminCommandTest(CommandSetTest):
    """CommandSetTest with one reusable 4 KiB host buffer for the data admin commands return."""

    async def setup(self) -> None:
        await super().setup()
        self.buffer = await HostBuffer.alloc(self.tb, 1)

    async def admin_with_data(self, sqe: SubmissionEntry) -> CompletionEntry:
        """An admin command returning up to 4 KiB, into the shared buffer; any status."""
        prp1, prp2 = self.buffer.prps(4096)
        return await self.admin.execute(replace(sqe, prp1=prp1, prp2=prp2), expect=None)

    async def expect_failures(self, cases: dict[str, tuple[SubmissionEntry, StatusCode]]) -> None:
        """Each command must fail with its code (the scoreboard also checks it against the model)."""
        for what, (sqe, code) in cases.items():
            cqe = await self.admin_with_data(sqe)
            assert has_code(cqe, code), f"{what}: {cqe.status}, expected {code.name}"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IdentifyEveryCns(AdminCommandTest):
    """CNS 0 (namespace), 1 (controller), 2 (active list), 3 (descriptors), 10h-13h (allocated namespaces,
    controller lists) for valid, inactive and invalid NSIDs; reserved CNS values are Invalid Field."""

    async def body(self) -> None:
        nn = self.config.max_namespaces
        good = [(Cns.CONTROLLER, 0), (Cns.CONTROLLERS, 0), (Cns.NAMESPACE, NSID_BROADCAST)]
        good += [(cns, nsid) for cns in (Cns.NAMESPACE, Cns.NS_DESCRIPTORS, Cns.ALLOCATED_NAMESPACE,
                                         Cns.NS_CONTROLLERS) for nsid in (1, 2)]
        good += [(cns, nsid) for cns in (Cns.ACTIVE_NAMESPACES, Cns.ALLOCATED_NAMESPACES) for nsid in (0, 1, 2)]
        # an inactive NSID (1..NN, nothing allocated there): zeroes, or an empty controller list
        good += [(cns, nn) for cns in (Cns.NAMESPACE, Cns.ALLOCATED_NAMESPACE, Cns.NS_CONTROLLERS)]
        for cns, nsid in good:
            cqe = await self.admin_with_data(identify_cmd(cns, nsid))
            assert cqe.status.is_success, f"Identify CNS {cns} NSID {nsid}: {cqe.status}"
        invalid_ns = GenericStatus.INVALID_NAMESPACE_OR_FORMAT
        await self.expect_failures({
            "CNS 0 NSID 0": (identify_cmd(Cns.NAMESPACE, 0), invalid_ns),
            "CNS 0 NSID beyond NN": (identify_cmd(Cns.NAMESPACE, nn + 1), invalid_ns),
            "CNS 2 NSID FFFFFFFEh": (identify_cmd(Cns.ACTIVE_NAMESPACES, NSID_BROADCAST - 1), invalid_ns),
            "CNS 3 NSID beyond NN": (identify_cmd(Cns.NS_DESCRIPTORS, nn + 1), invalid_ns),
            "CNS 3 inactive NSID": (identify_cmd(Cns.NS_DESCRIPTORS, nn), GenericStatus.INVALID_FIELD),
            "CNS 10h NSID FFFFFFFFh": (identify_cmd(Cns.ALLOCATED_NAMESPACES, NSID_BROADCAST), invalid_ns),
            "CNS 11h NSID FFFFFFFFh": (identify_cmd(Cns.ALLOCATED_NAMESPACE, NSID_BROADCAST), invalid_ns),
            "CNS 12h NSID 0": (identify_cmd(Cns.NS_CONTROLLERS, 0), invalid_ns),
            "reserved CNS 04h": (identify_cmd(0x04, 1), GenericStatus.INVALID_FIELD),
            "CNS 14h (no secondary controllers)": (identify_cmd(0x14, 0), GenericStatus.INVALID_FIELD),
            "reserved CNS FFh": (identify_cmd(0xFF, 0), GenericStatus.INVALID_FIELD),
        })
        self.assert_checked(reads=len(good))


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class PciIdentityMatchesIdentify(AdminCommandTest):
    """Configuration space as the host enumerated it: class code 010802h (NVM Express), and the Vendor
    and Subsystem Vendor IDs that Identify Controller reports as VID and SSVID."""

    async def body(self) -> None:
        func = self.tb.func
        assert func.class_code == NVME_CLASS_CODE, f"class code {func.class_code:06x}, an NVMe controller is 010802h"
        cqe = await self.admin_with_data(identify_cmd(Cns.CONTROLLER))
        assert cqe.status.is_success, cqe.status
        vid, ssvid = struct.unpack_from("<HH", await self.tb.rc.mem_address_space.read(self.buffer.addr, 4))
        assert (func.vendor_id, func.subsystem_vendor_id) == (vid, ssvid), (
            f"config space VID {func.vendor_id:04x} SSVID {func.subsystem_vendor_id:04x}, Identify VID {vid:04x} "
            f"SSVID {ssvid:04x}")
        identity = self.config.pci
        assert (func.device_id, func.subsystem_id) == (identity.device_id, identity.subsystem_id)
        self.assert_checked(reads=1)


# (feature, a non-default value to set, CDW11 of Get Features)
FEATURES = [
    (FeatureId.NUMBER_OF_QUEUES, num_queues_dword(2, 4), 0),
    (FeatureId.ARBITRATION, arbitration_dword(ab=3, lpw=1, mpw=2, hpw=3), 0),
    (FeatureId.INTERRUPT_COALESCING, coalescing_dword(thr=2, time_100us=1), 0),
    (FeatureId.INTERRUPT_VECTOR_CONFIG, vector_config_dword(3, cd=True), 3),
    (FeatureId.VOLATILE_WRITE_CACHE, 0, 0),
    (FeatureId.ASYNC_EVENT_CONFIG, AEC_NAMESPACE_ATTRIBUTE | CRITICAL_WARNING_TEMPERATURE, 0),
    (FeatureId.POWER_MANAGEMENT, 0x40, 0),
    (FeatureId.ERROR_RECOVERY, 50, 0),
    (FeatureId.WRITE_ATOMICITY, 1, 0),
]


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class FeaturesWithEverySelect(AdminCommandTest):
    """Set each feature to a non-default value, then Get it with SEL current, default, saved and supported
    capabilities (DW0 against the model); then the errors: SEL 4-7, Save, unknown and unsupported FIDs,
    Number of Queues after a queue exists or with FFFFh, vectors out of range."""

    async def body(self) -> None:
        for fid, value, get_cdw11 in FEATURES:
            await self.admin.set_features(fid, value)
            for sel in GetFeaturesSelect:
                await self.admin.get_features(fid, sel, get_cdw11)
        current = await self.admin.get_features(FeatureId.VOLATILE_WRITE_CACHE)
        assert current.dw0 == 0, f"Volatile Write Cache reads {current.dw0} after it was disabled"
        # the coalescing set above would hold back I/O interrupts: back to the default
        await self.admin.set_features(FeatureId.INTERRUPT_COALESCING, 0)
        self.assert_checked(dw0s=len(FEATURES) * (1 + len(GetFeaturesSelect)))
        invalid = GenericStatus.INVALID_FIELD
        bad_sel = SubmissionEntry(AdminOpcode.GET_FEATURES, cdw10=FeatureId.ARBITRATION | 4 << 8)
        await self.expect_failures({
            "Get Features SEL 4": (bad_sel, invalid),
            "Set Features with Save": (set_features(FeatureId.VOLATILE_WRITE_CACHE, 1, save=True),
                                       CommandSpecificStatus.FEATURE_NOT_SAVEABLE),
            "Set LBA Range Type (not supported)": (set_features(FeatureId.LBA_RANGE_TYPE, 0), invalid),
            "Get Timestamp (not supported)": (get_features(FeatureId.TIMESTAMP), invalid),
            "Get reserved FID 7Fh": (get_features(0x7F), invalid),
            "Number of Queues FFFFh": (set_features(FeatureId.NUMBER_OF_QUEUES, 0xFFFF), invalid),
            "Power Management PS1 (NPSS 0)": (set_features(FeatureId.POWER_MANAGEMENT, 1), invalid),
            "Error Recovery DULBE (not supported)": (set_features(FeatureId.ERROR_RECOVERY, 1 << 16), invalid),
            "Interrupt Vector Configuration beyond the vectors": (
                set_features(FeatureId.INTERRUPT_VECTOR_CONFIG, vector_config_dword(100, cd=True)), invalid),
            "Get Interrupt Vector Configuration beyond the vectors": (
                get_features(FeatureId.INTERRUPT_VECTOR_CONFIG, cdw11=100), invalid),
            "coalescing on for the admin vector": (
                set_features(FeatureId.INTERRUPT_VECTOR_CONFIG, vector_config_dword(0, cd=False)), invalid),
        })
        ring = self.tb.alloc_dma(4096)
        await self.admin.execute(create_io_cq(1, 15, ring, iv=1))
        await self.expect_failures({"Number of Queues after a CQ exists": (
            set_features(FeatureId.NUMBER_OF_QUEUES, num_queues_dword(1, 1)), GenericStatus.COMMAND_SEQUENCE_ERROR)})


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class LogPages(AdminCommandTest):
    """Error Information, SMART / Health (after I/O, so its counters move), Firmware Slot, Changed
    Namespace List and Commands Supported and Effects, whole and in windows, NUMD beyond the log (zeroes
    after it); errors: offset beyond the log or not dword aligned, unknown LID, per-namespace SMART,
    longer than MDTS."""

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 8)
        io = await HostBuffer.alloc(self.tb, 2)
        await self.tb.rc.mem_address_space.write(io.addr, bytes(range(256)) * 32)
        for sqe in (write_cmd(1, 0, 16, *io.prps(8192)), read_cmd(2, 0, 2, *io.prps(8192))):
            assert (await run_one(queue, sqe)).status.is_success
        reads = [get_log_page_cmd(LogId.ERROR_INFORMATION, 1024), get_log_page_cmd(LogId.SMART_HEALTH, SMART_LOG_SIZE),
                 get_log_page_cmd(LogId.SMART_HEALTH, 64, offset=64), get_log_page_cmd(LogId.SMART_HEALTH, 4096),
                 get_log_page_cmd(LogId.SMART_HEALTH, 16, nsid=0), get_log_page_cmd(LogId.FIRMWARE_SLOT, 512),
                 get_log_page_cmd(LogId.FIRMWARE_SLOT, 8, offset=8), get_log_page_cmd(LogId.CHANGED_NAMESPACES, 4096),
                 get_log_page_cmd(LogId.COMMANDS_SUPPORTED, 4096, offset=1024),
                 get_log_page_cmd(LogId.SMART_HEALTH, 4, offset=SMART_LOG_SIZE)]   # at the very end: zeroes
        for sqe in reads:
            cqe = await self.admin_with_data(sqe)
            assert cqe.status.is_success, f"Get Log Page LID {sqe.cdw10 & 0xFF:#x}: {cqe.status}"
        past_end = bytes(await self.tb.rc.mem_address_space.read(self.buffer.addr, 4))
        invalid = GenericStatus.INVALID_FIELD
        await self.expect_failures({
            "offset beyond the log": (get_log_page_cmd(LogId.SMART_HEALTH, 4, offset=SMART_LOG_SIZE + 4), invalid),
            "offset not dword aligned": (get_log_page_cmd(LogId.FIRMWARE_SLOT, 8, offset=2), invalid),
            "unknown LID 06h (self-test)": (get_log_page_cmd(0x06, 64), CommandSpecificStatus.INVALID_LOG_PAGE),
            "vendor LID C0h": (get_log_page_cmd(0xC0, 64), CommandSpecificStatus.INVALID_LOG_PAGE),
            "SMART for one namespace (LPA bit 0 clear)": (get_log_page_cmd(LogId.SMART_HEALTH, 512, nsid=1), invalid),
            "longer than MDTS": (get_log_page_cmd(LogId.ERROR_INFORMATION, (self.config.max_transfer or 0) + 4096),
                                 invalid),
        })
        assert past_end == bytes(4), "the four bytes after the end of the SMART log are not zeroes"
        await self.admin.delete_queue_pair(queue)
        self.assert_checked(reads=len(reads) + 1)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class AsyncEventsHeldUntilAnEvent(AdminCommandTest):
    """AERL+1 requests stay outstanding while nothing happens (one more is refused); each event completes
    exactly one: an invalid doorbell write (Error), a temperature threshold crossing (SMART / Health), a
    namespace change (Notice). A second Error event waits, masked, until the Error log is read; each
    completion's DW0 is the model's event."""

    async def body(self) -> None:
        admin = self.admin.queue
        model = self.env.reference.model
        aer_limit = self.config.identify().aerl + 1
        await self.admin.set_features(FeatureId.ASYNC_EVENT_CONFIG,
                                      AEC_NAMESPACE_ATTRIBUTE | CRITICAL_WARNING_TEMPERATURE)
        held = await admin.submit_many([async_event_request_cmd() for _ in range(aer_limit)])
        refused = await self.admin.execute(async_event_request_cmd(), expect=None)
        assert has_code(refused, CommandSpecificStatus.ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED), refused.status
        await assert_still_pending(admin, held, PENDING_WINDOW_NS, "AERs with no event")

        stride = self.driver.cap.doorbell_stride

        async def invalid_doorbell() -> None:
            model.doorbell_error(no_such_queue=True)
            await self.regs.writel(sq_tail_doorbell(5, stride), 1)

        async def temperature_crossing() -> None:
            await self.admin.set_features(FeatureId.TEMPERATURE_THRESHOLD, temperature_threshold_dword(300))

        async def namespace_change() -> None:
            model.namespace_changed([2])
            await self.firmware.notify_namespace_change([2])

        for event in (invalid_doorbell, temperature_crossing, namespace_change):
            await event()
            cqe = await wait_for_any(admin, held, f"AER after {event.__name__}")
            assert cqe.status.is_success and cqe.dw0 == model.async_completions[-1], (
                f"{event.__name__}: AER {cqe.status} DW0 {cqe.dw0:#x}, the model says "
                f"{model.async_completions[-1]:#x}")
            held.remove(cqe.cid)
            await assert_still_pending(admin, held, PENDING_WINDOW_NS, f"AERs after {event.__name__}")

        await invalid_doorbell()   # the Error type is masked until its log is read
        await assert_still_pending(admin, held, PENDING_WINDOW_NS, "AER during a masked Error event")
        await self.admin_with_data(get_log_page_cmd(LogId.ERROR_INFORMATION, 128))
        cqe = await wait_for_any(admin, held, "AER after the Error log was read")
        assert cqe.dw0 == model.async_completions[-1], f"DW0 {cqe.dw0:#x}"
        smart = await self.admin_with_data(get_log_page_cmd(LogId.SMART_HEALTH, SMART_LOG_SIZE))
        warning = (await self.tb.rc.mem_address_space.read(self.buffer.addr, 1))[0]
        assert smart.status.is_success and warning & CRITICAL_WARNING_TEMPERATURE, f"critical warning {warning:#x}"
        assert len(model.async_completions) == aer_limit
        self.assert_checked(reads=2)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class AbortQueuedCommand(AdminCommandTest):
    """One I/O core at 20 us per Flush: the last of four Flushes still waits for a core when its Abort
    arrives and completes with Command Abort Requested (Abort DW0 bit 0 clear); Aborts of the running
    command and of a CID never submitted report "not aborted"."""

    soc = SocConfig(cores=1, cycles={"default": 0, "flush": 20_000})

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 8)
        cids = await queue.submit_many([flush_cmd(1) for _ in range(4)])
        aborts = {cids[-1]: True, cids[0]: False, 0x4321: False}
        for cid, aborted in aborts.items():
            cqe = await self.admin.execute(abort_cmd(1, cid))
            assert bool(cqe.dw0 & ABORT_NOT_ABORTED) != aborted, f"Abort of CID {cid:#x}: DW0 {cqe.dw0:#x}"
        cqes = await queue.wait_for(cids)
        assert [has_code(c, GenericStatus.ABORT_REQUESTED) for c in cqes] == [False, False, False, True], (
            [str(c.status) for c in cqes])
        assert self.firmware.aborted == 1
        await self.admin.delete_queue_pair(queue)


ADMIN_SUPPORTED = {int(op) for op in (AdminOpcode.DELETE_IO_SQ, AdminOpcode.CREATE_IO_SQ, AdminOpcode.GET_LOG_PAGE,
                                      AdminOpcode.DELETE_IO_CQ, AdminOpcode.CREATE_IO_CQ, AdminOpcode.IDENTIFY,
                                      AdminOpcode.ABORT, AdminOpcode.SET_FEATURES, AdminOpcode.GET_FEATURES,
                                      AdminOpcode.ASYNC_EVENT_REQUEST, AdminOpcode.NS_MANAGEMENT,
                                      AdminOpcode.NS_ATTACHMENT, AdminOpcode.DOORBELL_BUFFER_CONFIG)}
NVM_SUPPORTED = {int(NvmOpcode.FLUSH), int(NvmOpcode.WRITE), int(NvmOpcode.READ), int(NvmOpcode.COMPARE),
                 int(NvmOpcode.WRITE_ZEROES), int(NvmOpcode.DATASET_MANAGEMENT), int(NvmOpcode.VERIFY),
                 int(NvmOpcode.COPY)}


@pyuvm.test(timeout_time=50, timeout_unit="ms")
class IllegalOpcodes(AdminCommandTest):
    """tnvme illegalAdminCmds and illegalNVMCmds: every admin and NVM opcode the controller does not
    support (OACS namespace management and Doorbell Buffer Config; ONCS Compare, DSM, Write Zeroes, Verify,
    Copy) completes with Invalid Opcode, many in flight; the Commands Supported and Effects log marks
    exactly the others."""

    async def body(self) -> None:
        assert not self.config.oncs & ~(Oncs.COMPARE | Oncs.DATASET_MANAGEMENT | Oncs.WRITE_ZEROES | Oncs.SAVE_SELECT
                                        | Oncs.VERIFY | Oncs.COPY)
        cqe = await self.admin_with_data(get_log_page_cmd(LogId.COMMANDS_SUPPORTED, 4096))
        assert cqe.status.is_success, cqe.status
        admin, nvm = parse_command_effects(bytes(await self.tb.rc.mem_address_space.read(self.buffer.addr, 4096)))
        assert (set(admin), set(nvm)) == (ADMIN_SUPPORTED, NVM_SUPPORTED), (
            f"the effects log marks admin {sorted(admin)}, I/O {sorted(nvm)}")
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 64)
        admin_cqes = await run_all(self.admin.queue, [SubmissionEntry(op) for op in range(256)
                                                      if op not in ADMIN_SUPPORTED])
        nvm_cqes = await run_all(queue, [SubmissionEntry(op, nsid=1) for op in range(256) if op not in NVM_SUPPORTED])
        for cqe in admin_cqes + nvm_cqes:
            assert has_code(cqe, GenericStatus.INVALID_OPCODE), f"CID {cqe.cid:#x} on SQ {cqe.sq_id}: {cqe.status}"
        assert len(admin_cqes) == 256 - len(ADMIN_SUPPORTED) and len(nvm_cqes) == 256 - len(NVM_SUPPORTED)
        await self.admin.delete_queue_pair(queue)
