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
    // Width of the RQ stream in bits (64, 128, 256 or 512)
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // RQ tuser width (UltraScale+: 62, 137 at 512 bits)
    parameter AXIS_PCIE_RQ_USER_WIDTH = AXIS_PCIE_DATA_WIDTH == 512 ? 137 : 62
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
    // the requesting function: the hard IP completes the requester id with its bus number
    input  wire [7:0]                         req_function,
    // PCIe Address Type (ATS): 0 untranslated, 1 Translation Request, 2 translated
    input  wire [1:0]                         req_at,
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

// the longest frame, a 4-dword descriptor and 4 dwords of data, padded to a whole beat
localparam FRAME_W = AXIS_PCIE_DATA_WIDTH > 256 ? AXIS_PCIE_DATA_WIDTH : 256;
localparam BEATS_MAX = FRAME_W / AXIS_PCIE_DATA_WIDTH;
localparam BEAT_W = BEATS_MAX > 1 ? $clog2(BEATS_MAX) : 1;
// RQ tuser: first BE at [3:0] at every width, last BE at [7:4] below 512 bits, at [11:8] at 512
localparam RQ_LAST_BE = AXIS_PCIE_DATA_WIDTH == 512 ? 8 : 4;

initial begin
    if (AXIS_PCIE_DATA_WIDTH != 64 && AXIS_PCIE_DATA_WIDTH != 128 && AXIS_PCIE_DATA_WIDTH != 256
            && AXIS_PCIE_DATA_WIDTH != 512) begin
        $error("Error: RQ width must be 64, 128, 256 or 512 (instance %m)");
        $finish;
    end
    if (AXIS_PCIE_RQ_USER_WIDTH != (AXIS_PCIE_DATA_WIDTH == 512 ? 137 : 62)) begin
        $error("Error: RQ tuser must be the UltraScale+ 62 bits, 137 at 512 bits (instance %m)");
        $finish;
    end
end

localparam [3:0]
    REQ_MEM_READ = 4'b0000,
    REQ_MEM_WRITE = 4'b0001;

reg [FRAME_W-1:0] frame_reg;
reg [3:0] frame_dwords_reg;
reg [BEAT_W-1:0] beat_reg;
reg [7:0] be_reg;
reg active_reg;

assign req_ready = !active_reg;

localparam [31:0] LANES = AXIS_PCIE_KEEP_WIDTH;
wire [4:0] beat_first_dw = {{(5-BEAT_W){1'b0}}, beat_reg} * LANES[4:0];
wire [4:0] dwords_left = {1'b0, frame_dwords_reg} - beat_first_dw;
wire last_beat = dwords_left <= LANES[4:0];

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
// descriptor (address, dword count and type, requester function, tag), then the write data
wire [FRAME_W-1:0] frame_next;
assign frame_next[255:0] = {req_data,
    1'b0, 3'b000, 3'b000, 1'b0, 16'd0, req_tag,
    8'd0, req_function, 1'b0, req_write ? REQ_MEM_WRITE : REQ_MEM_READ, req_dwords,
    req_addr, req_at};
generate
    if (FRAME_W > 256) begin : pad
        assign frame_next[FRAME_W-1:256] = 0;
    end
endgenerate

reg [AXIS_PCIE_RQ_USER_WIDTH-1:0] tuser;
always @* begin
    tuser = 0;
    tuser[3:0] = be_reg[3:0];
    tuser[RQ_LAST_BE +: 4] = be_reg[7:4];
end
assign m_axis_rq_tuser = tuser;

always @(posedge clk) begin
    if (!active_reg && req_valid) begin
        active_reg <= 1'b1;
        beat_reg <= 0;
        frame_reg <= frame_next;
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
