"""Smoke test of the queue engine without the firmware model: one admin command end to end."""

from __future__ import annotations

import struct

import pyuvm
from cocotb.triggers import Timer
from cocotbext.axi import AxiLiteBus, AxiLiteMaster

from contract import fw_mailbox as fw
from contract import nvme_bar0 as bar0
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
        await self.regs.writel(bar0.DOORBELL.OFFSET + bar0.DOORBELL.SQTDBL.OFFSET, 1)  # admin SQ tail 1
        for _ in range(200):
            info = int.from_bytes((await axil.read(fw.CMD_INFO.OFFSET, 4)).data, "little")
            if fw.CMD_INFO.VALID.get(info):
                break
            await Timer(50, "ns")
        assert fw.CMD_INFO.VALID.get(info), "no command reached the mailbox"
        slot = fw.CMD_INFO.SLOT.get(info)
        got = (await axil.read(fw.SQE.OFFSET + 64 * slot, 64)).data
        assert bytes(got) == sqe, f"SQE mismatch {bytes(got).hex()} vs {sqe.hex()}"
        await axil.write(fw.CMD_POP.OFFSET, b"\x01\x00\x00\x00")
        await axil.write(fw.CPL_DW0.OFFSET, (0xABC).to_bytes(4, "little"))
        post = fw.CPL_POST.encode(SLOT=slot, EPOCH=fw.CMD_INFO.EPOCH.get(info))  # status 0: success
        await axil.write(fw.CPL_POST.OFFSET, post.to_bytes(4, "little"))
        for _ in range(200):
            cqe = await mem.read(self.driver.acq[0], 16)
            if cqe[14] & 1:
                break
            await Timer(50, "ns")
        dw0, dw1, sq_head, sq_id, cid, status = struct.unpack("<IIHHHH", cqe)
        assert status & 1, f"no CQE written: {cqe.hex()}"
        assert (dw0, sq_head, sq_id, cid, status >> 1) == (0xABC, 1, 0, 0x1234, 0), cqe.hex()
