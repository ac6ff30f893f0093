"""TLP rules the UltraScale+ model lets through, checked on every RQ request.

The hard IP model does not enforce max payload size or max read request
size on the design's requests, silently drops a request that crosses a
4 KiB boundary (a read then never completes), and does not stop a tag from
being reused while a read is outstanding. ``TlpRuleChecker`` watches every
request the design sends (through PcieTb's RQ tap) and every completion the
model returns on RC, and records a violation for:

- a memory write payload above the programmed max payload size,
- a memory read above the programmed max read request size,
- a request that crosses a 4 KiB boundary,
- a read tag reused before the completion that ends its request, or before
  the requester's completion timeout could have ended it (PCIe's default
  range starts at 50 us: COMPLETION_TIMEOUT_NS),
- a request outside the host buffers handed out (PcieTb.alloc_dma).

Under the IOMMU the address on RQ is a bus address (IOVA); what must stay
inside the buffers is the physical address it translates to, so the IOMMU
seam reports each request that reaches memory (``reaches_memory``) and the
RQ-side address check is off. A request the IOMMU refuses never reaches
memory: it is the test's to expect (tb.iommu_seam.FaultAccount).

Violations are logged when they happen (a dropped read may hang the test
before any check runs) and fail the test in the pyuvm check phase.
"""

from __future__ import annotations

import logging

from cocotbext.pcie.core.tlp import Tlp

# the shortest completion timeout PCIe's default range allows: a tag outstanding this long may be reused
COMPLETION_TIMEOUT_NS = 50_000
PAGE_4K = 4096


class TlpRuleChecker:
    """Checks RQ requests against MPS, MRRS, 4 KiB, tags and the host's buffers.

    ``pcie_cap`` is the device's PCIe capability, whose MPS and MRRS the root
    complex programs at enumeration; ``buffers`` the (base, size) list the
    host allocates into.
    """

    def __init__(self, pcie_cap, buffers: list[tuple[int, int]]) -> None:
        self.pcie_cap = pcie_cap
        self.buffers = buffers
        self.violations: list[str] = []
        self.requests = 0
        self.completions = 0
        self.outstanding: dict[int, tuple[int, int]] = {}  # tag -> (address, time) of the read
        # False when an IOMMU translates RQ addresses: reaches_memory() checks the physical ones
        self.check_rq_addresses = True
        self.log = logging.getLogger("cocotb.tb.tlp_rules")

    @property
    def mps_bytes(self) -> int:
        return 128 << self.pcie_cap.max_payload_size

    @property
    def mrrs_bytes(self) -> int:
        return 128 << self.pcie_cap.max_read_request_size

    def _violation(self, message: str) -> None:
        self.violations.append(message)
        # a warning: the scoreboard's check_phase assertion is what fails the test
        self.log.warning("TLP rule violation: %s", message)

    def request(self, tlp: Tlp, time_ns: int) -> None:
        self.requests += 1
        name = tlp.fmt_type.name
        is_write = name.startswith("MEM_WRITE")
        is_read = name.startswith("MEM_READ")
        if not (is_write or is_read):
            self._violation(f"{time_ns} ns: unexpected request type {name}")
            return
        length = tlp.get_payload_size() if is_write else tlp.length * 4 or 4096
        addr = tlp.address
        where = f"{time_ns} ns: {name} of {length} B at {addr:#x} (tag {tlp.tag})"
        if is_write and length > self.mps_bytes:
            self._violation(f"{where}: payload above max payload size {self.mps_bytes} B")
        if is_read and length > self.mrrs_bytes:
            self._violation(f"{where}: read above max read request size {self.mrrs_bytes} B")
        if addr // PAGE_4K != (addr + length - 1) // PAGE_4K:
            self._violation(f"{where}: crosses a 4 KiB boundary")
        if self.check_rq_addresses:
            self._check_inside(where, addr, length)
        if is_read:
            if tlp.tag in self.outstanding:
                old_addr, old_ns = self.outstanding[tlp.tag]
                if time_ns - old_ns < COMPLETION_TIMEOUT_NS:
                    self._violation(f"{where}: tag reused while the read at {old_addr:#x}, sent at {old_ns} ns, "
                                    "is outstanding")
            self.outstanding[tlp.tag] = (addr, time_ns)

    def _check_inside(self, where: str, addr: int, length: int) -> None:
        if not any(base <= addr and addr + length <= base + size for base, size in self.buffers):
            self._violation(f"{where}: outside every host buffer")

    def reaches_memory(self, tlp: Tlp, phys: int) -> None:
        """A request of the design's, translated to ``phys``, is about to touch host memory."""
        is_write = tlp.fmt_type.name.startswith("MEM_WRITE")
        length = tlp.get_payload_size() if is_write else (tlp.length or 1024) * 4
        self._check_inside(f"{tlp.fmt_type.name} of {length} B at bus address {tlp.address:#x} -> {phys:#x}",
                           phys, length)

    def completion(self, tlp: Tlp, time_ns: int) -> None:
        """A completion on RC; the one with 'request completed' frees its tag."""
        self.completions += 1
        if tlp.tag not in self.outstanding:
            self._violation(f"{time_ns} ns: completion for tag {tlp.tag}, which has no read outstanding")
        elif tlp.request_completed:
            del self.outstanding[tlp.tag]
