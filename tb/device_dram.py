"""Device DRAM: cocotbext-axi's AxiRam on the design's m_axi_dram port, and host-memory peeks.

The DMA engine reaches DRAM through AXI4; the firmware (the SoC model)
reaches the same bytes through ``AxiDram``, the DeviceDram protocol with no
simulated time, as the SoC's own DRAM port would (its cost is in the SoC
model).
"""

from __future__ import annotations

from cocotb.handle import HierarchyObject
from cocotbext.axi import AxiBus, AxiRam
from cocotbext.axi.address_space import AddressSpace, MemoryRegion

from tb.stream_pacing import random_pauses

DRAM_SIZE = 256 << 20


class NoHostMemory(ValueError):
    """Nothing in host memory answers at this address (or, under the IOMMU, nothing is mapped there)."""


def peek(space: AddressSpace, addr: int, length: int) -> bytes:
    """Read host memory without simulated time (pools nest: each holds regions at local offsets)."""
    for base, _size, _translate, region in space.find_regions(addr, length):
        if isinstance(region, MemoryRegion):
            return bytes(region.mem[addr - base:addr - base + length])
        return peek(region, addr - base, length)
    raise NoHostMemory(f"no host memory at {addr:#x}")


class AxiDram:
    """The DRAM behind the design's AXI4 master; also the firmware's DeviceDram."""

    def __init__(self, dut: HierarchyObject, size: int = DRAM_SIZE) -> None:
        self.ram = AxiRam(AxiBus.from_prefix(dut, "m_axi_dram"), dut.user_clk, dut.user_reset, size=size)
        self.size = size

    def _check(self, addr: int, length: int) -> None:
        if addr < 0 or addr + length > self.size:
            raise ValueError(f"DRAM [{addr:#x}, {addr + length:#x}) is outside its {self.size:#x} bytes")

    async def read(self, addr: int, length: int) -> bytes:
        self._check(addr, length)
        return bytes(self.ram.read(addr, length))

    async def write(self, addr: int, data: bytes) -> None:
        self._check(addr, len(data))
        self.ram.write(addr, data)

    def set_pacing(self, seed: int | None) -> None:
        """Back-pressure on AW, W, AR and idle cycles on B, R (None turns them off)."""
        channels = (self.ram.write_if.aw_channel, self.ram.write_if.w_channel, self.ram.write_if.b_channel,
                    self.ram.read_if.ar_channel, self.ram.read_if.r_channel)
        for offset, channel in enumerate(channels):
            if seed is None:
                channel.clear_pause_generator()
            else:
                channel.set_pause_generator(random_pauses(seed + 100 + offset))
