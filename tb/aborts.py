"""What an Abort's target may complete with, for the reference model in the environment.

Whether an Abort (NVMe 1.4, 5.1) catches its target depends on timing the
reference model does not know: the firmware aborts a command only while it
still waits for a core. So until the Abort's own CQE says (DW0 bit 0 clear:
aborted, set: not aborted), the target may complete either as predicted or
with Command Abort Requested; once it says, the two completions must agree,
whichever of them the host reaps first.

The reference model applied the target at submission; an aborted command
that changes the shadow (Write, Write Zeroes, DSM) or the SMART counters
(Read, Compare) leaves the model wrong afterwards, so tests abort Flushes.
"""

from __future__ import annotations

from models.completion_check import Expected
from models.nvme_commands import ABORT_NOT_ABORTED
from models.nvme_spec import CompletionEntry, GenericStatus, Status, SubmissionEntry

ABORTED = Status.of(GenericStatus.ABORT_REQUESTED)
Key = tuple[int, int]   # (SQ id, CID)


class AbortTracker:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Controller reset: every command and its Abort are gone."""
        self._targets: dict[int, Key] = {}      # Abort CID -> its target, until the Abort completes
        self._reaped: dict[Key, Status] = {}    # targets that completed before their Abort did
        self._must_abort: set[Key] = set()      # the Abort said "aborted" before its target completed

    def abort_submitted(self, sqe: SubmissionEntry) -> None:
        self._targets[sqe.cid] = (sqe.cdw10 & 0xFFFF, sqe.cdw10 >> 16)

    def expected(self, key: Key, predicted: Status) -> Expected:
        """The status the CQE of ``key`` may have; asked once per CQE, after ``completed``."""
        if key in self._must_abort:
            self._must_abort.discard(key)   # consumed: the CID may be used again
            return ABORTED
        if key in self._targets.values():
            return predicted, ABORTED
        return predicted

    def completed(self, key: Key, status: Status) -> None:
        """A CQE of an I/O command (``key``) was reaped."""
        if key in self._targets.values():
            self._reaped[key] = status

    def abort_completed(self, cqe: CompletionEntry) -> None:
        """The Abort's CQE: its DW0 decides the target's outcome; check a target that already completed."""
        target = self._targets.pop(cqe.cid, None)
        if target is None or not cqe.status.is_success:
            return
        aborted = not cqe.dw0 & ABORT_NOT_ABORTED
        status = self._reaped.pop(target, None)
        where = f"Abort CID {cqe.cid:#06x} of SQ {target[0]} CID {target[1]:#06x}"
        if status is None:
            if aborted:
                self._must_abort.add(target)
            return
        assert status.same_code(ABORTED) == aborted, (
            f"{where}: the Abort says {'aborted' if aborted else 'not aborted'} (DW0 {cqe.dw0:#x}), "
            f"the target completed with {status}")
