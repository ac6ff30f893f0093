`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Device DRAM for simulation: an AXI4 slave whose bytes live in a memory
 * shared with the Python test bench (tb/hdl/dram_dpi.cpp, tb/device_dram.py).
 *
 * Every beat is moved by a DPI-C call, with no Python on the way; the
 * firmware model and the scoreboards read and write the same bytes through
 * the backdoor, without bus beats or simulated time. INCR bursts, one beat
 * per cycle on each direction; a few bursts may be queued per direction.
 *
 * For tests: seeded pseudo-random stalls on AWREADY, WREADY, ARREADY and
 * idle cycles on BVALID, RVALID (pacing_en, pacing_seed), and an address
 * range answered with SLVERR (err_rd_en / err_wr_en for
 * [err_base, err_limit)). Not synthesizable: it belongs to the test bench.
 */
module axi_ram_dpi #
(
    // Data width in bits (a multiple of 32, at most 512)
    parameter DATA_WIDTH = 256,
    // Byte address width
    parameter ADDR_WIDTH = 32,
    // AXI4 id width
    parameter ID_WIDTH = 4,
    // Bursts queued per direction
    parameter QUEUE_DEPTH = 4
)
(
    input  wire                     clk,
    input  wire                     rst,

    input  wire [ID_WIDTH-1:0]      s_axi_awid,
    input  wire [ADDR_WIDTH-1:0]    s_axi_awaddr,
    input  wire [7:0]               s_axi_awlen,
    input  wire [2:0]               s_axi_awsize,
    input  wire [1:0]               s_axi_awburst,
    input  wire                     s_axi_awvalid,
    output wire                     s_axi_awready,
    input  wire [DATA_WIDTH-1:0]    s_axi_wdata,
    input  wire [DATA_WIDTH/8-1:0]  s_axi_wstrb,
    input  wire                     s_axi_wlast,
    input  wire                     s_axi_wvalid,
    output wire                     s_axi_wready,
    output wire [ID_WIDTH-1:0]      s_axi_bid,
    output wire [1:0]               s_axi_bresp,
    output wire                     s_axi_bvalid,
    input  wire                     s_axi_bready,
    input  wire [ID_WIDTH-1:0]      s_axi_arid,
    input  wire [ADDR_WIDTH-1:0]    s_axi_araddr,
    input  wire [7:0]               s_axi_arlen,
    input  wire [2:0]               s_axi_arsize,
    input  wire [1:0]               s_axi_arburst,
    input  wire                     s_axi_arvalid,
    output wire                     s_axi_arready,
    output wire [ID_WIDTH-1:0]      s_axi_rid,
    output wire [DATA_WIDTH-1:0]    s_axi_rdata,
    output wire [1:0]               s_axi_rresp,
    output wire                     s_axi_rlast,
    output wire                     s_axi_rvalid,
    input  wire                     s_axi_rready,

    input  wire                     pacing_en,
    input  wire [31:0]              pacing_seed,
    input  wire                     err_rd_en,
    input  wire                     err_wr_en,
    input  wire [ADDR_WIDTH-1:0]    err_base,
    input  wire [ADDR_WIDTH-1:0]    err_limit,

    // no burst queued or under way, no response waiting
    output wire                     idle
);

localparam BYTES = DATA_WIDTH / 8;
localparam Q_W = $clog2(QUEUE_DEPTH);
localparam [1:0] RESP_OKAY = 2'b00, RESP_SLVERR = 2'b10;

import "DPI-C" function void nvme_cosim_dram_write(input longint addr, input bit [511:0] data,
                                                   input bit [63:0] strb, input int bytes);
import "DPI-C" function void nvme_cosim_dram_read(input longint addr, output bit [511:0] data,
                                                  input int bytes);

initial begin
    if (DATA_WIDTH % 32 != 0 || DATA_WIDTH > 512) begin
        $error("Error: DATA_WIDTH must be a multiple of 32 up to 512 (instance %m)");
        $finish;
    end
    if ((1 << Q_W) != QUEUE_DEPTH) begin
        $error("Error: QUEUE_DEPTH must be a power of two (instance %m)");
        $finish;
    end
end

// the burst type and beat size are the DMA engine's (INCR, full width); WLAST ends a write burst, and a
// burst whose WLAST is not on its AWLEN's last beat is answered SLVERR (a real memory would hang or
// write elsewhere)
wire unused_attrs = &{1'b0, s_axi_awsize, s_axi_awburst, s_axi_arsize, s_axi_arburst};

/*
 * Pacing: a 32-bit LFSR, one step per cycle; each handshake takes its own bit
 */
reg [31:0] lfsr_reg;
wire [4:0] stall = pacing_en ? {lfsr_reg[3], lfsr_reg[7], lfsr_reg[13], lfsr_reg[19], lfsr_reg[29]} &
                               {lfsr_reg[5], lfsr_reg[11], lfsr_reg[17], lfsr_reg[23], lfsr_reg[31]} : 5'd0;

// the pattern steps only while there is traffic: idle time leaves no trace
wire active = !idle || s_axi_awvalid || s_axi_wvalid || s_axi_arvalid;
always @(posedge clk) begin
    if (active) begin
        lfsr_reg <= {lfsr_reg[30:0], lfsr_reg[31] ^ lfsr_reg[21] ^ lfsr_reg[1] ^ lfsr_reg[0]};
    end
    // the pattern starts from the seed whenever pacing is turned on
    if (rst || !pacing_en) begin
        lfsr_reg <= pacing_seed | 32'd1;
    end
end

function in_error_range(input [ADDR_WIDTH-1:0] addr);
    in_error_range = addr >= err_base && addr < err_limit;
endfunction

/*
 * Writes: AW queue, W beats into the memory, B per burst
 */
reg [ADDR_WIDTH+ID_WIDTH+7:0] aw_mem [0:QUEUE_DEPTH-1];
reg [Q_W:0] aw_wr_reg, aw_rd_reg;
wire aw_empty = aw_wr_reg == aw_rd_reg;
wire aw_full = (aw_wr_reg - aw_rd_reg) == QUEUE_DEPTH[Q_W:0];
assign s_axi_awready = !aw_full && !stall[0] && !rst;

reg [ADDR_WIDTH-1:0] w_addr_reg;
reg [ID_WIDTH-1:0] w_id_reg;
reg w_active_reg;
reg w_err_reg;
reg [7:0] w_left_reg;   // beats after this one, by AWLEN
assign s_axi_wready = w_active_reg && !stall[1] && !(bq_full);

reg [ID_WIDTH+1:0] b_mem [0:QUEUE_DEPTH-1];
reg [Q_W:0] b_wr_reg, b_rd_reg;
wire b_empty = b_wr_reg == b_rd_reg;
wire bq_full = (b_wr_reg - b_rd_reg) == QUEUE_DEPTH[Q_W:0];
assign s_axi_bvalid = !b_empty && !stall[2];
assign {s_axi_bid, s_axi_bresp} = b_mem[b_rd_reg[Q_W-1:0]];

// the DPI functions take the widest beat; narrower ones are zero-extended
/* verilator lint_off WIDTHEXPAND */
wire [511:0] w_data = s_axi_wdata;
wire [63:0] w_strb = s_axi_wstrb;
/* verilator lint_on WIDTHEXPAND */
wire w_beat = s_axi_wvalid && s_axi_wready;
wire aw_hs = s_axi_awvalid && s_axi_awready;
// the next burst starts in the cycle of the last beat: no bubble between bursts; with no burst queued,
// an address arriving now starts its burst at once, so its data is taken from the next cycle on (a
// memory controller's write data buffer does not wait for the queue either)
wire w_take = (!w_active_reg || (w_beat && s_axi_wlast)) && (!aw_empty || aw_hs);
wire aw_bypass = w_take && aw_empty;
always @(posedge clk) begin
    if (aw_hs && !aw_bypass) begin
        aw_mem[aw_wr_reg[Q_W-1:0]] <= {s_axi_awlen, s_axi_awid, s_axi_awaddr};
        aw_wr_reg <= aw_wr_reg + 1;
    end
    if (w_beat) begin
        if (err_wr_en && in_error_range(w_addr_reg)) begin
            w_err_reg <= 1'b1;
        end else begin
            nvme_cosim_dram_write({{(64-ADDR_WIDTH){1'b0}}, w_addr_reg}, w_data, w_strb, BYTES);
        end
        w_addr_reg <= w_addr_reg + BYTES[ADDR_WIDTH-1:0];
        w_left_reg <= w_left_reg - 8'd1;
        if (s_axi_wlast != (w_left_reg == 8'd0)) begin
            w_err_reg <= 1'b1;
        end
        if (s_axi_wlast) begin
            w_active_reg <= 1'b0;
            b_mem[b_wr_reg[Q_W-1:0]] <= {w_id_reg,
                                         w_err_reg || w_left_reg != 8'd0 || (err_wr_en && in_error_range(w_addr_reg))
                                         ? RESP_SLVERR : RESP_OKAY};
            b_wr_reg <= b_wr_reg + 1;
        end
    end
    if (w_take) begin
        {w_left_reg, w_id_reg, w_addr_reg} <= aw_bypass ? {s_axi_awlen, s_axi_awid, s_axi_awaddr}
                                                        : aw_mem[aw_rd_reg[Q_W-1:0]];
        if (!aw_bypass) begin
            aw_rd_reg <= aw_rd_reg + 1;
        end
        w_active_reg <= 1'b1;
        w_err_reg <= 1'b0;
    end
    if (s_axi_bvalid && s_axi_bready) begin
        b_rd_reg <= b_rd_reg + 1;
    end
    if (rst) begin
        aw_wr_reg <= 0;
        aw_rd_reg <= 0;
        w_active_reg <= 1'b0;
        w_err_reg <= 1'b0;
        b_wr_reg <= 0;
        b_rd_reg <= 0;
    end
end

/*
 * Reads: AR queue, R beats from the memory
 */
reg [ADDR_WIDTH+ID_WIDTH+7:0] ar_mem [0:QUEUE_DEPTH-1];
reg [Q_W:0] ar_wr_reg, ar_rd_reg;
wire ar_empty = ar_wr_reg == ar_rd_reg;
wire ar_full = (ar_wr_reg - ar_rd_reg) == QUEUE_DEPTH[Q_W:0];
assign s_axi_arready = !ar_full && !stall[3] && !rst;

reg [ADDR_WIDTH-1:0] r_addr_reg;
reg [ID_WIDTH-1:0] r_id_reg;
reg [7:0] r_left_reg;
reg r_active_reg;
reg r_valid_reg;
reg [DATA_WIDTH-1:0] r_data_reg;
reg r_err_reg;
reg r_last_reg;
assign s_axi_rvalid = r_valid_reg && !stall[4];
assign s_axi_rid = r_id_reg;
assign s_axi_rdata = r_data_reg;
assign s_axi_rresp = r_err_reg ? RESP_SLVERR : RESP_OKAY;
assign s_axi_rlast = r_last_reg;

assign idle = aw_empty && !w_active_reg && b_empty && ar_empty && !r_active_reg && !r_valid_reg;

// a DPI output lands in a variable of the process that calls it
/* verilator lint_off BLKSEQ */
/* verilator lint_off UNUSEDSIGNAL */
reg [511:0] r_data;
/* verilator lint_on UNUSEDSIGNAL */
// a beat is loaded when none is held or the held one is taken
wire r_load = r_active_reg && (!r_valid_reg || (s_axi_rvalid && s_axi_rready));
always @(posedge clk) begin
    if (s_axi_arvalid && s_axi_arready) begin
        ar_mem[ar_wr_reg[Q_W-1:0]] <= {s_axi_arid, s_axi_arlen, s_axi_araddr};
        ar_wr_reg <= ar_wr_reg + 1;
    end
    if (s_axi_rvalid && s_axi_rready) begin
        r_valid_reg <= 1'b0;
    end
    if (r_load) begin
        r_err_reg <= err_rd_en && in_error_range(r_addr_reg);
        r_data = 512'd0;
        if (!(err_rd_en && in_error_range(r_addr_reg))) begin
            nvme_cosim_dram_read({{(64-ADDR_WIDTH){1'b0}}, r_addr_reg}, r_data, BYTES);
        end
        /* verilator lint_on BLKSEQ */
        r_data_reg <= r_data[DATA_WIDTH-1:0];
        r_valid_reg <= 1'b1;
        r_last_reg <= r_left_reg == 8'd0;
        r_addr_reg <= r_addr_reg + BYTES[ADDR_WIDTH-1:0];
        r_left_reg <= r_left_reg - 8'd1;
        if (r_left_reg == 8'd0) begin
            r_active_reg <= 1'b0;
        end
    end
    if ((!r_active_reg || (r_load && r_left_reg == 8'd0)) && !ar_empty) begin
        {r_id_reg, r_left_reg, r_addr_reg} <= ar_mem[ar_rd_reg[Q_W-1:0]];
        ar_rd_reg <= ar_rd_reg + 1;
        r_active_reg <= 1'b1;
    end
    if (rst) begin
        ar_wr_reg <= 0;
        ar_rd_reg <= 0;
        r_active_reg <= 1'b0;
        r_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
