"""Page-mapped FTL over the NAND model (the ``conv`` back-end kind).

Design, in the order the data flows:

* Mapping unit: one NAND sector (4 KiB), which is also the host page. The
  L2P table is a numpy array; the reverse map is the NAND's out-of-band
  area (LPN and sequence number per sector), so the FTL keeps no second
  copy that could disagree with what recovery will see.
* Allocation: whole superblocks (see ``config``), filled in sector-index
  order, which stripes consecutive NAND pages across channels and LUNs.
  Host writes and GC relocations go to separate open superblocks, so
  relocated (colder) data is not mixed with fresh host data.
* Write buffer: host pages collect in a volatile DRAM buffer and complete
  early; a NAND page is programmed once ``sectors_per_page`` of them are
  there. A full buffer makes the next write wait for the oldest program.
  Flush programs a partial page padded with unmapped sectors. With the
  write cache disabled every write is flushed before it completes.
* GC: when a host superblock is needed and no more than ``gc_threshold``
  superblocks are free, victims are collected (foreground, delaying that
  write); when fewer than ``bg_gc_threshold`` are free and the NAND is
  idle, one victim is collected before the next command (background).
  Victim policies are in ``gc``.
* Wear: host data goes to the least-erased free superblock and GC data to
  the most-erased one (GC data is colder). When the erase-count spread
  exceeds ``wl_threshold``, the least-erased closed superblock is collected
  so its cold data moves and the superblock rejoins the hot pool (static
  wear leveling).
* TRIM clears the mapping and records the trim's sequence number per LPN in
  a table kept in a power-safe metadata area (not modelled as NAND
  traffic), so a deallocate is durable when it completes.
* Power loss drops the buffer and every DRAM structure; recovery rebuilds
  them from the OOB area (newest sequence number per LPN wins, unless the
  LPN's trim is newer). Superblocks that were open are closed; GC
  reclaims their unwritten tail. A NAND program is atomic once issued
  (hold-up energy for in-flight operations), and GC never leaves
  relocated data in volatile memory: it pads its last page per victim.

``write_pages`` is the bulk path for write-amplification studies: a vector
of LPNs, mapped and collected with vector operations, without timing or
data (pages written this way read as zeros). Construct with
``store_data=False`` for large studies.
"""

from __future__ import annotations

import heapq

import numpy as np

from models.backend import Backend, BackendError
from models.nvme_logs import data_units
from models.nvme_spec import GenericStatus

from .config import Geometry, NandTiming, preset as get_preset
from .gc import EXCLUDED, POLICIES
from .media import FlashMedia

HOST, GC = 0, 1  # write streams
GC_BATCH = 64  # most victims ranked per collection pass
FREE, OPEN, CLOSED = 0, 1, 2  # superblock states


