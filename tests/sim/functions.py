"""Several physical functions, each a controller with its own BAR0 (issue 15): registers, enable, shutdown, MSI-X.

The build has the hard IP's four physical functions. Each must enumerate as
an NVMe controller (class code 010802h) with its own BAR0, and each BAR0 must
hold its own registers, enable and shutdown state, and MSI-X table and PBA:
a write to one function is never seen by another. Every register read of
every function goes through that function's register scoreboard. The last
test checks that function 0's commands and interrupts are untouched while
the other functions are enabled, reset, shut down and reprogrammed, and
that its MSI-X messages carry its own requester id. The controllers'
commands, data and interrupts are tests/sim/controllers.py's.
"""

from __future__ import annotations

import random

import cocotb
import pyuvm
from cocotb.triggers import Timer

from contract import nvme_bar0 as bar0
from models.pci_identity import NVME_CLASS_CODE
from tb.base_test import NvmeBaseTest, QueueTest
from tb.nvme_driver import NvmeDriver
from tb.sequences import io_command

BUILD_PARAMETERS = {"FUNCTIONS": 4, "IO_QUEUES": 15, "QUEUE_POOL": 32}

TIMEOUT_US = 2000
ENTRY = bar0.MSIX_TABLE.STRIDE


def table_entry(function: int, vector: int) -> tuple[int, int, int, int]:
    """A distinct MSI-X table entry per function and vector: address low and high, data, vector control."""
    return (0xFEE0_0000 | function << 12 | vector << 4, function + 1, function << 16 | vector, (function + vector) & 1)


async def read_registers(tb, function_regs: list) -> None:
    """Read the controller registers of each function given (through its scoreboard) and check that every
    completion of those reads names that function as its completer (PCIe: the completer id is the
    function's)."""
    for regs in function_regs:
        completers: list[int] = []
        observer = lambda tlp, t: completers.append(tlp.completer_id.function)  # noqa: E731 - removed below
        tb.dev.cc_observers.append(observer)
        await regs.read(0, bar0.ACQ.OFFSET + 8)
        tb.dev.cc_observers.remove(observer)
        assert completers and set(completers) == {regs.function}, (
            f"reads of function {regs.function} completed as functions {completers}")


