`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * MSI-X table, pending bit array and interrupt coalescing.
 *
 * The table and the PBA live in BAR0 where contract/nvme_bar0.rdl puts
 * them (rtl/include/nvme_bar0_regs.vh) and are reached through the register
 * port, which carries BAR0 dword addresses from the MSI-X table on. A CQE posted on a CQ with interrupts enabled asks for its
 * vector: at once for the admin CQ or a vector with coalescing disabled,
 * otherwise when more than THR entries have gathered or TIME x 100 us have
 * passed since the first (NVMe 1.4, 5.21.1.8). A vector that is masked, by
 * its own mask bit or by the function mask, or with MSI-X disabled, shows
 * the request in the PBA instead, and the message goes out on unmask.
 * Messages leave through the hard IP's cfg_interrupt_msix_* handshake.
 *
 * Each physical function has a table and PBA of VECTORS entries in its own
 * BAR0, and its own MSI-X Enable and Function Mask; vector v of function f is
 * vector f * VECTORS + v here, and its message names function f.
 */
module nvme_msix #
(
    // Physical functions (1 to 4, the hard IP's)
    parameter FUNCTIONS = 1,
    // Vectors per function
    parameter VECTORS = 65,
    // Vectors of all functions
    parameter TOTAL = FUNCTIONS * VECTORS,
    // Vector number width (all functions' vectors)
    parameter VEC_W = $clog2(FUNCTIONS * VECTORS),
    // Width of the register port's dword address (BAR0 byte address width - 2)
    parameter ADDR_W = 12,
    // Clock cycles per 100 us coalescing time unit
    parameter TICK_CYCLES = 25000
)
(
    input  wire                 clk,
    input  wire                 rst,
    // A controller's reset: the entries gathered on its vectors are forgotten
    input  wire [FUNCTIONS-1:0] clear,

    /*
     * Register port (BAR0 dword address)
     */
    input  wire [ADDR_W-1:0]    reg_addr,
    input  wire [7:0]           reg_function,
    input  wire                 reg_wr_en,
    input  wire [31:0]          reg_wr_data,
    input  wire [3:0]           reg_wr_strb,
    input  wire                 reg_rd_en,
    output reg  [31:0]          reg_rd_data,

    /*
     * Interrupt requests from the CQ poster
     */
    input  wire                 irq_valid,
    input  wire [VEC_W-1:0]     irq_vector,
    input  wire                 irq_coalesce,

    /*
     * Coalescing settings: each function's (Interrupt Coalescing is a controller's feature)
     */
    input  wire [8*FUNCTIONS-1:0] coalesce_thr,
    input  wire [8*FUNCTIONS-1:0] coalesce_time,
    input  wire [TOTAL-1:0]     coalesce_disable,

    /*
     * Hard IP MSI-X interface
     */
    input  wire [3:0]           cfg_interrupt_msix_enable,
    input  wire [3:0]           cfg_interrupt_msix_mask,
    output reg  [63:0]          cfg_interrupt_msix_address,
    output reg  [31:0]          cfg_interrupt_msix_data,
    output reg                  cfg_interrupt_msix_int,
    output reg  [7:0]           cfg_interrupt_msi_function_number,
    input  wire                 cfg_interrupt_msix_sent,
    input  wire                 cfg_interrupt_msix_fail,

    // no message on its way and no aggregation timer running (a masked vector's pending bit may wait)
    output wire                 idle
);

`include "nvme_bar0_regs.vh"

