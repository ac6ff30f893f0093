"""tb/results.py: logs split per test, progress lines, and the JUnit the regression reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tb import results
from tb.results import RESULTS_PROPERTY, ProgressTail, RunInfo, Outcome

LOG = """\
     0.00ns INFO     cocotb.regression                  running regs.First (1/2)
                                                            The first test.
    10.00ns INFO     banner of the first test
  1510.50ns INFO     cocotb.regression                  regs.First passed
  1510.50ns INFO     cocotb.regression                  running regs.Second (2/2)
  3510.50ns INFO     cocotb.regression                  regs.Second failed
"""

COCOTB_XML = """<testsuites><testsuite name="regs">
<testcase classname="regs" name="First" time="0.5"><properties>
<property name="random_seed" value="7" /></properties></testcase>
<testcase classname="regs" name="Second" time="0.5">
<failure message="assert 0x1 == 0x2&#10;more" type="AssertionError" /><properties>
<property name="random_seed" value="7" /></properties></testcase>
</testsuite></testsuites>"""


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(results, "ROOT", tmp_path)
    directory = tmp_path / "build" / "runs" / "regs@icarus"
    directory.mkdir(parents=True)
    (directory / results.SIM_LOG).write_text(LOG)
    (directory / "results.xml").write_text(COCOTB_XML)
    RunInfo("regs", 7, "icarus").write(directory)
    return directory


def test_progress_lines_follow_the_log(run_dir: Path) -> None:
    seen: list[Outcome] = []
    tail = ProgressTail(run_dir / results.SIM_LOG, seen.append)
    tail.start()
    tail.stop()
    assert [(o.test, o.status) for o in seen] == [("First", "PASS"), ("Second", "FAIL")]
    assert seen[0].sim_ns == pytest.approx(1510.5) and seen[1].sim_ns == pytest.approx(2000.0)
    assert "First" in seen[0].line() and "1,510 ns" in seen[0].line()


def test_log_split_per_test(run_dir: Path) -> None:
    (run_dir / "Stale.log").write_text("from an older run")
    written = results.split_log(run_dir)
    assert sorted(p.name for p in written) == ["First.log", "Second.log"]
    assert not (run_dir / "Stale.log").exists()
    first = (run_dir / "First.log").read_text()
    assert "banner of the first test" in first and "regs.First passed" in first and "Second" not in first


def test_failures_name_seed_log_and_rerun(run_dir: Path) -> None:
    (failure,) = results.module_failures(run_dir / "results.xml")
    assert failure.lines() == [
        "FAILED regs@icarus.Second (seed 7)",
        "  AssertionError: assert 0x1 == 0x2",
        "  log:   build/runs/regs@icarus/Second.log",
        "  rerun: make sim TEST=regs TESTCASE=Second SEED=7 SIM=icarus",
    ]


def test_rerun_of_a_parameter_build() -> None:
    info = RunInfo("bar_access", 3, parameters={"AXIS_PCIE_DATA_WIDTH": 128})
    assert info.rerun("T") == "make sim TEST=bar_access TESTCASE=T SEED=3 PARAMS=AXIS_PCIE_DATA_WIDTH=128 WAVES=1"


def _pytest_xml(path: Path, run_dir: Path, crashed: bool = False) -> Path:
    results_path = results.relative(run_dir / "results.xml")
    problem = '<failure message="crashed" />' if crashed else ""
    path.write_text(f"""<testsuites><testsuite name="pytest">
<testcase classname="tests.test_unit" name="test_model" time="0.1" />
<testcase classname="tests.test_simulations" name="test_module[regs]" time="1.0">{problem}<properties>
<property name="{RESULTS_PROPERTY}" value="{results_path}" /></properties></testcase>
</testsuite></testsuites>""")
    return path


def test_junit_expands_to_one_testcase_per_cocotb_test(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    results.expand_junit([_pytest_xml(tmp_path / "pytest.xml", run_dir)], out)
    root = ET.parse(out).getroot()
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == ["test_model", "First", "Second"]
    assert root.get("tests") == "3" and root.get("failures") == "1"


def test_a_crashed_module_stays_failed(run_dir: Path, tmp_path: Path) -> None:
    (run_dir / "results.xml").write_text(COCOTB_XML.replace('<failure message="assert 0x1 == 0x2&#10;more" '
                                                            'type="AssertionError" />', ""))
    out = tmp_path / "junit.xml"
    results.expand_junit([_pytest_xml(tmp_path / "pytest.xml", run_dir, crashed=True)], out)
    failed = results.failures(results.junit_testcases([out]))
    assert [f.name for f in failed] == ["tests.test_simulations.test_module[regs]"]


def test_shards_merge(run_dir: Path, tmp_path: Path) -> None:
    shards = []
    for k in range(2):
        shards.append(tmp_path / f"shard{k}.xml")
        results.expand_junit([_pytest_xml(tmp_path / f"pytest{k}.xml", run_dir)], shards[-1])
    merged = tmp_path / "merged.xml"
    results.merge_junit(shards, merged)
    root = ET.parse(merged).getroot()
    assert root.get("tests") == "6" and root.get("failures") == "2"


def test_interrupted_run_shows_the_stopped_test_only(tmp_path: Path) -> None:
    log = tmp_path / results.SIM_LOG
    log.write_text(LOG.replace("  3510.50ns INFO     cocotb.regression                  regs.Second failed\n",
                               "KeyboardInterrupt\n"
                               "  3510.50ns WARNING  cocotb.regression                  regs.Second failed\n"
                               "  3510.50ns WARNING  cocotb.regression                  regs.Third failed\n"))
    seen: list[Outcome] = []
    tail = ProgressTail(log, seen.append)
    tail.start()
    tail.stop()
    assert [(o.test, o.status) for o in seen] == [("First", "PASS"), ("Second", "INT")]
