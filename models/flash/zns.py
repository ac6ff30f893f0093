"""Zoned namespace back end (the ``zns`` kind).

Each zone is one superblock, so a zone's LBAs map straight onto its sectors
(no mapping table, no GC) and sequential zone writes stripe over every LUN.
The zone state machine follows the NVMe ZNS command set: Empty, Implicitly
and Explicitly Opened, Closed, Full, and Read Only and Offline, which only
a media failure (``fail_zone``) leads to; open and active resources limited by
``max_open`` / ``max_active`` (None: no limit); an implicit open that would
exceed ``max_open`` first closes the implicitly opened zone opened longest
ago, as QEMU's model does (an explicit open does not). A write checks the
zone's state (Zone Is Full, Read Only, Offline), then the write pointer
(Zone Invalid Write), then the zone capacity (Zone Boundary Error), then
the resources (Too Many Active Zones, then Too Many Open Zones), in QEMU's
order; an action not allowed from a state is Invalid Zone State
Transition. Errors raise ``BackendError`` with that status. The write
pointer of a Full zone is the end of its capacity; Read Only and Offline
zones keep theirs.

Sectors wait in a per-zone buffer until they fill a NAND page. The zone
layout leaves no room to pad a partial page, so that buffer is modelled as
power-safe (capacitor-backed, as on ZNS drives): a power loss loses nothing,
and on recovery opened zones become Closed, as after a controller reset.
Deallocate is not supported (the firmware must not set ONCS DSM for zns).
"""

from __future__ import annotations

import numpy as np

from models.backend import Backend, BackendError, host_page_counters
from models.nvme_spec import CommandSpecificStatus, GenericStatus
from models.zoned import ACTIVE, OPENED, SELECT_ALL, ZoneAction, ZoneDescriptor, ZoneGeometry, ZoneState

from .config import Geometry, NandTiming, preset as get_preset
from .media import FlashMedia


# the states each action may start from (ZNS figure 27); the action is a no-op from its own end state
_ALLOWED_FROM = {
    ZoneAction.OPEN: (ZoneState.EMPTY, *ACTIVE),
    ZoneAction.CLOSE: ACTIVE,
    ZoneAction.FINISH: (ZoneState.EMPTY, *ACTIVE, ZoneState.FULL),
    ZoneAction.RESET: (ZoneState.EMPTY, *ACTIVE, ZoneState.FULL),
    ZoneAction.OFFLINE: (ZoneState.READ_ONLY, ZoneState.OFFLINE),
}
# a write to a zone in these states fails with this status
_UNWRITABLE = {ZoneState.FULL: CommandSpecificStatus.ZONE_IS_FULL,
               ZoneState.READ_ONLY: CommandSpecificStatus.ZONE_IS_READ_ONLY,
               ZoneState.OFFLINE: CommandSpecificStatus.ZONE_IS_OFFLINE}


