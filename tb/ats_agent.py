"""PCIe ATS at the root complex: the translation agent beside the IOMMU (tb/iommu_seam.py), and its checker.

- A Translation Request (a memory read with Address Type 1) is answered with
  one Translation Completion data entry per 4 KiB page it covers
  (models/iommu/ats.py), from the requester's domain through
  the IOMMU's IOTLB (``Iommu.translation_request``); the lookup's time is
  added to the completion as a read's translation time is. A page nothing
  maps is an entry granting no access, not a fault.
- A translated request (Address Type 2) of a function whose ATS is enabled
  passes to host memory as it is, with no translation.
- Every invalidation the IOMMU makes (strict's per unmap, lazy's flush) is
  sent as an Invalidate Request to the address translation cache of every
  function with ATS enabled in that domain. The host's invalidation ends
  only once each has answered with its Invalidate Completion, one
  ``message_ns`` each way, so the host cannot reuse a page a device may
  still reach. A Completion is a posted message: it cannot pass the
  function's posted writes sent before it, so it arrives only after every
  translated write the function put on the link before answering
  (``sent``, an RQ observer).

The UltraScale+ model hands no message TLP to the design, so Invalidate
Requests and Completions travel through the test bench, to the cache's
``invalidate`` (the SoC firmware's, firmware/nvme/ats.py), with their
latency: the one part of ATS here that does not cross the simulated link.

The checker: a translated request must use a translation the agent granted
that function, for that access, and did not take back with an invalidation
the function has completed since. Anything else (a stale translation, one
never granted, a write on a read-only grant, a function without ATS) is
recorded in ``violations`` and refused as an IOMMU would refuse an
untranslatable request: a read with Unsupported Request, a write dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from collections import Counter

from cocotb.triggers import Event, Timer
from cocotb.utils import get_sim_time
from cocotbext.pcie.core.tlp import PcieId, Tlp, TlpAt

from models.iommu import PAGE_SIZE as PAGE, AtsGrant, Iommu
from models.iommu.ats import ENTRY_BYTES, NO_ACCESS, TranslationEntry


class AtsEndpoint(Protocol):
    """A device's address translation cache, as the agent's Invalidate Requests reach it."""

    async def invalidate(self, addr: int, size: int | None) -> None:
        """Drop the translations of ``size`` bytes from ``addr`` (None: all); return once no request
        using one of them can still be sent."""


@dataclass(frozen=True)
class DeviceInvalidation:
    """An Invalidate Request to send: a function's cache, the range (size None: all), and when the IOMMU's
    invalidation that calls for it was made."""

    rid: int
    addr: int
    size: int | None
    time_ns: int


@dataclass(frozen=True)
class Grant:
    """A translation handed out, and when."""

    grant: AtsGrant
    time_ns: int


def _now() -> int:
    return int(get_sim_time("ns"))


class AtsAgent:
    """Translation Requests answered, translated requests admitted or refused, device TLBs invalidated."""

    def __init__(self, iommu: Iommu, message_ns: int) -> None:
        self.iommu = iommu
        self.message_ns = message_ns
        self.endpoints: dict[int, AtsEndpoint] = {}      # requester id -> its cache, ATS enabled
        self.grants: dict[int, dict[int, Grant]] = {}    # requester id -> untranslated page -> its grant
        self._pending: list[DeviceInvalidation] = []
        self.violations: list[str] = []
        # translated writes each function (by number: the design's RQ carries no bus) put on the link, and those
        # that reached the root complex
        self._writes_sent: Counter[int] = Counter()
        self._writes_arrived: Counter[int] = Counter()
        self._arrival = Event()
        self.translation_requests = 0
        self.translated = 0
        self.invalidate_requests = 0
        iommu.invalidation_listeners.append(self._invalidated)

    def enable(self, rid: int, endpoint: AtsEndpoint) -> None:
        """ATS Enable for the function: its cache takes translations and gets the domain's invalidations."""
        self.endpoints[rid] = endpoint
        self.grants.setdefault(rid, {})

    def answer(self, tlp: Tlp) -> tuple[bytes, int]:
        """A Translation Request's completion data and the time the lookups took."""
        rid = int(tlp.requester_id)
        self.translation_requests += 1
        data, cost = b"", 0
        for n in range(tlp.length * 4 // ENTRY_BYTES):
            grant, spent = self.iommu.translation_request(rid, tlp.address + n * PAGE)
            cost += spent
            if grant is None or rid not in self.endpoints:
                data += NO_ACCESS.pack()
                continue
            self.grants[rid][grant.iova] = Grant(grant, _now())
            data += TranslationEntry(grant.phys, grant.read, grant.write).pack()
        return data, cost

    def sent(self, tlp: Tlp, time_ns: float) -> None:
        """A request leaving the design (an RQ observer): count the translated writes."""
        if tlp.at == TlpAt.TRANSLATED and tlp.fmt_type.name.startswith("MEM_WRITE"):
            self._writes_sent[tlp.requester_id.function] += 1

    def admit(self, tlp: Tlp, is_write: bool) -> bool:
        """Whether a translated request may reach host memory; records why not."""
        rid, page = int(tlp.requester_id), tlp.address & ~(PAGE - 1)
        self.translated += 1
        if is_write:
            self._writes_arrived[tlp.requester_id.function] += 1
            self._arrival.set()
        allowed = any(g.grant.phys == page and (g.grant.write if is_write else g.grant.read)
                      for g in self.grants.get(rid, {}).values())
        if not allowed:
            self.violations.append(f"{_now()} ns: translated {'write' if is_write else 'read'} by {rid:#06x} at "
                                   f"{tlp.address:#x}, which no translation in force grants"
                                   f"{'' if rid in self.endpoints else ' (ATS not enabled)'}")
        return allowed

    def _invalidated(self, domain_id: int | None, addr: int, size: int | None) -> None:
        """The IOMMU invalidated a domain's translations: the same for the device TLBs caching them."""
        for rid in self.endpoints:
            domain = self.iommu.domain_of(rid)
            if domain is not None and domain_id in (None, domain.domain_id):
                self._pending.append(DeviceInvalidation(rid, addr, size, _now()))

    def take(self) -> list[DeviceInvalidation]:
        """The Invalidate Requests the IOMMU's invalidations since the last call call for, for the caller whose
        invalidation that was to send (``HostDma``, at once after its unmap or flush)."""
        taken, self._pending = self._pending, []
        return taken

    async def invalidate(self, requests: list[DeviceInvalidation]) -> None:
        """Send ``requests`` and wait for every Invalidate Completion; the host's invalidation waits for this."""
        for request in requests:
            self.invalidate_requests += 1
            await Timer(self.message_ns, "ns")
            await self.endpoints[request.rid].invalidate(request.addr, request.size)
            function = PcieId.from_int(request.rid).function
            ahead = self._writes_sent[function]
            await Timer(self.message_ns, "ns")
            while self._writes_arrived[function] < ahead:    # the Completion cannot pass them
                self._arrival.clear()
                await self._arrival.wait()
            # what was granted before the IOMMU's invalidation is gone; a grant since reflects the tables as they are
            self.grants[request.rid] = {
                page: g for page, g in self.grants[request.rid].items()
                if g.time_ns > request.time_ns or not (request.size is None or request.addr < page + PAGE
                                                       and page < request.addr + request.size)}
