"""The IOMMU in the simulation: between the root complex and host memory, and under the host's DMA API.

``IommuSeam`` wraps the root complex's handlers of upstream memory requests
(MEM_READ/_64, MEM_WRITE/_64). cocotbext-pcie's root complex hands every
TLP that arrives from any of its ports to those handlers one at a time, in
arrival order, so this is the one place where every DMA of every device
meets host memory: the NVMe controller's SQ fetches, PRP-list and SGL
reads, data reads and writes, CQE writes, its MSI-X messages, and the DMAs
of any other device on the bus. Each request is translated with
models.iommu's ``Iommu`` under its requester id:

- a write waits its translation time in line (posted writes stay ordered:
  data, then the CQE, then the MSI-X behind it), then lands at the
  physical address, or is dropped on a fault;
- a read is translated at once and its cost is added to that read's
  completion time in the hard IP model (``add_read_latency``), which
  already holds completions for the host's memory latency: awaiting it
  in line would hide it under that latency. A faulting read is answered
  with Unsupported Request and never touches memory.
- a request carrying a PCIe Address Type goes to the ATS translation
  agent (tb/ats_agent.py): a Translation Request is answered with
  translation entries, a translated request passes untranslated if a
  translation in force grants it.

The page tables live in host memory (a pool of the root complex's memory
space) and the walk reads them there. ``HostDma`` is the host side: the
DMA API a driver calls, spending map/unmap CPU time on its own coroutine
and firing the lazy policy's 10 ms flush timer in the background.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import cocotb
from cocotb.triggers import Lock, Timer
from cocotb.utils import get_sim_time
from cocotbext.pcie.core.tlp import PcieId, Tlp, TlpAt, TlpType

from models.iommu import (BufferPhysMem, DmaApi, DmaCosts, DmaDirection, DmaPolicy, Fault, FaultCause,
                          FlushQueueConfig, GuestDmaApi, Iommu, IommuCosts, IotlbConfig, Segment,
                          TablePageAllocator, Translation, Vm, VmConfig)
from tb.ats_agent import AtsAgent, DeviceInvalidation
from tb.device_dram import NoHostMemory

# host memory the I/O page tables are allocated from, above the data pools
TABLE_POOL_BASE = 0x2_0000_0000
PAGE = 4096
# guests whose own page tables the pool has room for: one per function of the hard IP model, one peer
MAX_GUESTS = 5

Handler = Callable[[Tlp], Awaitable[None]]
# (requester id, request, its translation) for every upstream memory request
Observer = Callable[[int, Tlp, Translation], None]


@dataclass(frozen=True)
class IommuConfig:
    """Everything a test or benchmark chooses about the IOMMU and the host's DMA API."""

    policy: DmaPolicy = DmaPolicy.STRICT
    iotlb: IotlbConfig = IotlbConfig()
    costs: IommuCosts = IommuCosts()
    dma_costs: DmaCosts = DmaCosts()
    flush_queue: FlushQueueConfig = FlushQueueConfig()
    table_bytes: int = 4 << 20
    # each function of the design belongs to a guest VM of its own, with this config: the policy is then its
    # guest's (stage 1), over the host's stage 2 for that guest; None: bare metal
    vm: VmConfig | None = None
    # the policy of function f's DMA API (in a VM, its guest's) is policies[f]; ``policy`` for the others
    policies: tuple[DmaPolicy, ...] = ()
    # an ATS Invalidate Request, or its Completion, crossing the link and the root complex (tb/ats_agent.py): of
    # the order of a posted write's one-way latency, an assumption
    ats_message_ns: int = 500

    def policy_of(self, function: int) -> DmaPolicy:
        return self.policies[function] if function < len(self.policies) else self.policy


def _now() -> int:
    return int(get_sim_time("ns"))


def _bytes(tlp: Tlp) -> int:
    """The bytes a memory request covers (a length field of 0 is 1024 dwords)."""
    return (tlp.length or 1024) * 4


