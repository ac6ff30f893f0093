`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Merges several RQ streams into one, a whole frame at a time, taking the
 * sources in round-robin order.
 */
module pcie_us_axis_rq_mux #
(
    // Number of sources
    parameter PORTS = 2,
    // Width of the RQ streams in bits
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // RQ tuser width
    parameter AXIS_PCIE_RQ_USER_WIDTH = 62
)
(
    input  wire                                     clk,
    input  wire                                     rst,

    input  wire [PORTS*AXIS_PCIE_DATA_WIDTH-1:0]    s_axis_rq_tdata,
    input  wire [PORTS*AXIS_PCIE_KEEP_WIDTH-1:0]    s_axis_rq_tkeep,
    input  wire [PORTS-1:0]                         s_axis_rq_tvalid,
    output wire [PORTS-1:0]                         s_axis_rq_tready,
    input  wire [PORTS-1:0]                         s_axis_rq_tlast,
    input  wire [PORTS*AXIS_PCIE_RQ_USER_WIDTH-1:0] s_axis_rq_tuser,

    output wire [AXIS_PCIE_DATA_WIDTH-1:0]          m_axis_rq_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]          m_axis_rq_tkeep,
    output wire                                     m_axis_rq_tvalid,
    input  wire                                     m_axis_rq_tready,
    output wire                                     m_axis_rq_tlast,
    output wire [AXIS_PCIE_RQ_USER_WIDTH-1:0]       m_axis_rq_tuser
);

initial begin
    if (PORTS < 1) begin
        $error("Error: PORTS must be at least 1 (instance %m)");
        $finish;
    end
    if (AXIS_PCIE_DATA_WIDTH != 64 && AXIS_PCIE_DATA_WIDTH != 128 &&
            AXIS_PCIE_DATA_WIDTH != 256 && AXIS_PCIE_DATA_WIDTH != 512) begin
        $error("Error: PCIe interface width must be 64, 128, 256 or 512 (instance %m)");
        $finish;
    end
    if (AXIS_PCIE_KEEP_WIDTH * 32 != AXIS_PCIE_DATA_WIDTH) begin
        $error("Error: PCIe interface requires dword (32-bit) granularity (instance %m)");
        $finish;
    end
end

localparam SEL_W = PORTS > 1 ? $clog2(PORTS) : 1;

reg [SEL_W-1:0] sel_reg;
reg locked_reg;

// Next source with a frame, after the last one served
reg [SEL_W-1:0] next_sel;
reg next_found;
integer i;
/* verilator lint_off UNUSEDSIGNAL */
integer idx;
/* verilator lint_on UNUSEDSIGNAL */
always @* begin
    next_sel = sel_reg;
    next_found = 1'b0;
    for (i = PORTS - 1; i >= 0; i = i - 1) begin
        idx = ({{(32-SEL_W){1'b0}}, sel_reg} + 1 + i) % PORTS;
        if (s_axis_rq_tvalid[idx]) begin
            next_sel = idx[SEL_W-1:0];
            next_found = 1'b1;
        end
    end
end

wire [SEL_W-1:0] cur = locked_reg ? sel_reg : next_sel;
wire cur_valid = locked_reg ? s_axis_rq_tvalid[sel_reg] : next_found;

assign m_axis_rq_tdata = s_axis_rq_tdata[cur*AXIS_PCIE_DATA_WIDTH +: AXIS_PCIE_DATA_WIDTH];
assign m_axis_rq_tkeep = s_axis_rq_tkeep[cur*AXIS_PCIE_KEEP_WIDTH +: AXIS_PCIE_KEEP_WIDTH];
assign m_axis_rq_tvalid = cur_valid;
assign m_axis_rq_tlast = s_axis_rq_tlast[cur];
assign m_axis_rq_tuser = s_axis_rq_tuser[cur*AXIS_PCIE_RQ_USER_WIDTH +: AXIS_PCIE_RQ_USER_WIDTH];

genvar g;
generate
    for (g = 0; g < PORTS; g = g + 1) begin : ready
        assign s_axis_rq_tready[g] = m_axis_rq_tready && cur == g;
    end
endgenerate

always @(posedge clk) begin
    if (cur_valid && m_axis_rq_tready) begin
        sel_reg <= cur;
        locked_reg <= !m_axis_rq_tlast;
    end

    if (rst) begin
        sel_reg <= 0;
        locked_reg <= 1'b0;
    end
end

endmodule

`resetall
