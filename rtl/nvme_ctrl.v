`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "nvme_ctrl_params.vh"

/*
 * NVMe controller front end behind the Xilinx UltraScale+ PCIe hard IP.
 * BAR0 holds the controller registers, the doorbells, the MSI-X table and
 * the PBA (contract/nvme_bar0.rdl). The parameters' defaults come from
 * contract/params.py (rtl/include/nvme_ctrl_params.vh).
 *
 * Each of FUNCTIONS physical functions is a controller with its own BAR0:
 * registers, enable and shutdown state, doorbells, MSI-X table and PBA,
 * and its own reset epoch. The controllers share the queue engine, the DMA
 * engine and the firmware mailbox: controller f's admin queue is queue
 * table entry f, its I/O queues are drawn from the rest of the table (the
 * QUEUE_POOL entries are mapped by the firmware, nvme_queue_map), its CQ's
 * vector v is MSI-X vector f x (IO_QUEUES + 1) + v, and every memory
 * request for one of its queues
 * or commands names function f as its requester. With one controller, a
 * reset clears the shared engines at once; with several, a controller's
 * reset drops its queues and pending interrupts, its commands in flight
 * drain (their completions are dropped, their DMA refused, by epoch), and
 * CSTS.RDY clears when none of its commands is left
 * (docs/virtual_controllers.md).
 *
 * quiescent: nothing is in flight, no state change is under way and no
 * timer is armed (every time base holds while its timers are idle), so the
 * design's state cannot change until an input does. A platform may gate the
 * clock then; the test bench stops it and skips the idle time.
 */
module nvme_ctrl #
(
    // Width of the PCIe AXI streams in bits (64, 128, 256 or 512)
    parameter AXIS_PCIE_DATA_WIDTH = `NVME_CTRL_AXIS_PCIE_DATA_WIDTH,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // CQ tuser width (UltraScale+; the 512-bit interface has its own layouts)
    parameter AXIS_PCIE_CQ_USER_WIDTH = AXIS_PCIE_DATA_WIDTH == 512 ? 183 : 88,
    // CC tuser width (UltraScale+)
    parameter AXIS_PCIE_CC_USER_WIDTH = AXIS_PCIE_DATA_WIDTH == 512 ? 81 : 33,
    // BAR0 size is 2**BAR0_ADDR_WIDTH bytes
    parameter BAR0_ADDR_WIDTH = `NVME_CTRL_BAR0_ADDR_WIDTH,
    // Physical functions, each a controller with its own BAR0 (1 to 4)
    parameter FUNCTIONS = `NVME_CTRL_FUNCTIONS,
    // I/O queue pairs of each controller in addition to its admin queue
    parameter IO_QUEUES = `NVME_CTRL_IO_QUEUES,
    // Queue table entries, admin queues included (0: one per queue id of every controller)
    parameter QUEUE_POOL = `NVME_CTRL_QUEUE_POOL,
    // CAP.MQES: maximum I/O queue size, zero-based
    parameter [15:0] MQES = `NVME_CTRL_MQES,
    // CAP.DSTRD: doorbell stride is 4 << DSTRD bytes
    parameter [3:0] DSTRD = `NVME_CTRL_DSTRD,
    // CAP.MPSMAX: largest memory page size is 4 KiB << MPSMAX
    parameter [3:0] MPSMAX = `NVME_CTRL_MPSMAX,
    // RQ tuser width (UltraScale+)
    parameter AXIS_PCIE_RQ_USER_WIDTH = AXIS_PCIE_DATA_WIDTH == 512 ? 137 : 62,
    // RC tuser width (UltraScale+)
    parameter AXIS_PCIE_RC_USER_WIDTH = AXIS_PCIE_DATA_WIDTH == 512 ? 161 : 75,
    // Command slots: fetched commands not yet completed
    parameter CMD_SLOTS = `NVME_CTRL_CMD_SLOTS,
    // SQ fetch reads in flight
    parameter FETCH_TAGS = `NVME_CTRL_FETCH_TAGS,
    // Most SQ entries fetched by one read
    parameter MAX_FETCH = `NVME_CTRL_MAX_FETCH,
    // Clock cycles per 100 us (interrupt coalescing time unit)
    parameter COALESCE_TICK_CYCLES = `NVME_CTRL_COALESCE_TICK_CYCLES,
    // Device DRAM byte address width
    parameter DRAM_ADDR_WIDTH = `NVME_CTRL_DRAM_ADDR_WIDTH,
    // DRAM AXI4 id width
    parameter DRAM_ID_WIDTH = `NVME_CTRL_DRAM_ID_WIDTH,
    // DMA requests in flight
    parameter DMA_REQS = `NVME_CTRL_DMA_REQS,
    // DMA data read tags (after the fetch tags and 4 pointer-read tags)
    parameter DMA_DATA_TAGS = `NVME_CTRL_DMA_DATA_TAGS
)
(
    /*
     * Clock and reset from the hard IP (inputs: the testbench drives them)
     */
    input  wire                               user_clk,
    input  wire                               user_reset,

    /*
     * Completer request (CQ)
     */
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]    s_axis_cq_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]    s_axis_cq_tkeep,
    input  wire                               s_axis_cq_tvalid,
    output wire                               s_axis_cq_tready,
    input  wire                               s_axis_cq_tlast,
    input  wire [AXIS_PCIE_CQ_USER_WIDTH-1:0] s_axis_cq_tuser,

    /*
     * Completer completion (CC)
     */
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]    m_axis_cc_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]    m_axis_cc_tkeep,
    output wire                               m_axis_cc_tvalid,
    input  wire                               m_axis_cc_tready,
    output wire                               m_axis_cc_tlast,
    output wire [AXIS_PCIE_CC_USER_WIDTH-1:0] m_axis_cc_tuser,

    /*
     * Requester request (RQ)
     */
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]    m_axis_rq_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]    m_axis_rq_tkeep,
    output wire                               m_axis_rq_tvalid,
    input  wire                               m_axis_rq_tready,
    output wire                               m_axis_rq_tlast,
    output wire [AXIS_PCIE_RQ_USER_WIDTH-1:0] m_axis_rq_tuser,

    /*
     * Requester completion (RC)
     */
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]    s_axis_rc_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]    s_axis_rc_tkeep,
    input  wire                               s_axis_rc_tvalid,
    output wire                               s_axis_rc_tready,
    input  wire                               s_axis_rc_tlast,
    input  wire [AXIS_PCIE_RC_USER_WIDTH-1:0] s_axis_rc_tuser,

    /*
     * Configuration status and MSI-X from the hard IP
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
     * Firmware mailbox (AXI4-Lite slave) and its interrupt
     */
    input  wire [15:0]                        s_axil_awaddr,
    input  wire [2:0]                         s_axil_awprot,
    input  wire                               s_axil_awvalid,
    output wire                               s_axil_awready,
    input  wire [31:0]                        s_axil_wdata,
    input  wire [3:0]                         s_axil_wstrb,
    input  wire                               s_axil_wvalid,
    output wire                               s_axil_wready,
    output wire [1:0]                         s_axil_bresp,
    output wire                               s_axil_bvalid,
    input  wire                               s_axil_bready,
    input  wire [15:0]                        s_axil_araddr,
    input  wire [2:0]                         s_axil_arprot,
    input  wire                               s_axil_arvalid,
    output wire                               s_axil_arready,
    output wire [31:0]                        s_axil_rdata,
    output wire [1:0]                         s_axil_rresp,
    output wire                               s_axil_rvalid,
    input  wire                               s_axil_rready,
    output wire                               fw_irq,
    output wire                               fw_dma_irq,

    // nothing changes until an input does (see above)
    output wire                               quiescent,

    /*
     * Device DRAM (AXI4 master of the DMA engine, 256- and 512-bit streams only)
     */
    output wire [DRAM_ID_WIDTH-1:0]           m_axi_dram_awid,
    output wire [DRAM_ADDR_WIDTH-1:0]         m_axi_dram_awaddr,
    output wire [7:0]                         m_axi_dram_awlen,
    output wire [2:0]                         m_axi_dram_awsize,
    output wire [1:0]                         m_axi_dram_awburst,
    output wire                               m_axi_dram_awlock,
    output wire [3:0]                         m_axi_dram_awcache,
    output wire [2:0]                         m_axi_dram_awprot,
    output wire                               m_axi_dram_awvalid,
    input  wire                               m_axi_dram_awready,
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]    m_axi_dram_wdata,
    output wire [AXIS_PCIE_DATA_WIDTH/8-1:0]  m_axi_dram_wstrb,
    output wire                               m_axi_dram_wlast,
    output wire                               m_axi_dram_wvalid,
    input  wire                               m_axi_dram_wready,
    input  wire [DRAM_ID_WIDTH-1:0]           m_axi_dram_bid,
    input  wire [1:0]                         m_axi_dram_bresp,
    input  wire                               m_axi_dram_bvalid,
    output wire                               m_axi_dram_bready,
    output wire [DRAM_ID_WIDTH-1:0]           m_axi_dram_arid,
    output wire [DRAM_ADDR_WIDTH-1:0]         m_axi_dram_araddr,
    output wire [7:0]                         m_axi_dram_arlen,
    output wire [2:0]                         m_axi_dram_arsize,
    output wire [1:0]                         m_axi_dram_arburst,
    output wire                               m_axi_dram_arlock,
    output wire [3:0]                         m_axi_dram_arcache,
    output wire [2:0]                         m_axi_dram_arprot,
    output wire                               m_axi_dram_arvalid,
    input  wire                               m_axi_dram_arready,
    input  wire [DRAM_ID_WIDTH-1:0]           m_axi_dram_rid,
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]    m_axi_dram_rdata,
    input  wire [1:0]                         m_axi_dram_rresp,
    input  wire                               m_axi_dram_rlast,
    input  wire                               m_axi_dram_rvalid,
    output wire                               m_axi_dram_rready
);

// one controller's queue pairs, and a queue id within the controller
localparam QUEUE_COUNT = IO_QUEUES + 1;
localparam QID_W = $clog2(QUEUE_COUNT);
// the shared queue table: every controller's admin queue, and the pool of I/O queues
localparam QT_ENTRIES = QUEUE_POOL == 0 ? FUNCTIONS * QUEUE_COUNT : QUEUE_POOL;
localparam QT_W = $clog2(QT_ENTRIES);
// MSI-X vectors of all functions, one per queue id: vector v of function f is f x QUEUE_COUNT + v
localparam MSIX_VECTORS = FUNCTIONS * QUEUE_COUNT;
localparam MSIX_VEC_W = $clog2(MSIX_VECTORS);
localparam SLOT_W = $clog2(CMD_SLOTS);
// read tags: SQ fetch from 0, the DMA engine's pointer reads, then its data reads
localparam [7:0] TAG_WALK = FETCH_TAGS;
localparam [7:0] TAG_DATA = FETCH_TAGS + 4;
// the completion timeout of every read the design makes: 13 ticks of 1024 cycles, 53 us at 250 MHz
// (PCIe's default completion timeout range starts at 50 us)
localparam TIMEOUT_TICK_CYCLES = 1024;
localparam TIMEOUT_TICKS = 13;

`include "nvme_bar0_regs.vh"

