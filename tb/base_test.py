"""Base pyuvm tests: build the PCIe testbench, host driver and env around the DUT.

A test subclasses ``NvmeBaseTest`` (registers only) or ``QueueTest``
(controller up, MSI-X on, firmware running, admin queue wrapped) and
implements ``body()``; setup, the scoreboards and their checks come from
here. Knobs come from class attributes (``link``, ``pacing_seed``,
``admin_depth``, ``firmware_cost_ns``, ``iommu``).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import cocotb
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, Timer
from pyuvm import ConfigDB, uvm_test

from firmware.dma import MailboxDma
from firmware.mailbox import Mailbox
from firmware.minimal import MinimalFirmware
from firmware.nvme.loop import NvmeFirmware
from firmware.nvme.namespaces import NamespaceTable
from firmware.soc import SocConfig
from firmware.subsystem import ControllerDma, ControllerMailbox, SubsystemFirmware
from contract import nvme_bar0 as bar0
from models.backend_factory import make_backend
from models.flash import OcssdBackend, ZnsBackend
from models.identify import ControllerConfig, NamespaceConfig
from models.namespace_model import NamespaceInventory
from models.queue_budget import QueueBudget
from models.nvme_commands import identify_cmd
from models.nvme_spec import Status
from models.nvme_regs import NVME_CC_AMS_SHIFT, ControllerParams, RegisterModel
from tb.env import ControllerChecks, NvmeEnv, function_suffix
from tb.interrupts import MsixHost
from tb.nvme_driver import NvmeDriver, RegisterBfm
from tb.nvme_queues import NvmeAdmin
from tb.iommu_seam import IommuConfig
from tb.pcie_tb import CLOCK_GATE, LinkConfig, PcieTb
from tb.stream_pacing import random_pauses
from tb import cocotb_overrides, wall_watchdog

cocotb_overrides.install()


class NvmeBaseTest(uvm_test):
    """Owns the TB; subclasses write ``body()``."""

    link: LinkConfig = LinkConfig()
    # None: no idle cycles or back-pressure; an int: seeded random pacing
    pacing_seed: int | None = None
    controller_params = ControllerParams()
    # build the queue monitor and the completion and interrupt scoreboards
    uses_queues = False
    # how many functions (from function 0) the test runs as controllers, each with its own queue checks
    controller_count = 1
    # stop the clock while the design is quiescent (tb/clock_gate.py)
    clock_gate: bool = CLOCK_GATE
    # None: no IOMMU, the design reaches host memory at physical addresses; else the IOMMU between
    # the root complex and host memory and the host's DMA-API policy (tb/iommu_seam.py)
    iommu: IommuConfig | None = None
    # the firmware model's cost per command, and the hardware watchdog it arms (us; None: the reset value)
    firmware_cost_ns = 0
    watchdog_us: int | None = None

    def build_phase(self) -> None:
        config = self.controller_config()
        self.tb = PcieTb(cocotb.top, self.link, iommu=self.iommu, identity=config.pci,
                         clock_gate=self.clock_gate)
        # one controller per function, CNTLID f, in one NVM subsystem; ``config`` is function 0's
        functions = range(self.tb.params.FUNCTIONS)
        self.function_configs = [replace(config, cntlid=fn, controllers=tuple(functions)) for fn in functions]
        self.config = self.function_configs[0]
        # each function's register file, checked by its own scoreboard; function 0's is the one a
        # single-controller test drives
        self.function_regs = [RegisterBfm(self.tb, fn) for fn in range(self.tb.params.FUNCTIONS)]
        self.function_reg_models = [RegisterModel(self.controller_params) for _ in self.function_regs]
        self.regs = self.function_regs[0]
        self.reg_model = self.function_reg_models[0]
        self.driver = NvmeDriver(self.tb, self.regs)
        for fn, fn_config in enumerate(self.function_configs):
            ConfigDB().set(None, f"*{function_suffix(fn)}", "CONTROLLER_CONFIG", fn_config)
            ConfigDB().set(None, f"*{function_suffix(fn)}", "EXPECTED_STATUS", self.expected_status(fn))
            # host memory as the function's controller reaches it: through its own domain under an IOMMU
            ConfigDB().set(None, f"*{function_suffix(fn)}", "HOST_MEMORY", partial(self.tb.bus_peek, function=fn))
        # the namespaces and their contents, which the reference models of all controllers share
        ConfigDB().set(None, "*", "NAMESPACES", NamespaceInventory(self.config))
        # and the queue table's pool, from which every controller is granted its I/O queue pairs
        design = self.controller_params.design
        ConfigDB().set(None, "*", "QUEUE_BUDGET", QueueBudget(design.queue_table_entries - design.FUNCTIONS,
                                                              design.FUNCTIONS, design.IO_QUEUES))
        ConfigDB().set(None, "*", "REG_BFMS", self.function_regs)
        ConfigDB().set(None, "*", "REG_MODELS", self.function_reg_models)
        ConfigDB().set(None, "*", "QUEUES", self.uses_queues)
        ConfigDB().set(None, "*", "CONTROLLERS", self.controller_count)
        ConfigDB().set(None, "*", "TLP_RULES", self.tb.tlp_rules)
        ConfigDB().set(None, "*", "IO_QUEUE_PAIRS", self.controller_params.queue_count - 1)
        ConfigDB().set(None, "*", "MQES", self.controller_params.mqes)
        self.env = NvmeEnv("env", self)

    def controller_config(self) -> ControllerConfig:
        """What the firmware and the reference model both take the controller to be."""
        return ControllerConfig()

    def expected_status(self, function: int = 0):
        """Expected CQE status per (SQ id, CID) of a function's commands for its completion scoreboard;
        None: success."""
        return None

    async def run_phase(self) -> None:
        # no try/finally: when the body fails, cocotb ends every task of the
        # test itself, and a second cancellation of the firmware task from
        # here would turn the failure into an error
        self.raise_objection()
        wall_watchdog.watch(type(self).__name__)
        await self.wait_for_reset()
        self.tb.set_stream_pacing(self.pacing_seed)
        await self.setup()
        await self.body()
        await self.teardown()
        self.drop_objection()

    async def setup(self) -> None:
        """What every test of this kind needs before its body."""

    async def teardown(self) -> None:
        """Stop background activity before the checks run."""

    async def wait_for_reset(self) -> None:
        """The hard IP model pulses user_reset after power-up: wait for it to rise and fall."""
        dut = cocotb.top
        # compare, not int(): under Icarus the reset is undriven (Z) at time 0
        if dut.user_reset.value != 1:
            await RisingEdge(dut.user_reset)
        await FallingEdge(dut.user_reset)
        await ClockCycles(dut.user_clk, 4)

    async def body(self) -> None:
        raise NotImplementedError

    def make_firmware(self, dut) -> MinimalFirmware | SubsystemFirmware:
        """The firmware model on the mailbox; tests of the command set build a fuller one."""
        return self.subsystem_firmware(Mailbox.from_dut(dut))

    def subsystem_firmware(self, bus: Mailbox) -> MinimalFirmware | SubsystemFirmware:
        """One controller's firmware on the mailbox; with several functions, one per function, each on its
        view of the mailbox, under the subsystem's loop."""
        functions = self.tb.params.FUNCTIONS
        if functions == 1:
            return self.controller_firmware(bus, 0)
        views = [ControllerMailbox(bus, fn, self.tb.params.queue_count, functions) for fn in range(functions)]
        return SubsystemFirmware(bus, [self.controller_firmware(view, fn) for fn, view in enumerate(views)])

    def controller_firmware(self, mailbox: Mailbox, function: int) -> MinimalFirmware:
        """The firmware of function ``function``'s controller."""
        return MinimalFirmware(mailbox, cost_ns=self.firmware_cost_ns, watchdog_us=self.watchdog_us)


