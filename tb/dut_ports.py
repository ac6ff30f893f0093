"""The design held in reset, its handshake inputs idle, before a test's bus models take them.

A test that ends mid-transaction (a failure, a timeout) leaves its bus
models' tasks killed and their last values on the design's inputs and
outputs: an AXI4-Lite master stopped with AWVALID high would hand the next
test's design a stale mailbox write as soon as its reset ends, and a new
stream sink built while the design still drives the middle of an old RQ
frame would take that beat as the start of its first frame. Every test
therefore holds user_reset high and drives these inputs idle before it
builds its own models: no model samples a beat while reset is high, and
the hard IP model's reset pulse then releases a clean design.
"""

from __future__ import annotations

from cocotb.handle import HierarchyObject

# valid and ready inputs, per interface: CQ, CC, RQ, RC, the firmware mailbox, device DRAM, MSI-X
HANDSHAKE_INPUTS = (
    "s_axis_cq_tvalid", "m_axis_cc_tready", "m_axis_rq_tready", "s_axis_rc_tvalid",
    "s_axil_awvalid", "s_axil_wvalid", "s_axil_bready", "s_axil_arvalid", "s_axil_rready",
    "m_axi_dram_awready", "m_axi_dram_wready", "m_axi_dram_bvalid", "m_axi_dram_arready", "m_axi_dram_rvalid",
    "cfg_interrupt_msix_sent", "cfg_interrupt_msix_fail",
)


def quiesce(dut: HierarchyObject) -> None:
    """Hold the design in reset and drive every handshake input low, now, whatever a previous test left."""
    dut.user_reset.setimmediatevalue(1)
    for name in HANDSHAKE_INPUTS:
        # a top level with its own DRAM model has no DRAM port
        if hasattr(dut, name):
            getattr(dut, name).setimmediatevalue(0)
