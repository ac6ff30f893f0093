`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * A first-word-fall-through FIFO in one clock domain: the head entry is on
 * head_data while valid. push and pop in the same cycle are allowed (pop
 * takes the old head); a push when full and a pop when empty are ignored.
 * flush empties it (a push in the same cycle is dropped too): what the DMA
 * engines do with their queued segments on a controller reset.
 */
module sync_fifo #
(
    // Entry width in bits
    parameter WIDTH = 8,
    // Entries (a power of two)
    parameter DEPTH = 16,
    // Pointer width
    parameter ADDR_W = $clog2(DEPTH)
)
(
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 flush,

    input  wire                 push,
    input  wire [WIDTH-1:0]     push_data,
    output wire                 full,

    input  wire                 pop,
    output wire [WIDTH-1:0]     head_data,
    output wire                 valid,

    output wire [ADDR_W:0]      count
);

initial begin
    if (DEPTH < 2 || (1 << ADDR_W) != DEPTH) begin
        $error("Error: DEPTH must be a power of two of at least 2 (instance %m)");
        $finish;
    end
end

reg [WIDTH-1:0] mem [0:DEPTH-1];
reg [ADDR_W:0] wr_ptr_reg;
reg [ADDR_W:0] rd_ptr_reg;

assign count = wr_ptr_reg - rd_ptr_reg;
assign full = count == DEPTH[ADDR_W:0];
assign valid = wr_ptr_reg != rd_ptr_reg;
assign head_data = mem[rd_ptr_reg[ADDR_W-1:0]];

always @(posedge clk) begin
    if (push && !full) begin
        mem[wr_ptr_reg[ADDR_W-1:0]] <= push_data;
        wr_ptr_reg <= wr_ptr_reg + 1;
    end
    if (pop && valid) begin
        rd_ptr_reg <= rd_ptr_reg + 1;
    end
    if (flush) begin
        wr_ptr_reg <= 0;
        rd_ptr_reg <= 0;
    end
    if (rst) begin
        wr_ptr_reg <= 0;
        rd_ptr_reg <= 0;
    end
end

endmodule

`resetall