class IommuSeam:
    """Translates every upstream memory request the root complex receives."""

    def __init__(self, rc, config: IommuConfig,
                 read_latency: Callable[[int, int, int], bool] | None = None) -> None:
        """``read_latency(rid, tag, ns)`` adds a read's translation time to its completion and returns
        True, or returns False for a requester whose reads the seam must delay in line itself."""
        self.rc = rc
        self.config = config
        pool = rc.mem_address_space.create_pool(TABLE_POOL_BASE, config.table_bytes)
        region = pool.alloc_region(config.table_bytes)
        base = region.get_absolute_address(0)
        msi = rc.msi_region
        # in VMs, the second half of the pool is guest memory: a slice for each guest's own page tables
        host_bytes = config.table_bytes // 2 if config.vm else config.table_bytes
        self.iommu = Iommu(BufferPhysMem(region, base), TablePageAllocator(base, host_bytes),
                           iotlb=config.iotlb, costs=config.costs,
                           msi_window=(msi.get_absolute_address(0), msi.size))
        self._guest_tables = [] if config.vm is None else TablePageAllocator(
            base + host_bytes, config.table_bytes - host_bytes).split(MAX_GUESTS)
        self.vms: dict[int, Vm] = {}   # requester id -> the guest VM its device is assigned to
        self.ats = AtsAgent(self.iommu, config.ats_message_ns)
        self.read_latency = read_latency or (lambda rid, tag, ns: False)
        # shared by the DMA API of every device behind this IOMMU (HostDma)
        self.invalidation_queue = Lock()
        self.observers: list[Observer] = []
        self.log = logging.getLogger("cocotb.tb.iommu")
        handlers = rc.rx_tlp_handler
        for kind in (TlpType.MEM_READ, TlpType.MEM_READ_64):
            rc.register_rx_tlp_handler(kind, self._read_handler(handlers[kind]))
        for kind in (TlpType.MEM_WRITE, TlpType.MEM_WRITE_64):
            rc.register_rx_tlp_handler(kind, self._write_handler(handlers[kind]))

    def dma_api(self, rid: int, policy: DmaPolicy | None = None, dma_limit: int = 1 << 32) -> DmaApi:
        """A fresh default domain for ``rid`` under ``policy`` (the configured one by default); in VMs, a new
        guest's domain over that guest's stage 2."""
        policy = policy or self.config.policy
        if self.config.vm is not None:
            if len(self.vms) == MAX_GUESTS:
                raise ValueError(f"room for the page tables of {MAX_GUESTS} guests, not of {rid:#06x}'s too")
            vm = self.vms[rid] = Vm(self.iommu, self.config.vm, self._guest_tables[len(self.vms)])
            return GuestDmaApi(self.iommu, vm, rid, policy, costs=self.config.dma_costs,
                               flush_queue=self.config.flush_queue, dma_limit=dma_limit)
        return DmaApi.for_device(self.iommu, rid, policy, costs=self.config.dma_costs,
                                 flush_queue=self.config.flush_queue, dma_limit=dma_limit)

    def _translate(self, tlp: Tlp, is_write: bool) -> Translation:
        rid = int(tlp.requester_id)
        t = self.iommu.translate(rid, tlp.address, _bytes(tlp), is_write, _now())
        if not t.ok:
            self.log.info("IOMMU fault: %s", t.fault)
        for observer in self.observers:
            observer(rid, tlp, t)
        return t

    def _read_handler(self, handler: Handler) -> Handler:
        async def read(tlp: Tlp) -> None:
            if tlp.at == TlpAt.TRANSLATE_REQ:
                await self._translation_request(tlp)
                return
            if tlp.at == TlpAt.TRANSLATED:
                if self._admit(tlp, is_write=False):
                    await handler(tlp)
                else:
                    await self.rc.send(Tlp.create_ur_completion_for_tlp(tlp, PcieId(0, 0, 0)))
                return
            t = self._translate(tlp, is_write=False)
            if t.cost_ns and not self.read_latency(int(tlp.requester_id), tlp.tag, t.cost_ns):
                await Timer(t.cost_ns, "ns")
            if not t.ok:
                await self.rc.send(Tlp.create_ur_completion_for_tlp(tlp, PcieId(0, 0, 0)))
                return
            await handler(self._at(tlp, t))
        return read

    def _write_handler(self, handler: Handler) -> Handler:
        async def write(tlp: Tlp) -> None:
            if tlp.at == TlpAt.TRANSLATED:
                if self._admit(tlp, is_write=True):
                    await handler(tlp)
                return
            t = self._translate(tlp, is_write=True)
            if t.cost_ns:
                await Timer(t.cost_ns, "ns")
            if t.ok:
                await handler(self._at(tlp, t))
        return write

    def _admit(self, tlp: Tlp, is_write: bool) -> bool:
        """A translated request (ATS): through as it is if the agent granted it, else refused; the observers
        see it as a translation to its own address."""
        if not self.ats.admit(tlp, is_write):
            return False
        for observer in self.observers:
            observer(int(tlp.requester_id), tlp, Translation((Segment(tlp.address, _bytes(tlp)),), 0))
        return True

    async def _translation_request(self, tlp: Tlp) -> None:
        """The agent's translation entries as the request's completion data, after the lookups' time."""
        data, cost = self.ats.answer(tlp)
        if cost and not self.read_latency(int(tlp.requester_id), tlp.tag, cost):
            await Timer(cost, "ns")
        completion = Tlp.create_completion_data_for_tlp(tlp, PcieId(0, 0, 0))
        completion.byte_count = len(data)
        completion.lower_address = tlp.address & 0x7F
        completion.set_data(data)
        await self.rc.send(completion)

    @staticmethod
    def _at(tlp: Tlp, t: Translation) -> Tlp:
        # a request never crosses 4 KiB (the TLP-rule checker sees to it), so one page holds it
        assert len(t.segments) == 1, f"request at {tlp.address:#x} translated to {len(t.segments)} pieces"
        tlp.address = t.segments[0].phys
        return tlp

    def host_view(self, api: DmaApi, addr: int, length: int) -> list[tuple[int, int]]:
        """Physical (address, length) pieces behind a device's bus address range, as its page tables say
        now; the host's view for the scoreboards, which touches neither the IOTLB nor the counters."""
        if api.domain.identity:
            return [(addr, length)]
        pieces = []
        end = addr + length
        while addr < end:
            leaf = self.iommu.walk(api.domain, addr).leaf
            if leaf is None:
                raise NoHostMemory(f"bus address {addr:#x} is not mapped in domain {api.domain.domain_id}")
            chunk = min(end, leaf.iova_base + leaf.page_size) - addr
            pieces.append((leaf.phys_base + addr - leaf.iova_base, chunk))
            addr += chunk
        return pieces


