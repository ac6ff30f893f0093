`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Device-to-host data engine: device DRAM read over AXI4, sent to host
 * memory as memory writes on RQ.
 *
 * Segments from the walker are cut into memory writes at the max payload
 * size (MPS-aligned host boundaries, so never across 4 KiB) and at DRAM
 * 4 KiB boundaries; each write is one AXI4 read burst, issued as soon as
 * the read data FIFO has room for it, so the DRAM latency is hidden behind
 * the writes ahead. The burst's beats are realigned from their DRAM lane
 * to the payload position after the 4-dword descriptor and leave as one
 * RQ frame: a 256-byte write takes nine 256-bit beats or five 512-bit
 * ones. A request is done when its last write has left RQ; posted writes
 * keep their order, so a completion queue entry sent afterwards cannot
 * overtake them. A DRAM read answered
 * with an error response (SLVERR, DECERR) fails its request with Internal
 * Error, as a bad write response does in the host-to-device engine: the
 * data the host received is then undefined, as for any failed Read.
 */
module nvme_dma_wr #
(
    // Width of the RQ stream in bits
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // RQ tuser width (UltraScale+: 62, 137 at 512 bits)
    parameter AXIS_PCIE_RQ_USER_WIDTH = AXIS_PCIE_DATA_WIDTH == 512 ? 137 : 62,
    // Request id width
    parameter REQ_W = 4,
    // Device DRAM byte address width
    parameter DRAM_AW = 32,
    // AXI4 id width
    parameter AXI_ID_W = 4,
    // Segment FIFO depth (a power of two)
    parameter SEG_DEPTH = 16,
    // Read data FIFO depth in beats (a power of two)
    parameter R_DEPTH = 64,
    // Writes between their AXI4 read and RQ (a power of two)
    parameter TLPS = 16
)
(
    input  wire                                 clk,
    input  wire                                 rst,
    // Controller reset: drop the queued segments
    input  wire                                 drop,
    // Once drained: forget every request
    input  wire                                 forget,
    input  wire [2:0]                           max_payload,

    /*
     * Segments and end markers from the walker
     */
    input  wire                                 seg_valid,
    output wire                                 seg_ready,
    input  wire                                 seg_end,
    input  wire [REQ_W-1:0]                     seg_req,
    // each request's function (2 bits per request id): the requester of its writes
    input  wire [2*(1<<REQ_W)-1:0]              req_functions,
    // each request's PCIe Address Type (2 bits per request id, ATS): that of its writes
    input  wire [2*(1<<REQ_W)-1:0]              req_ats,
    input  wire [7:0]                           seg_code,
    input  wire [63:2]                          seg_addr,
    input  wire [10:0]                          seg_dwords,
    input  wire [DRAM_AW-1:2]                   seg_dram,

    /*
     * AXI4 read master from device DRAM
     */
    output wire [AXI_ID_W-1:0]                  m_axi_arid,
    output wire [DRAM_AW-1:0]                   m_axi_araddr,
    output wire [7:0]                           m_axi_arlen,
    output wire [2:0]                           m_axi_arsize,
    output wire [1:0]                           m_axi_arburst,
    output wire                                 m_axi_arvalid,
    input  wire                                 m_axi_arready,
    input  wire [AXI_ID_W-1:0]                  m_axi_rid,
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]      m_axi_rdata,
    input  wire [1:0]                           m_axi_rresp,
    input  wire                                 m_axi_rlast,
    input  wire                                 m_axi_rvalid,
    output wire                                 m_axi_rready,

    /*
     * Memory writes
     */
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]      m_axis_rq_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]      m_axis_rq_tkeep,
    output wire                                 m_axis_rq_tvalid,
    input  wire                                 m_axis_rq_tready,
    output wire                                 m_axis_rq_tlast,
    output wire [AXIS_PCIE_RQ_USER_WIDTH-1:0]   m_axis_rq_tuser,

    /*
     * Requests done, with their status
     */
    output wire                                 done_valid,
    input  wire                                 done_ready,
    output wire [REQ_W-1:0]                     done_req,
    output wire [7:0]                           done_code,

    output wire                                 idle
);

localparam SEG_W = $clog2(SEG_DEPTH);
localparam R_W = $clog2(R_DEPTH);
localparam TLP_W = $clog2(TLPS);
localparam [3:0] REQ_MEM_WRITE = 4'b0001;
// dwords per beat and their lane index width: the DRAM beat is as wide as the RQ stream
localparam W = AXIS_PCIE_DATA_WIDTH;
localparam LANES = W / 32;
localparam LANE_W = $clog2(LANES);
localparam BEAT_SHIFT = LANE_W + 2;
localparam [LANE_W-1:0] PAYLOAD_LANE = 4;   // after the 4-dword request descriptor
localparam [2:0] BEAT_SIZE = BEAT_SHIFT[2:0];  // AXI4 AxSIZE: a whole beat
// RQ tuser: first BE at [3:0], last BE at [7:4] below 512 bits and at [11:8] at 512
localparam RQ_LAST_BE = W == 512 ? 8 : 4;
localparam [7:0] SC_INTERNAL_ERROR = 8'h06;

initial begin
    if ((W != 256 && W != 512) || AXIS_PCIE_RQ_USER_WIDTH != (W == 512 ? 137 : 62)) begin
        $error("Error: the write engine builds 256- or 512-bit UltraScale+ RQ frames (instance %m)");
        $finish;
    end
    if (R_DEPTH < 1024 / (W / 8) + 1) begin
        $error("Error: R_DEPTH must hold a 1 KiB write's beats, one more when it is not beat aligned (instance %m)");
        $finish;
    end
    if ((1 << SEG_W) != SEG_DEPTH || (1 << R_W) != R_DEPTH || (1 << TLP_W) != TLPS) begin
        $error("Error: FIFO depths must be powers of two (instance %m)");
        $finish;
    end
end

/*
 * Segment FIFO
 */
wire take_seg;
wire seg_head_valid;
wire seg_empty = !seg_head_valid;
wire h_end;
wire [REQ_W-1:0] h_req;
wire [7:0] h_code;
wire [63:2] h_addr;
wire [10:0] h_dwords;
wire [DRAM_AW-1:2] h_dram;

nvme_dma_seg_fifo #(
    .REQ_W(REQ_W),
    .DRAM_AW(DRAM_AW),
    .DEPTH(SEG_DEPTH)
)
seg_fifo_inst (
    .clk(clk),
    .rst(rst),
    .drop(drop),
    .seg_valid(seg_valid),
    .seg_ready(seg_ready),
    .seg_end(seg_end),
    .seg_req(seg_req),
    .seg_code(seg_code),
    .seg_addr(seg_addr),
    .seg_dwords(seg_dwords),
    .seg_dram(seg_dram),
    .head_valid(seg_head_valid),
    .head_pop(take_seg),
    .head_end(h_end),
    .head_req(h_req),
    .head_code(h_code),
    .head_addr(h_addr),
    .head_dwords(h_dwords),
    .head_dram(h_dram)
);

/*
 * Splitter: one AXI4 burst and one memory write at a time
 */
reg cur_valid_reg;
reg [REQ_W-1:0] cur_req_reg;
reg [63:2] cur_addr_reg;
reg [10:0] cur_left_reg;
reg [DRAM_AW-1:2] cur_dram_reg;

// at most 1 KiB: a burst must fit the read data FIFO
wire [10:0] mps_dw = max_payload > 3'd3 ? 11'd256 : 11'd32 << max_payload;
wire [10:0] to_mps = mps_dw - ({1'b0, cur_addr_reg[11:2]} & (mps_dw - 11'd1));
wire [10:0] to_dram_4k = 11'd1024 - {1'b0, cur_dram_reg[11:2]};
wire [10:0] cut_a = cur_left_reg < to_mps ? cur_left_reg : to_mps;
wire [10:0] cut = cut_a < to_dram_4k ? cut_a : to_dram_4k;
// the burst's last dword, counted from its first beat's lane 0
wire [11:0] cut_span = {{(12-LANE_W){1'b0}}, cur_dram_reg[BEAT_SHIFT-1:2]} + {1'b0, cut} - 12'd1;
wire [11:0] cut_last_beat = cut_span >> LANE_W;
wire [8:0] cut_beats = cut_last_beat[8:0] + 9'd1;
wire [LANE_W+2:0] unused_span = {cut_last_beat[11:9], cut_span[LANE_W-1:0]};

// read data FIFO space, reserved when a burst is asked for
reg [R_W:0] r_space_reg;

// writes whose burst was asked for: what the realigner and the descriptor need
localparam TLP_BITS = REQ_W + 62 + 11 + LANE_W;
reg [TLP_BITS-1:0] tlp_mem [0:TLPS-1];
reg [TLP_W:0] tlp_wr_reg;
reg [TLP_W:0] tlp_rd_reg;
wire tlp_full = (tlp_wr_reg - tlp_rd_reg) == TLPS[TLP_W:0];
wire tlp_empty = tlp_wr_reg == tlp_rd_reg;
wire [TLP_BITS-1:0] tlp_head = tlp_mem[tlp_rd_reg[TLP_W-1:0]];

reg ar_valid_reg;
reg [DRAM_AW-1:BEAT_SHIFT] ar_addr_reg;
reg [7:0] ar_len_reg;

// the DRAM model samples arvalid from power-up, before the first reset
initial begin
    ar_valid_reg = 1'b0;
end

assign m_axi_arid = {AXI_ID_W{1'b0}};
assign m_axi_araddr = {ar_addr_reg, {BEAT_SHIFT{1'b0}}};
assign m_axi_arlen = ar_len_reg;
assign m_axi_arsize = BEAT_SIZE;
assign m_axi_arburst = 2'b01;
assign m_axi_arvalid = ar_valid_reg;

wire issue = cur_valid_reg && !drop && (!ar_valid_reg || m_axi_arready) && !tlp_full
             && {{(8-R_W){1'b0}}, r_space_reg} >= cut_beats;
assign take_seg = !seg_empty && !cur_valid_reg && !drop;
wire end_pass = take_seg && h_end;

/*
 * Read data FIFO
 */
// {error response, last, data}
reg [W+1:0] r_mem [0:R_DEPTH-1];
reg [R_W:0] r_wr_reg;
reg [R_W:0] r_rd_reg;
wire r_empty = r_wr_reg == r_rd_reg;
assign m_axi_rready = 1'b1;   // space was reserved with the burst
wire [AXI_ID_W-1:0] unused_rid = m_axi_rid;
wire [W+1:0] r_head = r_mem[r_rd_reg[R_W-1:0]];
// a DRAM read answered with SLVERR or DECERR fails the request its beat belongs to (Internal Error)
wire r_head_err = r_head[W+1];
reg [REQ_W-1:0] frame_req_reg;

wire realign_ready;
wire r_pop = !r_empty && realign_ready && !tlp_empty_for_start;
reg realign_in_frame_reg;
// a frame's first beat needs its write's parameters
wire tlp_empty_for_start = !realign_in_frame_reg && tlp_empty;
wire start_pop = r_pop && !realign_in_frame_reg;

wire [REQ_W-1:0] t_req = tlp_head[TLP_BITS-1 -: REQ_W];
wire [63:2] t_addr = tlp_head[TLP_BITS-1-REQ_W -: 62];
wire [10:0] t_dwords = tlp_head[LANE_W+10:LANE_W];
wire [LANE_W-1:0] t_lane = tlp_head[LANE_W-1:0];

wire [W-1:0] out_data;
wire [LANES-1:0] out_keep;
wire out_valid;
wire out_last;
wire out_first;
wire [REQ_W+62+11-1:0] out_user;
wire [REQ_W-1:0] o_req = out_user[REQ_W+72:73];
wire [63:2] o_addr = out_user[72:11];
wire [10:0] o_dwords = out_user[10:0];

dword_realign #(
    .LANES(LANES),
    .COUNT_W(11),
    .USER_W(REQ_W + 62 + 11)
)
realign_inst (
    .clk(clk),
    .rst(rst),
    .s_data(r_head[W-1:0]),
    .s_valid(!r_empty && !tlp_empty_for_start),
    .s_ready(realign_ready),
    .s_last(r_head[W]),
    .s_in_lane(t_lane),
    .s_out_lane(PAYLOAD_LANE),
    .s_dwords(t_dwords),
    .s_user({t_req, t_addr, t_dwords}),
    .m_data(out_data),
    .m_keep(out_keep),
    .m_valid(out_valid),
    .m_ready(m_axis_rq_tready),
    .m_last(out_last),
    .m_first(out_first),
    .m_user(out_user)
);

// the descriptor takes the first beat's lower four dwords
wire [127:0] desc = {1'b0, 3'b000, 3'b000, 1'b0, 16'd0, 8'd0,
                     14'd0, req_functions[2*o_req +: 2], 1'b0, REQ_MEM_WRITE, o_dwords,
                     o_addr, req_ats[2*o_req +: 2]};
assign m_axis_rq_tdata = out_first ? {out_data[W-1:128], desc} : out_data;
assign m_axis_rq_tkeep = out_first ? {out_keep[LANES-1:4], 4'hf} : out_keep;
assign m_axis_rq_tvalid = out_valid;
assign m_axis_rq_tlast = out_last;
reg [AXIS_PCIE_RQ_USER_WIDTH-1:0] rq_tuser;
always @* begin
    rq_tuser = 0;
    rq_tuser[3:0] = 4'hf;
    rq_tuser[RQ_LAST_BE +: 4] = o_dwords == 11'd1 ? 4'h0 : 4'hf;
end
assign m_axis_rq_tuser = rq_tuser;
wire sent = out_valid && m_axis_rq_tready && out_last;

wire counts_idle;

nvme_dma_pending #(
    .REQS(1 << REQ_W),
    .REQ_W(REQ_W)
)
pending_inst (
    .clk(clk),
    .rst(rst),
    .clear(forget),
    .inc0(issue),
    .inc0_req(cur_req_reg),
    .inc1(1'b0),
    .inc1_req({REQ_W{1'b0}}),
    .dec0(sent),
    .dec0_req(o_req),
    .dec1(1'b0),
    .dec1_req({REQ_W{1'b0}}),
    .end_valid(end_pass),
    .end_req(h_req),
    .end_code(h_code),
    .err_valid(r_pop && r_head_err),
    .err_req(start_pop ? t_req : frame_req_reg),
    .err_code(SC_INTERNAL_ERROR),
    .done_valid(done_valid),
    .done_ready(done_ready),
    .done_req(done_req),
    .done_code(done_code),
    .idle(counts_idle)
);

assign idle = counts_idle && seg_empty && !cur_valid_reg && !ar_valid_reg && tlp_empty && r_empty;

always @(posedge clk) begin
    // segments out of the FIFO
    if (take_seg) begin
        if (!h_end) begin
            cur_valid_reg <= 1'b1;
            cur_req_reg <= h_req;
            {cur_addr_reg, cur_left_reg, cur_dram_reg} <= {h_addr, h_dwords, h_dram};
        end
    end

    // bursts
    if (ar_valid_reg && m_axi_arready) begin
        ar_valid_reg <= 1'b0;
    end
    if (issue) begin
        ar_valid_reg <= 1'b1;
        ar_addr_reg <= cur_dram_reg[DRAM_AW-1:BEAT_SHIFT];
        ar_len_reg <= cut_beats[7:0] - 8'd1;
        tlp_mem[tlp_wr_reg[TLP_W-1:0]] <= {cur_req_reg, cur_addr_reg, cut, cur_dram_reg[BEAT_SHIFT-1:2]};
        tlp_wr_reg <= tlp_wr_reg + 1;
        cur_addr_reg <= cur_addr_reg + {51'd0, cut};
        cur_dram_reg <= cur_dram_reg + {{(DRAM_AW-13){1'b0}}, cut};
        cur_left_reg <= cur_left_reg - cut;
        if (cur_left_reg == cut) begin
            cur_valid_reg <= 1'b0;
        end
    end
    r_space_reg <= r_space_reg - (issue ? cut_beats[R_W:0] : {(R_W+1){1'b0}})
                   + {{R_W{1'b0}}, r_pop};

    // read data
    if (m_axi_rvalid) begin
        r_mem[r_wr_reg[R_W-1:0]] <= {m_axi_rresp != 2'b00, m_axi_rlast, m_axi_rdata};
        r_wr_reg <= r_wr_reg + 1;
    end
    if (r_pop) begin
        r_rd_reg <= r_rd_reg + 1;
        realign_in_frame_reg <= !r_head[W];
    end
    if (start_pop) begin
        tlp_rd_reg <= tlp_rd_reg + 1;
        frame_req_reg <= t_req;
    end

    if (drop) begin
        cur_valid_reg <= 1'b0;
    end

    if (rst) begin
        cur_valid_reg <= 1'b0;
        ar_valid_reg <= 1'b0;
        tlp_wr_reg <= 0;
        tlp_rd_reg <= 0;
        r_wr_reg <= 0;
        r_rd_reg <= 0;
        r_space_reg <= R_DEPTH[R_W:0];
        realign_in_frame_reg <= 1'b0;
    end
end

endmodule

`resetall
