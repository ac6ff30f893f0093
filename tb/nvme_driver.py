"""Host NVMe driver model, structured like Linux's drivers/nvme/host/pci.c.

``RegisterBfm`` performs BAR0 accesses through the root complex and reports
each completed access to its observers (the pyuvm monitor). ``NvmeDriver``
is the probe path: enable the PCI function, configure the admin queue,
enable the controller and wait for CSTS.RDY bounded by CAP.TO, and the
disable and shutdown paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cocotb.triggers import Timer
from cocotb.utils import get_sim_time

from models.nvme_spec import CC_CSS_ALL_IO, CC_CSS_NVM
from models.nvme_regs import (
    CAP_CSS_IO_SETS,
    NVME_CC_AMS_SHIFT,
    NVME_CC_CSS_SHIFT,
    NVME_CC_ENABLE,
    NVME_CC_IOCQES_SHIFT,
    NVME_CC_IOSQES_SHIFT,
    NVME_CC_MPS_SHIFT,
    NVME_CC_SHN_ABRUPT,
    NVME_CC_SHN_MASK,
    NVME_CC_SHN_NORMAL,
    NVME_CSTS_CFS,
    NVME_CSTS_RDY,
    NVME_CSTS_SHST_CMPLT,
    NVME_CSTS_SHST_MASK,
    NVME_REG_ACQ,
    NVME_REG_AQA,
    NVME_REG_ASQ,
    NVME_REG_CAP,
    NVME_REG_CC,
    NVME_REG_CSTS,
    NVME_REG_VS,
    Cap,
)
from models.pci_identity import NVME_CLASS_CODE
from tb.pcie_tb import PcieTb

NVME_SQ_ENTRY_SIZE = 64
NVME_CQ_ENTRY_SIZE = 16
NVME_ADQ_DEPTH = 32
# Shutdown notification has its own bound in Linux (shutdown_timeout, 5 s)
SHUTDOWN_TIMEOUT_NS = 5_000_000_000


class ControllerError(Exception):
    """The controller did not reach the state the driver waited for."""


@dataclass(frozen=True)
class RegAccess:
    """One completed BAR0 access, as the register monitor sees it."""

    is_write: bool
    offset: int
    data: bytes
    time_ns: int


class RegisterBfm:
    """One function's BAR0 reads and writes of any size and alignment, with observers."""

    def __init__(self, tb: PcieTb, function: int = 0) -> None:
        self.tb = tb
        self.function = function
        self.observers: list[Callable[[RegAccess], None]] = []

    def _notify(self, access: RegAccess) -> None:
        for observer in self.observers:
            observer(access)

    async def read(self, offset: int, length: int) -> bytes:
        data = await self.tb.bar0_of(self.function).read(offset, length)
        self._notify(RegAccess(False, offset, bytes(data), int(get_sim_time("ns"))))
        return data

    async def write(self, offset: int, data: bytes) -> None:
        await self.tb.bar0_of(self.function).write(offset, data)
        self._notify(RegAccess(True, offset, bytes(data), int(get_sim_time("ns"))))

    async def readl(self, offset: int) -> int:
        return int.from_bytes(await self.read(offset, 4), "little")

    async def readq(self, offset: int) -> int:
        return int.from_bytes(await self.read(offset, 8), "little")

    async def writel(self, offset: int, value: int) -> None:
        await self.write(offset, value.to_bytes(4, "little"))

    async def writeq(self, offset: int, value: int) -> None:
        """A 64-bit register as Linux's lo_hi_writeq writes it: two dword writes."""
        await self.writel(offset, value & 0xFFFF_FFFF)
        await self.writel(offset + 4, value >> 32)


