"""Testbench for nvme-cosim: PCIe host side, monitors and scoreboards."""
