"""The host's half of shadow doorbells (Doorbell Buffer Config), as Linux's dbbuf support does it.

The host gives the controller two zeroed pages, one for shadow doorbells and
one for EventIdx, before it creates its I/O queues. Every doorbell update of
an I/O queue then writes the new value to its shadow entry, reads the
controller's EventIdx entry, and rings the MMIO doorbell only if the EventIdx
lies in [old, new): the controller asked to hear of that update. The admin
queue always rings MMIO. A controller reset forgets the pages; the host
clears them and configures them again once the controller is enabled.

``mmio_always``: the share of updates that ring MMIO whether or not the
EventIdx asks for it, as a host may (the value rung is the shadow's), to
mix both kinds of doorbell in one run.
"""

from __future__ import annotations

import random
import struct

from models.nvme_commands import doorbell_buffer_config_cmd
from models.nvme_spec import SubmissionEntry
from tb.pcie_tb import PcieTb

PAGE = 4096
VALUE_MASK = 0xFFFF


def need_event(event_idx: int, new: int, old: int) -> bool:
    """Whether an update from ``old`` to ``new`` passes ``event_idx`` (it lies in [old, new), modulo 2^16):
    then the controller wants the MMIO doorbell (Linux's nvme_dbbuf_need_event)."""
    return (new - event_idx - 1) & VALUE_MASK < (new - old) & VALUE_MASK


class ShadowDoorbellPages:
    """The shadow doorbell and EventIdx pages of function ``function``'s controller, in its memory (its domain
    under an IOMMU), and the counts a bench reports."""

    def __init__(self, tb: PcieTb, stride: int, mmio_always: float = 0.0, seed: int = 0, function: int = 0) -> None:
        self.tb = tb
        self.stride = stride
        self.mmio_always = mmio_always
        self.rng = random.Random(seed)
        # (host physical, bus address) of each page
        self.doorbells = tb.alloc_coherent(PAGE, function)
        self.event_idx = tb.alloc_coherent(PAGE, function)
        self.updates = 0      # doorbell updates written to the shadow page
        self.mmio = 0         # of those, the ones that rang the MMIO doorbell too

    def config_cmd(self) -> SubmissionEntry:
        return doorbell_buffer_config_cmd(self.doorbells[1], self.event_idx[1])

    async def clear(self) -> None:
        """Zero both pages, as the host does before (re)configuring them."""
        mem = self.tb.rc.mem_address_space
        for addr, _ in (self.doorbells, self.event_idx):
            await mem.write(addr, bytes(PAGE))

    async def update(self, index: int, old: int, new: int) -> bool:
        """Doorbell ``index`` (2 * qid, + 1 for a CQ head) goes from ``old`` to ``new``: write the shadow entry;
        True if the MMIO doorbell must be written too."""
        mem = self.tb.rc.mem_address_space
        offset = index * self.stride
        await mem.write(self.doorbells[0] + offset, struct.pack("<I", new))
        (event_idx,) = struct.unpack("<I", bytes(await mem.read(self.event_idx[0] + offset, 4)))
        ring = need_event(event_idx & VALUE_MASK, new, old) or self.rng.random() < self.mmio_always
        self.updates += 1
        self.mmio += ring
        return ring
