"""The hardware/software contract is written once: contract/*.rdl and contract/params.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contract import fw_mailbox as fw
from contract.params import DesignParams
from contract.regfield import Field
from tools import regmap

ROOT = Path(__file__).resolve().parents[2]


def test_generated_files_match_their_sources() -> None:
    drifted = [str(path.relative_to(ROOT)) for path, _ in regmap.drift()]
    assert not drifted, f"edited by hand or not regenerated (run `make regs`): {drifted}"


def test_top_level_parameter_defaults_come_from_contract_params() -> None:
    header = (ROOT / "rtl" / "nvme_ctrl.v").read_text().split(")\n(", 1)[0]
    for name in DesignParams().verilog():
        assert re.search(rf"parameter (\[[^\]]*\] )?{name} = `NVME_CTRL_{name},?\n", header), (
            f"nvme_ctrl.v: {name}'s default is not contract/params.py's")


@pytest.mark.parametrize("source", ["rtl/nvme_fw_mailbox.v", "rtl/nvme_ctrl_regs.v", "rtl/nvme_msix.v"])
def test_register_decoders_hold_no_offsets_of_their_own(source: str) -> None:
    code = re.sub(r"//.*|/\*.*?\*/", "", (ROOT / source).read_text(), flags=re.S)
    literals = re.findall(r"\b1[46]'h[0-9A-Fa-f_]+", code)
    assert not literals, f"{source}: address literals {literals}; offsets belong in the .rdl"


def test_python_fields_encode_and_check_their_width() -> None:
    assert fw.CPL_POST.encode(STATUS=0x2, EPOCH=3, SLOT=5) == 0x2 << 17 | 3 << 8 | 5
    assert fw.CMD_INFO.decode(1 << 31 | 2 << 24 | 4 << 16 | 7) == {"SLOT": 7, "EPOCH": 0, "SQID": 4, "FUNCTION": 2,
                                                                   "VALID": 1}
    with pytest.raises(ValueError):
        Field(8, 8).put(256)
    with pytest.raises(KeyError):
        fw.CPL_POST.encode(PHASE=1)
