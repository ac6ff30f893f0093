"""Stopping the clock while the design is quiescent changes nothing the design does (tb/clock_gate.py).

The same scenario runs twice, with the clock gate and without it: idle
stretches between commands, interrupt coalescing that fires on its
aggregation time (TIME 2, 200 us) rather than on its threshold, and a read
whose completion the host never sends, which ends on the completion
timeout (about 53 us). Every memory request the design sends on RQ and
every MSI-X message, timed from the clock's first edge, must be the same in
both runs, to the picosecond; the gated run must actually have skipped
most of its idle time.
"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import Timer
from cocotb.utils import get_sim_time

from models.nvme_commands import read_cmd, write_cmd
from models.nvme_spec import FeatureId, GenericStatus, Status, coalescing_dword
from tb.base_test import PAGE, CommandSetTest
from tb.command_sequences import HostBuffer, run_all

TIMEOUT_MS = 10
IDLE_NS = 150_000
TRACES: dict[bool, list[tuple[str, int]]] = {}


class SkipScenario(CommandSetTest):
    async def body(self) -> None:
        gate = self.tb.clock_gate
        trace: list[tuple[str, int]] = []

        def at(kind: str):
            return lambda *_: trace.append((kind, int(get_sim_time("step")) - gate.origin))

        self.tb.rq_observers.append(lambda tlp, t: at(f"RQ {tlp.fmt_type.name} {tlp.address:#x}")())
        self.msix.observers.append(lambda vector, t: at(f"MSI-X {vector}")())
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        await Timer(IDLE_NS, "ns")
        await self.admin.set_features(FeatureId.INTERRUPT_COALESCING, coalescing_dword(thr=7, time_100us=2))
        buf = await HostBuffer.alloc(self.tb, 1)
        cqes = await run_all(queue, [read_cmd(2, lba, 1, *buf.prps(PAGE)) for lba in range(3)])
        assert all(c.status.is_success for c in cqes)
        await Timer(IDLE_NS + 300_000, "ns")   # the coalesced message comes on its time, in the idle stretch
        lost = await HostBuffer.alloc(self.tb, 1)
        self.tb.dev.inject_read_fault(lambda addr, a=lost.addr: a <= addr < a + PAGE, "drop")
        (cid,) = await queue.submit_many([write_cmd(2, 9, 1, *lost.prps(PAGE))])
        self.forced[(queue.qid, cid)] = Status.of(GenericStatus.DATA_TRANSFER_ERROR, dnr=True)
        (cqe,) = await queue.wait_for([cid])
        assert cqe.status.same_code(Status.of(GenericStatus.DATA_TRANSFER_ERROR)), cqe.status
        await Timer(IDLE_NS, "ns")
        TRACES[self.clock_gate] = trace
        self.logger.info("clock gate: %d stops, %.1f us of %.1f us skipped", gate.stops, gate.skipped_ns / 1000,
                         get_sim_time("ns") / 1000)
        self.check(gate, trace)

    def check(self, gate, trace: list[tuple[str, int]]) -> None:
        raise NotImplementedError


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ClockRunning(SkipScenario):
    clock_gate = False

    def check(self, gate, trace) -> None:
        assert gate.stops == 0, f"the clock stopped {gate.stops} times with the gate off"
        assert any(kind.startswith("MSI-X 1") for kind, _ in trace), "no coalesced message on the I/O vector"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ClockGated(SkipScenario):
    clock_gate = True

    def check(self, gate, trace) -> None:
        reference = TRACES.get(False)
        assert reference is not None, "the run with the clock running did not finish"
        for n, (ours, theirs) in enumerate(zip(trace, reference)):
            assert ours == theirs, f"event {n}: {ours} with the clock gated, {theirs} with it running"
        assert len(trace) == len(reference), f"{len(trace)} events gated, {len(reference)} running"
        assert gate.skipped_ns > 2 * IDLE_NS, f"only {gate.skipped_ns:.0f} ns skipped"
