"""Shadow doorbells without a simulator: the host's EventIdx rule and the firmware's sweep on fakes.

The sweep runs against a fake queue table with the hardware's compare-and-set
doorbell and a fake DMA engine over a host memory; a hook on the DMA lets a
test put a host update exactly where a race would, between the sweep's read
of the shadow page and its EventIdx write.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable

import pytest

from tests.unit.fake_dram import FakeDram
from tests.unit.prp_host import HostMemory

import firmware.nvme.shadow_doorbells as fshadow
from firmware.admin import AdminState, CreateCq, CreateSq
from firmware.mailbox import CommandSlot, Doorbells
from firmware.nvme.ports import AddressType, DmaDirection, DmaResult
from firmware.nvme.shadow_doorbells import ShadowBuffers, ShadowDoorbells, buffers_of, entry_offset
from models.nvme_commands import doorbell_buffer_config_cmd
from models.nvme_spec import GenericStatus, Status
from tb.shadow_doorbells import need_event

STRIDE = 4
DBS, EIS = 0x10_0000, 0x20_0000
SCRATCH = 0x8000
QIDS = (1, 2)


@pytest.mark.parametrize("event_idx, new, old, ring", [
    (0, 1, 0, True),            # the controller saw 0: an update past it rings
    (0, 2, 1, False),           # it has not caught up since: no ring
    (5, 8, 3, True),            # 5 lies in [3, 8)
    (8, 8, 3, False),           # 8 does not
    (0xFFFF, 1, 0xFFFE, True),  # across 2^16
    (3, 3, 3, False),           # no update at all
])
def test_need_event(event_idx: int, new: int, old: int, ring: bool) -> None:
    assert need_event(event_idx, new, old) == ring


def test_buffers_must_be_page_aligned() -> None:
    assert buffers_of(doorbell_buffer_config_cmd(DBS, EIS)) == ShadowBuffers(DBS, EIS)
    for prp1, prp2 in ((DBS + 4, EIS), (DBS, EIS + 0x800)):
        status = buffers_of(doorbell_buffer_config_cmd(prp1, prp2))
        assert status == Status.of(GenericStatus.INVALID_FIELD, dnr=True)


class FakeQueueTable:
    """The mailbox's queue doorbells, with Q_SQ_DOORBELL/Q_CQ_DOORBELL's compare-and-set."""

    def __init__(self) -> None:
        self.values: dict[tuple[int, bool], int] = {}
        self.rings: list[tuple[int, bool, int, int]] = []

    async def doorbells(self, qid: int) -> Doorbells:
        return Doorbells(self.values.get((qid, False), 0), self.values.get((qid, True), 0))

    async def ring(self, qid: int, cq: bool, expect: int, value: int) -> None:
        self.rings.append((qid, cq, expect, value))
        if self.values.get((qid, cq), 0) == expect:
            self.values[(qid, cq)] = value


class FakeDma(FakeDram):
    """Host-buffer transfers between a host memory and a DRAM; ``after[n]`` runs after transfer n."""

    def __init__(self, host: HostMemory) -> None:
        super().__init__(1 << 16)
        self.host = host
        self.count = 0
        self.after: dict[int, Callable[[], None]] = {}

    async def transfer(self, slot: CommandSlot, direction: DmaDirection, offset: int, length: int, dram_addr: int,
                       cmd_len: int, auto_complete: bool = False, host_addr: int | None = None,
                       address_type: AddressType = AddressType.UNTRANSLATED) -> DmaResult:
        assert host_addr is not None and offset == 0 and length == cmd_len
        assert address_type is AddressType.UNTRANSLATED, "no ATS on this bench"
        if direction == DmaDirection.HOST_TO_DEVICE:
            self.mem[dram_addr:dram_addr + length] = self.host.read(host_addr, length)
        else:
            self.host.write(host_addr, bytes(self.mem[dram_addr:dram_addr + length]))
        self.count += 1
        if hook := self.after.pop(self.count, None):
            hook()
        return DmaResult(slot.index)


class Bench:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(fshadow, "Lock", asyncio.Lock)
        monkeypatch.setattr(fshadow, "start_soon", asyncio.ensure_future)
        monkeypatch.setattr(fshadow, "get_sim_time", lambda unit: 0)
        self.host = HostMemory()
        self.table = FakeQueueTable()
        self.dma = FakeDma(self.host)
        queues = AdminState(io_queue_pairs=4, mqes=255)
        for qid in QIDS:
            queues.cqs[qid] = CreateCq(qid, 0, 15, qid, True)
            queues.sqs[qid] = CreateSq(qid, 0, 15, qid, 0)
        self.shadow = ShadowDoorbells(self.table, self.dma, self.dma, queues, STRIDE, SCRATCH)  # type: ignore

    def host_update(self, qid: int, cq: bool, value: int) -> None:
        self.host.write(DBS + entry_offset(qid, cq, STRIDE), struct.pack("<I", value))

    def entries(self, base: int, qid: int) -> tuple[int, int]:
        """(SQ tail, CQ head) entries of ``qid`` in the buffer at ``base``."""
        return struct.unpack("<II", self.host.read(base + entry_offset(qid, False, STRIDE), 8))

    def run(self, *steps: Callable[[], object]) -> None:
        async def drive() -> None:
            for step in steps:
                if asyncio.iscoroutine(result := step()):
                    await result
            while self.shadow._task is not None and not self.shadow._task.done():
                await asyncio.sleep(0)
        asyncio.run(drive())

    def configure(self) -> None:
        self.run(lambda: self.shadow.configure(CommandSlot(3, 7), ShadowBuffers(DBS, EIS)))


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Bench:
    return Bench(monkeypatch)


def test_configure_publishes_the_doorbells_in_both_buffers(bench: Bench) -> None:
    bench.table.values = {(1, False): 5, (1, True): 4, (2, False): 9}
    bench.configure()
    assert bench.shadow.enabled
    for base in (DBS, EIS):
        assert bench.entries(base, 1) == (5, 4) and bench.entries(base, 2) == (9, 0)


def test_a_sweep_rings_what_moved_and_sets_event_idx(bench: Bench) -> None:
    bench.configure()
    bench.host_update(1, False, 3)
    bench.host_update(2, True, 0)     # unchanged: not rung
    bench.host_update(2, False, 7)
    bench.run(bench.shadow.kick)
    assert bench.table.rings == [(1, False, 0, 3), (2, False, 0, 7)]
    assert bench.entries(EIS, 1) == (3, 0) and bench.entries(EIS, 2) == (7, 0)
    assert bench.shadow.failures == 0


def test_an_update_between_the_read_and_the_event_idx_write_is_not_lost(bench: Bench) -> None:
    """The host writes its shadow entry right after the sweep read the page and reads the old EventIdx, so it
    does not ring MMIO: the sweep's second read must find the update."""
    bench.configure()
    bench.host_update(1, False, 1)
    first_read = bench.dma.count + 1
    bench.dma.after[first_read] = lambda: bench.host_update(1, False, 2)
    bench.run(bench.shadow.kick)
    assert bench.table.values[(1, False)] == 2, bench.table.rings
    assert bench.entries(EIS, 1)[0] == 2
    assert bench.shadow.sweeps == 2