class ConvFtl(Backend):
    def __init__(self, preset: str = "ox", geometry: Geometry | None = None,
                 timing: NandTiming | None = None, op: float = 0.125,
                 gc_policy: str = "greedy", gc_threshold: int = 1, bg_gc_threshold: int = 3,
                 write_buffer_pages: int | None = None, write_cache: bool = True,
                 buffer_ns: int = 4000, buffer_page_ns: int = 460, wl_threshold: int = 0,
                 pe_cycles: int = 3000, store_data: bool = True) -> None:
        """Options (times in ns):

        op: over-provisioning, (physical - logical) / logical.
        gc_policy: "greedy", "cost_benefit" or "fifo" (see gc.py).
        gc_threshold / bg_gc_threshold: free superblocks that start
            foreground / background collection.
        write_buffer_pages: DRAM write buffer in 4 KiB pages (default two
            pages per LUN, NVMeVirt's sizing).
        write_cache: volatile write cache enabled (NVMe feature VWC).
        buffer_ns / buffer_page_ns: firmware cost of a buffered write, per
            command and per 4 KiB page (NVMeVirt's FW_WBUF_LATENCY0/1).
        wl_threshold: erase-count spread that triggers static wear
            leveling; 0 turns it off.
        pe_cycles: rated endurance, for SMART "percentage used".
        store_data: keep page contents (off for metadata-only studies).
        """
        chosen = get_preset(preset)
        g = geometry or chosen.geometry
        self.geometry = g
        self.media = FlashMedia(g, timing or chosen.timing, store_data)
        self.nand = self.media.nand
        self.page_size = g.sector_size
        self.capacity_pages = int(g.sectors / (1.0 + op))
        self.sb_size = g.superblock_sectors
        self.n_sb = g.blocks_per_plane
        if gc_policy not in POLICIES:
            raise ValueError(f"unknown GC policy {gc_policy!r}; known: {sorted(POLICIES)}")
        self.pick = POLICIES[gc_policy]
        if gc_threshold < 1 or bg_gc_threshold < gc_threshold:
            raise ValueError("need 1 <= gc_threshold <= bg_gc_threshold")
        # Collection needs a free superblock, and the two open ones hold data
        # too: without more spare than that, GC can find nothing to reclaim.
        spare_sb = (g.sectors - self.capacity_pages) / self.sb_size
        if spare_sb <= gc_threshold + 2:
            raise ValueError(f"op={op} leaves {spare_sb:.1f} spare superblocks; "
                             f"need more than gc_threshold + 2 = {gc_threshold + 2}")
        self.gc_threshold = gc_threshold
        self.bg_gc_threshold = bg_gc_threshold
        spp = g.sectors_per_page
        self.buffer_pages = write_buffer_pages or 2 * g.luns * spp
        if self.buffer_pages < 2 * spp:
            raise ValueError("write buffer must hold at least two NAND pages")
        self.write_cache = write_cache
        self.buffer_ns = buffer_ns
        self.buffer_page_ns = buffer_page_ns
        self.wl_threshold = wl_threshold
        self.pe_cycles = pe_cycles
        # Durable: the trim table (power-safe metadata area) and the counters
        # (SMART is persistent). Everything else is rebuilt by _rebuild().
        self.trim_seq = np.full(self.capacity_pages, -1, dtype=np.int64)
        self.counters = dict.fromkeys(
            ("host_read", "host_write", "nand_write", "gc_write", "pad", "gc_victims", "wl_moves"), 0)
        self._buf: dict[int, tuple[bytes, int]] = {}  # lpn -> (data, seq), in arrival order
        self._inflight: list[int] = []  # completion times of programs still holding buffer space
        self._rebuild()

    # -- Backend interface ---------------------------------------------------

    def read(self, lpn: int, count: int, now_ns: int) -> tuple[bytes, int]:
        self._check_range(lpn, count)
        self._powered()
        self._background_gc(now_ns)
        ss = self.page_size
        parts: list[bytes | None] = []  # None: comes from NAND
        slots: list[int] = []
        done = now_ns
        for p in range(lpn, lpn + count):
            if p in self._buf:
                parts.append(self._buf[p][0])
                done = now_ns + self.buffer_page_ns
            elif self.l2p[p] < 0:
                parts.append(bytes(ss))
            else:
                parts.append(None)
                slots.append(int(self.l2p[p]))
        if slots:
            nand_data, t = self.media.read_sectors(slots, now_ns)
            done = max(done, t)
            it = iter(nand_data)
            parts = [next(it) if x is None else x for x in parts]
        data = b"".join(parts)
        self.counters["host_read"] += count
        return data, done

    def write(self, lpn: int, data: bytes, now_ns: int) -> int:
        n = self._pages_of(data)
        self._check_range(lpn, n)
        self._powered()
        self._background_gc(now_ns)
        ps, spp = self.page_size, self.geometry.sectors_per_page
        done = now_ns + self.buffer_ns
        for i in range(n):
            done = self._buffer_slot(done) + self.buffer_page_ns
            self._buf[lpn + i] = (bytes(data[i * ps:(i + 1) * ps]), self._seq)
            self._seq += 1
            if len(self._buf) >= spp:
                self._program_buffered(done)
        self.counters["host_write"] += n
        if not self.write_cache:
            done = self.flush(done)
        return done

    def trim(self, lpn: int, count: int, now_ns: int) -> int:
        self._check_range(lpn, count)
        self._powered()
        self._background_gc(now_ns)
        for p in [p for p in self._buf if lpn <= p < lpn + count]:
            del self._buf[p]
        span = slice(lpn, lpn + count)
        self._invalidate(self.l2p[span])
        self.l2p[span] = -1
        self.trim_seq[span] = self._seq
        self._seq += 1
        return now_ns + self.buffer_ns

    def flush(self, now_ns: int) -> int:
        self._powered()
        if self._buf:
            self._program_buffered(now_ns, pad=True)
        return max([now_ns, *self._inflight])

    @property
    def cached_pages(self) -> int:
        """Completed host pages only in the volatile write buffer: what a power cut now would lose."""
        return len(self._buf)

    def power_loss(self) -> None:
        """Cut power: the write buffer and all DRAM state are gone."""
        self._buf.clear()
        self._inflight.clear()
        self.l2p = None  # any use before recover() fails loudly

    def recover(self) -> None:
        self._rebuild()

    def smart(self) -> dict[str, float]:
        c = self.counters
        erases = self.nand.erase_count
        ps = self.page_size
        return {
            "data_units_read": data_units(c["host_read"] * ps),
            "data_units_written": data_units(c["host_write"] * ps),
            "host_read_pages": c["host_read"],
            "host_write_pages": c["host_write"],
            "nand_write_pages": c["nand_write"],
            "gc_write_pages": c["gc_write"],
            "pad_pages": c["pad"],
            "waf": c["nand_write"] / c["host_write"] if c["host_write"] else 0.0,
            "gc_victims": c["gc_victims"],
            "wl_moves": c["wl_moves"],
            "block_erases": self.nand.erases,
            "erase_count_min": int(erases.min()),
            "erase_count_max": int(erases.max()),
            "erase_count_mean": float(erases.mean()),
            "percentage_used": min(255, int(erases.max()) * 100 // self.pe_cycles),
            "spare_pct": 100.0 * (self.geometry.sectors - self.capacity_pages) / self.capacity_pages,
            "available_spare": 100,  # no bad blocks are modelled
            "free_superblocks": self._free,
        }

    # -- bulk path -----------------------------------------------------------

    def write_pages(self, lpns: np.ndarray) -> None:
        """Write a vector of LPNs, metadata only, with GC inline and no timing.

        Equivalent to writing each page in turn and then flushing; used for
        write-amplification studies at millions of pages per second.
        """
        self._powered()
        lpns = np.asarray(lpns, dtype=np.int64)
        if len(lpns) == 0:
            return
        if lpns.min() < 0 or lpns.max() >= self.capacity_pages:
            raise BackendError(GenericStatus.LBA_OUT_OF_RANGE, "write_pages")
        if self._buf:  # older buffered copies must not land after these
            self._program_buffered(None, pad=True)
        n = len(lpns)
        seqs = np.arange(self._seq, self._seq + n, dtype=np.int64)  # _place advances _seq
        pad = -n % self.geometry.sectors_per_page
        if pad:
            lpns = np.concatenate([lpns, np.full(pad, -1, np.int64)])
            seqs = np.concatenate([seqs, np.full(pad, -1, np.int64)])
        self._place(HOST, lpns, seqs, None, None, pad)
        self.counters["host_write"] += n

    # -- internals -----------------------------------------------------------

    def _powered(self) -> None:
        if self.l2p is None:
            raise RuntimeError("back end is powered off: call recover()")

    def _rebuild(self) -> None:
        """Derive every DRAM structure from the NAND's OOB and the trim table."""
        g, S, N = self.geometry, self.sb_size, self.n_sb
        lpn, seq = self.nand.oob_lpn, self.nand.oob_seq
        idx = np.flatnonzero(lpn >= 0)
        idx = idx[np.lexsort((seq[idx], lpn[idx]))]
        newest = np.ones(len(idx), dtype=bool)
        newest[:-1] = lpn[idx[1:]] != lpn[idx[:-1]]
        idx = idx[newest]
        idx = idx[seq[idx] > self.trim_seq[lpn[idx]]]
        self.l2p = np.full(self.capacity_pages, -1, dtype=np.int64)
        self.l2p[lpn[idx]] = idx
        self.valid = np.zeros(g.sectors, dtype=bool)
        self.valid[idx] = True
        self.valid_count = np.bincount(idx // S, minlength=N).astype(np.int64)
        used = self.nand.write_ptr.reshape(N, g.columns).sum(axis=1) > 0
        self.state = np.where(used, CLOSED, FREE).astype(np.int8)
        self.excluded = np.where(used, 0, EXCLUDED).astype(np.int64)
        self.last_write = seq.reshape(N, S).max(axis=1)
        self.sb_erases = self.nand.erase_count.reshape(N, g.columns).max(axis=1)
        self._free = int(np.count_nonzero(~used))
        self._open: list[list[int] | None] = [None, None]  # per stream: [superblock, fill]
        self._relocating: list | None = None  # during GC: [victims, data ends, erased count]
        self._seq = max(int(seq.max()), int(self.trim_seq.max())) + 1

    def _buffer_slot(self, t: int) -> int:
        """Earliest time from ``t`` at which the write buffer has room for a page."""
        heap = self._inflight
        while heap and heap[0] <= t:
            heapq.heappop(heap)
        if len(self._buf) + len(heap) >= self.buffer_pages:
            t = heapq.heappop(heap)
        return t

    def _program_buffered(self, now: int | None, pad: bool = False) -> None:
        """Program the oldest buffered pages: one NAND page, padded if asked."""
        spp, ss = self.geometry.sectors_per_page, self.geometry.sector_size
        taken = list(self._buf)[:spp]
        n_pad = spp - len(taken) if pad else 0
        entries = [self._buf.pop(p) for p in taken]
        lpns = np.array(taken + [-1] * n_pad, dtype=np.int64)
        seqs = np.array([s for _, s in entries] + [-1] * n_pad, dtype=np.int64)
        data = b"".join(d for d, _ in entries) + bytes(n_pad * ss)
        done = self._place(HOST, lpns, seqs, data, now, n_pad)
        if now is not None:
            for _ in taken:
                heapq.heappush(self._inflight, done)

    def _place(self, stream: int, lpns: np.ndarray, seqs: np.ndarray, data: bytes | None,
               now: int | None, n_pad: int) -> int | None:
        """Append sectors to a stream's open superblock(s): map and program them.

        The last ``n_pad`` entries are padding (unmapped). Returns when the
        programs complete, or None when untimed (``now`` is None).
        """
        g, S = self.geometry, self.sb_size
        spp, ss = g.sectors_per_page, g.sector_size
        n, n_real = len(lpns), len(lpns) - n_pad
        done = now
        i = 0
        while i < n:
            op = self._open[stream]
            if op is None:
                if stream == GC:  # victims already moved out can make room
                    self._erase_relocated(i, done)
                op = self._open[stream] = [self._allocate(stream, now), 0]
            sb, fill = op
            k = min(n - i, S - fill)
            base = sb * S + fill
            real = min(k, n_real - i)
            if real > 0 and stream == GC:
                self._map_relocated(lpns[i:i + real], base, sb)
            elif real > 0:
                self._map(lpns[i:i + real], base, sb)
                self._seq = max(self._seq, int(seqs[i + real - 1]) + 1)
            chunk = None if data is None else data[i * ss:(i + k) * ss]
            t = self.media.program(base // spp, lpns[i:i + k], seqs[i:i + k], chunk, now)
            done = t if done is None else max(done, t)
            op[1] = fill + k
            self.last_write[sb] = self._seq  # the age clock of victim policies
            if op[1] == S:
                self.state[sb] = CLOSED
                self.excluded[sb] = 0
                self._open[stream] = None
            i += k
        self.counters["nand_write"] += n
        self.counters["pad"] += n_pad
        if stream == GC:
            self.counters["gc_write"] += n_real
        return done

    def _map(self, lpns: np.ndarray, base: int, sb: int) -> None:
        """Point ``lpns`` at sectors ``base...`` of superblock ``sb``; invalidate old copies."""
        k = len(lpns)
        new = np.arange(base, base + k, dtype=np.int64)
        l2p = self.l2p
        old = l2p[lpns]
        l2p[lpns] = new
        won = l2p[lpns] == new
        if not won.all():  # an LPN repeats in this chunk: its last write must win
            last = k - 1 - np.unique(lpns[::-1], return_index=True)[1]
            l2p[lpns[last]] = new[last]
            won = l2p[lpns] == new
        self.valid[base:base + k] = won
        self.valid_count[sb] += int(np.count_nonzero(won))
        self._invalidate(old[won])

    def _map_relocated(self, lpns: np.ndarray, base: int, sb: int) -> None:
        """``_map`` for GC: distinct LPNs whose old copies ``_collect`` already invalidated."""
        k = len(lpns)
        self.l2p[lpns] = np.arange(base, base + k, dtype=np.int64)
        self.valid[base:base + k] = True
        self.valid_count[sb] += k

    def _invalidate(self, slots: np.ndarray) -> None:
        slots = slots[slots >= 0]
        if len(slots):
            self.valid[slots] = False
            self.valid_count -= np.bincount(slots // self.sb_size, minlength=self.n_sb)

    def _allocate(self, stream: int, now: int | None) -> int:
        """Open a free superblock for a stream, collecting first for host writes."""
        if stream == HOST:
            self._wear_level(now)
            while self._free <= self.gc_threshold:
                self._collect(self._victims_for(self.gc_threshold + 1 - self._free), now)
        free = np.flatnonzero(self.state == FREE)
        wear = self.sb_erases[free]
        sb = int(free[np.argmin(wear)] if stream == HOST else free[np.argmax(wear)])
        self.state[sb] = OPEN
        self._free -= 1
        return sb

    def _victims_for(self, lines: int) -> np.ndarray:
        """The fewest top-ranked victims whose collection frees ``lines`` superblocks.

        Relocation fills the GC stream's open superblock and then new ones
        from the free pool; the gain of k victims is k minus those.
        """
        S = self.sb_size
        ranked = self.pick(self.valid_count, self.excluded, self.last_write, self._seq, S, GC_BATCH)
        moved = np.cumsum(self.valid_count[ranked])
        gc_open = self._open[GC]
        room = S - gc_open[1] if gc_open else 0
        opened = np.maximum(0, -(-(moved - room) // S))
        gain = np.arange(1, len(ranked) + 1) - opened
        if not len(ranked) or gain.max() <= 0:
            raise BackendError(GenericStatus.CAPACITY_EXCEEDED, "GC found nothing to reclaim")
        enough = np.flatnonzero(gain >= lines)
        return ranked[:enough[0] + 1] if len(enough) else ranked[:int(np.argmax(gain)) + 1]

    def _wear_level(self, now: int | None) -> None:
        """Static wear leveling: move the data off the least-erased closed superblock."""
        if not self.wl_threshold or self.sb_erases.max() - self.sb_erases.min() <= self.wl_threshold:
            return
        closed = np.flatnonzero(self.excluded == 0)
        if len(closed):
            self.counters["wl_moves"] += 1
            self._collect(closed[[np.argmin(self.sb_erases[closed])]], now)

    def _background_gc(self, now: int) -> None:
        idle = self.media.timing.idle_since()
        if self._free < self.bg_gc_threshold and idle <= now:
            ranked = self.pick(self.valid_count, self.excluded, self.last_write,
                               self._seq, self.sb_size, 1)
            if len(ranked) and self.valid_count[ranked[0]] < self.sb_size:
                self._collect(ranked, idle)

    def _collect(self, victims: np.ndarray, now: int | None) -> None:
        """Move the victims' valid sectors to the GC stream, then erase the victims.

        A victim is erased as soon as all of its data has been programmed
        elsewhere (see ``_erase_relocated``), which is also what lets a
        batch of victims need only one free superblock to start.
        """
        S, ss = self.sb_size, self.geometry.sector_size
        self.excluded[victims] = EXCLUDED  # not candidates while being emptied
        rows, offs = np.nonzero(self.valid.reshape(self.n_sb, S)[victims])
        slots = victims[rows] * S + offs
        self._relocating = [victims, np.cumsum(self.valid_count[victims]), 0]
        self.valid[slots] = False  # the copies being made become the valid ones
        self.valid_count[victims] = 0
        n_pad = -len(slots) % self.geometry.sectors_per_page
        lpns = np.concatenate([self.nand.oob_lpn[slots], np.full(n_pad, -1, np.int64)])
        seqs = np.concatenate([self.nand.oob_seq[slots], np.full(n_pad, -1, np.int64)])
        data = None
        done = now
        if len(slots) and (now is not None or self.nand.store_data):
            sectors, done = self.media.read_sectors(slots.tolist(), now)
            data = b"".join(sectors) + bytes(n_pad * ss)
        if len(slots):
            done = self._place(GC, lpns, seqs, data, done, n_pad)
        self._erase_relocated(len(slots), done)
        self._relocating = None
        self.counters["gc_victims"] += len(victims)

    def _erase_relocated(self, placed: int, now: int | None) -> None:
        """Erase the victims whose data lies within the first ``placed`` relocated sectors."""
        victims, ends, erased = self._relocating
        upto = int(np.searchsorted(ends, placed, side="right"))
        if upto <= erased:
            return
        done = victims[erased:upto]
        self.media.erase_superblocks(done, now)
        self.state[done] = FREE
        self.sb_erases[done] += 1
        self._free += len(done)
        self._relocating[2] = upto
