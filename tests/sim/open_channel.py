"""Open-Channel SSD 2.0 through the real front end, queues and DMA engine, on the ocssd back end.

One open-channel namespace (NSID 1) whose LBAs are physical addresses: 2
groups x 2 parallel units x 8 chunks of 64 blocks of 4 KiB, written in
units of 8 blocks (a 16 KiB page on both planes), at the OX preset's NAND
timings. The LBA lists a command points at are read, and a reset's chunk
descriptors written, by the RTL DMA engine's host-buffer requests; lists
here sit across a host 4 KiB page boundary, so each takes two segments.
The completion scoreboard checks every status and DW0-DW1 (the failed-LBA
bits) against the reference model's own chunk state machine
(models/chunk_model.py), the data scoreboard every block read; each test
also asserts what it expects itself.
"""

from __future__ import annotations

import struct

import pyuvm

from models.flash import Geometry
from models.nvme_commands import dsm_cmd, get_log_page_cmd, write_cmd, write_zeroes_cmd
from models.nvme_logs import LogId, parse_command_effects
from models.nvme_spec import (AdminOpcode, CompletionEntry, GenericStatus, MediaStatus, NvmOpcode, Status, StatusCode,
                              SubmissionEntry)
from models.open_channel import (CHUNK_DESCRIPTOR_SIZE, GEOMETRY_MCCAP_OFFSET, MCCAP_VECTOR_COPY, ChunkDescriptor,
                                 ChunkState, OcOpcode, failed_lbas, parse_chunk_log, vector_cmd)
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer, run_all

TIMEOUT_MS = 300
# a write waits for its NAND programs (tPROG 500 us), a reset for its erases (tBERS 3 ms)
COMMAND_TIMEOUT_NS = 30_000_000
NSID = 1
GEOMETRY = Geometry(channels=2, luns_per_channel=2, planes=2, blocks_per_plane=8, pages_per_block=8,
                    page_size=16384, sector_size=4096, oob_size=64)
CLBA, WS_MIN, CHUNKS = 64, 8, 32
LIST_OFFSET = PAGE - 128     # where a list starts in its buffer: one of over 16 LBAs runs into the next host page
OK: StatusCode = GenericStatus.SUCCESS


