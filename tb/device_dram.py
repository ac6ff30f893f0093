"""Device DRAM behind the DMA engine's AXI4 master, and host-memory peeks.

The DMA engine reaches DRAM through AXI4; the firmware (the SoC model) and
the scoreboards reach the same bytes through the DeviceDram protocol, with
no simulated time, as the SoC's own DRAM port would (its cost is in the SoC
model). Two implementations, by what the top level offers:

- ``SharedDram``: the Verilog model inside the simulation top level
  (tb/hdl/axi_ram_dpi.v, tb/sim_top.py) moves every beat through DPI-C into
  a file both it and Python map, so bursts cost no Python at all; it paces
  its handshakes and injects error responses from its ``dram_*`` inputs.
- ``AxiDram``: cocotbext-axi's AxiRam on the design's ``m_axi_dram`` port,
  for simulators without DPI (Icarus), with a Python coroutine per channel.
"""

from __future__ import annotations

import atexit
import mmap
import os
import tempfile
from pathlib import Path

from cocotb.handle import HierarchyObject
from cocotbext.axi import AxiBus, AxiRam
from cocotbext.axi.address_space import AddressSpace, MemoryRegion

from tb.stream_pacing import random_pauses

DRAM_SIZE = 256 << 20
DRAM_FILE_ENV = "NVME_COSIM_DRAM"


class NoHostMemory(ValueError):
    """Nothing in host memory answers at this address (or, under the IOMMU, nothing is mapped there)."""


def peek(space: AddressSpace, addr: int, length: int) -> bytes:
    """Read host memory without simulated time (pools nest: each holds regions at local offsets)."""
    for base, _size, _translate, region in space.find_regions(addr, length):
        if isinstance(region, MemoryRegion):
            return bytes(region.mem[addr - base:addr - base + length])
        return peek(region, addr - base, length)
    raise NoHostMemory(f"no host memory at {addr:#x}")


def make_dram(dut: HierarchyObject) -> SharedDram | AxiDram | None:
    """The DRAM of this top level: its own Verilog model if it has one, else an AxiRam on its port;
    None for a top level without DRAM (the simulation-cost floor)."""
    if hasattr(dut, "dram_pacing_en"):
        return SharedDram(dut)
    return AxiDram(dut) if hasattr(dut, "m_axi_dram_awvalid") else None


def _check_range(addr: int, length: int, size: int) -> None:
    if addr < 0 or addr + length > size:
        raise ValueError(f"DRAM [{addr:#x}, {addr + length:#x}) is outside its {size:#x} bytes")


class _DramFile:
    """The file the Verilog model's DPI functions and Python share: one per simulator process, sparse,
    removed when the process ends. The C side maps it at the design's first DRAM access."""

    _mapped: mmap.mmap | None = None

    @classmethod
    def bytes(cls) -> mmap.mmap:
        if cls._mapped is None:
            base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
            path = base / f"nvme-cosim-dram-{os.getpid()}"
            with open(path, "w+b") as f:
                f.truncate(DRAM_SIZE)
                cls._mapped = mmap.mmap(f.fileno(), DRAM_SIZE)
            atexit.register(path.unlink, missing_ok=True)
            os.environ[DRAM_FILE_ENV] = str(path)
        return cls._mapped


class SharedDram:
    """The top level's Verilog DRAM model; its bytes by backdoor. Also the firmware's DeviceDram."""

    def __init__(self, dut: HierarchyObject, size: int = DRAM_SIZE) -> None:
        self.dut = dut
        self.size = size
        self.mem = _DramFile.bytes()
        for name in ("dram_pacing_en", "dram_pacing_seed", "dram_err_rd_en", "dram_err_wr_en", "dram_err_base",
                     "dram_err_limit"):
            getattr(dut, name).setimmediatevalue(0)

    async def read(self, addr: int, length: int) -> bytes:
        _check_range(addr, length, self.size)
        return self.mem[addr:addr + length]

    async def write(self, addr: int, data: bytes) -> None:
        _check_range(addr, len(data), self.size)
        self.mem[addr:addr + len(data)] = data

    def set_pacing(self, seed: int | None) -> None:
        """Stalls on AWREADY, WREADY, ARREADY and idle cycles on BVALID, RVALID from a seeded LFSR
        (None turns them off)."""
        self.dut.dram_pacing_seed.value = (seed or 0) & 0xFFFF_FFFF
        self.dut.dram_pacing_en.value = int(seed is not None)

    def inject_errors(self, base: int, limit: int, reads: bool, writes: bool) -> None:
        """Answer bursts touching [base, limit) with SLVERR: DRAM reads (device to host), DRAM writes
        (host to device) or both."""
        self.dut.dram_err_base.value = base
        self.dut.dram_err_limit.value = limit
        self.dut.dram_err_rd_en.value = int(reads)
        self.dut.dram_err_wr_en.value = int(writes)


class AxiDram:
    """cocotbext-axi's AxiRam on the design's AXI4 master; also the firmware's DeviceDram."""

    def __init__(self, dut: HierarchyObject, size: int = DRAM_SIZE) -> None:
        self.ram = AxiRam(AxiBus.from_prefix(dut, "m_axi_dram"), dut.user_clk, dut.user_reset, size=size)
        self.size = size

    async def read(self, addr: int, length: int) -> bytes:
        _check_range(addr, length, self.size)
        return bytes(self.ram.read(addr, length))

    async def write(self, addr: int, data: bytes) -> None:
        _check_range(addr, len(data), self.size)
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
