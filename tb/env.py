"""pyuvm environment: register monitor and scoreboard, TLP-rule scoreboard, and the env.

The register monitor turns RegisterBfm accesses into transactions on an
analysis port; the register scoreboard replays writes into the register
reference model and checks every read against its prediction. ``NvmeEnv``
builds these for every test and, for tests that run commands, connects the
queue monitor to the NVMe reference, the completion, data and interrupt
scoreboards (tb.reference, tb.scoreboards) and the coverage collector.

Each PCIe function is a controller and gets its own set, function f's
components named with the suffix ``_fn<f>`` (function 0's with none); a
ConfigDB entry set for ``*_fn<f>`` (its ControllerConfig, its expected
statuses) reaches function f's alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyuvm import ConfigDB, uvm_analysis_port, uvm_component, uvm_env, uvm_subscriber

from models.nvme_regs import RegisterModel
from tb.nvme_driver import RegAccess, RegisterBfm
from tb.coverage import QueueCoverage
from tb.reference import DataScoreboard, NvmeReference
from tb.scoreboards import CompletionScoreboard, InterruptScoreboard, QueueMonitor


class RegMonitor(uvm_component):
    """Publishes every completed access to one function's BAR0."""

    def __init__(self, name: str, parent: uvm_component, function: int = 0) -> None:
        super().__init__(name, parent)
        self.function = function

    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)
        bfm: RegisterBfm = ConfigDB().get(self, "", "REG_BFMS")[self.function]
        bfm.observers.append(self.ap.write)


class RegScoreboard(uvm_subscriber):
    """Checks each register read against RegisterModel; fails on any mismatch.

    Tests that write CC.EN 1->0 rely on the model's controller reset. A
    scoreboard that saw no read has checked nothing and fails too. One
    scoreboard per function, each with its own model.
    """

    def __init__(self, name: str, parent: uvm_component, function: int = 0) -> None:
        super().__init__(name, parent)
        self.function = function

    def build_phase(self) -> None:
        self.model: RegisterModel = ConfigDB().get(self, "", "REG_MODELS")[self.function]
        self.reads_checked = 0
        self.mismatches: list[str] = []

    def write(self, access: RegAccess) -> None:
        if access.is_write:
            self.model.write(access.offset, access.data)
            return
        expected, mask = self.model.read(access.offset, len(access.data))
        got = bytes(b & m for b, m in zip(access.data, mask))
        want = bytes(b & m for b, m in zip(expected, mask))
        self.reads_checked += 1
        if got != want:
            got_value, want_value, mask_value = (int.from_bytes(b, "little") for b in (access.data, expected, mask))
            digits = 2 * len(access.data)
            self.mismatches.append(
                f"{self.model.describe(access.offset, got_value & mask_value, want_value & mask_value, len(access.data))}"
                f" at {access.time_ns} ns: read 0x{got_value:0{digits}x}, expected 0x{want_value:0{digits}x}"
                f" (checked bits 0x{mask_value:0{digits}x})")
            # a warning: check_phase's assertion is what fails the test (and a scoreboard self-test
            # that expects the mismatch must not print an error)
            self.logger.warning(self.mismatches[-1])

    def check_phase(self) -> None:
        assert self.reads_checked > 0, f"register scoreboard of function {self.function} saw no reads"
        assert not self.mismatches, (f"function {self.function}: {len(self.mismatches)} register mismatches, "
                                     f"first: {self.mismatches[0]}")
        self.logger.info("register scoreboard: %d reads checked, all match", self.reads_checked)


class TlpRuleScoreboard(uvm_component):
    """Fails the test on any TLP rule violation the checker recorded on RQ."""

    def build_phase(self) -> None:
        self.rules = ConfigDB().get(self, "", "TLP_RULES")
        self.expect_traffic = ConfigDB().get(self, "", "QUEUES")

    def check_phase(self) -> None:
        assert not self.rules.violations, (
            f"{len(self.rules.violations)} TLP rule violations, first: {self.rules.violations[0]}")
        if self.expect_traffic:
            assert self.rules.requests > 0, "TLP-rule checker saw no request on RQ"
        self.logger.info("TLP rules: %d requests, %d completions checked",
                         self.rules.requests, self.rules.completions)


def function_suffix(function: int) -> str:
    """The suffix of a function's component names: none for function 0, which keeps the single-controller
    names."""
    return f"_fn{function}" if function else ""


@dataclass
class ControllerChecks:
    """One controller's queue monitor, NVMe reference, completion, data and interrupt scoreboards and
    coverage."""

    queue_monitor: QueueMonitor
    reference: NvmeReference
    completion_scoreboard: CompletionScoreboard
    data_scoreboard: DataScoreboard
    interrupt_scoreboard: InterruptScoreboard
    coverage: QueueCoverage

    @classmethod
    def build(cls, env: uvm_env, function: int) -> ControllerChecks:
        s = function_suffix(function)
        checks = cls(QueueMonitor(f"queue_monitor{s}", env), NvmeReference(f"reference{s}", env),
                     CompletionScoreboard(f"completion_scoreboard{s}", env), DataScoreboard(f"data_scoreboard{s}", env),
                     InterruptScoreboard(f"interrupt_scoreboard{s}", env, function),
                     QueueCoverage(f"coverage{s}", env, function))
        ConfigDB().set(env, f"*{s}", "REFERENCE", checks.reference)
        return checks

    def connect(self) -> None:
        # the reference sees each SQE before the scoreboard can see its CQE
        for subscriber in (self.reference, self.completion_scoreboard, self.data_scoreboard,
                           self.interrupt_scoreboard, self.coverage):
            self.queue_monitor.ap.connect(subscriber.analysis_export)


class NvmeEnv(uvm_env):
    """The environment every simulation test builds.

    The register monitor and scoreboard (one pair per function) and the
    TLP-rule check are always there. Tests that run commands (ConfigDB "QUEUES" true) add, for each
    function they run as a controller (ConfigDB "CONTROLLERS", from function 0), the queue monitor with the
    NVMe reference, the completion, data and interrupt scoreboards and coverage (``controllers``; function
    0's are also this env's attributes of the same names).
    """

    def build_phase(self) -> None:
        functions = len(ConfigDB().get(self, "", "REG_BFMS"))
        self.reg_monitors = [RegMonitor(f"reg_monitor{function_suffix(fn)}", self, fn) for fn in range(functions)]
        self.reg_scoreboards = [RegScoreboard(f"reg_scoreboard{function_suffix(fn)}", self, fn)
                                for fn in range(functions)]
        self.tlp_rules = TlpRuleScoreboard("tlp_rules", self)
        self.queues = ConfigDB().get(self, "", "QUEUES")
        self.controllers: list[ControllerChecks] = []
        if self.queues:
            self.controllers = [ControllerChecks.build(self, fn)
                                for fn in range(ConfigDB().get(self, "", "CONTROLLERS"))]
            first = self.controllers[0]
            self.queue_monitor = first.queue_monitor
            self.reference = first.reference
            self.completion_scoreboard = first.completion_scoreboard
            self.data_scoreboard = first.data_scoreboard
            self.interrupt_scoreboard = first.interrupt_scoreboard
            self.coverage = first.coverage

    def connect_phase(self) -> None:
        for monitor, scoreboard in zip(self.reg_monitors, self.reg_scoreboards):
            monitor.ap.connect(scoreboard.analysis_export)
        for checks in self.controllers:
            checks.connect()
