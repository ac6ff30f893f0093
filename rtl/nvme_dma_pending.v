`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Per-request bookkeeping of a DMA data engine: how many operations
 * (reads, bursts, frames) of each request are still in flight, whether the
 * request's end marker has passed the engine's splitter, and the first
 * error seen. A request is done once its end marker has passed and nothing
 * of it is in flight; done requests leave one per cycle, lowest id first.
 * Two increment and two decrement ports, any of them on one request in the
 * same cycle.
 */
module nvme_dma_pending #
(
    // Request ids
    parameter REQS = 16,
    // Request id width
    parameter REQ_W = $clog2(REQS),
    // In-flight counter width
    parameter CNT_W = 8
)
(
    input  wire              clk,
    input  wire              rst,
    // Forget every request (controller reset, once nothing is in flight)
    input  wire              clear,

    input  wire              inc0,
    input  wire [REQ_W-1:0]  inc0_req,
    input  wire              inc1,
    input  wire [REQ_W-1:0]  inc1_req,
    input  wire              dec0,
    input  wire [REQ_W-1:0]  dec0_req,
    input  wire              dec1,
    input  wire [REQ_W-1:0]  dec1_req,

    // The request's end marker passed, with the walker's status
    input  wire              end_valid,
    input  wire [REQ_W-1:0]  end_req,
    input  wire [7:0]        end_code,

    // An error in the engine (the first status of a request is kept)
    input  wire              err_valid,
    input  wire [REQ_W-1:0]  err_req,
    input  wire [7:0]        err_code,

    output wire              done_valid,
    input  wire              done_ready,
    output wire [REQ_W-1:0]  done_req,
    output wire [7:0]        done_code,

    // Nothing of any request in flight
    output wire              idle
);

initial begin
    if (REQS < 2 || (1 << REQ_W) != REQS) begin
        $error("Error: REQS must be a power of two of at least 2, and REQ_W its log2 (instance %m)");
        $finish;
    end
    if (CNT_W < 1) begin
        $error("Error: CNT_W must be at least 1 (instance %m)");
        $finish;
    end
end

reg [CNT_W-1:0] count_reg [0:REQS-1];
reg [REQS-1:0] ended_reg;
reg [7:0] code_reg [0:REQS-1];

reg [REQ_W-1:0] done_sel;
reg done_found;
reg none_busy;
integer i;
always @* begin
    done_sel = 0;
    done_found = 1'b0;
    none_busy = 1'b1;
    for (i = REQS - 1; i >= 0; i = i - 1) begin
        if (ended_reg[i] && count_reg[i] == 0) begin
            done_sel = i[REQ_W-1:0];
            done_found = 1'b1;
        end
        if (count_reg[i] != 0) begin
            none_busy = 1'b0;
        end
    end
end

assign done_valid = done_found;
assign done_req = done_sel;
assign done_code = code_reg[done_sel];
assign idle = none_busy;

always @(posedge clk) begin
    for (i = 0; i < REQS; i = i + 1) begin
        count_reg[i] <= count_reg[i]
            + {{(CNT_W-1){1'b0}}, inc0 && inc0_req == i[REQ_W-1:0]}
            + {{(CNT_W-1){1'b0}}, inc1 && inc1_req == i[REQ_W-1:0]}
            - {{(CNT_W-1){1'b0}}, dec0 && dec0_req == i[REQ_W-1:0]}
            - {{(CNT_W-1){1'b0}}, dec1 && dec1_req == i[REQ_W-1:0]};
    end
    if (err_valid && code_reg[err_req] == 8'd0) begin
        code_reg[err_req] <= err_code;
    end
    if (end_valid) begin
        ended_reg[end_req] <= 1'b1;
        if (end_code != 8'd0 && !(err_valid && err_req == end_req && code_reg[err_req] == 8'd0)
                && code_reg[end_req] == 8'd0) begin
            code_reg[end_req] <= end_code;
        end
    end
    if (done_valid && done_ready) begin
        ended_reg[done_req] <= 1'b0;
        code_reg[done_req] <= 8'd0;
    end

    if (rst || clear) begin
        for (i = 0; i < REQS; i = i + 1) begin
            count_reg[i] <= 0;
            code_reg[i] <= 8'd0;
        end
        ended_reg <= 0;
    end
end

endmodule

`resetall
