`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Builds an UltraScale+ requester request (RQ) frame for a memory read, or
 * a memory write of up to four dwords, and sends it at the stream width.
 * Used for SQ entry fetches and CQ entry writes.
 */
module pcie_us_rq_small_req #
(
    // Width of the RQ stream in bits (64, 128 or 256)
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // RQ tuser width (62 for UltraScale+)
    parameter AXIS_PCIE_RQ_USER_WIDTH = 62
)
(
    input  wire                               clk,
    input  wire                               rst,

    /*
     * Request: read of req_dwords dwords, or write of req_dwords (1..4) dwords of req_data
     */
    input  wire                               req_valid,
    output wire                               req_ready,
    input  wire                               req_write,
    input  wire [63:2]                        req_addr,
    input  wire [10:0]                        req_dwords,
    input  wire [7:0]                         req_tag,
    input  wire [127:0]                       req_data,

    /*
     * RQ stream
     */
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]    m_axis_rq_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]    m_axis_rq_tkeep,
    output wire                               m_axis_rq_tvalid,
    input  wire                               m_axis_rq_tready,
    output wire                               m_axis_rq_tlast,
    output wire [AXIS_PCIE_RQ_USER_WIDTH-1:0] m_axis_rq_tuser
);

localparam BEATS_MAX = 256 / AXIS_PCIE_DATA_WIDTH;
localparam BEAT_W = BEATS_MAX > 1 ? $clog2(BEATS_MAX) : 1;

initial begin
    if (AXIS_PCIE_DATA_WIDTH != 64 && AXIS_PCIE_DATA_WIDTH != 128 && AXIS_PCIE_DATA_WIDTH != 256) begin
        $error("Error: RQ width must be 64, 128 or 256 (instance %m)");
        $finish;
    end
    if (AXIS_PCIE_RQ_USER_WIDTH != 62) begin
        $error("Error: RQ tuser must be the UltraScale+ 62 bits (instance %m)");
        $finish;
    end
end

localparam [3:0]
    REQ_MEM_READ = 4'b0000,
    REQ_MEM_WRITE = 4'b0001;

reg [255:0] frame_reg;
reg [3:0] frame_dwords_reg;
reg [BEAT_W-1:0] beat_reg;
reg [7:0] be_reg;
reg active_reg;

assign req_ready = !active_reg;

wire [3:0] beat_first_dw = {1'b0, beat_reg} * AXIS_PCIE_KEEP_WIDTH[3:0];
wire [3:0] dwords_left = frame_dwords_reg - beat_first_dw;
wire last_beat = dwords_left <= AXIS_PCIE_KEEP_WIDTH[3:0];

reg [AXIS_PCIE_KEEP_WIDTH-1:0] keep;
integer i;
always @* begin
    for (i = 0; i < AXIS_PCIE_KEEP_WIDTH; i = i + 1) begin
        keep[i] = i < dwords_left;
    end
end

assign m_axis_rq_tdata = frame_reg[beat_reg*AXIS_PCIE_DATA_WIDTH +: AXIS_PCIE_DATA_WIDTH];
assign m_axis_rq_tkeep = keep;
assign m_axis_rq_tvalid = active_reg;
assign m_axis_rq_tlast = last_beat;
assign m_axis_rq_tuser = {{(AXIS_PCIE_RQ_USER_WIDTH-8){1'b0}}, be_reg};

always @(posedge clk) begin
    if (!active_reg && req_valid) begin
        active_reg <= 1'b1;
        beat_reg <= 0;
        frame_reg <= {req_data,
            1'b0, 3'b000, 3'b000, 1'b0, 16'd0, req_tag,
            16'd0, 1'b0, req_write ? REQ_MEM_WRITE : REQ_MEM_READ, req_dwords,
            req_addr, 2'b00};
        frame_dwords_reg <= req_write ? 4'd4 + req_dwords[3:0] : 4'd4;
        be_reg <= {req_dwords == 11'd1 ? 4'h0 : 4'hf, 4'hf};
    end else if (active_reg && m_axis_rq_tready) begin
        if (last_beat) begin
            active_reg <= 1'b0;
        end else begin
            beat_reg <= beat_reg + 1;
        end
    end

    if (rst) begin
        active_reg <= 1'b0;
        beat_reg <= 0;
    end
end

endmodule

`resetall
