`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * SQ arbitration of several controllers sharing one queue table: each
 * controller's SQs by its own arbitration (its CC.AMS, and its Arbitration
 * feature's weights and burst), the controllers in turn.
 *
 * Each controller has an nvme_sq_arbiter over the entries it holds
 * (entry_function), its admin SQ being entry f. Among the controllers
 * with an SQ to fetch, the one after the last granted goes next (round
 * robin); it alone sees the grant_ack, so no other controller's weights,
 * credits or round-robin pointers move. grant_burst is the granted
 * controller's arbitration burst.
 *
 * With one controller this is its arbiter alone.
 */
module nvme_fn_arbiter #
(
    // Controllers
    parameter FUNCTIONS = 1,
    // Queue table entries
    parameter QUEUE_COUNT = 65,
    // Entry width
    parameter QID_W = $clog2(QUEUE_COUNT)
)
(
    input  wire                         clk,
    input  wire                         rst,

    // each controller's CC.AMS (1: weighted round robin with urgent class), weights and burst
    input  wire [FUNCTIONS-1:0]         wrr_enable,
    input  wire [8*FUNCTIONS-1:0]       hpw,
    input  wire [8*FUNCTIONS-1:0]       mpw,
    input  wire [8*FUNCTIONS-1:0]       lpw,
    input  wire [3*FUNCTIONS-1:0]       burst,

    input  wire [QUEUE_COUNT-1:0]       eligible,
    input  wire [2*QUEUE_COUNT-1:0]     prio,
    // the controller of each entry
    input  wire [2*QUEUE_COUNT-1:0]     entry_function,

    output wire                         grant_valid,
    output wire [QID_W-1:0]             grant_qid,
    output wire [2:0]                   grant_burst,
    input  wire                         grant_ack,
    input  wire [15:0]                  grant_count
);

initial if (FUNCTIONS < 1 || FUNCTIONS > 4 || QUEUE_COUNT < 2 * FUNCTIONS) begin
    $error("Error: 1 to 4 controllers, an admin and an I/O queue each (instance %m)");
    $finish;
end

wire [FUNCTIONS-1:0] fn_valid;
wire [QID_W*FUNCTIONS-1:0] fn_qid;
reg [1:0] pick;

genvar f;
generate
for (f = 0; f < FUNCTIONS; f = f + 1) begin : controller
    reg [QUEUE_COUNT-1:0] own;
    integer e;
    always @* begin
        for (e = 0; e < QUEUE_COUNT; e = e + 1) begin
            own[e] = FUNCTIONS == 1 || entry_function[2*e +: 2] == f;
        end
    end
    nvme_sq_arbiter #(
        .QUEUE_COUNT(QUEUE_COUNT),
        .QID_W(QID_W),
        .ADMIN_QID(f)
    )
    arbiter_inst (
        .clk(clk),
        .rst(rst),
        .wrr_enable(wrr_enable[f]),
        .hpw(hpw[8*f +: 8]),
        .mpw(mpw[8*f +: 8]),
        .lpw(lpw[8*f +: 8]),
        .eligible(eligible & own),
        .prio(prio),
        .grant_valid(fn_valid[f]),
        .grant_qid(fn_qid[QID_W*f +: QID_W]),
        .grant_ack(grant_ack && pick == f),
        .grant_count(grant_count)
    );
end
endgenerate

// the controllers in turn: the first with an SQ to fetch after the last granted
wire [3:0] valid_any = {{(4-FUNCTIONS){1'b0}}, fn_valid};
reg [1:0] last_reg;
integer n;
always @* begin
    pick = last_reg;
    for (n = 4; n >= 1; n = n - 1) begin
        if (valid_any[(last_reg + n[1:0]) % 4]) begin
            pick = last_reg + n[1:0];
        end
    end
end

// the four functions the hard IP can have, so that every pick selects within range
wire [4*QID_W-1:0] qid_any = {{((4-FUNCTIONS)*QID_W){1'b0}}, fn_qid};
wire [11:0] burst_any = {{((4-FUNCTIONS)*3){1'b0}}, burst};
assign grant_valid = fn_valid != 0;
assign grant_qid = qid_any[QID_W*pick +: QID_W];
assign grant_burst = burst_any[3*pick +: 3];

always @(posedge clk) begin
    if (grant_ack && grant_valid) begin
        last_reg <= pick;
    end
    if (rst) begin
        last_reg <= 2'd0;
    end
end

endmodule

`resetall
