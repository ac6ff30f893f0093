"""NvmeFirmware against fakes: the mailbox, a host memory reached through PRPs/SGLs, DRAM and a DMA engine.

Commands run as tasks, so the tests drive them with a small discrete-event
kernel under asyncio: Timer waits until the kernel's clock reaches its
time, and the clock jumps to the next timer only when every task is
waiting. Statuses, DW0 and returned data are checked against the reference
model (``models.nvme_model``), the way the simulation's scoreboard will.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import struct
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

import pytest

from tests.unit.fake_dram import FakeDram
from tests.unit.fake_mailbox import FakeMailbox
from tests.unit.prp_host import HostMemory, PageAllocator, PrpLayout, build_prps

import firmware.minimal as fm
import firmware.nvme.outcome as fout
import firmware.nvme.loop as floop
import firmware.nvme.shadow_doorbells as fshadow
from firmware.mailbox import DoorbellError, DoorbellErrorKind, IrqBit
from firmware.nvme.loop import NvmeFirmware
from firmware.nvme.namespaces import NamespaceTable
from firmware.nvme.ports import DmaDirection, DmaResult
from firmware.soc import Soc, SocConfig, command_kind
from models.backend import Backend, NvmBackend
from models.identify import ControllerConfig, NamespaceConfig, controller_list
from models.nvme_commands import (CopyRange, DsmRange, abort_cmd, async_event_request_cmd, compare_cmd, copy_cmd,
                                  dsm_cmd, flush_cmd, get_log_page_cmd, identify_cmd, ns_attachment_cmd,
                                  ns_create_cmd, ns_create_data, ns_delete_cmd, read_cmd, verify_cmd, write_cmd,
                                  write_zeroes_cmd)
from models.nvme_logs import (AEC_NAMESPACE_ATTRIBUTE, INVALID_DOORBELL_REGISTER,
                              NAMESPACE_ATTRIBUTE_CHANGED, LogId, temperature_threshold_dword)
from models.nvme_model import NvmeModel, Prediction
from models.nvme_spec import (SUCCESS, AdminOpcode, CommandSpecificStatus, FeatureId, GenericStatus,
                              CompletionEntry, GetFeaturesSelect, NvmOpcode, Status, SubmissionEntry, create_io_cq,
                              create_io_sq,
                              get_features, set_features)
from models.flash import Geometry, OcssdBackend, ZnsBackend
from models.key_value import STORE_ONLY_IF_ABSENT, STORE_ONLY_IF_EXISTS, KvFormat, KvOpcode, kv_cmd
from models.open_channel import (CHUNK_DESCRIPTOR_SIZE, OcOpcode, VectorLists, chunk_log, parse_chunk_log,
                                 vector_cmd)
from models.prp import DataPointerError, host_buffer_segments, prp_segments, sgl1_of, sgl_segments
from tb.reference import vector_lists
from models.zoned import (ReportFilter, ZoneAction, ZoneState, zone_append_cmd, zone_receive_cmd,
                          zone_send_cmd)

SEED = 5
PAIRS = 4       # FakeMailbox's FwParams
PAGE = 4096
SLOTS = 64
CONFIG = ControllerConfig(namespaces=(NamespaceConfig(1, 512, 4096), NamespaceConfig(2, 4096, 512)),
                          nvm_capacity=4 << 20)   # the bench's back end: 1024 pages of 4 KiB


class Kernel:
    """Simulated time for concurrent tasks: the clock advances to the earliest timer once all tasks wait."""

    SETTLE_ROUNDS = 50   # event-loop turns that let every runnable task reach its next wait

    def __init__(self) -> None:
        self.ns = 0
        self._timers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = 0

    def get_sim_time(self, unit: str) -> int:
        return self.ns

    def timer(self, time: int, unit: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.ns + time, self._seq, future))
        self._seq += 1
        return future

    async def run_until_idle(self) -> None:
        while True:
            for _ in range(self.SETTLE_ROUNDS):
                await asyncio.sleep(0)
            if not self._timers:
                return
            self.ns, _, future = heapq.heappop(self._timers)
            future.set_result(None)


class FakeDma:
    """The DMA engine: walks the slot's PRPs or SGL, or a host buffer, with models.prp and copies bytes; can
    auto-complete."""

    def __init__(self, host: HostMemory, dram: FakeDram, mb: FakeMailbox, sqes: dict[int, SubmissionEntry]) -> None:
        self.host, self.dram, self.mb, self.sqes = host, dram, mb, sqes
        self.requests: list[tuple[int, DmaDirection, int, int]] = []

    async def transfer(self, slot: int, direction: DmaDirection, offset: int, length: int, dram_addr: int,
                       cmd_len: int, auto_complete: bool = False, host_addr: int | None = None) -> DmaResult:
        self.requests.append((slot, direction, offset, length))
        sqe = self.sqes[slot]
        try:
            if host_addr is not None:
                segments = host_buffer_segments(host_addr, cmd_len, self.host.read, offset, length)
            elif sqe.psdt:
                segments = sgl_segments(sgl1_of(sqe.prp1, sqe.prp2), cmd_len, self.host.read, offset, length)
            else:
                segments = prp_segments(sqe.prp1, sqe.prp2, cmd_len, PAGE, self.host.read_qword, offset, length)
        except DataPointerError as err:
            return DmaResult(slot, err.code)
        pos = dram_addr
        for addr, size in segments:
            if direction == DmaDirection.HOST_TO_DEVICE:
                self.dram.mem[pos:pos + size] = self.host.read(addr, size)
            else:
                self.host.write(addr, bytes(self.dram.mem[pos:pos + size]))
            pos += size
        if auto_complete:
            self.mb.posted.append((slot, SUCCESS, 0))
        return DmaResult(slot, auto_completed=auto_complete)

    def reset(self) -> None:
        """Transfers here finish at once: none waits across a reset."""


class Bench:
    """The firmware on its fakes, a host that places data behind PRPs, and the reference model."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, soc: SocConfig | None = None,
                 config: ControllerConfig = CONFIG, backend: Backend | None = None, **kwargs: Any) -> None:
        self.kernel = Kernel()
        for module in (fm, fout, floop):
            monkeypatch.setattr(module, "get_sim_time", self.kernel.get_sim_time)
            monkeypatch.setattr(module, "Timer", self.kernel.timer)
        monkeypatch.setattr(floop, "start_soon", asyncio.ensure_future)
        monkeypatch.setattr(fshadow, "start_soon", asyncio.ensure_future)
        monkeypatch.setattr(fshadow, "Lock", asyncio.Lock)
        monkeypatch.setattr(fshadow, "get_sim_time", self.kernel.get_sim_time)
        self.rng = random.Random(SEED)
        self.mb = FakeMailbox()
        self.host = HostMemory()
        self.alloc = PageAllocator(self.rng, PAGE)
        self.sqes: dict[int, SubmissionEntry] = {}
        self.layouts: dict[int, PrpLayout] = {}
        self.dma = FakeDma(self.host, FakeDram(SLOTS * config.max_transfer), self.mb, self.sqes)
        self.backend = backend = backend or NvmBackend(capacity_pages=1024, read_ns=1000, write_ns=2000)
        self.fw = NvmeFirmware(self.mb, backend, self.dma.dram, self.dma, config, soc, **kwargs)  # type: ignore
        self.model = NvmeModel(config, PAIRS, mqes=255)
        self.run(self.fw.init())

    def run(self, *coroutines: Awaitable[Any]) -> None:
        async def drive() -> None:
            for coroutine in coroutines:
                await coroutine
            await self.kernel.run_until_idle()
        asyncio.run(drive())

    def submit(self, sqid: int, sqe: SubmissionEntry, data: bytes = b"", length: int = 0) -> int:
        """Queue a command whose data (``data`` to send, or ``length`` bytes to receive) sits behind PRPs."""
        size = len(data) or length
        if size:
            layout = build_prps(self.host, self.alloc, size, first_offset=4 * self.rng.randrange(64))
            self.host.scatter(layout.byte_addrs, data)
            sqe = replace(sqe, prp1=layout.prp1, prp2=layout.prp2)
        self.mb.next_slot %= SLOTS   # slots are reused, as the hardware's are once completed
        slot = self.mb.queue(sqid, sqe)
        self.sqes[slot] = sqe
        if size:
            self.layouts[slot] = layout
        return slot

    def host_data(self, slot: int) -> bytes:
        return self.host.gather(self.layouts[slot].byte_addrs)

    def step(self) -> None:
        self.run(self.fw.step())

    def run_checked(self, i: int, sqe: SubmissionEntry, data: bytes, length: int,
                    lists: VectorLists | None = None) -> tuple[Status, int, Prediction]:
        """Command ``i`` through the firmware and the model: the same status and returned bytes, else fail;
        (status, DW0, the model's prediction) for what a test checks beyond. ``lists``: a vector command's
        LBA lists, which the test placed in host memory."""
        slot = self.submit(1, sqe, data, length)
        self.step()
        expected = self.model.io(sqe, data, lists=lists)
        status, dw0 = self.completion(slot)
        assert status == expected.status, f"command {i}: {sqe}"
        if expected.dw0 is not None:
            assert (dw0, self.mb.dw1[slot]) == (expected.dw0, expected.dw1), f"command {i}: {sqe}"
        if expected.data is not None:
            assert self.host_data(slot)[:len(expected.data)] == expected.data, f"command {i}: {sqe}"
        return status, dw0, expected

    def completion(self, slot: int) -> tuple[Status, int]:
        """The latest completion posted for the slot (slots are reused)."""
        return [(status, dw0) for s, status, dw0 in self.mb.posted if s == slot][-1]

    def io_queue(self) -> None:
        for sqe in (create_io_cq(1, 63, 0x10_0000, iv=1), create_io_sq(1, 63, 0x20_0000, cqid=1)):
            assert self.model.admin(sqe).status == SUCCESS
            self.submit(0, sqe)
        self.step()
        self.mb.posted.clear()


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Bench:
    b = Bench(monkeypatch)
    b.io_queue()
    return b


