`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * CQ entry posting.
 *
 * Takes a completion {slot, status, DW0, DW1} from the firmware, builds the
 * CQE (SQ head, SQ id, CID, phase, status), writes it at the CQ tail in host
 * memory and advances the tail; the slot is then free. A full CQ holds the
 * completion (busy) until a CQ head doorbell makes room: an entry the host
 * has not consumed is never overwritten. A completion for a CQ that no
 * longer exists is dropped and its slot freed, and so is one whose SQ's
 * queue table entry went to another controller since its command was
 * fetched (lookup_foreign): the CQ it names now is that controller's.
 *
 * Reset epochs: a completion names the epoch the firmware was given with
 * its command (cpl_epoch). One that differs from the slot's (the slot was
 * given back and taken again since) is dropped and the slot left alone; a
 * slot fetched in an older epoch of its controller than the current one
 * (fn_epoch: the controller was reset since) is dropped, and its slot freed
 * where a reset leaves its slots to drain (STALE_FREES; with one controller
 * the reset frees every slot at once). Either is counted on stale. No CQE of a reset controller's command ever
 * reaches its new queues.
 *
 * The CQE names the SQ by its id within its controller (post_local_sqid,
 * from nvme_queue_map), and a controller's admin CQ is not coalesced. Once the CQE write has left
 * on RQ (its request builder is idle again), the CQ's interrupt vector is
 * signalled when interrupts are enabled on it, so the message never
 * overtakes the entry it announces.
 */
module nvme_cq_poster #
(
    // Queue id width
    parameter QID_W = 7,
    // Command slot id width
    parameter SLOT_W = 6,
    // Queue id width within a controller
    parameter LQID_W = QID_W,
    // Interrupt vector width
    parameter VEC_W = QID_W,
    // Reset epoch width
    parameter EPOCH_W = 8,
    // 1: a reset leaves its controller's slots busy until their completions come, dropped (several
    // controllers share the command table); 0: a reset frees every slot at once
    parameter STALE_FREES = 0
)
(
    input  wire               clk,
    input  wire               rst,
    input  wire               clear,
    output wire               idle,

    /*
     * Completion from the firmware
     */
    input  wire               cpl_valid,
    output wire               cpl_ready,
    input  wire [SLOT_W-1:0]  cpl_slot,
    input  wire [14:0]        cpl_status,
    input  wire [31:0]        cpl_dw0,
    input  wire [31:0]        cpl_dw1,
    input  wire [EPOCH_W-1:0] cpl_epoch,
    // a completion dropped for its epoch
    output wire               stale,

    /*
     * Command table
     */
    output wire [SLOT_W-1:0]  lookup_slot,
    input  wire [QID_W-1:0]   lookup_sqid,
    input  wire [15:0]        lookup_cid,
    input  wire [EPOCH_W-1:0] lookup_epoch,
    // the current epoch of the slot's controller, and whether lookup_sqid's entry is another controller's now
    input  wire [EPOCH_W-1:0] fn_epoch,
    input  wire               lookup_foreign,
    output wire               release_valid,
    output wire [SLOT_W-1:0]  release_slot,

    /*
     * Queue table
     */
    output wire [QID_W-1:0]   post_sqid,
    input  wire [15:0]        post_sq_head,
    // the SQ's id within its controller, and whether its CQ is a controller's admin CQ
    input  wire [LQID_W-1:0]  post_local_sqid,
    input  wire               post_admin_cq,
    input  wire [QID_W-1:0]   post_cqid,
    input  wire               post_cq_valid,
    input  wire [63:12]       post_cq_base,
    input  wire [15:0]        post_cq_tail,
    input  wire               post_cq_phase,
    input  wire               post_cq_full,
    input  wire [VEC_W-1:0]   post_cq_vector,
    input  wire               post_cq_ien,
    output wire               post_advance,

    /*
     * CQE write (to the RQ request builder)
     */
    output wire               req_valid,
    input  wire               req_ready,
    output wire [63:2]        req_addr,
    output wire [127:0]       req_data,

    /*
     * Interrupt request for the CQ's vector; admin CQ interrupts are not coalesced
     */
    output wire               irq_valid,
    output wire [VEC_W-1:0]   irq_vector,
    output wire               irq_coalesce
);

initial begin
    // A CQE carries the SQ id and the command id in 16 bits each
    if (QID_W < 1 || QID_W > 16 || SLOT_W < 1 || SLOT_W > 16 || LQID_W < 1 || LQID_W > 16 || VEC_W < 1) begin
        $error("Error: QID_W, LQID_W and SLOT_W must be between 1 and 16 (instance %m)");
        $finish;
    end
end

localparam [1:0]
    P_IDLE = 2'd0,
    P_LOOKUP = 2'd1,
    P_WRITE = 2'd2,
    P_SENT = 2'd3;

reg [1:0] state_reg;
reg [SLOT_W-1:0] slot_reg;
reg [14:0] status_reg;
reg [31:0] dw0_reg;
reg [31:0] dw1_reg;
reg [QID_W-1:0] sqid_reg;
reg [15:0] cid_reg;
reg [VEC_W-1:0] vector_reg;
reg ien_reg;
reg coalesce_reg;
reg misnamed_reg;   // the completion names another epoch than its slot's
reg old_reg;        // the slot's command is of an older epoch of its controller
reg foreign_reg;    // the slot's SQ entry is another controller's now

assign idle = state_reg == P_IDLE;
assign cpl_ready = state_reg == P_IDLE && !clear;
assign lookup_slot = cpl_slot;
assign post_sqid = sqid_reg;

wire write_done = state_reg == P_WRITE && req_ready;
// a stale slot is freed only where the reset left it busy: with one controller it may hold a new command
wire drop = state_reg == P_LOOKUP && !misnamed_reg && (old_reg ? STALE_FREES != 0 : foreign_reg || !post_cq_valid);
assign stale = state_reg == P_LOOKUP && (misnamed_reg || old_reg);
// the CQ's id selects its queue table entry only
wire [QID_W-1:0] unused_cqid = post_cqid;

assign req_valid = state_reg == P_WRITE;
assign req_addr = {post_cq_base, 10'd0} + {44'd0, post_cq_tail, 2'd0};
assign req_data = {status_reg, post_cq_phase, cid_reg,
                   {{(16-LQID_W){1'b0}}, post_local_sqid}, post_sq_head, dw1_reg, dw0_reg};

assign post_advance = write_done;
assign release_valid = write_done || drop;
assign release_slot = slot_reg;

assign irq_valid = state_reg == P_SENT && req_ready && ien_reg;
assign irq_vector = vector_reg;
assign irq_coalesce = coalesce_reg;

always @(posedge clk) begin
    case (state_reg)
        P_IDLE: begin
            if (cpl_valid && cpl_ready) begin
                slot_reg <= cpl_slot;
                status_reg <= cpl_status;
                dw0_reg <= cpl_dw0;
                dw1_reg <= cpl_dw1;
                sqid_reg <= lookup_sqid;
                cid_reg <= lookup_cid;
                misnamed_reg <= cpl_epoch != lookup_epoch;
                old_reg <= lookup_epoch != fn_epoch;
                foreign_reg <= lookup_foreign;
                state_reg <= P_LOOKUP;
            end
        end
        P_LOOKUP: begin
            if (misnamed_reg || old_reg || foreign_reg || !post_cq_valid) begin
                state_reg <= P_IDLE;
            end else if (!post_cq_full) begin
                state_reg <= P_WRITE;
            end
        end
        P_WRITE: begin
            if (req_ready) begin
                vector_reg <= post_cq_vector;
                ien_reg <= post_cq_ien;
                coalesce_reg <= !post_admin_cq;
                state_reg <= P_SENT;
            end
        end
        P_SENT: begin
            // the request builder is ready again once the CQE's last beat left
            if (req_ready) begin
                state_reg <= P_IDLE;
            end
        end
        default: state_reg <= P_IDLE;
    endcase

    if (rst || clear) begin
        state_reg <= P_IDLE;
    end
end

endmodule

`resetall