class OpenChannelTest(CommandSetTest):
    """CommandSetTest on the ocssd back end, with an I/O queue pair, an MDTS-sized data buffer and two
    buffers for LBA lists and descriptors."""

    backend_kind = "ocssd"
    backend_config = {"geometry": GEOMETRY}

    async def setup(self) -> None:
        await super().setup()
        await self.admin.set_num_queues(1, 1)
        self.queue = await self.admin.create_queue_pair(1, 32)
        self.buf = await HostBuffer.alloc(self.tb, 32)
        self.lists = [await HostBuffer.alloc(self.tb, 2) for _ in range(2)]
        self.geo = self.backend.chunk_geometry()
        assert (self.geo.clba, self.geo.ws_min, self.geo.count) == (CLBA, WS_MIN, CHUNKS)

    def chunk(self, index: int, block: int = 0) -> int:
        """The LBA of block ``block`` of chunk ``index`` (log order)."""
        return self.geo.slba(index) + block

    async def put_list(self, which: int, lbas: list[int]) -> int:
        """The LBA field of a command naming ``lbas``: the LBA itself, or where list ``which`` now holds them."""
        if len(lbas) == 1:
            return lbas[0]
        addr = self.lists[which].addr + LIST_OFFSET
        await self.tb.rc.mem_address_space.write(addr, struct.pack(f"<{len(lbas)}Q", *lbas))
        return addr

    async def run(self, sqe: SubmissionEntry, code: StatusCode = OK, failed: list[int] | None = None
                  ) -> CompletionEntry:
        """Run a command; it completes with ``code`` and names the list entries ``failed`` (none by default)."""
        (cqe,) = await run_all(self.queue, [sqe], COMMAND_TIMEOUT_NS)
        assert cqe.status.has(code), f"opcode {sqe.opcode:#04x}: {cqe.status}, expected {code.name}"
        assert (cqe.dw0, cqe.dw1) == failed_lbas(failed or []), (
            f"opcode {sqe.opcode:#04x}: DW0-DW1 {cqe.dw0:#x} {cqe.dw1:#x}, expected entries {failed}")
        return cqe

    def data(self, lbas: list[int], tag: int) -> bytes:
        return b"".join(struct.pack("<QQ", lba, tag) * (PAGE // 16) for lba in lbas)

    async def vector_write(self, lbas: list[int], tag: int = 1, code: StatusCode = OK,
                           failed: list[int] | None = None) -> bytes:
        data = self.data(lbas, tag)
        await self.tb.rc.mem_address_space.write(self.buf.addr, data)
        sqe = vector_cmd(OcOpcode.VECTOR_WRITE, NSID, await self.put_list(0, lbas), len(lbas),
                         *self.buf.prps(len(data)))
        await self.run(sqe, code, failed)
        return data

    async def vector_read(self, lbas: list[int]) -> bytes:
        sqe = vector_cmd(OcOpcode.VECTOR_READ, NSID, await self.put_list(0, lbas), len(lbas),
                         *self.buf.prps(len(lbas) * PAGE))
        await self.run(sqe)
        return bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, len(lbas) * PAGE))

    async def reset(self, lbas: list[int], code: StatusCode = OK, failed: list[int] | None = None,
                    descriptors: bool = False) -> list[ChunkDescriptor]:
        """Vector Chunk Reset; with ``descriptors``, the chunk descriptors it returns to its metadata pointer."""
        mptr = self.lists[1].addr + LIST_OFFSET if descriptors else 0
        await self.run(vector_cmd(OcOpcode.VECTOR_RESET, NSID, await self.put_list(0, lbas), len(lbas), mptr=mptr),
                       code, failed)
        if not descriptors:
            return []
        return parse_chunk_log(bytes(await self.tb.rc.mem_address_space.read(mptr, len(lbas) * CHUNK_DESCRIPTOR_SIZE)))

    async def chunk_log(self) -> list[ChunkDescriptor]:
        length = CHUNKS * CHUNK_DESCRIPTOR_SIZE
        prp1, prp2 = self.buf.prps(length)
        await self.admin.execute(get_log_page_cmd(LogId.CHUNK_INFORMATION, length, nsid=NSID, prp1=prp1, prp2=prp2))
        return parse_chunk_log(bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, length)))

    def expected(self, index: int) -> ChunkDescriptor:
        """The reference model's descriptor of chunk ``index``."""
        return self.env.reference.model.namespaces.shadows[NSID].chunks.descriptor(index)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class VectorRoundTrip(OpenChannelTest):
    """The Geometry offers Vector Chunk Copy; the Commands Supported and Effects log the vector commands.
    A vector write of four write units across two chunks of two groups, from a list crossing a host page
    boundary, reads back through a scattered, reversed list and one LBA at a time; the Chunk Information
    log shows both chunks Open at their write pointers."""

    async def body(self) -> None:
        prp1, prp2 = self.buf.prps(PAGE)
        await self.admin.execute(SubmissionEntry(AdminOpcode.OCSSD_GEOMETRY, nsid=NSID, prp1=prp1, prp2=prp2))
        geometry = bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, PAGE))
        assert struct.unpack_from("<I", geometry, GEOMETRY_MCCAP_OFFSET)[0] & MCCAP_VECTOR_COPY
        await self.admin.execute(get_log_page_cmd(LogId.COMMANDS_SUPPORTED, PAGE, prp1=prp1, prp2=prp2))
        _, io = parse_command_effects(bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, PAGE)))
        assert set(OcOpcode) <= set(io), f"effects log lists {sorted(hex(op) for op in io)}"

        first, second = 0, CHUNKS - 1        # group 0 and group 1
        lbas = [self.chunk(first, b) for b in range(2 * WS_MIN)] + [self.chunk(second, b) for b in range(2 * WS_MIN)]
        data = await self.vector_write(lbas)
        blocks = dict(zip(lbas, (data[i * PAGE:(i + 1) * PAGE] for i in range(len(lbas)))))
        scattered = lbas[::-3]
        assert await self.vector_read(scattered) == b"".join(blocks[lba] for lba in scattered)
        for lba in (lbas[0], lbas[-1]):
            assert await self.vector_read([lba]) == blocks[lba]
        assert await self.vector_read([self.chunk(first, 2 * WS_MIN)]) == bytes(PAGE), "unwritten: zeros"
        log = await self.chunk_log()
        assert log[first] == ChunkDescriptor(ChunkState.OPEN, 0, self.chunk(first), CLBA, 2 * WS_MIN)
        assert log[second].state == ChunkState.OPEN and log[1].state == ChunkState.FREE
        assert log == [self.expected(i) for i in range(CHUNKS)], "the chunk log differs from the model's"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ChunkLifeCycle(OpenChannelTest):
    """A chunk from Free through Open to Closed by scalar and vector writes; a write to it then is Write
    Fault. A reset returns its descriptor (Free, wear 1) and zeros the chunk; a second reset of it is
    Invalid Reset, and a reset naming a chunk twice fails on the second entry and resets neither. A chunk a
    media failure took offline: Offline Chunk on a reset, Write Fault on a write, zeros on a read."""

    async def body(self) -> None:
        chunk = 5
        await self.run(write_cmd(NSID, self.chunk(chunk), WS_MIN, *self.buf.prps(WS_MIN * PAGE)))
        for start in range(WS_MIN, CLBA, 4 * WS_MIN):
            await self.vector_write([self.chunk(chunk, b) for b in range(start, min(start + 4 * WS_MIN, CLBA))])
        assert (await self.chunk_log())[chunk].state == ChunkState.CLOSED
        await self.vector_write([self.chunk(chunk, b) for b in range(WS_MIN)], code=MediaStatus.WRITE_FAULT,
                                failed=list(range(WS_MIN)))
        (descriptor,) = await self.reset([self.chunk(chunk, 17)], descriptors=True)
        assert descriptor == ChunkDescriptor(ChunkState.FREE, 1, self.chunk(chunk), CLBA, 0) == self.expected(chunk)
        assert await self.vector_read([self.chunk(chunk, 3)]) == bytes(PAGE)
        await self.reset([self.chunk(chunk)], MediaStatus.OCSSD_INVALID_RESET, failed=[0])
        other = 6
        await self.vector_write([self.chunk(other, b) for b in range(WS_MIN)])
        await self.vector_write([self.chunk(chunk, b) for b in range(WS_MIN)])
        await self.reset([self.chunk(other), self.chunk(chunk), self.chunk(other, 1)],
                         MediaStatus.OCSSD_INVALID_RESET, failed=[2])
        assert [(d.state, d.wear) for d in await self.reset([self.chunk(chunk), self.chunk(other)], descriptors=True)
                ] == [(ChunkState.FREE, 2), (ChunkState.FREE, 1)]

        gone = 9
        await self.vector_write([self.chunk(gone, b) for b in range(WS_MIN)], tag=9)
        await self.vector_write([self.chunk(other, b) for b in range(WS_MIN)])
        self.backend.fail_chunk(self.chunk(gone))
        self.env.reference.model.chunk_failed(NSID, self.chunk(gone))
        await self.reset([self.chunk(other), self.chunk(gone)], MediaStatus.OCSSD_OFFLINE_CHUNK, failed=[1])
        assert (await self.chunk_log())[other].state == ChunkState.OPEN, "a failed reset resets nothing"
        await self.vector_write([self.chunk(gone, b) for b in range(WS_MIN, 2 * WS_MIN)],
                                code=MediaStatus.WRITE_FAULT, failed=list(range(WS_MIN)))
        assert await self.vector_read([self.chunk(gone, 1)]) == bytes(PAGE), "an offline chunk reads zeros"
        assert (await self.chunk_log())[gone] == self.expected(gone)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class VectorCopy(OpenChannelTest):
    """Vector Chunk Copy of 16 scattered blocks of two chunks, unwritten ones among them, into a Free
    chunk, inside the device; the copy reads back, and a copy out of order is refused on its destination."""

    async def body(self) -> None:
        written = [self.chunk(3, b) for b in range(2 * WS_MIN)] + [self.chunk(20, b) for b in range(WS_MIN)]
        data = await self.vector_write(written, tag=3)
        blocks = dict(zip(written, (data[i * PAGE:(i + 1) * PAGE] for i in range(len(written)))))
        sources = written[::-2] + [self.chunk(20, 40), self.chunk(11, 0)] + written[:2]   # 16, 2 never written
        dest = [self.chunk(30, b) for b in range(2 * WS_MIN)]
        sqe = vector_cmd(OcOpcode.VECTOR_COPY, NSID, await self.put_list(0, sources), len(sources),
                         dlbal=await self.put_list(1, dest))
        await self.run(sqe)
        assert await self.vector_read(dest) == b"".join(blocks.get(lba, bytes(PAGE)) for lba in sources)
        late = [self.chunk(30, b) for b in range(3 * WS_MIN, 4 * WS_MIN)]
        await self.run(vector_cmd(OcOpcode.VECTOR_COPY, NSID, await self.put_list(0, sources[:WS_MIN]), WS_MIN,
                                  dlbal=await self.put_list(1, late)),
                       MediaStatus.OCSSD_OUT_OF_ORDER_WRITE, failed=list(range(WS_MIN)))


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class VectorErrors(OpenChannelTest):
    """Each check in its place: more than 64 LBAs and more than MDTS are Invalid Field before the list is
    read; a misaligned list is Invalid Field from the DMA engine, and a list the host answers with UR is
    Data Transfer Error; LBAs naming no chunk are LBA Out of Range with their bits (the 40th entry's in
    DW1), before the chunks are looked at; not whole write units is Invalid Field, a gap Out of Order Write,
    and neither changes the chunk; Write Zeroes, Dataset Management and Copy are not offered on the
    namespace."""

    async def body(self) -> None:
        lbas = [self.chunk(2, b) for b in range(WS_MIN)]
        pointer = await self.put_list(0, lbas)
        await self.run(vector_cmd(OcOpcode.VECTOR_RESET, NSID, pointer, 65), GenericStatus.INVALID_FIELD)
        await self.run(vector_cmd(OcOpcode.VECTOR_READ, NSID, pointer, 33, *self.buf.prps(PAGE)),
                       GenericStatus.INVALID_FIELD)
        await self.run(vector_cmd(OcOpcode.VECTOR_READ, NSID, pointer + 2, WS_MIN, *self.buf.prps(WS_MIN * PAGE)),
                       GenericStatus.INVALID_FIELD)
        await self.read_list_fault(pointer)

        nowhere = 1 << self.geo.address_bits
        spread = [self.chunk(i % CHUNKS) for i in range(40)]
        spread[3] = spread[39] = nowhere
        await self.reset(spread, GenericStatus.LBA_OUT_OF_RANGE, failed=[3, 39])
        await self.vector_write(lbas[:-1] + [nowhere], code=GenericStatus.LBA_OUT_OF_RANGE, failed=[WS_MIN - 1])
        await self.run(vector_cmd(OcOpcode.VECTOR_READ, NSID, nowhere, 1, *self.buf.prps(PAGE)),
                       GenericStatus.LBA_OUT_OF_RANGE, failed=[0])
        await self.vector_write(lbas[:WS_MIN - 1], code=GenericStatus.INVALID_FIELD, failed=list(range(WS_MIN - 1)))
        gap = lbas[:4] + [self.chunk(2, 5)] + lbas[5:]
        await self.vector_write(gap, code=MediaStatus.OCSSD_OUT_OF_ORDER_WRITE, failed=list(range(WS_MIN)))
        await self.run(write_cmd(NSID, self.chunk(2, WS_MIN), WS_MIN, *self.buf.prps(WS_MIN * PAGE)),
                       MediaStatus.OCSSD_OUT_OF_ORDER_WRITE)
        assert (await self.chunk_log())[2] == ChunkDescriptor(ChunkState.FREE, 0, self.chunk(2), CLBA, 0)
        for sqe in (write_zeroes_cmd(NSID, 0, 1), dsm_cmd(NSID, 1, *self.buf.prps(16)),
                    SubmissionEntry(NvmOpcode.COPY, nsid=NSID)):
            await self.run(sqe, GenericStatus.INVALID_OPCODE)

    async def read_list_fault(self, pointer: int) -> None:
        """A vector read whose list the host answers with Unsupported Request: Data Transfer Error (forced:
        the model knows no host faults), and the data buffer is untouched."""
        self.tb.dev.inject_read_fault(lambda addr: pointer <= addr < pointer + 64, "ur")
        await self.tb.rc.mem_address_space.write(self.buf.addr, b"\xa5" * PAGE)
        sqe = vector_cmd(OcOpcode.VECTOR_READ, NSID, pointer, WS_MIN, *self.buf.prps(WS_MIN * PAGE))
        (cid,) = await self.queue.submit_many([sqe], COMMAND_TIMEOUT_NS)
        self.forced[(self.queue.qid, cid)] = Status.of(GenericStatus.DATA_TRANSFER_ERROR, dnr=True)
        (cqe,) = await self.queue.wait_for([cid], COMMAND_TIMEOUT_NS)
        assert cqe.status.has(GenericStatus.DATA_TRANSFER_ERROR), cqe.status
        assert bytes(await self.tb.rc.mem_address_space.read(self.buf.addr, PAGE)) == b"\xa5" * PAGE
