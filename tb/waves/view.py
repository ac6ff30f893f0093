"""The signals `make waves` opens on, in groups: names only, no widths.

Names are relative to the design instance in the simulation top level
(tb/sim_top.py). Their bit ranges come from the waveform when the save file
is generated (tb/waves/gtkw.py), so a width change in rtl/ follows by itself,
and a renamed or removed signal stops the generator with its name.
"""

from __future__ import annotations

from typing import NamedTuple

from tb.sim_top import DESIGN_INSTANCE, SIM_TOP

# where a Verilator FST holds the design: the simulation top level's instance of nvme_ctrl
DESIGN_SCOPE = f"{SIM_TOP}.{DESIGN_INSTANCE}"


class Group(NamedTuple):
    """A titled, collapsible block of traces; no title puts its signals outside any block."""

    title: str | None
    signals: tuple[str, ...]


VIEW: tuple[Group, ...] = (
    # outside any block, so that they stay in sight with every block collapsed
    Group(None, ("user_clk", "user_reset")),
    Group("PCIe CQ (requests to BAR0)", (
        "s_axis_cq_tvalid", "s_axis_cq_tready", "s_axis_cq_tlast",
        "s_axis_cq_tkeep", "s_axis_cq_tdata", "s_axis_cq_tuser",
    )),
    Group("PCIe CC (completions)", (
        "m_axis_cc_tvalid", "m_axis_cc_tready", "m_axis_cc_tlast",
        "m_axis_cc_tkeep", "m_axis_cc_tdata",
    )),
    Group("BAR0 register accesses", (
        "bar0_completer_inst.state_reg",
        "reg_addr", "reg_wr_en", "reg_wr_strb", "reg_wr_data", "reg_rd_en",
        # the read data the completer returns: the controller registers' or the MSI-X table's,
        # selected in nvme_ctrl, which has no wire of its own for it
        "bar0_completer_inst.reg_rd_data",
    )),
    Group("Controller state", (
        "fn[0].regs_inst.state_reg", "fn_ctrl_enabled", "fn_ctrl_reset", "fn[0].regs_inst.shst_reg",
        "aqa_asqs", "aqa_acqs", "asq_base", "acq_base",
        "db_valid", "db_qid", "db_value",
    )),
    Group("PCIe RQ (requests from the design)", (
        "m_axis_rq_tvalid", "m_axis_rq_tready", "m_axis_rq_tlast",
        "m_axis_rq_tkeep", "m_axis_rq_tdata",
    )),
    Group("PCIe RC (completions to the design)", (
        "s_axis_rc_tvalid", "s_axis_rc_tready", "s_axis_rc_tlast", "s_axis_rc_tdata",
    )),
    Group("Queue engine", (
        "grant_valid", "grant_qid",
        "sq_fetch_inst.f_state_reg", "sq_fetch_inst.r_state_reg",
        "push_valid", "cmd_valid", "cmd_count",
        "cq_poster_inst.state_reg",
        "irq_valid", "irq_vector",
        "cfg_interrupt_msix_int", "cfg_interrupt_msix_sent", "fw_irq",
    )),
)


def paths(group: Group, scope: str = DESIGN_SCOPE) -> list[str]:
    """The group's signals with their path from the top of the waveform."""
    return [f"{scope}.{name}" for name in group.signals]
