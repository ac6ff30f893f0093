"""Controller enable, disable, re-enable, shutdown, and invalid CC settings.

Invalid settings (unsupported MPS, CSS or AMS, empty admin queues, admin
queues not aligned to the memory page size) set CSTS.CFS and leave RDY
clear until the host clears CC.EN, as QEMU's controller does; the spec
leaves the behaviour open (NVMe 1.4, 3.1.5: "shall not set" such values).
"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import Timer

from contract import nvme_bar0 as bar0
from models.nvme_spec import CC_CSS_ALL_IO, CC_CSS_NVM
from models.nvme_regs import (
    NVME_CC_AMS_SHIFT,
    NVME_CC_CSS_SHIFT,
    NVME_CC_ENABLE,
    NVME_CC_MPS_SHIFT,
    NVME_CSTS_CFS,
    NVME_CSTS_RDY,
    NVME_CSTS_SHST_MASK,
    NVME_CSTS_SHST_OCCUR,
    NVME_REG_AQA,
    NVME_REG_ASQ,
    NVME_REG_CC,
    NVME_REG_CSTS,
)
from tb.base_test import NvmeBaseTest
from tb.nvme_driver import ControllerError

TIMEOUT_US = 2000
WAIT_FOR_FIRMWARE_NS = 20_000


class EnableTest(NvmeBaseTest):
    async def body(self) -> None:
        await self.driver.nvme_pci_enable()
        await self.driver.nvme_pci_configure_admin_queue()
        await self.stimulus()

    async def stimulus(self) -> None:
        raise NotImplementedError

    async def expect_config_rejected(self, config: int) -> None:
        """Enabling with ``config`` must set CFS and keep RDY clear; disabling recovers."""
        try:
            await self.driver.nvme_enable_ctrl(config)
        except ControllerError as err:
            assert "CFS" in str(err), err
        else:
            raise AssertionError(f"controller became ready with invalid CC {config:#x}")
        csts = await self.regs.readl(NVME_REG_CSTS)
        assert csts & NVME_CSTS_CFS and not csts & NVME_CSTS_RDY, f"CSTS={csts:#x}"
        await self.driver.nvme_disable_ctrl()
        assert await self.regs.readl(NVME_REG_CSTS) & NVME_CSTS_CFS == 0, "CFS survived CC.EN=0"


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class EnableDisableCycles(EnableTest):
    """Enable, disable and re-enable three times; each enable reaches RDY."""

    async def stimulus(self) -> None:
        for cycle in range(4):
            ready_ns = await self.driver.nvme_enable_ctrl()
            assert ready_ns > 0
            self.logger.info("cycle %d: ready after %d ns", cycle, ready_ns)
            assert await self.regs.readl(NVME_REG_CSTS) & NVME_CSTS_RDY
            await self.driver.nvme_disable_ctrl()
            assert await self.regs.readl(NVME_REG_CSTS) == 0


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class ShutdownWaitsForFirmware(EnableTest):
    """With no firmware to make its state durable, a shutdown stays in progress (SHST 01b) however
    idle the engine is; a controller reset clears it and the controller enables again. (Shutdowns
    that complete, with the firmware flushing, are shutdown.py's.)"""

    async def stimulus(self) -> None:
        await self.driver.nvme_enable_ctrl()
        for abrupt in (False, True):
            await self.driver.notify_shutdown(abrupt)
            await Timer(WAIT_FOR_FIRMWARE_NS, "ns")
            csts = await self.regs.readl(NVME_REG_CSTS)
            assert csts & NVME_CSTS_SHST_MASK == NVME_CSTS_SHST_OCCUR, (
                f"{'abrupt' if abrupt else 'normal'} shutdown with no firmware: CSTS={csts:#x}, "
                "SHST must read 01b (processing)")
            await self.driver.nvme_disable_ctrl()
            assert await self.regs.readl(NVME_REG_CSTS) & NVME_CSTS_SHST_MASK == 0
            await self.driver.nvme_enable_ctrl()


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class InvalidConfigRejected(EnableTest):
    """Unsupported MPS, AMS and every CSS but 000b and 110b (CAP.CSS bit 7 clear: no admin-only 111b) each set
    CFS; a valid config then enables."""

    async def stimulus(self) -> None:
        base = self.driver.default_config()
        cap = self.driver.cap
        assert cap is not None
        bad_mps = base | (cap.mpsmax + 1) << NVME_CC_MPS_SHIFT
        bad_css = [bar0.CC.CSS.replace(base, css) for css in range(8) if css not in (CC_CSS_NVM, CC_CSS_ALL_IO)]
        bad_ams = base | (0b111 if cap.ams & 2 == 0 else 0b010) << NVME_CC_AMS_SHIFT
        for config in (bad_mps, *bad_css, bad_ams):
            await self.expect_config_rejected(config)
        await self.driver.nvme_enable_ctrl(base)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class InvalidAdminQueueRejected(EnableTest):
    """An empty admin queue, or one not aligned to CC.MPS, sets CFS."""

    async def stimulus(self) -> None:
        base = self.driver.default_config()
        await self.regs.writel(NVME_REG_AQA, 0)
        await self.expect_config_rejected(base)
        await self.regs.writel(NVME_REG_AQA, 0x001F_001F)
        # 4 KiB-aligned ASQ with a 16 KiB memory page
        await self.regs.writeq(NVME_REG_ASQ, self.driver.asq_dma + 0x1000)
        await self.expect_config_rejected(base | 2 << NVME_CC_MPS_SHIFT)
        await self.regs.writeq(NVME_REG_ASQ, self.driver.asq_dma)
        await self.driver.nvme_enable_ctrl(base)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class ConfigLockedWhileEnabled(EnableTest):
    """CC.MPS, CSS and AMS do not change while CC.EN is 1 (the scoreboard checks CC reads)."""

    async def stimulus(self) -> None:
        await self.driver.nvme_enable_ctrl()
        cc = await self.regs.readl(NVME_REG_CC)
        await self.regs.writel(NVME_REG_CC, cc | 1 << NVME_CC_MPS_SHIFT | 1 << NVME_CC_CSS_SHIFT)
        assert await self.regs.readl(NVME_REG_CC) == cc | NVME_CC_ENABLE
        assert await self.regs.readl(NVME_REG_CSTS) & NVME_CSTS_RDY
