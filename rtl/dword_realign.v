`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Moves the dwords of a frame from one lane position to another: the first
 * payload dword enters at lane s_in_lane of the frame's first beat and
 * leaves at lane s_out_lane of its first output beat, the rest follow in
 * order. Used between the PCIe payload position (after a 3- or 4-dword
 * descriptor) and a DRAM address, in both directions, at one beat per
 * cycle.
 *
 * Each output beat is built from two input beats held side by side. When
 * the frame moves dwords towards lower lanes the first input beat is only
 * held; a frame may then need one more output beat after its last input
 * beat ("flush"), which overlaps the next frame's first beat whenever that
 * beat would also only be held, so back-to-back frames of one alignment
 * flow without a bubble. s_user is taken with the first beat and leaves
 * with every output beat of the frame.
 */
module dword_realign #
(
    // Dwords per beat (a power of two)
    parameter LANES = 8,
    // Frame length field width in dwords
    parameter COUNT_W = 13,
    // Sideband width
    parameter USER_W = 1
)
(
    input  wire                   clk,
    input  wire                   rst,

    /*
     * Input frames; s_in_lane, s_out_lane, s_dwords and s_user are read
     * with the first beat of a frame
     */
    input  wire [LANES*32-1:0]    s_data,
    input  wire                   s_valid,
    output wire                   s_ready,
    input  wire                   s_last,
    input  wire [$clog2(LANES)-1:0] s_in_lane,
    input  wire [$clog2(LANES)-1:0] s_out_lane,
    input  wire [COUNT_W-1:0]     s_dwords,
    input  wire [USER_W-1:0]      s_user,

    /*
     * Output frames, m_keep marks the payload lanes
     */
    output wire [LANES*32-1:0]    m_data,
    output wire [LANES-1:0]       m_keep,
    output wire                   m_valid,
    input  wire                   m_ready,
    output wire                   m_last,
    output wire                   m_first,
    output wire [USER_W-1:0]      m_user
);

localparam LANE_W = $clog2(LANES);
localparam W = LANES * 32;

initial begin
    if ((1 << LANE_W) != LANES) begin
        $error("Error: LANES must be a power of two (instance %m)");
        $finish;
    end
end

reg in_frame_reg;              // between a frame's first and last input beat
reg flush_reg;                 // the frame owes one output beat after its last input
reg [W-1:0] hold_reg;
reg [LANE_W-1:0] shift_reg;
reg [LANE_W-1:0] first_lane_reg;
reg [LANE_W-1:0] last_lane_reg;
reg [COUNT_W-1:0] out_left_reg;   // output beats still to send
reg out_started_reg;
reg [USER_W-1:0] user_reg;

reg [W-1:0] m_data_reg;
reg [LANES-1:0] m_keep_reg;
reg m_valid_reg;
reg m_last_reg;
reg m_first_reg;
reg [USER_W-1:0] m_user_reg;

// AXI4 and RQ sinks sample valid from power-up, before the first reset
initial begin
    m_valid_reg = 1'b0;
    in_frame_reg = 1'b0;
    flush_reg = 1'b0;
end

assign m_data = m_data_reg;
assign m_keep = m_keep_reg;
assign m_valid = m_valid_reg;
assign m_last = m_last_reg;
assign m_first = m_first_reg;
assign m_user = m_user_reg;

wire out_ready = !m_valid_reg || m_ready;

// parameters of a frame that starts with the current input beat
wire [LANE_W:0] new_delta = {1'b0, s_in_lane} - {1'b0, s_out_lane};
wire new_hold_first = !new_delta[LANE_W];             // in_lane >= out_lane
wire [LANE_W-1:0] new_shift = new_delta[LANE_W-1:0];  // delta mod LANES
/* verilator lint_off UNUSEDSIGNAL */
wire [COUNT_W+LANE_W:0] new_span = {{(LANE_W+1){1'b0}}, s_dwords} + {{(COUNT_W+1){1'b0}}, s_out_lane} - 1;
wire [COUNT_W-1:0] new_out_beats = new_span[COUNT_W+LANE_W-1:LANE_W] + 1;
wire [LANE_W-1:0] new_last_lane = new_span[LANE_W-1:0];
/* verilator lint_on UNUSEDSIGNAL */

// a new frame's first beat may enter while the flush leaves only if it is held
wire start = s_valid && !in_frame_reg;
assign s_ready = out_ready && (in_frame_reg ? 1'b1 : (!flush_reg || new_hold_first));

function [LANES-1:0] keep_of(input first, input last, input [LANE_W-1:0] lo, input [LANE_W-1:0] hi);
    integer l;
    begin
        for (l = 0; l < LANES; l = l + 1) begin
            keep_of[l] = (!first || l >= lo) && (!last || l <= hi);
        end
    end
endfunction

// the upper halves of the shifted windows are not needed
/* verilator lint_off UNUSEDSIGNAL */
reg [2*W-1:0] window;
always @* begin
    window = {s_data, hold_reg} >> (32 * shift_reg);
end
wire [2*W-1:0] flush_window = {{W{1'b0}}, hold_reg} >> (32 * shift_reg);
wire [2*W-1:0] start_window = {s_data, {W{1'b0}}} >> (32 * new_shift);
/* verilator lint_on UNUSEDSIGNAL */

always @(posedge clk) begin
    if (m_valid_reg && m_ready) begin
        m_valid_reg <= 1'b0;
    end

    if (out_ready) begin
        if (flush_reg) begin
            // the previous frame's last output beat
            m_data_reg <= flush_window[W-1:0];
            m_keep_reg <= keep_of(!out_started_reg, 1'b1, first_lane_reg, last_lane_reg);
            m_valid_reg <= 1'b1;
            m_last_reg <= 1'b1;
            m_first_reg <= !out_started_reg;
            m_user_reg <= user_reg;
            flush_reg <= 1'b0;
        end

        if (s_valid && s_ready) begin
            hold_reg <= s_data;
            if (start) begin
                shift_reg <= new_shift;
                first_lane_reg <= s_out_lane;
                last_lane_reg <= new_last_lane;
                user_reg <= s_user;
                in_frame_reg <= !s_last;
                if (new_hold_first) begin
                    out_left_reg <= new_out_beats;
                    out_started_reg <= 1'b0;
                    flush_reg <= s_last;
                end else begin
                    m_data_reg <= start_window[W-1:0];
                    m_keep_reg <= keep_of(1'b1, new_out_beats == 1, s_out_lane, new_last_lane);
                    m_valid_reg <= 1'b1;
                    m_last_reg <= new_out_beats == 1;
                    m_first_reg <= 1'b1;
                    m_user_reg <= s_user;
                    out_left_reg <= new_out_beats - 1;
                    out_started_reg <= 1'b1;
                    flush_reg <= s_last && new_out_beats > 1;
                end
            end else begin
                m_data_reg <= window[W-1:0];
                m_keep_reg <= keep_of(!out_started_reg, out_left_reg == 1, first_lane_reg, last_lane_reg);
                m_valid_reg <= 1'b1;
                m_last_reg <= out_left_reg == 1;
                m_first_reg <= !out_started_reg;
                m_user_reg <= user_reg;
                out_left_reg <= out_left_reg - 1;
                out_started_reg <= 1'b1;
                in_frame_reg <= !s_last;
                flush_reg <= s_last && out_left_reg > 1;
            end
        end
    end

    if (rst) begin
        in_frame_reg <= 1'b0;
        flush_reg <= 1'b0;
        m_valid_reg <= 1'b0;
        out_started_reg <= 1'b0;
    end
end

endmodule

`resetall