class NvmeDriver:
    """Controller bring-up and tear-down as nvme-pci does it."""

    page_shift = 12

    def __init__(self, tb: PcieTb, regs: RegisterBfm) -> None:
        self.tb = tb
        self.regs = regs
        self.cap: Cap | None = None
        self.version = 0
        self.ctrl_config = 0
        # admin rings as (host physical, bus address); ASQ/ACQ hold the bus addresses
        self.asq = (0, 0)
        self.acq = (0, 0)
        self.q_depth = NVME_ADQ_DEPTH
        self.ready_after_ns: int | None = None

    async def nvme_pci_enable(self) -> None:
        """Enumerate, find the NVMe function by class code, enable memory space and bus mastering,
        read CAP and VS."""
        await self.tb.enumerate(NVME_CLASS_CODE)
        await self.read_cap()

    async def read_cap(self) -> None:
        """Read CAP and VS: what a probe does first on each function it binds to."""
        self.cap = Cap.decode(await self.regs.readq(NVME_REG_CAP))
        self.version = await self.regs.readl(NVME_REG_VS)

    async def nvme_pci_configure_admin_queue(self) -> None:
        """Disable, allocate the admin queue pair, program AQA/ASQ/ACQ."""
        await self.nvme_disable_ctrl()
        self.asq = self.tb.alloc_coherent(self.q_depth * NVME_SQ_ENTRY_SIZE, self.regs.function)
        self.acq = self.tb.alloc_coherent(self.q_depth * NVME_CQ_ENTRY_SIZE, self.regs.function)
        aqa = (self.q_depth - 1) | (self.q_depth - 1) << 16
        await self.regs.writel(NVME_REG_AQA, aqa)
        await self.regs.writeq(NVME_REG_ASQ, self.asq_dma)
        await self.regs.writeq(NVME_REG_ACQ, self.acq_dma)

    @property
    def asq_dma(self) -> int:
        """The admin SQ's bus address, as ASQ holds it."""
        return self.asq[1]

    @property
    def acq_dma(self) -> int:
        """The admin CQ's bus address, as ACQ holds it."""
        return self.acq[1]

    def default_config(self) -> int:
        """CC as Linux's nvme_enable_ctrl builds it: every I/O command set where CAP.CSS offers them (else
        the NVM set), RR, 64/16-byte entries."""
        css = CC_CSS_ALL_IO if self.cap is not None and self.cap.css & CAP_CSS_IO_SETS else CC_CSS_NVM
        return ((css << NVME_CC_CSS_SHIFT) | ((self.page_shift - 12) << NVME_CC_MPS_SHIFT)
                | (0 << NVME_CC_AMS_SHIFT) | (6 << NVME_CC_IOSQES_SHIFT) | (4 << NVME_CC_IOCQES_SHIFT))

    async def nvme_enable_ctrl(self, config: int | None = None) -> int:
        """Set CC.EN and wait for CSTS.RDY; return the simulated ns it took."""
        self.ctrl_config = (self.default_config() if config is None else config) | NVME_CC_ENABLE
        start = get_sim_time("ns")
        await self.regs.writel(NVME_REG_CC, self.ctrl_config)
        await self.nvme_wait_ready(True)
        self.ready_after_ns = int(get_sim_time("ns") - start)
        return self.ready_after_ns

    async def nvme_disable_ctrl(self) -> None:
        await self.clear_enable()
        await self.nvme_wait_ready(False)

    async def clear_enable(self) -> None:
        """CC.EN 1->0 (and no shutdown notification), without waiting for CSTS.RDY."""
        self.ctrl_config &= ~(NVME_CC_ENABLE | NVME_CC_SHN_MASK)
        await self.regs.writel(NVME_REG_CC, self.ctrl_config)

    async def nvme_shutdown_ctrl(self, abrupt: bool = False) -> int:
        """Shutdown notification (normal, or abrupt); wait for CSTS.SHST to read complete and return
        the simulated ns it took."""
        start = get_sim_time("ns")
        await self.notify_shutdown(abrupt)
        await self._poll_csts(lambda csts: csts & NVME_CSTS_SHST_MASK == NVME_CSTS_SHST_CMPLT,
                              SHUTDOWN_TIMEOUT_NS, "shutdown to complete")
        return int(get_sim_time("ns") - start)

    async def notify_shutdown(self, abrupt: bool = False) -> None:
        """Write CC.SHN (01b normal, 10b abrupt) and return at once."""
        shn = NVME_CC_SHN_ABRUPT if abrupt else NVME_CC_SHN_NORMAL
        self.ctrl_config = (self.ctrl_config & ~NVME_CC_SHN_MASK) | shn
        await self.regs.writel(NVME_REG_CC, self.ctrl_config)

    async def nvme_wait_ready(self, enabled: bool) -> None:
        """Wait for CSTS.RDY == enabled within CAP.TO; a fatal status fails at once."""
        assert self.cap is not None, "nvme_pci_enable() first"
        want = NVME_CSTS_RDY if enabled else 0

        def done(csts: int) -> bool:
            if enabled and csts & NVME_CSTS_CFS:
                raise ControllerError(f"CSTS.CFS set while enabling (CSTS={csts:#x}, CC={self.ctrl_config:#x})")
            return csts & NVME_CSTS_RDY == want

        await self._poll_csts(done, self.cap.timeout_ms * 1_000_000, f"CSTS.RDY={int(enabled)}")

    async def _poll_csts(self, done: Callable[[int], bool], timeout_ns: int, what: str) -> int:
        """Poll CSTS with a growing interval (100 ns up to 10 us) until done or timeout."""
        deadline = get_sim_time("ns") + timeout_ns
        interval = 100
        while True:
            csts = await self.regs.readl(NVME_REG_CSTS)
            if done(csts):
                return csts
            if get_sim_time("ns") >= deadline:
                raise ControllerError(f"timed out after {timeout_ns} ns waiting for {what} (CSTS={csts:#x})")
            await Timer(interval, "ns")
            interval = min(interval * 2, 10_000)

    async def probe(self) -> None:
        """nvme_probe up to a ready controller with an admin queue configured."""
        await self.nvme_pci_enable()
        await self.nvme_pci_configure_admin_queue()
        await self.nvme_enable_ctrl()
