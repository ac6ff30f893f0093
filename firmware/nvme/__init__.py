"""The firmware's NVMe command set: ports to the DMA engine and device DRAM, admin and I/O commands, the loop."""
