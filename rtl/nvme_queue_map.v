`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Which controller's queue each entry of the shared queue table holds: the
 * pool every controller's I/O queues are drawn from.
 *
 * With several controllers, entry f is controller f's admin queue pair, for
 * good; the other entries are the pool. The firmware maps an entry to queue
 * pair q of controller f when that controller creates the pair, and unmaps
 * it when the pair is deleted (map_*). A controller's reset unmaps its
 * entries. The table answers both ways: a doorbell names (controller, queue
 * id) and needs the entry (db_*); an entry's requests, CQEs and interrupts
 * need its controller and its queue id within the controller
 * (entry_function, entry_lqid).
 *
 * A command keeps the controller its SQ had when it was fetched (in its
 * command slot, nvme_cmd_table), so an entry a reset unmapped can go to
 * another controller while that reset's commands drain. A map write
 * applies only if it is safe: an unmapped pool entry with no SQ or CQ left
 * in it (entry_valid) and no SQ read in flight (sq_in_flight), for a queue
 * pair of the controller that has no entry yet. Anything else changes
 * nothing; the firmware reads the entry back (state_mapped). An unmap
 * applies to a mapped pool entry with no SQ or CQ left.
 *
 * The doorbell lookup keeps the entry of each (controller, queue id) in a
 * table written with the map; it is believed only if that entry is mapped
 * back to the same pair, so nothing in it ever needs clearing.
 *
 * With one controller the pool is the controller's own queues: entry q is
 * queue q, every entry is mapped, and map writes change nothing.
 */
module nvme_queue_map #
(
    // Controllers
    parameter FUNCTIONS = 1,
    // Queue ids of one controller, its admin queue included
    parameter CTRL_QUEUES = 65,
    // Queue id width within a controller
    parameter LQID_W = $clog2(CTRL_QUEUES),
    // Entries of the queue table: the admin queues and the pool
    parameter ENTRIES = FUNCTIONS * CTRL_QUEUES,
    // Entry id width
    parameter QID_W = $clog2(ENTRIES)
)
(
    input  wire                         clk,
    input  wire                         rst,

    // a controller's reset unmaps its entries
    input  wire [FUNCTIONS-1:0]         ctrl_reset,
    // every entry holding an SQ or a CQ, and every entry with an SQ read in flight
    input  wire [ENTRIES-1:0]           entry_valid,
    input  wire [ENTRIES-1:0]           sq_in_flight,

    /*
     * Firmware: map (map_on) or unmap entry map_entry, and read an entry back
     */
    input  wire                         map_valid,
    input  wire [QID_W-1:0]             map_entry,
    input  wire                         map_on,
    input  wire [1:0]                   map_function,
    input  wire [LQID_W-1:0]            map_lqid,
    input  wire [QID_W-1:0]             state_entry,
    output wire                         state_mapped,

    /*
     * Doorbell: the entry of a controller's queue id, if it has one
     */
    input  wire [1:0]                   db_function,
    input  wire [LQID_W-1:0]            db_lqid,
    output wire [QID_W-1:0]             db_entry,
    output wire                         db_mapped,

    /*
     * Every entry's controller and queue id within it
     */
    output wire [2*ENTRIES-1:0]         entry_function,
    output wire [LQID_W*ENTRIES-1:0]    entry_lqid
);

initial begin
    if (FUNCTIONS < 1 || FUNCTIONS > 4 || CTRL_QUEUES < 2 || (1 << LQID_W) < CTRL_QUEUES
            || (1 << QID_W) < ENTRIES) begin
        $error("Error: 1 to 4 controllers of at least 2 queues, and ids wide enough (instance %m)");
        $finish;
    end
    if (FUNCTIONS == 1 ? ENTRIES != CTRL_QUEUES
                       : ENTRIES < 2 * FUNCTIONS || ENTRIES > FUNCTIONS * CTRL_QUEUES
                         || (1 << LQID_W) != CTRL_QUEUES) begin
        $error("Error: one controller owns every entry; several share ENTRIES, each its admin queue and at least one I/O queue, CTRL_QUEUES a power of two (instance %m)");
        $finish;
    end
end

genvar g;
generate
if (FUNCTIONS == 1) begin : own_queues
    assign db_entry = db_lqid[QID_W-1:0];
    assign db_mapped = 1'b1;
    assign state_mapped = 1'b1;
    for (g = 0; g < ENTRIES; g = g + 1) begin : entry
        assign entry_function[2*g +: 2] = 2'd0;
        assign entry_lqid[LQID_W*g +: LQID_W] = g[LQID_W-1:0];
    end
    wire unused = &{1'b0, clk, rst, ctrl_reset, entry_valid, sq_in_flight, map_valid, map_entry, map_on, map_function,
                    map_lqid, state_entry, db_function};
end else begin : pool
    reg [1:0] owner_fn [0:ENTRIES-1];
    reg [LQID_W-1:0] owner_lq [0:ENTRIES-1];
    reg [ENTRIES-1:0] mapped;
    // the entry last mapped to each {controller, queue id} (one write port: distributed RAM)
    reg [QID_W-1:0] entry_of [0:4*CTRL_QUEUES-1];

    wire [LQID_W+1:0] db_key = {db_function, db_lqid};
    wire [QID_W-1:0] db_candidate = entry_of[db_key];
    wire [QID_W-1:0] db_admin = {{(QID_W-2){1'b0}}, db_function};
    wire candidate_ok = {{(32-QID_W){1'b0}}, db_candidate} < ENTRIES && mapped[db_candidate]
                        && owner_fn[db_candidate] == db_function && owner_lq[db_candidate] == db_lqid;
    assign db_entry = db_lqid == 0 ? db_admin : db_candidate;
    assign db_mapped = db_lqid == 0 || candidate_ok;

    // (an admin queue's entry is always mapped, so it is never mapped or unmapped here: see below)
    wire map_in_pool = {{(32-QID_W){1'b0}}, map_entry} < ENTRIES;
    wire [LQID_W+1:0] map_key = {map_function, map_lqid};
    wire [QID_W-1:0] map_existing = entry_of[map_key];
    wire pair_has_entry = {{(32-QID_W){1'b0}}, map_existing} < ENTRIES && mapped[map_existing]
                          && owner_fn[map_existing] == map_function && owner_lq[map_existing] == map_lqid;
    wire map_ok = map_valid && map_on && map_in_pool && !mapped[map_entry] && !entry_valid[map_entry]
                  && !sq_in_flight[map_entry] && !pair_has_entry && map_lqid != 0 && {30'd0, map_function} < FUNCTIONS;
    wire unmap_ok = map_valid && !map_on && map_in_pool && mapped[map_entry] && !entry_valid[map_entry];

    assign state_mapped = {{(32-QID_W){1'b0}}, state_entry} < ENTRIES && mapped[state_entry];

    always @(posedge clk) begin
        if (map_ok) begin
            entry_of[map_key] <= map_entry;
        end
    end

    // the four functions the hard IP can have
    wire [3:0] reset_any = {{(4-FUNCTIONS){1'b0}}, ctrl_reset};
    integer k;
    always @(posedge clk) begin
        if (map_ok) begin
            owner_fn[map_entry] <= map_function;
            owner_lq[map_entry] <= map_lqid;
            mapped[map_entry] <= 1'b1;
        end
        if (unmap_ok) begin
            mapped[map_entry] <= 1'b0;
        end
        for (k = FUNCTIONS; k < ENTRIES; k = k + 1) begin
            if (rst || reset_any[owner_fn[k]]) begin
                mapped[k] <= 1'b0;
            end
            if (rst) begin
                owner_fn[k] <= 2'd0;
                owner_lq[k] <= 0;
            end
        end
        // the admin entries are their controllers' for good
        for (k = 0; k < FUNCTIONS; k = k + 1) begin
            owner_fn[k] <= k[1:0];
            owner_lq[k] <= 0;
            mapped[k] <= 1'b1;
        end
    end

    for (g = 0; g < ENTRIES; g = g + 1) begin : entry
        assign entry_function[2*g +: 2] = owner_fn[g];
        assign entry_lqid[LQID_W*g +: LQID_W] = owner_lq[g];
    end
end
endgenerate

endmodule

`resetall
