"""The reference model's chunks of one open-channel namespace: states, write pointers, wear.

Written from the Open-Channel SSD 2.0 spec apart from the back end's
chunk state machine (models.flash.ocssd), with the choices documented
there: a vector write is taken run by run (consecutive list entries of one
chunk), each against the chunk as the earlier runs of the command leave
it: Closed or Offline is Write Fault, a run of other than whole write units
Invalid Field, one not at the write pointer or not in order Out of Order
Write. A reset takes the list in order: Offline is Offline Chunk, Free
(also freed earlier in the same list) Invalid Reset. A command that fails
changes nothing and names the entries it failed on.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.nvme_spec import GenericStatus, MediaStatus, StatusCode
from models.open_channel import OFFLINE_WP, ChunkDescriptor, ChunkGeometry, ChunkState


@dataclass
class _Chunk:
    state: ChunkState = ChunkState.FREE
    wp: int = 0
    wear: int = 0


@dataclass(frozen=True)
class ChunkFailure:
    """Why a vector command fails, and the LBA-list entries it fails on."""

    code: StatusCode
    entries: tuple[int, ...]


class ChunkTracker:
    """The chunks of a namespace of ``geometry``; a chunk not yet touched is Free with nothing written."""

    def __init__(self, geometry: ChunkGeometry) -> None:
        self.geometry = geometry
        self._chunks: dict[int, _Chunk] = {}

    def chunk(self, index: int) -> _Chunk:
        return self._chunks.setdefault(index, _Chunk())

    def unknown(self, lbas: list[int]) -> ChunkFailure | None:
        """LBA Out of Range for the entries that name no chunk."""
        bad = tuple(i for i, lba in enumerate(lbas) if self.geometry.locate(lba) is None)
        return ChunkFailure(GenericStatus.LBA_OUT_OF_RANGE, bad) if bad else None

    def write_failure(self, lbas: list[int]) -> ChunkFailure | None:
        """Why writing these (known) LBAs in list order fails, or None."""
        where = [self.geometry.locate(lba) for lba in lbas]
        projected: dict[int, int] = {}
        start = 0
        while start < len(lbas):
            index = where[start][0]
            end = start
            while end < len(lbas) and where[end][0] == index:
                end += 1
            entries = tuple(range(start, end))
            chunk = self.chunk(index)
            wp = projected.get(index, chunk.wp)
            if chunk.state is ChunkState.OFFLINE or wp == self.geometry.clba:
                return ChunkFailure(MediaStatus.WRITE_FAULT, entries)
            if len(entries) % self.geometry.ws_min:
                return ChunkFailure(GenericStatus.INVALID_FIELD, entries)
            if any(where[i][1] != wp + k for k, i in enumerate(entries)):
                return ChunkFailure(MediaStatus.OCSSD_OUT_OF_ORDER_WRITE, entries)
            projected[index] = wp + len(entries)
            start = end
        return None

    def write(self, lbas: list[int]) -> None:
        """The LBAs were written (``write_failure`` said they may be)."""
        for lba in lbas:
            chunk = self.chunk(self.geometry.locate(lba)[0])
            chunk.wp += 1
            chunk.state = ChunkState.CLOSED if chunk.wp == self.geometry.clba else ChunkState.OPEN

    def reset_failure(self, lbas: list[int]) -> ChunkFailure | None:
        seen: set[int] = set()
        for i, lba in enumerate(lbas):
            index = self.geometry.locate(lba)[0]
            state = self.chunk(index).state
            if state is ChunkState.OFFLINE:
                return ChunkFailure(MediaStatus.OCSSD_OFFLINE_CHUNK, (i,))
            if state is ChunkState.FREE or index in seen:
                return ChunkFailure(MediaStatus.OCSSD_INVALID_RESET, (i,))
            seen.add(index)
        return None

    def reset(self, lbas: list[int]) -> list[int]:
        """Reset the chunks (``reset_failure`` said they may be); returns their indexes, in list order."""
        indexes = [self.geometry.locate(lba)[0] for lba in lbas]
        for index in indexes:
            chunk = self.chunk(index)
            chunk.state, chunk.wp, chunk.wear = ChunkState.FREE, 0, chunk.wear + 1
        return indexes

    def fail(self, lba: int) -> int:
        """A media failure took the chunk holding ``lba`` offline; returns its index."""
        index = self.geometry.locate(lba)[0]
        chunk = self.chunk(index)
        chunk.state, chunk.wp = ChunkState.OFFLINE, OFFLINE_WP
        return index

    def offline(self, lba: int) -> bool:
        return self.chunk(self.geometry.locate(lba)[0]).state is ChunkState.OFFLINE

    def descriptor(self, index: int) -> ChunkDescriptor:
        chunk = self.chunk(index)
        return ChunkDescriptor(chunk.state, chunk.wear, self.geometry.slba(index), self.geometry.clba, chunk.wp)

    def descriptors(self) -> list[ChunkDescriptor]:
        return [self.descriptor(i) for i in range(self.geometry.count)]
