`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * NVMe controller front end behind the Xilinx UltraScale+ PCIe hard IP.
 * BAR0 holds the controller registers and the doorbells.
 */
module nvme_ctrl #
(
    // Width of the PCIe AXI streams in bits (64, 128 or 256)
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // CQ tuser width (UltraScale+)
    parameter AXIS_PCIE_CQ_USER_WIDTH = 88,
    // CC tuser width (UltraScale+)
    parameter AXIS_PCIE_CC_USER_WIDTH = 33,
    // BAR0 size is 2**BAR0_ADDR_WIDTH bytes
    parameter BAR0_ADDR_WIDTH = 14,
    // I/O queue pairs in addition to the admin queue
    parameter IO_QUEUES = 64,
    // CAP.MQES: maximum I/O queue size, zero-based
    parameter [15:0] MQES = 16'd4095,
    // CAP.DSTRD: doorbell stride is 4 << DSTRD bytes
    parameter [3:0] DSTRD = 4'd0,
    // CAP.MPSMAX: largest memory page size is 4 KiB << MPSMAX
    parameter [3:0] MPSMAX = 4'd2
)
(
    /*
     * Clock and reset from the hard IP (inputs: the testbench drives them)
     */
    input  wire                               user_clk,
    input  wire                               user_reset,

    /*
     * Completer request (CQ)
     */
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]    s_axis_cq_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]    s_axis_cq_tkeep,
    input  wire                               s_axis_cq_tvalid,
    output wire                               s_axis_cq_tready,
    input  wire                               s_axis_cq_tlast,
    input  wire [AXIS_PCIE_CQ_USER_WIDTH-1:0] s_axis_cq_tuser,

    /*
     * Completer completion (CC)
     */
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]    m_axis_cc_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]    m_axis_cc_tkeep,
    output wire                               m_axis_cc_tvalid,
    input  wire                               m_axis_cc_tready,
    output wire                               m_axis_cc_tlast,
    output wire [AXIS_PCIE_CC_USER_WIDTH-1:0] m_axis_cc_tuser
);

localparam QUEUE_COUNT = IO_QUEUES + 1;
localparam QID_W = $clog2(QUEUE_COUNT);

wire [BAR0_ADDR_WIDTH-1:2] reg_addr;
wire reg_wr_en;
wire [31:0] reg_wr_data;
wire [3:0] reg_wr_strb;
wire reg_rd_en;
wire [31:0] reg_rd_data;

// Controller state and doorbell events, consumed by the queue engine
/* verilator lint_off UNUSEDSIGNAL */
wire ctrl_enabled;
wire ctrl_reset;
wire [3:0] cc_mps;
wire [2:0] cc_ams;
wire [3:0] cc_iosqes;
wire [3:0] cc_iocqes;
wire [11:0] aqa_asqs;
wire [11:0] aqa_acqs;
wire [63:0] asq_base;
wire [63:0] acq_base;
wire [31:0] intm;
wire db_valid;
wire [QID_W-1:0] db_qid;
wire db_is_cq;
wire [15:0] db_value;
/* verilator lint_on UNUSEDSIGNAL */

pcie_us_bar_completer #(
    .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
    .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
    .AXIS_PCIE_CQ_USER_WIDTH(AXIS_PCIE_CQ_USER_WIDTH),
    .AXIS_PCIE_CC_USER_WIDTH(AXIS_PCIE_CC_USER_WIDTH),
    .ADDR_WIDTH(BAR0_ADDR_WIDTH)
)
bar0_completer_inst (
    .clk(user_clk),
    .rst(user_reset),
    .s_axis_cq_tdata(s_axis_cq_tdata),
    .s_axis_cq_tkeep(s_axis_cq_tkeep),
    .s_axis_cq_tvalid(s_axis_cq_tvalid),
    .s_axis_cq_tready(s_axis_cq_tready),
    .s_axis_cq_tlast(s_axis_cq_tlast),
    .s_axis_cq_tuser(s_axis_cq_tuser),
    .m_axis_cc_tdata(m_axis_cc_tdata),
    .m_axis_cc_tkeep(m_axis_cc_tkeep),
    .m_axis_cc_tvalid(m_axis_cc_tvalid),
    .m_axis_cc_tready(m_axis_cc_tready),
    .m_axis_cc_tlast(m_axis_cc_tlast),
    .m_axis_cc_tuser(m_axis_cc_tuser),
    .reg_addr(reg_addr),
    .reg_wr_en(reg_wr_en),
    .reg_wr_data(reg_wr_data),
    .reg_wr_strb(reg_wr_strb),
    .reg_rd_en(reg_rd_en),
    .reg_rd_data(reg_rd_data)
);

nvme_ctrl_regs #(
    .ADDR_WIDTH(BAR0_ADDR_WIDTH),
    .QUEUE_COUNT(QUEUE_COUNT),
    .MQES(MQES),
    .DSTRD(DSTRD),
    .MPSMAX(MPSMAX)
)
regs_inst (
    .clk(user_clk),
    .rst(user_reset),
    .reg_addr(reg_addr),
    .reg_wr_en(reg_wr_en),
    .reg_wr_data(reg_wr_data),
    .reg_wr_strb(reg_wr_strb),
    .reg_rd_en(reg_rd_en),
    .reg_rd_data(reg_rd_data),
    .ctrl_enabled(ctrl_enabled),
    .ctrl_reset(ctrl_reset),
    .cc_mps(cc_mps),
    .cc_ams(cc_ams),
    .cc_iosqes(cc_iosqes),
    .cc_iocqes(cc_iocqes),
    .aqa_asqs(aqa_asqs),
    .aqa_acqs(aqa_acqs),
    .asq_base(asq_base),
    .acq_base(acq_base),
    .intm(intm),
    .engine_idle(1'b1),
    .db_valid(db_valid),
    .db_qid(db_qid),
    .db_is_cq(db_is_cq),
    .db_value(db_value)
);

endmodule

`resetall
