"""The design's build parameters, defined once.

``DesignParams`` is the top level's parameter set: ``tools/regmap.py``
writes its defaults into rtl/include/nvme_ctrl_params.vh (the defaults of
``nvme_ctrl``'s parameters), ``tb/build.py`` passes a set to Verilator and
to the simulation (``NVME_COSIM_PARAMETERS``), and the test bench and the
models read it back with ``DesignParams.current()`` instead of carrying
their own copies of queue counts and vector counts. The BAR0 register map
is compiled with these values (CAP's fields, the doorbell and MSI-X table
sizes).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace

ENV_VAR = "NVME_COSIM_PARAMETERS"


@dataclass(frozen=True)
class DesignParams:
    """Top-level parameters of nvme_ctrl, under their Verilog names."""

    # width of the PCIe AXI streams in bits (64, 128, 256 or 512)
    AXIS_PCIE_DATA_WIDTH: int = 256
    # BAR0 is 2**BAR0_ADDR_WIDTH bytes
    BAR0_ADDR_WIDTH: int = 14
    # physical functions, each an NVMe controller with its own BAR0 (1 to 4, the hard IP's)
    FUNCTIONS: int = 1
    # I/O queue pairs of each controller, in addition to its admin queue: its queue ids and vectors
    IO_QUEUES: int = 64
    # queue table entries, every controller's admin queue included: the pool their I/O queues are drawn
    # from (0: FUNCTIONS x (IO_QUEUES + 1), a queue pair for every queue id of every controller)
    QUEUE_POOL: int = 0
    # CAP.MQES: largest I/O queue, zero-based
    MQES: int = 4095
    # CAP.DSTRD: doorbell stride is 4 << DSTRD bytes
    DSTRD: int = 0
    # CAP.MPSMAX: largest memory page size is 4 KiB << MPSMAX
    MPSMAX: int = 2
    # command slots: fetched commands not yet completed
    CMD_SLOTS: int = 64
    # SQ fetch reads in flight, and the most SQ entries one read fetches
    FETCH_TAGS: int = 8
    MAX_FETCH: int = 8
    # clock cycles per 100 us (the interrupt coalescing time unit) at 250 MHz
    COALESCE_TICK_CYCLES: int = 25000
    # device DRAM byte address width and AXI4 id width
    DRAM_ADDR_WIDTH: int = 32
    DRAM_ID_WIDTH: int = 4
    # DMA requests in flight, and data read tags after the fetch and pointer tags
    DMA_REQS: int = 16
    DMA_DATA_TAGS: int = 20

    def __post_init__(self) -> None:
        # several controllers number their vectors (and DB_ERR their queues) {f, v}, and the firmware
        # mailbox holds queue table entries and vectors in 7 bits and 96 coalescing-disable bits
        if not 1 <= self.FUNCTIONS <= 4:
            raise ValueError(f"FUNCTIONS={self.FUNCTIONS}: the hard IP has 1 to 4 physical functions")
        if self.FUNCTIONS > 1 and (self.queue_count & (self.queue_count - 1)
                                   or self.FUNCTIONS * self.queue_count > 96):
            raise ValueError(f"FUNCTIONS={self.FUNCTIONS}, IO_QUEUES={self.IO_QUEUES}: with several functions, "
                             "IO_QUEUES + 1 must be a power of two and all functions' vectors at most 96")
        pool = self.QUEUE_POOL or self.FUNCTIONS * self.queue_count
        if (self.FUNCTIONS == 1 and pool != self.queue_count) or not 2 * self.FUNCTIONS <= pool <= min(
                self.FUNCTIONS * self.queue_count, 128):
            raise ValueError(f"QUEUE_POOL={self.QUEUE_POOL}: one controller has an entry per queue; several need an "
                             "admin and an I/O queue each, and at most an entry per queue id of each")

    @property
    def queue_table_entries(self) -> int:
        """The queue table: every controller's admin queue, and the pool its I/O queues are drawn from."""
        return self.QUEUE_POOL or self.FUNCTIONS * self.queue_count

    @property
    def queue_count(self) -> int:
        """One controller's queues including its admin queue: one doorbell pair and one MSI-X vector each."""
        return self.IO_QUEUES + 1

    @property
    def doorbell_stride(self) -> int:
        """Bytes from one doorbell to the next (CAP.DSTRD)."""
        return 4 << self.DSTRD

    @property
    def msix_vectors(self) -> int:
        return self.queue_count

    # CAP fields the design fixes rather than takes as parameters: they reach the RTL as constants
    # of the BAR0 map (NVME_CAP_*_VALUE in rtl/include/nvme_bar0_regs.vh)
    MPSMIN = 0
    # CAP.AMS: weighted round robin with urgent priority class
    AMS = 1
    # CAP.TO in 500 ms units
    TIMEOUT = 1

    def verilog(self) -> dict[str, int]:
        """Every parameter by its Verilog name, for the build."""
        return asdict(self)

    def changed(self) -> dict[str, int]:
        """The parameters that differ from the defaults."""
        default = DesignParams()
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}

    def with_overrides(self, overrides: dict[str, int]) -> DesignParams:
        unknown = set(overrides) - {f.name for f in fields(self)}
        if unknown:
            raise KeyError(f"not a parameter of nvme_ctrl: {', '.join(sorted(unknown))}")
        return replace(self, **overrides)

    def rdl(self) -> dict[str, int]:
        """The BAR0 register map's parameters (contract/nvme_bar0.rdl)."""
        return {"QUEUES": self.queue_count, "MQES": self.MQES, "DSTRD": self.DSTRD, "MPSMIN": self.MPSMIN,
                "MPSMAX": self.MPSMAX, "AMS": self.AMS, "TIMEOUT": self.TIMEOUT}

    def to_env(self) -> dict[str, str]:
        """The environment that tells a simulation which build it runs on."""
        return {ENV_VAR: json.dumps(self.changed(), sort_keys=True)}

    @classmethod
    def current(cls) -> DesignParams:
        """The parameters of the build this process simulates (the defaults outside a simulation)."""
        return cls().with_overrides(json.loads(os.environ.get(ENV_VAR, "{}")))
