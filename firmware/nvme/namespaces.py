"""The NVM subsystem's namespaces as the firmware keeps them: allocated, attached, and where each lives.

One table serves the whole NVM subsystem: every controller's firmware
shares it, and each registers how it is told of a change to a namespace
attached to it (``listen``, ``notify``).

Namespace Management allocates whole allocation units of the back end's
bytes as extents, runs of consecutive units taken lowest address first, so
a namespace created after a delete may span the holes the delete left; I/O
maps a namespace's bytes through its extents (``pieces``). The namespaces
configured at power-on are allocated first, in NSID order, so each is one
extent, attached to the subsystem's first controller, or to all of them
when shared. Attachment is kept per controller ID.

Decisions and bookkeeping only, no simulated time: the admin commands
(firmware.nvme.ns_admin) check the statuses, the loop trims what a delete
frees, IoCommands moves the data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from models.identify import ControllerConfig, NamespaceConfig

Extent = tuple[int, int]   # (first, count): allocation units, or (offset, length): back-end bytes
Changes = dict[int, tuple[int, ...]]   # CNTLID -> NSIDs whose attachment to it changed
Listener = Callable[[list[int]], Awaitable[None]]


@dataclass
class Allocated:
    ns: NamespaceConfig
    extents: list[Extent]                          # allocation units
    controllers: set[int] = field(default_factory=set)


class NamespaceTable:
    """Allocated namespaces, their extents and attachments, and the free allocation units."""

    def __init__(self, config: ControllerConfig) -> None:
        self.config = config
        self.unit = config.allocation_unit
        self._free: list[Extent] = [(0, config.nvm_capacity // self.unit)]
        self._allocated: dict[int, Allocated] = {}
        self._generations: Counter[int] = Counter()   # namespaces created so far, per NSID
        self._listeners: dict[int, Listener] = {}
        for ns in sorted(config.namespaces, key=lambda n: n.nsid):
            self._allocate(ns).controllers.update(config.controllers if ns.shared else config.controllers[:1])

    # the controllers

    def listen(self, cntlid: int, listener: Listener) -> None:
        """``listener(nsids)`` is how controller ``cntlid`` learns that these namespaces changed for it."""
        self._listeners[cntlid] = listener

    async def notify(self, changes: Changes) -> None:
        for cntlid, nsids in changes.items():
            if cntlid in self._listeners:
                await self._listeners[cntlid](list(nsids))

    # lookups

    def allocated(self, nsid: int) -> NamespaceConfig | None:
        entry = self._allocated.get(nsid)
        return entry.ns if entry else None

    def active(self, nsid: int, cntlid: int) -> NamespaceConfig | None:
        """The namespace if it is allocated and attached to controller ``cntlid``."""
        entry = self._allocated.get(nsid)
        return entry.ns if entry and cntlid in entry.controllers else None

    def allocated_ids(self) -> list[int]:
        return sorted(self._allocated)

    def active_ids(self, cntlid: int) -> list[int]:
        return sorted(n for n, e in self._allocated.items() if cntlid in e.controllers)

    def controllers(self, nsid: int) -> set[int]:
        entry = self._allocated.get(nsid)
        return set(entry.controllers) if entry else set()

    def free_units(self) -> int:
        return sum(count for _, count in self._free)

    def unallocated_bytes(self) -> int:
        return self.free_units() * self.unit

    def free_nsid(self) -> int | None:
        """The lowest NSID in 1..NN no namespace is allocated at."""
        return next((n for n in range(1, self.config.max_namespaces + 1) if n not in self._allocated), None)

    # changes

    def create(self, nlbas: int, lba_size: int, shared: bool = False) -> NamespaceConfig:
        """Allocate a new namespace at the lowest free NSID; the caller checked there is one, and room."""
        nsid = self.free_nsid()
        assert nsid is not None
        ns = NamespaceConfig(nsid, lba_size, nlbas, generation=self._generations[nsid], shared=shared)
        self._allocate(ns)
        return ns

    def _allocate(self, ns: NamespaceConfig) -> Allocated:
        need = self.config.units(ns.size)
        if need > self.free_units():
            raise ValueError(f"namespace {ns.nsid} needs {need} allocation units, {self.free_units()} are free")
        extents: list[Extent] = []
        while need:
            first, count = self._free.pop(0)
            take = min(count, need)
            extents.append((first, take))
            if take < count:
                self._free.insert(0, (first + take, count - take))
            need -= take
        self._generations[ns.nsid] = max(self._generations[ns.nsid], ns.generation + 1)
        self._allocated[ns.nsid] = entry = Allocated(ns, extents)
        return entry

    def delete(self, nsid: int) -> list[Extent]:
        """Free the namespace (detached from every controller); the back-end byte ranges it held."""
        entry = self._allocated.pop(nsid)
        self._free = _merged(self._free + entry.extents)
        return [(first * self.unit, count * self.unit) for first, count in entry.extents]

    def attach(self, nsid: int, cntlid: int) -> None:
        self._allocated[nsid].controllers.add(cntlid)

    def detach(self, nsid: int, cntlid: int) -> None:
        self._allocated[nsid].controllers.discard(cntlid)

    # where the bytes are

    def pieces(self, nsid: int, offset: int, length: int) -> list[Extent]:
        """Back-end byte ranges holding the namespace's bytes [offset, offset + length), in order.

        Adjacent extents come back as one range, so an I/O inside a namespace
        allocated in one run is one back-end access.
        """
        out: list[Extent] = []
        base = 0
        for first, count in self._allocated[nsid].extents:
            size = count * self.unit
            lo, hi = max(offset, base), min(offset + length, base + size)
            if lo < hi:
                start = first * self.unit + lo - base
                if out and out[-1][0] + out[-1][1] == start:
                    out[-1] = (out[-1][0], out[-1][1] + hi - lo)
                else:
                    out.append((start, hi - lo))
            base += size
        return out


def _merged(extents: list[Extent]) -> list[Extent]:
    """Sorted by address, touching runs joined."""
    out: list[Extent] = []
    for first, count in sorted(extents):
        if out and out[-1][0] + out[-1][1] == first:
            out[-1] = (out[-1][0], out[-1][1] + count)
        else:
            out.append((first, count))
    return out
