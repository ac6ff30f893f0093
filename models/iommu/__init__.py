"""Pure-Python IOMMU model and host DMA-API policies.

See docs/iommu.md for the model, the cost defaults and how the testbench
plugs it between the root complex and host memory.
"""

from .config import DmaCosts, FlushQueueConfig, IommuCosts, IotlbConfig, ReplacementPolicy
from .dma_api import DmaApi, DmaDirection, DmaMapping, DmaPolicy, DmaStats
from .iommu import (AtsGrant, Domain, Fault, FaultCause, Iommu, IommuCounters, Segment, Translation,
                    make_rid, nested_walk, standalone_iommu)
from .iova import IovaAllocator, IovaExhausted
from .nested import GuestDmaApi, GuestPhysMem, Vm, VmConfig, standalone_vm, standalone_vms
from .pagetable import (HUGE_PAGE_SIZE, PAGE_SIZE, BufferPhysMem, MappingError, PageTable,
                        PhysMem, TablePageAllocator)
from .trace import DmaAccess, TraceResult, run_trace

__all__ = [
    "AtsGrant", "BufferPhysMem", "DmaAccess", "DmaApi", "DmaCosts", "DmaDirection", "DmaMapping",
    "DmaPolicy", "DmaStats", "Domain", "Fault", "FaultCause", "FlushQueueConfig", "GuestDmaApi",
    "GuestPhysMem", "HUGE_PAGE_SIZE", "Iommu", "IommuCosts", "IommuCounters", "IotlbConfig", "IovaAllocator",
    "IovaExhausted", "MappingError", "PAGE_SIZE", "PageTable", "PhysMem", "ReplacementPolicy",
    "Segment", "TablePageAllocator", "TraceResult", "Translation", "Vm", "VmConfig", "make_rid",
    "nested_walk", "run_trace", "standalone_iommu", "standalone_vm", "standalone_vms",
]
