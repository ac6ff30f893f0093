"""The PCIe side of the testbench: the UltraScale+ hard IP model and a root complex.

``PcieTb`` owns the pieces that sit between the host software model and the
design: cocotbext-pcie's root complex with its host memory, the UltraScale+
PCIe device model wired to the design's CQ/CC streams, and knobs for idle
cycles and back-pressure on those streams. With an ``IommuConfig`` it also
puts the IOMMU between the root complex and host memory (tb/iommu_seam.py)
and gives the host driver, for each function, the DMA API it maps that
function's buffers through (``dmas``; each function is its own domain);
without one, bus addresses are physical addresses.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cocotb.handle import HierarchyObject
from cocotb.triggers import Event, First, NullTrigger, Timer
from cocotb.utils import get_sim_time
from cocotbext.axi import AxiStreamBus
from cocotbext.pcie.core import Device, MemoryEndpoint, RootComplex
from cocotbext.pcie.core.tlp import Tlp, TlpType

from contract import nvme_bar0 as bar0
from contract.params import DesignParams
from models.iommu import DmaDirection
from models.pci_identity import PciIdentity

from tb.clock_gate import ClockGate
from tb.device_dram import make_dram, peek
from tb.dut_ports import quiesce
from tb.fast_usp import EventDrivenUltraScalePlusPcieDevice
from tb.iommu_seam import HostDma, IommuConfig, IommuSeam
from tb.sim_top import DESIGN_INSTANCE
from tb.tlp_rules import TlpRuleChecker
from tb.stream_pacing import random_pauses

# A second host memory pool above 4 GiB, for 64-bit DMA addresses
HIGH_POOL_BASE = 0x1_0000_0000
HIGH_POOL_SIZE = 0x1000_0000

# Stop user_clk while the design is quiescent (tb/clock_gate.py); NVME_COSIM_CLOCK_GATE=0 keeps it running
CLOCK_GATE = os.environ.get("NVME_COSIM_CLOCK_GATE", "1") != "0"

# Encodings of max payload size and max read request size (128 << n bytes)
MPS_256 = 1
MRRS_512 = 2


@dataclass
class LinkConfig:
    """The PCIe link the hard IP model trains to, and the root's settings."""

    # None: Gen3, but Gen4 for 512-bit streams (Gen4 x8, the hard IP's 512-bit configuration besides Gen3 x16)
    generation: int | None = None
    # None: as wide as the design's streams carry at 250 MHz
    # (512 bits Gen4 x8, 256 bits x8, 128 bits x4, 64 bits x2)
    width: int | None = None
    user_clk_hz: float = 250e6
    max_payload_size: int = 256
    root_mps_code: int = MPS_256
    root_mrrs_code: int = 0
    # the device's max read request size (Device Control code, 128 << n bytes), set after enumeration as
    # Linux's pcie_set_readrq() would; None keeps the reset value, 512 bytes
    device_mrrs_code: int | None = None
    # host memory read latency; jitter (random per read) reorders completions
    host_read_latency_ns: int = 800
    host_read_jitter_ns: int = 0
    host_seed: int = 0
    split_completions: bool = False
    # host buffers from a pool above 4 GiB (64-bit addresses) by default
    dma_above_4g: bool = False


