"""Regression progress: one line per cocotb test as each simulation module ends.

pytest sees a module run as one test; the per-test lines (module, test,
result, simulated and wall time) travel in the report's user properties,
which pytest-xdist forwards from its workers, and are printed here on the
controller, where the terminal is. Simulation-level tests print these lines
instead of a progress dot; the unit tests (tests/unit) keep their dots.
"""

from __future__ import annotations

import pytest

from tests.test_simulations import OUTCOMES_PROPERTY


_STATUS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


def _is_unit(report: pytest.TestReport) -> bool:
    return report.nodeid.startswith("tests/unit/")


class CocotbProgress:
    """Writes each finished simulation-level test to the terminal: its cocotb tests' lines, or itself."""

    def __init__(self, reporter: pytest.TerminalReporter) -> None:
        self.reporter = reporter

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" or _is_unit(report):
            return
        lines = [str(value) for name, value in report.user_properties if name == OUTCOMES_PROPERTY and value]
        for line in lines or [f"  {report.nodeid:<67} {_STATUS[report.outcome]:<4} {report.duration:>25.1f} s"]:
            self.reporter.write_line(line)

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        """No dot for a simulation-level test: its lines above say it."""
        if report.when == "call" and not _is_unit(report):
            return report.outcome, "", report.outcome.upper()
        return None


@pytest.hookimpl(trylast=True)  # after the terminal reporter has registered itself
def pytest_configure(config: pytest.Config) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        config.pluginmanager.register(CocotbProgress(reporter), "cocotb-progress")
