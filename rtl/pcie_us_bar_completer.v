`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * BAR completer for the Xilinx UltraScale+ PCIe hard IP (dword-aligned mode,
 * no straddling). Completer requests from CQ become single-dword accesses on
 * a simple register port; memory reads are answered on CC. One request is
 * handled at a time, in arrival order, so a read that follows a posted write
 * always observes that write.
 *
 * Memory writes of any length are applied dword by dword with the request's
 * byte enables. Memory reads of up to MAX_READ_DW dwords complete with data;
 * longer reads complete with Completer Abort. Other non-posted requests (I/O,
 * atomics, locked reads) complete with Unsupported Request; other posted
 * requests are dropped.
 *
 * A multi-function device shares the completer: each access carries the
 * target function of its request (reg_function), and the completion names
 * that function as its completer.
 */
module pcie_us_bar_completer #
(
    // Width of the CQ and CC streams in bits (64, 128, 256 or 512)
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // CQ tuser width (UltraScale+: 88, 183 at 512 bits)
    parameter AXIS_PCIE_CQ_USER_WIDTH = AXIS_PCIE_DATA_WIDTH == 512 ? 183 : 88,
    // CC tuser width (UltraScale+: 33, 81 at 512 bits)
    parameter AXIS_PCIE_CC_USER_WIDTH = AXIS_PCIE_DATA_WIDTH == 512 ? 81 : 33,
    // Byte address width of the register space (BAR size is 2**ADDR_WIDTH)
    parameter ADDR_WIDTH = 14,
    // Longest read answered with data, in dwords (at most 128 bytes so that a
    // single completion never exceeds the smallest max payload size)
    parameter MAX_READ_DW = 32
)
(
    input  wire                               clk,
    input  wire                               rst,

    /*
     * Completer request (CQ) from the hard IP
     */
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]    s_axis_cq_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]    s_axis_cq_tkeep,
    input  wire                               s_axis_cq_tvalid,
    output wire                               s_axis_cq_tready,
    input  wire                               s_axis_cq_tlast,
    input  wire [AXIS_PCIE_CQ_USER_WIDTH-1:0] s_axis_cq_tuser,

    /*
     * Completer completion (CC) to the hard IP
     */
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]    m_axis_cc_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]    m_axis_cc_tkeep,
    output wire                               m_axis_cc_tvalid,
    input  wire                               m_axis_cc_tready,
    output wire                               m_axis_cc_tlast,
    output wire [AXIS_PCIE_CC_USER_WIDTH-1:0] m_axis_cc_tuser,

    /*
     * Register port: one dword per cycle; read data must be valid the cycle
     * after reg_rd_en (a registered read)
     */
    output wire [ADDR_WIDTH-1:2]              reg_addr,
    // the physical function the request targets
    output wire [7:0]                         reg_function,
    output wire                               reg_wr_en,
    output wire [31:0]                        reg_wr_data,
    output wire [3:0]                         reg_wr_strb,
    output wire                               reg_rd_en,
    input  wire [31:0]                        reg_rd_data,

    // no request being taken or answered
    output wire                               idle
);

localparam LANE_W = $clog2(AXIS_PCIE_KEEP_WIDTH);
localparam [31:0] LAST_LANE_INT = AXIS_PCIE_KEEP_WIDTH-1;
localparam [LANE_W-1:0] LAST_LANE = LAST_LANE_INT[LANE_W-1:0];

initial begin
    if (AXIS_PCIE_DATA_WIDTH != 64 && AXIS_PCIE_DATA_WIDTH != 128 && AXIS_PCIE_DATA_WIDTH != 256
            && AXIS_PCIE_DATA_WIDTH != 512) begin
        $error("Error: PCIe interface width must be 64, 128, 256 or 512 (instance %m)");
        $finish;
    end
    if (AXIS_PCIE_KEEP_WIDTH * 32 != AXIS_PCIE_DATA_WIDTH) begin
        $error("Error: PCIe interface requires dword (32-bit) granularity (instance %m)");
        $finish;
    end
    if (AXIS_PCIE_CQ_USER_WIDTH != (AXIS_PCIE_DATA_WIDTH == 512 ? 183 : 88)
            || AXIS_PCIE_CC_USER_WIDTH != (AXIS_PCIE_DATA_WIDTH == 512 ? 81 : 33)) begin
        $error("Error: tuser widths must be those of UltraScale+ (88 and 33; 183 and 81 at 512 bits) (instance %m)");
        $finish;
    end
    if (MAX_READ_DW < 2 || MAX_READ_DW > 32) begin
        $error("Error: MAX_READ_DW must be between 2 and 32 (instance %m)");
        $finish;
    end
end

localparam [3:0]
    REQ_MEM_READ  = 4'b0000,
    REQ_MEM_WRITE = 4'b0001;

localparam [2:0]
    CPL_STATUS_SC = 3'b000,
    CPL_STATUS_UR = 3'b001,
    CPL_STATUS_CA = 3'b100;

localparam [2:0]
    STATE_DESC = 3'd0,
    STATE_WRITE = 3'd1,
    STATE_DROP = 3'd2,
    STATE_CPL_DESC = 3'd3,
    STATE_CPL_DATA = 3'd4;

reg [2:0] state_reg;

// Input beat, shifted one dword per cycle
reg [AXIS_PCIE_DATA_WIDTH-1:0] in_data_reg;
reg [AXIS_PCIE_KEEP_WIDTH-1:0] in_keep_reg;
reg in_last_reg;

// Request descriptor
reg [1:0] desc_dw_reg;
reg [ADDR_WIDTH-1:2] addr_reg;
reg [10:0] dword_count_reg;
reg [3:0] req_type_reg;
reg [15:0] requester_id_reg;
reg [7:0] tag_reg;
reg [7:0] function_reg;
reg [2:0] tc_reg;
reg [2:0] attr_reg;
reg [3:0] first_be_reg;
reg [3:0] last_be_reg;
reg first_dw_reg;

// Completion
reg [2:0] cpl_status_reg;
reg [1:0] cpl_desc_dw_reg;
reg [10:0] rd_issue_count_reg;
reg [10:0] rd_place_count_reg;
// reads in flight: [0] issued last cycle, [1] data valid now
reg [1:0] rd_pipe_reg;

// Output beat, filled one dword per cycle
reg [AXIS_PCIE_DATA_WIDTH-1:0] out_data_reg;
reg [AXIS_PCIE_KEEP_WIDTH-1:0] out_keep_reg;
reg [LANE_W-1:0] out_lane_reg;
reg out_valid_reg;
reg out_last_reg;

reg reg_wr_en_reg;
reg [31:0] reg_wr_data_reg;
reg [3:0] reg_wr_strb_reg;
reg [ADDR_WIDTH-1:2] reg_addr_reg;
reg reg_rd_en_reg;

assign s_axis_cq_tready = in_keep_reg == 0;
assign idle = state_reg == STATE_DESC && in_keep_reg == 0 && !out_valid_reg && !reg_wr_en_reg && !reg_rd_en_reg
              && rd_pipe_reg == 0;

assign m_axis_cc_tdata = out_data_reg;
assign m_axis_cc_tkeep = out_keep_reg;
assign m_axis_cc_tvalid = out_valid_reg;
assign m_axis_cc_tlast = out_last_reg;
assign m_axis_cc_tuser = {AXIS_PCIE_CC_USER_WIDTH{1'b0}};

assign reg_addr = reg_addr_reg;
assign reg_function = function_reg;
assign reg_wr_en = reg_wr_en_reg;
assign reg_wr_data = reg_wr_data_reg;
assign reg_wr_strb = reg_wr_strb_reg;
assign reg_rd_en = reg_rd_en_reg;

// Offset of the first enabled byte of the first dword (PCIe lower address)
function [1:0] first_be_skip(input [3:0] be);
    casez (be)
        4'b???1: first_be_skip = 2'd0;
        4'b??10: first_be_skip = 2'd1;
        4'b?100: first_be_skip = 2'd2;
        4'b1000: first_be_skip = 2'd3;
        default: first_be_skip = 2'd0;
    endcase
endfunction

// Disabled bytes at the top of the last dword
function [1:0] last_be_skip(input [3:0] be);
    casez (be)
        4'b1???: last_be_skip = 2'd0;
        4'b01??: last_be_skip = 2'd1;
        4'b001?: last_be_skip = 2'd2;
        default: last_be_skip = 2'd3;
    endcase
endfunction

// Byte count of a read request (PCIe base specification, table 2-38)
function [12:0] request_byte_count(input [10:0] count, input [3:0] fbe, input [3:0] lbe);
    if (count == 11'd1) begin
        casez (fbe)
            4'b1??1: request_byte_count = 13'd4;
            4'b01?1: request_byte_count = 13'd3;
            4'b1?10: request_byte_count = 13'd3;
            4'b0011: request_byte_count = 13'd2;
            4'b0110: request_byte_count = 13'd2;
            4'b1100: request_byte_count = 13'd2;
            default: request_byte_count = 13'd1;
        endcase
    end else begin
        request_byte_count = {count, 2'b00} - {11'd0, first_be_skip(fbe)} - {11'd0, last_be_skip(lbe)};
    end
endfunction

// Only sop and the byte enables of the first and last dword are used: first BE at [3:0] at every
// width, last BE and sop at [7:4] and 40 below 512 bits, at [11:8] and 80 at 512 (no straddling)
localparam CQ_LAST_BE = AXIS_PCIE_DATA_WIDTH == 512 ? 8 : 4;
localparam CQ_SOP = AXIS_PCIE_DATA_WIDTH == 512 ? 80 : 40;
wire [AXIS_PCIE_CQ_USER_WIDTH-1:0] unused_cq_tuser = s_axis_cq_tuser;

wire in_dw_valid = in_keep_reg[0];
wire [31:0] in_dw = in_data_reg[31:0];
wire in_dw_last = in_last_reg && in_keep_reg[AXIS_PCIE_KEEP_WIDTH-1:1] == 0;

wire is_posted = req_type_reg == REQ_MEM_WRITE || req_type_reg[3:2] == 2'b11;
// A length field of zero encodes 1024 dwords
wire [10:0] req_dwords = dword_count_reg == 0 ? 11'd1024 : dword_count_reg;

// A read result lands two cycles after the read is issued; a read is issued
// only if its lane, after those already in flight, lies in the current beat
wire place_now = rd_pipe_reg[1];
wire [LANE_W:0] lanes_claimed = {1'b0, out_lane_reg} + {{LANE_W{1'b0}}, rd_pipe_reg[0]} + {{LANE_W{1'b0}}, rd_pipe_reg[1]};
wire lane_free = {{(31-LANE_W){1'b0}}, lanes_claimed} < AXIS_PCIE_KEEP_WIDTH;

// One clocked block: where a register is assigned more than once in a cycle
// (the output beat cleared as it leaves, then a dword placed in it; the read
// pipe shifted, then a read issued), the later assignment wins
always @(posedge clk) begin
    rd_pipe_reg <= {rd_pipe_reg[0], 1'b0};

    reg_wr_en_reg <= 1'b0;
    reg_rd_en_reg <= 1'b0;

    if (out_valid_reg && m_axis_cc_tready) begin
        out_valid_reg <= 1'b0;
        out_keep_reg <= 0;
        out_data_reg <= 0;
        out_last_reg <= 1'b0;
    end

    // Load a new beat once the previous one is used up
    if (s_axis_cq_tready && s_axis_cq_tvalid) begin
        in_data_reg <= s_axis_cq_tdata;
        in_keep_reg <= s_axis_cq_tkeep;
        in_last_reg <= s_axis_cq_tlast;
        if (s_axis_cq_tuser[CQ_SOP] && state_reg == STATE_DESC) begin
            first_be_reg <= s_axis_cq_tuser[3:0];
            last_be_reg <= s_axis_cq_tuser[CQ_LAST_BE +: 4];
        end
    end

    case (state_reg)
        STATE_DESC: begin
            if (in_dw_valid) begin
                in_data_reg <= in_data_reg >> 32;
                in_keep_reg <= in_keep_reg >> 1;
                desc_dw_reg <= desc_dw_reg + 2'd1;
                case (desc_dw_reg)
                    2'd0: addr_reg[ADDR_WIDTH-1:2] <= in_dw[ADDR_WIDTH-1:2];
                    2'd1: ; // upper address bits lie outside the BAR
                    2'd2: begin
                        dword_count_reg <= in_dw[10:0];
                        req_type_reg <= in_dw[14:11];
                        requester_id_reg <= in_dw[31:16];
                    end
                    default: begin
                        tag_reg <= in_dw[7:0];
                        function_reg <= in_dw[15:8];
                        tc_reg <= in_dw[27:25];
                        attr_reg <= in_dw[30:28];
                    end
                endcase
                if (desc_dw_reg == 2'd3) begin
                    first_dw_reg <= 1'b1;
                    if (!in_dw_last) begin
                        state_reg <= req_type_reg == REQ_MEM_WRITE ? STATE_WRITE : STATE_DROP;
                    end else if (req_type_reg == REQ_MEM_WRITE || req_type_reg[3:2] == 2'b11) begin
                        // posted request without payload: nothing to do
                        state_reg <= STATE_DESC;
                    end else begin
                        state_reg <= STATE_CPL_DESC;
                    end
                    if (req_type_reg == REQ_MEM_READ) begin
                        cpl_status_reg <= (dword_count_reg != 0 && dword_count_reg <= MAX_READ_DW) ? CPL_STATUS_SC : CPL_STATUS_CA;
                    end else begin
                        cpl_status_reg <= CPL_STATUS_UR;
                    end
                    cpl_desc_dw_reg <= 2'd0;
                    rd_issue_count_reg <= 11'd0;
                    rd_place_count_reg <= 11'd0;
                end
            end
        end
        STATE_WRITE: begin
            if (in_dw_valid) begin
                in_data_reg <= in_data_reg >> 32;
                in_keep_reg <= in_keep_reg >> 1;
                first_dw_reg <= 1'b0;
                reg_wr_en_reg <= 1'b1;
                reg_wr_data_reg <= in_dw;
                reg_addr_reg <= addr_reg;
                addr_reg <= addr_reg + 1;
                dword_count_reg <= dword_count_reg - 1;
                if (first_dw_reg) begin
                    reg_wr_strb_reg <= first_be_reg;
                end else if (dword_count_reg == 11'd1) begin
                    reg_wr_strb_reg <= last_be_reg;
                end else begin
                    reg_wr_strb_reg <= 4'hf;
                end
                if (in_dw_last) begin
                    state_reg <= STATE_DESC;
                end else if (dword_count_reg == 11'd1) begin
                    // payload longer than the length field: discard the rest
                    state_reg <= STATE_DROP;
                end
            end
        end
        STATE_DROP: begin
            if (in_dw_valid) begin
                in_data_reg <= in_data_reg >> 32;
                in_keep_reg <= in_keep_reg >> 1;
                if (in_dw_last) begin
                    state_reg <= is_posted ? STATE_DESC : STATE_CPL_DESC;
                end
            end
        end
        STATE_CPL_DESC: begin
            if (!out_valid_reg) begin
                cpl_desc_dw_reg <= cpl_desc_dw_reg + 2'd1;
                out_keep_reg[out_lane_reg] <= 1'b1;
                case (cpl_desc_dw_reg)
                    2'd0: out_data_reg[out_lane_reg*32 +: 32] <= {3'd0,
                        request_byte_count(req_dwords, first_be_reg, last_be_reg),
                        9'd0, addr_reg[6:2], first_be_skip(first_be_reg)};
                    2'd1: out_data_reg[out_lane_reg*32 +: 32] <= {requester_id_reg, 1'b0, 1'b0,
                        cpl_status_reg, cpl_status_reg == CPL_STATUS_SC ? dword_count_reg : 11'd0};
                    // the completer id: the hard IP fills in the bus and device numbers
                    default: out_data_reg[out_lane_reg*32 +: 32] <= {1'b0, attr_reg, tc_reg, 1'b0,
                        8'd0, function_reg, tag_reg};
                endcase
                if (cpl_desc_dw_reg == 2'd2 && cpl_status_reg != CPL_STATUS_SC) begin
                    out_valid_reg <= 1'b1;
                    out_last_reg <= 1'b1;
                    out_lane_reg <= 0;
                    state_reg <= STATE_DESC;
                end else if (out_lane_reg == LAST_LANE) begin
                    out_valid_reg <= 1'b1;
                    out_lane_reg <= 0;
                end else begin
                    out_lane_reg <= out_lane_reg + 1;
                end
                if (cpl_desc_dw_reg == 2'd2 && cpl_status_reg == CPL_STATUS_SC) begin
                    state_reg <= STATE_CPL_DATA;
                end
            end
        end
        STATE_CPL_DATA: begin
            if (place_now) begin
                out_data_reg[out_lane_reg*32 +: 32] <= reg_rd_data;
                out_keep_reg[out_lane_reg] <= 1'b1;
                rd_place_count_reg <= rd_place_count_reg + 1;
                if (rd_place_count_reg + 1 == dword_count_reg) begin
                    out_valid_reg <= 1'b1;
                    out_last_reg <= 1'b1;
                    out_lane_reg <= 0;
                    state_reg <= STATE_DESC;
                end else if (out_lane_reg == LAST_LANE) begin
                    out_valid_reg <= 1'b1;
                    out_lane_reg <= 0;
                end else begin
                    out_lane_reg <= out_lane_reg + 1;
                end
            end
            if (!out_valid_reg && lane_free && rd_issue_count_reg != dword_count_reg) begin
                reg_rd_en_reg <= 1'b1;
                reg_addr_reg <= addr_reg;
                addr_reg <= addr_reg + 1;
                rd_issue_count_reg <= rd_issue_count_reg + 1;
                rd_pipe_reg[0] <= 1'b1;
            end
        end
        default: state_reg <= STATE_DESC;
    endcase

    if (rst) begin
        state_reg <= STATE_DESC;
        in_keep_reg <= 0;
        in_last_reg <= 1'b0;
        desc_dw_reg <= 2'd0;
        rd_pipe_reg <= 2'b00;
        out_valid_reg <= 1'b0;
        out_keep_reg <= 0;
        out_data_reg <= 0;
        out_lane_reg <= 0;
        out_last_reg <= 1'b0;
        reg_wr_en_reg <= 1'b0;
        reg_rd_en_reg <= 1'b0;
    end
end

endmodule

`resetall
