`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Submission queue arbitration (NVMe 1.4, 4.13).
 *
 * Round robin: every SQ with entries, the admin SQ included, in turn.
 * Weighted round robin with urgent priority class (CC.AMS = 001b): the admin
 * SQ (entry ADMIN_QID) first, then urgent SQs in round robin, then the high, medium and low
 * classes weighted by HPW+1, MPW+1 and LPW+1 commands per round, round robin
 * within a class. A class that has used its weight waits until every class
 * with entries has; then all weights reload.
 *
 * grant_qid is valid with grant_valid; the user takes it with grant_ack and
 * reports how many commands it fetched (grant_count) for the weights.
 */
module nvme_sq_arbiter #
(
    // Queues including the admin queue
    parameter QUEUE_COUNT = 65,
    // Queue id width
    parameter QID_W = $clog2(QUEUE_COUNT),
    // The admin SQ's id
    parameter ADMIN_QID = 0
)
(
    input  wire                     clk,
    input  wire                     rst,

    input  wire                     wrr_enable,
    input  wire [7:0]               hpw,
    input  wire [7:0]               mpw,
    input  wire [7:0]               lpw,

    input  wire [QUEUE_COUNT-1:0]   eligible,
    input  wire [2*QUEUE_COUNT-1:0] prio,

    output wire                     grant_valid,
    output wire [QID_W-1:0]         grant_qid,
    input  wire                     grant_ack,
    input  wire [15:0]              grant_count
);

// the round-robin pointers hold a queue id
initial if (QUEUE_COUNT < 2 || (1 << QID_W) < QUEUE_COUNT || ADMIN_QID < 0 || ADMIN_QID >= QUEUE_COUNT) begin
    $error("Error: the arbiter needs the admin queue and an I/O queue, ids of QID_W bits (instance %m)");
    $finish;
end
localparam [QID_W-1:0] ADMIN = ADMIN_QID[QID_W-1:0];

localparam [1:0]
    PRIO_URGENT = 2'd0,
    PRIO_HIGH = 2'd1,
    PRIO_MEDIUM = 2'd2,
    PRIO_LOW = 2'd3;

// Round-robin pointer per class (in RR mode only the first is used)
reg [QID_W-1:0] last_reg [0:3];
reg [8:0] credit_reg [1:3];

reg [QUEUE_COUNT-1:0] class_mask [0:3];
integer k;
always @* begin
    for (k = 0; k < 4; k = k + 1) begin
        class_mask[k] = 0;
    end
    for (k = 0; k < QUEUE_COUNT; k = k + 1) begin
        if (k != ADMIN_QID) begin
            class_mask[prio[2*k +: 2]][k] = eligible[k];
        end
    end
end

// First eligible queue after `last`, wrapping around
function [QID_W:0] next_after(input [QUEUE_COUNT-1:0] mask, input [QID_W-1:0] last);
    integer i;
    reg found;
    begin
        next_after = 0;
        found = 1'b0;
        for (i = QUEUE_COUNT - 1; i >= 0; i = i - 1) begin
            if (mask[i] && i > last) begin
                next_after = {1'b1, i[QID_W-1:0]};
                found = 1'b1;
            end
        end
        if (!found) begin
            for (i = QUEUE_COUNT - 1; i >= 0; i = i - 1) begin
                if (mask[i]) begin
                    next_after = {1'b1, i[QID_W-1:0]};
                end
            end
        end
    end
endfunction

wire [QID_W:0] rr_pick = next_after(eligible, last_reg[0]);
wire [QID_W:0] urgent_pick = next_after(class_mask[PRIO_URGENT], last_reg[PRIO_URGENT]);
wire [QID_W:0] high_pick = next_after(class_mask[PRIO_HIGH], last_reg[PRIO_HIGH]);
wire [QID_W:0] medium_pick = next_after(class_mask[PRIO_MEDIUM], last_reg[PRIO_MEDIUM]);
wire [QID_W:0] low_pick = next_after(class_mask[PRIO_LOW], last_reg[PRIO_LOW]);

wire high_ok = high_pick[QID_W] && credit_reg[PRIO_HIGH] != 0;
wire medium_ok = medium_pick[QID_W] && credit_reg[PRIO_MEDIUM] != 0;
wire low_ok = low_pick[QID_W] && credit_reg[PRIO_LOW] != 0;
// Every class with entries has used its weight: start a new round
wire reload = !high_ok && !medium_ok && !low_ok;

reg [QID_W:0] pick;
reg [1:0] pick_class;
always @* begin
    pick_class = PRIO_URGENT;
    if (!wrr_enable) begin
        pick = rr_pick;
    end else if (eligible[ADMIN_QID]) begin
        pick = {1'b1, ADMIN};
    end else if (urgent_pick[QID_W]) begin
        pick = urgent_pick;
    end else if (high_ok || (reload && high_pick[QID_W])) begin
        pick = high_pick;
        pick_class = PRIO_HIGH;
    end else if (medium_ok || (reload && medium_pick[QID_W])) begin
        pick = medium_pick;
        pick_class = PRIO_MEDIUM;
    end else begin
        pick = low_pick;
        pick_class = PRIO_LOW;
    end
end

assign grant_valid = pick[QID_W];
assign grant_qid = pick[QID_W-1:0];

function [8:0] spend(input [8:0] credit, input [15:0] count);
    spend = count >= {7'd0, credit} ? 9'd0 : credit - count[8:0];
endfunction

always @(posedge clk) begin
    if (grant_ack && grant_valid) begin
        if (!wrr_enable) begin
            last_reg[0] <= grant_qid;
        end else if (grant_qid != ADMIN) begin
            last_reg[pick_class] <= grant_qid;
            if (pick_class != PRIO_URGENT) begin
                if (reload) begin
                    credit_reg[PRIO_HIGH] <= {1'b0, hpw} + 9'd1;
                    credit_reg[PRIO_MEDIUM] <= {1'b0, mpw} + 9'd1;
                    credit_reg[PRIO_LOW] <= {1'b0, lpw} + 9'd1;
                end
                credit_reg[pick_class] <= spend(reload ? ({1'b0, pick_class == PRIO_HIGH ? hpw :
                    pick_class == PRIO_MEDIUM ? mpw : lpw} + 9'd1) : credit_reg[pick_class], grant_count);
            end
        end
    end

    if (rst) begin
        for (k = 0; k < 4; k = k + 1) begin
            last_reg[k] <= 0;
        end
        credit_reg[PRIO_HIGH] <= 9'd0;
        credit_reg[PRIO_MEDIUM] <= 9'd0;
        credit_reg[PRIO_LOW] <= 9'd0;
    end
end

endmodule

`resetall
