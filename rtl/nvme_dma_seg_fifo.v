`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * The segment FIFO of a DMA data engine: the walker's segments (host
 * address, dwords, DRAM address, request id) and end markers (request id,
 * the walk's status) wait here for the engine's splitter. Both the read and
 * the write engine use it, so a segment has one layout. While drop is high
 * (a controller reset) it takes nothing and empties itself.
 */
module nvme_dma_seg_fifo #
(
    // Request ids
    parameter REQ_W = 4,
    // DRAM address width in bytes
    parameter DRAM_AW = 32,
    // Entries (a power of two)
    parameter DEPTH = 16
)
(
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 drop,

    // from the walker
    input  wire                 seg_valid,
    output wire                 seg_ready,
    input  wire                 seg_end,
    input  wire [REQ_W-1:0]     seg_req,
    input  wire [7:0]           seg_code,
    input  wire [63:2]          seg_addr,
    input  wire [10:0]          seg_dwords,
    input  wire [DRAM_AW-1:2]   seg_dram,

    // the head entry, first word fall through
    output wire                 head_valid,
    input  wire                 head_pop,
    output wire                 head_end,
    output wire [REQ_W-1:0]     head_req,
    output wire [7:0]           head_code,
    output wire [63:2]          head_addr,
    output wire [10:0]          head_dwords,
    output wire [DRAM_AW-1:2]   head_dram
);

localparam WIDTH = 1 + REQ_W + 8 + 62 + 11 + (DRAM_AW - 2);
localparam ADDR_W = $clog2(DEPTH);

initial begin
    if (REQ_W < 1 || DRAM_AW < 12) begin
        $error("Error: REQ_W must be at least 1 and DRAM_AW at least 12 (a 4 KiB page) (instance %m)");
        $finish;
    end
end

wire full;
wire [ADDR_W:0] unused_count;

assign seg_ready = !full && !drop;

sync_fifo #(
    .WIDTH(WIDTH),
    .DEPTH(DEPTH)
)
fifo_inst (
    .clk(clk),
    .rst(rst),
    .flush(drop),
    .push(seg_valid && seg_ready),
    .push_data({seg_end, seg_req, seg_code, seg_addr, seg_dwords, seg_dram}),
    .full(full),
    .pop(head_pop),
    .head_data({head_end, head_req, head_code, head_addr, head_dwords, head_dram}),
    .valid(head_valid),
    .count(unused_count)
);

endmodule

`resetall
