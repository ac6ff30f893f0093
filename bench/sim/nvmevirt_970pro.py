"""The whole stack at NVMeVirt's SAMSUNG_970PRO settings, unscaled, for bench/nvmevirt_bench.py.

The conv FTL on the samsung_970pro preset (8 channels x 2 LUNs, 32 KiB
pages, tR 35.76 us, tPROG 185 us, 800 MB/s channels, 7 % over-provisioning,
the write buffer's firmware cost of 4 us + 0.46 us per 4 KiB page), and
NVMeVirt's firmware time for a 4 KiB read (FW_4KB_READ_LATENCY, 21.5 us) as
the SoC cost of each read. NVMeVirt adds that time to each read's
latency rather than queueing reads on one CPU, so the SoC has a core per
read in flight here. Data moves through the RTL DMA engine; the data
scoreboard checks every read.

Sequential 128 KiB writes fill a region, 8 in flight; the bandwidth is
taken after the first 2 MiB, once the 1 MiB write buffer is full and
programs pace the writes. A Flush empties the buffer, then 4 KiB reads at
random LBAs of the region: one at a time (latency from the doorbell to the
completion, p50 and p99), then 32 in flight (IOPS). The spec sheet's
QD32 x 4 threads (128 in flight) is left out: 128 host tasks cost about
eight minutes of wall time for 1,024 reads.
"""

from __future__ import annotations

import random

import cocotb
import pyuvm
from cocotb.utils import get_sim_time

from firmware.soc import SocConfig
from models.nvme_commands import flush_cmd, read_cmd, write_cmd
from tb.base_test import PAGE, CommandSetTest

from bench_figures import percentile, record

NSID = 2                      # 4 KiB LBAs
REGION_MIB = 8
WRITE_BLOCKS = 32             # 128 KiB
WRITE_DEPTH = 8
WARM_MIB = 2                  # writes before the bandwidth is taken
QD1_READS = 200
QD32_DEPTH = 32
QD32_READS = 1024
FW_4KB_READ_NS = 21_500       # NVMeVirt's FW_4KB_READ_LATENCY for SAMSUNG_970PRO


@pyuvm.test(timeout_time=5000, timeout_unit="ms")
class Samsung970Pro(CommandSetTest):
    backend_kind = "conv"
    backend_config = {"preset": "samsung_970pro", "op": 0.07}
    soc = SocConfig(clock_hz=1e9, cores=QD32_DEPTH, cycles={"read": FW_4KB_READ_NS, "default": 0})

    async def body(self) -> None:
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 64)
        rng = random.Random(970)
        blocks = REGION_MIB * (1 << 20) // PAGE

        wbuf, wp1, wp2 = await self.prp_buffer(WRITE_BLOCKS)
        await self.tb.rc.mem_address_space.write(wbuf, rng.randbytes(WRITE_BLOCKS * PAGE))
        writes = [write_cmd(NSID, slba, WRITE_BLOCKS, wp1, wp2) for slba in range(0, blocks, WRITE_BLOCKS)]
        warm = WARM_MIB * (1 << 20) // (WRITE_BLOCKS * PAGE)
        for i in range(0, warm, WRITE_DEPTH):
            await queue.wait_for(await queue.submit_many(writes[i:i + WRITE_DEPTH]))
        start = get_sim_time("ns")
        for i in range(warm, len(writes), WRITE_DEPTH):
            await queue.wait_for(await queue.submit_many(writes[i:i + WRITE_DEPTH]))
        write_ns = get_sim_time("ns") - start
        await queue.wait_for(await queue.submit_many([flush_cmd(NSID)]))

        buffers = [await self.prp_buffer(1) for _ in range(QD32_DEPTH)]
        latencies = []
        for _ in range(QD1_READS):
            _, prp1, prp2 = buffers[0]
            start = get_sim_time("ns")
            await queue.wait_for(await queue.submit_many([read_cmd(NSID, rng.randrange(blocks), 1, prp1, prp2)]))
            latencies.append((get_sim_time("ns") - start) / 1000)

        async def reader(buffer: tuple[int, int, int], count: int) -> None:
            _, prp1, prp2 = buffer
            for _ in range(count):
                await queue.wait_for(await queue.submit_many([read_cmd(NSID, rng.randrange(blocks), 1, prp1, prp2)]))

        start = get_sim_time("ns")
        readers = [cocotb.start_soon(reader(b, QD32_READS // QD32_DEPTH)) for b in buffers]
        for task in readers:
            await task
        qd32 = QD32_READS / ((get_sim_time("ns") - start) * 1e-9)
        self.assert_checked(reads=QD1_READS + QD32_READS)
        written = (len(writes) - warm) * WRITE_BLOCKS * PAGE
        record("nvmevirt_970pro", "measured", {
            "qd1_p50_us": percentile(latencies, 50), "qd1_p99_us": percentile(latencies, 99),
            "qd32_iops": qd32, "seq_write_mb_s": written / (write_ns * 1e-9) / 1e6,
            "reads": QD1_READS + QD32_READS, "written_mib": written / (1 << 20)})
