"""The simulation-cost floor, for bench/sim_cost_bench.py: wall seconds per simulated MiB of a design
that only streams memory writes and reads (bench/hdl/pcie_stream_floor.v) behind the same UltraScale+
model, link settings and host read latency as the NVMe controller's DMA benchmark."""

from __future__ import annotations

import time

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, Timer
from cocotb.utils import get_sim_time

from models.pci_identity import NVME_CLASS_CODE
from tb.pcie_tb import MRRS_512, LinkConfig, PcieTb

from bench_figures import record

MIB = 1 << 20
STREAM_BYTES = 2 * MIB
TIMEOUT_NS = 100_000_000


async def stream(tb: PcieTb, addr: int, write_bytes: int, read_bytes: int) -> tuple[float, float]:
    """Run the floor once; (simulated ns, wall seconds) it took."""
    dut = tb.dut
    dut.floor_addr.value = addr
    dut.floor_write_bytes.value = write_bytes
    dut.floor_read_bytes.value = read_bytes
    await RisingEdge(dut.user_clk)
    dut.floor_start.value = 1
    start_ns, start_wall = get_sim_time("ns"), time.perf_counter()
    await RisingEdge(dut.user_clk)
    dut.floor_start.value = 0
    await ClockCycles(dut.user_clk, 2)
    deadline = start_ns + TIMEOUT_NS
    while not dut.floor_done.value:
        assert get_sim_time("ns") < deadline, "the floor design never finished"
        await Timer(10_000, "ns")
    return get_sim_time("ns") - start_ns, time.perf_counter() - start_wall


@cocotb.test()
async def floor_stream(dut) -> None:
    for name in ("floor_start", "floor_addr", "floor_write_bytes", "floor_read_bytes"):
        getattr(dut, name).value = 0
    tb = PcieTb(dut, LinkConfig(root_mrrs_code=MRRS_512))
    if dut.user_reset.value != 1:
        await RisingEdge(dut.user_reset)
    await FallingEdge(dut.user_reset)
    await tb.enumerate(NVME_CLASS_CODE)
    # the floor finds MPS and MRRS on cfg_*, which the model copies from config space as the host writes it
    await Timer(2_000, "ns")
    addr = tb.alloc_dma(STREAM_BYTES)
    for label, write_bytes, read_bytes in (("write", STREAM_BYTES, 0), ("read", 0, STREAM_BYTES)):
        sim_ns, wall = await stream(tb, addr, write_bytes, read_bytes)
        mib = (write_bytes + read_bytes) / MIB
        record("sim_cost_floor", label, {"sim_ns": sim_ns, "wall_s": wall, "wall_s_per_mib": wall / mib,
                                         "gb_per_s": (write_bytes + read_bytes) / sim_ns})
        dut._log.info("floor %s: %.2f GB/s simulated, %.2f s wall per simulated MiB", label,
                      (write_bytes + read_bytes) / sim_ns, wall / mib)