class PcieTb:
    """Root complex plus UltraScale+ device model around the nvme_ctrl top level."""

    def __init__(self, dut: HierarchyObject, link: LinkConfig | None = None, verbose: bool = False,
                 iommu: IommuConfig | None = None, identity: PciIdentity = PciIdentity(),
                 clock_gate: bool = CLOCK_GATE) -> None:
        self.dut = dut
        self.link = link or LinkConfig()
        # the build's parameters: BAR0 size, MSI-X vectors (one per queue)
        self.params = DesignParams.current()
        self.bar0_size = 1 << self.params.BAR0_ADDR_WIDTH
        self.data_width = len(dut.s_axis_cq_tdata)
        wide = self.data_width == 512
        self.link_generation = self.link.generation or (4 if wide else 3)
        self.link_width = self.link.width or (8 if wide else self.data_width // 32)
        self.log = logging.getLogger("cocotb.tb")
        self.log.setLevel(logging.INFO)

        self.rc = RootComplex()
        self.rc.max_payload_size = self.link.root_mps_code
        self.rc.max_read_request_size = self.link.root_mrrs_code

        self.dev = EventDrivenUltraScalePlusPcieDevice(
            pcie_generation=self.link_generation,
            pcie_link_width=self.link_width,
            user_clk_frequency=self.link.user_clk_hz,
            alignment="dword",
            enable_client_tag=True,
            max_payload_size=self.link.max_payload_size,
            user_clk=dut.user_clk,
            user_reset=dut.user_reset,
            cq_bus=AxiStreamBus.from_prefix(dut, "s_axis_cq"),
            cc_bus=AxiStreamBus.from_prefix(dut, "m_axis_cc"),
            rq_bus=AxiStreamBus.from_prefix(dut, "m_axis_rq"),
            rc_bus=AxiStreamBus.from_prefix(dut, "s_axis_rc"),
            cfg_max_read_req=dut.cfg_max_read_req,
            cfg_max_payload=dut.cfg_max_payload,
            cfg_interrupt_msix_enable=dut.cfg_interrupt_msix_enable,
            cfg_interrupt_msix_mask=dut.cfg_interrupt_msix_mask,
            cfg_interrupt_msix_address=dut.cfg_interrupt_msix_address,
            cfg_interrupt_msix_data=dut.cfg_interrupt_msix_data,
            cfg_interrupt_msix_int=dut.cfg_interrupt_msix_int,
            cfg_interrupt_msix_sent=dut.cfg_interrupt_msix_sent,
            cfg_interrupt_msix_fail=dut.cfg_interrupt_msix_fail,
            cfg_interrupt_msi_function_number=dut.cfg_interrupt_msi_function_number,
            pf_count=self.params.FUNCTIONS,
            **{key: value for fn in range(self.params.FUNCTIONS) for key, value in self._msix_capability(fn).items()},
            read_latency_ns=self.link.host_read_latency_ns,
            read_jitter_ns=self.link.host_read_jitter_ns,
            seed=self.link.host_seed,
        )
        # the model drives user_reset low now and pulses it two cycles later; until then a previous
        # test's leftovers must reach neither the design nor the new models (tb/dut_ports.py)
        quiesce(dut)
        self.clock_gate = ClockGate(dut.user_clk, round(1e9 / self.link.user_clk_hz),
                                    getattr(dut, "quiescent", None), clock_gate)
        # split read completions at every read completion boundary, as a
        # host may, so the design sees the smallest pieces
        self.rc.split_on_all_rcb = self.link.split_completions
        self._set_identity(identity)
        # each function's 64-bit BAR0 holding its registers, doorbells and MSI-X table
        for function in self.dev.functions:
            function.configure_bar(0, self.bar0_size, ext=True)
        self.rc.make_port().connect(self.dev)

        # the device's DRAM, behind the DMA engine's AXI4 master (an AxiRam logs its set-up at INFO)
        logging.getLogger(f"cocotb.{dut._name}.m_axi_dram").setLevel(logging.INFO if verbose else logging.WARNING)
        self.dram = make_dram(dut)
        self._quiet_models(verbose)

        self.func = None  # the device (function 0) as the host sees it, after enumerate()
        self.funcs: list = []  # every function, by function number, after enumerate()
        self.high_pool = None
        # host buffers the design may reach, as (base, size)
        self.dma_buffers: list[tuple[int, int]] = []
        self.tlp_rules = TlpRuleChecker(self.dev.functions[0].pcie_cap, self.dma_buffers)
        self.dev.rq_observers.append(self.tlp_rules.request)
        self.dev.rc_observers.append(self.tlp_rules.completion)

        # the host's DMA API for each function (identity until enumerate() attaches each to the IOMMU)
        self.dmas = [HostDma(None) for _ in range(self.params.FUNCTIONS)]
        self.iommu_seam: IommuSeam | None = None
        if iommu is not None:
            self.iommu_seam = IommuSeam(self.rc, iommu, read_latency=self._design_read_latency)
            # what reaches host memory is the translated address: check that one against the buffers
            self.tlp_rules.check_rq_addresses = False
            self.iommu_seam.observers.append(self._check_translated)
            self.dev.rq_observers.append(self.iommu_seam.ats.sent)
        # every memory write reaching the root complex, in arrival order, before any translation: where
        # a CQE write and the MSI-X message behind it are seen in the order the host sees them
        self.host_write_observers: list[Callable[[Tlp, int], None]] = []
        for kind in (TlpType.MEM_WRITE, TlpType.MEM_WRITE_64):
            self.rc.register_rx_tlp_handler(kind, self._observed_write(self.rc.rx_tlp_handler[kind]))
        # memory writes that have landed in host memory: what a host waiting for a CQE waits for
        self.device_writes = 0
        self._device_wrote = Event()
        self.peer: Device | None = None

    @property
    def design(self) -> HierarchyObject:
        """The design's own hierarchy, for a test that watches its internal signals: the instance inside
        the Verilator wrapper (tb/sim_top.py), or the top level itself under Icarus."""
        return getattr(self.dut, DESIGN_INSTANCE, self.dut)

    def _observed_write(self, handler: Callable[[Tlp], Awaitable[None]]) -> Callable[[Tlp], Awaitable[None]]:
        msi = self.rc.msi_region
        msi_base = msi.get_absolute_address(0)

        async def write(tlp: Tlp) -> None:
            now = int(get_sim_time("ns"))
            for observer in self.host_write_observers:
                observer(tlp, now)
            await handler(tlp)
            self.device_writes += 1
            self._device_wrote.set()
            if msi_base <= tlp.address < msi_base + msi.size:
                # the root complex runs an MSI's callbacks in tasks of their own (cocotb.start_soon): let them
                # run before it takes the next request, so a message is seen before the writes behind it
                await NullTrigger()
        return write

    async def wait_for_device_write(self, mark: int, timeout_ns: int) -> None:
        """Until a memory write lands after ``device_writes`` read ``mark``, at most ``timeout_ns``:
        the host sleeps until the device writes instead of polling its memory on a timer."""
        if self.device_writes != mark:
            return
        self._device_wrote.clear()
        await First(self._device_wrote.wait(), Timer(max(1, int(timeout_ns)), "ns"))

    def _msix_capability(self, fn: int) -> dict[str, int]:
        """The hard IP's MSI-X customisation of function ``fn``: the design keeps each function's MSI-X
        table and PBA in its BAR0, one vector per CQ."""
        return {f"pf{fn}_msix_enable": True, f"pf{fn}_msix_table_size": self.params.msix_vectors - 1,
                f"pf{fn}_msix_table_bir": 0, f"pf{fn}_msix_table_offset": bar0.MSIX_TABLE.OFFSET,
                f"pf{fn}_msix_pba_bir": 0, f"pf{fn}_msix_pba_offset": bar0.MSIX_PBA.OFFSET}

    def _set_identity(self, identity: PciIdentity) -> None:
        """The IDs and class code every function's configuration space reports (the IP's customisation)."""
        for function in self.dev.functions:
            function.vendor_id = identity.vendor_id
            function.device_id = identity.device_id
            function.subsystem_vendor_id = identity.subsystem_vendor_id
            function.subsystem_id = identity.subsystem_id
            function.revision_id = identity.revision_id
            function.class_code = identity.class_code

    @property
    def dma(self) -> HostDma:
        """Function 0's DMA API: the one a single-controller test maps through."""
        return self.dmas[0]

    def is_design(self, rid: int) -> bool:
        """Whether requester id ``rid`` is one of the design's functions (not a peer device's)."""
        return any(rid == int(func.pcie_id) for func in self.funcs)

    def _design_read_latency(self, rid: int, tag: int, ns: int) -> bool:
        if not self.is_design(rid):
            return False
        self.dev.add_read_latency(tag, ns)
        return True

    def _check_translated(self, rid: int, tlp, translation) -> None:
        if self.is_design(rid) and translation.ok:
            msi_base, msi_size = self.iommu_seam.iommu.msi_window
            phys = translation.segments[0].phys
            if not msi_base <= phys < msi_base + msi_size:
                self.tlp_rules.reaches_memory(tlp, phys)

    def _quiet_models(self, verbose: bool) -> None:
        """The models log every TLP at INFO; keep them at WARNING unless asked."""
        level = logging.INFO if verbose else logging.WARNING
        # cocotbext-axi masters on the design's ports log their resets at INFO
        for name in ("cocotb.pcie", "cocotb.tb.pcie", f"cocotb.{self.dut._name}.s_axil",
                     f"cocotb.{self.dut._name}.m_axi_dram"):
            logging.getLogger(name).setLevel(level)
        for bus in (self.dev.cq_source, self.dev.cc_sink, self.dev.rq_sink, self.dev.rc_source):
            bus.log.setLevel(level)
        self.dev.log.setLevel(level)
        # enumeration probes empty slots and warns for each one
        self.rc.log.setLevel(level if verbose else logging.ERROR)

    def set_stream_pacing(self, seed: int | None) -> None:
        """Idle cycles on CQ, RC and DRAM reads, back-pressure on CC, RQ and DRAM writes (None: all off)."""
        streams = (self.dev.cq_source, self.dev.cc_sink, self.dev.rq_sink, self.dev.rc_source)
        for offset, stream in enumerate(streams):
            if seed is None:
                stream.clear_pause_generator()
            else:
                stream.set_pause_generator(random_pauses(seed + offset))
        if self.dram is not None:
            self.dram.set_pacing(seed)

    @property
    def rq_observers(self) -> list:
        """Callbacks (tlp, time_ns) for every request the design sends on RQ."""
        return self.dev.rq_observers

    def alloc_dma(self, size: int, align: int = 4096, high: bool | None = None) -> int:
        """Host memory for the device to use.

        From the root complex's pool below 4 GiB, or (``high``, default from
        LinkConfig.dma_above_4g) from a second pool above 4 GiB, so that the
        design's 64-bit addressing (4-dword headers) is exercised. The
        buddy allocators align a block to its rounded-up size; the buffer is
        registered so that the TLP-rule checker accepts DMA to it.
        """
        high = self.link.dma_above_4g if high is None else high
        pool = self._high_pool() if high else self.rc.mem_pool
        addr = pool.alloc_region(max(size, align)).get_absolute_address(0)
        assert addr % align == 0, f"pool returned {addr:#x}, not {align}-byte aligned"
        self.dma_buffers.append((addr, size))
        return addr

    def _high_pool(self):
        if self.high_pool is None:
            self.high_pool = self.rc.mem_address_space.create_pool(HIGH_POOL_BASE, HIGH_POOL_SIZE)
        return self.high_pool

    def alloc_coherent(self, size: int, function: int = 0) -> tuple[int, int]:
        """dma_alloc_coherent: host memory and the bus address a function reaches it at, kept mapped
        (both ways) in that function's domain for as long as the memory lives, as queues are."""
        phys = self.alloc_dma(size)
        return phys, self.dmas[function].map_now(phys, size, DmaDirection.BIDIRECTIONAL)

    def bus_peek(self, addr: int, length: int, function: int = 0) -> bytes:
        """Host memory behind a function's bus addresses as the host's mappings say now (no simulated time,
        no IOTLB): what that function's scoreboards read. Raises NoHostMemory where nothing is mapped."""
        space = self.rc.mem_address_space
        api = self.dmas[function].api
        if self.iommu_seam is None or api is None:
            return peek(space, addr, length)
        return b"".join(peek(space, phys, n) for phys, n in self.iommu_seam.host_view(api, addr, length))

    def add_peer(self) -> Device:
        """A second PCIe device (a plain memory endpoint) on its own root port, with its own requester id:
        another DMA master for isolation tests. Call before enumerate()."""
        assert self.func is None, "add_peer() before enumerate()"
        self.peer = Device(MemoryEndpoint())
        self.peer.functions[0].configure_bar(0, 4096)
        self.peer.log.setLevel(logging.WARNING)
        self.rc.make_port().connect(self.peer)
        return self.peer

    async def enumerate(self, class_code: int) -> None:
        """Enumerate the bus, find the design's functions of ``class_code`` (as a driver's PCI ID table
        matches) and enable each as its probe would; under an IOMMU each function gets a default domain of
        its own (DmaApi.for_device on its requester id) here, as at the IOMMU core's probe."""
        await self.rc.enumerate()
        matches = [f for f in _functions(self.rc.host_bridge.bus) if f.class_code == class_code]
        assert len(matches) == self.params.FUNCTIONS, (
            f"{len(matches)} functions of class {class_code:06x} after enumeration, {self.params.FUNCTIONS} "
            f"expected: {[(str(f.pcie_id), f'{f.class_code:06x}') for f in _functions(self.rc.host_bridge.bus)]}")
        self.funcs = sorted(matches, key=lambda f: f.pcie_id.function)
        self.func = self.funcs[0]
        for func in self.funcs:
            await func.enable_device()
            await func.set_master()
            if self.link.device_mrrs_code is not None:
                await func.set_readrq(self.link.device_mrrs_code)
        if self.iommu_seam is not None:
            config = self.iommu_seam.config
            self.dmas = [HostDma(self.iommu_seam.dma_api(int(func.pcie_id), config.policy_of(f)),
                                 self.iommu_seam.invalidation_queue, self.iommu_seam.ats)
                         for f, func in enumerate(self.funcs)]
        if self.peer is not None:
            peer = self.rc.find_device(self.peer.functions[0].pcie_id)
            await peer.enable_device()
            await peer.set_master()

    @property
    def bar0(self):
        """Function 0's BAR0 as a memory region on the host side (read/write by offset)."""
        return self.bar0_of(0)

    def bar0_of(self, function: int):
        """A function's BAR0 as a memory region on the host side."""
        assert self.funcs, "enumerate() first"
        return self.funcs[function].bar_window[0]

    @property
    def bar0_address(self) -> int:
        assert self.func is not None, "enumerate() first"
        # the low four bits of a memory BAR are its type flags
        return self.func.bar[0] & ~0xF


def _functions(bus) -> list:
    """Every function the root complex enumerated below ``bus``, depth first."""
    found = list(bus.devices)
    for child in bus.children:
        found += _functions(child)
    return found
