"""BAR0 accesses of every size and alignment, reserved offsets, and odd requests.

The scratch area is AQA..ACQ (0x24-0x37): twenty bytes of read-write bits
with reserved holes, which makes byte-enable mistakes visible. Every read is
checked by the register scoreboard; the writes are mirrored into its model.
"""

from __future__ import annotations

import random

import pyuvm

from models.pci_identity import NVME_CLASS_CODE
from tb.base_test import NvmeBaseTest
from tb.pcie_tb import MRRS_512, LinkConfig

TIMEOUT_US = 3000
SCRATCH = 0x24
SCRATCH_END = 0x38


class BarTest(NvmeBaseTest):
    async def body(self) -> None:
        await self.tb.enumerate(NVME_CLASS_CODE)
        await self.stimulus()

    async def stimulus(self) -> None:
        raise NotImplementedError

    async def sizes_and_alignments(self, seed: int) -> None:
        """Writes of 1..N bytes at every byte offset, each followed by a read of the
        same bytes and one of the whole area (bytes next to a write must not change)."""
        rng = random.Random(seed)
        for start in range(SCRATCH, SCRATCH_END):
            for length in range(1, SCRATCH_END - start + 1):
                await self.regs.write(start, rng.randbytes(length))
                await self.regs.read(start, length)
                await self.regs.read(SCRATCH, SCRATCH_END - SCRATCH)
        # long reads across RO, RW, reserved registers and into the doorbells
        for start, length in ((0, 64), (0x3, 61), (0x20, 128), (0xFF0, 32), (0x1000, 128)):
            await self.regs.read(start, length)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class AllSizesAndAlignments(BarTest):
    async def stimulus(self) -> None:
        await self.sizes_and_alignments(seed=1)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class AllSizesWithBackPressure(BarTest):
    """Same accesses with idle cycles on CQ and back-pressure on CC."""

    pacing_seed = 7

    async def stimulus(self) -> None:
        await self.sizes_and_alignments(seed=2)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class MultiDwordWrites(BarTest):
    """A single write TLP of many dwords lands dword by dword with its byte enables."""

    async def stimulus(self) -> None:
        rng = random.Random(3)
        for _ in range(8):
            await self.regs.write(0x20, rng.randbytes(0x20))
            await self.regs.read(0x00, 0x40)
        # a write spanning the whole property range and beyond leaves RO registers intact
        await self.regs.write(0x00, b"\xff" * 0x80)
        await self.regs.read(0x00, 0x80)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class OversizedReadAborts(BarTest):
    """A read above 128 bytes (host MRRS 512) completes with Completer Abort, then work goes on."""

    link = LinkConfig(root_mrrs_code=MRRS_512)

    async def stimulus(self) -> None:
        try:
            await self.tb.bar0.read(0, 256)
        except Exception as err:  # cocotbext-pcie raises a bare Exception for non-SC completions
            assert "Unsuccessful completion" in str(err), err
        else:
            raise AssertionError("a 256-byte BAR read completed successfully")
        await self.regs.read(0, 128)
