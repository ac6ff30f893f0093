"""Several controllers, one per PCIe function, as a test drives them (docs/virtual_controllers.md).

``ControllersTest`` brings every function of the build up as its own
controller: its own driver, MSI-X vectors, admin queue and queue checks
(tb.env.ControllerChecks, one set per function), all served by one
firmware (firmware.subsystem). The namespaces are shared, so every
controller reads and writes the same media, and each function's reference
model sees the others' writes (one NamespaceInventory).

``RequesterIds`` holds the design to PCIe's rule for a multi-function
device: every request it makes on RQ names as requester the function whose
host memory it reaches (its queues and its commands' buffers), which is
what an IOMMU keys its translation on.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, replace

from cocotb.simtime import get_sim_time

from contract import nvme_bar0 as bar0
from contract.params import DesignParams
from models.identify import ControllerConfig
from models.iommu import FaultCause
from models.nvme_commands import identify_cmd, read_cmd, write_cmd
from models.nvme_spec import CompletionEntry, GenericStatus, SubmissionEntry
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer, run_all
from tb.device_dram import NoHostMemory
from tb.iommu_seam import FaultAccount
from tb.env import ControllerChecks
from tb.interrupts import MsixHost
from tb.nvme_driver import NvmeDriver
from tb.nvme_queues import NvmeAdmin, NvmeQueue
from tb.pcie_tb import PcieTb

IDENTIFY_CONTROLLER = 1


@dataclass
class Controller:
    """One function's controller as the host holds it."""

    function: int
    driver: NvmeDriver
    msix: MsixHost
    admin: NvmeAdmin
    checks: ControllerChecks


class RequesterIds:
    """Every memory request of the design, and whose host memory each reaches: the check that each names
    its owner.

    Without an IOMMU that is the address of each request on RQ. Under one, bus addresses are per domain
    (two functions may use the same number for memory of their own), so what is checked is where the
    IOMMU sent each request it translated: a request naming the wrong function would land in that
    function's memory, or fault."""

    def __init__(self, tb: PcieTb) -> None:
        self.requests: list[tuple[int, int, float]] = []   # (address, requester function, time in ns)
        self._regions: list[tuple[int, int, int]] = []     # (start, end, owning function), host physical
        self.seam = tb.iommu_seam
        if self.seam is None:
            tb.rq_observers.append(self._request)
        else:
            self.is_design = tb.is_design
            self.seam.observers.append(self._translated)

    def _request(self, tlp, time_ns: float) -> None:
        self.requests.append((tlp.address, tlp.requester_id.function, time_ns))

    def _translated(self, rid: int, tlp, translation) -> None:
        if not (self.is_design(rid) and translation.ok):
            return   # another device's, or a fault: the test accounts for its faults
        msi_base, msi_size = self.seam.iommu.msi_window
        phys = translation.segments[0].phys
        if not msi_base <= phys < msi_base + msi_size:
            self.requests.append((phys, tlp.requester_id.function, get_sim_time("ns")))

    def own(self, function: int, addr: int, size: int) -> None:
        """Host memory at physical ``addr`` is ``function``'s."""
        self._regions.append((addr, addr + size, function))

    def own_queue(self, function: int, queue: NvmeQueue) -> None:
        for ring in (queue.sq, queue.cq):
            self.own(function, ring.addr, ring.depth * ring.entry_size)

    def owner(self, addr: int) -> int | None:
        return next((fn for start, end, fn in self._regions if start <= addr < end), None)

    def of(self, function: int, after_ns: float = 0) -> list[tuple[int, float]]:
        """(address, time) of the requests naming ``function`` made after ``after_ns``."""
        return [(addr, t) for addr, fn, t in self.requests if fn == function and t > after_ns]

    def check(self) -> Counter[int]:
        """Requests per requester function; fails on one to memory no function holds or another's."""
        assert self.requests, "no request of the design to check"
        per_function: Counter[int] = Counter()
        for addr, fn, t in self.requests:
            owner = self.owner(addr)
            assert owner is not None, f"request at {t:.0f} ns to {addr:#x}, which no function's memory holds"
            assert owner == fn, (f"request at {t:.0f} ns to {addr:#x}, function {owner}'s memory, names "
                                 f"function {fn} as requester")
            per_function[fn] += 1
        return per_function


