"""The firmware's DmaPort on the RTL DMA engine: the mailbox's DMA registers (docs/dma_engine.md).

A transfer writes the request registers and DMA_POST under the mailbox
lock (the hardware holds the POST while its request queue is full), then
waits for the result carrying its cookie. One poller, running while
transfers wait, sleeps on the DMA interrupt line (results waiting, at
most ``poll_ns`` between looks), reads DMA_RESULT until it is empty (a
read takes the result) and hands each result to its waiter, so the
AXI4-Lite port is left to the command loop and the waiters sleep until
their result; transfers from many command tasks run concurrently, as the
engine walks one request while it moves the data of earlier ones.

A request of an older reset generation (a command task that outlived a
controller reset) is refused by the hardware with Command Abort Requested
and moves nothing; ``refused`` counts those results. The reset already
ended the waits of the requests it dropped, so a refusal whose cookie no
transfer waits for any more is expected, and any other result without a
waiter is an error.
"""

from __future__ import annotations

import cocotb
from cocotb.task import Task
from cocotb.triggers import Event, First, Timer

from contract import fw_mailbox as regs
from firmware.mailbox import CommandSlot, Mailbox, MailboxError, MailboxTimeout
from firmware.nvme.ports import AddressType, DmaDirection, DmaResult
from models.nvme_spec import GenericStatus

COOKIES = 1 << regs.DMA_CTRL.COOKIE.width


def dma_ctrl_value(slot: CommandSlot, direction: DmaDirection, auto_complete: bool, cookie: int,
                   host_buffer: bool = False, address_type: AddressType = AddressType.UNTRANSLATED,
                   requester: int | None = None) -> int:
    return regs.DMA_CTRL.encode(SLOT=slot.index, DIR=direction, AUTO=auto_complete, HOST=host_buffer, COOKIE=cookie,
                                EPOCH=slot.epoch, AT=address_type, FN_SEL=requester is not None, FN=requester or 0)


def decode_result(raw: int) -> tuple[int, DmaResult]:
    """(cookie, result) of a DMA_RESULT value with its valid bit set."""
    f = regs.DMA_RESULT
    return f.COOKIE.get(raw), DmaResult(f.SLOT.get(raw), GenericStatus(f.STATUS.get(raw)), bool(f.AUTO.get(raw)))


class MailboxDma:
    """DmaPort over the mailbox; ``poll_ns`` is how often a waiting transfer looks for results."""

    def __init__(self, mailbox: Mailbox, poll_ns: int = 10_000) -> None:
        self.mailbox = mailbox
        self.poll_ns = poll_ns
        self._waiting: dict[int, tuple[Event, list[DmaResult]]] = {}
        self._next_cookie = 0
        self._poller: Task | None = None
        self.transfers = 0
        self.bytes = 0
        self.refused = 0

    async def check_present(self) -> None:
        if not regs.DMA_STATUS.PRESENT.get(await self.mailbox.read(regs.DMA_STATUS.OFFSET)):
            raise MailboxError("DMA_STATUS: this build has no DMA engine (it needs 256-bit PCIe streams)")

    def _cookie(self) -> int:
        for _ in range(COOKIES):
            cookie, self._next_cookie = self._next_cookie, (self._next_cookie + 1) % COOKIES
            if cookie not in self._waiting:
                return cookie
        raise MailboxError(f"{COOKIES} DMA transfers waiting: no cookie left")

    async def transfer(self, slot: CommandSlot, direction: DmaDirection, offset: int, length: int, dram_addr: int,
                       cmd_len: int, auto_complete: bool = False, host_addr: int | None = None,
                       address_type: AddressType = AddressType.UNTRANSLATED, requester: int | None = None) -> DmaResult:
        """DmaPort.transfer; ``requester``: a host-buffer transfer made for that controller (DMA_CTRL.FN_SEL),
        whatever controller's command ``slot`` holds now."""
        cookie = self._cookie()
        done = Event()
        self._waiting[cookie] = (done, [])
        mb = self.mailbox
        async with mb._lock:
            await mb.write(regs.DMA_CTRL.OFFSET,
                           dma_ctrl_value(slot, direction, auto_complete, cookie, host_addr is not None, address_type,
                                          requester))
            if host_addr is not None:
                await mb.write(regs.DMA_HOST_LO.OFFSET, host_addr & 0xFFFF_FFFF)
                await mb.write(regs.DMA_HOST_HI.OFFSET, host_addr >> 32)
            await mb.write(regs.DMA_OFFSET.OFFSET, offset)
            await mb.write(regs.DMA_LENGTH.OFFSET, length)
            await mb.write(regs.DMA_CMD_LEN.OFFSET, cmd_len)
            await mb.write(regs.DMA_DRAM_LO.OFFSET, dram_addr & 0xFFFF_FFFF)
            await mb.write(regs.DMA_DRAM_HI.OFFSET, dram_addr >> 32)
            await mb.write(regs.DMA_POST.OFFSET, regs.DMA_POST.POST.bit)
        if self._poller is None or self._poller.done():
            self._poller = cocotb.start_soon(self._poll())
        await First(done.wait(), Timer(mb.timeout_ns, "ns"))
        if not done.is_set():
            del self._waiting[cookie]
            raise MailboxTimeout(f"DMA transfer of slot {slot.index} ({length} bytes at offset {offset}): "
                                 f"no result after {mb.timeout_ns} ns")
        (result,) = self._waiting.pop(cookie)[1]
        self.transfers += 1
        self.bytes += length
        return result

    async def _poll(self) -> None:
        """Read every result waiting whenever the DMA interrupt rises, as long as a transfer waits."""
        while self._waiting:
            await self.mailbox.wait_dma_irq(self.poll_ns)
            while regs.DMA_RESULT.VALID.get(raw := await self.mailbox.read(regs.DMA_RESULT.OFFSET)):
                cookie, result = decode_result(raw)
                refused = result.code == GenericStatus.ABORT_REQUESTED
                self.refused += refused
                waiter = self._waiting.get(cookie)
                if waiter is None and refused:
                    continue
                if waiter is None:
                    raise MailboxError(f"DMA result for cookie {cookie} that no transfer waits for: {raw:#010x}")
                waiter[1].append(result)
                waiter[0].set()

    async def in_flight(self) -> int:
        """Request ids the engine holds (DMA_STATUS[15:8]): 0 once a controller reset has drained it."""
        return regs.DMA_STATUS.IN_FLIGHT.get(await self.mailbox.read(regs.DMA_STATUS.OFFSET))

    @property
    def waiting(self) -> int:
        """Transfers posted and not yet answered."""
        return len(self._waiting)

    def reset(self) -> None:
        """Controller reset: the engine dropped every request; their transfers end as aborted."""
        for done, results in self._waiting.values():
            results.append(DmaResult(-1, GenericStatus.ABORT_REQUESTED))
            done.set()
