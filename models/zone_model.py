"""The reference model's zones of one zoned namespace: states, write pointers, open and active resources.

Written from the ZNS spec apart from the back end's state machine
(models.flash.zns), with the choices documented there: a write checks the
zone's state, then the write pointer, then the zone capacity, then the
resources (active before open); an implicit open at the open limit closes
the implicitly opened zone opened longest ago, an explicit one does not;
a Full zone's write pointer is the end of its capacity, Read Only and
Offline zones keep theirs; a controller reset closes the opened zones.
"""

from __future__ import annotations

from models.nvme_spec import CommandSpecificStatus, StatusCode
from models.zoned import ACTIVE, OPENED, ZoneAction, ZoneDescriptor, ZoneGeometry, ZoneState

_STATE_STATUS = {ZoneState.FULL: CommandSpecificStatus.ZONE_IS_FULL,
                 ZoneState.READ_ONLY: CommandSpecificStatus.ZONE_IS_READ_ONLY,
                 ZoneState.OFFLINE: CommandSpecificStatus.ZONE_IS_OFFLINE}
# the states each action leaves a zone in, from the states it may start from
_TRANSITIONS = {
    ZoneAction.OPEN: ((ZoneState.EMPTY, *ACTIVE), ZoneState.EXPLICIT_OPEN),
    ZoneAction.CLOSE: (ACTIVE, ZoneState.CLOSED),
    ZoneAction.FINISH: ((ZoneState.EMPTY, *ACTIVE, ZoneState.FULL), ZoneState.FULL),
    ZoneAction.RESET: ((ZoneState.EMPTY, *ACTIVE, ZoneState.FULL), ZoneState.EMPTY),
    ZoneAction.OFFLINE: ((ZoneState.READ_ONLY, ZoneState.OFFLINE), ZoneState.OFFLINE),
}


class ZoneTracker:
    """Zones of one namespace of ``nlbas`` blocks."""

    def __init__(self, geometry: ZoneGeometry, nlbas: int) -> None:
        self.geometry = geometry
        self.count = nlbas // geometry.size
        self.state = [ZoneState.EMPTY] * self.count
        self.wp = [z * geometry.size for z in range(self.count)]
        self._opened_at = [0] * self.count   # when each zone last became implicitly opened (a command count)
        self._clock = 0

    def zone_of(self, lba: int) -> int:
        return lba // self.geometry.size

    def start(self, z: int) -> int:
        return z * self.geometry.size

    def descriptor(self, z: int) -> ZoneDescriptor:
        return ZoneDescriptor(self.start(z), self.geometry.capacity, self.wp[z], self.state[z])

    # writes

    def write_status(self, z: int, slba: int, nlb: int) -> StatusCode | None:
        """Why a write of these blocks at ``slba`` to zone ``z`` fails before resources are counted, or
        None (a Zone Append writes at the write pointer, which is the next zone's start when Full)."""
        if self.state[z] in _STATE_STATUS:
            return _STATE_STATUS[self.state[z]]
        if slba != self.wp[z]:
            return CommandSpecificStatus.ZONE_INVALID_WRITE
        if slba + nlb > self.start(z) + self.geometry.capacity:
            return CommandSpecificStatus.ZONE_BOUNDARY_ERROR
        return None

    def write(self, z: int, slba: int, nlb: int) -> StatusCode | None:
        """A write to zone ``z`` (or a Zone Append at its write pointer): its failure, or None once the zone
        took it."""
        if failed := self.write_status(z, slba, nlb):
            return failed
        if self.state[z] not in OPENED:
            if failed := self._open(z, implicit=True):
                return failed
        self.wp[z] += nlb
        if self.wp[z] == self.start(z) + self.geometry.capacity:
            self._set(z, ZoneState.FULL)
        return None

    def offline(self, slba: int, nlb: int) -> bool:
        """Whether a read of these blocks touches an Offline zone."""
        return any(self.state[z] == ZoneState.OFFLINE
                   for z in range(self.zone_of(slba), self.zone_of(slba + nlb - 1) + 1))

    # Zone Management Send

    def apply(self, action: ZoneAction, z: int) -> StatusCode | None:
        """One zone's action: its failure, or None."""
        sources, target = _TRANSITIONS[action]
        state = self.state[z]
        if state not in sources:
            return CommandSpecificStatus.INVALID_ZONE_STATE_TRANSITION
        if state == target:
            return None
        if action == ZoneAction.OPEN and state != ZoneState.IMPLICIT_OPEN:
            if failed := self._open(z, implicit=False):
                return failed
        if action == ZoneAction.FINISH:
            self.wp[z] = self.start(z) + self.geometry.capacity
        if action == ZoneAction.RESET:
            self.wp[z] = self.start(z)
        self._set(z, target)
        return None

    def fail(self, z: int, state: ZoneState) -> None:
        """A media failure made the zone Read Only or Offline."""
        self._set(z, state)

    def controller_reset(self) -> None:
        for z in range(self.count):
            if self.state[z] in OPENED:
                self._set(z, ZoneState.CLOSED)

    # resources

    def _open(self, z: int, implicit: bool) -> StatusCode | None:
        """Resources for zone ``z`` to become opened (the caller sets its state)."""
        opened = sum(s in OPENED for s in self.state)
        limit_open, limit_active = self.geometry.max_open, self.geometry.max_active
        if self.state[z] == ZoneState.EMPTY and limit_active is not None and \
                sum(s in ACTIVE for s in self.state) >= limit_active:
            return CommandSpecificStatus.TOO_MANY_ACTIVE_ZONES
        if limit_open is not None and opened >= limit_open:
            implicitly = [y for y in range(self.count) if self.state[y] == ZoneState.IMPLICIT_OPEN]
            if not (implicit and implicitly):
                return CommandSpecificStatus.TOO_MANY_OPEN_ZONES
            self._set(min(implicitly, key=lambda y: self._opened_at[y]), ZoneState.CLOSED)
        self._set(z, ZoneState.IMPLICIT_OPEN if implicit else ZoneState.EXPLICIT_OPEN)
        return None

    def _set(self, z: int, state: ZoneState) -> None:
        if state == ZoneState.IMPLICIT_OPEN:
            self._clock += 1
            self._opened_at[z] = self._clock
        self.state[z] = state
