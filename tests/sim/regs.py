"""Register reset values and access types (tnvme's ctrlrResetDefaults and allCtrlRegs).

The register scoreboard checks every read against the reference model, so
each test here is a stimulus: read everything, write patterns, read back.
"""

from __future__ import annotations

import random

import pyuvm

from models.nvme_regs import (
    NVME_CC_ENABLE,
    NVME_REG_CAP,
    NVME_REG_CC,
    NVME_REG_DBS,
    NVME_REG_INTMC,
    NVME_REG_INTMS,
    NVME_VS_1_4,
    NVME_REG_VS,
    Cap,
)
from models.pci_identity import NVME_CLASS_CODE
from tb.base_test import NvmeBaseTest

TIMEOUT_US = 500
# Offsets up to the end of the property registers, plus a stretch of doorbells
SWEEP = list(range(0, 0x100, 4)) + list(range(NVME_REG_DBS, NVME_REG_DBS + 0x40, 4)) + [0x3FFC]
PATTERNS = [0xFFFF_FFFF, 0x0000_0000, 0xA5A5_A5A5, 0x5A5A_5A5A]


class RegTest(NvmeBaseTest):
    async def body(self) -> None:
        await self.tb.enumerate(NVME_CLASS_CODE)
        await self.stimulus()

    async def stimulus(self) -> None:
        raise NotImplementedError


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class RegResetValues(RegTest):
    """Every register and reserved offset reads its reset value."""

    async def stimulus(self) -> None:
        for offset in SWEEP:
            await self.regs.readl(offset)
        cap = Cap.decode(await self.regs.readq(NVME_REG_CAP))
        assert cap == self.controller_params.cap(), f"CAP decodes to {cap}"
        assert cap.cqr and cap.css & 1 and cap.mpsmin == 0
        assert await self.regs.readl(NVME_REG_VS) == NVME_VS_1_4


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class RegAccessTypes(RegTest):
    """Patterns written to every register (controller disabled) read back per access type."""

    async def stimulus(self) -> None:
        others = [offset for name, offset in self.reg_model.dwords() if name not in ("CC", "INTMS", "INTMC")]
        for offset in others:
            for pattern in PATTERNS:
                await self.regs.writel(offset, pattern)
                await self.regs.readl(offset)
        # CC without EN: every field but EN takes the pattern; EN stays 0 to keep the controller off
        for pattern in PATTERNS:
            await self.regs.writel(NVME_REG_CC, pattern & ~NVME_CC_ENABLE)
            await self.regs.readl(NVME_REG_CC)
        for offset in SWEEP:
            if offset >= NVME_REG_DBS or offset >= 0x40:
                await self.regs.writel(offset, 0xFFFF_FFFF)
                await self.regs.readl(offset)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class RegInterruptMask(RegTest):
    """INTMS sets and INTMC clears bits of one shared mask (RW1S / RW1C)."""

    async def stimulus(self) -> None:
        rng = random.Random(1)
        for _ in range(16):
            await self.regs.writel(rng.choice([NVME_REG_INTMS, NVME_REG_INTMC]), rng.getrandbits(32))
            await self.regs.readl(NVME_REG_INTMS)
            await self.regs.readl(NVME_REG_INTMC)
        await self.regs.writel(NVME_REG_INTMS, 0xFFFF_FFFF)
        assert await self.regs.readl(NVME_REG_INTMC) == 0xFFFF_FFFF
        await self.regs.writel(NVME_REG_INTMC, 0xFFFF_FFFF)
        assert await self.regs.readl(NVME_REG_INTMS) == 0


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us", expect_fail=True)
class RegScoreboardSeesCorruption(RegTest):
    """The scoreboard must fail when the model is wrong: VS is corrupted on purpose."""

    async def stimulus(self) -> None:
        vs = self.reg_model.block.VS
        vs.predict(vs.get_mirrored_value() ^ 0x100)
        await self.regs.readl(NVME_REG_VS)