def test_a_stale_shadow_value_never_undoes_a_newer_doorbell(bench: Bench) -> None:
    """The host moves the tail on to 6, shadow and MMIO, between the sweep's look at the hardware and its
    ring of the 4 it read: the compare-and-set keeps 6, and the next pass finds nothing to ring."""
    bench.configure()
    bench.host_update(1, False, 4)

    def host_rings_six() -> None:
        bench.host_update(1, False, 6)
        bench.table.values[(1, False)] = 6

    bench.dma.after[bench.dma.count + 1] = host_rings_six
    bench.run(bench.shadow.kick)
    assert bench.table.values[(1, False)] == 6
    assert bench.table.rings == [(1, False, 0, 4)] and bench.entries(EIS, 1)[0] == 6


def test_a_reset_forgets_the_buffers(bench: Bench) -> None:
    bench.configure()
    bench.shadow.reset()
    bench.host_update(1, False, 3)
    bench.run(bench.shadow.kick)
    assert not bench.shadow.enabled and bench.table.rings == [] and bench.shadow.sweeps == 0


def test_a_new_queue_starts_at_zero_in_both_buffers(bench: Bench) -> None:
    bench.configure()
    bench.host_update(2, False, 11)   # left by an earlier queue 2
    bench.run(lambda: bench.shadow.queue_created(2, False))
    assert bench.entries(DBS, 2)[0] == 0 and bench.entries(EIS, 2)[0] == 0
    bench.run(bench.shadow.kick)
    assert bench.table.rings == [] and bench.shadow.failures == 0


def test_polling_sweeps_on_a_timer_and_keeps_event_idx_one_behind(bench: Bench,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Polling mode: the host's update is found without a kick, and each EventIdx is set one behind the value
    seen (modulo the queue's 16 entries), so the host's next update does not pass it."""
    polls: list[int] = []

    async def timer(ns: int, unit: str) -> None:
        polls.append(ns)
        if len(polls) == 1:
            bench.host_update(1, False, 3)
            bench.shadow.kick()               # ignored: only the poller sweeps
        elif len(polls) == 3:
            bench.shadow.reset()              # ends the poller

    monkeypatch.setattr(fshadow, "Timer", timer)
    bench.shadow.poll_ns = 1000
    bench.configure()
    assert polls == [1000] * 3 and bench.shadow.sweeps == 3
    assert bench.table.rings == [(1, False, 0, 3)]
    assert bench.entries(EIS, 1) == (2, 15) and bench.entries(EIS, 2) == (15, 15)
