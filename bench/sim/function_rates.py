"""Controllers per PCIe function sharing the engines: IOPS per function, for bench/function_bench.py.

On the four-function build, 1, 2 and then 4 controllers run 4 KiB reads at
queue depth 16 on one queue each (a new read as each completes), through
the full firmware and the nvm back end, for a fixed window of simulated
time; each busy controller's completions in the window give its IOPS.
Then function 0 keeps four SQs busy against function 1's one, every SQ
with 63 reads outstanding: without slot quotas the shares show that the
arbiter serves SQs, not functions; with the slots shared by weight
(FN_SLOT_QUOTA) they follow the weights. The arbiter serves the functions'
SQs round robin, so under equal load the shares should be equal (Jain's
index, in the bench script).
"""

from __future__ import annotations

import pyuvm
from cocotb import start_soon
from cocotb.simtime import get_sim_time

from tb.controllers import ControllersTest

from bench_figures import record

BUILD_PARAMETERS = {"FUNCTIONS": 4, "IO_QUEUES": 15, "QUEUE_POOL": 32}
WINDOW_NS = 200_000
DEPTH = 64
BATCH = 16         # reads in flight per controller
UNEQUAL_SQS = 4    # function 0's busy SQs against function 1's one


@pyuvm.test(timeout_time=100, timeout_unit="ms")
class FunctionRates(ControllersTest):
    async def body(self) -> None:
        queues = {ctrl.function: (await self.queue_pairs(ctrl, 1, DEPTH))[0] for ctrl in self.ctrls}
        record("function_rates", "iops", await self.equal_load(queues))
        record("function_rates", "unequal", await self.unequal_load(queues[1]))

    async def equal_load(self, queues: dict) -> dict[str, list[float]]:
        """IOPS per function with 1, 2 and all functions busy, BATCH reads outstanding each."""
        buffers = {ctrl.function: [await self.buffer(ctrl, 1) for _ in range(BATCH)] for ctrl in self.ctrls}
        figures = {}
        for n_busy in (1, 2, len(self.ctrls)):
            end = get_sim_time("ns") + WINDOW_NS
            tasks = [start_soon(self.reads_until(ctrl, queues[ctrl.function], buffers[ctrl.function], end))
                     for ctrl in self.ctrls[:n_busy]]
            completed = [await task for task in tasks]
            figures[str(n_busy)] = [count * 1e9 / WINDOW_NS for count in completed]
        return figures

    async def unequal_load(self, single_queue) -> dict[str, list[float]]:
        """IOPS of function 0 with UNEQUAL_SQS more SQs and of function 1 with its one, DEPTH - 1 reads
        outstanding on each: without slot quotas, then with the slots shared 1:1 and 1:3."""
        busy, single = self.ctrls[0], self.ctrls[1]
        more = await self.queue_pairs(busy, UNEQUAL_SQS, DEPTH, first=2)
        pairs = [(busy, q) for q in more] + [(single, single_queue)]
        buffers = {id(q): [await self.buffer(ctrl, 1) for _ in range(DEPTH - 1)] for ctrl, q in pairs}
        figures = {}
        for label, weights in (("no quota", None), ("weights 1:1", [1, 1, 0, 0]), ("weights 1:3", [1, 3, 0, 0])):
            if weights is not None:
                await self.firmware.share_slots(weights)
            end = get_sim_time("ns") + WINDOW_NS
            tasks = [(ctrl.function, start_soon(self.reads_until(ctrl, q, buffers[id(q)], end))) for ctrl, q in pairs]
            done = [0, 0]
            for fn, task in tasks:
                done[fn] += await task
            figures[label] = [count * 1e9 / WINDOW_NS for count in done]
        return {"outstanding per SQ": DEPTH - 1, "iops": figures}
