"""Interrupt checker: every MSI-X message must have a cause, and no cause may go unsignalled.

Fed with events in simulated time (ns), in the order they happened:

- ``cqe_posted(cqid, vector, t)``: a CQE landed in a CQ whose interrupts are
  enabled and mapped to ``vector`` (feed the CQE before the message it causes);
- ``msix(vector, t)``: the controller sent that vector's message;
- ``mask(vector, masked, t)``: the host masked or unmasked the vector
  (MSI-X table vector control; for the function mask, call it per vector);
- ``set_coalescing(thr, time_100us)`` and ``set_coalescing_disabled(vector, cd)``:
  the Interrupt Coalescing and Interrupt Vector Configuration features.

Rules (NVMe 1.4 section 7.5.1.1 and the MSI-X capability):

- a message needs at least one CQE on its vector since the vector's previous
  message;
- a masked vector sends nothing; its message waits in the PBA and goes out
  on unmask if it was due;
- with coalescing (I/O vectors only: vector 0, the admin vector, never
  coalesces, nor does a vector with CD set) a message waits for THR+1 CQEs
  unless the aggregation time (TIME x 100 us, from the first unsignalled CQE)
  has run out; the time is the one set when that first CQE came (a change
  of TIME applies to the next aggregation, as in the RTL), while THR is
  compared as it stands, and a CQE that comes while TIME is 0 is due at
  once;
- at the end, a message that was due more than ``slack_ns`` ago and never
  came is a lost interrupt.

Violations raise AssertionError. Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NS_PER_100US = 100_000
ADMIN_VECTOR = 0


@dataclass
class _Vector:
    causes: list[tuple[int, int]] = field(default_factory=list)  # (cqid, t) since the last message
    masked: bool = False
    owed_since: int | None = None   # unmasked with a due message at this time; the message must follow
    window_ns: int = 0              # the aggregation time in force when the first of ``causes`` came
    messages: int = 0
    coalescing_disabled: bool = False


class InterruptChecker:
    """Checks MSI-X messages against the CQEs that cause them, masking and coalescing."""

    def __init__(self, slack_ns: int = 10_000) -> None:
        self.slack_ns = slack_ns
        self.thr = 0
        self.time_100us = 0
        self._vectors: dict[int, _Vector] = {}
        self.messages_checked = 0

    def _vector(self, vector: int) -> _Vector:
        return self._vectors.setdefault(vector, _Vector())

    def controller_reset(self) -> None:
        """CC.EN 1->0: interrupts not yet sent for earlier CQEs are dropped with the queues, and the
        coalescing features return to their defaults (off)."""
        self.thr = self.time_100us = 0
        for state in self._vectors.values():
            state.causes.clear()
            state.owed_since = None
            state.coalescing_disabled = False

    def set_coalescing(self, thr: int, time_100us: int) -> None:
        """Interrupt Coalescing: THR zero-based entries, TIME in 100 us units (both 0: off)."""
        self.thr = thr
        self.time_100us = time_100us

    def set_coalescing_disabled(self, vector: int, disabled: bool) -> None:
        self._vector(vector).coalescing_disabled = disabled

    def coalesced(self, vector: int) -> bool:
        return vector != ADMIN_VECTOR and not self._vector(vector).coalescing_disabled

    def due_at(self, vector: int) -> int | None:
        """When the vector's next message becomes due, or None if nothing is waiting to be signalled."""
        state = self._vector(vector)
        if not state.causes:
            return None
        first = state.causes[0][1]
        if not self.coalesced(vector):
            return first
        by_time = first + state.window_ns
        if len(state.causes) > self.thr:
            return min(by_time, state.causes[self.thr][1])
        return by_time

    def cqe_posted(self, cqid: int, vector: int, t: int) -> None:
        state = self._vector(vector)
        if not state.causes:
            state.window_ns = self.time_100us * NS_PER_100US
        elif self.time_100us == 0:
            state.window_ns = min(state.window_ns, t - state.causes[0][1])
        state.causes.append((cqid, t))

    def mask(self, vector: int, masked: bool, t: int) -> None:
        state = self._vector(vector)
        if state.masked and not masked:
            due = self.due_at(vector)
            if due is not None and due <= t:
                state.owed_since = t
        state.masked = masked

    def msix(self, vector: int, t: int) -> None:
        state = self._vector(vector)
        where = f"MSI-X vector {vector} at {t} ns"
        assert not state.masked, f"{where}: message sent while the vector is masked"
        assert state.causes, (
            f"{where}: no CQE posted on a CQ of this vector since its previous message")
        if state.owed_since is None:
            due = self.due_at(vector)
            assert due is not None and due <= t, (
                f"{where}: coalescing violated: {len(state.causes)} CQE(s) since the first at "
                f"{state.causes[0][1]} ns, THR allows a message after {self.thr + 1} or at {due} ns")
        state.causes.clear()
        state.owed_since = None
        state.messages += 1
        self.messages_checked += 1

    def final_check(self, t_end: int) -> None:
        """End of test at ``t_end`` ns: messages were checked and none is missing."""
        assert self.messages_checked > 0, "interrupt checker saw no MSI-X message"
        for vector, state in sorted(self._vectors.items()):
            due = self.due_at(vector)
            if state.masked or due is None:
                continue
            if state.owed_since is not None:
                assert state.owed_since + self.slack_ns >= t_end, (
                    f"MSI-X vector {vector}: unmasked at {state.owed_since} ns with a pending message, "
                    f"none came (test ended at {t_end} ns)")
            else:
                assert due + self.slack_ns >= t_end, (
                    f"MSI-X vector {vector}: lost interrupt: message due at {due} ns for CQEs "
                    f"(cqid, ns) {state.causes} never came (test ended at {t_end} ns)")
