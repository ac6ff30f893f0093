`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Firmware mailbox: the AXI4-Lite slave through which the controller's
 * firmware takes commands, posts completions, programs queues and settings,
 * and learns of controller events. Register map: contract/fw_mailbox.rdl
 * (offsets and fields from rtl/include/nvme_fw_mailbox_regs.vh, tables in
 * docs/regs/nvme_fw_mailbox.md).
 *
 * One access at a time. A CPL_POST write is answered only once the CQ
 * poster has taken the completion, so a completion is never lost; a
 * Q_SQ_DOORBELL or Q_CQ_DOORBELL write once the queue table has taken the
 * doorbell (an MMIO doorbell in the same cycle goes first).
 *
 * Controllers: one per PCIe physical function (FUNCTIONS), sharing the
 * command FIFO, the queue table (QUEUE_COUNT entries, each one controller's
 * queue pair: Q_MAP) and the engines. Vector v of controller f is
 * f x CTRL_QUEUES + v. FW_CTRL_STATUS is
 * controller 0's state, FN_STATUS[f] controller f's; FN_EVENTS says which
 * controllers an ENABLED, CTRL_RESET or SHUTDOWN event came from.
 *
 * Reset generations: every reset (CC.EN 1->0) of a controller advances its
 * 8-bit epoch. CMD_INFO hands each command out with the epoch of its
 * controller it was fetched in; a completion or a DMA request must name
 * that epoch. The CQ poster drops a completion of another epoch than its
 * slot's, or of an older epoch than its controller's (counted in FW_STALE
 * here); the DMA engine refuses a request of an older epoch without
 * touching memory. A firmware task that outlives a reset therefore cannot
 * reach the host, whatever it does.
 *
 * Watchdog: while a command waits at the head of the FIFO and the controller
 * is enabled, a counter runs in microseconds; a pop restarts it. When it
 * reaches FW_WATCHDOG the firmware is taken for dead: fw_dead rises (the
 * controller reports CSTS.CFS and stops moving data) until the controller
 * reset. FW_WATCHDOG 0 disarms it.
 */
module nvme_fw_mailbox #
(
    // Controllers (PCIe physical functions)
    parameter FUNCTIONS = 1,
    // Queue ids of one controller, its admin queue included, and their width
    parameter CTRL_QUEUES = 65,
    parameter LQID_W = $clog2(CTRL_QUEUES),
    // Queue table entries: the queue pairs every controller's queues are drawn from
    parameter QUEUE_COUNT = FUNCTIONS * CTRL_QUEUES,
    // Queue table entry width
    parameter QID_W = $clog2(QUEUE_COUNT),
    // Interrupt vectors of every controller (CTRL_QUEUES each), and their width
    parameter VECTORS = FUNCTIONS * CTRL_QUEUES,
    parameter VEC_W = $clog2(VECTORS),
    // Command slots
    parameter SLOTS = 64,
    // Slot id width
    parameter SLOT_W = $clog2(SLOTS),
    // CAP.MQES, reported to the firmware
    parameter [15:0] MQES = 16'd4095,
    // Clock cycles per microsecond (the watchdog's time base)
    parameter US_CYCLES = 250
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
     * Each controller's state and events, and its reset epoch
     */
    input  wire [FUNCTIONS-1:0]     ctrl_enabled,
    input  wire [FUNCTIONS-1:0]     ctrl_resetting,
    input  wire [3*FUNCTIONS-1:0]   cc_css,
    input  wire [FUNCTIONS-1:0]     ctrl_reset,
    input  wire [FUNCTIONS-1:0]     shutdown_requested,
    input  wire [FUNCTIONS-1:0]     shutdown_abrupt,
    input  wire [FUNCTIONS-1:0]     shutdown_complete,
    output wire [FUNCTIONS-1:0]     shutdown_done,
    output wire [8*FUNCTIONS-1:0]   epoch,
    // the most command slots each controller may hold (FN_SLOT_QUOTA)
    output wire [8*FUNCTIONS-1:0]   slot_quota,
    output wire                     fw_dead,
    // no access in progress and no command waiting for the firmware (the watchdog idle)
    output wire                     idle,

    /*
     * Command table
     */
    input  wire                     cmd_valid,
    input  wire [SLOT_W-1:0]        cmd_slot,
    input  wire [QID_W-1:0]         cmd_sqid,
    input  wire [7:0]               cmd_epoch,
    input  wire [1:0]               cmd_function,
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
    output wire [7:0]               cpl_epoch,
    input  wire                     poster_idle,
    // the poster dropped a completion for its epoch
    input  wire                     cpl_stale,

    /*
     * Queue programming
     */
    output wire                     q_cmd_valid,
    output wire [2:0]               q_cmd_op,
    output wire [QID_W-1:0]         q_sel,
    output wire [63:12]             q_base,
    output wire [15:0]              q_size,
    output wire [QID_W-1:0]         q_map,
    output wire [VEC_W-1:0]         q_vector,
    output wire [1:0]               q_prio,
    output wire                     q_ien,
    input  wire                     q_sq_valid,
    input  wire                     q_sq_fetching,
    input  wire [15:0]              q_sq_head,
    input  wire [15:0]              q_sq_tail,
    input  wire                     q_cq_valid,
    input  wire                     q_cq_full,
    input  wire                     q_cq_phase,
    input  wire [15:0]              q_cq_tail,
    input  wire [15:0]              q_cq_head,
    // mapping the selected entry to a controller's queue pair (Q_MAP), and its mapping
    output wire                     q_map_valid,
    output wire                     q_map_on,
    output wire [1:0]               q_map_function,
    output wire [LQID_W-1:0]        q_map_lqid,
    input  wire                     q_mapped,
    input  wire [1:0]               q_mapped_function,
    input  wire [LQID_W-1:0]        q_mapped_lqid,

    /*
     * Invalid doorbell writes
     */
    // the firmware's compare-and-set doorbell of queue q_sel (Q_SQ_DOORBELL, Q_CQ_DOORBELL), held until taken
    output wire                     fw_db_valid,
    input  wire                     fw_db_ready,
    output wire                     fw_db_is_cq,
    output wire [15:0]              fw_db_expect,
    output wire [15:0]              fw_db_value,
    input  wire                     db_err_valid,
    input  wire [1:0]               db_err_kind,
    // the queue written: f x CTRL_QUEUES + its id within controller f
    input  wire [VEC_W-1:0]         db_err_qid,
    input  wire                     db_err_is_cq,

    /*
     * Settings
     */
    // each controller's Arbitration feature (ARB[f])
    output wire [3*FUNCTIONS-1:0]   arb_burst,
    output wire [8*FUNCTIONS-1:0]   arb_lpw,
    output wire [8*FUNCTIONS-1:0]   arb_mpw,
    output wire [8*FUNCTIONS-1:0]   arb_hpw,
    // each controller's Interrupt Coalescing (COALESCE[f])
    output wire [8*FUNCTIONS-1:0]   coalesce_thr,
    output wire [8*FUNCTIONS-1:0]   coalesce_time,
    output wire [VECTORS-1:0]       coalesce_disable,

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
    // DMA_CTRL.HOST: the request moves bytes of the host buffer at dma_req_host, not the command's data
    output wire                     dma_req_host_buf,
    output wire [63:0]              dma_req_host,
    // DMA_CTRL.AT: the PCIe Address Type of the request's memory requests (ATS)
    output wire [1:0]               dma_req_at,
    // DMA_CTRL.FN_SEL with HOST: the request is controller dma_req_fn's, not its slot's controller's
    output wire                     dma_req_fn_sel,
    output wire [1:0]               dma_req_fn,
    input  wire                     dma_res_valid,
    output wire                     dma_res_pop,
    input  wire                     dma_res_auto,
    input  wire [7:0]               dma_res_cookie,
    input  wire [7:0]               dma_res_status,
    input  wire [SLOT_W-1:0]        dma_res_slot,
    input  wire [7:0]               dma_res_count,
    input  wire [7:0]               dma_in_flight
);

`include "nvme_fw_mailbox_regs.vh"

