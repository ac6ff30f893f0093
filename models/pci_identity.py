"""The controller's PCI identity: configuration-space IDs and class code, written down once.

The hard IP model's function 0 takes them (tb/pcie_tb.py), Identify
Controller reports the same vendor IDs (``models.identify``), and the host's
probe finds the controller by its class code, as Linux's nvme-pci matches
PCI_CLASS_STORAGE_EXPRESS rather than a vendor's IDs.
"""

from __future__ import annotations

from dataclasses import dataclass

# PCI Code and ID Assignment: mass storage (01h), Non-Volatile Memory controller (08h), NVM Express (02h)
NVME_CLASS_CODE = 0x01_08_02
XILINX_VENDOR_ID = 0x10EE
# the UltraScale+ integrated block's default IDs for a Gen3 x8 endpoint (PG213)
XILINX_US_PLUS_GEN3X8_DEVICE_ID = 0x9038
XILINX_DEFAULT_SUBSYSTEM_ID = 0x0007


def _check(value: int, bits: int, name: str) -> None:
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{name} {value:#x} does not fit {bits} bits")


@dataclass(frozen=True)
class PciIdentity:
    """Vendor, device, subsystem and revision IDs and the class code of the controller's function."""

    vendor_id: int = XILINX_VENDOR_ID
    device_id: int = XILINX_US_PLUS_GEN3X8_DEVICE_ID
    subsystem_vendor_id: int = XILINX_VENDOR_ID
    subsystem_id: int = XILINX_DEFAULT_SUBSYSTEM_ID
    revision_id: int = 0
    class_code: int = NVME_CLASS_CODE

    def __post_init__(self) -> None:
        for name in ("vendor_id", "device_id", "subsystem_vendor_id", "subsystem_id"):
            _check(getattr(self, name), 16, name)
        _check(self.revision_id, 8, "revision_id")
        _check(self.class_code, 24, "class_code")
