`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Per-queue state of the admin queue pair and the I/O queue pairs: base,
 * size, head, tail, CQ phase, SQ-to-CQ mapping, SQ priority, CQ interrupt
 * vector and enable. The table holds the queues of FUNCTIONS controllers,
 * each entry one controller's (entry_function, from nvme_queue_map); a
 * controller's reset drops its queues only. Every change goes through this module, with a fixed
 * priority when several happen in the same cycle: controller reset, then
 * the admin queue's creation (a firmware create or delete in that cycle is
 * ignored), then firmware create/delete, then the engines and doorbells,
 * which touch disjoint fields.
 *
 * A queue's configuration (base, size, mapping, priority, vector, enable)
 * is written only when the queue is created and is never reset: it has one
 * write port per queue kind, so that it maps to distributed RAM, and only
 * the state that moves (valid, head, tail, phase) is in flip-flops.
 *
 * Doorbell writes are checked here; an invalid one changes nothing and is
 * reported on db_err_*. An SQ tail may add at most as many entries as are
 * free (the fetch pointer is the host's SQ head); a CQ head may free at most
 * the entries posted.
 *
 * The firmware rings doorbells too (db_fw), with values it read from the
 * host's shadow doorbell buffer. Such a write is a compare-and-set: it
 * applies only if the doorbell still holds db_expect, the value the firmware
 * saw before it read the shadow buffer, so a stale shadow value can never
 * undo an MMIO doorbell written meanwhile. One that does not apply, or names
 * a queue that is gone, changes nothing and is no error; otherwise it is
 * checked like a host's.
 */
module nvme_queue_table #
(
    // Controllers
    parameter FUNCTIONS = 1,
    // Entries: queue pairs of every controller
    parameter QUEUE_COUNT = 65,
    // Queue id width
    parameter QID_W = $clog2(QUEUE_COUNT),
    // Interrupt vector width
    parameter VEC_W = QID_W
)
(
    input  wire                     clk,
    input  wire                     rst,

    /*
     * Controller state
     */
    // a controller's reset, and the creation of one controller's admin queue pair (entry admin_qid)
    input  wire [FUNCTIONS-1:0]     ctrl_reset,
    // the controller of each entry
    input  wire [2*QUEUE_COUNT-1:0] entry_function,
    input  wire                     admin_create,
    input  wire [QID_W-1:0]         admin_qid,
    input  wire [VEC_W-1:0]         admin_vector,
    input  wire [63:12]             asq_base,
    input  wire [63:12]             acq_base,
    input  wire [11:0]              aqa_asqs,
    input  wire [11:0]              aqa_acqs,

    /*
     * Doorbell writes, and invalid ones reported
     */
    input  wire                     db_valid,
    input  wire [QID_W-1:0]         db_qid,
    input  wire [1:0]               db_function,
    input  wire                     db_is_cq,
    input  wire                     db_beyond,
    input  wire [15:0]              db_value,
    // the firmware's compare-and-set write: applies only if the doorbell holds db_expect
    input  wire                     db_fw,
    input  wire [15:0]              db_expect,
    output reg                      db_err_valid,
    output reg  [1:0]               db_err_kind,
    output reg  [QID_W-1:0]         db_err_qid,
    output reg                      db_err_is_cq,

    /*
     * Firmware queue programming: 1 create SQ, 2 create CQ, 3 delete SQ, 4 delete CQ
     */
    input  wire                     fw_cmd_valid,
    input  wire [2:0]               fw_cmd_op,
    input  wire [QID_W-1:0]         fw_cmd_qid,
    input  wire [63:12]             fw_cmd_base,
    input  wire [15:0]              fw_cmd_size,
    input  wire [QID_W-1:0]         fw_cmd_map,
    input  wire [VEC_W-1:0]         fw_cmd_vector,
    input  wire [1:0]               fw_cmd_prio,
    input  wire                     fw_cmd_ien,

    /*
     * SQ fetch: state of one SQ, and the fetch pointer advance
     */
    input  wire [QID_W-1:0]         fetch_qid,
    output wire [63:0]              fetch_sq_base,
    output wire [15:0]              fetch_sq_size,
    output wire [15:0]              fetch_sq_head,
    output wire [15:0]              fetch_sq_tail,
    input  wire                     fetch_advance,
    input  wire [QID_W-1:0]         fetch_advance_qid,
    input  wire [15:0]              fetch_advance_count,

    /*
     * CQ posting: the CQ of an SQ, and the tail advance
     */
    input  wire [QID_W-1:0]         post_sqid,
    output wire [15:0]              post_sq_head,
    output wire [QID_W-1:0]         post_cqid,
    output wire                     post_cq_valid,
    output wire [63:0]              post_cq_base,
    output wire [15:0]              post_cq_tail,
    output wire                     post_cq_phase,
    output wire                     post_cq_full,
    output wire [VEC_W-1:0]         post_cq_vector,
    output wire                     post_cq_ien,
    input  wire                     post_advance,

    /*
     * Firmware view of one queue
     */
    input  wire [QID_W-1:0]         fw_qid,
    output wire                     fw_sq_valid,
    output wire                     fw_sq_fetching,
    output wire [15:0]              fw_sq_head,
    output wire [15:0]              fw_sq_tail,
    output wire                     fw_cq_valid,
    output wire                     fw_cq_full,
    output wire                     fw_cq_phase,
    output wire [15:0]              fw_cq_tail,
    output wire [15:0]              fw_cq_head,
    input  wire [QUEUE_COUNT-1:0]   sq_in_flight,

    /*
     * Every SQ at once, for arbitration
     */
    output wire [QUEUE_COUNT-1:0]   sq_pending,
    output wire [2*QUEUE_COUNT-1:0] sq_prio,
    // every entry holding an SQ or a CQ
    output wire [QUEUE_COUNT-1:0]   entry_valid,
    output wire                     any_queue_valid
);

// the four functions the hard IP can have, for lookups by an entry's controller
wire [3:0] reset_any = {{(4-FUNCTIONS){1'b0}}, ctrl_reset};

initial begin
    // Queue 0 is the admin queue; NVMe allows at most 65535 I/O queues
    if (FUNCTIONS < 1 || FUNCTIONS > 4 || QUEUE_COUNT < 2 * FUNCTIONS || QUEUE_COUNT > 65536
            || (1 << QID_W) < QUEUE_COUNT || VEC_W < 1) begin
        $error("Error: 1 to 4 controllers, an admin and an I/O queue each, 2 to 65536 entries in QID_W bits (instance %m)");
        $finish;
    end
end

// configuration (one write port each: distributed RAM)
reg  [63:12]        sq_base  [0:QUEUE_COUNT-1];
reg  [15:0]         sq_size  [0:QUEUE_COUNT-1];
reg  [QID_W-1:0]    sq_cqid  [0:QUEUE_COUNT-1];
reg  [1:0]          sq_qprio [0:QUEUE_COUNT-1];
reg  [63:12]        cq_base  [0:QUEUE_COUNT-1];
reg  [15:0]         cq_size  [0:QUEUE_COUNT-1];
reg  [VEC_W-1:0]    cq_iv    [0:QUEUE_COUNT-1];
reg                 cq_ien   [0:QUEUE_COUNT-1];

// state
reg                 sq_valid [0:QUEUE_COUNT-1];
reg  [15:0]         sq_head  [0:QUEUE_COUNT-1];
reg  [15:0]         sq_tail  [0:QUEUE_COUNT-1];
reg                 cq_valid [0:QUEUE_COUNT-1];
reg  [15:0]         cq_head  [0:QUEUE_COUNT-1];
reg  [15:0]         cq_tail  [0:QUEUE_COUNT-1];
reg                 cq_phase [0:QUEUE_COUNT-1];

localparam [2:0]
    OP_CREATE_SQ = 3'd1,
    OP_CREATE_CQ = 3'd2,
    OP_DELETE_SQ = 3'd3,
    OP_DELETE_CQ = 3'd4;

localparam [1:0]
    DB_ERR_NO_QUEUE = 2'd1,
    DB_ERR_BEYOND_SIZE = 2'd2,
    DB_ERR_PASSES = 2'd3;

// (a - b) mod (size + 1) for pointers below size + 1, size zero-based
function [15:0] ring_sub(input [15:0] a, input [15:0] b, input [15:0] size);
    ring_sub = a >= b ? a - b : a + size + 16'd1 - b;
endfunction

function [15:0] ring_add(input [15:0] a, input [15:0] n, input [15:0] size);
    reg [16:0] sum;
    begin
        sum = {1'b0, a} + {1'b0, n};
        ring_add = sum > {1'b0, size} ? sum[15:0] - size - 16'd1 : sum[15:0];
    end
endfunction

// Fetch and firmware views
assign fetch_sq_base = {sq_base[fetch_qid], 12'd0};
assign fetch_sq_size = sq_size[fetch_qid];
assign fetch_sq_head = sq_head[fetch_qid];
assign fetch_sq_tail = sq_tail[fetch_qid];

wire [QID_W-1:0] post_cq = sq_cqid[post_sqid];
assign post_sq_head = sq_head[post_sqid];
assign post_cqid = post_cq;
assign post_cq_valid = cq_valid[post_cq];
assign post_cq_base = {cq_base[post_cq], 12'd0};
assign post_cq_tail = cq_tail[post_cq];
assign post_cq_phase = cq_phase[post_cq];
assign post_cq_full = ring_add(cq_tail[post_cq], 16'd1, cq_size[post_cq]) == cq_head[post_cq];
assign post_cq_vector = cq_iv[post_cq];
assign post_cq_ien = cq_ien[post_cq];

assign fw_sq_valid = sq_valid[fw_qid];
assign fw_sq_fetching = sq_in_flight[fw_qid];
assign fw_sq_head = sq_head[fw_qid];
assign fw_sq_tail = sq_tail[fw_qid];
assign fw_cq_valid = cq_valid[fw_qid];
assign fw_cq_full = ring_add(cq_tail[fw_qid], 16'd1, cq_size[fw_qid]) == cq_head[fw_qid];
assign fw_cq_phase = cq_phase[fw_qid];
assign fw_cq_tail = cq_tail[fw_qid];
assign fw_cq_head = cq_head[fw_qid];

genvar g;
generate
    for (g = 0; g < QUEUE_COUNT; g = g + 1) begin : per_queue
        assign sq_pending[g] = sq_valid[g] && sq_tail[g] != sq_head[g];
        assign sq_prio[2*g +: 2] = sq_qprio[g];
        assign entry_valid[g] = sq_valid[g] || cq_valid[g];
    end
endgenerate

reg any_valid;
integer k;
always @* begin
    any_valid = 1'b0;
    for (k = 0; k < QUEUE_COUNT; k = k + 1) begin
        any_valid = any_valid | sq_valid[k] | cq_valid[k];
    end
end
assign any_queue_valid = any_valid;

// Queue creation: the admin queue pair from AQA/ASQ/ACQ, or one queue the firmware creates
wire fw_cmd = fw_cmd_valid && !admin_create;
wire create_sq = admin_create || (fw_cmd && fw_cmd_op == OP_CREATE_SQ);
wire create_cq = admin_create || (fw_cmd && fw_cmd_op == OP_CREATE_CQ);
wire [QID_W-1:0] create_qid = admin_create ? admin_qid : fw_cmd_qid;

always @(posedge clk) begin
    if (create_sq) begin
        sq_base[create_qid] <= admin_create ? asq_base[63:12] : fw_cmd_base[63:12];
        sq_size[create_qid] <= admin_create ? {4'd0, aqa_asqs} : fw_cmd_size;
        sq_cqid[create_qid] <= admin_create ? admin_qid : fw_cmd_map;
        sq_qprio[create_qid] <= admin_create ? 2'd0 : fw_cmd_prio;
    end
    if (create_cq) begin
        cq_base[create_qid] <= admin_create ? acq_base[63:12] : fw_cmd_base[63:12];
        cq_size[create_qid] <= admin_create ? {4'd0, aqa_acqs} : fw_cmd_size;
        cq_iv[create_qid] <= admin_create ? admin_vector : fw_cmd_vector;
        cq_ien[create_qid] <= admin_create || fw_cmd_ien;
    end
end

// Doorbell check
wire db_queue_exists = !db_beyond && {{(32-QID_W){1'b0}}, db_qid} < QUEUE_COUNT && (db_is_cq ? cq_valid[db_qid] : sq_valid[db_qid]);
wire [15:0] db_size = db_is_cq ? cq_size[db_qid] : sq_size[db_qid];
// SQ: entries added must fit in the free space; CQ: entries freed must have been posted
wire [15:0] sq_added = ring_sub(db_value, sq_tail[db_qid], sq_size[db_qid]);
wire [15:0] sq_free = ring_sub(sq_head[db_qid], ring_add(sq_tail[db_qid], 16'd1, sq_size[db_qid]), sq_size[db_qid]);
wire [15:0] cq_freed = ring_sub(db_value, cq_head[db_qid], cq_size[db_qid]);
wire [15:0] cq_posted = ring_sub(cq_tail[db_qid], cq_head[db_qid], cq_size[db_qid]);
wire db_passes = db_is_cq ? cq_freed > cq_posted : sq_added > sq_free;
wire db_stale = db_fw && (!db_queue_exists || (db_is_cq ? cq_head[db_qid] : sq_tail[db_qid]) != db_expect);

always @(posedge clk) begin
    db_err_valid <= 1'b0;

    if (db_valid && !db_stale) begin
        db_err_qid <= db_qid;
        db_err_is_cq <= db_is_cq;
        if (!db_queue_exists) begin
            db_err_valid <= 1'b1;
            db_err_kind <= DB_ERR_NO_QUEUE;
        end else if (db_value > db_size) begin
            db_err_valid <= 1'b1;
            db_err_kind <= DB_ERR_BEYOND_SIZE;
        end else if (db_passes) begin
            db_err_valid <= 1'b1;
            db_err_kind <= DB_ERR_PASSES;
        end else if (db_is_cq) begin
            cq_head[db_qid] <= db_value;
        end else begin
            sq_tail[db_qid] <= db_value;
        end
    end

    if (fetch_advance) begin
        sq_head[fetch_advance_qid] <= ring_add(sq_head[fetch_advance_qid], fetch_advance_count, sq_size[fetch_advance_qid]);
    end

    if (post_advance) begin
        cq_tail[post_cq] <= ring_add(cq_tail[post_cq], 16'd1, cq_size[post_cq]);
        if (cq_tail[post_cq] == cq_size[post_cq]) begin
            cq_phase[post_cq] <= !cq_phase[post_cq];
        end
    end

    if (create_sq) begin
        sq_valid[create_qid] <= 1'b1;
        sq_head[create_qid] <= 16'd0;
        sq_tail[create_qid] <= 16'd0;
    end
    if (create_cq) begin
        cq_valid[create_qid] <= 1'b1;
        cq_head[create_qid] <= 16'd0;
        cq_tail[create_qid] <= 16'd0;
        cq_phase[create_qid] <= 1'b1;
    end
    if (fw_cmd && fw_cmd_op == OP_DELETE_SQ) begin
        sq_valid[fw_cmd_qid] <= 1'b0;
    end
    if (fw_cmd && fw_cmd_op == OP_DELETE_CQ) begin
        cq_valid[fw_cmd_qid] <= 1'b0;
    end

    for (k = 0; k < QUEUE_COUNT; k = k + 1) begin
        if (rst || reset_any[entry_function[2*k +: 2]]) begin
            sq_valid[k] <= 1'b0;
            cq_valid[k] <= 1'b0;
            sq_head[k] <= 16'd0;
            sq_tail[k] <= 16'd0;
            cq_head[k] <= 16'd0;
            cq_tail[k] <= 16'd0;
        end
    end
    // the reset of the doorbell's controller comes first
    if (rst || reset_any[db_function]) begin
        db_err_valid <= 1'b0;
    end
end

endmodule

`resetall
