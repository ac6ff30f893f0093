"""A module that fails on purpose, for tests/test_debug_loop.py: what does a failure look like?

It is outside tests/sim, so the regression does not run it as a module of
its own. One test passes and one fails on a register value, so that the
end of the run must name the failing test (and only it), with its seed,
log and rerun command, and the assertion must show the values in hex.
"""

from __future__ import annotations

import pyuvm

from models.nvme_regs import NVME_REG_VS
from models.pci_identity import NVME_CLASS_CODE
from tb.base_test import NvmeBaseTest

TIMEOUT_US = 500
WRONG_VS = 0x0002_0000  # NVMe 2.0; the controller reports 1.4


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class VersionReadsBack(NvmeBaseTest):
    """Passes: VS is read (the register scoreboard checks it)."""

    async def body(self) -> None:
        await self.tb.enumerate(NVME_CLASS_CODE)
        await self.regs.readl(NVME_REG_VS)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class VersionIsTwo(NvmeBaseTest):
    """Fails on purpose: expects a version the controller does not report."""

    async def body(self) -> None:
        await self.tb.enumerate(NVME_CLASS_CODE)
        assert await self.regs.readl(NVME_REG_VS) == WRONG_VS