def pattern(length: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(length)


# I/O against the reference model

def random_io(rng: random.Random, i: int) -> tuple[SubmissionEntry, bytes, int]:
    """A random command, the data the host sends, the bytes it expects back."""
    nsid = rng.choice([1, 2, 2, 2, 3, CONFIG.max_namespaces + 1])   # 3: inactive; NN + 1: invalid
    lba = 512 if nsid == 1 else 4096
    nlbas = 4096 if nsid == 1 else 512
    nlb = rng.choice([1, 2, 3, 8]) if rng.random() < 0.95 else 129 if nsid == 1 else 33   # 33 4K > MDTS
    slba = rng.randrange(nlbas - nlb + 1) if rng.random() < 0.9 else nlbas - 1
    kind = rng.choice(["read", "write", "write", "compare", "zeroes", "dsm", "flush", "verify", "copy"])
    if kind == "read":
        return read_cmd(nsid, slba, nlb), b"", nlb * lba
    if kind == "write":
        return write_cmd(nsid, slba, nlb), pattern(nlb * lba, i), 0
    if kind == "compare":
        return compare_cmd(nsid, slba, nlb), bytes(nlb * lba), 0
    if kind == "zeroes":
        return write_zeroes_cmd(nsid, slba, nlb), b"", 0
    if kind == "dsm":
        ranges = [DsmRange(rng.randrange(nlbas), rng.choice([1, 5])) for _ in range(2)]
        return dsm_cmd(nsid, 2), b"".join(r.pack() for r in ranges), 0
    if kind == "verify":
        return verify_cmd(nsid, slba, nlb), b"", 0
    if kind == "copy":   # sources may overlap each other and the destination
        ranges = [CopyRange(rng.randrange(nlbas - 8), rng.choice([1, 2, 8])) for _ in range(rng.randint(1, 3))]
        return copy_cmd(nsid, slba, len(ranges)), b"".join(r.pack() for r in ranges), 0
    return flush_cmd(rng.choice([1, 3, CONFIG.max_namespaces + 1, 0xFFFF_FFFF])), b"", 0


def test_random_io_matches_the_model(bench: Bench) -> None:
    rng = random.Random(SEED)
    succeeded = set()
    for i in range(200):
        sqe, data, length = random_io(rng, i)
        status, _, _ = bench.run_checked(i, sqe, data, length)
        if status.is_success:
            succeeded.add(sqe.opcode)
    statuses = {s.sc for _, s, _ in bench.mb.posted}
    # success, MDTS or an inactive namespace, an invalid namespace, LBA range: all exercised
    assert {0x00, 0x02, 0x0B, 0x80}.issubset(statuses)
    assert {NvmOpcode.COPY, NvmOpcode.VERIFY, NvmOpcode.WRITE, NvmOpcode.READ} <= succeeded, succeeded


# a zoned namespace: 8 zones of 16 LBAs, 12 writable, at most 2 open and 3 active
ZNS_GEOMETRY = Geometry(channels=2, luns_per_channel=1, planes=1, blocks_per_plane=8, pages_per_block=4,
                        page_size=8192, sector_size=4096, oob_size=64)


def zoned_bench(monkeypatch: pytest.MonkeyPatch) -> Bench:
    backend = ZnsBackend(geometry=ZNS_GEOMETRY, zone_cap=12, max_open=2, max_active=3)
    zones = backend.zone_geometry()
    config = ControllerConfig(namespaces=(NamespaceConfig(1, PAGE, backend.capacity_pages, zones=zones),),
                              nvm_capacity=backend.capacity_pages * PAGE, allocation_unit=zones.size * PAGE, zasl=1)
    bench = Bench(monkeypatch, config=config, backend=backend)
    bench.io_queue()
    return bench


def random_zoned(rng: random.Random, i: int, wp: list[int]) -> tuple[SubmissionEntry, bytes, int]:
    """A random command on the zoned namespace, mostly where it would succeed; ``wp``: the write pointers."""
    zone = rng.randrange(len(wp))
    start = zone * 16
    nlb = rng.choice([1, 2, 4, 9])     # 9 blocks: over ZASL (8 KiB << 1)
    at = wp[zone] if rng.random() < 0.8 else start + rng.randrange(16)
    kind = rng.choice(["write", "write", "append", "append", "send", "receive", "read", "zeroes"])
    if kind == "write":
        return write_cmd(1, at, nlb), pattern(nlb * PAGE, i), 0
    if kind == "append":
        return zone_append_cmd(1, start if rng.random() < 0.9 else start + 1, nlb), pattern(nlb * PAGE, i), 0
    if kind == "zeroes":
        return write_zeroes_cmd(1, at, nlb), b"", 0
    if kind == "read":
        slba = rng.randrange(128 - nlb)
        return read_cmd(1, slba, nlb), b"", nlb * PAGE
    if kind == "send":
        action = rng.choice([*ZoneAction, 0x10])
        return zone_send_cmd(1, start if rng.random() < 0.9 else start + 3, action, rng.random() < 0.2), b"", 0
    length = rng.choice([64, 64 + 3 * 64, PAGE])
    sqe = zone_receive_cmd(1, start + rng.randrange(16), length, 0, option=rng.choice([*ReportFilter, 9]),
                           partial=rng.random() < 0.5)
    return sqe, b"", length


def test_zoned_io_matches_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The firmware over the zns back end and the reference model's own zone state machine agree on every
    status, read, report and appended LBA, through seeded random zone traffic and media failures."""
    bench = zoned_bench(monkeypatch)
    zones = bench.model.namespaces.shadows[1].zones
    assert zones is not None
    rng = random.Random(SEED)
    statuses = set()
    for i in range(400):
        if i % 97 == 96:     # now and then a media failure, told to both
            zone, state = rng.randrange(zones.count), rng.choice([ZoneState.READ_ONLY, ZoneState.OFFLINE])
            bench.run(bench.fw.fail_zone(1, zone * 16, state))
            bench.model.zone_failed(1, zone * 16, state)
        status, dw0, expected = bench.run_checked(i, *random_zoned(rng, i, zones.wp))
        if expected.landed is not None and status.is_success:
            expected.landed(CompletionEntry(dw0=dw0))
        statuses.add(status.name)
    wanted = {"SUCCESS", "INVALID_FIELD", "ZONE_INVALID_WRITE", "ZONE_BOUNDARY_ERROR", "ZONE_IS_FULL",
              "TOO_MANY_ACTIVE_ZONES", "INVALID_ZONE_STATE_TRANSITION", "ZONE_IS_READ_ONLY", "ZONE_IS_OFFLINE"}
    assert wanted <= statuses, wanted - statuses


# a key-value namespace of 4 blocks beside an NVM one; values of up to 8 KiB, keys of up to 16 bytes
KV_CONFIG = ControllerConfig(namespaces=(NamespaceConfig(1, PAGE, 256), NamespaceConfig(2, PAGE, 4,
                                                                                   kv=KvFormat(max_value=8192))),
                             nvm_capacity=4 << 20)
KEYS = [b"k", b"key-0001", b"key-0002", b"\xffzz", bytes(range(16))]


def random_kv(rng: random.Random, i: int) -> tuple[SubmissionEntry, bytes, int]:
    """A random KV command on namespace 2 (sometimes on 1, the NVM one), mostly well formed."""
    key = rng.choice(KEYS)
    key_length = len(key) if rng.random() < 0.9 else rng.choice([0, 17, 255])
    kind = rng.choice(["store", "store", "retrieve", "list", "delete", "exist"])
    nsid = 2 if rng.random() < 0.95 else 1
    if kind == "store":
        size = rng.choice([0, 4, 100, 4100, 8192, 8193, 6])
        options = rng.choice([0, 0, STORE_ONLY_IF_EXISTS, STORE_ONLY_IF_ABSENT, 3, 0x80])
        return kv_cmd(KvOpcode.STORE, nsid, key, size, options, key_length=key_length), pattern(size, i), 0
    if kind in ("retrieve", "list"):
        size = rng.choice([0, 16, 512, 5000, 5001])
        opcode = KvOpcode.RETRIEVE if kind == "retrieve" else KvOpcode.LIST
        return kv_cmd(opcode, nsid, key, size, rng.choice([0, 0, 0, 1]), key_length=key_length), b"", size
    opcode = KvOpcode.DELETE if kind == "delete" else KvOpcode.EXIST
    return kv_cmd(opcode, nsid, key, key_length=key_length), b"", 0


def test_key_value_io_matches_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The firmware's KV index over the back end and the model's pairs agree on every status, DW0 and byte
    returned, through seeded random Store/Retrieve/List/Delete/Exist, capacity running out included."""
    bench = Bench(monkeypatch, config=KV_CONFIG)
    bench.io_queue()
    rng = random.Random(SEED)
    statuses = set()
    for i in range(400):
        status, dw0, expected = bench.run_checked(i, *random_kv(rng, i))
        assert expected.dw0 is None or dw0 == expected.dw0, f"command {i}: DW0 {dw0}, expected {expected.dw0}"
        statuses.add(status.name)
    wanted = {"SUCCESS", "INVALID_FIELD", "INVALID_OPCODE", "KV_INVALID_KEY_SIZE", "KV_INVALID_VALUE_SIZE",
              "KV_KEY_DOES_NOT_EXIST", "KV_KEY_EXISTS", "CAPACITY_EXCEEDED"}
    assert wanted <= statuses, wanted - statuses


def test_partial_page_writes_keep_their_neighbours(bench: Bench) -> None:
    bench.submit(1, write_cmd(1, 0, 16), pattern(8192, 1))
    bench.step()    # overlapping commands in flight together have no defined order
    bench.submit(1, write_cmd(1, 3, 2), pattern(1024, 2))
    bench.submit(1, write_zeroes_cmd(1, 6, 9))     # same pages, other LBAs: both updates must survive
    bench.step()
    read = bench.submit(1, read_cmd(1, 0, 16), length=8192)
    bench.step()
    expected = pattern(8192, 1)[:1536] + pattern(1024, 2) + pattern(8192, 1)[2560:3072] + bytes(4608) + \
        pattern(8192, 1)[7680:]
    assert bench.host_data(read) == expected


def test_compare_failure(bench: Bench) -> None:
    bench.submit(1, write_cmd(2, 7, 1), pattern(4096, 3))
    same = bench.submit(1, compare_cmd(2, 7, 1), pattern(4096, 3))
    differ = bench.submit(1, compare_cmd(2, 7, 1), pattern(4096, 4))
    bench.step()
    assert bench.completion(same)[0] == SUCCESS
    assert bench.completion(differ)[0].sc == 0x85 and bench.completion(differ)[0].sct == 2


def test_prp_error_from_the_dma_engine(bench: Bench) -> None:
    slot = bench.submit(1, read_cmd(2, 0, 2, prp1=0x1000, prp2=0x2010))   # second page with an offset
    bench.step()
    assert bench.completion(slot)[0] == Status.of(GenericStatus.PRP_OFFSET_INVALID, dnr=True)


def test_sgl_data_block(bench: Bench) -> None:
    bench.submit(1, write_cmd(2, 0, 1), pattern(4096, 5))
    descriptor = (0x50_0000).to_bytes(8, "little") + (4096).to_bytes(4, "little") + bytes(4)
    sqe = replace(read_cmd(2, 0, 1), psdt=1, prp1=int.from_bytes(descriptor[:8], "little"),
                  prp2=int.from_bytes(descriptor[8:], "little"))
    slot = bench.submit(1, sqe)
    bench.step()
    assert bench.completion(slot)[0] == SUCCESS
    assert bench.host.read(0x50_0000, 4096) == pattern(4096, 5)


def test_reads_can_auto_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    b = Bench(monkeypatch, auto_complete_reads=True)
    b.io_queue()
    slot = b.submit(1, read_cmd(2, 0, 1), length=4096)
    b.step()
    assert b.mb.posted == [(slot, SUCCESS, 0)]     # once, by the DMA engine
    assert b.fw.io.counters.reads == 1


def test_back_end_latency_shows_in_completion_time(bench: Bench) -> None:
    start = bench.kernel.ns
    bench.submit(1, write_cmd(2, 0, 1), pattern(4096, 6))
    bench.step()
    assert bench.kernel.ns - start == 2000     # NvmBackend write_ns


# admin against the reference model

ADMIN_CASES = [identify_cmd(1), identify_cmd(0, 1), identify_cmd(0, 2), identify_cmd(0, 3), identify_cmd(2, 1),
               identify_cmd(2, 0xFFFF_FFFF), identify_cmd(3, 2), identify_cmd(3, 0), identify_cmd(0x13),
               get_log_page_cmd(LogId.SMART_HEALTH, 512), get_log_page_cmd(LogId.FIRMWARE_SLOT, 1024),
               get_log_page_cmd(LogId.FIRMWARE_SLOT, 8, offset=8), get_log_page_cmd(LogId.FIRMWARE_SLOT, 4, 516),
               get_log_page_cmd(LogId.ERROR_INFORMATION, 128), get_log_page_cmd(0x80, 64),
               get_log_page_cmd(LogId.SMART_HEALTH, 512, nsid=1),
               set_features(FeatureId.VOLATILE_WRITE_CACHE, 0), get_features(FeatureId.VOLATILE_WRITE_CACHE),
               get_features(FeatureId.VOLATILE_WRITE_CACHE, GetFeaturesSelect.DEFAULT),
               get_features(FeatureId.ASYNC_EVENT_CONFIG, GetFeaturesSelect.SUPPORTED_CAPABILITIES),
               set_features(FeatureId.ASYNC_EVENT_CONFIG, 0x1FF, save=True),
               get_features(FeatureId.TEMPERATURE_THRESHOLD, GetFeaturesSelect.SAVED),
               get_features(FeatureId.NUMBER_OF_QUEUES), set_features(FeatureId.TIMESTAMP, 0),
               set_features(FeatureId.POWER_MANAGEMENT, 0x20), set_features(FeatureId.POWER_MANAGEMENT, 1),
               get_features(FeatureId.POWER_MANAGEMENT, GetFeaturesSelect.SUPPORTED_CAPABILITIES),
               set_features(FeatureId.ERROR_RECOVERY, 100), set_features(FeatureId.ERROR_RECOVERY, 1 << 16),
               get_features(FeatureId.ERROR_RECOVERY), get_features(FeatureId.WRITE_ATOMICITY, GetFeaturesSelect.DEFAULT),
               SubmissionEntry(AdminOpcode.FORMAT_NVM), SubmissionEntry(0xC5)]


@pytest.mark.parametrize("sqe", ADMIN_CASES, ids=lambda s: f"op{s.opcode:02x}-{s.cdw10:x}-ns{s.nsid:x}")
def test_admin_commands_match_the_model(bench: Bench, sqe: SubmissionEntry) -> None:
    bench.submit(1, write_cmd(2, 0, 1), pattern(4096, 7))   # something for SMART to count
    bench.model.io(write_cmd(2, 0, 1), pattern(4096, 7))
    bench.step()
    expected = bench.model.admin(sqe)
    assert expected is not None
    length = len(expected.data) if expected.data else 0
    slot = bench.submit(0, sqe, length=length)
    bench.step()
    assert bench.completion(slot) == (expected.status, expected.dw0)
    if expected.data is not None:
        assert bench.host_data(slot) == expected.data


# asynchronous events

def test_aer_is_held_until_an_invalid_doorbell(bench: Bench) -> None:
    slot = bench.submit(0, async_event_request_cmd())
    bench.step()
    assert bench.mb.posted == []
    bench.mb.db_err = DoorbellError(qid=9, is_cq=False, kind=DoorbellErrorKind.NO_SUCH_QUEUE, count=1)
    bench.mb.irq = IrqBit.DB_ERROR
    bench.step()
    assert bench.mb.posted == [(slot, SUCCESS, INVALID_DOORBELL_REGISTER.dw0)]


def test_error_events_wait_for_the_error_log_to_be_read(bench: Bench) -> None:
    first, second = bench.submit(0, async_event_request_cmd()), bench.submit(0, async_event_request_cmd())
    bench.step()
    for _ in range(2):
        bench.mb.db_err = DoorbellError(qid=1, is_cq=True, kind=DoorbellErrorKind.BEYOND_QUEUE_SIZE, count=1)
        bench.mb.irq = IrqBit.DB_ERROR
        bench.step()
    assert [s for s, _, _ in bench.mb.posted] == [first]
    log = bench.submit(0, get_log_page_cmd(LogId.ERROR_INFORMATION, 128), length=128)
    bench.step()
    assert [s for s, _, _ in bench.mb.posted] == [first, second, log]
    assert int.from_bytes(bench.host_data(log)[:8], "little") == 2     # newest entry first


def test_aer_limit_exceeded(bench: Bench) -> None:
    slots = [bench.submit(0, async_event_request_cmd()) for _ in range(5)]
    bench.step()
    assert bench.mb.posted == [(slots[4], Status.of(CommandSpecificStatus.ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED,
                                                    dnr=True), 0)]


def test_smart_threshold_event(bench: Bench) -> None:
    aer = bench.submit(0, async_event_request_cmd())
    bench.submit(0, set_features(FeatureId.ASYNC_EVENT_CONFIG, 1 << 1))
    bench.submit(0, set_features(FeatureId.TEMPERATURE_THRESHOLD, temperature_threshold_dword(300)))
    bench.step()
    assert bench.completion(aer) == (SUCCESS, 0x02_01_01)


def test_namespace_change_event_and_log(bench: Bench) -> None:
    bench.submit(0, set_features(FeatureId.ASYNC_EVENT_CONFIG, AEC_NAMESPACE_ATTRIBUTE))
    aer = bench.submit(0, async_event_request_cmd())
    bench.step()
    bench.run(bench.fw.notify_namespace_change([2]))
    assert bench.completion(aer) == (SUCCESS, NAMESPACE_ATTRIBUTE_CHANGED.dw0)
    log = bench.submit(0, get_log_page_cmd(LogId.CHANGED_NAMESPACES, 8), length=8)
    bench.step()
    assert bench.host_data(log) == (2).to_bytes(4, "little") + bytes(4)


def test_reset_drops_outstanding_aers(bench: Bench) -> None:
    bench.submit(0, async_event_request_cmd())
    bench.step()
    bench.mb.irq = IrqBit.RESET
    bench.step()
    bench.run(bench.fw.notify_namespace_change([1]))
    assert bench.mb.posted == []


def test_draining_reset_frees_the_slots_of_held_aers(bench: Bench) -> None:
    """One controller of several: its reset leaves its slots taken until their completions come (which the
    hardware drops by epoch), so a held AER's slot is posted once, and no event completes it later."""
    bench.mb.drains_on_reset = True
    aer = bench.submit(0, async_event_request_cmd())
    bench.step()
    assert bench.mb.posted == []
    bench.mb.irq = IrqBit.RESET
    bench.step()
    bench.run(bench.fw.notify_namespace_change([1]))
    assert [slot for slot, _, _ in bench.mb.posted] == [aer]


# the SoC model and Abort

def test_soc_schedule_on_cores() -> None:
    soc = Soc(SocConfig(clock_hz=500e6, cores=2, cycles={"read": 500, "default": 100}))
    assert [soc.schedule("read", 0) for _ in range(3)][2].start_ns == 1000
    assert soc.schedule("write", 0).end_ns == 1000 + 200
    assert soc.schedule("admin", 0, admin=True).start_ns == 0    # its own core
    assert soc.busy_ns == 3000 + 200 + 200


def test_zero_cost_is_a_setting() -> None:
    soc = Soc(SocConfig())
    assert soc.schedule("read", 70).start_ns == soc.schedule("read", 70).end_ns == 70


def test_command_kinds() -> None:
    assert [command_kind(True, 0x06), command_kind(False, 0x02), command_kind(False, 0x7E)] == \
        ["admin", "read", "invalid"]


@pytest.mark.parametrize("cores, elapsed", [(1, 3 * 1000 + 1000), (3, 1000 + 1000)])
def test_cores_process_commands_in_parallel(monkeypatch: pytest.MonkeyPatch, cores: int, elapsed: int) -> None:
    b = Bench(monkeypatch, soc=SocConfig(cores=cores, cycles={"read": 1000}))
    b.io_queue()
    start = b.kernel.ns
    for _ in range(3):
        b.submit(1, read_cmd(2, 0, 1), length=4096)
    b.step()
    assert len(b.mb.posted) == 3 and b.kernel.ns - start == elapsed   # SoC time then back-end read


def test_abort_of_a_command_waiting_for_a_core(monkeypatch: pytest.MonkeyPatch) -> None:
    b = Bench(monkeypatch, soc=SocConfig(cycles={"read": 1000}))
    b.io_queue()
    reads = [b.submit(1, replace(read_cmd(2, 0, 1), cid=c), length=4096) for c in range(3)]
    abort = b.submit(0, abort_cmd(1, 2))
    missing = b.submit(0, abort_cmd(1, 99))
    b.step()
    assert b.completion(reads[2])[0] == Status.of(GenericStatus.ABORT_REQUESTED)
    assert b.completion(abort) == (SUCCESS, 0) and b.completion(missing) == (SUCCESS, 1)
    assert [b.completion(r)[0] for r in reads[:2]] == [SUCCESS, SUCCESS]
    assert b.fw.aborted == 1 and b.fw.io.counters.reads == 2


def test_namespace_delete_waits_for_its_running_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write still running when its namespace is deleted completes first, and a namespace created in the
    freed units afterwards reads zeroes: the write never lands there."""
    b = Bench(monkeypatch, soc=SocConfig(cycles={"write": 1000}))
    b.io_queue()
    write = b.submit(1, write_cmd(2, 0, 4), pattern(4 * 4096, 1))
    delete = b.submit(0, ns_delete_cmd(2))
    b.step()
    assert [s for s, _, _ in b.mb.posted] == [write, delete]
    assert b.completion(write)[0] == SUCCESS and b.completion(delete)[0] == SUCCESS
    create = b.submit(0, ns_create_cmd(), ns_create_data(512, 4096))
    attach = b.submit(0, ns_attachment_cmd(2), controller_list([CONFIG.cntlid]))
    b.step()
    assert b.completion(create) == (SUCCESS, 2) and b.completion(attach)[0] == SUCCESS
    read = b.submit(1, read_cmd(2, 0, 4), length=4 * 4096)
    b.step()
    assert b.completion(read)[0] == SUCCESS and b.host_data(read) == bytes(4 * 4096)


def test_a_namespace_change_for_another_controller_is_told_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Controller 0 attaches a namespace to controller 1 of the subsystem: 1 hears of it, 0 logs nothing."""
    config = replace(CONFIG, controllers=(0, 1), namespaces=CONFIG.namespaces[:1])   # room for one more
    table = NamespaceTable(config)
    told: list[list[int]] = []

    async def controller_1(nsids: list[int]) -> None:
        told.append(nsids)

    table.listen(1, controller_1)
    b = Bench(monkeypatch, config=config, namespaces=table)
    create = b.submit(0, ns_create_cmd(), ns_create_data(8, 512))
    b.step()
    attach = b.submit(0, ns_attachment_cmd(2), controller_list([1]))
    b.step()
    assert b.completion(create) == (SUCCESS, 2) and b.completion(attach)[0] == SUCCESS
    assert told == [[2]] and b.fw.commands is not None and b.fw.commands.changed == []


def test_delete_sq_waits_for_its_running_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    b = Bench(monkeypatch, soc=SocConfig(cycles={"read": 1000}))
    b.io_queue()
    read = b.submit(1, read_cmd(2, 0, 1), length=4096)
    delete = b.submit(0, SubmissionEntry(AdminOpcode.DELETE_IO_SQ, cdw10=1))
    b.step()
    assert [s for s, _, _ in b.mb.posted] == [read, delete]


# an open-channel namespace: 2 groups x 2 PUs x 4 chunks of 16 blocks, written 4 at a time (2 planes x 2)
OC_GEOMETRY = Geometry(channels=2, luns_per_channel=2, planes=2, blocks_per_plane=4, pages_per_block=4,
                       page_size=8192, sector_size=4096, oob_size=64)
LIST_BASE = 0x8000_0000     # LBA lists and reset descriptors, away from the data pages


def open_channel_bench(monkeypatch: pytest.MonkeyPatch) -> Bench:
    backend = OcssdBackend(geometry=OC_GEOMETRY)
    chunks = backend.chunk_geometry()
    config = ControllerConfig(namespaces=(NamespaceConfig(1, PAGE, backend.capacity_pages, chunks=chunks),),
                              nvm_capacity=backend.capacity_pages * PAGE, ocssd_geometry=backend.geometry_page())
    bench = Bench(monkeypatch, config=config, backend=backend)
    bench.io_queue()
    return bench


def random_vector(rng: random.Random, i: int, bench: Bench) -> tuple[SubmissionEntry, bytes, int]:
    """A random vector or scalar command on the open-channel namespace, mostly where it would succeed (a
    write at a chunk's write pointer), its LBA lists placed in host memory."""
    chunks = bench.model.namespaces.shadows[1].chunks
    assert chunks is not None
    geo = chunks.geometry
    index = rng.randrange(geo.count)
    at = geo.slba(index) + min(chunks.chunk(index).wp, geo.clba - geo.ws_min)
    kind = rng.choice(["write", "write", "write", "read", "reset", "copy", "scalar_write", "scalar_read"])
    units = rng.choice([1, 1, 2])
    run = [at + k for k in range(units * geo.ws_min)]
    if kind == "write" and rng.random() < 0.2:
        run = run[:-1] if rng.random() < 0.5 else run[1:] + [at]       # not whole units; out of order
    if kind == "read":
        run = [rng.randrange(1 << geo.address_bits) for _ in range(rng.choice([1, 5, 8, 8, 33]))]   # 33: MDTS
    if kind == "reset":
        run = [geo.slba(rng.randrange(geo.count)) + rng.randrange(geo.clba) for _ in range(rng.choice([1, 2, 3]))]
    if rng.random() < 0.03:
        run[rng.randrange(len(run))] = 1 << geo.address_bits              # names no chunk
    if kind == "scalar_write":
        return write_cmd(1, run[0], len(run)), pattern(len(run) * PAGE, i), 0
    if kind == "scalar_read":
        return read_cmd(1, at, len(run)), b"", len(run) * PAGE
    lbal, dlbal = LIST_BASE + 0x1000 * (i % 8), LIST_BASE + 0x1000 * (i % 8) + 0x800
    if kind == "copy":
        source = [rng.randrange(1 << geo.address_bits) for _ in run]
        bench.host.write(lbal, struct.pack(f"<{len(run)}Q", *source))
        bench.host.write(dlbal, struct.pack(f"<{len(run)}Q", *run))
        return vector_cmd(OcOpcode.VECTOR_COPY, 1, lbal if len(run) > 1 else source[0], len(run),
                          dlbal=dlbal if len(run) > 1 else run[0]), b"", 0
    bench.host.write(lbal, struct.pack(f"<{len(run)}Q", *run))
    pointer = lbal if len(run) > 1 else run[0]
    if rng.random() < 0.03 and len(run) > 1:
        pointer += 2                                                      # a misaligned list: Invalid Field
    count = len(run) if rng.random() < 0.97 else 65                      # more than 64 LBAs: Invalid Field
    if kind == "reset":
        mptr = dlbal if rng.random() < 0.5 else 0
        return vector_cmd(OcOpcode.VECTOR_RESET, 1, pointer, count, mptr=mptr), b"", 0
    if kind == "read":
        return vector_cmd(OcOpcode.VECTOR_READ, 1, pointer, count), b"", count * PAGE
    return vector_cmd(OcOpcode.VECTOR_WRITE, 1, pointer, count), pattern(count * PAGE, i), 0


def test_open_channel_io_matches_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The firmware over the ocssd back end and the reference model's own chunk state machine agree on every
    status, the failed-LBA bits of DW0-DW1, every block read and every reset's chunk descriptors, through
    seeded random vector and scalar traffic and chunks going offline; the Chunk Information logs agree."""
    bench = open_channel_bench(monkeypatch)
    chunks = bench.model.namespaces.shadows[1].chunks
    assert chunks is not None
    rng = random.Random(SEED)
    statuses, bits = set(), 0
    for i in range(400):
        if i % 89 == 88:     # now and then a media failure, told to both
            lba = chunks.geometry.slba(rng.randrange(chunks.geometry.count))
            bench.backend.fail_chunk(lba)
            bench.model.chunk_failed(1, lba)
        sqe, data, length = random_vector(rng, i, bench)
        lists = vector_lists(sqe, bench.host.read) if sqe.opcode in set(OcOpcode) else None
        status, dw0, expected = bench.run_checked(i, sqe, data, length, lists)
        statuses.add(status.name)
        bits |= dw0
        if sqe.opcode == OcOpcode.VECTOR_RESET and sqe.mptr and status.is_success:
            returned = bench.host.read(sqe.mptr, len(lists.lbas) * CHUNK_DESCRIPTOR_SIZE)
            assert parse_chunk_log(returned) == [chunks.descriptor(chunks.geometry.locate(lba)[0])
                                                 for lba in lists.lbas], f"command {i}: descriptors"
    wanted = {"SUCCESS", "INVALID_FIELD", "LBA_OUT_OF_RANGE", "WRITE_FAULT", "OCSSD_OUT_OF_ORDER_WRITE",
              "OCSSD_OFFLINE_CHUNK", "OCSSD_INVALID_RESET"}
    assert wanted <= statuses, wanted - statuses
    assert bits, "no failure named its LBAs"
    assert bench.fw.io.open_channel.chunk_log() == chunk_log(chunks.descriptors()), "the chunk logs differ"



def test_open_channel_namespace_needs_the_ocssd_back_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vector commands run on the ocssd back end's chunks: another back end is refused when configured."""
    chunks = OcssdBackend(geometry=OC_GEOMETRY).chunk_geometry()
    config = ControllerConfig(namespaces=(NamespaceConfig(1, PAGE, 1 << chunks.address_bits, chunks=chunks),),
                              nvm_capacity=4 << 20)
    with pytest.raises(ValueError, match="ocssd back end"):
        Bench(monkeypatch, config=config)
