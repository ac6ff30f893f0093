"""Controllers per PCIe function sharing the engines: IOPS per function, for bench/function_bench.py.

On the four-function build, 1, 2 and then 4 controllers run 4 KiB reads at
queue depth 16 on one queue each (a new read as each completes), through
the full firmware and the nvm back end, for a fixed window of simulated
time; each busy controller's completions in the window give its IOPS.
Then function 0 keeps four SQs busy against function 1's one, every SQ
with 31 reads outstanding: the shares show that the arbiter serves SQs,
not functions. The arbiter serves the functions'
SQs round robin, so under equal load the shares should be equal (Jain's
index, in the bench script).
"""

from __future__ import annotations

import pyuvm
from cocotb import start_soon
from cocotb.simtime import get_sim_time

from tb.controllers import ControllersTest

from bench_figures import record

BUILD_PARAMETERS = {"FUNCTIONS": 4, "IO_QUEUES": 15}
WINDOW_NS = 200_000
DEPTH = 32
BATCH = 16         # reads in flight per controller
UNEQUAL_SQS = 4    # function 0's busy SQs against function 1's one


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
        record("function_rates", "unequal", await self.unequal(queues[1]))

    async def unequal(self, single_queue) -> list[float]:
        """IOPS of function 0 with UNEQUAL_SQS busy SQs and of function 1 with one, each SQ at depth
        DEPTH - 1: far more commands outstanding than command slots."""
        busy, single = self.ctrls[0], self.ctrls[1]
        more = await self.queue_pairs(busy, UNEQUAL_SQS, DEPTH, first=2)
        end = get_sim_time("ns") + WINDOW_NS
        tasks = []
        for ctrl, queue in [(busy, q) for q in more] + [(single, single_queue)]:
            buffers = [await self.buffer(ctrl, 1) for _ in range(DEPTH - 1)]
            tasks.append((ctrl.function, start_soon(self.reads_until(ctrl, queue, buffers, end))))
        done = [0, 0]
        for fn, task in tasks:
            done[fn] += await task
        return [count * 1e9 / WINDOW_NS for count in done]
