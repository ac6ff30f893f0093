`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * The index of the lowest set bit of a vector, and whether any is set: how
 * the command table picks a free slot and the tag pool (nvme_tag_pool) a
 * free read tag and the timed-out tag it reports. Combinational.
 */
module lowest_set_bit #
(
    // Width of the vector
    parameter WIDTH = 8,
    // Index width
    parameter INDEX_W = WIDTH > 1 ? $clog2(WIDTH) : 1
)
(
    input  wire [WIDTH-1:0]     bits,
    output reg  [INDEX_W-1:0]   index,
    output wire                 valid
);

initial begin
    if (WIDTH < 1 || (1 << INDEX_W) < WIDTH) begin
        $error("Error: INDEX_W must count WIDTH bits (instance %m)");
        $finish;
    end
end

assign valid = bits != 0;

integer i;
always @* begin
    index = 0;
    for (i = WIDTH - 1; i >= 0; i = i - 1) begin
        if (bits[i]) begin
            index = i[INDEX_W-1:0];
        end
    end
end

endmodule

`resetall
