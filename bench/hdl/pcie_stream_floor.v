`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * The simulation-cost floor: a design that only streams memory writes and
 * reads behind the same UltraScale+ model, link and host as the NVMe
 * controller, with no NVMe logic (bench/sim/sim_cost.py).
 *
 * On start it writes floor_write_bytes of a counting pattern to host memory
 * at floor_addr in memory writes of the max payload size, back to back, then
 * reads floor_read_bytes back in reads of the max read request size with up
 * to 32 tags outstanding, and raises floor_done once the last completion has
 * arrived. What it costs in wall-clock time per simulated MiB is the PCIe
 * model's own cost: the denominator of the NVMe controller's ratio.
 */
module pcie_stream_floor #
(
    // Width of the PCIe AXI streams in bits (256 only)
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // CQ tuser width (UltraScale+)
    parameter AXIS_PCIE_CQ_USER_WIDTH = 88,
    // CC tuser width (UltraScale+)
    parameter AXIS_PCIE_CC_USER_WIDTH = 33,
    // RQ tuser width (UltraScale+)
    parameter AXIS_PCIE_RQ_USER_WIDTH = 62,
    // RC tuser width (UltraScale+)
    parameter AXIS_PCIE_RC_USER_WIDTH = 75
)
(
    input  wire                               user_clk,
    input  wire                               user_reset,

    /*
     * Completer request and completion: nothing is served
     */
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]    s_axis_cq_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]    s_axis_cq_tkeep,
    input  wire                               s_axis_cq_tvalid,
    output wire                               s_axis_cq_tready,
    input  wire                               s_axis_cq_tlast,
    input  wire [AXIS_PCIE_CQ_USER_WIDTH-1:0] s_axis_cq_tuser,
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]    m_axis_cc_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]    m_axis_cc_tkeep,
    output wire                               m_axis_cc_tvalid,
    input  wire                               m_axis_cc_tready,
    output wire                               m_axis_cc_tlast,
    output wire [AXIS_PCIE_CC_USER_WIDTH-1:0] m_axis_cc_tuser,

    /*
     * Requester request and completion
     */
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]    m_axis_rq_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]    m_axis_rq_tkeep,
    output wire                               m_axis_rq_tvalid,
    input  wire                               m_axis_rq_tready,
    output wire                               m_axis_rq_tlast,
    output wire [AXIS_PCIE_RQ_USER_WIDTH-1:0] m_axis_rq_tuser,
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]    s_axis_rc_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]    s_axis_rc_tkeep,
    input  wire                               s_axis_rc_tvalid,
    output wire                               s_axis_rc_tready,
    input  wire                               s_axis_rc_tlast,
    input  wire [AXIS_PCIE_RC_USER_WIDTH-1:0] s_axis_rc_tuser,

    /*
     * Configuration status and MSI-X (no interrupts)
     */
    input  wire [2:0]                         cfg_max_read_req,
    input  wire [2:0]                         cfg_max_payload,
    input  wire [3:0]                         cfg_interrupt_msix_enable,
    input  wire [3:0]                         cfg_interrupt_msix_mask,
    output wire [63:0]                        cfg_interrupt_msix_address,
    output wire [31:0]                        cfg_interrupt_msix_data,
    output wire                               cfg_interrupt_msix_int,
    output wire [7:0]                         cfg_interrupt_msi_function_number,
    input  wire                               cfg_interrupt_msix_sent,
    input  wire                               cfg_interrupt_msix_fail,

    /*
     * The benchmark's controls
     */
    input  wire                               floor_start,
    input  wire [63:0]                        floor_addr,
    input  wire [31:0]                        floor_write_bytes,
    input  wire [31:0]                        floor_read_bytes,
    output wire                               floor_done
);

initial begin
    if (AXIS_PCIE_DATA_WIDTH != 256) begin
        $error("Error: the floor streams 256-bit beats only (instance %m)");
        $finish;
    end
end

localparam [3:0] REQ_MEM_READ = 4'b0000, REQ_MEM_WRITE = 4'b0001;

wire unused = &{1'b0, s_axis_cq_tdata, s_axis_cq_tkeep, s_axis_cq_tvalid, s_axis_cq_tlast, s_axis_cq_tuser,
                m_axis_cc_tready, s_axis_rc_tkeep, s_axis_rc_tlast, s_axis_rc_tuser, cfg_interrupt_msix_enable,
                cfg_interrupt_msix_mask, cfg_interrupt_msix_sent, cfg_interrupt_msix_fail};
assign s_axis_cq_tready = 1'b1;
assign m_axis_cc_tdata = 0;
assign m_axis_cc_tkeep = 0;
assign m_axis_cc_tvalid = 1'b0;
assign m_axis_cc_tlast = 1'b0;
assign m_axis_cc_tuser = 0;
assign cfg_interrupt_msix_address = 64'd0;
assign cfg_interrupt_msi_function_number = 8'd0;
assign cfg_interrupt_msix_data = 32'd0;
assign cfg_interrupt_msix_int = 1'b0;

// sizes in dwords: 128 << code bytes
wire [10:0] mps_dwords = 11'd32 << cfg_max_payload[1:0];
wire [10:0] mrrs_dwords = 11'd32 << (cfg_max_read_req > 3'd3 ? 2'd3 : cfg_max_read_req[1:0]);

localparam [1:0] S_IDLE = 2'd0, S_WRITE = 2'd1, S_READ = 2'd2, S_WAIT = 2'd3;
reg [1:0] state_reg;
reg start_seen_reg;
reg [63:0] addr_reg;
reg [31:0] write_left_reg;     // bytes
reg [31:0] read_left_reg;      // bytes not yet requested
reg [31:0] read_due_reg;       // bytes not yet completed
reg [10:0] beat_left_reg;      // dwords of the current write's payload still to send
reg in_frame_reg;
reg [31:0] tags_busy_reg;
reg [4:0] next_tag_reg;
reg done_reg;

assign floor_done = done_reg;

wire [31:0] write_left_dwords = {2'b00, write_left_reg[31:2]};
wire [31:0] read_left_dwords = {2'b00, read_left_reg[31:2]};
wire [31:0] write_dwords = write_left_dwords < {21'd0, mps_dwords} ? write_left_dwords : {21'd0, mps_dwords};
wire [31:0] read_dwords = read_left_dwords < {21'd0, mrrs_dwords} ? read_left_dwords : {21'd0, mrrs_dwords};
wire tag_free = !tags_busy_reg[next_tag_reg];

// one RQ beat a cycle: the first of a write carries the descriptor and four dwords of payload
wire [127:0] desc = {1'b0, 3'd0, 3'd0, 1'b0, 16'd0, 3'd0, next_tag_reg, 16'd0, 1'b0,
                     state_reg == S_WRITE ? REQ_MEM_WRITE : REQ_MEM_READ,
                     state_reg == S_WRITE ? write_dwords[10:0] : read_dwords[10:0], addr_reg[63:2], 2'b00};
wire [255:0] pattern = {8{addr_reg[31:0]}};
wire first_beat = !in_frame_reg;
wire issue_read = state_reg == S_READ && read_left_reg != 0 && tag_free;
assign m_axis_rq_tvalid = state_reg == S_WRITE || issue_read;
assign m_axis_rq_tdata = first_beat ? {pattern[255:128], desc} : pattern;
wire [10:0] beat_dwords = first_beat ? (write_dwords[10:0] < 11'd4 ? write_dwords[10:0] : 11'd4)
                                     : (beat_left_reg < 11'd8 ? beat_left_reg : 11'd8);
assign m_axis_rq_tkeep = state_reg == S_READ ? 8'h0F :
                         first_beat ? (8'hFF >> (3'd4 - beat_dwords[2:0])) | 8'h0F
                                    : 8'hFF >> (4'd8 - beat_dwords[3:0]);
assign m_axis_rq_tlast = state_reg == S_READ || (first_beat ? write_dwords[10:0] <= 11'd4 : beat_left_reg <= 11'd8);
assign m_axis_rq_tuser = {{(AXIS_PCIE_RQ_USER_WIDTH-8){1'b0}}, 4'hF, 4'hF};
wire rq_hs = m_axis_rq_tvalid && m_axis_rq_tready;

// completions: the first beat's descriptor says the tag, the dwords and whether the request ended
assign s_axis_rc_tready = 1'b1;
reg rc_in_frame_reg;
wire rc_first = s_axis_rc_tvalid && !rc_in_frame_reg;
wire [10:0] rc_dwords = s_axis_rc_tdata[42:32];
wire rc_completed = s_axis_rc_tdata[30];
wire [4:0] rc_tag = s_axis_rc_tdata[68:64];
// the rest of the completion (status, data) is not looked at: the host model is trusted here
wire unused_rc = &{1'b0, s_axis_rc_tdata[255:69], s_axis_rc_tdata[63:43], s_axis_rc_tdata[31], s_axis_rc_tdata[29:0],
                   cfg_max_payload[2]};

always @(posedge user_clk) begin
    start_seen_reg <= floor_start;
    if (s_axis_rc_tvalid) begin
        rc_in_frame_reg <= !s_axis_rc_tlast;
    end
    if (rc_first) begin
        read_due_reg <= read_due_reg - {19'd0, rc_dwords, 2'b00};
        if (rc_completed) begin
            tags_busy_reg[rc_tag] <= 1'b0;
        end
    end

    case (state_reg)
        S_IDLE: begin
            if (floor_start && !start_seen_reg) begin
                addr_reg <= floor_addr;
                write_left_reg <= floor_write_bytes;
                read_left_reg <= floor_read_bytes;
                read_due_reg <= floor_read_bytes;
                done_reg <= 1'b0;
                in_frame_reg <= 1'b0;
                state_reg <= floor_write_bytes != 0 ? S_WRITE : S_READ;
            end
        end
        S_WRITE: begin
            if (rq_hs) begin
                in_frame_reg <= !m_axis_rq_tlast;
                beat_left_reg <= (first_beat ? write_dwords[10:0] : beat_left_reg) - beat_dwords;
                if (m_axis_rq_tlast) begin
                    addr_reg <= addr_reg + {30'd0, write_dwords, 2'b00};
                    write_left_reg <= write_left_reg - {write_dwords[29:0], 2'b00};
                    if (write_left_reg == {write_dwords[29:0], 2'b00}) begin
                        addr_reg <= floor_addr;
                        state_reg <= S_READ;
                    end
                end
            end
        end
        S_READ: begin
            if (rq_hs) begin
                tags_busy_reg[next_tag_reg] <= 1'b1;
                next_tag_reg <= next_tag_reg + 5'd1;
                addr_reg <= addr_reg + {30'd0, read_dwords, 2'b00};
                read_left_reg <= read_left_reg - {read_dwords[29:0], 2'b00};
            end
            if (read_left_reg == 0) begin
                state_reg <= S_WAIT;
            end
        end
        S_WAIT: begin
            if (read_due_reg == 0) begin
                done_reg <= 1'b1;
                state_reg <= S_IDLE;
            end
        end
        default: state_reg <= S_IDLE;
    endcase

    if (user_reset) begin
        state_reg <= S_IDLE;
        start_seen_reg <= 1'b0;
        in_frame_reg <= 1'b0;
        rc_in_frame_reg <= 1'b0;
        tags_busy_reg <= 32'd0;
        next_tag_reg <= 5'd0;
        done_reg <= 1'b0;
        read_due_reg <= 32'd0;
    end
end

endmodule

`resetall
