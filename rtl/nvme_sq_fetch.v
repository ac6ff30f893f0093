`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * SQ entry fetch.
 *
 * The arbiter picks an SQ with entries; one memory read fetches as many of
 * them as are contiguous, fit in one read request (MRRS), do not cross a
 * 4 KiB boundary, are allowed by the arbitration burst and have free command
 * slots (at most MAX_FETCH). The SQ's fetch pointer advances when the read
 * is issued; one read per SQ is in flight at a time, so commands reach the
 * command FIFO in SQ order. Completions (RC) may arrive split at the read
 * completion boundary and, across SQs, in any order; their data goes into
 * the slots by byte offset, and the commands are queued once the read's
 * last completion arrives. A beat is taken whole: the descriptor's three
 * dwords in one cycle where the beat holds them all (128 bits and wider),
 * and every data dword of a beat in one cycle, written straight into the
 * command table's dword banks. An unsuccessful or poisoned completion, or none
 * within the completion timeout, fails the read: fetch_error (or
 * fetch_timeout) names its SQ for a cycle, a fatal status for that SQ's
 * controller alone, and the read's command slots are given back (release),
 * one per cycle, once no completion of it can still write them: after its
 * last completion, or at once for a timed-out read. With several controllers
 * the others go on, and a reset of the failed one must find no slot of it
 * held. The read tags and the timeout are an nvme_tag_pool: a timed-out tag
 * stays out of use for another timeout (or until the engines' clear), so a
 * late completion is not taken for a new read, and no longer keeps the
 * engine from reporting idle (the reset must be able to finish).
 */
module nvme_sq_fetch #
(
    // Width of the RQ and RC streams in bits
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // RC tuser width (75 for UltraScale+ below 512 bits)
    parameter AXIS_PCIE_RC_USER_WIDTH = 75,
    // Queues including the admin queue
    parameter QUEUE_COUNT = 65,
    // Queue id width
    parameter QID_W = $clog2(QUEUE_COUNT),
    // Command slots
    parameter SLOTS = 64,
    // Slot id width
    parameter SLOT_W = $clog2(SLOTS),
    // Reads in flight (tags 0 .. FETCH_TAGS-1)
    parameter FETCH_TAGS = 8,
    // Largest number of entries fetched by one read
    parameter MAX_FETCH = 8,
    // Completion timeout: TIMEOUT_TICKS periods of TIMEOUT_TICK_CYCLES (53 us at 250 MHz: PCIe's
    // default range starts at 50 us)
    parameter TIMEOUT_TICK_CYCLES = 1024,
    parameter TIMEOUT_TICKS = 13
)
(
    input  wire                               clk,
    input  wire                               rst,

    input  wire                               enable,
    input  wire                               clear,
    input  wire [2:0]                         max_read_request,
    input  wire [2:0]                         arb_burst,
    output wire                               idle,
    // idle, and no SQ entry it could fetch now: nothing changes until an input does
    output wire                               quiet,
    // a read of SQ fetch_error_qid failed (an unsuccessful or poisoned completion), for one cycle
    output reg                                fetch_error,
    output reg  [QID_W-1:0]                   fetch_error_qid,
    // a read of SQ fetch_timeout_qid got no completion in time, for one cycle
    output reg                                fetch_timeout,
    output reg  [QID_W-1:0]                   fetch_timeout_qid,

    /*
     * Arbitration
     */
    input  wire                               grant_valid,
    input  wire [QID_W-1:0]                   grant_qid,
    output wire                               grant_ack,
    output wire [15:0]                        grant_count,
    output wire [QUEUE_COUNT-1:0]             sq_in_flight,

    /*
     * Queue table
     */
    input  wire [63:12]                       sq_base,
    input  wire [15:0]                        sq_size,
    input  wire [15:0]                        sq_head,
    input  wire [15:0]                        sq_tail,
    output wire                               advance,
    output wire [QID_W-1:0]                   advance_qid,
    output wire [15:0]                        advance_count,

    /*
     * Command table
     */
    input  wire [SLOT_W-1:0]                  alloc_slot,
    output wire                               alloc_valid,
    output wire [QID_W-1:0]                   alloc_sqid,
    input  wire [SLOT_W:0]                    free_count,
    // per SQE dword (the table's banks): enable, slot, data
    output reg  [15:0]                        sqe_wr_en,
    output reg  [16*SLOT_W-1:0]               sqe_wr_slot,
    output reg  [16*32-1:0]                   sqe_wr_data,
    output wire                               push_valid,
    output wire [SLOT_W-1:0]                  push_slot,
    // the slots of a failed read, given back
    output wire                               release_valid,
    output wire [SLOT_W-1:0]                  release_slot,

    /*
     * Read requests (to the RQ request builder)
     */
    output wire                               req_valid,
    input  wire                               req_ready,
    output wire [63:2]                        req_addr,
    output wire [10:0]                        req_dwords,
    output wire [7:0]                         req_tag,
    // the SQ read (its controller's function is the requester)
    output wire [QID_W-1:0]                   req_sqid,

    /*
     * Requester completions (RC)
     */
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]    s_axis_rc_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]    s_axis_rc_tkeep,
    input  wire                               s_axis_rc_tvalid,
    output wire                               s_axis_rc_tready,
    input  wire                               s_axis_rc_tlast,
    input  wire [AXIS_PCIE_RC_USER_WIDTH-1:0] s_axis_rc_tuser
);

localparam TAG_W = $clog2(FETCH_TAGS);
localparam ENT_W = $clog2(MAX_FETCH);
localparam LANES = AXIS_PCIE_KEEP_WIDTH;
localparam LANE_W = $clog2(LANES) + 1;

initial begin
    if (MAX_FETCH > 64 || (1 << ENT_W) != MAX_FETCH || (1 << TAG_W) != FETCH_TAGS) begin
        $error("Error: MAX_FETCH and FETCH_TAGS must be powers of two, MAX_FETCH <= 64 (instance %m)");
        $finish;
    end
    if (LANES < 2 || LANES > 16) begin
        $error("Error: a beat carries 2 to 16 dwords, one per SQE dword bank at most (instance %m)");
        $finish;
    end
end

// Request side
localparam [1:0]
    F_IDLE = 2'd0,
    F_ALLOC = 2'd1,
    F_REQ = 2'd2;

reg [1:0] f_state_reg;
reg [QID_W-1:0] f_qid_reg;
reg [TAG_W-1:0] f_tag_reg;
reg [ENT_W:0] f_count_reg;
reg [ENT_W:0] f_alloc_idx_reg;
reg [63:2] f_addr_reg;

reg [QID_W-1:0] tag_qid [0:FETCH_TAGS-1];
reg [ENT_W:0] tag_count [0:FETCH_TAGS-1];
reg [11:0] tag_offset [0:FETCH_TAGS-1];
reg [SLOT_W-1:0] tag_slot [0:FETCH_TAGS*MAX_FETCH-1];
reg [FETCH_TAGS-1:0] tag_err_reg;
// reads that got an unsuccessful completion: their slots are given back after their last completion
reg [FETCH_TAGS-1:0] tag_bad_reg;
// failed reads (after that last completion, or timed out) whose slots are still to be given back
reg [FETCH_TAGS-1:0] tag_fail_reg;
reg [QUEUE_COUNT-1:0] in_flight_reg;

// Read tags and their completion timeout
localparam [FETCH_TAGS-1:0] TAG_ONE = 1;
wire tick;
wire [TAG_W-1:0] free_tag;
wire tag_free;
wire [FETCH_TAGS-1:0] tag_retire;
wire timeout_valid;
wire [TAG_W-1:0] timeout_tag;
wire [FETCH_TAGS-1:0] tag_busy;
wire [FETCH_TAGS-1:0] tag_dead;
wire [FETCH_TAGS-1:0] tag_live;
wire tag_any_live;
wire tag_armed;
wire can_start;
wire [FETCH_TAGS-1:0] unused_dead = tag_dead;

timebase_pulse #(
    .PERIOD(TIMEOUT_TICK_CYCLES)
)
timeout_tick_inst (
    .clk(clk),
    .rst(rst),
    .enable(tag_armed),
    .pulse(tick)
);

nvme_tag_pool #(
    .TAGS(FETCH_TAGS),
    .TAG_W(TAG_W),
    .TIMEOUT_TICKS(TIMEOUT_TICKS)
)
tag_pool_inst (
    .clk(clk),
    .rst(rst),
    .clear(clear),
    .tick(tick),
    .free_tag(free_tag),
    .free_valid(tag_free),
    .alloc(can_start),
    .retire(tag_retire),
    .timeout_valid(timeout_valid),
    .timeout_tag(timeout_tag),
    .timeout_ready(1'b1),
    .busy(tag_busy),
    .dead(tag_dead),
    .live(tag_live),
    .any_live(tag_any_live),
    .armed(tag_armed)
);

// Entries to fetch from the granted SQ
function [15:0] min16(input [15:0] a, input [15:0] b);
    min16 = a < b ? a : b;
endfunction

wire [15:0] pending = sq_tail >= sq_head ? sq_tail - sq_head : sq_tail + sq_size + 16'd1 - sq_head;
wire [15:0] to_wrap = sq_size + 16'd1 - sq_head;
wire [15:0] to_4k = 16'd64 - {10'd0, sq_head[5:0]};
wire [15:0] by_mrrs = 16'd2 << max_read_request;
wire [15:0] by_burst = arb_burst == 3'd7 ? 16'hffff : 16'd1 << arb_burst;
wire [15:0] fetch_count = min16(min16(min16(pending, to_wrap), min16(to_4k, by_mrrs)),
                                min16(min16(by_burst, MAX_FETCH[15:0]), {{(15-SLOT_W){1'b0}}, free_count}));

assign can_start = f_state_reg == F_IDLE && enable && grant_valid && tag_free && free_count != 0;

assign grant_ack = can_start;
assign grant_count = fetch_count;
assign sq_in_flight = in_flight_reg;
assign advance = can_start;
assign advance_qid = grant_qid;
assign advance_count = fetch_count;

assign alloc_valid = f_state_reg == F_ALLOC;
assign alloc_sqid = f_qid_reg;

assign req_valid = f_state_reg == F_REQ;
assign req_addr = f_addr_reg;
assign req_dwords = {{(6-ENT_W){1'b0}}, f_count_reg, 4'd0};
assign req_tag = {{(8-TAG_W){1'b0}}, f_tag_reg};
assign req_sqid = f_qid_reg;

// Completion side: a beat at a time
localparam [2:0]
    R_DESC = 3'd0,
    R_DATA = 3'd1,
    R_DROP = 3'd2,
    R_PUSH = 3'd3;

reg [2:0] r_state_reg;
reg [AXIS_PCIE_DATA_WIDTH-1:0] in_data_reg;
reg [AXIS_PCIE_KEEP_WIDTH-1:0] in_keep_reg;
reg in_last_reg;
reg [1:0] r_desc_dw_reg;
reg r_completed_reg;
reg r_error_reg;
reg [10:0] r_dwords_reg;
reg [TAG_W-1:0] r_tag_reg;
reg [11:0] r_offset_reg;
reg [ENT_W:0] r_push_idx_reg;

// Only the stream's tlast, tkeep and data are used
wire [AXIS_PCIE_RC_USER_WIDTH-1:0] unused_rc_tuser = s_axis_rc_tuser;

// the descriptor's three dwords where the register holds them (zeros past a 64-bit beat)
wire [95:0] in_desc;
generate
    if (AXIS_PCIE_DATA_WIDTH >= 96) begin : desc_in_beat
        assign in_desc = in_data_reg[95:0];
    end else begin : desc_past_beat
        assign in_desc = {{(96-AXIS_PCIE_DATA_WIDTH){1'b0}}, in_data_reg};
    end
endgenerate
// the register holds what is left of a beat from lane 0 on (tkeep is contiguous in dword-aligned mode)
wire [AXIS_PCIE_KEEP_WIDTH+2:0] in_keep_pad = {3'd0, in_keep_reg};
wire in_dw_valid = in_keep_reg[0];
wire [31:0] in_dw = in_data_reg[31:0];
wire in_dw_last = in_last_reg && in_keep_pad[AXIS_PCIE_KEEP_WIDTH+2:1] == 0;

// Descriptor: its three dwords at once when the register holds them all, else one per cycle
wire desc_whole = r_desc_dw_reg == 2'd0 && in_keep_pad[2:0] == 3'b111;
// (the other descriptor fields: address, byte count, requester and completer IDs, attributes)
/* verilator lint_off UNUSEDSIGNAL */
wire [31:0] desc_dw0 = in_desc[31:0];
wire [31:0] desc_dw1 = in_desc[63:32];
wire [31:0] desc_dw2 = desc_whole ? in_desc[95:64] : in_dw;
/* verilator lint_on UNUSEDSIGNAL */
// dword 0: error code [15:12], request completed [30]; dword 1: dword count [10:0], status [13:11],
// poisoned [14]; dword 2: tag [7:0]
wire desc_end = desc_whole || (r_desc_dw_reg == 2'd2 && in_dw_valid);
wire desc_completed = desc_whole ? desc_dw0[30] : r_completed_reg;
wire desc_bad = desc_whole ? desc_dw0[15:12] != 4'd0 || desc_dw1[13:11] != 3'd0 || desc_dw1[14] : r_error_reg;
wire [TAG_W-1:0] desc_tag = desc_dw2[TAG_W-1:0];
wire desc_failed = desc_bad || desc_dw2[7:TAG_W] != 0 || !tag_live[desc_tag];
wire desc_last = in_last_reg && (desc_whole ? in_keep_pad[AXIS_PCIE_KEEP_WIDTH+2:3] == 0 : in_dw_last);

// Data: every dword of the register in one cycle. Dword k of the register is dword data_dw + k of
// the read; SQE dword bank b takes the register's dword b - data_dw (mod 16), of entry data_entry,
// or of the next entry where that wraps past dword 15. That dword is taken only if it is below the
// register's count, so it is also the register's dword b - data_dw mod LANES (LANES divides 16): one
// rotation of the register by data_dw mod LANES lanes, and bank b wired to rotated lane b mod LANES.
/* verilator lint_off UNUSEDSIGNAL */
wire [11:0] entry_offset = r_offset_reg - tag_offset[r_tag_reg];
/* verilator lint_on UNUSEDSIGNAL */
wire [ENT_W+3:0] data_dw = entry_offset[ENT_W+5:2];
wire [ENT_W-1:0] data_entry = data_dw[ENT_W+3:4];
wire [SLOT_W-1:0] data_slot = tag_slot[{r_tag_reg, data_entry}];
wire [SLOT_W-1:0] data_next_slot = tag_slot[{r_tag_reg, data_entry + 1'b1}];
wire [LANE_W-2:0] data_rotation = data_dw[LANE_W-2:0];
wire [2*AXIS_PCIE_DATA_WIDTH-1:0] in_data_twice = {in_data_reg, in_data_reg};
// rotated lane k is lane k - rotation: the doubled register's window from lane LANES - rotation on
wire [LANE_W-1:0] data_window = {1'b1, {(LANE_W-1){1'b0}}} - {1'b0, data_rotation};
wire [AXIS_PCIE_DATA_WIDTH-1:0] data_rotated = in_data_twice[{data_window, 5'd0} +: AXIS_PCIE_DATA_WIDTH];
reg [LANE_W-1:0] data_count;
reg [15:0] bank_en;
reg [16*SLOT_W-1:0] bank_slot;
reg [16*32-1:0] bank_data;
reg [3:0] bank_lane;
integer k;
integer b;
always @* begin
    // dwords held: tkeep is contiguous from lane 0
    data_count = 0;
    for (k = 0; k < LANES; k = k + 1) begin
        if (in_keep_reg[k]) begin
            data_count = k[LANE_W-1:0] + 1'b1;
        end
    end
    for (b = 0; b < 16; b = b + 1) begin
        bank_lane = b[3:0] - data_dw[3:0];
        bank_en[b] = {2'b00, bank_lane} < {{(6-LANE_W){1'b0}}, data_count} && {7'd0, bank_lane} < r_dwords_reg;
        bank_slot[b*SLOT_W +: SLOT_W] = b[3:0] < data_dw[3:0] ? data_next_slot : data_slot;
        bank_data[b*32 +: 32] = data_rotated[(b % LANES)*32 +: 32];
    end
end
wire [10:0] data_taken = {{(11-LANE_W){1'b0}}, data_count} < r_dwords_reg ? {{(11-LANE_W){1'b0}}, data_count}
                                                                          : r_dwords_reg;

// the register is emptied this cycle: the next beat may come in at once
wire in_consumed = ((r_state_reg == R_DATA || r_state_reg == R_DROP) && in_keep_reg != 0)
                   || (r_state_reg == R_DESC && desc_whole && in_keep_pad[AXIS_PCIE_KEEP_WIDTH+2:3] == 0);
assign s_axis_rc_tready = in_keep_reg == 0 || in_consumed;

assign push_valid = r_state_reg == R_PUSH && !tag_err_reg[r_tag_reg] && !tag_fail_reg[r_tag_reg] && !clear;
assign push_slot = tag_slot[{r_tag_reg, r_push_idx_reg[ENT_W-1:0]}];

// Giving back a failed read's slots: a tag at a time, once the completion side is done with it (its
// last completion taken, or none in progress), one slot per cycle; then its SQ may be fetched again
// and the tag, if still live (an unsuccessful completion), retired. A timed-out tag stays dead.
reg rel_busy_reg;
reg [TAG_W-1:0] rel_tag_reg;
reg [ENT_W:0] rel_idx_reg;
reg [FETCH_TAGS-1:0] rel_ready;
integer rt;
always @* begin
    for (rt = 0; rt < FETCH_TAGS; rt = rt + 1) begin
        rel_ready[rt] = tag_fail_reg[rt] && !(r_state_reg != R_DESC && r_tag_reg == rt[TAG_W-1:0]);
    end
end
wire [TAG_W-1:0] rel_next;
wire rel_any;
lowest_set_bit #(
    .WIDTH(FETCH_TAGS),
    .INDEX_W(TAG_W)
)
release_tag_inst (
    .bits(rel_ready),
    .index(rel_next),
    .valid(rel_any)
);
assign release_valid = rel_busy_reg;
assign release_slot = tag_slot[{rel_tag_reg, rel_idx_reg[ENT_W-1:0]}];
wire rel_done = rel_busy_reg && rel_idx_reg + 1 == tag_count[rel_tag_reg];

assign idle = f_state_reg == F_IDLE && !tag_any_live && r_state_reg == R_DESC && !rel_busy_reg && tag_fail_reg == 0;

// a read's tag is freed once its commands are queued (or dropped; a failed read's once its slots are given
// back), and a read not yet issued by the controller reset
wire push_failed = tag_bad_reg[r_tag_reg] || tag_fail_reg[r_tag_reg];
wire push_done = r_state_reg == R_PUSH
                 && (tag_err_reg[r_tag_reg] || push_failed || clear || r_push_idx_reg + 1 == tag_count[r_tag_reg]);
assign tag_retire = (push_done && !push_failed ? TAG_ONE << r_tag_reg : {FETCH_TAGS{1'b0}})
                    | (rel_done ? TAG_ONE << rel_tag_reg : {FETCH_TAGS{1'b0}})
                    | (clear && f_state_reg != F_IDLE ? TAG_ONE << f_tag_reg : {FETCH_TAGS{1'b0}});
// a tag in quarantine needs the clock: with every tag dead nothing could be fetched until they return
assign quiet = idle && !can_start && !tag_armed;

always @(posedge clk) begin
    sqe_wr_en <= 16'd0;
    fetch_error <= 1'b0;
    fetch_timeout <= 1'b0;

    // Request side
    case (f_state_reg)
        F_IDLE: begin
            if (can_start) begin
                f_qid_reg <= grant_qid;
                f_tag_reg <= free_tag;
                f_count_reg <= fetch_count[ENT_W:0];
                f_alloc_idx_reg <= 0;
                f_addr_reg <= {sq_base, 10'd0} + {42'd0, sq_head, 4'd0};
                tag_err_reg[free_tag] <= 1'b0;
                tag_qid[free_tag] <= grant_qid;
                tag_count[free_tag] <= fetch_count[ENT_W:0];
                tag_offset[free_tag] <= {sq_head[5:0], 6'd0};
                in_flight_reg[grant_qid] <= 1'b1;
                f_state_reg <= F_ALLOC;
            end
        end
        F_ALLOC: begin
            // slots are free: fetch_count never exceeds free_count
            tag_slot[{f_tag_reg, f_alloc_idx_reg[ENT_W-1:0]}] <= alloc_slot;
            f_alloc_idx_reg <= f_alloc_idx_reg + 1;
            if (f_alloc_idx_reg + 1 == f_count_reg) begin
                f_state_reg <= F_REQ;
            end
        end
        F_REQ: begin
            if (req_ready) begin
                f_state_reg <= F_IDLE;
            end
        end
        default: f_state_reg <= F_IDLE;
    endcase

    // Completion side
    case (r_state_reg)
        R_DESC: begin
            if (desc_whole) begin
                in_data_reg <= in_data_reg >> 96;
                in_keep_reg <= in_keep_reg >> 3;
            end else if (in_dw_valid) begin
                in_data_reg <= in_data_reg >> 32;
                in_keep_reg <= in_keep_reg >> 1;
                r_desc_dw_reg <= r_desc_dw_reg + 2'd1;
                case (r_desc_dw_reg)
                    2'd0: begin
                        r_completed_reg <= in_dw[30];
                        r_error_reg <= in_dw[15:12] != 4'd0;
                        r_offset_reg <= {in_dw[11:2], 2'b00};
                    end
                    2'd1: begin
                        r_dwords_reg <= in_dw[10:0];
                        if (in_dw[13:11] != 3'd0 || in_dw[14]) begin
                            r_error_reg <= 1'b1;
                        end
                    end
                    default: r_desc_dw_reg <= 2'd0;
                endcase
            end
            if (desc_end) begin
                if (desc_whole) begin
                    r_completed_reg <= desc_completed;
                    r_offset_reg <= {desc_dw0[11:2], 2'b00};
                    r_dwords_reg <= desc_dw1[10:0];
                end
                r_tag_reg <= desc_tag;
                r_push_idx_reg <= 0;
                if (desc_failed) begin
                    // a read of ours failed: fatal to its SQ's controller, its slots to be given back
                    // (a late completion of a dead tag, or one of a read the reset dropped, is discarded)
                    if (tag_live[desc_tag] && !tag_err_reg[desc_tag]) begin
                        fetch_error <= 1'b1;
                        fetch_error_qid <= tag_qid[desc_tag];
                        tag_bad_reg[desc_tag] <= 1'b1;
                    end
                    tag_err_reg[desc_tag] <= 1'b1;
                    r_state_reg <= desc_last ? (desc_completed ? R_PUSH : R_DESC) : R_DROP;
                end else if (desc_last) begin
                    r_state_reg <= desc_completed ? R_PUSH : R_DESC;
                end else begin
                    r_state_reg <= R_DATA;
                end
            end
        end
        R_DATA: begin
            if (in_keep_reg != 0) begin
                in_keep_reg <= 0;
                sqe_wr_en <= bank_en;
                sqe_wr_slot <= bank_slot;
                sqe_wr_data <= bank_data;
                r_dwords_reg <= r_dwords_reg - data_taken;
                r_offset_reg <= r_offset_reg + {data_taken[9:0], 2'b00};
                if (in_last_reg) begin
                    r_state_reg <= r_completed_reg ? R_PUSH : R_DESC;
                end
            end
        end
        R_DROP: begin
            if (in_keep_reg != 0) begin
                in_keep_reg <= 0;
                if (in_last_reg) begin
                    r_state_reg <= r_completed_reg ? R_PUSH : R_DESC;
                end
            end
        end
        R_PUSH: begin
            // queue the read's commands in order; an errored read queues none
            if (push_done) begin
                if (!tag_err_reg[r_tag_reg] && !push_failed) begin
                    in_flight_reg[tag_qid[r_tag_reg]] <= 1'b0;
                end
                if (tag_bad_reg[r_tag_reg]) begin
                    tag_bad_reg[r_tag_reg] <= 1'b0;
                    tag_fail_reg[r_tag_reg] <= 1'b1;
                end
                r_state_reg <= R_DESC;
            end
            r_push_idx_reg <= r_push_idx_reg + 1;
        end
        default: r_state_reg <= R_DESC;
    endcase
    // a new beat when the register is empty, or is emptied this cycle
    if (s_axis_rc_tready && s_axis_rc_tvalid) begin
        in_data_reg <= s_axis_rc_tdata;
        in_keep_reg <= s_axis_rc_tkeep;
        in_last_reg <= s_axis_rc_tlast;
    end

    // Completion timeout (the tag pool's): the tag is dead, its SQ's controller fatal, its slots to be
    // given back unless its commands are being queued now (their last completion came in time)
    if (timeout_valid && !tag_err_reg[timeout_tag]) begin
        fetch_timeout <= 1'b1;
        fetch_timeout_qid <= tag_qid[timeout_tag];
        if (!(r_state_reg == R_PUSH && r_tag_reg == timeout_tag)) begin
            tag_fail_reg[timeout_tag] <= 1'b1;
        end
    end else if (timeout_valid && tag_bad_reg[timeout_tag]) begin
        // a failed read whose last completion never came: dead now, nothing more of it is written
        tag_bad_reg[timeout_tag] <= 1'b0;
        tag_fail_reg[timeout_tag] <= 1'b1;
    end

    // Giving back a failed read's slots
    if (rel_busy_reg) begin
        rel_idx_reg <= rel_idx_reg + 1;
        if (rel_done) begin
            rel_busy_reg <= 1'b0;
            in_flight_reg[tag_qid[rel_tag_reg]] <= 1'b0;
        end
    end else if (rel_any) begin
        rel_busy_reg <= 1'b1;
        rel_tag_reg <= rel_next;
        rel_idx_reg <= 0;
        tag_fail_reg[rel_next] <= 1'b0;
    end

    // Controller reset: a read not yet issued is dropped (its tag retired);
    // completions of issued reads are still taken in, and discarded;
    // timed-out tags return to the pool
    if (clear) begin
        // the command table frees every slot: nothing is left to give back
        tag_err_reg <= tag_busy;
        tag_bad_reg <= 0;
        tag_fail_reg <= 0;
        rel_busy_reg <= 1'b0;
        in_flight_reg <= 0;
        if (f_state_reg != F_IDLE) begin
            f_state_reg <= F_IDLE;
        end
    end

    if (rst) begin
        f_state_reg <= F_IDLE;
        r_state_reg <= R_DESC;
        r_desc_dw_reg <= 2'd0;
        in_keep_reg <= 0;
        in_last_reg <= 1'b0;
        tag_err_reg <= 0;
        tag_bad_reg <= 0;
        tag_fail_reg <= 0;
        rel_busy_reg <= 1'b0;
        in_flight_reg <= 0;
        fetch_error <= 1'b0;
        fetch_timeout <= 1'b0;
        sqe_wr_en <= 16'd0;
    end
end

endmodule

`resetall