async def mask_vector(msix: MsixHost, checks: ControllerChecks, vector: int, masked: bool) -> None:
    """Mask or unmask a function's MSI-X vector, telling its interrupt scoreboard and coverage when it is in
    force: an unmask from the write on (a pending message may come at once), a mask once the read-back has
    flushed the messages sent before it."""
    if not masked:
        checks.interrupt_scoreboard.mask(vector, masked)
        checks.coverage.mask(vector, masked)
    await msix.set_mask(vector, masked)
    if masked:
        checks.interrupt_scoreboard.mask(vector, masked)
        checks.coverage.mask(vector, masked)


# time for an MSI-X message to follow the CQE write a test ended on
SETTLE_NS = 2_000


class QueueTest(NvmeBaseTest):
    """Controller up with MSI-X and the firmware loop: what command-level tests start from."""

    uses_queues = True
    admin_depth = 32
    # CC.AMS: 0 round robin, 1 weighted round robin with urgent priority class (every controller's, unless
    # arbitration_mechanism says otherwise)
    cc_ams = 0
    # CC.CSS; None: as the driver chooses (every I/O command set, since CAP.CSS offers them)
    cc_css: int | None = None

    async def setup(self) -> None:
        self.firmware = self.make_firmware(cocotb.top)
        if self.pacing_seed is not None:
            self._pace_mailbox(self.pacing_seed)
        self.firmware.start()
        await self.driver.nvme_pci_enable()
        self.msix = await self.enable_msix(0)
        await self.bring_up()

    async def enable_msix(self, function: int) -> MsixHost:
        """A function's MSI-X vectors enabled, every message and CQE write seen by its checks."""
        checks = self.env.controllers[function]
        msix = MsixHost(self.tb, function)
        msix.observers.append(checks.interrupt_scoreboard.msix)
        msix.observers.append(checks.coverage.msix)
        checks.coverage.admin_queue(self.admin_depth)
        self.tb.host_write_observers.append(checks.interrupt_scoreboard.host_write)
        await msix.enable(self.tb.params.msix_vectors)
        return msix

    async def bring_up(self) -> None:
        """Admin queue, CC.EN=1, ``self.admin`` ready: at set-up, and again after a test's controller reset."""
        self.admin = await self.bring_up_controller(self.driver, self.env.controllers[0])

    async def bring_up_controller(self, driver: NvmeDriver, checks: ControllerChecks) -> NvmeAdmin:
        """One function's admin queue and CC.EN=1, its queue events to its checks."""
        driver.q_depth = self.admin_depth
        await driver.nvme_pci_configure_admin_queue()
        config = driver.default_config() | self.arbitration_mechanism(driver.regs.function) << NVME_CC_AMS_SHIFT
        if self.cc_css is not None:
            config = bar0.CC.CSS.replace(config, self.cc_css)
        checks.queue_monitor.admin_created(self.admin_depth, self.admin_depth, driver.acq_dma,
                                           bar0.CC.CSS.get(config))
        await driver.nvme_enable_ctrl(config)
        return NvmeAdmin.from_driver(driver, observers=[checks.queue_monitor])

    def arbitration_mechanism(self, function: int) -> int:
        """CC.AMS function ``function``'s controller is enabled with."""
        return self.cc_ams

    async def disable_and_watch(self, quiet_ns: int) -> None:
        """CC.EN 1->0 and wait for CSTS.RDY to read 0 (the scoreboards are told of the reset), then
        watch RQ for ``quiet_ns``: no memory request, read or write, may leave the device after RDY
        read 0, whatever the firmware still does."""
        requests: list[int] = []
        observer = lambda tlp, t: requests.append(t)  # noqa: E731 - removed again below
        self.tb.rq_observers.append(observer)
        await self.driver.nvme_disable_ctrl()
        rdy_low_at = get_sim_time("ns")
        self.env.queue_monitor.controller_reset()
        await Timer(quiet_ns, "ns")
        self.tb.rq_observers.remove(observer)
        late = [t for t in requests if t > rdy_low_at]
        assert not late, (f"{len(late)} requests on RQ after CSTS.RDY read 0 at {rdy_low_at:.0f} ns, "
                          f"the first at {late[0]:.0f} ns")

    async def set_mask(self, vector: int, masked: bool) -> None:
        """Mask or unmask one of function 0's MSI-X vectors (``mask_vector``)."""
        await mask_vector(self.msix, self.env.controllers[0], vector, masked)

    def _pace_mailbox(self, seed: int) -> None:
        """Idle and back-pressure on the five AXI4-Lite channels of the firmware port."""
        self.firmware.mailbox.port.set_pacing([random_pauses(seed + 10 + offset) for offset in range(5)])

    async def teardown(self) -> None:
        # the host reaps a CQE as soon as it lands; the MSI-X message it causes follows it on the link
        await Timer(SETTLE_NS, "ns")
        if hasattr(self, "firmware"):
            self.firmware.stop()


