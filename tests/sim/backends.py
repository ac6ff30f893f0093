"""Every back-end kind under the firmware in simulation: nvm, conv (the FTL), zns and ocssd.

Sequential writes from the start of the last namespace (4 KiB LBAs: namespace 2, or on zns its one zoned
namespace, on ocssd its one open-channel namespace, whose zones and chunks take them in order, 8 blocks
at a time: on ocssd a page on both planes, its write unit), each read back and compared; a read of
never-written LBAs returns zeroes (DLFEAT). The reference model's data
scoreboard checks every read as well. The flash kinds run on the OX
preset, geometry and NAND timings both (tR 50 us, tPROG 500 us, tBERS
3 ms): completions wait on the NAND in simulated time, which costs little
wall time while the controller waits with its clock stopped.
"""

from __future__ import annotations

import random
import struct

import pyuvm

from models.nvme_commands import read_cmd, write_cmd
from models.nvme_spec import AdminOpcode, SubmissionEntry
from tb.base_test import PAGE, CommandSetTest

TIMEOUT_MS = 200
COMMAND_TIMEOUT_NS = 20_000_000
TRANSFERS = 4
PAGES = 8


class BackendRoundTrip(CommandSetTest):
    async def body(self) -> None:
        rng = random.Random(self.backend_kind)
        await self.admin.set_num_queues(1, 1)
        queue = await self.admin.create_queue_pair(1, 16)
        mem = self.tb.rc.mem_address_space
        nsid = self.config.namespaces[-1].nsid
        for i in range(TRANSFERS):
            slba = i * PAGES
            data = rng.randbytes(PAGES * PAGE)
            wbuf, wp1, wp2 = await self.prp_buffer(PAGES)
            rbuf, rp1, rp2 = await self.prp_buffer(PAGES)
            await mem.write(wbuf, data)
            for sqe in (write_cmd(nsid, slba, PAGES, wp1, wp2), read_cmd(nsid, slba, PAGES, rp1, rp2)):
                (cid,) = await queue.submit_many([sqe])
                (cqe,) = await queue.wait_for([cid], COMMAND_TIMEOUT_NS)
                assert cqe.status.is_success, f"{self.backend_kind}: {sqe.opcode:#x} at LBA {slba}: {cqe.status}"
            assert bytes(await mem.read(rbuf, PAGES * PAGE)) == data, f"{self.backend_kind}: LBA {slba} differs"
        # never written: zeroes
        zbuf, zp1, zp2 = await self.prp_buffer(1)
        (cid,) = await queue.submit_many([read_cmd(nsid, 1000, 1, zp1, zp2)])
        (cqe,) = await queue.wait_for([cid], COMMAND_TIMEOUT_NS)
        assert cqe.status.is_success and not any(await mem.read(zbuf, PAGE)), f"{self.backend_kind}: not zeroes"
        writes = self.backend.smart()["host_write_pages"]
        assert writes >= TRANSFERS * PAGES, f"{self.backend_kind}: back end saw {writes} page writes"
        assert not self.firmware.internal_errors, self.firmware.internal_errors
        await self.admin.delete_queue_pair(queue)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class NvmBackend(BackendRoundTrip):
    backend_kind = "nvm"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ConvFtlBackend(BackendRoundTrip):
    backend_kind = "conv"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class ZnsBackend(BackendRoundTrip):
    backend_kind = "zns"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class OpenChannelBackend(BackendRoundTrip):
    """Also: the host reads the OCSSD 2.0 geometry (admin E2h) and finds the device's layout."""

    backend_kind = "ocssd"

    async def body(self) -> None:
        buf, prp1, prp2 = await self.prp_buffer(1)
        await self.admin.execute(SubmissionEntry(AdminOpcode.OCSSD_GEOMETRY, prp1=prp1, prp2=prp2))
        page = bytes(await self.tb.rc.mem_address_space.read(buf, PAGE))
        report = self.backend.geometry_report()
        assert page[0] == 2, f"OCSSD major version {page[0]}"
        assert struct.unpack_from("<HHII", page, 64) == (report["num_grp"], report["num_pu"], report["num_chk"],
                                                          report["clba"]), "geometry differs from the device's"
        await super().body()