class HostDma:
    """The DMA API as a driver calls it for one device: bus addresses, with CPU time spent in simulated time.

    Without an IOMMU (``api`` None) the bus address is the physical one and nothing costs time, so the
    same driver code runs either way.
    """

    def __init__(self, api: DmaApi | None, invalidation_queue: Lock | None = None,
                 device_tlbs: AtsAgent | None = None) -> None:
        """``device_tlbs``: the ATS agent, which invalidates the device TLBs each of the IOMMU's invalidations
        calls for; the round trip of an invalidation ends only once they have answered."""
        self.api = api
        self.device_tlbs = device_tlbs
        # the IOMMU's one invalidation queue: Linux's qi_submit_sync waits for each round trip under
        # the queue's lock, so invalidations of every CPU (and the lazy flush) take turns
        self.invalidation_queue = invalidation_queue or Lock()
        self._timer: cocotb.Task | None = None
        self.live: dict[int, int] = {}   # bus address -> size of each live mapping

    def map_now(self, phys: int, size: int, direction: DmaDirection) -> int:
        """dma_map without charging time (setup paths such as dma_alloc_coherent); returns the bus address."""
        if self.api is None:
            return phys
        iova = self.api.map(phys, size, direction).iova
        self.live[iova] = size
        return iova

    async def map(self, phys: int, size: int, direction: DmaDirection) -> int:
        """dma_map_single on the I/O path: the map's CPU time passes before the bus address is usable."""
        if self.api is None:
            return phys
        mapping = self.api.map(phys, size, direction)
        self.live[mapping.iova] = size
        if mapping.cost_ns:
            await Timer(mapping.cost_ns, "ns")
        return mapping.iova

    async def unmap(self, bus: int) -> None:
        """dma_unmap_single at completion: strict invalidates now, lazy queues (and may flush a full queue)."""
        if self.api is None:
            return
        invalidations = self.api.iommu.counters.invalidations
        cost = self.api.unmap(bus, self.live.pop(bus), _now())
        device = self._device_invalidations()
        self._arm_flush_timer()
        queued = (self.api.iommu.counters.invalidations - invalidations) * self.api.iommu.costs.invalidation_ns
        if cost > queued:
            await Timer(cost - queued, "ns")
        await self._invalidate(queued, device)

    def _device_invalidations(self) -> list[DeviceInvalidation]:
        """The device TLB invalidations the IOMMU's invalidations just now call for: this caller's to send."""
        return [] if self.device_tlbs is None else self.device_tlbs.take()

    async def _invalidate(self, ns: int, device: list[DeviceInvalidation]) -> None:
        """Hold the invalidation queue for ``ns`` of round trips, then for the device TLBs' (ATS)."""
        if ns:
            async with self.invalidation_queue:
                await Timer(ns, "ns")
                if device:
                    assert self.device_tlbs is not None
                    await self.device_tlbs.invalidate(device)

    def _arm_flush_timer(self) -> None:
        if self._timer is None and self.api is not None and self.api.next_flush_ns is not None:
            self._timer = cocotb.start_soon(self._flush_timer())

    async def _flush_timer(self) -> None:
        """fq_flush_timeout: one batched invalidation when the deadline passes, off every I/O path."""
        assert self.api is not None
        while (deadline := self.api.next_flush_ns) is not None:
            await Timer(max(1, deadline - _now()), "ns")
            ns = self.api.tick(_now())
            await self._invalidate(ns, self._device_invalidations())
        self._timer = None


