"""Asynchronous Event Requests (NVMe 1.4 section 5.2): held requests, pending events, per-type masking.

The host keeps up to AERL + 1 requests outstanding; the firmware holds
their slots and completes one per event. After an event of a type is
reported, that type is masked until the host reads the log page that event named
without Retain Asynchronous Event; events that arrive meanwhile wait.
Whether an event is reported at all follows Asynchronous Event
Configuration (``models.nvme_logs.event_enabled``).
"""

from __future__ import annotations

from collections import deque

from firmware.mailbox import CommandSlot
from models.nvme_logs import AsyncEvent, AsyncEventType, event_enabled


class AsyncEvents:
    def __init__(self, limit: int) -> None:
        self.limit = limit          # outstanding requests allowed (AERL + 1)
        self.reset()

    def reset(self) -> None:
        """Controller reset: outstanding requests are gone (their slots freed by the hardware)."""
        self._requests: deque[CommandSlot] = deque()
        self._pending: list[AsyncEvent] = []
        self._masked: dict[AsyncEventType, int] = {}   # masked type -> the log page that unmasks it

    def held(self) -> list[CommandSlot]:
        """The slots of the requests outstanding."""
        return list(self._requests)

    def request(self, slot: CommandSlot) -> list[tuple[CommandSlot, int]] | None:
        """Hold an AER's slot; None if the limit is exceeded, else the (slot, DW0) completions now due."""
        if len(self._requests) >= self.limit:
            return None
        self._requests.append(slot)
        return self._deliver()

    def event(self, event: AsyncEvent, aec: int) -> list[tuple[CommandSlot, int]]:
        if event_enabled(event, aec):
            self._pending.append(event)
        return self._deliver()

    def log_read(self, lid: int) -> list[tuple[CommandSlot, int]]:
        """The host read ``lid`` without RAE: unmask the event types whose reported event named it."""
        self._masked = {t: log for t, log in self._masked.items() if log != lid}
        return self._deliver()

    def _deliver(self) -> list[tuple[CommandSlot, int]]:
        due = []
        while self._requests:
            event = next((e for e in self._pending if e.type not in self._masked), None)
            if event is None:
                break
            self._pending.remove(event)
            self._masked[event.type] = event.lid
            due.append((self._requests.popleft(), event.dw0))
        return due