class FunctionTest(NvmeBaseTest):
    """Enumerated, with a driver per function (function 0's is ``self.driver``)."""

    async def enumerate_all(self) -> list[NvmeDriver]:
        await self.tb.enumerate(NVME_CLASS_CODE)
        drivers = [self.driver] + [NvmeDriver(self.tb, regs) for regs in self.function_regs[1:]]
        for driver in drivers:
            await driver.read_cap()
        return drivers

    async def read_all_registers(self) -> None:
        """Every controller register of every function, through its scoreboard; each read's completion
        names that function as its completer."""
        await read_registers(self.tb, self.function_regs)

    async def csts(self) -> list[int]:
        return [await regs.readl(bar0.CSTS.OFFSET) for regs in self.function_regs]


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class EveryFunctionEnumerates(FunctionTest):
    """Class code 010802h and the same IDs on every function, its own function number and BAR0, and the
    controller registers' reset values in each."""

    async def body(self) -> None:
        drivers = await self.enumerate_all()
        funcs = self.tb.funcs
        assert [f.pcie_id.function for f in funcs] == list(range(self.tb.params.FUNCTIONS)), (
            f"functions {[str(f.pcie_id) for f in funcs]}")
        for func in funcs:
            assert func.class_code == NVME_CLASS_CODE, f"{func.pcie_id}: class code {func.class_code:06x}"
            assert (func.vendor_id, func.device_id) == (funcs[0].vendor_id, funcs[0].device_id)
        bars = [self.tb.bar0_of(fn).get_absolute_address(0) for fn in range(len(funcs))]
        assert len(set(bars)) == len(bars), f"BAR0 addresses {[hex(b) for b in bars]}"
        assert all(d.cap == drivers[0].cap and d.version == drivers[0].version for d in drivers)
        await self.read_all_registers()


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class RegistersPerFunction(FunctionTest):
    """Different admin queue registers, CC and interrupt masks in each function; each function reads back
    its own (the scoreboards predict each from that function's writes alone)."""

    async def body(self) -> None:
        await self.enumerate_all()
        for fn, regs in enumerate(self.function_regs):
            await regs.writel(bar0.AQA.OFFSET, (fn + 1) << 16 | (fn + 7))
            await regs.writeq(bar0.ASQ.OFFSET, (fn + 1) << 32 | (fn + 1) << 12)
            await regs.writeq(bar0.ACQ.OFFSET, (fn + 5) << 32 | (fn + 9) << 12)
            await regs.writel(bar0.INTMS.OFFSET, 1 << fn)
            await regs.writel(bar0.CC.OFFSET, bar0.CC.encode(IOSQES=fn + 4, IOCQES=fn + 2, MPS=fn & 1))
        await self.read_all_registers()
        await self.function_regs[1].writel(bar0.INTMC.OFFSET, 0xFFFF_FFFF)
        await self.read_all_registers()


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class EnableAndShutdownPerFunction(FunctionTest):
    """CC.EN, CSTS.RDY, CC.SHN and CSTS.SHST of one function leave the others' as they were. Each
    function's shutdown completes once the firmware has made that controller's state durable (the
    firmware of every controller runs; no command is sent)."""

    async def setup(self) -> None:
        self.firmware = self.make_firmware(cocotb.top)
        self.firmware.start()

    async def teardown(self) -> None:
        self.firmware.stop()

    async def body(self) -> None:
        drivers = await self.enumerate_all()
        for fn, driver in enumerate(drivers):
            await driver.nvme_pci_configure_admin_queue()
            await driver.nvme_enable_ctrl()
            ready = [bar0.CSTS.RDY.get(c) for c in await self.csts()]
            assert ready == [int(k <= fn) for k in range(len(drivers))], f"after enabling {fn}: RDY {ready}"
        for fn, driver in enumerate(drivers):
            await driver.nvme_shutdown_ctrl()
            shst = [bar0.CSTS.SHST.get(c) for c in await self.csts()]
            assert shst == [2 if k <= fn else 0 for k in range(len(drivers))], f"after shutting {fn} down: {shst}"
        for fn, driver in reversed(list(enumerate(drivers))):
            await driver.nvme_disable_ctrl()
            status = [(bar0.CSTS.RDY.get(c), bar0.CSTS.SHST.get(c)) for c in await self.csts()]
            assert status == [(1, 2) if k < fn else (0, 0) for k in range(len(drivers))], (
                f"after disabling {fn}: (RDY, SHST) {status}")
        await self.read_all_registers()


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class MsixTablePerFunction(FunctionTest):
    """Each function's MSI-X table holds what was written through its BAR0, its PBA reads clear, and its
    MSI-X Enable reaches the hard IP interface on its own bit."""

    async def body(self) -> None:
        await self.enumerate_all()
        vectors = self.tb.params.msix_vectors
        for fn in range(len(self.tb.funcs)):
            window = self.tb.bar0_of(fn)
            for v in range(vectors):
                lo, hi, data, ctrl = table_entry(fn, v)
                await window.write(bar0.MSIX_TABLE.OFFSET + ENTRY * v, b"".join(
                    x.to_bytes(4, "little") for x in (lo, hi, data, ctrl)))
        for fn in range(len(self.tb.funcs)):
            window = self.tb.bar0_of(fn)
            for v in range(vectors):
                raw = await window.read(bar0.MSIX_TABLE.OFFSET + ENTRY * v, ENTRY)
                got = tuple(int.from_bytes(raw[i:i + 4], "little") for i in range(0, ENTRY, 4))
                assert got == table_entry(fn, v), f"function {fn} vector {v}: {[hex(x) for x in got]}"
            pba = await window.read(bar0.MSIX_PBA.OFFSET, 4 * ((vectors + 31) // 32))
            assert not any(pba), f"function {fn}: PBA {bytes(pba).hex()} with nothing sent"
        for fn, func in enumerate(self.tb.funcs):
            await func.alloc_irq_vectors(1, vectors)
            await Timer(100, "ns")
            enabled = int(self.tb.dut.cfg_interrupt_msix_enable.value)
            assert enabled == (1 << (fn + 1)) - 1, f"MSI-X enabled on functions 0..{fn}: {enabled:04b}"
        await self.read_all_registers()


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class Function0ServesWhileOthersReset(QueueTest):
    """I/O on function 0's queues, checked by every scoreboard, while functions 1 to 3 are enabled, shut
    down, disabled and have their MSI-X tables rewritten over and over; every MSI-X message function 0
    sends carries function 0's requester id."""

    async def body(self) -> None:
        requesters: set[int] = set()
        msi_base = self.tb.rc.msi_region.get_absolute_address(0)
        msi_end = msi_base + self.tb.rc.msi_region.size

        def host_write(tlp, time_ns: int) -> None:
            if msi_base <= tlp.address < msi_end:
                requesters.add(tlp.requester_id.function)

        self.tb.host_write_observers.append(host_write)
        others = [NvmeDriver(self.tb, regs) for regs in self.function_regs[1:]]
        for driver in others:
            await driver.read_cap()
        cq = await self.admin.create_cq(1, 16)
        sqs = [await self.admin.create_sq(qid, 16, cq) for qid in (1, 2)]
        self.churning = True
        churn = cocotb.start_soon(self.churn(others, random.Random(random.getrandbits(32))))
        for _ in range(8):
            for sq in sqs:
                await sq.wait_for(await sq.submit_many([io_command() for _ in range(6)]))
        self.churning = False
        cycles = await churn
        assert cycles > 0, "no other function was reset while function 0 served"
        await read_registers(self.tb, self.function_regs)
        assert requesters == {0}, f"MSI-X messages from functions {sorted(requesters)}"
        await self.pending_bit_is_function_0s(sqs[0])

    async def pending_bit_is_function_0s(self, sq) -> None:
        """A completion on function 0's masked vector 1 pends in function 0's PBA only; unmasking sends it."""
        await self.set_mask(1, True)
        await sq.wait_for(await sq.submit_many([io_command()]))
        pbas = [int.from_bytes(await self.tb.bar0_of(fn).read(bar0.MSIX_PBA.OFFSET, 4), "little")
                for fn in range(len(self.tb.funcs))]
        assert pbas == [0b10] + [0] * (len(pbas) - 1), f"PBA dword 0 per function: {[bin(p) for p in pbas]}"
        await self.set_mask(1, False)

    async def churn(self, drivers: list[NvmeDriver], rng: random.Random) -> int:
        """Bring other functions up and down until told to stop; return how many cycles ran."""
        cycles = 0
        while self.churning:
            driver = rng.choice(drivers)
            fn = driver.regs.function
            await driver.nvme_pci_configure_admin_queue()
            await driver.nvme_enable_ctrl()
            await driver.nvme_shutdown_ctrl()
            await driver.nvme_disable_ctrl()
            vector = rng.randrange(self.tb.params.msix_vectors)
            lo, hi, data, _ = table_entry(fn, vector)
            await self.tb.bar0_of(fn).write(bar0.MSIX_TABLE.OFFSET + ENTRY * vector, b"".join(
                x.to_bytes(4, "little") for x in (lo, hi, data)))
            cycles += 1
        return cycles

