"""The firmware's NVMe command set over the real queue engine and the RTL DMA engine.

NvmeFirmware (firmware/nvme/) runs on the mailbox with the `nvm` back end;
data moves between host memory and the DRAM model through the RTL DMA
engine. Statuses are checked by the completion scoreboard and read data by
the data scoreboard, both against the NVMe reference model; the tests
compare what they wrote as well.
"""

from __future__ import annotations

import random

import pyuvm

from models.identify import Cns, ControllerConfig, IdentifyController, IdentifyNamespace, parse_namespace_list
from models.nvme_commands import DsmRange, compare_cmd, dsm_cmd, read_cmd, write_cmd, write_zeroes_cmd
from models.nvme_spec import CompletionEntry, SubmissionEntry
from tb.base_test import PAGE, CommandSetTest

TIMEOUT_MS = 20


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IdentifyThroughTheQueues(CommandSetTest):
    async def body(self) -> None:
        config = ControllerConfig()
        ctrl = IdentifyController.unpack(await self.identify(Cns.CONTROLLER))
        assert ctrl.mn.strip() == config.mn and ctrl.nn == config.max_namespaces, ctrl
        assert parse_namespace_list(await self.identify(Cns.ACTIVE_NAMESPACES)) == [1, 2]
        sizes = [IdentifyNamespace.unpack(await self.identify(Cns.NAMESPACE, nsid)).lba_size for nsid in (1, 2)]
        assert sizes == [512, 4096], sizes


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class WriteThenReadBack(CommandSetTest):
    """Writes of 1 to 8 pages (PRP2 as page and as list) on both namespaces, read back byte for byte."""

    async def body(self) -> None:
        rng = random.Random(5)
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        for nsid, lba_size in ((1, 512), (2, 4096)):
            for pages in (1, 2, 3, 8):
                nlb = pages * PAGE // lba_size
                slba = rng.randrange(0, 1000) * 8
                data = rng.randbytes(pages * PAGE)
                wbuf, wp1, wp2 = await self.prp_buffer(pages)
                rbuf, rp1, rp2 = await self.prp_buffer(pages)
                await self.tb.rc.mem_address_space.write(wbuf, data)
                (cid,) = await queue.submit_many([write_cmd(nsid, slba, nlb, wp1, wp2)])
                (wcqe,) = await queue.wait_for([cid])
                assert wcqe.status.is_success, f"write ns {nsid} {pages} pages: {wcqe.status}"
                (cid,) = await queue.submit_many([read_cmd(nsid, slba, nlb, rp1, rp2)])
                (rcqe,) = await queue.wait_for([cid])
                assert rcqe.status.is_success, f"read ns {nsid} {pages} pages: {rcqe.status}"
                got = bytes(await self.tb.rc.mem_address_space.read(rbuf, pages * PAGE))
                assert got == data, f"ns {nsid}, {pages} pages at LBA {slba}: data differs"
        await self.admin.delete_queue_pair(queue)
        assert self.env.data_scoreboard.reads_checked >= 8, "the data scoreboard did not check the reads"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class IoStatusesAndData(CommandSetTest):
    """Write Zeroes, Dataset Management deallocate, Compare (match and mismatch), and the errors:
    LBA out of range, invalid namespace, above MDTS, unknown I/O opcode. Statuses and read data
    are the reference model's (completion and data scoreboards)."""

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        config = ControllerConfig()
        ns1 = config.namespace(1)

        async def run(sqe: SubmissionEntry) -> CompletionEntry:
            (cid,) = await queue.submit_many([sqe])
            (cqe,) = await queue.wait_for([cid])
            return cqe

        buf, p1, p2 = await self.prp_buffer(2)
        await self.tb.rc.mem_address_space.write(buf, bytes(range(256)) * 32)
        assert (await run(write_cmd(1, 64, 16, p1, p2))).status.is_success
        assert (await run(compare_cmd(1, 64, 16, p1, p2))).status.is_success
        await self.tb.rc.mem_address_space.write(buf + 100, b"\xff")
        assert not (await run(compare_cmd(1, 64, 16, p1, p2))).status.is_success, "Compare missed a mismatch"
        assert (await run(write_zeroes_cmd(1, 64, 8))).status.is_success
        ranges, rp1, rp2 = await self.prp_buffer(1)
        await self.tb.rc.mem_address_space.write(ranges, DsmRange(72, 8).pack())
        assert (await run(dsm_cmd(1, 1, rp1, rp2))).status.is_success
        assert (await run(read_cmd(1, 64, 16, p1, p2))).status.is_success   # zeroes, as DLFEAT says
        mdts_pages = config.max_transfer // PAGE
        _, bp1, bp2 = await self.prp_buffer(mdts_pages + 1)
        errors = {
            "LBA out of range": read_cmd(1, ns1.nlbas - 4, 8, p1, p2),
            "invalid namespace": read_cmd(9, 0, 8, p1, p2),
            "above MDTS": read_cmd(2, 0, mdts_pages + 1, bp1, bp2),
            "unknown I/O opcode": SubmissionEntry(0x7E, nsid=1),
        }
        for what, sqe in errors.items():
            assert not (await run(sqe)).status.is_success, f"{what}: accepted"
        assert self.env.data_scoreboard.reads_checked >= 1
