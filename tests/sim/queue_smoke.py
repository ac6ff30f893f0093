"""Smoke test of the queue engine without the firmware model: one admin command end to end."""

from __future__ import annotations

import struct

import pyuvm
from cocotb.triggers import Timer
from cocotbext.axi import AxiLiteBus, AxiLiteMaster

from tb.base_test import NvmeBaseTest


@pyuvm.test(timeout_time=200, timeout_unit="us")
class AdminCommandRoundTrip(NvmeBaseTest):
    async def body(self) -> None:
        dut = self.tb.dut
        axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.user_clk, dut.user_reset)
        await self.driver.probe()
        mem = self.tb.rc.mem_address_space
        sqe = struct.pack("<BBHI", 0x06, 0, 0x1234, 1) + bytes(range(8, 64))
        await mem.write(self.driver.asq[0], sqe)
        await self.regs.writel(0x1000, 1)
        for _ in range(200):
            info = int.from_bytes((await axil.read(0x0100, 4)).data, "little")
            if info >> 31:
                break
            await Timer(50, "ns")
        assert info >> 31, "no command reached the mailbox"
        slot = info & 0xFF
        got = (await axil.read(0x1000 + 64 * slot, 64)).data
        assert bytes(got) == sqe, f"SQE mismatch {bytes(got).hex()} vs {sqe.hex()}"
        await axil.write(0x0104, b"\x01\x00\x00\x00")
        await axil.write(0x0200, (0xABC).to_bytes(4, "little"))
        await axil.write(0x0208, slot.to_bytes(4, "little"))
        for _ in range(200):
            cqe = await mem.read(self.driver.acq[0], 16)
            if cqe[14] & 1:
                break
            await Timer(50, "ns")
        dw0, dw1, sq_head, sq_id, cid, status = struct.unpack("<IIHHHH", cqe)
        assert status & 1, f"no CQE written: {cqe.hex()}"
        assert (dw0, sq_head, sq_id, cid, status >> 1) == (0xABC, 1, 0, 0x1234, 0), cqe.hex()
