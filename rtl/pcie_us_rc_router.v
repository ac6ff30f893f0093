`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * The requester completion (RC) front end: decodes each completion's
 * descriptor once, in the frame's first beat (256 or 512 bits: it holds
 * all three descriptor dwords), and routes the frame by tag: port 0 takes tags below
 * TAG_SPLIT_1, port 1 tags below TAG_SPLIT_2, port 2 the rest. The decoded
 * fields go to every port, valid in a frame's first beat: lower address,
 * error (an error code, an unsuccessful completion status or the poisoned
 * bit: the read failed), request completed, dword count and tag.
 */
module pcie_us_rc_router #
(
    // Width of the RC stream in bits (256 or 512: the descriptor is in the first beat)
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // RC tuser width
    parameter AXIS_PCIE_RC_USER_WIDTH = 75,
    // First tag of port 1
    parameter [7:0] TAG_SPLIT_1 = 8'd8,
    // First tag of port 2
    parameter [7:0] TAG_SPLIT_2 = 8'd12
)
(
    input  wire                                 clk,
    input  wire                                 rst,

    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]      s_axis_rc_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]      s_axis_rc_tkeep,
    input  wire                                 s_axis_rc_tvalid,
    output wire                                 s_axis_rc_tready,
    input  wire                                 s_axis_rc_tlast,
    input  wire [AXIS_PCIE_RC_USER_WIDTH-1:0]   s_axis_rc_tuser,

    output wire [AXIS_PCIE_DATA_WIDTH-1:0]      m_axis_rc_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]      m_axis_rc_tkeep,
    output wire [2:0]                           m_axis_rc_tvalid,
    input  wire [2:0]                           m_axis_rc_tready,
    output wire                                 m_axis_rc_tlast,
    output wire [AXIS_PCIE_RC_USER_WIDTH-1:0]   m_axis_rc_tuser,

    /*
     * The completion descriptor, valid with the first beat of a frame
     */
    output wire [11:0]                          m_axis_rc_lower_addr,
    output wire                                 m_axis_rc_failed,
    output wire                                 m_axis_rc_completed,
    output wire [10:0]                          m_axis_rc_dwords,
    output wire [7:0]                           m_axis_rc_tag
);

initial begin
    if (AXIS_PCIE_DATA_WIDTH != 256 && AXIS_PCIE_DATA_WIDTH != 512) begin
        $error("Error: the RC front end reads the descriptor from a 256- or 512-bit first beat (instance %m)");
        $finish;
    end
    if (TAG_SPLIT_1 > TAG_SPLIT_2) begin
        $error("Error: TAG_SPLIT_1 must not exceed TAG_SPLIT_2 (instance %m)");
        $finish;
    end
end

reg in_frame_reg;
reg [1:0] port_reg;

// the hard IP samples tready from power-up, before the first reset
initial begin
    in_frame_reg = 1'b0;
    port_reg = 2'd0;
end

// UltraScale+ RC descriptor: dword 0 lower address [11:0], error code [15:12], request completed
// [30]; dword 1 dword count [42:32], completion status [45:43], poisoned [46]; dword 2 tag [71:64]
wire [7:0] tag = s_axis_rc_tdata[71:64];
wire [1:0] tag_port = tag < TAG_SPLIT_1 ? 2'd0 : tag < TAG_SPLIT_2 ? 2'd1 : 2'd2;

assign m_axis_rc_lower_addr = s_axis_rc_tdata[11:0];
assign m_axis_rc_failed = s_axis_rc_tdata[15:12] != 4'd0 || s_axis_rc_tdata[45:43] != 3'd0 || s_axis_rc_tdata[46];
assign m_axis_rc_completed = s_axis_rc_tdata[30];
assign m_axis_rc_dwords = s_axis_rc_tdata[42:32];
assign m_axis_rc_tag = tag;
wire [1:0] port = in_frame_reg ? port_reg : tag_port;

assign m_axis_rc_tdata = s_axis_rc_tdata;
assign m_axis_rc_tkeep = s_axis_rc_tkeep;
assign m_axis_rc_tlast = s_axis_rc_tlast;
assign m_axis_rc_tuser = s_axis_rc_tuser;
assign m_axis_rc_tvalid = {3{s_axis_rc_tvalid}} & (3'b001 << port);
assign s_axis_rc_tready = m_axis_rc_tready[port];

always @(posedge clk) begin
    if (s_axis_rc_tvalid && s_axis_rc_tready) begin
        in_frame_reg <= !s_axis_rc_tlast;
        port_reg <= port;
    end
    if (rst) begin
        in_frame_reg <= 1'b0;
        port_reg <= 2'd0;
    end
end

endmodule

`resetall
