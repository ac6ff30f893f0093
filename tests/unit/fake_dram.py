"""Device DRAM as a bytearray, for the firmware's DMA fakes of the unit tests."""

from __future__ import annotations


class FakeDram:
    """``DeviceDram`` on a bytearray; a DmaPort fake moves bytes in and out of ``mem``."""

    def __init__(self, size: int) -> None:
        self.mem = bytearray(size)

    async def read(self, addr: int, length: int) -> bytes:
        return bytes(self.mem[addr:addr + length])

    async def write(self, addr: int, data: bytes) -> None:
        self.mem[addr:addr + len(data)] = data

    def reset(self) -> None:
        """Nothing waits across a reset here."""
