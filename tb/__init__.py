"""Testbench for nvme-cosim: PCIe host side, monitors and scoreboards."""

import warnings

# cocotbext-pcie 0.2.16 still uses cocotb 1.x spellings that cocotb 2 deprecates;
# they are not ours to fix and would bury our own warnings.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\.")