@dataclass
class FaultAccount:
    """The faults a test has looked at; whatever is left unexamined at the end fails the test."""

    log: list[Fault]
    seen: int = 0

    def take(self) -> list[Fault]:
        """The faults logged since the last call."""
        new = self.log[self.seen:]
        self.seen = len(self.log)
        return new

    def expect(self, cause: FaultCause, is_write: bool, pages: list[int], rid: int) -> None:
        """The faults logged since the last look: each of ``cause`` and direction, by ``rid``, inside one of
        the 4 KiB ``pages`` (bus addresses); each page has one."""
        new = self.take()
        what = f"{cause.value} {'write' if is_write else 'read'} by {rid:#06x} in {[hex(p) for p in pages]}"
        assert new, f"no IOMMU fault logged; expected a {what}"
        for fault in new:
            assert (fault.cause, fault.is_write, fault.rid) == (cause, is_write, rid) and \
                any(page <= fault.iova < page + PAGE for page in pages), f"fault {fault} is not a {what}"
        for page in pages:
            assert any(page <= fault.iova < page + PAGE for fault in new), f"no fault at {page:#x}: {new}"

    async def wait_for(self, count: int, timeout_ns: int = 20_000) -> None:
        """Until ``count`` faults beyond those looked at are logged (posted writes fault with no reply)."""
        deadline = get_sim_time("ns") + timeout_ns
        while len(self.log) - self.seen < count:
            assert get_sim_time("ns") < deadline, (
                f"{len(self.log) - self.seen} IOMMU faults after {timeout_ns} ns, expected {count}")
            await Timer(100, "ns")

    def check_all_seen(self) -> None:
        left = self.log[self.seen:]
        assert not left, f"{len(left)} IOMMU faults no test expected, first: {left[0]}"
