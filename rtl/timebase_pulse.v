`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * A one-cycle pulse every PERIOD clock cycles while enabled: the time base
 * of the coalescing, completion-timeout and watchdog timers. Disabled (no
 * timer of its user armed) it holds its count at zero, so the first pulse
 * comes PERIOD cycles after enable rises: a timer's length never depends on
 * how long the clock ran before it was armed, and an idle design has no
 * state that changes with time (what lets a test bench stop the clock while
 * the design is quiescent).
 */
module timebase_pulse #
(
    // Clock cycles between pulses (at least 2)
    parameter PERIOD = 1024
)
(
    input  wire clk,
    input  wire rst,
    input  wire enable,
    output reg  pulse
);

localparam COUNT_W = $clog2(PERIOD);
localparam [31:0] LAST_INT = PERIOD - 1;
localparam [COUNT_W-1:0] LAST = LAST_INT[COUNT_W-1:0];

initial begin
    if (PERIOD < 2) begin
        $error("Error: PERIOD must be at least 2 (instance %m)");
        $finish;
    end
end

reg [COUNT_W-1:0] count_reg;

always @(posedge clk) begin
    pulse <= 1'b0;
    if (count_reg == LAST) begin
        count_reg <= 0;
        pulse <= 1'b1;
    end else begin
        count_reg <= count_reg + 1;
    end

    if (rst || !enable) begin
        count_reg <= 0;
        pulse <= 1'b0;
    end
end

endmodule

`resetall