PAGE = 4096


class CommandSetTest(QueueTest):
    """QueueTest with the firmware's NVMe command set (firmware/nvme/) and the nvm back end.

    Data moves through the RTL DMA engine between host memory and the DRAM model (tb.device_dram).
    Helpers build host buffers with PRPs and run Identify.
    """

    # the back end under the firmware: nvm, conv, ocssd or zns (models.backend_factory.make_backend),
    # and its configuration
    backend_kind = "nvm"
    backend_config: dict = {}
    # the SoC cost model (firmware/soc.py); the default costs nothing
    soc = SocConfig()

    def expected_status(self, function: int = 0):
        # commands a test makes fail on purpose (``forced``: host read faults, firmware faults; function 0's);
        # the rest from the function's reference model
        if function == 0:
            self.forced: dict[tuple[int, int], Status] = {}

        def expected(sqid: int, cid: int):
            forced = self.forced.get((sqid, cid)) if function == 0 else None
            return forced or self.env.controllers[function].reference.expected_status(sqid, cid)
        return expected

    def controller_config(self) -> ControllerConfig:
        # the NVM capacity is the back end's, in whole allocation units; an open-channel back end is one
        # open-channel namespace whose LBAs are its physical addresses, and reports its geometry through the
        # controller; a zoned one is one zoned namespace, allocated in zones
        self.backend = make_backend(self.backend_kind, **self.backend_config)
        size = self.backend.capacity_pages * self.backend.page_size
        if isinstance(self.backend, ZnsBackend):
            zones = self.backend.zone_geometry()
            namespace = NamespaceConfig(1, self.backend.page_size, self.backend.capacity_pages, zones=zones)
            return ControllerConfig(namespaces=(namespace,), nvm_capacity=size,
                                    allocation_unit=zones.size * self.backend.page_size)
        if isinstance(self.backend, OcssdBackend):
            chunks = self.backend.chunk_geometry()
            namespace = NamespaceConfig(1, self.backend.page_size, self.backend.capacity_pages, chunks=chunks)
            return ControllerConfig(namespaces=(namespace,), nvm_capacity=size,
                                    ocssd_geometry=self.backend.geometry_page())
        unit = ControllerConfig.allocation_unit
        return ControllerConfig(nvm_capacity=size // unit * unit)

    def make_firmware(self, dut) -> NvmeFirmware | SubsystemFirmware:
        bus = Mailbox.from_dut(dut)
        self.dram = self.tb.dram
        self.dma = MailboxDma(bus)
        # the NVM subsystem's namespaces, which every controller's firmware shares
        self.namespaces = NamespaceTable(self.config)
        return self.subsystem_firmware(bus)

    def controller_firmware(self, mailbox: Mailbox, function: int) -> NvmeFirmware:
        dma = ControllerDma(self.dma, mailbox) if mailbox.drains_on_reset else self.dma
        return NvmeFirmware(mailbox, self.backend, self.dram, dma, self.function_configs[function], soc=self.soc,
                            watchdog_us=self.watchdog_us, namespaces=self.namespaces)

    async def prp_buffer(self, pages: int) -> tuple[int, int, int]:
        """A contiguous host buffer of ``pages`` pages: (address, PRP1, PRP2); PRP2 points to a
        PRP list, written here, beyond two pages."""
        buf = self.tb.alloc_dma(pages * PAGE)
        if pages <= 2:
            return buf, buf, buf + PAGE if pages == 2 else 0
        plist = self.tb.alloc_dma(PAGE)
        entries = b"".join((buf + PAGE * i).to_bytes(8, "little") for i in range(1, pages))
        await self.tb.rc.mem_address_space.write(plist, entries)
        return buf, buf, plist

    def assert_checked(self, reads: int = 0, dw0s: int = 0) -> None:
        """The data scoreboard really compared: at least ``reads`` data transfers and ``dw0s`` DW0 values."""
        data = self.env.data_scoreboard
        assert data.reads_checked >= reads and data.dw0_checked >= dw0s, (
            f"data scoreboard checked {data.reads_checked} data transfers and {data.dw0_checked} DW0s, "
            f"expected at least {reads} and {dw0s}")

    async def identify(self, cns: int, nsid: int = 0) -> bytes:
        buf, prp1, prp2 = await self.prp_buffer(1)
        await self.admin.execute(identify_cmd(cns, nsid, prp1, prp2))
        return bytes(await self.tb.rc.mem_address_space.read(buf, PAGE))
