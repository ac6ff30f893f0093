`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Command slots: the SQ entries fetched and not yet completed.
 *
 * A slot is taken when its entry is fetched and given back when the
 * command's completion is posted (or dropped), or by the fetch engine when
 * the read of its entry failed (never queued). The table holds each slot's
 * 64-byte SQE, its SQ id, CID and the reset epoch of its controller at the
 * fetch (for the CQ poster, the firmware and the DMA engine), and the
 * command FIFO: the order in which fetched commands are handed to the
 * firmware. Giving back a free slot changes nothing.
 *
 * The SQE store is 16 banks, bank b holding dword b of every slot, so that
 * the fetch engine writes a whole beat of completion data in one cycle: up
 * to 16 consecutive dwords of an SQ read, which meet each bank at most once
 * even where they straddle two entries (each bank has its own slot). The
 * firmware and the DMA engine read a dword each, registered.
 */
module nvme_cmd_table #
(
    // Number of command slots (a power of two)
    parameter SLOTS = 64,
    // Slot id width
    parameter SLOT_W = $clog2(SLOTS),
    // Queue id width
    parameter QID_W = 7,
    // Reset epoch width
    parameter EPOCH_W = 8,
    // Controllers sharing the table
    parameter FUNCTIONS = 1
)
(
    input  wire               clk,
    input  wire               rst,
    // Controller reset: every slot free, the command FIFO empty
    input  wire               clear,

    /*
     * Slot allocation (lowest free slot) for a fetch from SQ alloc_sqid; the
     * fetch engine asks only for slots that free_count says are there
     */
    output wire [SLOT_W-1:0]  alloc_slot,
    input  wire               alloc_valid,
    input  wire [QID_W-1:0]   alloc_sqid,
    // the controller of that SQ
    input  wire [1:0]         alloc_function,
    input  wire [EPOCH_W-1:0] alloc_epoch,
    output wire [SLOT_W:0]    free_count,

    /*
     * SQE writes from the fetch engine, per bank (SQE dword): enable, slot, data
     */
    input  wire [15:0]        sqe_wr_en,
    input  wire [16*SLOT_W-1:0] sqe_wr_slot,
    input  wire [16*32-1:0]   sqe_wr_data,

    /*
     * SQE reads for the firmware, data the next cycle
     */
    input  wire               sqe_rd_en,
    input  wire [SLOT_W-1:0]  sqe_rd_slot,
    input  wire [3:0]         sqe_rd_dw,
    output reg  [31:0]        sqe_rd_data,

    /*
     * SQE reads for the DMA engine, data the next cycle
     */
    input  wire               sqe_rd2_en,
    input  wire [SLOT_W-1:0]  sqe_rd2_slot,
    input  wire [3:0]         sqe_rd2_dw,
    output reg  [31:0]        sqe_rd2_data,

    /*
     * Command FIFO
     */
    input  wire               push_valid,
    input  wire [SLOT_W-1:0]  push_slot,
    output wire               head_valid,
    output wire [SLOT_W-1:0]  head_slot,
    output wire [QID_W-1:0]   head_sqid,
    output wire [EPOCH_W-1:0] head_epoch,
    output wire [1:0]         head_function,
    input  wire               pop,
    output wire [SLOT_W:0]    fifo_count,

    /*
     * Completion: SQ id, CID, epoch and controller of a slot, and its release.
     * A slot's controller is the one its SQ had when the command was
     * fetched, so a command a reset left to drain stays that controller's
     * when its queue table entry goes to another (nvme_queue_map).
     */
    input  wire [SLOT_W-1:0]  lookup_slot,
    output wire [QID_W-1:0]   lookup_sqid,
    output wire [15:0]        lookup_cid,
    output wire [EPOCH_W-1:0] lookup_epoch,
    output wire [1:0]         lookup_function,

    /*
     * DMA request: SQ id, epoch and controller of the slot it names
     */
    input  wire [SLOT_W-1:0]  lookup2_slot,
    output wire [QID_W-1:0]   lookup2_sqid,
    output wire [EPOCH_W-1:0] lookup2_epoch,
    output wire [1:0]         lookup2_function,

    input  wire               release_valid,
    input  wire [SLOT_W-1:0]  release_slot,
    // the fetch engine's: a slot whose entry could not be read (never pushed, so never the poster's)
    input  wire               release2_valid,
    input  wire [SLOT_W-1:0]  release2_slot,

    // the slots controller f holds: commands of it fetched and not yet completed or dropped
    output wire [(SLOT_W+1)*FUNCTIONS-1:0] function_slots
);

initial begin
    if ((1 << SLOT_W) != SLOTS) begin
        $error("Error: SLOTS must be a power of two (instance %m)");
        $finish;
    end
    if (FUNCTIONS < 1 || FUNCTIONS > 4) begin
        $error("Error: 1 to 4 controllers (instance %m)");
        $finish;
    end
end

reg [QID_W-1:0] slot_sqid [0:SLOTS-1];
reg [15:0] slot_cid [0:SLOTS-1];
reg [EPOCH_W-1:0] slot_epoch [0:SLOTS-1];
reg [SLOTS-1:0] free_reg;

reg [SLOT_W-1:0] fifo_mem [0:SLOTS-1];
reg [SLOT_W:0] fifo_wr_ptr_reg;
reg [SLOT_W:0] fifo_rd_ptr_reg;


// lowest free slot
wire unused_any_free;
lowest_set_bit #(
    .WIDTH(SLOTS),
    .INDEX_W(SLOT_W)
)
first_free_inst (
    .bits(free_reg),
    .index(alloc_slot),
    .valid(unused_any_free)
);

reg [SLOT_W:0] free_total;
integer i;
always @* begin
    free_total = 0;
    for (i = 0; i < SLOTS; i = i + 1) begin
        free_total = free_total + {{SLOT_W{1'b0}}, free_reg[i]};
    end
end

assign free_count = free_total;

// each slot's controller, and a count of the slots each holds: one more when a slot is taken for it,
// one fewer when one of its taken slots is given back
generate
    if (FUNCTIONS > 1) begin : controllers
        reg [1:0] slot_function [0:SLOTS-1];
        reg [SLOT_W:0] count [0:FUNCTIONS-1];
        wire [1:0] release_function = slot_function[release_slot];
        wire releases = release_valid && !free_reg[release_slot];
        wire [1:0] release2_function = slot_function[release2_slot];
        wire releases2 = release2_valid && !free_reg[release2_slot];
        genvar c;
        for (c = 0; c < FUNCTIONS; c = c + 1) begin : counts
            always @(posedge clk) begin
                count[c] <= count[c] + {{SLOT_W{1'b0}}, alloc_valid && alloc_function == c}
                            - {{SLOT_W{1'b0}}, releases && release_function == c}
                            - {{SLOT_W{1'b0}}, releases2 && release2_function == c};
                if (rst || clear) begin
                    count[c] <= 0;
                end
            end
            assign function_slots[c*(SLOT_W+1) +: SLOT_W+1] = count[c];
        end
        always @(posedge clk) begin
            if (alloc_valid) begin
                slot_function[alloc_slot] <= alloc_function;
            end
        end
        assign lookup_function = slot_function[lookup_slot];
        assign head_function = slot_function[head_slot];
        assign lookup2_function = slot_function[lookup2_slot];
    end else begin : one_controller
        assign function_slots = SLOTS[SLOT_W:0] - free_total;
        wire [1:0] unused_function = alloc_function;
        assign lookup_function = 2'd0;
        assign head_function = 2'd0;
        assign lookup2_function = 2'd0;
    end
endgenerate

assign fifo_count = fifo_wr_ptr_reg - fifo_rd_ptr_reg;
assign head_valid = fifo_wr_ptr_reg != fifo_rd_ptr_reg;
assign head_slot = fifo_mem[fifo_rd_ptr_reg[SLOT_W-1:0]];
assign head_sqid = slot_sqid[head_slot];
assign head_epoch = slot_epoch[head_slot];

assign lookup_sqid = slot_sqid[lookup_slot];
assign lookup_cid = slot_cid[lookup_slot];
assign lookup_epoch = slot_epoch[lookup_slot];
assign lookup2_sqid = slot_sqid[lookup2_slot];
assign lookup2_epoch = slot_epoch[lookup2_slot];

// each bank read asynchronously at both ports' slots; the dword's bank is picked before the register
wire [16*32-1:0] rd_words;
wire [16*32-1:0] rd2_words;

genvar b;
generate
    for (b = 0; b < 16; b = b + 1) begin : bank
        reg [31:0] mem [0:SLOTS-1];
        wire [SLOT_W-1:0] wr_slot = sqe_wr_slot[b*SLOT_W +: SLOT_W];
        always @(posedge clk) begin
            if (sqe_wr_en[b]) begin
                mem[wr_slot] <= sqe_wr_data[b*32 +: 32];
            end
        end
        assign rd_words[b*32 +: 32] = mem[sqe_rd_slot];
        assign rd2_words[b*32 +: 32] = mem[sqe_rd2_slot];
    end
endgenerate

always @(posedge clk) begin
    // CDW0 carries the CID
    if (sqe_wr_en[0]) begin
        slot_cid[sqe_wr_slot[SLOT_W-1:0]] <= sqe_wr_data[31:16];
    end
    if (sqe_rd_en) begin
        sqe_rd_data <= rd_words[sqe_rd_dw*32 +: 32];
    end
    if (sqe_rd2_en) begin
        sqe_rd2_data <= rd2_words[sqe_rd2_dw*32 +: 32];
    end
end

always @(posedge clk) begin
    if (alloc_valid) begin
        free_reg[alloc_slot] <= 1'b0;
        slot_sqid[alloc_slot] <= alloc_sqid;
        slot_epoch[alloc_slot] <= alloc_epoch;
    end
    if (release_valid) begin
        free_reg[release_slot] <= 1'b1;
    end
    if (release2_valid) begin
        free_reg[release2_slot] <= 1'b1;
    end

    if (push_valid) begin
        fifo_mem[fifo_wr_ptr_reg[SLOT_W-1:0]] <= push_slot;
        fifo_wr_ptr_reg <= fifo_wr_ptr_reg + 1;
    end
    if (pop && head_valid) begin
        fifo_rd_ptr_reg <= fifo_rd_ptr_reg + 1;
    end

    if (rst || clear) begin
        free_reg <= {SLOTS{1'b1}};
        fifo_wr_ptr_reg <= 0;
        fifo_rd_ptr_reg <= 0;
    end
end

endmodule

`resetall
