"""Regression progress: each simulation module's tests, one line each, as the module ends.

pytest sees a module run as one test; the per-test lines (module, test,
result, simulated and wall time) travel in the report's user properties,
which pytest-xdist forwards from its workers, and are printed here on the
controller, where the terminal is.
"""

from __future__ import annotations

import pytest

from tests.test_simulations import OUTCOMES_PROPERTY


class CocotbProgress:
    """Writes the per-test lines of each finished module run to the terminal."""

    def __init__(self, reporter: pytest.TerminalReporter) -> None:
        self.reporter = reporter

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == OUTCOMES_PROPERTY and value:
                self.reporter.ensure_newline()
                self.reporter.write_line(str(value))


def pytest_configure(config: pytest.Config) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        config.pluginmanager.register(CocotbProgress(reporter), "cocotb-progress")
