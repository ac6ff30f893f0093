"""The debug loop as a user meets it: what a failure, a broken RTL file and bad input print.

These run `make sim`'s entry point (tb/run.py) in-process on
tests/selftest/deliberate_failure.py, a module with one test that fails on
purpose, and on a copy of the RTL with a syntax error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tb import build as tb_build
from tb import run as tb_run
from tests.test_simulations import REGRESSION_SEED

SELFTEST_DIR = Path(__file__).resolve().parent / "selftest"


def test_failure_ends_with_name_seed_log_and_rerun(capsys: pytest.CaptureFixture[str]) -> None:
    status = tb_run.main(["--test", "deliberate_failure", "--seed", str(REGRESSION_SEED)], tests_dir=SELFTEST_DIR)
    out = capsys.readouterr().out
    assert status == 1
    last = out.strip().splitlines()[-4:]
    assert last[0] == f"FAILED deliberate_failure.VersionIsTwo (seed {REGRESSION_SEED})", out
    # the assertion in hex, as the registers are written
    assert "0x10400 == 0x20000" in last[1], last[1]
    assert last[2] == "  log:   build/runs/deliberate_failure/VersionIsTwo.log"
    assert last[3] == (f"  rerun: make sim TEST=deliberate_failure TESTCASE=VersionIsTwo "
                       f"SEED={REGRESSION_SEED} WAVES=1")
    # one progress line per test, and only the failing one listed as failed
    assert "VersionReadsBack" in out and out.count("FAILED") == 1
    log = tb_build.ROOT / "build" / "runs" / "deliberate_failure" / "VersionIsTwo.log"
    assert "VersionIsTwo failed" in log.read_text(), "the test's own log misses its verdict"
    assert "VersionIsTwo" not in (log.parent / "VersionReadsBack.log").read_text()


def test_rtl_syntax_error_without_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rtl = tmp_path / "rtl"
    shutil.copytree(tb_build.RTL_DIR, rtl)
    broken = rtl / "nvme_ctrl.v"
    broken.write_text(broken.read_text().replace("endmodule", "endmodul", 1))
    monkeypatch.setattr(tb_build, "RTL_DIR", rtl)
    monkeypatch.setattr(tb_build, "RTL_INCLUDE_DIR", rtl / "include")
    monkeypatch.setattr(tb_build, "BUILD_ROOT", tmp_path / "build")
    status = tb_run.main(["--test", "regs"])
    captured = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in captured.out + captured.err
    assert "%Error" in captured.err and "nvme_ctrl.v" in captured.err, captured.err
