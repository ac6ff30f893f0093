`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Firmware mailbox: the AXI4-Lite slave through which the controller's
 * firmware takes commands, posts completions, programs queues and settings,
 * and learns of controller events. Register map: docs/queue_engine.md.
 *
 * One access at a time. A CPL_POST write is answered only once the CQ
 * poster has taken the completion, so a completion is never lost.
 *
 * Reset generations: every controller reset (CC.EN 1->0) advances an 8-bit
 * epoch. CMD_INFO hands each command out with the epoch it was fetched in;
 * a completion or a DMA request must name that epoch. A completion of an
 * older epoch is dropped here (its slot may already hold a newer command)
 * and counted in FW_STALE; the DMA engine refuses a request of an older
 * epoch without touching memory. A firmware task that outlives a reset
 * therefore cannot reach the host, whatever it does.
 *
 * Watchdog: while a command waits at the head of the FIFO and the controller
 * is enabled, a counter runs in microseconds; a pop restarts it. When it
 * reaches FW_WATCHDOG the firmware is taken for dead: fw_dead rises (the
 * controller reports CSTS.CFS and stops moving data) until the controller
 * reset. FW_WATCHDOG 0 disarms it.
 */
module nvme_fw_mailbox #
(
    // Queues including the admin queue
    parameter QUEUE_COUNT = 65,
    // Queue id width
    parameter QID_W = $clog2(QUEUE_COUNT),
    // Command slots
    parameter SLOTS = 64,
    // Slot id width
    parameter SLOT_W = $clog2(SLOTS),
    // CAP.MQES, reported to the firmware
    parameter [15:0] MQES = 16'd4095,
    // Clock cycles per microsecond (the watchdog's time base)
    parameter US_CYCLES = 250,
    // FW_WATCHDOG at reset, in microseconds (0: disarmed)
    parameter [15:0] WATCHDOG_US = 16'd10000
)
(
    input  wire                     clk,
    input  wire                     rst,

    /*
     * AXI4-Lite slave
     */
    input  wire [15:0]              s_axil_awaddr,
    input  wire [2:0]               s_axil_awprot,
    input  wire                     s_axil_awvalid,
    output wire                     s_axil_awready,
    input  wire [31:0]              s_axil_wdata,
    input  wire [3:0]               s_axil_wstrb,
    input  wire                     s_axil_wvalid,
    output wire                     s_axil_wready,
    output wire [1:0]               s_axil_bresp,
    output wire                     s_axil_bvalid,
    input  wire                     s_axil_bready,
    input  wire [15:0]              s_axil_araddr,
    input  wire [2:0]               s_axil_arprot,
    input  wire                     s_axil_arvalid,
    output wire                     s_axil_arready,
    output wire [31:0]              s_axil_rdata,
    output wire [1:0]               s_axil_rresp,
    output wire                     s_axil_rvalid,
    input  wire                     s_axil_rready,

    output wire                     fw_irq,
    // DMA results wait (a level): the SoC's DMA driver sleeps on it instead of polling DMA_RESULT
    output wire                     fw_dma_irq,

    /*
     * Controller state and events
     */
    input  wire                     ctrl_enabled,
    input  wire                     ctrl_resetting,
    input  wire                     ctrl_reset,
    input  wire                     shutdown_requested,
    input  wire                     shutdown_abrupt,
    input  wire                     shutdown_complete,
    output wire                     shutdown_done,
    output wire [7:0]               epoch,
    output wire                     fw_dead,
    // no access in progress and no command waiting for the firmware (the watchdog idle)
    output wire                     idle,

    /*
     * Command table
     */
    input  wire                     cmd_valid,
    input  wire [SLOT_W-1:0]        cmd_slot,
    input  wire [QID_W-1:0]         cmd_sqid,
    input  wire [SLOT_W:0]          cmd_count,
    output wire                     cmd_pop,
    output wire                     sqe_rd_en,
    output wire [SLOT_W-1:0]        sqe_rd_slot,
    output wire [3:0]               sqe_rd_dw,
    input  wire [31:0]              sqe_rd_data,

    /*
     * Completions
     */
    output wire                     cpl_valid,
    input  wire                     cpl_ready,
    output wire [SLOT_W-1:0]        cpl_slot,
    output wire [14:0]              cpl_status,
    output wire [31:0]              cpl_dw0,
    output wire [31:0]              cpl_dw1,
    input  wire                     poster_idle,

    /*
     * Queue programming
     */
    output wire                     q_cmd_valid,
    output wire [2:0]               q_cmd_op,
    output wire [QID_W-1:0]         q_sel,
    output wire [63:12]             q_base,
    output wire [15:0]              q_size,
    output wire [QID_W-1:0]         q_map,
    output wire [1:0]               q_prio,
    output wire                     q_ien,
    input  wire [31:0]              q_sq_state,
    input  wire [31:0]              q_cq_state,
    input  wire [31:0]              q_tails,

    /*
     * Invalid doorbell writes
     */
    input  wire                     db_err_valid,
    input  wire [1:0]               db_err_kind,
    input  wire [QID_W-1:0]         db_err_qid,
    input  wire                     db_err_is_cq,

    /*
     * Settings
     */
    output wire [2:0]               arb_burst,
    output wire [7:0]               arb_lpw,
    output wire [7:0]               arb_mpw,
    output wire [7:0]               arb_hpw,
    output wire [7:0]               coalesce_thr,
    output wire [7:0]               coalesce_time,
    output wire [QUEUE_COUNT-1:0]   coalesce_disable,

    /*
     * DMA engine requests (held until taken) and results
     */
    input  wire                     dma_present,
    output wire                     dma_req_valid,
    input  wire                     dma_req_ready,
    output wire [SLOT_W-1:0]        dma_req_slot,
    output wire                     dma_req_dir,
    output wire                     dma_req_auto,
    output wire [7:0]               dma_req_epoch,
    output wire [7:0]               dma_req_cookie,
    output wire [23:0]              dma_req_offset,
    output wire [23:0]              dma_req_length,
    output wire [23:0]              dma_req_cmd_len,
    output wire [63:0]              dma_req_dram,
    input  wire                     dma_res_valid,
    output wire                     dma_res_pop,
    input  wire [31:0]              dma_res_data,
    input  wire [7:0]               dma_res_count,
    input  wire [7:0]               dma_in_flight
);

localparam [31:0] FW_ID = 32'h4E56_4D45;
localparam [31:0] IO_QUEUE_PAIRS = QUEUE_COUNT - 1;
localparam [31:0] SLOT_COUNT = SLOTS;

initial begin
    if (SLOT_W > 8 || QID_W > 7) begin
        $error("Error: CMD_INFO holds 8-bit slots and 7-bit queue ids (instance %m)");
        $finish;
    end
end

// FW_IRQ_STATUS bits (bit 0, command waiting, is the FIFO's level)
localparam IRQ_DB_ERR = 1;
localparam IRQ_ENABLED = 2;
localparam IRQ_RESET = 3;
localparam IRQ_SHUTDOWN = 4;
// bit 5, a DMA result waiting, is the result FIFO's level

localparam [1:0]
    W_IDLE = 2'd0,
    W_POST = 2'd1,
    W_RESP = 2'd2,
    W_DMA = 2'd3;

localparam [1:0]
    R_IDLE = 2'd0,
    R_SQE = 2'd1,
    R_RESP = 2'd2;

reg [1:0] w_state_reg;
reg [1:0] r_state_reg;
reg [31:0] rdata_reg;

reg [4:1] irq_status_reg;
reg [5:0] irq_enable_reg;
reg enabled_seen_reg;
reg shutdown_seen_reg;

reg [31:0] cpl_dw0_reg;
reg [31:0] cpl_dw1_reg;
reg [SLOT_W-1:0] cpl_slot_reg;
reg [14:0] cpl_status_reg;

reg [QID_W-1:0] q_sel_reg;
reg [63:0] q_base_reg;
reg [15:0] q_size_reg;
reg [31:0] q_attr_reg;
reg q_cmd_valid_reg;
reg [2:0] q_cmd_op_reg;

reg [31:0] db_err_reg;
reg [31:0] arb_reg;
reg [31:0] coalesce_reg;
reg [95:0] cd_reg;

reg cmd_pop_reg;
reg dma_res_pop_reg;

reg [7:0] epoch_reg;
reg [15:0] stale_cpl_reg;
reg shutdown_done_reg;
reg [15:0] wd_limit_reg;
reg [15:0] wd_count_reg;
reg fw_dead_reg;

reg [31:0] dma_ctrl_reg;
reg [23:0] dma_offset_reg;
reg [23:0] dma_length_reg;
reg [23:0] dma_cmd_len_reg;
reg [63:0] dma_dram_reg;

wire [15:0] waddr = s_axil_awaddr;
wire [15:0] raddr = s_axil_araddr;
wire do_write = w_state_reg == W_IDLE && s_axil_awvalid && s_axil_wvalid;
wire do_read = r_state_reg == R_IDLE && s_axil_arvalid;
wire [31:0] wmask = {{8{s_axil_wstrb[3]}}, {8{s_axil_wstrb[2]}}, {8{s_axil_wstrb[1]}}, {8{s_axil_wstrb[0]}}};
wire [31:0] wdata = s_axil_wdata & wmask;

// AXI protection bits carry nothing here
wire [5:0] unused_prot = {s_axil_awprot, s_axil_arprot};

assign s_axil_awready = do_write;
assign s_axil_wready = do_write;
assign s_axil_bresp = 2'b00;
assign s_axil_bvalid = w_state_reg == W_RESP;
assign s_axil_arready = do_read;
assign s_axil_rdata = rdata_reg;
assign s_axil_rresp = 2'b00;
assign s_axil_rvalid = r_state_reg == R_RESP;

wire [5:0] irq_status = {dma_res_valid, irq_status_reg, cmd_valid};
assign fw_irq = (irq_status & irq_enable_reg) != 0;
assign fw_dma_irq = dma_res_valid;

assign epoch = epoch_reg;
assign shutdown_done = shutdown_done_reg;
assign fw_dead = fw_dead_reg;

wire us_tick;
wire wd_running = cmd_valid && ctrl_enabled;
timebase_pulse #(
    .PERIOD(US_CYCLES)
)
us_tick_inst (
    .clk(clk),
    .rst(rst),
    .enable(wd_running),
    .pulse(us_tick)
);

assign idle = w_state_reg == W_IDLE && r_state_reg == R_IDLE && !wd_running && !cmd_pop_reg
              && !dma_res_pop_reg && !q_cmd_valid_reg;

assign cmd_pop = cmd_pop_reg;
assign dma_res_pop = dma_res_pop_reg;
assign dma_req_valid = w_state_reg == W_DMA;
assign dma_req_slot = dma_ctrl_reg[SLOT_W-1:0];
assign dma_req_dir = dma_ctrl_reg[8];
assign dma_req_auto = dma_ctrl_reg[9];
assign dma_req_epoch = dma_ctrl_reg[31:24];
assign dma_req_cookie = dma_ctrl_reg[23:16];
assign dma_req_offset = dma_offset_reg;
assign dma_req_length = dma_length_reg;
assign dma_req_cmd_len = dma_cmd_len_reg;
assign dma_req_dram = dma_dram_reg;
assign sqe_rd_en = do_read && raddr[15:12] == 4'h1;
assign sqe_rd_slot = raddr[6+SLOT_W-1:6];
assign sqe_rd_dw = raddr[5:2];

assign cpl_valid = w_state_reg == W_POST;
assign cpl_slot = cpl_slot_reg;
assign cpl_status = cpl_status_reg;
assign cpl_dw0 = cpl_dw0_reg;
assign cpl_dw1 = cpl_dw1_reg;

assign q_cmd_valid = q_cmd_valid_reg;
assign q_cmd_op = q_cmd_op_reg;
assign q_sel = q_sel_reg;
assign q_base = q_base_reg[63:12];
assign q_size = q_size_reg;
assign q_map = q_attr_reg[16 +: QID_W];
assign q_prio = q_attr_reg[1:0];
assign q_ien = q_attr_reg[0];

assign arb_burst = arb_reg[2:0];
assign arb_lpw = arb_reg[15:8];
assign arb_mpw = arb_reg[23:16];
assign arb_hpw = arb_reg[31:24];
assign coalesce_thr = coalesce_reg[7:0];
assign coalesce_time = coalesce_reg[15:8];
assign coalesce_disable = cd_reg[QUEUE_COUNT-1:0];

always @(posedge clk) begin
    cmd_pop_reg <= 1'b0;
    dma_res_pop_reg <= 1'b0;
    q_cmd_valid_reg <= 1'b0;

    // events
    if (ctrl_reset) begin
        irq_status_reg[IRQ_RESET] <= 1'b1;
        epoch_reg <= epoch_reg + 8'd1;
        shutdown_done_reg <= 1'b0;
        fw_dead_reg <= 1'b0;
    end
    if (!shutdown_requested) begin
        shutdown_done_reg <= 1'b0;
    end

    // watchdog: the head of the command FIFO waits for the firmware
    if (!wd_running || cmd_pop_reg) begin
        wd_count_reg <= 16'd0;
    end else if (us_tick && wd_count_reg != 16'hffff) begin
        wd_count_reg <= wd_count_reg + 16'd1;
        if (wd_count_reg + 16'd1 == wd_limit_reg) begin
            fw_dead_reg <= 1'b1;
        end
    end
    enabled_seen_reg <= ctrl_enabled;
    if (ctrl_enabled && !enabled_seen_reg) begin
        irq_status_reg[IRQ_ENABLED] <= 1'b1;
    end
    shutdown_seen_reg <= shutdown_requested;
    if (shutdown_requested && !shutdown_seen_reg) begin
        irq_status_reg[IRQ_SHUTDOWN] <= 1'b1;
    end
    if (db_err_valid) begin
        irq_status_reg[IRQ_DB_ERR] <= 1'b1;
        if (!db_err_reg[31]) begin
            db_err_reg[31] <= 1'b1;
            db_err_reg[29:28] <= db_err_kind;
            db_err_reg[22:16] <= {{(7-QID_W){1'b0}}, db_err_qid};
            db_err_reg[8] <= db_err_is_cq;
        end
        if (db_err_reg[7:0] != 8'hff) begin
            db_err_reg[7:0] <= db_err_reg[7:0] + 8'd1;
        end
    end

    // writes
    case (w_state_reg)
        W_IDLE: begin
            if (do_write) begin
                w_state_reg <= W_RESP;
                case (waddr)
                    16'h0008: irq_status_reg <= irq_status_reg & ~wdata[4:1];
                    16'h000C: irq_enable_reg <= wdata[5:0];
                    16'h0014: shutdown_done_reg <= wdata[0] && shutdown_requested;
                    16'h001C: wd_limit_reg <= wdata[15:0];
                    16'h0104: cmd_pop_reg <= 1'b1;
                    16'h0200: cpl_dw0_reg <= wdata;
                    16'h0204: cpl_dw1_reg <= wdata;
                    16'h0208: begin
                        cpl_status_reg <= wdata[31:17];
                        cpl_slot_reg <= wdata[SLOT_W-1:0];
                        // a completion of an older reset generation never reaches a CQ
                        if (wdata[15:8] == epoch_reg) begin
                            w_state_reg <= W_POST;
                        end else if (stale_cpl_reg != 16'hffff) begin
                            stale_cpl_reg <= stale_cpl_reg + 16'd1;
                        end
                    end
                    16'h0300: q_sel_reg <= wdata[QID_W-1:0];
                    16'h0304: q_base_reg[31:0] <= wdata;
                    16'h0308: q_base_reg[63:32] <= wdata;
                    16'h030C: q_size_reg <= wdata[15:0];
                    16'h0310: q_attr_reg <= wdata;
                    16'h0314: begin
                        q_cmd_valid_reg <= {{(32-QID_W){1'b0}}, q_sel_reg} < QUEUE_COUNT;
                        q_cmd_op_reg <= wdata[2:0];
                    end
                    16'h0400: if (wdata[31]) db_err_reg <= 32'd0;
                    16'h0500: arb_reg <= wdata;
                    16'h0504: coalesce_reg <= wdata;
                    16'h0600: cd_reg[31:0] <= wdata;
                    16'h0604: cd_reg[63:32] <= wdata;
                    16'h0608: cd_reg[95:64] <= wdata;
                    16'h0700: dma_ctrl_reg <= wdata;
                    16'h0704: dma_offset_reg <= wdata[23:0];
                    16'h0708: dma_length_reg <= wdata[23:0];
                    16'h070C: dma_cmd_len_reg <= wdata[23:0];
                    16'h0710: dma_dram_reg[31:0] <= wdata;
                    16'h0714: dma_dram_reg[63:32] <= wdata;
                    16'h0718: if (dma_present) w_state_reg <= W_DMA;
                    default: ;
                endcase
            end
        end
        W_POST: begin
            if (cpl_ready) begin
                w_state_reg <= W_RESP;
            end
        end
        W_DMA: begin
            if (dma_req_ready) begin
                w_state_reg <= W_RESP;
            end
        end
        W_RESP: begin
            if (s_axil_bready) begin
                w_state_reg <= W_IDLE;
            end
        end
        default: w_state_reg <= W_IDLE;
    endcase

    // reads
    case (r_state_reg)
        R_IDLE: begin
            if (do_read) begin
                r_state_reg <= R_RESP;
                case (raddr)
                    16'h0000: rdata_reg <= FW_ID;
                    16'h0004: rdata_reg <= {8'd0, {(7-SLOT_W){1'b0}}, cmd_count, epoch_reg, 2'd0, fw_dead_reg,
                                            shutdown_complete, shutdown_abrupt, shutdown_requested,
                                            ctrl_resetting, ctrl_enabled};
                    16'h0008: rdata_reg <= {26'd0, irq_status};
                    16'h000C: rdata_reg <= {26'd0, irq_enable_reg};
                    16'h0010: rdata_reg <= {MQES, IO_QUEUE_PAIRS[7:0], SLOT_COUNT[7:0]};
                    16'h0014: rdata_reg <= {31'd0, shutdown_done_reg};
                    16'h0018: rdata_reg <= {16'd0, stale_cpl_reg};
                    16'h001C: rdata_reg <= {16'd0, wd_limit_reg};
                    // slot and SQ id of an empty FIFO are stale: report zeros
                    16'h0100: rdata_reg <= cmd_valid ? {1'b1, 8'd0, {(7-QID_W){1'b0}}, cmd_sqid, epoch_reg,
                                                        {(8-SLOT_W){1'b0}}, cmd_slot} : 32'd0;
                    16'h0200: rdata_reg <= cpl_dw0_reg;
                    16'h0204: rdata_reg <= cpl_dw1_reg;
                    16'h020C: rdata_reg <= {31'd0, !poster_idle || w_state_reg == W_POST};
                    16'h0300: rdata_reg <= {{(32-QID_W){1'b0}}, q_sel_reg};
                    16'h0304: rdata_reg <= q_base_reg[31:0];
                    16'h0308: rdata_reg <= q_base_reg[63:32];
                    16'h030C: rdata_reg <= {16'd0, q_size_reg};
                    16'h0310: rdata_reg <= q_attr_reg;
                    16'h0318: rdata_reg <= q_sq_state;
                    16'h031C: rdata_reg <= q_cq_state;
                    16'h0320: rdata_reg <= q_tails;
                    16'h0400: rdata_reg <= db_err_reg;
                    16'h0500: rdata_reg <= arb_reg;
                    16'h0504: rdata_reg <= coalesce_reg;
                    16'h0600: rdata_reg <= cd_reg[31:0];
                    16'h0604: rdata_reg <= cd_reg[63:32];
                    16'h0608: rdata_reg <= cd_reg[95:64];
                    16'h0700: rdata_reg <= dma_ctrl_reg;
                    16'h0704: rdata_reg <= {8'd0, dma_offset_reg};
                    16'h0708: rdata_reg <= {8'd0, dma_length_reg};
                    16'h070C: rdata_reg <= {8'd0, dma_cmd_len_reg};
                    16'h0710: rdata_reg <= dma_dram_reg[31:0];
                    16'h0714: rdata_reg <= dma_dram_reg[63:32];
                    16'h071C: begin
                        // reading a result takes it
                        rdata_reg <= dma_res_data;
                        dma_res_pop_reg <= dma_res_valid;
                    end
                    16'h0720: rdata_reg <= {15'd0, dma_present, dma_in_flight, dma_res_count};
                    default: rdata_reg <= 32'd0;
                endcase
                if (raddr[15:12] == 4'h1) begin
                    r_state_reg <= R_SQE;
                end
            end
        end
        R_SQE: begin
            rdata_reg <= sqe_rd_data;
            r_state_reg <= R_RESP;
        end
        R_RESP: begin
            if (s_axil_rready) begin
                r_state_reg <= R_IDLE;
            end
        end
        default: r_state_reg <= R_IDLE;
    endcase

    if (rst) begin
        w_state_reg <= W_IDLE;
        r_state_reg <= R_IDLE;
        irq_status_reg <= 4'd0;
        irq_enable_reg <= 6'd0;
        enabled_seen_reg <= 1'b0;
        shutdown_seen_reg <= 1'b0;
        cpl_dw0_reg <= 32'd0;
        cpl_dw1_reg <= 32'd0;
        q_sel_reg <= 0;
        q_base_reg <= 64'd0;
        q_size_reg <= 16'd0;
        q_attr_reg <= 32'd0;
        db_err_reg <= 32'd0;
        arb_reg <= 32'h0000_0007;
        coalesce_reg <= 32'd0;
        cd_reg <= 96'd0;
        cmd_pop_reg <= 1'b0;
        dma_res_pop_reg <= 1'b0;
        q_cmd_valid_reg <= 1'b0;
        dma_ctrl_reg <= 32'd0;
        dma_offset_reg <= 24'd0;
        dma_length_reg <= 24'd0;
        dma_cmd_len_reg <= 24'd0;
        dma_dram_reg <= 64'd0;
        epoch_reg <= 8'd0;
        stale_cpl_reg <= 16'd0;
        shutdown_done_reg <= 1'b0;
        wd_limit_reg <= WATCHDOG_US;
        wd_count_reg <= 16'd0;
        fw_dead_reg <= 1'b0;
    end
end

endmodule

`resetall
