"""The firmware's data-movement ports: the DMA engine (docs/dma_engine.md) and the device DRAM.

Protocols, so the command code is written once against them: the real
implementations are the mailbox's DMA request/result registers and
cocotbext-axi's AxiRam; the unit tests use fakes that walk PRPs with
``models.prp`` over a fake host memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from firmware.mailbox import CommandSlot
from models.nvme_spec import GenericStatus, Status


class DmaDirection(IntEnum):
    HOST_TO_DEVICE = 0   # host memory -> device DRAM (Write, Compare, DSM ranges)
    DEVICE_TO_HOST = 1   # device DRAM -> host memory (Read, Identify, log pages)


class AddressType(IntEnum):
    """PCIe Address Type of a host-buffer transfer's memory requests (PCIe ATS; DMA_CTRL.AT)."""

    UNTRANSLATED = 0          # the IOMMU translates it
    TRANSLATION_REQUEST = 1   # a read whose completion data are translation entries (firmware/nvme/ats.py)
    TRANSLATED = 2            # already translated: the IOMMU lets it through to that address


@dataclass(frozen=True)
class DmaResult:
    """One entry of the result FIFO: the slot, the generic status the walk or transfer ended with, and
    whether the hardware posted the command's completion itself (auto-completion, only on success)."""

    slot: int
    code: GenericStatus = GenericStatus.SUCCESS
    auto_completed: bool = False

    @property
    def ok(self) -> bool:
        return self.code == GenericStatus.SUCCESS

    @property
    def status(self) -> Status:
        return Status.of(self.code, dnr=not self.ok)


class DmaPort(Protocol):
    async def transfer(self, slot: CommandSlot, direction: DmaDirection, offset: int, length: int, dram_addr: int,
                       cmd_len: int, auto_complete: bool = False, host_addr: int | None = None,
                       address_type: AddressType = AddressType.UNTRANSLATED) -> DmaResult:
        """Move bytes ``[offset, offset + length)`` of the slot's command data (``cmd_len`` in all, which
        decides what PRP2 is) between host memory and DRAM at ``dram_addr``; returns when it is done.

        With ``host_addr``, the bytes are those of the contiguous host buffer there, ``cmd_len`` long,
        instead of the command's data: a list the command's dwords point at (an open-channel LBA list).
        ``address_type`` (a host buffer's only) says how the IOMMU is to take its address.
        """
        ...

    def reset(self) -> None:
        """Controller reset: transfers still waiting end, as the engine drops them."""
        ...


class DeviceDram(Protocol):
    async def read(self, addr: int, length: int) -> bytes: ...

    async def write(self, addr: int, data: bytes) -> None: ...
