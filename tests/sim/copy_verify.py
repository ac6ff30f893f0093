"""Verify (0Ch) and Copy (19h, source range format 0) through the real queues and DMA engine.

Copy takes its source ranges through the data pointer, so the DMA engine
walks PRPs (one page, two pages, misaligned) to fetch them; the data
itself moves inside the device. The completion scoreboard checks every
status and the data scoreboard every read-back against the reference
model; each test also compares what it expects itself.
"""

from __future__ import annotations

import pyuvm

from models.identify import COPY_MAX_RANGES, Cns, IdentifyNamespace
from models.nvme_commands import COPY_RANGE_SIZE, CopyRange, copy_cmd, read_cmd, verify_cmd, write_cmd
from models.nvme_spec import CommandSpecificStatus, GenericStatus, Status, StatusCode, SubmissionEntry
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer, run_all
from tb.nvme_queues import NvmeQueue

TIMEOUT_MS = 20
NS512, NS4K = 1, 2


def ranges_bytes(ranges: list[tuple[int, int]]) -> bytes:
    return b"".join(CopyRange(slba, nlb).pack() for slba, nlb in ranges)


class CopyTest(CommandSetTest):
    """CommandSetTest with an I/O queue pair, a data buffer and a buffer for source ranges."""

    async def setup(self) -> None:
        await super().setup()
        await self.admin.set_num_queues(1, 1)
        self.queue: NvmeQueue = await self.admin.create_queue_pair(1, 32)
        self.buf = await HostBuffer.alloc(self.tb, 8)
        self.ranges = await HostBuffer.alloc(self.tb, 2)

    async def run(self, sqe: SubmissionEntry) -> Status:
        (cqe,) = await run_all(self.queue, [sqe])
        return cqe.status

    async def write(self, nsid: int, slba: int, data: bytes, lba_size: int) -> None:
        await self.tb.rc.mem_address_space.write(self.buf.addr, data)
        assert (await self.run(write_cmd(nsid, slba, len(data) // lba_size, *self.buf.prps(len(data))))).is_success

    async def read(self, nsid: int, slba: int, nlb: int, lba_size: int) -> bytes:
        length = nlb * lba_size
        assert (await self.run(read_cmd(nsid, slba, nlb, *self.buf.prps(length)))).is_success
        return bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, length))

    async def copy(self, nsid: int, sdlba: int, ranges: list[tuple[int, int]], offset: int = 0,
                   **fields: int) -> Status:
        """Copy with the ranges written ``offset`` bytes into the ranges buffer (PRP2 when they cross)."""
        data = ranges_bytes(ranges)
        await self.tb.rc.mem_address_space.write(self.ranges.addr + offset, data)
        crosses = offset + len(data) > PAGE
        prp2 = self.ranges.addr + PAGE if crosses else 0
        return await self.run(copy_cmd(nsid, sdlba, len(ranges), self.ranges.addr + offset, prp2, **fields))


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class CopyRangesInOrder(CopyTest):
    """Copy on both namespaces: ranges gathered in order to the destination, a source overlapping the
    destination copied as it was, the ranges' descriptors across a page boundary (PRP2) and a full
    set of MSRC+1 ranges."""

    async def body(self) -> None:
        pattern = b"".join(bytes([0x40 + i]) * 512 for i in range(8))       # 8 blocks of 512 B
        await self.write(NS512, 100, pattern, 512)
        assert (await self.copy(NS512, 102, [(104, 2), (100, 3)])).is_success
        expected = pattern[:1024] + pattern[2048:3072] + pattern[:1536] + pattern[3584:]
        assert await self.read(NS512, 100, 8, 512) == expected, "overlapping copy"

        four_k = b"".join(bytes([0x80 + i]) * 4096 for i in range(4))         # 4 blocks of 4 KiB
        await self.write(NS4K, 10, four_k, 4096)
        assert (await self.copy(NS4K, 200, [(13, 1), (10, 3)], offset=PAGE - COPY_RANGE_SIZE)).is_success
        assert await self.read(NS4K, 200, 4, 4096) == four_k[3 * 4096:] + four_k[:3 * 4096]

        singles = [(100 + i % 8, 1) for i in range(COPY_MAX_RANGES)]
        assert (await self.copy(NS512, 1000, singles)).is_success
        got = await self.read(NS512, 1000, 16, 512)
        assert got == expected * 2, "128 single-block ranges"
        self.assert_checked(reads=3)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class CopyAndVerifyErrors(CopyTest):
    """Each Copy and Verify status; nothing is written by a Copy that fails."""

    async def body(self) -> None:
        ns = IdentifyNamespace.unpack(await self.identify(Cns.NAMESPACE, NS4K))
        assert (ns.msrc + 1, ns.mssrl, ns.mcl) == (COPY_MAX_RANGES, 32, 32), ns
        last = ns.nsze - 1
        await self.write(NS4K, 0, bytes([0xA5]) * 4096, 4096)
        cases: dict[str, tuple[list[tuple[int, int]], dict[str, int], StatusCode]] = {
            "descriptor format 1": ([(0, 1)], {"desfmt": 1}, GenericStatus.INVALID_FIELD),
            "a range above MSSRL": ([(0, 33)], {}, CommandSpecificStatus.COMMAND_SIZE_LIMIT_EXCEEDED),
            "ranges above MCL": ([(0, 20), (40, 20)], {}, CommandSpecificStatus.COMMAND_SIZE_LIMIT_EXCEEDED),
            "source past the end": ([(last, 2)], {}, GenericStatus.LBA_OUT_OF_RANGE),
        }
        for what, (ranges, fields, code) in cases.items():
            status = await self.copy(NS4K, 64, ranges, **fields)
            assert status.has(code), f"{what}: {status}, expected {code.name}"
        status = await self.copy(NS4K, last, [(0, 2)])
        assert status.has(GenericStatus.LBA_OUT_OF_RANGE), f"destination past the end: {status}"
        status = await self.run(copy_cmd(NS4K, 64, COPY_MAX_RANGES + 1, self.ranges.addr, self.ranges.addr + PAGE))
        assert status.has(CommandSpecificStatus.COMMAND_SIZE_LIMIT_EXCEEDED), f"MSRC + 2 ranges: {status}"
        status = await self.run(copy_cmd(NS4K, 64, 1, self.ranges.addr + 2))
        assert status.has(GenericStatus.PRP_OFFSET_INVALID), f"ranges at a misaligned PRP1: {status}"
        status = await self.run(copy_cmd(3, 64, 1, self.ranges.addr))
        assert status.has(GenericStatus.INVALID_FIELD), f"inactive namespace: {status}"
        assert await self.read(NS4K, 64, 1, 4096) == bytes(4096), "a failed Copy wrote its destination"

        assert (await self.run(verify_cmd(NS4K, 0, 32))).is_success
        assert (await self.run(verify_cmd(NS512, 0, 256))).is_success
        for what, sqe, code in (("above MDTS", verify_cmd(NS4K, 0, 33), GenericStatus.INVALID_FIELD),
                                ("past the end", verify_cmd(NS4K, last, 2), GenericStatus.LBA_OUT_OF_RANGE),
                                ("NSID 0", verify_cmd(0, 0, 1), GenericStatus.INVALID_NAMESPACE_OR_FORMAT)):
            status = await self.run(sqe)
            assert status.has(code), f"Verify {what}: {status}, expected {code.name}"
        self.assert_checked(reads=1)
