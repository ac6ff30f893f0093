"""Controllers per PCIe function sharing the engines: IOPS per function, for bench/function_bench.py.

On the four-function build, 1, 2 and then 4 controllers run 4 KiB reads at
queue depth 16 on one queue each (a new read as each completes), through
the full firmware and the nvm back end, for a fixed window of simulated
time; each busy controller's completions in the window give its IOPS. The arbiter serves the functions'
SQs round robin, so under equal load the shares should be equal (Jain's
index, in the bench script).
"""

from __future__ import annotations

from collections import deque

import pyuvm
from cocotb import start_soon
from cocotb.simtime import get_sim_time

from models.nvme_commands import read_cmd
from tb.controllers import Controller, ControllersTest

from bench_figures import record

BUILD_PARAMETERS = {"FUNCTIONS": 4, "IO_QUEUES": 15}
WINDOW_NS = 200_000
DEPTH = 32
BATCH = 16         # reads in flight per controller
LBAS = 8           # 4 KiB at 512-byte LBAs
NSID = 1


@pyuvm.test(timeout_time=100, timeout_unit="ms")
class FunctionRates(ControllersTest):
    async def body(self) -> None:
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}
        buffers = {ctrl.function: [await self.buffer(ctrl, 1) for _ in range(BATCH)] for ctrl in self.ctrls}
        figures = {}
        for busy in (1, 2, len(self.ctrls)):
            end = get_sim_time("ns") + WINDOW_NS
            tasks = [start_soon(self.reads_until(ctrl, queues[ctrl.function], buffers[ctrl.function], end))
                     for ctrl in self.ctrls[:busy]]
            completed = [await task for task in tasks]
            figures[str(busy)] = [count * 1e9 / WINDOW_NS for count in completed]
        record("function_rates", "iops", figures)

    async def reads_until(self, ctrl: Controller, queue, buffers: list, end_ns: float) -> int:
        """BATCH reads in flight until ``end_ns`` (a new one as each completes); the reads completed by then."""
        base = ctrl.function << 16

        def read(n: int):
            # read n uses buffer n % BATCH, free again once read n - BATCH completed
            return read_cmd(NSID, base + n % 1024 * LBAS, LBAS, *buffers[n % BATCH].prps(LBAS * 512))

        in_flight = deque(await queue.submit_many([read(n) for n in range(BATCH)]))
        issued, done = BATCH, 0
        while in_flight:
            (cqe,) = await queue.wait_for([in_flight.popleft()])
            assert cqe.status.is_success, f"function {ctrl.function}: {cqe}"
            if get_sim_time("ns") <= end_ns:
                done += 1
                in_flight.extend(await queue.submit_many([read(issued)]))
                issued += 1
        return done
