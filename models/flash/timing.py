"""When does a NAND operation complete? Busy-until times per LUN and channel.

The model is the one NVMeVirt uses: every LUN and every channel keeps the
time until which it is busy; an operation arriving at ``now`` starts when
both resources it needs are free and pushes their busy-until times forward.
That answers "when does this request complete" for any arrival time, so the
same object serves inside the simulation (the firmware waits until the
returned time) and standalone (a benchmark feeds arrival times).

* read    = tR on the LUN, then the data transfer on the channel; the LUN's
  page register is held until the transfer ends.
* program = the transfer on the channel (once the LUN is free to take it),
  then tPROG on the LUN; the channel is released after the transfer.
* erase   = tBERS on the LUN; no channel transfer.

Planes of one LUN are not operated in parallel (no multi-plane commands):
each plane's page is a separate operation on its LUN.
"""

from __future__ import annotations

from .config import Geometry, NandTiming


class NandTimingModel:
    def __init__(self, geometry: Geometry, timing: NandTiming) -> None:
        self.geometry = geometry
        self.timing = timing
        self.lun_busy = [0] * geometry.luns
        self.channel_busy = [0] * geometry.channels

    def read(self, block: int, now: int, nbytes: int) -> int:
        lun = self.geometry.lun_of_block(block)
        ch = self.geometry.channel_of_lun(lun)
        sensed = max(now, self.lun_busy[lun]) + self.timing.t_read_ns
        done = max(sensed, self.channel_busy[ch]) + self.timing.xfer_ns(nbytes)
        self.lun_busy[lun] = self.channel_busy[ch] = done
        return done

    def program(self, block: int, now: int, nbytes: int) -> int:
        lun = self.geometry.lun_of_block(block)
        ch = self.geometry.channel_of_lun(lun)
        moved = max(now, self.lun_busy[lun], self.channel_busy[ch]) + self.timing.xfer_ns(nbytes)
        self.channel_busy[ch] = moved
        done = self.lun_busy[lun] = moved + self.timing.t_prog_ns
        return done

    def erase(self, block: int, now: int) -> int:
        lun = self.geometry.lun_of_block(block)
        done = self.lun_busy[lun] = max(now, self.lun_busy[lun]) + self.timing.t_erase_ns
        return done

    def idle_since(self) -> int:
        """Time from which every LUN and channel is free."""
        return max(max(self.lun_busy), max(self.channel_busy))