initial begin
    if (SLOT_W > CMD_INFO_SLOT_W || QID_W > CMD_INFO_SQID_W || SLOTS > 255 || QUEUE_COUNT > 128) begin
        $error("Error: CMD_INFO and FW_PARAMS hold at most 255 slots and 128 queue table entries (instance %m)");
        $finish;
    end
    if (FUNCTIONS < 1 || FUNCTIONS > FN_STATUS_COUNT || FUNCTIONS > COALESCE_COUNT || FUNCTIONS > ARB_COUNT
            || VECTORS != FUNCTIONS * CTRL_QUEUES || VECTORS > 32 * COALESCE_DISABLE_COUNT
            || LQID_W > Q_MAP_QID_W || VEC_W > DB_ERR_QID_W || VEC_W > Q_ATTR_ID_W) begin
        $error("Error: 1 to 4 controllers of CTRL_QUEUES queues and vectors each, as many vectors as COALESCE_DISABLE holds (instance %m)");
        $finish;
    end
    if (US_CYCLES < 1) begin
        $error("Error: US_CYCLES must be at least 1 (instance %m)");
        $finish;
    end
end

// A field's value in its place in a register word
function [31:0] place(input [31:0] value, input integer lsb);
    place = value << lsb;
endfunction

localparam [2:0]
    W_IDLE = 3'd0,
    W_POST = 3'd1,
    W_RESP = 3'd2,
    W_DMA = 3'd3,
    W_DB = 3'd4;