class ControllersTest(CommandSetTest):
    """Every function of the build up as a controller (``self.ctrls``), each checked on its own."""

    # the namespaces configured are attached to every controller (shared); else to controller 0 only (private)
    shared_namespaces = True
    # the functions brought up as controllers, from function 0 (None: every function of the build)
    functions_used: int | None = None

    def build_phase(self) -> None:
        self.controller_count = self.functions_used or DesignParams.current().FUNCTIONS
        super().build_phase()
        self.requesters = RequesterIds(self.tb)

    def controller_config(self) -> ControllerConfig:
        config = super().controller_config()
        return replace(config, namespaces=tuple(replace(ns, shared=self.shared_namespaces)
                                                for ns in config.namespaces))

    async def setup(self) -> None:
        await super().setup()
        self.ctrls = [Controller(0, self.driver, self.msix, self.admin, self.env.controllers[0])]
        for fn in range(1, self.controller_count):
            driver = NvmeDriver(self.tb, self.function_regs[fn])
            await driver.read_cap()
            msix = await self.enable_msix(fn)
            checks = self.env.controllers[fn]
            self.ctrls.append(Controller(fn, driver, msix, await self.bring_up_controller(driver, checks), checks))
        for ctrl in self.ctrls:
            self._own_admin(ctrl)
        # the functions left down read CAP as every function does (through their register scoreboards)
        for fn in range(self.controller_count, self.tb.params.FUNCTIONS):
            await NvmeDriver(self.tb, self.function_regs[fn]).read_cap()

    def _own_admin(self, ctrl: Controller) -> None:
        self.requesters.own_queue(ctrl.function, ctrl.admin.queue)

    async def queue_pairs(self, ctrl: Controller, count: int, depth: int, first: int = 1) -> list[NvmeQueue]:
        """``count`` I/O queue pairs of a controller from qid ``first``, each with its own vector."""
        queues = [await ctrl.admin.create_queue_pair(qid, depth) for qid in range(first, first + count)]
        for queue in queues:
            self.requesters.own_queue(ctrl.function, queue)
        return queues

    async def buffer(self, ctrl: Controller, pages: int) -> HostBuffer:
        """A host data buffer of a controller's, with its PRP list, mapped in its domain."""
        buf = await HostBuffer.alloc(self.tb, pages, ctrl.function)
        self.requesters.own(ctrl.function, buf.addr, pages * PAGE)
        if buf.prp_list:
            self.requesters.own(ctrl.function, buf.prp_list, PAGE)
        return buf

    async def admin_with_data(self, ctrl: Controller, sqe: SubmissionEntry, data: bytes) -> CompletionEntry:
        """An admin command of a controller's with ``data`` (up to a page) in a buffer of its; any status."""
        buf = await self.buffer(ctrl, 1)
        await self.tb.rc.mem_address_space.write(buf.addr, data.ljust(PAGE, b"\0"))
        return await ctrl.admin.execute(replace(sqe, prp1=buf.bus), expect=None)

    async def identify_controller(self, ctrl: Controller) -> bytes:
        buf = await self.buffer(ctrl, 1)
        await ctrl.admin.execute(identify_cmd(IDENTIFY_CONTROLLER, 0, *buf.prps(PAGE)))
        return bytes(await self.tb.rc.mem_address_space.read(buf.addr, PAGE))

    async def reset(self, ctrl: Controller) -> tuple[float, float]:
        """CC.EN 1->0 of one controller, its checks told once CSTS.RDY reads 0; returns when CC was written
        and when CSTS.RDY read 0."""
        written = get_sim_time("ns")
        await ctrl.driver.nvme_disable_ctrl()
        ctrl.checks.queue_monitor.controller_reset()
        return written, get_sim_time("ns")

    async def restart(self, ctrl: Controller) -> None:
        """A new admin queue and CC.EN=1 after a reset."""
        ctrl.admin = await self.bring_up_controller(ctrl.driver, ctrl.checks)
        self._own_admin(ctrl)

    async def reads_until(self, ctrl: Controller, queue: NvmeQueue, buffers: list[HostBuffer], end_ns: float,
                          nsid: int = 1, lba_size: int = 512) -> int:
        """4 KiB reads of a controller's own LBAs, one in flight per buffer, a new one as each completes,
        until ``end_ns``; returns how many completed by then."""
        depth, lbas = len(buffers), PAGE // lba_size
        base = ctrl.function << 16

        def read(n: int) -> SubmissionEntry:
            # read n uses buffer n % depth, free again once read n - depth completed
            return read_cmd(nsid, base + n % 1024 * lbas, lbas, *buffers[n % depth].prps(PAGE))

        in_flight = deque(await queue.submit_many([read(n) for n in range(depth)]))
        issued, done = depth, 0
        while in_flight:
            (cqe,) = await queue.wait_for([in_flight.popleft()])
            assert cqe.status.is_success, f"function {ctrl.function}: {cqe}"
            if get_sim_time("ns") <= end_ns:
                done += 1
                in_flight.extend(await queue.submit_many([read(issued)]))
                issued += 1
        return done

    def assert_one_address_two_memories(self, a: Controller, b: Controller) -> None:
        """Two controllers' admin SQs have one bus address and two places in host memory: each domain is
        its own address space."""
        (a_phys, a_bus), (b_phys, b_bus) = a.driver.asq, b.driver.asq
        assert a_bus == b_bus and a_phys != b_phys, (
            f"admin SQs at bus {a_bus:#x} / {b_bus:#x}, physical {a_phys:#x} / {b_phys:#x}: one bus address "
            f"should reach two memories")

    def assert_unreachable(self, ctrl: Controller, addr: int) -> None:
        """Nothing at bus address ``addr`` in the controller's domain."""
        try:
            self.tb.bus_peek(addr, 1, function=ctrl.function)
        except NoHostMemory:
            return
        raise AssertionError(f"{addr:#x} is mapped in function {ctrl.function}'s domain")

    async def intrude(self, ctrl: Controller, queue: NvmeQueue, slba: int, target: int, faults: FaultAccount,
                      nsid: int = 1, lba_size: int = 512) -> None:
        """A 4 KiB Write and a Read of the controller's aimed at ``target``, where its domain maps nothing: the
        Write fails with Data Transfer Error, the Read succeeds with its data dropped (a posted write has no
        reply), and each leaves one fault under the controller's requester id."""
        rid, lbas = int(self.tb.funcs[ctrl.function].pcie_id), PAGE // lba_size
        (write,) = await run_all(queue, [write_cmd(nsid, slba, lbas, target, 0)])
        assert write.status.has(GenericStatus.DATA_TRANSFER_ERROR), f"Write from another's memory: {write}"
        faults.expect(FaultCause.NOT_PRESENT, is_write=False, pages=[target], rid=rid)
        cids = await queue.submit_many([read_cmd(nsid, slba, lbas, target, 0)])
        ctrl.checks.reference.take(queue.qid, cids[0])    # its data cannot land: nothing to compare
        (read,) = await queue.wait_for(cids)
        assert read.status.is_success, f"a dropped posted write cannot fail the command: {read.status}"
        await faults.wait_for(1)
        faults.expect(FaultCause.NOT_PRESENT, is_write=True, pages=[target], rid=rid)

    def assert_slots_accounted(self) -> None:
        """Every command slot the command table marks taken is held by a controller, in its count (a white-box
        check of the design's nvme_cmd_table: a slot given back to one and not the other breaks it)."""
        design = self.tb.design
        width = len(design.free_count)
        held = int(design.fn_slots.value)
        per_function = [held >> (width * fn) & ((1 << width) - 1) for fn in range(self.tb.params.FUNCTIONS)]
        free = int(design.free_count.value)
        assert free + sum(per_function) == self.tb.params.CMD_SLOTS, (
            f"{free} command slots free and {per_function} held per controller, of {self.tb.params.CMD_SLOTS}")

    async def status(self) -> list[int]:
        """Every controller's CSTS."""
        return [await ctrl.driver.regs.readl(bar0.CSTS.OFFSET) for ctrl in self.ctrls]

