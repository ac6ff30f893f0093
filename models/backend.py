"""The storage back end the firmware drives, and its fixed-latency kind (``nvm``).

The firmware works in logical pages of ``page_size`` bytes (4 KiB) and in
simulated nanoseconds. Every call takes the arrival time ``now_ns`` and
returns when the operation completes, so the firmware can wait until then
in simulated time and a standalone benchmark can feed its own arrival
times. Nothing here knows about cocotb.

Conventions every kind follows:

* Unwritten and deallocated (trimmed) pages read as zeros. The firmware's
  Identify Namespace advertises DLFEAT "read returns zeroes" on this basis.
* Errors the host can cause (LBA out of range, a zoned write not at the
  write pointer, ...) raise :class:`BackendError` carrying the NVMe status
  code (``models.nvme_spec``) the firmware posts, so the firmware handles
  errors without knowing the kind. Misuse of the Python API (data not a
  whole number of pages) raises ``ValueError``.
* ``write`` returns the completion the host sees: with a volatile write
  cache that is the early completion from the buffer, and only ``flush``
  (NVMe Flush, and the shutdown the firmware performs on CC.SHN) makes the
  data durable.
* ``power_loss`` drops whatever is volatile; ``recover`` rebuilds state from
  what is durable. Afterwards every write that completed, and was flushed
  when the write cache is on, reads back intact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from models.nvme_logs import data_units
from models.nvme_spec import GenericStatus, Status, StatusCode


class BackendError(Exception):
    """A host-visible failure; ``code`` is the NVMe status code the command completes with."""

    def __init__(self, code: StatusCode, message: str = "") -> None:
        super().__init__(f"{code.name}: {message}" if message else code.name)
        self.code = code

    @property
    def status(self) -> Status:
        """The status the firmware posts: the code with Do Not Retry, as on the firmware's own failures."""
        return Status.of(self.code, dnr=True)


class Backend(ABC):
    """What the firmware calls. Subclasses set ``page_size`` and ``capacity_pages``."""

    page_size: int
    capacity_pages: int

    @abstractmethod
    def read(self, lpn: int, count: int, now_ns: int) -> tuple[bytes, int]:
        """Read ``count`` pages from ``lpn``: (data, completion time)."""

    @abstractmethod
    def write(self, lpn: int, data: bytes, now_ns: int) -> int:
        """Write whole pages from ``lpn``; returns the host-visible completion time."""

    @abstractmethod
    def trim(self, lpn: int, count: int, now_ns: int) -> int:
        """Deallocate pages; they read as zeros afterwards."""

    @abstractmethod
    def flush(self, now_ns: int) -> int:
        """Make every completed write durable; returns when that is done."""

    @abstractmethod
    def smart(self) -> dict[str, float]:
        """Counters for the SMART / Health log page and for studies."""

    def power_loss(self) -> None:
        """Lose volatile state. Default: a kind with nothing volatile."""

    def recover(self) -> None:
        """Rebuild state after :meth:`power_loss`."""

    # -- helpers for subclasses --------------------------------------------

    def _check_range(self, lpn: int, count: int) -> None:
        if count < 0 or lpn < 0 or lpn + count > self.capacity_pages:
            raise BackendError(GenericStatus.LBA_OUT_OF_RANGE,
                               f"pages {lpn}..{lpn + count - 1} beyond {self.capacity_pages}")

    def _pages_of(self, data: bytes) -> int:
        n, rem = divmod(len(data), self.page_size)
        if rem:
            raise ValueError(f"data is not a whole number of {self.page_size}-byte pages")
        return n


def host_page_counters(pages_read: int, pages_written: int, page_size: int) -> dict[str, float]:
    """The SMART counters every back end that counts host pages reports."""
    return {
        "data_units_read": data_units(pages_read * page_size),
        "data_units_written": data_units(pages_written * page_size),
        "host_read_pages": pages_read,
        "host_write_pages": pages_written,
    }


class NvmBackend(Backend):
    """Fixed-latency, byte-accurate storage (NVMeVirt's ``nvm`` kind).

    Models an ideal medium such as persistent memory: every read and write
    takes a configurable fixed time whatever the load, and nothing is
    volatile. Data is stored sparsely, so large capacities cost nothing.
    """

    def __init__(self, capacity_pages: int = 1 << 20, page_size: int = 4096,
                 read_ns: int = 10_000, write_ns: int = 10_000) -> None:
        self.capacity_pages = capacity_pages
        self.page_size = page_size
        self.read_ns = read_ns
        self.write_ns = write_ns
        self._pages: dict[int, bytes] = {}
        self._read_bytes = 0
        self._written_bytes = 0

    def read(self, lpn: int, count: int, now_ns: int) -> tuple[bytes, int]:
        self._check_range(lpn, count)
        zero = bytes(self.page_size)
        data = b"".join(self._pages.get(p, zero) for p in range(lpn, lpn + count))
        self._read_bytes += len(data)
        return data, now_ns + self.read_ns

    def write(self, lpn: int, data: bytes, now_ns: int) -> int:
        n = self._pages_of(data)
        self._check_range(lpn, n)
        ps = self.page_size
        for i in range(n):
            self._pages[lpn + i] = bytes(data[i * ps:(i + 1) * ps])
        self._written_bytes += len(data)
        return now_ns + self.write_ns

    def trim(self, lpn: int, count: int, now_ns: int) -> int:
        self._check_range(lpn, count)
        # a trim may span the device: visit the fewer of the range and the stored pages
        pages = range(lpn, lpn + count) if count <= len(self._pages) else [
            p for p in self._pages if lpn <= p < lpn + count]
        for p in pages:
            self._pages.pop(p, None)
        return now_ns

    def flush(self, now_ns: int) -> int:
        return now_ns

    def smart(self) -> dict[str, float]:
        return {
            "data_units_read": data_units(self._read_bytes),
            "data_units_written": data_units(self._written_bytes),
            "host_read_pages": self._read_bytes // self.page_size,
            "host_write_pages": self._written_bytes // self.page_size,
        }