localparam [1:0]
    R_IDLE = 2'd0,
    R_SQE = 2'd1,
    R_RESP = 2'd2;

reg [2:0] w_state_reg;
reg [1:0] r_state_reg;
reg [31:0] rdata_reg;

// sticky FW_IRQ_STATUS events in their places (the level bits are the FIFOs')
reg [31:0] irq_event_reg;
reg [31:0] irq_enable_reg;

reg [31:0] cpl_dw0_reg;
reg [31:0] cpl_dw1_reg;
reg [SLOT_W-1:0] cpl_slot_reg;
reg [14:0] cpl_status_reg;

reg [QID_W-1:0] q_sel_reg;
reg q_map_valid_reg;
reg [31:0] q_map_word_reg;
reg [63:0] q_base_reg;
reg [15:0] q_size_reg;
reg [31:0] q_attr_reg;
reg q_cmd_valid_reg;
reg [2:0] q_cmd_op_reg;

reg fw_db_is_cq_reg;
reg [31:0] fw_db_word_reg;
reg [31:0] db_err_reg;
reg [32*ARB_COUNT-1:0] arb_reg;
reg [32*COALESCE_COUNT-1:0] coalesce_reg;
reg [95:0] cd_reg;

reg cmd_pop_reg;
reg dma_res_pop_reg;

reg [8*FUNCTIONS-1:0] epoch_reg;
reg [15:0] stale_cpl_reg;
reg [FUNCTIONS-1:0] shutdown_done_reg;
reg [FUNCTIONS-1:0] enabled_seen_reg;
reg [FUNCTIONS-1:0] shutdown_seen_reg;
reg [31:0] fn_events_reg;
reg [7:0] cpl_epoch_reg;
reg [31:0] slot_quota_reg;
reg [15:0] wd_limit_reg;
reg [15:0] wd_count_reg;
reg fw_dead_reg;

reg [31:0] dma_ctrl_reg;
reg [23:0] dma_offset_reg;
reg [23:0] dma_length_reg;
reg [23:0] dma_cmd_len_reg;
reg [63:0] dma_dram_reg;
reg [63:0] dma_host_reg;

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