localparam integer TABLE_BASE = {{(32-NVME_BAR0_ADDR_W){1'b0}}, NVME_MSIX_TABLE};
localparam integer PBA_BASE = {{(32-NVME_BAR0_ADDR_W){1'b0}}, NVME_MSIX_PBA};
localparam [31:0] VECTORS_32 = VECTORS;

initial begin
    if (FUNCTIONS < 1 || FUNCTIONS > 4 || TOTAL != FUNCTIONS * VECTORS || (1 << VEC_W) < TOTAL) begin
        $error("Error: 1 to 4 functions, TOTAL = FUNCTIONS * VECTORS vectors numbered in VEC_W bits (instance %m)");
        $finish;
    end
    if (ADDR_W + 2 != NVME_BAR0_ADDR_W) begin
        $error("Error: the register port carries BAR0 dword addresses (instance %m)");
        $finish;
    end
    if (TABLE_BASE + NVME_MSIX_TABLE_STRIDE * VECTORS > PBA_BASE
            || PBA_BASE + NVME_MSIX_PBA_STRIDE * ((VECTORS + 31) / 32) > (1 << NVME_BAR0_ADDR_W)) begin
        $error("Error: %0d vectors do not fit the MSI-X table and PBA of BAR0 (instance %m)", VECTORS);
        $finish;
    end
    if (NVME_MSIX_TABLE_STRIDE != 16 || NVME_MSIX_PBA_STRIDE != 4) begin
        $error("Error: MSI-X table entries are 16 bytes and PBA dwords 4 (instance %m)");
        $finish;
    end
end

reg [31:0] addr_lo_mem [0:TOTAL-1];
reg [31:0] addr_hi_mem [0:TOTAL-1];
reg [31:0] data_mem [0:TOTAL-1];
reg [TOTAL-1:0] mask_reg;

reg [TOTAL-1:0] fire_reg;
reg [7:0] agg_count [0:TOTAL-1];
reg [7:0] agg_ticks [0:TOTAL-1];
wire tick;
reg aggregating;
integer v;
always @* begin
    aggregating = 1'b0;
    for (v = 0; v < TOTAL; v = v + 1) begin
        aggregating = aggregating || agg_count[v] != 0;
    end
end

timebase_pulse #(
    .PERIOD(TICK_CYCLES)
)
coalesce_tick_inst (
    .clk(clk),
    .rst(rst),
    .enable(aggregating),
    .pulse(tick)
);

localparam [1:0]
    S_IDLE = 2'd0,
    S_LOAD = 2'd1,
    S_WAIT = 2'd2;

reg [1:0] s_state_reg;
reg [VEC_W-1:0] s_vec_reg;
// A function's first vector, and the function of a vector: with at most four functions, constants and
// comparators rather than a multiplier and a divider
function [31:0] first_vector(input [1:0] fn);
    first_vector = fn == 2'd0 ? 32'd0 : fn == 2'd1 ? VECTORS_32 : fn == 2'd2 ? 2 * VECTORS_32 : 3 * VECTORS_32;
endfunction

`include "function_of.vh"

function [1:0] vector_function(input [VEC_W-1:0] vector);
    vector_function = function_of({{(32-VEC_W){1'b0}}, vector}, VECTORS_32);
endfunction

// the clear of each of the four functions the hard IP can have
wire [3:0] clear_any = {{(4-FUNCTIONS){1'b0}}, clear};
// the coalescing of the function whose vector an interrupt request raises
wire [31:0] thr_any = {{(32-8*FUNCTIONS){1'b0}}, coalesce_thr};
wire [31:0] time_any = {{(32-8*FUNCTIONS){1'b0}}, coalesce_time};
wire [7:0] irq_thr = thr_any[8*vector_function(irq_vector) +: 8];
wire [7:0] irq_time = time_any[8*vector_function(irq_vector) +: 8];

// the hard IP samples the request from power-up, before the first reset
initial begin
    cfg_interrupt_msix_int = 1'b0;
    cfg_interrupt_msix_address = 64'd0;
    cfg_interrupt_msix_data = 32'd0;
    cfg_interrupt_msi_function_number = 8'd0;
end

// a function's vectors are blocked while its MSI-X Enable is clear or its Function Mask set
wire [3:0] function_blocked = ~cfg_interrupt_msix_enable | cfg_interrupt_msix_mask;
reg [TOTAL-1:0] blocked;
integer b;
always @* begin
    for (b = 0; b < TOTAL; b = b + 1) begin
        blocked[b] = function_blocked[b / VECTORS];
    end
end
wire [TOTAL-1:0] sendable = fire_reg & ~mask_reg & ~blocked;
wire [TOTAL-1:0] pba = fire_reg & (mask_reg | blocked);
assign idle = s_state_reg == S_IDLE && sendable == 0 && !aggregating && !cfg_interrupt_msix_int;

reg [VEC_W-1:0] first_sendable;
integer i;
always @* begin
    first_sendable = 0;
    for (i = TOTAL - 1; i >= 0; i = i - 1) begin
        if (sendable[i]) begin
            first_sendable = i[VEC_W-1:0];
        end
    end
end

// Register decode: table entries of four dwords, the PBA of one bit per vector
localparam [ADDR_W-1:0] TABLE_DW = NVME_MSIX_TABLE[ADDR_W+1:2];
localparam [ADDR_W-1:0] PBA_DW = NVME_MSIX_PBA[ADDR_W+1:2];
wire is_pba = reg_addr >= PBA_DW;
wire [ADDR_W-1:0] table_dw = reg_addr - TABLE_DW;
wire [ADDR_W-1:0] pba_dw = reg_addr - PBA_DW;
wire [ADDR_W-3:0] local_entry = table_dw[ADDR_W-1:2];
wire [3:0] field_offset = {table_dw[1:0], 2'b00};
wire function_ok = {24'd0, reg_function} < FUNCTIONS;
wire entry_ok = reg_addr >= TABLE_DW && {{(32-(ADDR_W-2)){1'b0}}, local_entry} < VECTORS && function_ok;
// the function's first vector, and the entry in all functions' vectors
wire [31:0] function_base = function_ok ? first_vector(reg_function[1:0]) : 32'd0;
wire [31:0] entry_index = function_base + {{(34-ADDR_W){1'b0}}, local_entry};
wire [VEC_W-1:0] entry = entry_index[VEC_W-1:0];
// below TOTAL
wire unused_index_msbs = &{1'b0, entry_index[31:VEC_W]};
wire [31:0] strb_mask = {{8{reg_wr_strb[3]}}, {8{reg_wr_strb[2]}}, {8{reg_wr_strb[1]}}, {8{reg_wr_strb[0]}}};

// PBA dword: 32 vectors of the function each
wire [VECTORS-1:0] function_pba = pba[function_base +: VECTORS];
/* verilator lint_off WIDTHEXPAND */
wire [VECTORS+31:0] pba_padded = {32'd0, function_pba};
/* verilator lint_on WIDTHEXPAND */
wire [31:0] pba_dword = pba_padded[pba_dw[ADDR_W-4:0]*32 +: 32];

always @(posedge clk) begin
    if (reg_rd_en) begin
        if (is_pba) begin
            reg_rd_data <= {{(32-ADDR_W){1'b0}}, pba_dw} < (VECTORS + 31) / 32 && function_ok ? pba_dword : 32'd0;
        end else if (!entry_ok) begin
            reg_rd_data <= 32'd0;
        end else begin
            case (field_offset)
                NVME_MSIX_TABLE_MSG_ADDR_LO[3:0]: reg_rd_data <= addr_lo_mem[entry];
                NVME_MSIX_TABLE_MSG_ADDR_HI[3:0]: reg_rd_data <= addr_hi_mem[entry];
                NVME_MSIX_TABLE_MSG_DATA[3:0]: reg_rd_data <= data_mem[entry];
                default: reg_rd_data <= {31'd0, mask_reg[entry]} << NVME_MSIX_TABLE_VECTOR_CTRL_MASK;
            endcase
        end
    end

    if (reg_wr_en && !is_pba && entry_ok) begin
        case (field_offset)
            NVME_MSIX_TABLE_MSG_ADDR_LO[3:0]: addr_lo_mem[entry] <= ((addr_lo_mem[entry] & ~strb_mask)
                | (reg_wr_data & strb_mask)) & NVME_MSIX_TABLE_MSG_ADDR_LO_WMASK;
            NVME_MSIX_TABLE_MSG_ADDR_HI[3:0]: addr_hi_mem[entry] <= (addr_hi_mem[entry] & ~strb_mask)
                | (reg_wr_data & strb_mask);
            NVME_MSIX_TABLE_MSG_DATA[3:0]: data_mem[entry] <= (data_mem[entry] & ~strb_mask)
                | (reg_wr_data & strb_mask);
            default: if (strb_mask[NVME_MSIX_TABLE_VECTOR_CTRL_MASK]) begin
                mask_reg[entry] <= reg_wr_data[NVME_MSIX_TABLE_VECTOR_CTRL_MASK];
            end
        endcase
    end

    // sender (before the requests below, so that a request in the same
    // cycle as a send keeps its vector firing)
    cfg_interrupt_msix_int <= 1'b0;
    case (s_state_reg)
        S_IDLE: begin
            if (sendable != 0) begin
                s_vec_reg <= first_sendable;
                s_state_reg <= S_LOAD;
            end
        end
        S_LOAD: begin
            if (sendable[s_vec_reg]) begin
                cfg_interrupt_msix_address <= {addr_hi_mem[s_vec_reg], addr_lo_mem[s_vec_reg]};
                cfg_interrupt_msix_data <= data_mem[s_vec_reg];
                cfg_interrupt_msi_function_number <= {6'd0, vector_function(s_vec_reg)};
                cfg_interrupt_msix_int <= 1'b1;
                fire_reg[s_vec_reg] <= 1'b0;
                s_state_reg <= S_WAIT;
            end else begin
                s_state_reg <= S_IDLE;
            end
        end
        S_WAIT: begin
            if (cfg_interrupt_msix_sent) begin
                s_state_reg <= S_IDLE;
            end else if (cfg_interrupt_msix_fail) begin
                fire_reg[s_vec_reg] <= 1'b1;
                s_state_reg <= S_IDLE;
            end
        end
        default: s_state_reg <= S_IDLE;
    endcase

    if (tick) begin
        for (i = 0; i < TOTAL; i = i + 1) begin
            if (agg_count[i] != 0) begin
                if (agg_ticks[i] <= 8'd1) begin
                    fire_reg[i] <= 1'b1;
                    agg_count[i] <= 8'd0;
                end else begin
                    agg_ticks[i] <= agg_ticks[i] - 8'd1;
                end
            end
        end
    end

    if (irq_valid) begin
        if (!irq_coalesce || coalesce_disable[irq_vector] || irq_time == 0 ||
                agg_count[irq_vector] >= irq_thr) begin
            fire_reg[irq_vector] <= 1'b1;
            agg_count[irq_vector] <= 8'd0;
        end else begin
            agg_count[irq_vector] <= agg_count[irq_vector] + 8'd1;
            if (agg_count[irq_vector] == 0) begin
                // the time runs from the first entry gathered; the partial
                // tick under way counts as one
                agg_ticks[irq_vector] <= irq_time + 8'd1;
            end
        end
    end

    for (i = 0; i < TOTAL; i = i + 1) begin
        if (rst || clear_any[vector_function(i[VEC_W-1:0])]) begin
            fire_reg[i] <= 1'b0;
            agg_count[i] <= 8'd0;
        end
    end
    if (rst) begin
        // every vector masked at reset (PCIe base specification, 7.7.2)
        mask_reg <= {TOTAL{1'b1}};
        s_state_reg <= S_IDLE;
        cfg_interrupt_msix_int <= 1'b0;
    end
end

endmodule

`resetall