initial begin
    if (FUNCTIONS < 1 || FUNCTIONS > 4) begin
        $error("Error: 1 to 4 physical functions, as the hard IP has (instance %m)");
        $finish;
    end
    if (FUNCTIONS > 1 && (1 << QID_W) != QUEUE_COUNT) begin
        $error("Error: with several functions, IO_QUEUES + 1 must be a power of two: queue {f, q} (instance %m)");
        $finish;
    end
    if (FUNCTIONS == 1 ? QT_ENTRIES != QUEUE_COUNT : QT_ENTRIES < 2 * FUNCTIONS || QT_ENTRIES > MSIX_VECTORS) begin
        $error("Error: QUEUE_POOL: one controller has an entry per queue; several an admin and an I/O queue each, at most an entry per queue id (instance %m)");
        $finish;
    end
    if (BAR0_ADDR_WIDTH != NVME_BAR0_ADDR_W) begin
        $error("Error: BAR0 decodes %0d address bits: registers, doorbells, MSI-X table and PBA (instance %m)",
               NVME_BAR0_ADDR_W);
        $finish;
    end
end

// BAR0: registers and doorbells below the MSI-X table, the table and PBA from there on
wire [BAR0_ADDR_WIDTH-1:2] reg_addr;
wire [7:0] reg_function;
wire reg_wr_en;
wire [31:0] reg_wr_data;
wire [3:0] reg_wr_strb;
wire reg_rd_en;
wire [31:0] msix_rd_data;
reg msix_rd_sel_reg;
wire msix_window = reg_addr >= NVME_MSIX_TABLE[BAR0_ADDR_WIDTH-1:2];
// each function's register file, and the function whose register a read returns
wire [FUNCTIONS-1:0] regs_select;
wire [32*FUNCTIONS-1:0] fn_rd_data;
wire [FUNCTIONS-1:0] fn_stable;
reg [7:0] rd_function_reg;
wire [31:0] ctrl_rd_data = {24'd0, rd_function_reg} < FUNCTIONS ? fn_rd_data[rd_function_reg[1:0]*32 +: 32] : 32'd0;

always @(posedge user_clk) begin
    if (reg_rd_en) begin
        msix_rd_sel_reg <= msix_window;
        rd_function_reg <= reg_function;
    end
end

genvar f;
generate
for (f = 0; f < FUNCTIONS; f = f + 1) begin : function_select
    assign regs_select[f] = reg_function == f;
end
endgenerate

// every queue table entry's controller and queue id within it (nvme_queue_map)
wire [2*QT_ENTRIES-1:0] entry_function;
wire [QID_W*QT_ENTRIES-1:0] entry_lqid;

// the controller (function) of a queue table entry
function [1:0] controller_of(input [QT_W-1:0] entry);
    controller_of = entry_function[2*entry +: 2];
endfunction

// a controller's queue as DB_ERR numbers it, as its vectors are numbered: f x QUEUE_COUNT + q
localparam [MSIX_VEC_W-1:0] QUEUE_COUNT_V = QUEUE_COUNT[MSIX_VEC_W-1:0];
function [MSIX_VEC_W-1:0] queue_number(input [1:0] function_id, input [QID_W-1:0] lqid);
    queue_number = {{(MSIX_VEC_W-2){1'b0}}, function_id} * QUEUE_COUNT_V + {{(MSIX_VEC_W-QID_W){1'b0}}, lqid};
endfunction

// Each controller's state (one register file per function, below)
wire [FUNCTIONS-1:0] fn_ctrl_enabled;
wire [FUNCTIONS-1:0] fn_ctrl_resetting;
wire [FUNCTIONS-1:0] fn_ctrl_reset;
wire [FUNCTIONS-1:0] fn_admin_create;
wire [3*FUNCTIONS-1:0] fn_cc_css;   // the I/O command sets the host selected, for the firmware
wire [FUNCTIONS-1:0] fn_shutdown_requested;
wire [FUNCTIONS-1:0] fn_shutdown_abrupt;
wire [FUNCTIONS-1:0] fn_shutdown_complete;
wire [FUNCTIONS-1:0] fn_fatal;
wire [4*FUNCTIONS-1:0] fn_cc_mps;
wire [3*FUNCTIONS-1:0] fn_cc_ams;
wire [4*FUNCTIONS-1:0] fn_cc_iosqes;
wire [4*FUNCTIONS-1:0] fn_cc_iocqes;
wire [12*FUNCTIONS-1:0] fn_aqa_asqs;
wire [12*FUNCTIONS-1:0] fn_aqa_acqs;
wire [52*FUNCTIONS-1:0] fn_asq_base;
wire [52*FUNCTIONS-1:0] fn_acq_base;
wire [32*FUNCTIONS-1:0] fn_intm;
wire [FUNCTIONS-1:0] fn_db_valid;
wire [QID_W*FUNCTIONS-1:0] fn_db_qid;
wire [FUNCTIONS-1:0] fn_db_is_cq;
wire [FUNCTIONS-1:0] fn_db_beyond;
wire [16*FUNCTIONS-1:0] fn_db_value;
// nothing of a controller is in flight: no command slot of it is taken, the CQ poster holds none of it
wire [FUNCTIONS-1:0] fn_idle;
reg [FUNCTIONS-1:0] fn_busy;
// the command slots each controller holds, and the most it may (FN_SLOT_QUOTA)
wire [(SLOT_W+1)*FUNCTIONS-1:0] fn_slots;
wire [8*FUNCTIONS-1:0] fn_slot_quota;
wire [FUNCTIONS-1:0] shutdown_done;   // the firmware's, per controller
wire [8*FUNCTIONS-1:0] epoch;         // each controller's reset epoch
wire fw_dead;
// a controller's commands are fetched and their data moved only while it serves: ready, no fatal
// status, not shut down (SHST 10b: ready for power removal, nothing may move)
wire [FUNCTIONS-1:0] fn_serving = fn_ctrl_enabled & ~fn_fatal & ~fn_shutdown_complete;
// the same, and the epochs, for each of the four functions the hard IP can have (looked up by controller_of)
wire [3:0] serving_any = {{(4-FUNCTIONS){1'b0}}, fn_serving};
wire [31:0] epoch_any = {{(32-8*FUNCTIONS){1'b0}}, epoch};
// with one controller its reset clears the shared engines; with several, each one's work drains
wire engines_clear = FUNCTIONS == 1 && fn_ctrl_reset[0];
// each controller's arbitration mechanism: weighted round robin (CC.AMS 001b) or round robin
wire [FUNCTIONS-1:0] fn_wrr;
wire engine_idle;
// an SQ read that failed (an unsuccessful completion, or none in time), and the SQ it read
wire fetch_error;
wire [QT_W-1:0] fetch_error_qid;
wire fetch_timeout;
wire [QT_W-1:0] fetch_timeout_qid;
// the command slots of a failed SQ read, given back by the fetch engine
wire fetch_release_valid;
wire [SLOT_W-1:0] fetch_release_slot;
wire completer_idle;
wire regs_stable;
wire fetch_quiet;
wire msix_idle;
wire mailbox_idle;

// Entry sizes and the pin-interrupt mask matter to the firmware
wire [8*FUNCTIONS-1:0] unused_cc = {fn_cc_iosqes, fn_cc_iocqes};
wire [32*FUNCTIONS-1:0] unused_intm = fn_intm;

// Doorbells: one function's at a time (register writes come one by one), looked up in the queue map
reg db_valid;
reg [1:0] db_function;
reg [QID_W-1:0] db_lqid;
reg db_is_cq;
reg db_beyond;
reg [15:0] db_value;
wire [QT_W-1:0] db_qid;
wire db_mapped;
integer d;
always @* begin
    db_valid = 1'b0;
    db_function = 2'd0;
    db_lqid = 0;
    db_is_cq = 1'b0;
    db_beyond = 1'b0;
    db_value = 16'd0;
    for (d = 0; d < FUNCTIONS; d = d + 1) begin
        if (fn_db_valid[d]) begin
            db_valid = 1'b1;
            db_function = d[1:0];
            db_lqid = fn_db_qid[d*QID_W +: QID_W];
            db_is_cq = fn_db_is_cq[d];
            db_beyond = fn_db_beyond[d];
            db_value = fn_db_value[d*16 +: 16];
        end
    end
end

// Admin queue creation: one function's at a time, from its AQA, ASQ and ACQ
reg admin_create;
reg [QT_W-1:0] admin_qid;
reg [MSIX_VEC_W-1:0] admin_vector;
reg [11:0] aqa_asqs;
reg [11:0] aqa_acqs;
reg [63:12] asq_base;
reg [63:12] acq_base;
integer a;
reg [31:0] admin_entry;
always @* begin
    admin_create = 1'b0;
    admin_entry = 32'd0;
    admin_qid = 0;
    admin_vector = 0;
    aqa_asqs = fn_aqa_asqs[0 +: 12];
    aqa_acqs = fn_aqa_acqs[0 +: 12];
    asq_base = fn_asq_base[0 +: 52];
    acq_base = fn_acq_base[0 +: 52];
    for (a = 0; a < FUNCTIONS; a = a + 1) begin
        if (fn_admin_create[a]) begin
            admin_create = 1'b1;
            // entry f: its admin queue pair; vector f x QUEUE_COUNT: its admin CQ's
            admin_entry = a;
            admin_qid = admin_entry[QT_W-1:0];
            admin_vector = queue_number(a[1:0], 0);
            aqa_asqs = fn_aqa_asqs[a*12 +: 12];
            aqa_acqs = fn_aqa_acqs[a*12 +: 12];
            asq_base = fn_asq_base[a*52 +: 52];
            acq_base = fn_acq_base[a*52 +: 52];
        end
    end
end
// entries are below QT_ENTRIES
wire [31-QT_W:0] unused_entries = admin_entry[31:QT_W];
// the firmware's compare-and-set doorbells (shadow doorbell values); an MMIO doorbell goes first
wire fw_db_valid;
wire fw_db_is_cq;
wire [15:0] fw_db_expect;
wire [15:0] fw_db_value;
wire fw_db_ready = !db_valid;
// one registered doorbell port into the queue table: the MMIO doorbell, else the firmware's
reg qt_db_valid_reg;
reg [QT_W-1:0] qt_db_qid_reg;
reg [1:0] qt_db_function_reg;
reg [MSIX_VEC_W-1:0] qt_db_number_reg;
// the queue of the doorbell the queue table checked last cycle, for its error log
reg [MSIX_VEC_W-1:0] db_err_number_reg;
reg qt_db_is_cq_reg;
reg qt_db_beyond_reg;
reg [15:0] qt_db_value_reg;
reg qt_db_fw_reg;
reg [15:0] qt_db_expect_reg;
always @(posedge user_clk) begin
    qt_db_valid_reg <= (db_valid || fw_db_valid) && !user_reset;
    qt_db_qid_reg <= db_valid ? db_qid : q_sel;
    qt_db_function_reg <= db_valid ? db_function : controller_of(q_sel);
    qt_db_number_reg <= db_valid ? queue_number(db_function, db_lqid)
                                 : queue_number(controller_of(q_sel), entry_lqid[QID_W*q_sel +: QID_W]);
    db_err_number_reg <= qt_db_number_reg;
    qt_db_is_cq_reg <= db_valid ? db_is_cq : fw_db_is_cq;
    // a queue id the controller has no entry for is no queue, like one beyond its doorbells
    qt_db_beyond_reg <= db_valid && (db_beyond || !db_mapped);
    qt_db_value_reg <= db_valid ? db_value : fw_db_value;
    qt_db_fw_reg <= !db_valid;
    qt_db_expect_reg <= fw_db_expect;
end
wire db_err_valid;
wire [1:0] db_err_kind;
wire [QT_W-1:0] db_err_qid;
// the entry of an invalid doorbell: the mailbox logs the queue by its controller's numbering (db_err_number_reg)
wire [QT_W-1:0] unused_db_err_qid = db_err_qid;
wire db_err_is_cq;

// Queue table
wire [QT_W-1:0] fetch_qid;
wire [63:0] fetch_sq_base;
wire [15:0] fetch_sq_size;
wire [15:0] fetch_sq_head;
wire [15:0] fetch_sq_tail;
wire fetch_advance;
wire [QT_W-1:0] fetch_advance_qid;
wire [15:0] fetch_advance_count;
wire [QT_W-1:0] post_sqid;
wire [15:0] post_sq_head;
wire [QT_W-1:0] post_cqid;
wire post_cq_valid;
wire [63:0] post_cq_base;
wire [15:0] post_cq_tail;
wire post_cq_phase;
wire post_cq_full;
wire [MSIX_VEC_W-1:0] post_cq_vector;
wire post_cq_ien;
wire post_advance;
wire [QT_ENTRIES-1:0] sq_pending;
wire [2*QT_ENTRIES-1:0] sq_prio;
wire [QT_ENTRIES-1:0] sq_in_flight;
wire [QT_ENTRIES-1:0] entry_valid;
wire any_queue_valid;
wire [11:0] unused_queue_bases = {fetch_sq_base[11:0] | post_cq_base[11:0]};
wire unused_any_queue = any_queue_valid;

// Firmware queue programming and settings
wire q_cmd_valid;
wire [2:0] q_cmd_op;
wire [QT_W-1:0] q_sel;
wire [63:12] q_base;
wire [15:0] q_size;
wire [QT_W-1:0] q_map;
wire [MSIX_VEC_W-1:0] q_vector;
wire [1:0] q_prio;
// mapping the selected entry to a controller's queue pair
wire q_map_valid;
wire q_map_on;
wire [1:0] q_map_function;
wire [QID_W-1:0] q_map_lqid;
wire q_mapped;
wire q_ien;
// the queue Q_SEL selects, as the mailbox reads it
wire q_sq_valid;
wire q_sq_fetching;
wire [15:0] q_sq_head;
wire [15:0] q_sq_tail;
wire q_cq_valid;
wire q_cq_full;
wire q_cq_phase;
wire [15:0] q_cq_tail;
wire [15:0] q_cq_head;
// each controller's Arbitration feature, and the granted controller's burst
wire [3*FUNCTIONS-1:0] arb_burst;
wire [8*FUNCTIONS-1:0] arb_lpw;
wire [8*FUNCTIONS-1:0] arb_mpw;
wire [8*FUNCTIONS-1:0] arb_hpw;
wire [2:0] grant_burst;
wire [8*FUNCTIONS-1:0] coalesce_thr;
wire [8*FUNCTIONS-1:0] coalesce_time;
wire [MSIX_VECTORS-1:0] coalesce_disable;

// Arbitration
wire grant_valid;
wire [QT_W-1:0] grant_qid;
wire grant_ack;
wire [15:0] grant_count;

// Command table
wire [SLOT_W-1:0] alloc_slot;
wire alloc_valid;
wire [QT_W-1:0] alloc_sqid;
wire [SLOT_W:0] free_count;
wire [15:0] sqe_wr_en;
wire [16*SLOT_W-1:0] sqe_wr_slot;
wire [16*32-1:0] sqe_wr_data;
wire sqe_rd_en;
wire [SLOT_W-1:0] sqe_rd_slot;
wire [3:0] sqe_rd_dw;
wire [31:0] sqe_rd_data;
wire push_valid;
wire [SLOT_W-1:0] push_slot;
wire cmd_valid;
wire [SLOT_W-1:0] cmd_slot;
wire [QT_W-1:0] cmd_sqid;
wire [7:0] cmd_epoch;
wire [1:0] cmd_function;
wire cmd_pop;
wire [SLOT_W:0] cmd_count;
wire [SLOT_W-1:0] lookup_slot;
wire [QT_W-1:0] lookup_sqid;
wire [15:0] lookup_cid;
wire [7:0] lookup_epoch;
// the slot a DMA request names: its controller, and that controller's epoch and state
wire [QT_W-1:0] unused_dma_slot_sqid;
wire [7:0] unused_dma_slot_epoch;
// a DMA request's controller: its slot's, or the one a host-buffer request names (DMA_CTRL.FN_SEL)
wire [1:0] dma_slot_function;
wire [1:0] dma_function = dma_req_fn_sel ? dma_req_fn : dma_slot_function;
// the controller of the slot a completion names: the command's, even if its queue went to another since
wire [1:0] lookup_function;
// the controller of the completion the CQ poster holds
reg [1:0] poster_function_reg;
// the epoch of the controller whose command a fetch brings: taken with the grant, before its queue can go
reg [7:0] fetch_epoch_reg;
wire release_valid;
wire [SLOT_W-1:0] release_slot;

// Completions
wire cpl_valid;
wire cpl_ready;
wire [SLOT_W-1:0] cpl_slot;
wire [14:0] cpl_status;
wire [31:0] cpl_dw0;
wire [31:0] cpl_dw1;
wire [7:0] cpl_epoch;
wire cpl_stale;
wire poster_idle;
wire irq_valid;
wire [MSIX_VEC_W-1:0] irq_vector;
wire irq_coalesce;

// RQ requests
wire fetch_req_valid;
wire fetch_req_ready;
wire [63:2] fetch_req_addr;
wire [10:0] fetch_req_dwords;
wire [7:0] fetch_req_tag;
wire [QT_W-1:0] fetch_req_sqid;
wire post_req_valid;
wire post_req_ready;
wire [63:2] post_req_addr;
wire [127:0] post_req_data;
wire fetch_idle;

wire [4*AXIS_PCIE_DATA_WIDTH-1:0] rq_tdata;
wire [4*AXIS_PCIE_KEEP_WIDTH-1:0] rq_tkeep;
wire [3:0] rq_tvalid;
wire [3:0] rq_tready;
wire [3:0] rq_tlast;
wire [4*AXIS_PCIE_RQ_USER_WIDTH-1:0] rq_tuser;

// RC: fetch completions, and the DMA engine's
wire [AXIS_PCIE_DATA_WIDTH-1:0] fetch_rc_tdata;
wire [AXIS_PCIE_KEEP_WIDTH-1:0] fetch_rc_tkeep;
wire fetch_rc_tvalid;
wire fetch_rc_tready;
wire fetch_rc_tlast;
wire [AXIS_PCIE_RC_USER_WIDTH-1:0] fetch_rc_tuser;

// DMA engine
wire dma_present;
wire dma_idle;
wire dma_req_valid;
wire dma_req_ready;
wire [SLOT_W-1:0] dma_req_slot;
wire dma_req_dir;
wire dma_req_auto;
wire [7:0] dma_req_epoch;
wire [7:0] dma_req_cookie;
wire [23:0] dma_req_offset;
wire [23:0] dma_req_length;
wire [23:0] dma_req_cmd_len;
wire [63:0] dma_req_dram;
wire dma_req_host_buf;
wire [63:0] dma_req_host;
wire [1:0] dma_req_at;
wire dma_req_fn_sel;
wire [1:0] dma_req_fn;
wire dma_res_valid;
wire dma_res_pop;
wire dma_res_auto;
wire [7:0] dma_res_cookie;
wire [7:0] dma_res_status;
wire [SLOT_W-1:0] dma_res_slot;
wire [7:0] dma_res_count;
wire [7:0] dma_in_flight;
wire dma_cpl_valid;
wire dma_cpl_ready;
wire [SLOT_W-1:0] dma_cpl_slot;
wire sqe_rd2_en;
wire [SLOT_W-1:0] sqe_rd2_slot;
wire [3:0] sqe_rd2_dw;
wire [31:0] sqe_rd2_data;

// Completions from the firmware and auto-completions from the DMA engine
wire fw_cpl_valid;
wire fw_cpl_ready;
wire [SLOT_W-1:0] fw_cpl_slot;
wire [14:0] fw_cpl_status;
wire [31:0] fw_cpl_dw0;
wire [31:0] fw_cpl_dw1;
wire [7:0] fw_cpl_epoch;
assign cpl_valid = fw_cpl_valid || dma_cpl_valid;
// an auto-completion is of the slot's own epoch
assign cpl_epoch = fw_cpl_valid ? fw_cpl_epoch : lookup_epoch;
assign cpl_slot = fw_cpl_valid ? fw_cpl_slot : dma_cpl_slot;
assign cpl_status = fw_cpl_valid ? fw_cpl_status : 15'd0;
assign cpl_dw0 = fw_cpl_valid ? fw_cpl_dw0 : 32'd0;
assign cpl_dw1 = fw_cpl_valid ? fw_cpl_dw1 : 32'd0;
assign fw_cpl_ready = cpl_ready && fw_cpl_valid;
assign dma_cpl_ready = cpl_ready && !fw_cpl_valid;

assign engine_idle = fetch_idle && poster_idle && fetch_req_ready && post_req_ready && rq_tvalid == 0 && dma_idle;
// the registered read-data select follows reg_rd_en, which completer_idle covers
assign quiescent = engine_idle && fetch_quiet && !dma_req_valid && completer_idle && regs_stable && msix_idle
                   && mailbox_idle && !db_err_valid && !qt_db_valid_reg;

pcie_us_bar_completer #(
    .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
    .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
    .AXIS_PCIE_CQ_USER_WIDTH(AXIS_PCIE_CQ_USER_WIDTH),
    .AXIS_PCIE_CC_USER_WIDTH(AXIS_PCIE_CC_USER_WIDTH),
    .ADDR_WIDTH(BAR0_ADDR_WIDTH)
)
bar0_completer_inst (
    .clk(user_clk),
    .rst(user_reset),
    .s_axis_cq_tdata(s_axis_cq_tdata),
    .s_axis_cq_tkeep(s_axis_cq_tkeep),
    .s_axis_cq_tvalid(s_axis_cq_tvalid),
    .s_axis_cq_tready(s_axis_cq_tready),
    .s_axis_cq_tlast(s_axis_cq_tlast),
    .s_axis_cq_tuser(s_axis_cq_tuser),
    .m_axis_cc_tdata(m_axis_cc_tdata),
    .m_axis_cc_tkeep(m_axis_cc_tkeep),
    .m_axis_cc_tvalid(m_axis_cc_tvalid),
    .m_axis_cc_tready(m_axis_cc_tready),
    .m_axis_cc_tlast(m_axis_cc_tlast),
    .m_axis_cc_tuser(m_axis_cc_tuser),
    .reg_addr(reg_addr),
    .reg_function(reg_function),
    .reg_wr_en(reg_wr_en),
    .reg_wr_data(reg_wr_data),
    .reg_wr_strb(reg_wr_strb),
    .reg_rd_en(reg_rd_en),
    .reg_rd_data(msix_rd_sel_reg ? msix_rd_data : ctrl_rd_data),
    .idle(completer_idle)
);

// Each function's register file and controller state
generate
for (f = 0; f < FUNCTIONS; f = f + 1) begin : fn
    nvme_ctrl_regs #(
        .ADDR_WIDTH(BAR0_ADDR_WIDTH),
        .QUEUE_COUNT(QUEUE_COUNT),
        .MQES(MQES),
        .DSTRD(DSTRD),
        .MPSMAX(MPSMAX)
    )
    regs_inst (
        .clk(user_clk),
        .rst(user_reset),
        .reg_addr(reg_addr),
        .reg_wr_en(reg_wr_en && !msix_window && regs_select[f]),
        .reg_wr_data(reg_wr_data),
        .reg_wr_strb(reg_wr_strb),
        .reg_rd_en(reg_rd_en && !msix_window && regs_select[f]),
        .reg_rd_data(fn_rd_data[f*32 +: 32]),
        .fw_shutdown_done(shutdown_done[f]),
        // a failed SQ read fails the controller of that SQ; the firmware, every controller
        .fatal_error((fetch_error && controller_of(fetch_error_qid) == f)
                     || (fetch_timeout && controller_of(fetch_timeout_qid) == f) || fw_dead),
        .engine_idle(fn_idle[f]),
        .stable(fn_stable[f]),
        .ctrl_enabled(fn_ctrl_enabled[f]),
        .ctrl_resetting(fn_ctrl_resetting[f]),
        .ctrl_reset(fn_ctrl_reset[f]),
        .admin_create(fn_admin_create[f]),
        .cc_css(fn_cc_css[f*3 +: 3]),
        .shutdown_requested(fn_shutdown_requested[f]),
        .shutdown_abrupt(fn_shutdown_abrupt[f]),
        .shutdown_complete(fn_shutdown_complete[f]),
        .fatal(fn_fatal[f]),
        .cc_mps(fn_cc_mps[f*4 +: 4]),
        .cc_ams(fn_cc_ams[f*3 +: 3]),
        .cc_iosqes(fn_cc_iosqes[f*4 +: 4]),
        .cc_iocqes(fn_cc_iocqes[f*4 +: 4]),
        .aqa_asqs(fn_aqa_asqs[f*12 +: 12]),
        .aqa_acqs(fn_aqa_acqs[f*12 +: 12]),
        .asq_base(fn_asq_base[f*52 +: 52]),
        .acq_base(fn_acq_base[f*52 +: 52]),
        .intm(fn_intm[f*32 +: 32]),
        .db_valid(fn_db_valid[f]),
        .db_qid(fn_db_qid[f*QID_W +: QID_W]),
        .db_is_cq(fn_db_is_cq[f]),
        .db_beyond(fn_db_beyond[f]),
        .db_value(fn_db_value[f*16 +: 16])
    );
    if (FUNCTIONS == 1) begin : one_controller
        // its reset clears the engines, which must be idle before CSTS.RDY clears
        assign fn_idle[f] = engine_idle;
        wire unused_busy = fn_busy[f];
    end else begin : shared
        // its commands drain: none of its slots is taken and the poster's CQE write of it has left
        assign fn_idle[f] = !fn_busy[f] && (poster_idle || poster_function_reg != f);
    end
end
for (f = 0; f < FUNCTIONS; f = f + 1) begin : ams
    // CAP.AMS offers weighted round robin alone: CC.AMS bits 2:1 are 0
    assign fn_wrr[f] = fn_cc_ams[3*f];
    wire [1:0] unused_ams = fn_cc_ams[3*f+1 +: 2];
end
endgenerate

assign regs_stable = &fn_stable;

nvme_queue_map #(
    .FUNCTIONS(FUNCTIONS),
    .CTRL_QUEUES(QUEUE_COUNT),
    .LQID_W(QID_W),
    .ENTRIES(QT_ENTRIES),
    .QID_W(QT_W)
)
queue_map_inst (
    .clk(user_clk),
    .rst(user_reset),
    .ctrl_reset(fn_ctrl_reset),
    .entry_valid(entry_valid),
    .sq_in_flight(sq_in_flight),
    .map_valid(q_map_valid),
    .map_entry(q_sel),
    .map_on(q_map_on),
    .map_function(q_map_function),
    .map_lqid(q_map_lqid),
    .state_entry(q_sel),
    .state_mapped(q_mapped),
    .db_function(db_function),
    .db_lqid(db_lqid),
    .db_entry(db_qid),
    .db_mapped(db_mapped),
    .entry_function(entry_function),
    .entry_lqid(entry_lqid)
);
nvme_queue_table #(
    .FUNCTIONS(FUNCTIONS),
    .QUEUE_COUNT(QT_ENTRIES),
    .QID_W(QT_W),
    .VEC_W(MSIX_VEC_W)
)
queue_table_inst (
    .clk(user_clk),
    .rst(user_reset),
    .ctrl_reset(fn_ctrl_reset),
    .entry_function(entry_function),
    .admin_create(admin_create),
    .admin_qid(admin_qid),
    .admin_vector(admin_vector),
    .asq_base(asq_base),
    .acq_base(acq_base),
    .aqa_asqs(aqa_asqs),
    .aqa_acqs(aqa_acqs),
    .db_valid(qt_db_valid_reg),
    .db_qid(qt_db_qid_reg),
    .db_function(qt_db_function_reg),
    .db_is_cq(qt_db_is_cq_reg),
    .db_beyond(qt_db_beyond_reg),
    .db_value(qt_db_value_reg),
    .db_fw(qt_db_fw_reg),
    .db_expect(qt_db_expect_reg),
    .db_err_valid(db_err_valid),
    .db_err_kind(db_err_kind),
    .db_err_qid(db_err_qid),
    .db_err_is_cq(db_err_is_cq),
    .fw_cmd_valid(q_cmd_valid),
    .fw_cmd_op(q_cmd_op),
    .fw_cmd_qid(q_sel),
    .fw_cmd_base(q_base),
    .fw_cmd_size(q_size),
    .fw_cmd_map(q_map),
    .fw_cmd_vector(q_vector),
    .fw_cmd_prio(q_prio),
    .fw_cmd_ien(q_ien),
    .fetch_qid(fetch_qid),
    .fetch_sq_base(fetch_sq_base),
    .fetch_sq_size(fetch_sq_size),
    .fetch_sq_head(fetch_sq_head),
    .fetch_sq_tail(fetch_sq_tail),
    .fetch_advance(fetch_advance),
    .fetch_advance_qid(fetch_advance_qid),
    .fetch_advance_count(fetch_advance_count),
    .post_sqid(post_sqid),
    .post_sq_head(post_sq_head),
    .post_cqid(post_cqid),
    .post_cq_valid(post_cq_valid),
    .post_cq_base(post_cq_base),
    .post_cq_tail(post_cq_tail),
    .post_cq_phase(post_cq_phase),
    .post_cq_full(post_cq_full),
    .post_cq_vector(post_cq_vector),
    .post_cq_ien(post_cq_ien),
    .post_advance(post_advance),
    .fw_qid(q_sel),
    .fw_sq_valid(q_sq_valid),
    .fw_sq_fetching(q_sq_fetching),
    .fw_sq_head(q_sq_head),
    .fw_sq_tail(q_sq_tail),
    .fw_cq_valid(q_cq_valid),
    .fw_cq_full(q_cq_full),
    .fw_cq_phase(q_cq_phase),
    .fw_cq_tail(q_cq_tail),
    .fw_cq_head(q_cq_head),
    .sq_in_flight(sq_in_flight),
    .sq_pending(sq_pending),
    .sq_prio(sq_prio),
    .entry_valid(entry_valid),
    .any_queue_valid(any_queue_valid)
);

assign fetch_qid = grant_qid;

// only the SQs of a controller that serves and holds fewer slots than its quota are fetched
reg [3:0] fetchable;
reg [QT_ENTRIES-1:0] sq_served;
integer e;
always @* begin
    fetchable = 4'd0;
    for (e = 0; e < FUNCTIONS; e = e + 1) begin
        fetchable[e] = serving_any[e]
                       && {{(15-SLOT_W){1'b0}}, fn_slots[e*(SLOT_W+1) +: SLOT_W+1]} < {8'd0, fn_slot_quota[8*e +: 8]};
        fn_busy[e] = fn_slots[e*(SLOT_W+1) +: SLOT_W+1] != 0;
    end
    for (e = 0; e < QT_ENTRIES; e = e + 1) begin
        sq_served[e] = fetchable[controller_of(e[QT_W-1:0])];
    end
end

always @(posedge user_clk) begin
    if (cpl_valid && cpl_ready) begin
        poster_function_reg <= lookup_function;
    end
    if (grant_ack) begin
        fetch_epoch_reg <= epoch_any[8*controller_of(grant_qid) +: 8];
    end
end

nvme_fn_arbiter #(
    .FUNCTIONS(FUNCTIONS),
    .QUEUE_COUNT(QT_ENTRIES),
    .QID_W(QT_W)
)
arbiter_inst (
    .clk(user_clk),
    .rst(user_reset || engines_clear),
    .wrr_enable(fn_wrr),
    .hpw(arb_hpw),
    .mpw(arb_mpw),
    .lpw(arb_lpw),
    .burst(arb_burst),
    .eligible(sq_pending & ~sq_in_flight & sq_served),
    .prio(sq_prio),
    .entry_function(entry_function),
    .grant_valid(grant_valid),
    .grant_burst(grant_burst),
    .grant_qid(grant_qid),
    .grant_ack(grant_ack),
    .grant_count(grant_count)
);

nvme_cmd_table #(
    .SLOTS(CMD_SLOTS),
    .SLOT_W(SLOT_W),
    .QID_W(QT_W),
    .EPOCH_W(8),
    .FUNCTIONS(FUNCTIONS)
)
cmd_table_inst (
    .clk(user_clk),
    .rst(user_reset),
    .clear(engines_clear),
    .alloc_slot(alloc_slot),
    .alloc_valid(alloc_valid),
    .alloc_sqid(alloc_sqid),
    .alloc_function(controller_of(alloc_sqid)),
    .alloc_epoch(fetch_epoch_reg),
    .free_count(free_count),
    .sqe_wr_en(sqe_wr_en),
    .sqe_wr_slot(sqe_wr_slot),
    .sqe_wr_data(sqe_wr_data),
    .sqe_rd_en(sqe_rd_en),
    .sqe_rd_slot(sqe_rd_slot),
    .sqe_rd_dw(sqe_rd_dw),
    .sqe_rd_data(sqe_rd_data),
    .sqe_rd2_en(sqe_rd2_en),
    .sqe_rd2_slot(sqe_rd2_slot),
    .sqe_rd2_dw(sqe_rd2_dw),
    .sqe_rd2_data(sqe_rd2_data),
    .push_valid(push_valid),
    .push_slot(push_slot),
    .head_valid(cmd_valid),
    .head_slot(cmd_slot),
    .head_sqid(cmd_sqid),
    .head_epoch(cmd_epoch),
    .head_function(cmd_function),
    .pop(cmd_pop),
    .fifo_count(cmd_count),
    .lookup_slot(lookup_slot),
    .lookup_sqid(lookup_sqid),
    .lookup_cid(lookup_cid),
    .lookup_epoch(lookup_epoch),
    .lookup_function(lookup_function),
    .lookup2_slot(dma_req_slot),
    .lookup2_sqid(unused_dma_slot_sqid),
    .lookup2_epoch(unused_dma_slot_epoch),
    .lookup2_function(dma_slot_function),
    .release_valid(release_valid),
    .release_slot(release_slot),
    .release2_valid(fetch_release_valid),
    .release2_slot(fetch_release_slot),
    .function_slots(fn_slots)
);

nvme_sq_fetch #(
    .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
    .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
    .AXIS_PCIE_RC_USER_WIDTH(AXIS_PCIE_RC_USER_WIDTH),
    .QUEUE_COUNT(QT_ENTRIES),
    .QID_W(QT_W),
    .SLOTS(CMD_SLOTS),
    .SLOT_W(SLOT_W),
    .FETCH_TAGS(FETCH_TAGS),
    .MAX_FETCH(MAX_FETCH),
    .TIMEOUT_TICK_CYCLES(TIMEOUT_TICK_CYCLES),
    .TIMEOUT_TICKS(TIMEOUT_TICKS)
)
sq_fetch_inst (
    .clk(user_clk),
    .rst(user_reset),
    // the arbiter grants only the SQs of a controller that serves
    .enable(fn_serving != 0),
    .clear(engines_clear),
    .max_read_request(cfg_max_read_req),
    .arb_burst(grant_burst),
    .idle(fetch_idle),
    .quiet(fetch_quiet),
    .fetch_error(fetch_error),
    .fetch_error_qid(fetch_error_qid),
    .fetch_timeout(fetch_timeout),
    .fetch_timeout_qid(fetch_timeout_qid),
    .grant_valid(grant_valid),
    .grant_qid(grant_qid),
    .grant_ack(grant_ack),
    .grant_count(grant_count),
    .sq_in_flight(sq_in_flight),
    .sq_base(fetch_sq_base[63:12]),
    .sq_size(fetch_sq_size),
    .sq_head(fetch_sq_head),
    .sq_tail(fetch_sq_tail),
    .advance(fetch_advance),
    .advance_qid(fetch_advance_qid),
    .advance_count(fetch_advance_count),
    .alloc_slot(alloc_slot),
    .alloc_valid(alloc_valid),
    .alloc_sqid(alloc_sqid),
    .free_count(free_count),
    .sqe_wr_en(sqe_wr_en),
    .sqe_wr_slot(sqe_wr_slot),
    .sqe_wr_data(sqe_wr_data),
    .push_valid(push_valid),
    .push_slot(push_slot),
    .release_valid(fetch_release_valid),
    .release_slot(fetch_release_slot),
    .req_valid(fetch_req_valid),
    .req_ready(fetch_req_ready),
    .req_addr(fetch_req_addr),
    .req_dwords(fetch_req_dwords),
    .req_tag(fetch_req_tag),
    .req_sqid(fetch_req_sqid),
    .s_axis_rc_tdata(fetch_rc_tdata),
    .s_axis_rc_tkeep(fetch_rc_tkeep),
    .s_axis_rc_tvalid(fetch_rc_tvalid),
    .s_axis_rc_tready(fetch_rc_tready),
    .s_axis_rc_tlast(fetch_rc_tlast),
    .s_axis_rc_tuser(fetch_rc_tuser)
);

nvme_cq_poster #(
    .QID_W(QT_W),
    .SLOT_W(SLOT_W),
    .LQID_W(QID_W),
    .VEC_W(MSIX_VEC_W),
    .EPOCH_W(8),
    .STALE_FREES(FUNCTIONS > 1)
)
cq_poster_inst (
    .clk(user_clk),
    .rst(user_reset),
    .clear(engines_clear),
    .idle(poster_idle),
    .cpl_valid(cpl_valid),
    .cpl_ready(cpl_ready),
    .cpl_slot(cpl_slot),
    .cpl_status(cpl_status),
    .cpl_dw0(cpl_dw0),
    .cpl_dw1(cpl_dw1),
    .cpl_epoch(cpl_epoch),
    .stale(cpl_stale),
    .lookup_slot(lookup_slot),
    .lookup_sqid(lookup_sqid),
    .lookup_cid(lookup_cid),
    .lookup_epoch(lookup_epoch),
    .fn_epoch(epoch_any[8*lookup_function +: 8]),
    .lookup_foreign(lookup_function != controller_of(lookup_sqid)),
    .release_valid(release_valid),
    .release_slot(release_slot),
    .post_sqid(post_sqid),
    .post_sq_head(post_sq_head),
    .post_local_sqid(entry_lqid[QID_W*post_sqid +: QID_W]),
    // entry f is controller f's admin queue pair
    .post_admin_cq({{(32-QT_W){1'b0}}, post_cqid} < FUNCTIONS),
    .post_cqid(post_cqid),
    .post_cq_valid(post_cq_valid),
    .post_cq_base(post_cq_base[63:12]),
    .post_cq_tail(post_cq_tail),
    .post_cq_phase(post_cq_phase),
    .post_cq_full(post_cq_full),
    .post_cq_vector(post_cq_vector),
    .post_cq_ien(post_cq_ien),
    .post_advance(post_advance),
    .req_valid(post_req_valid),
    .req_ready(post_req_ready),
    .req_addr(post_req_addr),
    .req_data(post_req_data),
    .irq_valid(irq_valid),
    .irq_vector(irq_vector),
    .irq_coalesce(irq_coalesce)
);

pcie_us_rq_small_req #(
    .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
    .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
    .AXIS_PCIE_RQ_USER_WIDTH(AXIS_PCIE_RQ_USER_WIDTH)
)
fetch_rq_inst (
    .clk(user_clk),
    .rst(user_reset),
    .req_valid(fetch_req_valid),
    .req_ready(fetch_req_ready),
    .req_write(1'b0),
    .req_addr(fetch_req_addr),
    .req_dwords(fetch_req_dwords),
    .req_tag(fetch_req_tag),
    .req_function({6'd0, controller_of(fetch_req_sqid)}),
    .req_at(2'b00),
    .req_data(128'd0),
    .m_axis_rq_tdata(rq_tdata[0 +: AXIS_PCIE_DATA_WIDTH]),
    .m_axis_rq_tkeep(rq_tkeep[0 +: AXIS_PCIE_KEEP_WIDTH]),
    .m_axis_rq_tvalid(rq_tvalid[0]),
    .m_axis_rq_tready(rq_tready[0]),
    .m_axis_rq_tlast(rq_tlast[0]),
    .m_axis_rq_tuser(rq_tuser[0 +: AXIS_PCIE_RQ_USER_WIDTH])
);

pcie_us_rq_small_req #(
    .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
    .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
    .AXIS_PCIE_RQ_USER_WIDTH(AXIS_PCIE_RQ_USER_WIDTH)
)
post_rq_inst (
    .clk(user_clk),
    .rst(user_reset),
    .req_valid(post_req_valid),
    .req_ready(post_req_ready),
    .req_write(1'b1),
    .req_addr(post_req_addr),
    .req_dwords(11'd4),
    .req_tag(8'd0),
    .req_function({6'd0, poster_function_reg}),
    .req_at(2'b00),
    .req_data(post_req_data),
    .m_axis_rq_tdata(rq_tdata[AXIS_PCIE_DATA_WIDTH +: AXIS_PCIE_DATA_WIDTH]),
    .m_axis_rq_tkeep(rq_tkeep[AXIS_PCIE_KEEP_WIDTH +: AXIS_PCIE_KEEP_WIDTH]),
    .m_axis_rq_tvalid(rq_tvalid[1]),
    .m_axis_rq_tready(rq_tready[1]),
    .m_axis_rq_tlast(rq_tlast[1]),
    .m_axis_rq_tuser(rq_tuser[AXIS_PCIE_RQ_USER_WIDTH +: AXIS_PCIE_RQ_USER_WIDTH])
);

pcie_us_axis_rq_mux #(
    .PORTS(4),
    .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
    .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
    .AXIS_PCIE_RQ_USER_WIDTH(AXIS_PCIE_RQ_USER_WIDTH)
)
rq_mux_inst (
    .clk(user_clk),
    .rst(user_reset),
    .s_axis_rq_tdata(rq_tdata),
    .s_axis_rq_tkeep(rq_tkeep),
    .s_axis_rq_tvalid(rq_tvalid),
    .s_axis_rq_tready(rq_tready),
    .s_axis_rq_tlast(rq_tlast),
    .s_axis_rq_tuser(rq_tuser),
    .m_axis_rq_tdata(m_axis_rq_tdata),
    .m_axis_rq_tkeep(m_axis_rq_tkeep),
    .m_axis_rq_tvalid(m_axis_rq_tvalid),
    .m_axis_rq_tready(m_axis_rq_tready),
    .m_axis_rq_tlast(m_axis_rq_tlast),
    .m_axis_rq_tuser(m_axis_rq_tuser)
);

nvme_msix #(
    .FUNCTIONS(FUNCTIONS),
    .VECTORS(QUEUE_COUNT),
    .VEC_W(MSIX_VEC_W),
    .ADDR_W(BAR0_ADDR_WIDTH - 2),
    .TICK_CYCLES(COALESCE_TICK_CYCLES)
)
msix_inst (
    .clk(user_clk),
    .rst(user_reset),
    .clear(fn_ctrl_reset),
    .reg_addr(reg_addr),
    .reg_function(reg_function),
    .reg_wr_en(reg_wr_en && msix_window),
    .reg_wr_data(reg_wr_data),
    .reg_wr_strb(reg_wr_strb),
    .reg_rd_en(reg_rd_en && msix_window),
    .reg_rd_data(msix_rd_data),
    .irq_valid(irq_valid),
    .irq_vector(irq_vector),
    .irq_coalesce(irq_coalesce),
    .coalesce_thr(coalesce_thr),
    .coalesce_time(coalesce_time),
    .coalesce_disable(coalesce_disable),
    .cfg_interrupt_msix_enable(cfg_interrupt_msix_enable),
    .cfg_interrupt_msix_mask(cfg_interrupt_msix_mask),
    .cfg_interrupt_msix_address(cfg_interrupt_msix_address),
    .cfg_interrupt_msix_data(cfg_interrupt_msix_data),
    .cfg_interrupt_msix_int(cfg_interrupt_msix_int),
    .cfg_interrupt_msi_function_number(cfg_interrupt_msi_function_number),
    .cfg_interrupt_msix_sent(cfg_interrupt_msix_sent),
    .cfg_interrupt_msix_fail(cfg_interrupt_msix_fail),
    .idle(msix_idle)
);

nvme_fw_mailbox #(
    .FUNCTIONS(FUNCTIONS),
    .CTRL_QUEUES(QUEUE_COUNT),
    .LQID_W(QID_W),
    .QUEUE_COUNT(QT_ENTRIES),
    .QID_W(QT_W),
    .VECTORS(MSIX_VECTORS),
    .VEC_W(MSIX_VEC_W),
    .SLOTS(CMD_SLOTS),
    .SLOT_W(SLOT_W),
    .MQES(MQES),
    .US_CYCLES(COALESCE_TICK_CYCLES / 100)
)
mailbox_inst (
    .clk(user_clk),
    .rst(user_reset),
    .s_axil_awaddr(s_axil_awaddr),
    .s_axil_awprot(s_axil_awprot),
    .s_axil_awvalid(s_axil_awvalid),
    .s_axil_awready(s_axil_awready),
    .s_axil_wdata(s_axil_wdata),
    .s_axil_wstrb(s_axil_wstrb),
    .s_axil_wvalid(s_axil_wvalid),
    .s_axil_wready(s_axil_wready),
    .s_axil_bresp(s_axil_bresp),
    .s_axil_bvalid(s_axil_bvalid),
    .s_axil_bready(s_axil_bready),
    .s_axil_araddr(s_axil_araddr),
    .s_axil_arprot(s_axil_arprot),
    .s_axil_arvalid(s_axil_arvalid),
    .s_axil_arready(s_axil_arready),
    .s_axil_rdata(s_axil_rdata),
    .s_axil_rresp(s_axil_rresp),
    .s_axil_rvalid(s_axil_rvalid),
    .s_axil_rready(s_axil_rready),
    .fw_irq(fw_irq),
    .fw_dma_irq(fw_dma_irq),
    .ctrl_enabled(fn_ctrl_enabled),
    .ctrl_resetting(fn_ctrl_resetting),
    .cc_css(fn_cc_css),
    .ctrl_reset(fn_ctrl_reset),
    .shutdown_requested(fn_shutdown_requested),
    .shutdown_abrupt(fn_shutdown_abrupt),
    .shutdown_complete(fn_shutdown_complete),
    .shutdown_done(shutdown_done),
    .epoch(epoch),
    .slot_quota(fn_slot_quota),
    .fw_dead(fw_dead),
    .idle(mailbox_idle),
    .cmd_valid(cmd_valid),
    .cmd_slot(cmd_slot),
    .cmd_sqid(cmd_sqid),
    .cmd_epoch(cmd_epoch),
    .cmd_function(cmd_function),
    .cmd_count(cmd_count),
    .cmd_pop(cmd_pop),
    .sqe_rd_en(sqe_rd_en),
    .sqe_rd_slot(sqe_rd_slot),
    .sqe_rd_dw(sqe_rd_dw),
    .sqe_rd_data(sqe_rd_data),
    .cpl_valid(fw_cpl_valid),
    .cpl_ready(fw_cpl_ready),
    .cpl_slot(fw_cpl_slot),
    .cpl_status(fw_cpl_status),
    .cpl_dw0(fw_cpl_dw0),
    .cpl_dw1(fw_cpl_dw1),
    .cpl_epoch(fw_cpl_epoch),
    .poster_idle(poster_idle),
    .cpl_stale(cpl_stale),
    .q_cmd_valid(q_cmd_valid),
    .q_cmd_op(q_cmd_op),
    .q_sel(q_sel),
    .q_base(q_base),
    .q_size(q_size),
    .q_map(q_map),
    .q_vector(q_vector),
    .q_prio(q_prio),
    .q_ien(q_ien),
    .q_sq_valid(q_sq_valid),
    .q_sq_fetching(q_sq_fetching),
    .q_sq_head(q_sq_head),
    .q_sq_tail(q_sq_tail),
    .q_cq_valid(q_cq_valid),
    .q_cq_full(q_cq_full),
    .q_cq_phase(q_cq_phase),
    .q_cq_tail(q_cq_tail),
    .q_cq_head(q_cq_head),
    .q_map_valid(q_map_valid),
    .q_map_on(q_map_on),
    .q_map_function(q_map_function),
    .q_map_lqid(q_map_lqid),
    .q_mapped(q_mapped),
    .q_mapped_function(controller_of(q_sel)),
    .q_mapped_lqid(entry_lqid[QID_W*q_sel +: QID_W]),
    .fw_db_valid(fw_db_valid),
    .fw_db_ready(fw_db_ready),
    .fw_db_is_cq(fw_db_is_cq),
    .fw_db_expect(fw_db_expect),
    .fw_db_value(fw_db_value),
    .db_err_valid(db_err_valid),
    .db_err_kind(db_err_kind),
    .db_err_qid(db_err_number_reg),
    .db_err_is_cq(db_err_is_cq),
    .arb_burst(arb_burst),
    .arb_lpw(arb_lpw),
    .arb_mpw(arb_mpw),
    .arb_hpw(arb_hpw),
    .coalesce_thr(coalesce_thr),
    .coalesce_time(coalesce_time),
    .coalesce_disable(coalesce_disable),
    .dma_present(dma_present),
    .dma_req_valid(dma_req_valid),
    .dma_req_ready(dma_req_ready),
    .dma_req_slot(dma_req_slot),
    .dma_req_dir(dma_req_dir),
    .dma_req_auto(dma_req_auto),
    .dma_req_epoch(dma_req_epoch),
    .dma_req_cookie(dma_req_cookie),
    .dma_req_offset(dma_req_offset),
    .dma_req_length(dma_req_length),
    .dma_req_cmd_len(dma_req_cmd_len),
    .dma_req_dram(dma_req_dram),
    .dma_req_host_buf(dma_req_host_buf),
    .dma_req_host(dma_req_host),
    .dma_req_at(dma_req_at),
    .dma_req_fn_sel(dma_req_fn_sel),
    .dma_req_fn(dma_req_fn),
    .dma_res_valid(dma_res_valid),
    .dma_res_pop(dma_res_pop),
    .dma_res_auto(dma_res_auto),
    .dma_res_cookie(dma_res_cookie),
    .dma_res_status(dma_res_status),
    .dma_res_slot(dma_res_slot),
    .dma_res_count(dma_res_count),
    .dma_in_flight(dma_in_flight)
);

assign m_axi_dram_awlock = 1'b0;
assign m_axi_dram_awcache = 4'b0011;
assign m_axi_dram_awprot = 3'b010;
assign m_axi_dram_arlock = 1'b0;
assign m_axi_dram_arcache = 4'b0011;
assign m_axi_dram_arprot = 3'b010;

generate
if (AXIS_PCIE_DATA_WIDTH == 256 || AXIS_PCIE_DATA_WIDTH == 512) begin : dma

    wire [AXIS_PCIE_DATA_WIDTH-1:0] demux_tdata;
    wire [AXIS_PCIE_KEEP_WIDTH-1:0] demux_tkeep;
    wire [2:0] demux_tvalid;
    wire [2:0] demux_tready;
    wire demux_tlast;
    wire [AXIS_PCIE_RC_USER_WIDTH-1:0] demux_tuser;
    wire [11:0] rc_lower_addr;
    wire rc_failed;
    wire rc_completed;
    wire [10:0] rc_dwords;
    wire [7:0] rc_tag;

    assign dma_present = 1'b1;

    pcie_us_rc_router #(
        .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
        .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
        .AXIS_PCIE_RC_USER_WIDTH(AXIS_PCIE_RC_USER_WIDTH),
        .TAG_SPLIT_1(TAG_WALK),
        .TAG_SPLIT_2(TAG_DATA)
    )
    rc_router_inst (
        .clk(user_clk),
        .rst(user_reset),
        .s_axis_rc_tdata(s_axis_rc_tdata),
        .s_axis_rc_tkeep(s_axis_rc_tkeep),
        .s_axis_rc_tvalid(s_axis_rc_tvalid),
        .s_axis_rc_tready(s_axis_rc_tready),
        .s_axis_rc_tlast(s_axis_rc_tlast),
        .s_axis_rc_tuser(s_axis_rc_tuser),
        .m_axis_rc_tdata(demux_tdata),
        .m_axis_rc_tkeep(demux_tkeep),
        .m_axis_rc_tvalid(demux_tvalid),
        .m_axis_rc_tready(demux_tready),
        .m_axis_rc_tlast(demux_tlast),
        .m_axis_rc_tuser(demux_tuser),
        .m_axis_rc_lower_addr(rc_lower_addr),
        .m_axis_rc_failed(rc_failed),
        .m_axis_rc_completed(rc_completed),
        .m_axis_rc_dwords(rc_dwords),
        .m_axis_rc_tag(rc_tag)
    );
    // the SQ fetch parses its completions itself, dword by dword, as it must at 64 and 128 bits

    assign fetch_rc_tdata = demux_tdata;
    assign fetch_rc_tkeep = demux_tkeep;
    assign fetch_rc_tvalid = demux_tvalid[0];
    assign demux_tready[0] = fetch_rc_tready;
    assign fetch_rc_tlast = demux_tlast;
    assign fetch_rc_tuser = demux_tuser;

    nvme_dma_engine #(
        .TIMEOUT_TICK_CYCLES(TIMEOUT_TICK_CYCLES),
        .TIMEOUT_TICKS(TIMEOUT_TICKS),
        .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
        .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
        .AXIS_PCIE_RQ_USER_WIDTH(AXIS_PCIE_RQ_USER_WIDTH),
        .AXIS_PCIE_RC_USER_WIDTH(AXIS_PCIE_RC_USER_WIDTH),
        .SLOT_W(SLOT_W),
        .REQS(DMA_REQS),
        .DRAM_AW(DRAM_ADDR_WIDTH),
        .AXI_ID_W(DRAM_ID_WIDTH),
        .WALK_TAG_BASE(TAG_WALK),
        .WALK_TAGS(4),
        .DATA_TAGS(DMA_DATA_TAGS)
    )
    dma_inst (
        .clk(user_clk),
        .rst(user_reset),
        .clear(engines_clear),
        .mps({{(16-4*FUNCTIONS){1'b0}}, fn_cc_mps}),
        .max_read_request(cfg_max_read_req),
        .max_payload(cfg_max_payload),
        .serving(serving_any[dma_function]),
        .epoch(epoch_any[8*dma_function +: 8]),
        .req_valid(dma_req_valid),
        .req_ready(dma_req_ready),
        .req_slot(dma_req_slot),
        .req_function(dma_function),
        .req_dir(dma_req_dir),
        .req_auto(dma_req_auto),
        .req_epoch(dma_req_epoch),
        .req_cookie(dma_req_cookie),
        .req_offset(dma_req_offset),
        .req_length(dma_req_length),
        .req_cmd_len(dma_req_cmd_len),
        .req_dram(dma_req_dram[DRAM_ADDR_WIDTH-1:0]),
        .req_host_buf(dma_req_host_buf),
        .req_host(dma_req_host),
        .req_at(dma_req_at),
        .res_valid(dma_res_valid),
        .res_pop(dma_res_pop),
        .res_auto(dma_res_auto),
        .res_cookie(dma_res_cookie),
        .res_status(dma_res_status),
        .res_slot(dma_res_slot),
        .res_count(dma_res_count),
        .req_in_flight(dma_in_flight),
        .cpl_valid(dma_cpl_valid),
        .cpl_ready(dma_cpl_ready),
        .cpl_slot(dma_cpl_slot),
        .sqe_rd_en(sqe_rd2_en),
        .sqe_rd_slot(sqe_rd2_slot),
        .sqe_rd_dw(sqe_rd2_dw),
        .sqe_rd_data(sqe_rd2_data),
        .m_axis_rd_tdata(rq_tdata[2*AXIS_PCIE_DATA_WIDTH +: AXIS_PCIE_DATA_WIDTH]),
        .m_axis_rd_tkeep(rq_tkeep[2*AXIS_PCIE_KEEP_WIDTH +: AXIS_PCIE_KEEP_WIDTH]),
        .m_axis_rd_tvalid(rq_tvalid[2]),
        .m_axis_rd_tready(rq_tready[2]),
        .m_axis_rd_tlast(rq_tlast[2]),
        .m_axis_rd_tuser(rq_tuser[2*AXIS_PCIE_RQ_USER_WIDTH +: AXIS_PCIE_RQ_USER_WIDTH]),
        .m_axis_wr_tdata(rq_tdata[3*AXIS_PCIE_DATA_WIDTH +: AXIS_PCIE_DATA_WIDTH]),
        .m_axis_wr_tkeep(rq_tkeep[3*AXIS_PCIE_KEEP_WIDTH +: AXIS_PCIE_KEEP_WIDTH]),
        .m_axis_wr_tvalid(rq_tvalid[3]),
        .m_axis_wr_tready(rq_tready[3]),
        .m_axis_wr_tlast(rq_tlast[3]),
        .m_axis_wr_tuser(rq_tuser[3*AXIS_PCIE_RQ_USER_WIDTH +: AXIS_PCIE_RQ_USER_WIDTH]),
        .s_axis_rc_tdata(demux_tdata),
        .s_axis_rc_tkeep(demux_tkeep),
        .s_axis_rc_tvalid(demux_tvalid[2:1]),
        .s_axis_rc_tready(demux_tready[2:1]),
        .s_axis_rc_tlast(demux_tlast),
        .s_axis_rc_tuser(demux_tuser),
        .s_axis_rc_lower_addr(rc_lower_addr),
        .s_axis_rc_failed(rc_failed),
        .s_axis_rc_completed(rc_completed),
        .s_axis_rc_dwords(rc_dwords),
        .s_axis_rc_tag(rc_tag),
        .m_axi_awid(m_axi_dram_awid),
        .m_axi_awaddr(m_axi_dram_awaddr),
        .m_axi_awlen(m_axi_dram_awlen),
        .m_axi_awsize(m_axi_dram_awsize),
        .m_axi_awburst(m_axi_dram_awburst),
        .m_axi_awvalid(m_axi_dram_awvalid),
        .m_axi_awready(m_axi_dram_awready),
        .m_axi_wdata(m_axi_dram_wdata),
        .m_axi_wstrb(m_axi_dram_wstrb),
        .m_axi_wlast(m_axi_dram_wlast),
        .m_axi_wvalid(m_axi_dram_wvalid),
        .m_axi_wready(m_axi_dram_wready),
        .m_axi_bid(m_axi_dram_bid),
        .m_axi_bresp(m_axi_dram_bresp),
        .m_axi_bvalid(m_axi_dram_bvalid),
        .m_axi_bready(m_axi_dram_bready),
        .m_axi_arid(m_axi_dram_arid),
        .m_axi_araddr(m_axi_dram_araddr),
        .m_axi_arlen(m_axi_dram_arlen),
        .m_axi_arsize(m_axi_dram_arsize),
        .m_axi_arburst(m_axi_dram_arburst),
        .m_axi_arvalid(m_axi_dram_arvalid),
        .m_axi_arready(m_axi_dram_arready),
        .m_axi_rid(m_axi_dram_rid),
        .m_axi_rdata(m_axi_dram_rdata),
        .m_axi_rresp(m_axi_dram_rresp),
        .m_axi_rlast(m_axi_dram_rlast),
        .m_axi_rvalid(m_axi_dram_rvalid),
        .m_axi_rready(m_axi_dram_rready),
        .idle(dma_idle)
    );

    wire [31:0] unused_dram_hi = dma_req_dram[63:32];

end else begin : no_dma

    // the DMA data path is built for 256- and 512-bit streams; the narrower ones are queue engine only
    assign dma_present = 1'b0;
    assign dma_idle = 1'b1;
    assign dma_req_ready = 1'b0;
    assign dma_res_valid = 1'b0;
    assign dma_res_auto = 1'b0;
    assign dma_res_cookie = 8'd0;
    assign dma_res_status = 8'd0;
    assign dma_res_slot = 0;
    assign dma_res_count = 8'd0;
    assign dma_in_flight = 8'd0;
    assign dma_cpl_valid = 1'b0;
    assign dma_cpl_slot = 0;
    assign sqe_rd2_en = 1'b0;
    assign sqe_rd2_slot = 0;
    assign sqe_rd2_dw = 4'd0;
    assign fetch_rc_tdata = s_axis_rc_tdata;
    assign fetch_rc_tkeep = s_axis_rc_tkeep;
    assign fetch_rc_tvalid = s_axis_rc_tvalid;
    assign s_axis_rc_tready = fetch_rc_tready;
    assign fetch_rc_tlast = s_axis_rc_tlast;
    assign fetch_rc_tuser = s_axis_rc_tuser;
    assign rq_tdata[2*AXIS_PCIE_DATA_WIDTH +: 2*AXIS_PCIE_DATA_WIDTH] = 0;
    assign rq_tkeep[2*AXIS_PCIE_KEEP_WIDTH +: 2*AXIS_PCIE_KEEP_WIDTH] = 0;
    assign rq_tvalid[3:2] = 2'b00;
    assign rq_tlast[3:2] = 2'b00;
    assign rq_tuser[2*AXIS_PCIE_RQ_USER_WIDTH +: 2*AXIS_PCIE_RQ_USER_WIDTH] = 0;
    assign m_axi_dram_awid = 0;
    assign m_axi_dram_awaddr = 0;
    assign m_axi_dram_awlen = 8'd0;
    assign m_axi_dram_awsize = 3'd0;
    assign m_axi_dram_awburst = 2'd0;
    assign m_axi_dram_awvalid = 1'b0;
    assign m_axi_dram_wdata = 0;
    assign m_axi_dram_wstrb = 0;
    assign m_axi_dram_wlast = 1'b0;
    assign m_axi_dram_wvalid = 1'b0;
    assign m_axi_dram_bready = 1'b1;
    assign m_axi_dram_arid = 0;
    assign m_axi_dram_araddr = 0;
    assign m_axi_dram_arlen = 8'd0;
    assign m_axi_dram_arsize = 3'd0;
    assign m_axi_dram_arburst = 2'd0;
    assign m_axi_dram_arvalid = 1'b0;
    assign m_axi_dram_rready = 1'b1;
    wire unused_dma = &{1'b0, dma_req_valid, dma_req_slot, dma_req_dir, dma_req_auto, dma_req_cookie,
                        dma_req_epoch, epoch, fn_serving, dma_function,
                        dma_req_offset, dma_req_length, dma_req_cmd_len, dma_req_dram, dma_req_host_buf,
                        dma_req_host, dma_req_at, dma_res_pop,
                        dma_cpl_ready, sqe_rd2_data, cfg_max_payload, fn_cc_mps, rq_tready[3:2],
                        m_axi_dram_awready, m_axi_dram_wready, m_axi_dram_bid, m_axi_dram_bresp,
                        m_axi_dram_bvalid, m_axi_dram_arready, m_axi_dram_rid, m_axi_dram_rdata,
                        m_axi_dram_rresp, m_axi_dram_rlast, m_axi_dram_rvalid};

end
endgenerate

endmodule

`resetall