wire [31:0] irq_status = irq_event_reg | place({31'd0, cmd_valid}, FW_IRQ_STATUS_COMMAND)
                         | place({31'd0, dma_res_valid}, FW_IRQ_STATUS_DMA_RESULT);

// read-only words: each controller's status (FW_CTRL_STATUS is controller 0's; FN_STATUS has the same
// layout), with the subsystem's FW_DEAD and CMD_COUNT; an absent controller's reads as zero
reg [32*FN_STATUS_COUNT-1:0] fn_status_words;
integer fs;
always @* begin
    fn_status_words = 0;
    for (fs = 0; fs < FUNCTIONS; fs = fs + 1) begin
        fn_status_words[32*fs +: 32] = place({31'd0, ctrl_enabled[fs]}, FW_CTRL_STATUS_ENABLED)
            | place({31'd0, ctrl_resetting[fs]}, FW_CTRL_STATUS_RESETTING)
            | place({31'd0, shutdown_requested[fs]}, FW_CTRL_STATUS_SHUTDOWN_REQ)
            | place({31'd0, shutdown_abrupt[fs]}, FW_CTRL_STATUS_ABRUPT)
            | place({31'd0, shutdown_complete[fs]}, FW_CTRL_STATUS_SHUTDOWN_DONE)
            | place({31'd0, fw_dead_reg}, FW_CTRL_STATUS_FW_DEAD)
            | place({24'd0, epoch_reg[8*fs +: 8]}, FW_CTRL_STATUS_EPOCH)
            | place({29'd0, cc_css[3*fs +: 3]}, FW_CTRL_STATUS_CSS)
            | place({{(31-SLOT_W){1'b0}}, cmd_count}, FW_CTRL_STATUS_CMD_COUNT);
    end
end
wire [31:0] params_word = place(SLOTS, FW_PARAMS_CMD_SLOTS) | place(CTRL_QUEUES - 1, FW_PARAMS_IO_QUEUES)
    | place({16'd0, MQES}, FW_PARAMS_MQES);
// slot and SQ id of an empty FIFO are stale: report zeros
wire [31:0] cmd_info_word = !cmd_valid ? 32'd0 : place(32'd1, CMD_INFO_VALID)
    | place({{(32-QID_W){1'b0}}, cmd_sqid}, CMD_INFO_SQID) | place({24'd0, cmd_epoch}, CMD_INFO_EPOCH)
    | place({30'd0, cmd_function}, CMD_INFO_FUNCTION)
    | place({{(32-SLOT_W){1'b0}}, cmd_slot}, CMD_INFO_SLOT);
wire [31:0] sq_state_word = place({31'd0, q_sq_valid}, Q_SQ_STATE_VALID)
    | place({31'd0, q_sq_fetching}, Q_SQ_STATE_FETCHING) | place({16'd0, q_sq_head}, Q_SQ_STATE_HEAD);
wire [31:0] cq_state_word = place({31'd0, q_cq_valid}, Q_CQ_STATE_VALID) | place({31'd0, q_cq_full}, Q_CQ_STATE_FULL)
    | place({31'd0, q_cq_phase}, Q_CQ_STATE_PHASE) | place({16'd0, q_cq_tail}, Q_CQ_STATE_TAIL);
wire [31:0] map_word = place({31'd0, q_mapped}, Q_MAP_MAPPED) | place({30'd0, q_mapped_function}, Q_MAP_FUNCTION)
    | place({{(32-LQID_W){1'b0}}, q_mapped_lqid}, Q_MAP_QID);
wire [31:0] tails_word = place({16'd0, q_cq_head}, Q_TAILS_CQ_HEAD) | place({16'd0, q_sq_tail}, Q_TAILS_SQ_TAIL);
wire [31:0] dma_result_word = !dma_res_valid ? 32'd0 : place(32'd1, DMA_RESULT_VALID)
    | place({31'd0, dma_res_auto}, DMA_RESULT_AUTO) | place({24'd0, dma_res_cookie}, DMA_RESULT_COOKIE)
    | place({24'd0, dma_res_status}, DMA_RESULT_STATUS) | place({{(32-SLOT_W){1'b0}}, dma_res_slot}, DMA_RESULT_SLOT);
wire [31:0] dma_status_word = place({31'd0, dma_present}, DMA_STATUS_PRESENT)
    | place({24'd0, dma_in_flight}, DMA_STATUS_IN_FLIGHT) | place({24'd0, dma_res_count}, DMA_STATUS_RESULTS);
assign fw_irq = (irq_status & irq_enable_reg) != 0;
assign fw_dma_irq = dma_res_valid;

assign epoch = epoch_reg;
assign slot_quota = slot_quota_reg[8*FUNCTIONS-1:0];
generate
    if (FUNCTIONS < 4) begin : absent_quotas
        wire [31-8*FUNCTIONS:0] unused_quota = slot_quota_reg[31:8*FUNCTIONS];
    end
endgenerate
assign shutdown_done = shutdown_done_reg;
assign fw_dead = fw_dead_reg;

wire us_tick;
wire wd_running = cmd_valid && ctrl_enabled != 0;
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
              && !dma_res_pop_reg && !q_cmd_valid_reg && !q_map_valid_reg;

assign cmd_pop = cmd_pop_reg;
assign dma_res_pop = dma_res_pop_reg;
assign dma_req_valid = w_state_reg == W_DMA;
assign dma_req_slot = dma_ctrl_reg[DMA_CTRL_SLOT +: SLOT_W];
assign dma_req_dir = dma_ctrl_reg[DMA_CTRL_DIR];
assign dma_req_auto = dma_ctrl_reg[DMA_CTRL_AUTO];
assign dma_req_epoch = dma_ctrl_reg[DMA_CTRL_EPOCH +: 8];
assign dma_req_cookie = dma_ctrl_reg[DMA_CTRL_COOKIE +: 8];
assign dma_req_offset = dma_offset_reg;
assign dma_req_length = dma_length_reg;
assign dma_req_cmd_len = dma_cmd_len_reg;
assign dma_req_dram = dma_dram_reg;
assign dma_req_host_buf = dma_ctrl_reg[DMA_CTRL_HOST];
assign dma_req_host = dma_host_reg;
assign dma_req_at = dma_ctrl_reg[DMA_CTRL_AT +: DMA_CTRL_AT_W];
assign dma_req_fn_sel = dma_ctrl_reg[DMA_CTRL_FN_SEL] && dma_ctrl_reg[DMA_CTRL_HOST];
assign dma_req_fn = dma_ctrl_reg[DMA_CTRL_FN +: DMA_CTRL_FN_W];
// the SQE window: 64 bytes per slot
wire [15:0] sqe_offset = raddr - SQE;
wire in_sqe_window = raddr >= SQE && {16'd0, sqe_offset} < SQE_SIZE;
assign sqe_rd_en = do_read && in_sqe_window;
assign sqe_rd_slot = sqe_offset[6 +: SLOT_W];
assign sqe_rd_dw = sqe_offset[5:2];

assign cpl_valid = w_state_reg == W_POST;
assign cpl_slot = cpl_slot_reg;
assign cpl_status = cpl_status_reg;
assign cpl_dw0 = cpl_dw0_reg;
assign cpl_dw1 = cpl_dw1_reg;
assign cpl_epoch = cpl_epoch_reg;

assign fw_db_valid = w_state_reg == W_DB;
assign fw_db_is_cq = fw_db_is_cq_reg;
assign fw_db_expect = fw_db_word_reg[Q_SQ_DOORBELL_EXPECT +: 16];
assign fw_db_value = fw_db_word_reg[Q_SQ_DOORBELL_VALUE +: 16];

assign q_cmd_valid = q_cmd_valid_reg;
assign q_cmd_op = q_cmd_op_reg;
assign q_sel = q_sel_reg;
assign q_base = q_base_reg[63:12];
assign q_size = q_size_reg;
assign q_map = q_attr_reg[Q_ATTR_ID +: QID_W];
assign q_vector = q_attr_reg[Q_ATTR_ID +: VEC_W];
assign q_map_valid = q_map_valid_reg;
assign q_map_on = q_map_word_reg[Q_MAP_MAPPED];
assign q_map_function = q_map_word_reg[Q_MAP_FUNCTION +: 2];
assign q_map_lqid = q_map_word_reg[Q_MAP_QID +: LQID_W];
assign q_prio = q_attr_reg[Q_ATTR_MODE +: 2];
assign q_ien = q_attr_reg[Q_ATTR_MODE];

genvar fc;
generate
    for (fc = 0; fc < FUNCTIONS; fc = fc + 1) begin : coalescing
        assign coalesce_thr[8*fc +: 8] = coalesce_reg[32*fc + COALESCE_THR +: 8];
        assign coalesce_time[8*fc +: 8] = coalesce_reg[32*fc + COALESCE_TIME +: 8];
        assign arb_burst[3*fc +: 3] = arb_reg[32*fc + ARB_AB +: 3];
        assign arb_lpw[8*fc +: 8] = arb_reg[32*fc + ARB_LPW +: 8];
        assign arb_mpw[8*fc +: 8] = arb_reg[32*fc + ARB_MPW +: 8];
        assign arb_hpw[8*fc +: 8] = arb_reg[32*fc + ARB_HPW +: 8];
    end
    if (FUNCTIONS < ARB_COUNT) begin : absent_arbitration
        wire [32*(ARB_COUNT-FUNCTIONS)-1:0] unused_arb = arb_reg[32*ARB_COUNT-1:32*FUNCTIONS];
    end
    if (FUNCTIONS < COALESCE_COUNT) begin : absent_coalescing
        wire [32*(COALESCE_COUNT-FUNCTIONS)-1:0] unused_coalesce = coalesce_reg[32*COALESCE_COUNT-1:32*FUNCTIONS];
    end
endgenerate
assign coalesce_disable = cd_reg[VECTORS-1:0];

// events of this cycle: set in FW_IRQ_STATUS and FN_EVENTS even if the firmware clears others meanwhile
wire [FUNCTIONS-1:0] enabled_event = ctrl_enabled & ~enabled_seen_reg;
wire [FUNCTIONS-1:0] shutdown_event = shutdown_requested & ~shutdown_seen_reg;
wire [31:0] fn_set = place({{(32-FUNCTIONS){1'b0}}, enabled_event}, FN_EVENTS_ENABLED)
    | place({{(32-FUNCTIONS){1'b0}}, ctrl_reset}, FN_EVENTS_CTRL_RESET)
    | place({{(32-FUNCTIONS){1'b0}}, shutdown_event}, FN_EVENTS_SHUTDOWN);
wire [31:0] irq_set = place({31'd0, enabled_event != 0}, FW_IRQ_STATUS_ENABLED)
    | place({31'd0, ctrl_reset != 0}, FW_IRQ_STATUS_CTRL_RESET)
    | place({31'd0, shutdown_event != 0}, FW_IRQ_STATUS_SHUTDOWN)
    | place({31'd0, db_err_valid}, FW_IRQ_STATUS_DB_ERROR);

integer e;
always @(posedge clk) begin
    cmd_pop_reg <= 1'b0;
    dma_res_pop_reg <= 1'b0;
    q_cmd_valid_reg <= 1'b0;
    q_map_valid_reg <= 1'b0;

    // events
    irq_event_reg <= irq_event_reg | irq_set;
    fn_events_reg <= fn_events_reg | fn_set;
    enabled_seen_reg <= ctrl_enabled;
    shutdown_seen_reg <= shutdown_requested;
    for (e = 0; e < FUNCTIONS; e = e + 1) begin
        if (ctrl_reset[e]) begin
            epoch_reg[8*e +: 8] <= epoch_reg[8*e +: 8] + 8'd1;
            shutdown_done_reg[e] <= 1'b0;
            // the firmware gets another chance with the reset of any controller
            fw_dead_reg <= 1'b0;
        end
        if (!shutdown_requested[e]) begin
            shutdown_done_reg[e] <= 1'b0;
        end
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
    if (cpl_stale && stale_cpl_reg != 16'hffff) begin
        stale_cpl_reg <= stale_cpl_reg + 16'd1;
    end
    if (db_err_valid) begin
        if (!db_err_reg[DB_ERR_VALID]) begin
            db_err_reg[DB_ERR_VALID] <= 1'b1;
            db_err_reg[DB_ERR_KIND +: 2] <= db_err_kind;
            db_err_reg[DB_ERR_QID +: VEC_W] <= db_err_qid;
            db_err_reg[DB_ERR_IS_CQ] <= db_err_is_cq;
        end
        if (db_err_reg[DB_ERR_WRITES +: 8] != 8'hff) begin
            db_err_reg[DB_ERR_WRITES +: 8] <= db_err_reg[DB_ERR_WRITES +: 8] + 8'd1;
        end
    end

    // writes
    case (w_state_reg)
        W_IDLE: begin
            if (do_write) begin
                w_state_reg <= W_RESP;
                case (waddr)
                    FW_IRQ_STATUS: irq_event_reg <= (irq_event_reg & ~(wdata & FW_IRQ_STATUS_WMASK)) | irq_set;
                    FN_EVENTS: fn_events_reg <= (fn_events_reg & ~(wdata & FN_EVENTS_WMASK)) | fn_set;
                    FN_SLOT_QUOTA: slot_quota_reg <= (slot_quota_reg & ~wmask) | wdata;
                    FW_IRQ_ENABLE: irq_enable_reg <= wdata & FW_IRQ_ENABLE_WMASK;
                    FW_SHUTDOWN: shutdown_done_reg <= shutdown_done_reg
                                                      | (wdata[FW_SHUTDOWN_DONE +: FUNCTIONS] & shutdown_requested);
                    FW_WATCHDOG: wd_limit_reg <= wdata[FW_WATCHDOG_LIMIT_US +: 16];
                    CMD_POP: cmd_pop_reg <= 1'b1;
                    CPL_DW0: cpl_dw0_reg <= wdata;
                    CPL_DW1: cpl_dw1_reg <= wdata;
                    CPL_POST: begin
                        // the poster drops a completion of another reset generation
                        cpl_status_reg <= wdata[CPL_POST_STATUS +: 15];
                        cpl_slot_reg <= wdata[CPL_POST_SLOT +: SLOT_W];
                        cpl_epoch_reg <= wdata[CPL_POST_EPOCH +: 8];
                        w_state_reg <= W_POST;
                    end
                    Q_SEL: q_sel_reg <= wdata[Q_SEL_QID +: QID_W];
                    Q_BASE_LO: q_base_reg[31:0] <= wdata;
                    Q_BASE_HI: q_base_reg[63:32] <= wdata;
                    Q_SIZE: q_size_reg <= wdata[Q_SIZE_ENTRIES +: 16];
                    Q_ATTR: q_attr_reg <= wdata & Q_ATTR_WMASK;
                    Q_CMD: begin
                        q_cmd_valid_reg <= {{(32-QID_W){1'b0}}, q_sel_reg} < QUEUE_COUNT;
                        q_cmd_op_reg <= wdata[Q_CMD_OP +: 3];
                    end
                    Q_MAP: begin
                        q_map_valid_reg <= {{(32-QID_W){1'b0}}, q_sel_reg} < QUEUE_COUNT;
                        q_map_word_reg <= wdata & Q_MAP_WMASK;
                    end
                    Q_SQ_DOORBELL, Q_CQ_DOORBELL: begin
                        fw_db_is_cq_reg <= waddr == Q_CQ_DOORBELL;
                        fw_db_word_reg <= wdata;
                        w_state_reg <= W_DB;
                    end
                    DB_ERR: if (wdata[DB_ERR_VALID]) db_err_reg <= 32'd0;
                    ARB: arb_reg[31:0] <= wdata & ARB_WMASK;
                    ARB + ARB_STRIDE[15:0]: arb_reg[63:32] <= wdata & ARB_WMASK;
                    ARB + 2 * ARB_STRIDE[15:0]: arb_reg[95:64] <= wdata & ARB_WMASK;
                    ARB + 3 * ARB_STRIDE[15:0]: arb_reg[127:96] <= wdata & ARB_WMASK;
                    COALESCE: coalesce_reg[31:0] <= wdata & COALESCE_WMASK;
                    COALESCE + COALESCE_STRIDE[15:0]: coalesce_reg[63:32] <= wdata & COALESCE_WMASK;
                    COALESCE + 2 * COALESCE_STRIDE[15:0]: coalesce_reg[95:64] <= wdata & COALESCE_WMASK;
                    COALESCE + 3 * COALESCE_STRIDE[15:0]: coalesce_reg[127:96] <= wdata & COALESCE_WMASK;
                    COALESCE_DISABLE: cd_reg[31:0] <= wdata;
                    COALESCE_DISABLE + COALESCE_DISABLE_STRIDE[15:0]: cd_reg[63:32] <= wdata;
                    COALESCE_DISABLE + 2 * COALESCE_DISABLE_STRIDE[15:0]: cd_reg[95:64] <= wdata;
                    DMA_CTRL: dma_ctrl_reg <= wdata & DMA_CTRL_WMASK;
                    DMA_OFFSET: dma_offset_reg <= wdata[DMA_OFFSET_BYTES +: 24];
                    DMA_LENGTH: dma_length_reg <= wdata[DMA_LENGTH_BYTES +: 24];
                    DMA_CMD_LEN: dma_cmd_len_reg <= wdata[DMA_CMD_LEN_BYTES +: 24];
                    DMA_DRAM_LO: dma_dram_reg[31:0] <= wdata;
                    DMA_DRAM_HI: dma_dram_reg[63:32] <= wdata;
                    DMA_HOST_LO: dma_host_reg[31:0] <= wdata;
                    DMA_HOST_HI: dma_host_reg[63:32] <= wdata;
                    DMA_POST: if (dma_present) w_state_reg <= W_DMA;
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
        W_DB: begin
            if (fw_db_ready) begin
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
                    FW_ID: rdata_reg <= FW_ID_MAGIC_VALUE;
                    FW_CTRL_STATUS: rdata_reg <= fn_status_words[31:0];
                    FN_STATUS: rdata_reg <= fn_status_words[31:0];
                    FN_STATUS + FN_STATUS_STRIDE[15:0]: rdata_reg <= fn_status_words[63:32];
                    FN_STATUS + 2 * FN_STATUS_STRIDE[15:0]: rdata_reg <= fn_status_words[95:64];
                    FN_STATUS + 3 * FN_STATUS_STRIDE[15:0]: rdata_reg <= fn_status_words[127:96];
                    FN_EVENTS: rdata_reg <= fn_events_reg;
                    FN_SLOT_QUOTA: rdata_reg <= slot_quota_reg;
                    FW_FUNCTIONS: rdata_reg <= place(FUNCTIONS, FW_FUNCTIONS_FUNCTIONS)
                                               | place(QUEUE_COUNT, FW_FUNCTIONS_ENTRIES);
                    FW_IRQ_STATUS: rdata_reg <= irq_status;
                    FW_IRQ_ENABLE: rdata_reg <= irq_enable_reg;
                    FW_PARAMS: rdata_reg <= params_word;
                    FW_SHUTDOWN: rdata_reg <= place({{(32-FUNCTIONS){1'b0}}, shutdown_done_reg}, FW_SHUTDOWN_DONE);
                    FW_STALE: rdata_reg <= place({16'd0, stale_cpl_reg}, FW_STALE_DROPPED);
                    FW_WATCHDOG: rdata_reg <= place({16'd0, wd_limit_reg}, FW_WATCHDOG_LIMIT_US);
                    CMD_INFO: rdata_reg <= cmd_info_word;
                    CPL_DW0: rdata_reg <= cpl_dw0_reg;
                    CPL_DW1: rdata_reg <= cpl_dw1_reg;
                    CPL_STATUS: rdata_reg <= place({31'd0, !poster_idle || w_state_reg == W_POST}, CPL_STATUS_BUSY);
                    Q_SEL: rdata_reg <= place({{(32-QID_W){1'b0}}, q_sel_reg}, Q_SEL_QID);
                    Q_BASE_LO: rdata_reg <= q_base_reg[31:0];
                    Q_BASE_HI: rdata_reg <= q_base_reg[63:32];
                    Q_SIZE: rdata_reg <= place({16'd0, q_size_reg}, Q_SIZE_ENTRIES);
                    Q_ATTR: rdata_reg <= q_attr_reg;
                    Q_SQ_STATE: rdata_reg <= sq_state_word;
                    Q_CQ_STATE: rdata_reg <= cq_state_word;
                    Q_TAILS: rdata_reg <= tails_word;
                    Q_MAP: rdata_reg <= map_word;
                    DB_ERR: rdata_reg <= db_err_reg;
                    ARB: rdata_reg <= arb_reg[31:0];
                    ARB + ARB_STRIDE[15:0]: rdata_reg <= arb_reg[63:32];
                    ARB + 2 * ARB_STRIDE[15:0]: rdata_reg <= arb_reg[95:64];
                    ARB + 3 * ARB_STRIDE[15:0]: rdata_reg <= arb_reg[127:96];
                    COALESCE: rdata_reg <= coalesce_reg[31:0];
                    COALESCE + COALESCE_STRIDE[15:0]: rdata_reg <= coalesce_reg[63:32];
                    COALESCE + 2 * COALESCE_STRIDE[15:0]: rdata_reg <= coalesce_reg[95:64];
                    COALESCE + 3 * COALESCE_STRIDE[15:0]: rdata_reg <= coalesce_reg[127:96];
                    COALESCE_DISABLE: rdata_reg <= cd_reg[31:0];
                    COALESCE_DISABLE + COALESCE_DISABLE_STRIDE[15:0]: rdata_reg <= cd_reg[63:32];
                    COALESCE_DISABLE + 2 * COALESCE_DISABLE_STRIDE[15:0]: rdata_reg <= cd_reg[95:64];
                    DMA_CTRL: rdata_reg <= dma_ctrl_reg;
                    DMA_OFFSET: rdata_reg <= place({8'd0, dma_offset_reg}, DMA_OFFSET_BYTES);
                    DMA_LENGTH: rdata_reg <= place({8'd0, dma_length_reg}, DMA_LENGTH_BYTES);
                    DMA_CMD_LEN: rdata_reg <= place({8'd0, dma_cmd_len_reg}, DMA_CMD_LEN_BYTES);
                    DMA_DRAM_LO: rdata_reg <= dma_dram_reg[31:0];
                    DMA_DRAM_HI: rdata_reg <= dma_dram_reg[63:32];
                    DMA_HOST_LO: rdata_reg <= dma_host_reg[31:0];
                    DMA_HOST_HI: rdata_reg <= dma_host_reg[63:32];
                    DMA_RESULT: begin
                        // reading a result takes it
                        rdata_reg <= dma_result_word;
                        dma_res_pop_reg <= dma_res_valid;
                    end
                    DMA_STATUS: rdata_reg <= dma_status_word;
                    default: rdata_reg <= 32'd0;
                endcase
                if (in_sqe_window) begin
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
        irq_event_reg <= FW_IRQ_STATUS_RESET;
        irq_enable_reg <= FW_IRQ_ENABLE_RESET;
        enabled_seen_reg <= 0;
        shutdown_seen_reg <= 0;
        fn_events_reg <= FN_EVENTS_RESET;
        slot_quota_reg <= FN_SLOT_QUOTA_RESET;
        cpl_epoch_reg <= 8'd0;
        cpl_dw0_reg <= CPL_DW0_RESET;
        cpl_dw1_reg <= CPL_DW1_RESET;
        q_sel_reg <= 0;
        q_base_reg <= 64'd0;
        q_size_reg <= 16'd0;
        q_attr_reg <= Q_ATTR_RESET;
        db_err_reg <= 32'd0;
        arb_reg <= {ARB_COUNT{ARB_RESET}};
        coalesce_reg <= {COALESCE_COUNT{COALESCE_RESET}};
        cd_reg <= 96'd0;
        cmd_pop_reg <= 1'b0;
        dma_res_pop_reg <= 1'b0;
        q_cmd_valid_reg <= 1'b0;
        q_map_valid_reg <= 1'b0;
        q_map_word_reg <= Q_MAP_RESET;
        dma_ctrl_reg <= DMA_CTRL_RESET;
        dma_offset_reg <= 24'd0;
        dma_length_reg <= 24'd0;
        dma_cmd_len_reg <= 24'd0;
        dma_dram_reg <= 64'd0;
        dma_host_reg <= 64'd0;
        epoch_reg <= 0;
        stale_cpl_reg <= 16'd0;
        shutdown_done_reg <= 0;
        wd_limit_reg <= FW_WATCHDOG_RESET[FW_WATCHDOG_LIMIT_US +: 16];
        wd_count_reg <= 16'd0;
        fw_dead_reg <= 1'b0;
    end
end

endmodule

`resetall
