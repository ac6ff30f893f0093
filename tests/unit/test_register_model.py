"""RegisterModel: the generated pyuvm register model plus the NVMe rules the access types cannot say."""

from __future__ import annotations

from contract import nvme_bar0 as bar0
from contract.params import DesignParams
from models.nvme_regs import (NVME_CC_ENABLE, NVME_CC_MPS_SHIFT, NVME_REG_AQA, NVME_REG_ASQ, NVME_REG_CAP,
                              NVME_REG_CC, NVME_REG_CSTS, NVME_REG_DBS, NVME_REG_INTMC, NVME_REG_INTMS,
                              NVME_REG_VS, Cap, ControllerParams, RegisterModel)


def test_reset_values_follow_the_build_parameters() -> None:
    model = RegisterModel(ControllerParams(DesignParams(MQES=255, DSTRD=1)))
    lo, _ = model.read_dword(NVME_REG_CAP)
    hi, _ = model.read_dword(NVME_REG_CAP + 4)
    cap = Cap.decode(hi << 32 | lo)
    assert (cap.mqes, cap.dstrd, cap.cqr, cap.css, cap.mpsmax) == (255, 1, True, 0x41, 2)
    assert model.read_dword(NVME_REG_VS) == (0x0001_0400, 0xFFFF_FFFF)


def test_only_enabled_bytes_change() -> None:
    model = RegisterModel()
    model.write_dword(NVME_REG_AQA, 0x0FFF_0FFF)
    model.write_dword(NVME_REG_AQA, 0x0000_0011, byte_enable=0b0001)   # ASQS[7:0] only
    assert model.read_dword(NVME_REG_AQA)[0] == 0x0FFF_0F11
    model.write(NVME_REG_ASQ, (0x1234_5678_9ABC_DFFF).to_bytes(8, "little"))
    assert model.read(NVME_REG_ASQ, 8)[0] == (0x1234_5678_9ABC_D000).to_bytes(8, "little")  # [11:0] reserved


def test_interrupt_mask_set_and_clear_share_one_mask() -> None:
    model = RegisterModel()
    model.write_dword(NVME_REG_INTMS, 0x0000_00F0)
    model.write_dword(NVME_REG_INTMC, 0x0000_0030)
    assert model.read_dword(NVME_REG_INTMS)[0] == model.read_dword(NVME_REG_INTMC)[0] == 0xC0


def test_cc_fields_fixed_while_enabled_and_controller_reset() -> None:
    model = RegisterModel()
    model.write_dword(NVME_REG_INTMS, 1)
    model.write_dword(NVME_REG_AQA, 0x001F_001F)
    model.write_dword(NVME_REG_CC, NVME_CC_ENABLE)
    model.write_dword(NVME_REG_CC, NVME_CC_ENABLE | 2 << NVME_CC_MPS_SHIFT)
    assert bar0.CC.MPS.get(model.read_dword(NVME_REG_CC)[0]) == 0, "MPS changed while enabled"
    model.write_dword(NVME_REG_CC, 0)
    assert model.read_dword(NVME_REG_INTMS)[0] == 0, "a controller reset clears the interrupt mask"
    assert model.read_dword(NVME_REG_AQA)[0] == 0x001F_001F, "a controller reset keeps AQA"


def test_csts_timing_bits_and_doorbells_are_not_predicted() -> None:
    model = RegisterModel()
    assert model.read_dword(NVME_REG_CSTS)[1] == 0xFFFF_FFF0      # RDY, CFS, SHST follow timing
    model.write_dword(NVME_REG_DBS, 5)
    assert model.read_dword(NVME_REG_DBS) == (0, 0xFFFF_FFFF)     # write-only: reads 0
