"""The firmware's address translation cache (PCIe ATS) without a simulator, on a fake translation agent.

The fake DMA answers a Translation Request from a table of grants (untranslated page -> entry) and can run a
hook while a request is in flight, so a test can put an Invalidate Request exactly where a race would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

import firmware.nvme.ats as fats
from firmware.mailbox import CommandSlot
from firmware.nvme.ats import AddressTranslationCache
from firmware.nvme.ports import AddressType, DmaDirection, DmaResult
from models.iommu.ats import NO_ACCESS, TranslationEntry
from tests.unit.fake_dram import FakeDram

SLOT = CommandSlot(0, 0)
SCRATCH = 0x100
PAGE = 4096
GUEST, HOST = 0x7000_0000, 0x1_2340_0000


class FakeAgent(FakeDram):
    """The translation agent behind a DMA port: answers Translation Requests from ``grants``."""

    def __init__(self) -> None:
        super().__init__(PAGE)
        self.grants: dict[int, TranslationEntry] = {}
        self.requests: list[int] = []
        self.during: Callable[[], object] | None = None   # run while the next request is in flight

    async def transfer(self, slot: CommandSlot, direction: DmaDirection, offset: int, length: int, dram_addr: int,
                       cmd_len: int, auto_complete: bool = False, host_addr: int | None = None,
                       address_type: AddressType = AddressType.UNTRANSLATED) -> DmaResult:
        assert address_type is AddressType.TRANSLATION_REQUEST and direction is DmaDirection.HOST_TO_DEVICE
        assert host_addr is not None and host_addr % PAGE == 0 and length == cmd_len == 8
        self.requests.append(host_addr)
        entry = self.grants.get(host_addr, NO_ACCESS)
        if self.during is not None:
            hook, self.during = self.during, None
            if asyncio.iscoroutine(result := hook()):
                await result
        self.mem[dram_addr:dram_addr + 8] = entry.pack()
        return DmaResult(slot.index)


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> FakeAgent:
    monkeypatch.setattr(fats, "Event", asyncio.Event)
    agent = FakeAgent()
    agent.grants[GUEST] = TranslationEntry(HOST, read=True, write=False)
    return agent


async def use(atc: AddressTranslationCache, addr: int, write: bool = False) -> int | None:
    async with atc.translated(SLOT, SCRATCH, addr, write) as translated:
        return translated


def test_one_request_per_page_then_hits(agent: FakeAgent) -> None:
    atc = AddressTranslationCache(agent, agent)

    async def run() -> list[int | None]:
        return [await use(atc, GUEST + 0x10), await use(atc, GUEST + 0x804)]

    assert asyncio.run(run()) == [HOST + 0x10, HOST + 0x804]
    assert agent.requests == [GUEST] and (atc.translation_requests, atc.hits) == (1, 1)


def test_no_access_is_neither_used_nor_cached(agent: FakeAgent) -> None:
    """A page nothing maps, and a write where only reads are granted: no translated address."""
    atc = AddressTranslationCache(agent, agent)

    async def run() -> list[int | None]:
        return [await use(atc, GUEST + PAGE), await use(atc, GUEST + PAGE), await use(atc, GUEST, write=True)]

    assert asyncio.run(run()) == [None, None, None]
    assert agent.requests == [GUEST + PAGE, GUEST + PAGE, GUEST] and atc.refused == 3
    assert list(atc.entries) == [GUEST]


def test_an_invalidation_drops_what_it_covers(agent: FakeAgent) -> None:
    agent.grants[GUEST + PAGE] = TranslationEntry(HOST + PAGE, read=True, write=True)
    atc = AddressTranslationCache(agent, agent)

    async def run() -> None:
        await use(atc, GUEST)
        await use(atc, GUEST + PAGE)
        await atc.invalidate(GUEST + PAGE, PAGE)
        assert list(atc.entries) == [GUEST]
        agent.grants[GUEST + PAGE] = TranslationEntry(HOST + 5 * PAGE, read=True, write=True)
        assert await use(atc, GUEST + PAGE, write=True) == HOST + 5 * PAGE
        await atc.invalidate(0, None)
        assert not atc.entries

    asyncio.run(run())
    assert agent.requests == [GUEST, GUEST + PAGE, GUEST + PAGE] and atc.invalidated == 2


def test_an_invalidation_completes_only_after_the_dma_in_flight(agent: FakeAgent) -> None:
    """The Invalidate Completion waits until the DMA that took the translation is done with it."""
    atc = AddressTranslationCache(agent, agent)
    events: list[str] = []

    async def run() -> None:
        dma_done = asyncio.Event()

        async def dma() -> None:
            async with atc.translated(SLOT, SCRATCH, GUEST, False):
                await dma_done.wait()
                events.append("dma done")

        async def invalidate() -> None:
            await atc.invalidate(GUEST, PAGE)
            events.append("invalidated")

        task = asyncio.ensure_future(dma())
        await asyncio.sleep(0)
        inval = asyncio.ensure_future(invalidate())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not events and not atc.entries, "the completion did not wait for the DMA"
        dma_done.set()
        await asyncio.gather(task, inval)

    asyncio.run(run())
    assert events == ["dma done", "invalidated"]


def test_a_translation_an_invalidation_passed_is_asked_again(agent: FakeAgent) -> None:
    """The page changes hands while its Translation Request is in flight: the old answer is not used."""
    atc = AddressTranslationCache(agent, agent)

    async def move() -> None:
        agent.grants[GUEST] = TranslationEntry(HOST + 9 * PAGE, read=True, write=False)
        await atc.invalidate(GUEST, PAGE)

    agent.during = move
    assert asyncio.run(use(atc, GUEST)) == HOST + 9 * PAGE
    assert agent.requests == [GUEST, GUEST] and atc.entries[GUEST].phys == HOST + 9 * PAGE


def test_least_recently_used_goes_first(agent: FakeAgent) -> None:
    for n in range(1, 3):
        agent.grants[GUEST + n * PAGE] = TranslationEntry(HOST + n * PAGE, read=True, write=False)
    atc = AddressTranslationCache(agent, agent, capacity=2)

    async def run() -> None:
        for page in (0, 1, 0, 2):    # page 1 is the least recently used when page 2 comes
            await use(atc, GUEST + page * PAGE)

    asyncio.run(run())
    assert list(atc.entries) == [GUEST, GUEST + 2 * PAGE]
