`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * The read tags of one PCIe requester, and their completion timeout.
 *
 * The SQ fetch, the walker's pointer reads and the read engine each own a
 * range of tags; each keeps one of these pools, so what a tag's life is
 * (taken, outstanding, ended by its completion, or timed out) and what the
 * completion timeout is are defined here once. The user keeps what it needs
 * to know about the read a tag stands for (queue, counts, offsets,
 * addresses, request ids).
 *
 * alloc takes the lowest free tag, free_tag. A tag stays busy until the
 * completion that ends its request retires it (or its user retires a read
 * it dropped before issuing it). While busy and not dead a tag ages, one
 * step per tick, and a tag whose age reaches TIMEOUT_TICKS is reported on
 * timeout_valid/timeout_tag (the lowest such tag, one per cycle; it waits
 * while timeout_ready is low, and a retire in the same cycle wins). Once
 * reported it is dead: still busy, out of use, no longer live, so a late
 * completion for it finds no live tag, retiring it does nothing, and it
 * holds up no idle logic. A dead tag comes back after a quarantine of
 * another TIMEOUT_TICKS (a completion that late is not expected), or at
 * clear (the controller reset): with several controllers the engines are
 * never cleared, and without the quarantine's end every timeout would take a
 * tag for good, until none is left for any controller.
 *
 * A tag's age starts at zero when it is taken, and again when it dies, and
 * moves only on tick, and only while the tag is busy: with no tag busy
 * (armed low, what a user's timer_armed reports, so its time base holds)
 * nothing in the pool changes until an input does.
 */
module nvme_tag_pool #
(
    // Tags (0 .. TAGS-1)
    parameter TAGS = 8,
    // Tag index width
    parameter TAG_W = TAGS > 1 ? $clog2(TAGS) : 1,
    // Completion timeout in ticks of the user's timebase
    parameter TIMEOUT_TICKS = 13
)
(
    input  wire                 clk,
    input  wire                 rst,
    // Controller reset: timed-out tags return to the pool
    input  wire                 clear,
    // Timebase of the completion timeout
    input  wire                 tick,

    // the lowest free tag; alloc takes it (ignored while free_valid is low)
    output wire [TAG_W-1:0]     free_tag,
    output wire                 free_valid,
    input  wire                 alloc,

    // tags whose requests end this cycle
    input  wire [TAGS-1:0]      retire,

    // a tag past its completion timeout; dead once taken
    output wire                 timeout_valid,
    output wire [TAG_W-1:0]     timeout_tag,
    input  wire                 timeout_ready,

    output wire [TAGS-1:0]      busy,
    output wire [TAGS-1:0]      dead,
    // busy and not dead: a completion is awaited
    output wire [TAGS-1:0]      live,
    output wire                 any_live,
    // a tag is live or in quarantine: the time base must run
    output wire                 armed
);

localparam [3:0] LIMIT = TIMEOUT_TICKS[3:0];
localparam [TAGS-1:0] ONE = 1;

initial begin
    if (TAGS < 1 || (1 << TAG_W) < TAGS) begin
        $error("Error: TAGS must be at least 1 and TAG_W must count them (instance %m)");
        $finish;
    end
    if (TIMEOUT_TICKS < 2 || TIMEOUT_TICKS > 15) begin
        $error("Error: TIMEOUT_TICKS must be between 2 and 15 (instance %m)");
        $finish;
    end
end

reg [TAGS-1:0] busy_reg;
reg [TAGS-1:0] dead_reg;
reg [4*TAGS-1:0] age_reg;

assign busy = busy_reg;
assign dead = dead_reg;
assign live = busy_reg & ~dead_reg;
assign any_live = live != 0;
assign armed = busy_reg != 0;

lowest_set_bit #(
    .WIDTH(TAGS),
    .INDEX_W(TAG_W)
)
free_tag_inst (
    .bits(~busy_reg),
    .index(free_tag),
    .valid(free_valid)
);

// past the timeout, and not ended by a completion this cycle
reg [TAGS-1:0] expired;
integer t;
always @* begin
    for (t = 0; t < TAGS; t = t + 1) begin
        expired[t] = live[t] && age_reg[4*t +: 4] == LIMIT && !retire[t];
    end
end

lowest_set_bit #(
    .WIDTH(TAGS),
    .INDEX_W(TAG_W)
)
timeout_tag_inst (
    .bits(expired),
    .index(timeout_tag),
    .valid(timeout_valid)
);

wire [TAGS-1:0] taken = alloc && free_valid ? ONE << free_tag : {TAGS{1'b0}};
wire [TAGS-1:0] killed = timeout_valid && timeout_ready ? ONE << timeout_tag : {TAGS{1'b0}};
// dead tags whose quarantine is over
reg [TAGS-1:0] revived;
integer q;
always @* begin
    for (q = 0; q < TAGS; q = q + 1) begin
        revived[q] = dead_reg[q] && age_reg[4*q +: 4] == LIMIT;
    end
end
// a dead tag's late completion frees nothing
wire [TAGS-1:0] ended = retire & live;

// Tag state: busy from alloc to the completion that ends the request; dead from the timeout to the end of
// its quarantine, or to clear
always @(posedge clk) begin
    busy_reg <= (busy_reg & ~ended & ~revived) | taken;
    dead_reg <= (dead_reg & ~revived) | killed;

    if (clear) begin
        busy_reg <= (busy_reg & ~ended & ~dead_reg) | taken;
        dead_reg <= killed;
    end

    if (rst) begin
        busy_reg <= 0;
        dead_reg <= 0;
    end
end

// Ages: zero when taken and when killed, one step per tick while busy, up to the timeout (live) or the
// end of the quarantine (dead); a free tag keeps its stale age, which nothing looks at
integer a;
always @(posedge clk) begin
    for (a = 0; a < TAGS; a = a + 1) begin
        if (busy_reg[a] && tick && age_reg[4*a +: 4] != LIMIT) begin
            age_reg[4*a +: 4] <= age_reg[4*a +: 4] + 4'd1;
        end
        if (taken[a] || killed[a]) begin
            age_reg[4*a +: 4] <= 4'd0;
        end
    end

    if (rst) begin
        age_reg <= 0;
    end
end

endmodule

`resetall
