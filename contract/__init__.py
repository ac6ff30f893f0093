"""The hardware/software contract: register maps in SystemRDL and the design's build parameters.

``*.rdl`` describe the registers once; ``tools/regmap.py`` (``make regs``)
generates from them the Verilog headers in rtl/include/, the Python maps
here (``nvme_bar0``, ``fw_mailbox``), the pyuvm register models in
``contract/uvm/``, C headers in ``contract/c/`` and the tables in
``docs/regs/``. ``params`` holds the build parameters, which reach the RTL
build, the test bench and the models from there.
"""