class ZnsBackend(Backend):
    def __init__(self, preset: str = "ox", geometry: Geometry | None = None,
                 timing: NandTiming | None = None, zone_cap: int | None = None,
                 max_open: int | None = 8, max_active: int | None = 12,
                 buffer_ns: int = 4000, store_data: bool = True) -> None:
        chosen = get_preset(preset)
        g = geometry or chosen.geometry
        self.geometry = g
        self.media = FlashMedia(g, timing or chosen.timing, store_data)
        self.page_size = g.sector_size
        self.zone_size = g.superblock_sectors
        self.zone_cap = zone_cap or self.zone_size
        if not 0 < self.zone_cap <= self.zone_size or self.zone_cap % g.sectors_per_page:
            raise ValueError("zone_cap must be a whole number of NAND pages within the zone")
        self.n_zones = g.blocks_per_plane
        self.capacity_pages = self.n_zones * self.zone_size
        self.max_open = max_open
        self.max_active = max_active
        self.buffer_ns = buffer_ns
        self.state = [ZoneState.EMPTY] * self.n_zones
        self.wp = [z * self.zone_size for z in range(self.n_zones)]
        self._filled = list(self.wp)  # end of written data (wp moves past it on Finish)
        self._partial: list[list[tuple[int, bytes]]] = [[] for _ in range(self.n_zones)]
        self._implicit: list[int] = []  # implicitly opened zones, oldest first
        self._seq = 0
        self._counts = dict.fromkeys(("read", "write", "resets"), 0)

    # -- Backend interface ---------------------------------------------------

    def read(self, lpn: int, count: int, now_ns: int) -> tuple[bytes, int]:
        self._check_range(lpn, count)
        zero = bytes(self.page_size)
        parts: list[bytes | None] = []
        sectors: list[int] = []
        done = now_ns
        self.check_read(lpn, count)
        for lba in range(lpn, lpn + count):
            z = lba // self.zone_size
            held = dict(self._partial[z])
            if lba in held:
                parts.append(held[lba])
            elif lba < self._filled[z]:
                parts.append(None)
                sectors.append(lba)  # zone LBA == sector id
            else:
                parts.append(zero)
        if sectors:
            nand_data, done = self.media.read_sectors(sectors, now_ns)
            it = iter(nand_data)
            parts = [next(it) if x is None else x for x in parts]
        self._counts["read"] += count
        return b"".join(parts), done

    def write(self, lpn: int, data: bytes, now_ns: int) -> int:
        n = self._pages_of(data)
        self._check_range(lpn, n)
        self.check_write(lpn, n)
        return self._write_at_wp(lpn // self.zone_size, data, n, now_ns)

    def check_read(self, lpn: int, count: int) -> None:
        """Raise Zone Is Offline if the pages touch an Offline zone (reads may otherwise cross zones)."""
        for z in range(lpn // self.zone_size, (lpn + count - 1) // self.zone_size + 1):
            if self.state[z] == ZoneState.OFFLINE:
                raise BackendError(CommandSpecificStatus.ZONE_IS_OFFLINE, f"read of offline zone {z}")

    def trim(self, lpn: int, count: int, now_ns: int) -> int:
        raise BackendError(GenericStatus.INVALID_OPCODE, "deallocate is not supported on zns")

    def flush(self, now_ns: int) -> int:
        return max(now_ns, self.media.timing.idle_since())

    def recover(self) -> None:
        self.close_opened()

    def close_opened(self) -> None:
        """Opened zones become Closed: after a power loss, and on a controller reset (ZNS 2.1.1.3)."""
        for z in range(self.n_zones):
            if self.state[z] in OPENED:
                self._set(z, ZoneState.CLOSED)

    def smart(self) -> dict[str, float]:
        return {
            **host_page_counters(self._counts["read"], self._counts["write"], self.page_size),
            "zone_resets": self._counts["resets"],
            "block_erases": self.media.nand.erases,
        }

    # -- zone commands ---------------------------------------------------------

    def append(self, zslba: int, data: bytes, now_ns: int) -> tuple[int, int]:
        """Zone Append: write at the write pointer; returns (assigned LBA, completion)."""
        n = self._pages_of(data)
        self.check_append(zslba, n)
        z = zslba // self.zone_size
        lba = self.wp[z]
        return lba, self._write_at_wp(z, data, n, now_ns)

    def zone_action(self, action: ZoneAction, zslba: int, now_ns: int,
                    select_all: bool = False) -> int:
        """Zone Management Send; returns the completion time."""
        if select_all:
            zones = [z for z in range(self.n_zones) if self.state[z] in SELECT_ALL[action]]
        else:
            zones = [self._zone_of_start(zslba)]
        done = now_ns
        for z in zones:
            done = max(done, self._apply(action, z, now_ns))
        return done

    def fail_zone(self, zslba: int, state: ZoneState) -> None:
        """A media failure: the zone becomes Read Only (its data, buffered sectors included, stays readable)
        or Offline (nothing is)."""
        if state not in (ZoneState.READ_ONLY, ZoneState.OFFLINE):
            raise ValueError(f"a zone fails to Read Only or Offline, not {state.name}")
        self._set(self._zone_of_start(zslba), state)

    def zone_geometry(self) -> ZoneGeometry:
        """The zones as a zoned namespace over the whole back end reports them, in pages."""
        return ZoneGeometry(self.zone_size, self.zone_cap, self.max_open, self.max_active)

    def zone(self, zslba: int) -> ZoneDescriptor:
        """The zone starting at ``zslba``."""
        z = self._zone_of_start(zslba)
        return ZoneDescriptor(zslba, self.zone_cap, self.wp[z], self.state[z])

    def report(self, zslba: int = 0) -> list[ZoneDescriptor]:
        """Report Zones from the zone holding ``zslba`` on."""
        return [ZoneDescriptor(z * self.zone_size, self.zone_cap, self.wp[z], self.state[z])
                for z in range(zslba // self.zone_size, self.n_zones)]

    # -- internals -------------------------------------------------------------

    def _zone_of_start(self, zslba: int) -> int:
        if zslba % self.zone_size or not 0 <= zslba < self.capacity_pages:
            raise BackendError(GenericStatus.INVALID_FIELD, f"{zslba} is not a zone start LBA")
        return zslba // self.zone_size

    def check_write(self, lpn: int, n: int) -> None:
        """Raise what a write of ``n`` pages at ``lpn`` fails with before resources are counted: the zone's
        state, the write pointer, the zone capacity. A firmware checks this before it fetches the data."""
        self._check_writable(lpn // self.zone_size, lpn, n)

    def check_append(self, zslba: int, n: int) -> None:
        """``check_write`` for a Zone Append of ``n`` pages to the zone starting at ``zslba``."""
        z = self._zone_of_start(zslba)
        self._check_writable(z, self.wp[z], n)

    def _check_writable(self, z: int, lpn: int, n: int) -> None:
        if self.state[z] in _UNWRITABLE:
            raise BackendError(_UNWRITABLE[self.state[z]], f"zone {z}")
        if lpn != self.wp[z]:
            raise BackendError(CommandSpecificStatus.ZONE_INVALID_WRITE, f"write at {lpn}, write pointer {self.wp[z]}")
        if lpn + n > z * self.zone_size + self.zone_cap:
            raise BackendError(CommandSpecificStatus.ZONE_BOUNDARY_ERROR, f"zone {z}: {n} pages past capacity")

    def _open_count(self) -> int:
        return sum(s in OPENED for s in self.state)

    def _active_count(self) -> int:
        return sum(s in ACTIVE for s in self.state)

    def _make_room(self, z: int, implicit: bool) -> None:
        """Check resources for zone ``z`` to become opened."""
        if self.state[z] == ZoneState.EMPTY and self.max_active is not None \
                and self._active_count() >= self.max_active:
            raise BackendError(CommandSpecificStatus.TOO_MANY_ACTIVE_ZONES, f"zone {z}")
        if self.max_open is not None and self._open_count() >= self.max_open:
            if not (implicit and self._implicit):
                raise BackendError(CommandSpecificStatus.TOO_MANY_OPEN_ZONES, f"zone {z}")
            self._set(self._implicit[0], ZoneState.CLOSED)

    def _set(self, z: int, state: ZoneState) -> None:
        if z in self._implicit:
            self._implicit.remove(z)
        if state == ZoneState.IMPLICIT_OPEN:
            self._implicit.append(z)
        self.state[z] = state

    def _write_at_wp(self, z: int, data: bytes, n: int, now: int) -> int:
        if self.state[z] not in OPENED:
            self._make_room(z, implicit=True)
            self._set(z, ZoneState.IMPLICIT_OPEN)
        ps, spp = self.page_size, self.geometry.sectors_per_page
        done = now + self.buffer_ns
        partial = self._partial[z]
        for i in range(n):
            partial.append((self.wp[z], bytes(data[i * ps:(i + 1) * ps])))
            self.wp[z] += 1
            if len(partial) == spp:
                done = max(done, self._program_partial(z, now))
        self._counts["write"] += n
        if self.wp[z] == z * self.zone_size + self.zone_cap:
            self._set(z, ZoneState.FULL)
        return done

    def _program_partial(self, z: int, now: int) -> int:
        """Program the zone's buffered sectors as one NAND page, padded if short."""
        g = self.geometry
        partial = self._partial[z]
        spp = g.sectors_per_page
        pad = spp - len(partial)
        first = partial[0][0]
        lpns = np.array([lba for lba, _ in partial] + [-1] * pad, dtype=np.int64)
        seqs = np.arange(self._seq, self._seq + spp, dtype=np.int64)
        self._seq += spp
        data = b"".join(d for _, d in partial) + bytes(pad * g.sector_size)
        partial.clear()
        done = self.media.program(first // spp, lpns, seqs, data, now)
        self._filled[z] = first + spp - pad
        return done

    def _apply(self, action: ZoneAction, z: int, now: int) -> int:
        s = self.state[z]
        if action not in _ALLOWED_FROM or s not in _ALLOWED_FROM[action]:
            raise BackendError(CommandSpecificStatus.INVALID_ZONE_STATE_TRANSITION,
                               f"{getattr(action, 'name', action)} of {s.name} zone {z}")
        if action == ZoneAction.OFFLINE:
            self._set(z, ZoneState.OFFLINE)
        elif action == ZoneAction.OPEN:
            if s != ZoneState.EXPLICIT_OPEN:
                if s != ZoneState.IMPLICIT_OPEN:
                    self._make_room(z, implicit=False)
                self._set(z, ZoneState.EXPLICIT_OPEN)
        elif action == ZoneAction.CLOSE:
            self._set(z, ZoneState.CLOSED)
        elif action == ZoneAction.FINISH:
            if s != ZoneState.FULL:
                done = self._program_partial(z, now) if self._partial[z] else now
                self.wp[z] = z * self.zone_size + self.zone_cap
                self._set(z, ZoneState.FULL)
                return done
        elif action == ZoneAction.RESET:
            if s != ZoneState.EMPTY:
                self._partial[z].clear()
                self.wp[z] = self._filled[z] = z * self.zone_size
                self._set(z, ZoneState.EMPTY)
                self._counts["resets"] += 1
                return self.media.erase_superblocks(np.array([z]), now)
        return now
