"""The DMA register encodings of firmware/dma.py against docs/dma_engine.md's map."""

from __future__ import annotations

from firmware.dma import decode_result, dma_ctrl_value
from firmware.mailbox import CommandSlot, cpl_post_value
from firmware.nvme.ports import DmaDirection
from models.nvme_spec import GenericStatus, Status


def test_ctrl_fields() -> None:
    # [7:0] slot, [8] direction (1: device to host), [9] auto-complete, [23:16] cookie, [31:24] epoch
    assert dma_ctrl_value(CommandSlot(0x2A, 0x81), DmaDirection.DEVICE_TO_HOST, True, 0xC3) == 0x81C3_032A
    assert dma_ctrl_value(CommandSlot(5), DmaDirection.HOST_TO_DEVICE, False, 0) == 5


def test_completion_post_fields() -> None:
    # [31:17] CQE status field, [15:8] epoch, [7:0] slot
    status = Status.of(GenericStatus.INVALID_FIELD, dnr=True)
    assert cpl_post_value(CommandSlot(0x3F, 0xA5), status) == status.encode() << 17 | 0xA53F


def test_result_fields() -> None:
    # [31] valid, [30] auto-completed, [23:16] cookie, [15:8] status, [7:0] slot
    cookie, result = decode_result(1 << 31 | 1 << 30 | 0x7E << 16 | 0x13 << 8 | 0x3F)
    assert cookie == 0x7E
    assert (result.slot, result.code, result.auto_completed) == (0x3F, GenericStatus.PRP_OFFSET_INVALID, True)
    assert not result.ok and result.status.dnr


def test_success_result() -> None:
    cookie, result = decode_result(1 << 31 | 9 << 16 | 4)
    assert (cookie, result.slot, result.ok, result.auto_completed) == (9, 4, True, False)
