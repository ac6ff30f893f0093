"""The one place that reaches into cocotb's and pytest's internals for the simulation's messages
(versions checked at import; imported by tb/base_test.py, so every test module has it).

- Assertions in tests compare register values, addresses and statuses; pytest's rewriting (which
  cocotb installs) prints ints in decimal. ``_hex_compare`` shows both sides of an int comparison in
  hex, as the registers and the specification write them.
- cocotb logs a test that failed as expected (``expect_fail=True``, our scoreboard self-tests) with
  the expected exception's full traceback, which reads like a failure. ``_ExpectedFailureQuiet``
  keeps the one-line verdict ("failed as expected (result was AssertionError)") and drops the
  traceback; a real failure keeps its traceback.
"""

from __future__ import annotations

import logging
from importlib.metadata import version

from _pytest.assertion import util

PINNED = {"cocotb": "2.1.0", "pytest": "9.2.0"}
for _package, _pinned in PINNED.items():
    if version(_package) != _pinned:
        raise ImportError(f"tb/cocotb_overrides.py was written against {_package} {_pinned}, not "
                          f"{version(_package)}: check _pytest.assertion.util._reprcompare and "
                          "cocotb.regression's 'failed as expected' log record")

# below this, decimal and hex read the same
_HEX_FROM = 10


def _hex_compare(op: str, left: object, right: object) -> str | None:
    """pytest's comparison explanation hook: ints in hex (None: pytest's own explanation)."""
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right))
    if not ints or max(abs(left), abs(right)) < _HEX_FROM:  # type: ignore[arg-type]
        return None
    # the rewritten assert %-formats the explanation, as for pytest's own hook
    return f"{left:#x} {op} {right:#x}"


class _ExpectedFailureQuiet(logging.Filter):
    """Drops the traceback from cocotb's 'failed as expected' record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and "failed as expected" in record.getMessage():
            record.exc_info = None
            record.exc_text = None
        return True


def install() -> None:
    """Idempotent: every test module imports tb.base_test, which calls this."""
    util._reprcompare = _hex_compare
    regression_log = logging.getLogger("cocotb.regression")
    if not any(isinstance(f, _ExpectedFailureQuiet) for f in regression_log.filters):
        regression_log.addFilter(_ExpectedFailureQuiet())
