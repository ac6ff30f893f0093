`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Host-to-device data engine: host memory reads on RQ, their completions
 * written to device DRAM over AXI4.
 *
 * Segments from the walker are cut into memory reads at the max read
 * request size (MRRS-aligned host boundaries, so never across 4 KiB) and
 * at DRAM 4 KiB boundaries (so one completion is one AXI4 burst). Each
 * read takes a tag; up to TAGS reads are in flight to cover the host's
 * read latency. Completions may arrive split at the read completion
 * boundary and, across tags, in any order: each goes to DRAM at the
 * request's DRAM address plus its offset in the request (from the lower
 * address field), realigned from its PCIe lane to its DRAM lane, so no
 * reorder buffer is needed. The tags are an nvme_tag_pool: a tag is freed
 * by the completion that ends its request. An unsuccessful or poisoned
 * completion, or none within the timeout, fails the request with Data
 * Transfer Error and writes nothing; a timed-out tag stays out of use until
 * the controller reset (forget).
 */
module nvme_dma_rd #
(
    // Width of the RC stream in bits
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // RC tuser width
    parameter AXIS_PCIE_RC_USER_WIDTH = 75,
    // Request id width
    parameter REQ_W = 4,
    // Device DRAM byte address width
    parameter DRAM_AW = 32,
    // AXI4 id width
    parameter AXI_ID_W = 4,
    // First data tag
    parameter [7:0] TAG_BASE = 12,
    // Data tags (reads in flight)
    parameter TAGS = 20,
    // Completion timeout in ticks of the timebase
    parameter TIMEOUT_TICKS = 13,
    // Segment FIFO depth (a power of two)
    parameter SEG_DEPTH = 16,
    // AXI4 bursts awaiting their write response (a power of two)
    parameter BURSTS = 16
)
(
    input  wire                                 clk,
    input  wire                                 rst,
    // Controller reset: drop the queued segments
    input  wire                                 drop,
    // Once drained: forget every request, return timed-out tags
    input  wire                                 forget,
    input  wire                                 tick,
    input  wire [2:0]                           max_read_request,

    /*
     * Segments and end markers from the walker
     */
    input  wire                                 seg_valid,
    output wire                                 seg_ready,
    input  wire                                 seg_end,
    input  wire [REQ_W-1:0]                     seg_req,
    input  wire [7:0]                           seg_code,
    input  wire [63:2]                          seg_addr,
    input  wire [10:0]                          seg_dwords,
    input  wire [DRAM_AW-1:2]                   seg_dram,

    /*
     * Memory read requests
     */
    output wire                                 rd_req_valid,
    input  wire                                 rd_req_ready,
    output wire [63:2]                          rd_req_addr,
    output wire [10:0]                          rd_req_dwords,
    output wire [7:0]                           rd_req_tag,
    // the request the read is for (its function is the requester)
    output wire [REQ_W-1:0]                     rd_req_id,

    /*
     * Their completions
     */
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]      s_axis_rc_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]      s_axis_rc_tkeep,
    input  wire                                 s_axis_rc_tvalid,
    output wire                                 s_axis_rc_tready,
    input  wire                                 s_axis_rc_tlast,
    input  wire [AXIS_PCIE_RC_USER_WIDTH-1:0]   s_axis_rc_tuser,
    // the completion descriptor, decoded once by the RC front end (pcie_us_rc_router)
    input  wire [11:0]                          s_axis_rc_lower_addr,
    input  wire                                 s_axis_rc_failed,
    input  wire                                 s_axis_rc_completed,
    input  wire [10:0]                          s_axis_rc_dwords,
    input  wire [7:0]                           s_axis_rc_tag,

    /*
     * AXI4 write master to device DRAM
     */
    output wire [AXI_ID_W-1:0]                  m_axi_awid,
    output wire [DRAM_AW-1:0]                   m_axi_awaddr,
    output wire [7:0]                           m_axi_awlen,
    output wire [2:0]                           m_axi_awsize,
    output wire [1:0]                           m_axi_awburst,
    output wire                                 m_axi_awvalid,
    input  wire                                 m_axi_awready,
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]      m_axi_wdata,
    output wire [AXIS_PCIE_DATA_WIDTH/8-1:0]    m_axi_wstrb,
    output wire                                 m_axi_wlast,
    output wire                                 m_axi_wvalid,
    input  wire                                 m_axi_wready,
    input  wire [AXI_ID_W-1:0]                  m_axi_bid,
    input  wire [1:0]                           m_axi_bresp,
    input  wire                                 m_axi_bvalid,
    output wire                                 m_axi_bready,

    /*
     * Requests done, with their status
     */
    output wire                                 done_valid,
    input  wire                                 done_ready,
    output wire [REQ_W-1:0]                     done_req,
    output wire [7:0]                           done_code,

    output wire                                 idle,
    // reads are outstanding: their completion timeouts run
    output wire                                 timer_armed
);

localparam TAG_W = $clog2(TAGS);
// dwords per beat and their lane index width: the DRAM beat is as wide as the RC stream
localparam LANES = AXIS_PCIE_DATA_WIDTH / 32;
localparam LANE_W = $clog2(LANES);
localparam BEAT_SHIFT = LANE_W + 2;
localparam [LANE_W-1:0] PAYLOAD_LANE = 3;   // after the 3-dword completion descriptor
localparam [2:0] BEAT_SIZE = BEAT_SHIFT[2:0];  // AXI4 AxSIZE: a whole beat
localparam SEG_W = $clog2(SEG_DEPTH);
localparam BURST_W = $clog2(BURSTS);
localparam [7:0] SC_DATA_TRANSFER_ERROR = 8'h04;
localparam [7:0] SC_INTERNAL_ERROR = 8'h06;

initial begin
    if (AXIS_PCIE_DATA_WIDTH != 256 && AXIS_PCIE_DATA_WIDTH != 512) begin
        $error("Error: the read engine moves 256- or 512-bit beats (instance %m)");
        $finish;
    end
    if ((1 << SEG_W) != SEG_DEPTH || (1 << BURST_W) != BURSTS) begin
        $error("Error: SEG_DEPTH and BURSTS must be powers of two (instance %m)");
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
 * Splitter: the segment being cut into reads
 */
reg cur_valid_reg;
reg [REQ_W-1:0] cur_req_reg;
reg [63:2] cur_addr_reg;
reg [10:0] cur_left_reg;
reg [DRAM_AW-1:2] cur_dram_reg;

reg rd_valid_reg;
reg [63:2] rd_addr_reg;
reg [10:0] rd_dwords_reg;
reg [TAG_W-1:0] rd_tag_reg;

assign rd_req_valid = rd_valid_reg;
assign rd_req_addr = rd_addr_reg;
assign rd_req_dwords = rd_dwords_reg;
assign rd_req_tag = TAG_BASE + {{(8-TAG_W){1'b0}}, rd_tag_reg};

// tags: what each read is for; the tags themselves are the pool's (below)
reg [DRAM_AW-1:2] tag_dram [0:TAGS-1];
reg [11:2] tag_host_lo [0:TAGS-1];
reg [REQ_W-1:0] tag_req [0:TAGS-1];
assign rd_req_id = tag_req[rd_tag_reg];

localparam [TAGS-1:0] TAG_ONE = 1;
wire [TAG_W-1:0] free_tag;
wire tag_free;
wire [TAGS-1:0] tag_live;
wire tag_any_live;
wire tag_armed;
wire timeout_valid;
wire [TAG_W-1:0] timeout_tag;

// read size: to the next MRRS boundary of the host address and the next DRAM 4 KiB boundary
wire [10:0] mrrs_dw = max_read_request > 3'd5 ? 11'd1024 : 11'd32 << max_read_request;
wire [10:0] to_mrrs = mrrs_dw - ({1'b0, cur_addr_reg[11:2]} & (mrrs_dw - 11'd1));
wire [10:0] to_dram_4k = 11'd1024 - {1'b0, cur_dram_reg[11:2]};
wire [10:0] cut_a = cur_left_reg < to_mrrs ? cur_left_reg : to_mrrs;
wire [10:0] cut = cut_a < to_dram_4k ? cut_a : to_dram_4k;

wire issue = cur_valid_reg && !rd_valid_reg && tag_free && !drop;
assign take_seg = !seg_empty && !cur_valid_reg && !drop;
wire end_pass = take_seg && h_end;

/*
 * Completions
 */
wire [11:0] rc_lower_addr = s_axis_rc_lower_addr;
wire rc_failed = s_axis_rc_failed;
wire rc_completed = s_axis_rc_completed;
wire [10:0] rc_dwords = s_axis_rc_dwords;
wire [7:0] rc_tag = s_axis_rc_tag;
wire [7:0] rc_tag_rel = rc_tag - TAG_BASE;
wire [TAG_W-1:0] rc_idx = rc_tag_rel[TAG_W-1:0];
wire rc_known = rc_tag >= TAG_BASE && {24'd0, rc_tag_rel} < TAGS && tag_live[rc_idx];
wire rc_ok = rc_known && !rc_failed;
wire [DRAM_AW-1:2] rc_dram = tag_dram[rc_idx] + {{(DRAM_AW-12){1'b0}}, rc_lower_addr[11:2] - tag_host_lo[rc_idx]};
// last dword's index from the burst's first beat: its beat count less one is the AXI4 length
// (its top bit is spare: the span stays inside one DRAM 4 KiB page)
wire [LANE_W+8:0] rc_span = {9'd0, rc_dram[BEAT_SHIFT-1:2]} + {{(LANE_W-2){1'b0}}, rc_dwords}
                            - {{(LANE_W+8){1'b0}}, 1'b1};
wire [LANES-1:0] w_keep;
wire counts_idle;
// the realigner counts dwords; tkeep and the byte bits carry nothing more
wire [LANE_W+3+LANES-1:0] unused_rc = {rc_span[LANE_W+8], rc_span[LANE_W-1:0], rc_lower_addr[1:0], s_axis_rc_tkeep};
wire [AXIS_PCIE_RC_USER_WIDTH-1:0] unused_rc_tuser = s_axis_rc_tuser;

reg rc_in_frame_reg;
reg rc_pass_reg;              // this frame's data goes to DRAM
reg rc_end_reg;               // the frame ends its read
reg rc_err_reg;
reg rc_known_reg;
reg [TAG_W-1:0] rc_idx_reg;

// AW FIFO (depth 4) between the first beat and the AW channel
reg [DRAM_AW-1:BEAT_SHIFT] aw_addr_mem [0:3];
reg [7:0] aw_len_mem [0:3];
reg [REQ_W-1:0] aw_req_mem [0:3];
reg [2:0] aw_wr_reg;
reg [2:0] aw_rd_reg;
wire aw_full = (aw_wr_reg - aw_rd_reg) == 3'd4;
wire aw_empty = aw_wr_reg == aw_rd_reg;

// bursts awaiting B, by request
reg [REQ_W-1:0] b_req_mem [0:BURSTS-1];
reg [BURST_W:0] b_wr_reg;
reg [BURST_W:0] b_rd_reg;
wire b_full = (b_wr_reg - b_rd_reg) == BURSTS[BURST_W:0];

// the DRAM model samples awvalid from power-up, before the first reset
initial begin
    aw_wr_reg = 3'd0;
    aw_rd_reg = 3'd0;
    b_wr_reg = 0;
    b_rd_reg = 0;
end

wire rc_first = s_axis_rc_tvalid && !rc_in_frame_reg;
wire rc_first_pass = rc_ok && rc_dwords != 0;
wire realign_ready;
wire rc_pass = rc_in_frame_reg ? rc_pass_reg : rc_first_pass;
assign s_axis_rc_tready = rc_pass ? realign_ready && (rc_in_frame_reg || !aw_full) : 1'b1;
wire rc_hs = s_axis_rc_tvalid && s_axis_rc_tready;
wire rc_frame_done = rc_hs && s_axis_rc_tlast;
// the frame's outcome, known from its first beat
wire fd_end = rc_in_frame_reg ? rc_end_reg : rc_completed || rc_failed;
wire fd_err = rc_in_frame_reg ? rc_err_reg : rc_failed;
wire fd_known = rc_in_frame_reg ? rc_known_reg : rc_known;
wire [TAG_W-1:0] fd_idx = rc_in_frame_reg ? rc_idx_reg : rc_idx;
// the frame ends its read (a tag that timed out during the frame has already failed its request)
wire rc_event = rc_frame_done && fd_known && fd_end && tag_live[fd_idx];

dword_realign #(
    .LANES(LANES),
    .COUNT_W(11),
    .USER_W(1)
)
realign_inst (
    .clk(clk),
    .rst(rst),
    .s_data(s_axis_rc_tdata),
    .s_valid(s_axis_rc_tvalid && rc_pass && (rc_in_frame_reg || !aw_full)),
    .s_ready(realign_ready),
    .s_last(s_axis_rc_tlast),
    .s_in_lane(PAYLOAD_LANE),
    .s_out_lane(rc_dram[BEAT_SHIFT-1:2]),
    .s_dwords(rc_dwords),
    .s_user(1'b0),
    .m_data(m_axi_wdata),
    .m_keep(w_keep),
    .m_valid(m_axi_wvalid),
    .m_ready(m_axi_wready),
    .m_last(m_axi_wlast),
    .m_first(realign_first),
    .m_user(realign_user)
);

wire realign_first;
wire realign_user;
wire unused_realign = realign_first | realign_user;
genvar g;
generate
    for (g = 0; g < LANES; g = g + 1) begin : strb
        assign m_axi_wstrb[4*g +: 4] = {4{w_keep[g]}};
    end
endgenerate

assign m_axi_awid = {AXI_ID_W{1'b0}};
assign m_axi_awaddr = {aw_addr_mem[aw_rd_reg[1:0]], {BEAT_SHIFT{1'b0}}};
assign m_axi_awlen = aw_len_mem[aw_rd_reg[1:0]];
assign m_axi_awsize = BEAT_SIZE;
assign m_axi_awburst = 2'b01;
assign m_axi_awvalid = !aw_empty && !b_full;
assign m_axi_bready = 1'b1;
wire aw_hs = m_axi_awvalid && m_axi_awready;
wire b_hs = m_axi_bvalid;
wire [AXI_ID_W-1:0] unused_bid = m_axi_bid;

// Tags and their completion timeout; a timeout is taken when no completion reports (they share the pending port)
wire timeout = timeout_valid && !rc_event;
wire [TAGS-1:0] tag_busy;
wire [TAGS-1:0] tag_dead;
wire [2*TAGS:0] unused_tags = {tag_busy, tag_dead, tag_any_live};

nvme_tag_pool #(
    .TAGS(TAGS),
    .TAG_W(TAG_W),
    .TIMEOUT_TICKS(TIMEOUT_TICKS)
)
tag_pool_inst (
    .clk(clk),
    .rst(rst),
    .clear(forget),
    .tick(tick),
    .free_tag(free_tag),
    .free_valid(tag_free),
    .alloc(issue),
    .retire(rc_event ? TAG_ONE << fd_idx : {TAGS{1'b0}}),
    .timeout_valid(timeout_valid),
    .timeout_tag(timeout_tag),
    .timeout_ready(!rc_event),
    .busy(tag_busy),
    .dead(tag_dead),
    .live(tag_live),
    .any_live(tag_any_live),
    .armed(tag_armed)
);

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
    .inc1(rc_hs && rc_first && rc_first_pass),
    .inc1_req(tag_req[rc_idx]),
    .dec0(rc_event || timeout),
    .dec0_req(rc_event ? tag_req[fd_idx] : tag_req[timeout_tag]),
    .dec1(b_hs),
    .dec1_req(b_req_mem[b_rd_reg[BURST_W-1:0]]),
    .end_valid(end_pass),
    .end_req(h_req),
    .end_code(h_code),
    .err_valid((rc_event && fd_err) || timeout || (b_hs && m_axi_bresp != 2'b00)),
    .err_req(rc_event && fd_err ? tag_req[fd_idx] : timeout ? tag_req[timeout_tag] : b_req_mem[b_rd_reg[BURST_W-1:0]]),
    .err_code(b_hs && m_axi_bresp != 2'b00 && !(rc_event && fd_err) && !timeout ? SC_INTERNAL_ERROR : SC_DATA_TRANSFER_ERROR),
    .done_valid(done_valid),
    .done_ready(done_ready),
    .done_req(done_req),
    .done_code(done_code),
    .idle(counts_idle)
);

// a dead tag's quarantine needs the time base too
assign timer_armed = tag_armed;

assign idle = counts_idle && seg_empty && !cur_valid_reg && !rd_valid_reg && aw_empty
              && b_wr_reg == b_rd_reg && !rc_in_frame_reg && !m_axi_wvalid;

always @(posedge clk) begin
    // segments out of the FIFO
    if (take_seg) begin
        if (!h_end) begin
            cur_valid_reg <= 1'b1;
            cur_req_reg <= h_req;
            {cur_addr_reg, cur_left_reg, cur_dram_reg} <= {h_addr, h_dwords, h_dram};
        end
    end

    // reads out
    if (rd_valid_reg && rd_req_ready) begin
        rd_valid_reg <= 1'b0;
    end
    if (issue) begin
        rd_valid_reg <= 1'b1;
        rd_addr_reg <= cur_addr_reg;
        rd_dwords_reg <= cut;
        rd_tag_reg <= free_tag;
        tag_dram[free_tag] <= cur_dram_reg;
        tag_host_lo[free_tag] <= cur_addr_reg[11:2];
        tag_req[free_tag] <= cur_req_reg;
        cur_addr_reg <= cur_addr_reg + {51'd0, cut};
        cur_dram_reg <= cur_dram_reg + {{(DRAM_AW-13){1'b0}}, cut};
        cur_left_reg <= cur_left_reg - cut;
        if (cur_left_reg == cut) begin
            cur_valid_reg <= 1'b0;
        end
    end

    // completions
    if (rc_hs) begin
        rc_in_frame_reg <= !s_axis_rc_tlast;
        if (rc_first) begin
            rc_pass_reg <= rc_first_pass;
            rc_end_reg <= rc_completed || rc_failed;
            rc_err_reg <= rc_failed;
            rc_known_reg <= rc_known;
            rc_idx_reg <= rc_idx;
            if (rc_first_pass) begin
                aw_addr_mem[aw_wr_reg[1:0]] <= rc_dram[DRAM_AW-1:BEAT_SHIFT];
                aw_len_mem[aw_wr_reg[1:0]] <= rc_span[LANE_W+7:LANE_W];
                aw_req_mem[aw_wr_reg[1:0]] <= tag_req[rc_idx];
                aw_wr_reg <= aw_wr_reg + 3'd1;
            end
        end
    end

    // write bursts
    if (aw_hs) begin
        aw_rd_reg <= aw_rd_reg + 3'd1;
        b_req_mem[b_wr_reg[BURST_W-1:0]] <= aw_req_mem[aw_rd_reg[1:0]];
        b_wr_reg <= b_wr_reg + 1;
    end
    if (b_hs) begin
        b_rd_reg <= b_rd_reg + 1;
    end

    if (drop) begin
        cur_valid_reg <= 1'b0;
    end

    if (rst) begin
        cur_valid_reg <= 1'b0;
        rd_valid_reg <= 1'b0;
        rc_in_frame_reg <= 1'b0;
        aw_wr_reg <= 3'd0;
        aw_rd_reg <= 3'd0;
        b_wr_reg <= 0;
        b_rd_reg <= 0;
    end
end

endmodule

`resetall
