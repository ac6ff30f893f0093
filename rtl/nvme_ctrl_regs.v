`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * NVMe controller registers (NVM Express Base Specification 1.4, section 3.1)
 * with the enable and shutdown handshakes.
 *
 * CC.EN 0->1 checks the configuration (CC.MPS within CAP.MPSMIN..MPSMAX,
 * CC.CSS a supported command set, CC.AMS a supported arbitration mechanism,
 * AQA sizes of at least two entries, ASQ and ACQ aligned to the memory page
 * size). A valid configuration sets CSTS.RDY once the queue engine reports it
 * is idle; an invalid one sets CSTS.CFS and leaves RDY clear, as QEMU's
 * controller does, until the host clears CC.EN. CC.EN 1->0 pulses ctrl_reset
 * (every queue and in-flight command is dropped) and clears CSTS once the
 * engine is idle again. A shutdown notification (CC.SHN 01b or 10b) reads
 * SHST 01b until the firmware reports its volatile state durable
 * (fw_shutdown_done) and the engine is idle; only then 10b, ready for power
 * removal. Doorbell writes are decoded at the CAP.DSTRD stride
 * and passed on as events, including writes past the last queue's doorbell
 * (db_beyond, the queue id then truncated); doorbells read as zero.
 *
 * Offsets, field positions and the fixed CAP and VS values come from
 * contract/nvme_bar0.rdl (rtl/include/nvme_bar0_regs.vh).
 */
module nvme_ctrl_regs #
(
    // Byte address width of the register space
    parameter ADDR_WIDTH = 14,
    // Number of queue pairs including the admin queue (doorbells decoded)
    parameter QUEUE_COUNT = 65,
    // CAP.MQES: maximum I/O queue size, zero-based
    parameter [15:0] MQES = 16'd4095,
    // CAP.DSTRD: doorbell stride is 4 << DSTRD bytes
    parameter [3:0] DSTRD = 4'd0,
    // CAP.MPSMAX: largest memory page size is 4 KiB << MPSMAX (CAP.MPSMIN is the contract's)
    parameter [3:0] MPSMAX = 4'd2,
    // Cycles from CC.EN 0->1 with a valid configuration to CSTS.RDY
    parameter READY_DELAY = 16
)
(
    input  wire                  clk,
    input  wire                  rst,

    /*
     * Register port (see pcie_us_bar_completer)
     */
    input  wire [ADDR_WIDTH-1:2] reg_addr,
    input  wire                  reg_wr_en,
    input  wire [31:0]           reg_wr_data,
    input  wire [3:0]            reg_wr_strb,
    input  wire                  reg_rd_en,
    output wire [31:0]           reg_rd_data,

    /*
     * Controller state for the queue engine
     */
    output wire                  ctrl_enabled,
    output wire                  ctrl_resetting,
    output wire                  ctrl_reset,
    output wire                  admin_create,
    output wire                  shutdown_requested,
    output wire                  shutdown_abrupt,
    output wire                  shutdown_complete,
    input  wire                  fw_shutdown_done,
    input  wire                  fatal_error,
    output wire                  fatal,
    output wire [3:0]            cc_mps,
    output wire [2:0]            cc_ams,
    output wire [2:0]            cc_css,
    output wire [3:0]            cc_iosqes,
    output wire [3:0]            cc_iocqes,
    output wire [11:0]           aqa_asqs,
    output wire [11:0]           aqa_acqs,
    output wire [63:12]          asq_base,
    output wire [63:12]          acq_base,
    output wire [31:0]           intm,
    input  wire                  engine_idle,
    // no state change under way (no enable, reset or shutdown step, no event pulse): nothing
    // changes until an input does
    output wire                  stable,

    /*
     * Doorbell write events
     */
    output wire                  db_valid,
    output wire [$clog2(QUEUE_COUNT)-1:0] db_qid,
    output wire                  db_is_cq,
    output wire                  db_beyond,
    output wire [15:0]           db_value
);

`include "nvme_bar0_regs.vh"

localparam QID_W = $clog2(QUEUE_COUNT);
localparam [3:0] MPSMIN = NVME_CAP_MPSMIN_VALUE;
localparam [2:0] AMS = {1'b0, NVME_CAP_AMS_VALUE};
// CC.CSS values: the NVM command set only, or every I/O command set CAP.CSS bit 6 offers
localparam [2:0] CSS_NVM = 3'b000, CSS_ALL_IO = 3'b110;

initial begin
    if (ADDR_WIDTH != NVME_BAR0_ADDR_W) begin
        $error("Error: the BAR0 map decodes %0d address bits (instance %m)", NVME_BAR0_ADDR_W);
        $finish;
    end
    if (((QUEUE_COUNT * 2) << (2 + DSTRD)) + {18'd0, NVME_DOORBELL} > {18'd0, NVME_MSIX_TABLE}) begin
        $error("Error: doorbells reach into the MSI-X table (instance %m)");
        $finish;
    end
    if (MPSMAX < MPSMIN) begin
        $error("Error: MPSMAX must not be below MPSMIN (instance %m)");
        $finish;
    end
end

// Register dword offsets (the BAR0 map's byte offsets, as the register port addresses them)
localparam [ADDR_WIDTH-3:0]
    REG_CAP_LO = NVME_CAP[ADDR_WIDTH-1:2],
    REG_CAP_HI = NVME_CAP[ADDR_WIDTH-1:2] + 1,
    REG_VS     = NVME_VS[ADDR_WIDTH-1:2],
    REG_INTMS  = NVME_INTMS[ADDR_WIDTH-1:2],
    REG_INTMC  = NVME_INTMC[ADDR_WIDTH-1:2],
    REG_CC     = NVME_CC[ADDR_WIDTH-1:2],
    REG_CSTS   = NVME_CSTS[ADDR_WIDTH-1:2],
    REG_AQA    = NVME_AQA[ADDR_WIDTH-1:2],
    REG_ASQ_LO = NVME_ASQ[ADDR_WIDTH-1:2],
    REG_ASQ_HI = NVME_ASQ[ADDR_WIDTH-1:2] + 1,
    REG_ACQ_LO = NVME_ACQ[ADDR_WIDTH-1:2],
    REG_ACQ_HI = NVME_ACQ[ADDR_WIDTH-1:2] + 1,
    DB_BASE    = NVME_DOORBELL[ADDR_WIDTH-1:2];

// A field's value in its place in a register (place64: in a 64-bit one)
function [31:0] place(input [31:0] value, input integer lsb);
    place = value << lsb;
endfunction
function [63:0] place64(input [63:0] value, input integer lsb);
    place64 = value << lsb;
endfunction

localparam [31:0] VERSION = place({16'd0, NVME_VS_MJR_VALUE}, NVME_VS_MJR) | place({24'd0, NVME_VS_MNR_VALUE}, NVME_VS_MNR)
                            | place({24'd0, NVME_VS_TER_VALUE}, NVME_VS_TER);

localparam [63:0] CAP = place64({48'd0, MQES}, NVME_CAP_MQES) | place64({63'd0, NVME_CAP_CQR_VALUE}, NVME_CAP_CQR)
    | place64({62'd0, NVME_CAP_AMS_VALUE}, NVME_CAP_AMS) | place64({56'd0, NVME_CAP_TO_VALUE}, NVME_CAP_TO)
    | place64({60'd0, DSTRD}, NVME_CAP_DSTRD) | place64({63'd0, NVME_CAP_NSSRS_VALUE}, NVME_CAP_NSSRS)
    | place64({56'd0, NVME_CAP_CSS_VALUE}, NVME_CAP_CSS) | place64({63'd0, NVME_CAP_BPS_VALUE}, NVME_CAP_BPS)
    | place64({60'd0, MPSMIN}, NVME_CAP_MPSMIN) | place64({60'd0, MPSMAX}, NVME_CAP_MPSMAX)
    | place64({63'd0, NVME_CAP_PMRS_VALUE}, NVME_CAP_PMRS) | place64({63'd0, NVME_CAP_CMBS_VALUE}, NVME_CAP_CMBS);

localparam [2:0]
    STATE_DISABLED = 3'd0,
    STATE_CHECK = 3'd1,
    STATE_STARTING = 3'd2,
    STATE_READY = 3'd3,
    STATE_FAILED = 3'd4,
    STATE_RESETTING = 3'd5;

localparam [1:0]
    SHST_NORMAL = 2'b00,
    SHST_PROCESSING = 2'b01,
    SHST_COMPLETE = 2'b10;

reg [2:0] state_reg;
reg [$clog2(READY_DELAY+1)-1:0] delay_reg;

reg cc_en_reg;
reg [2:0] cc_css_reg;
reg [3:0] cc_mps_reg;
reg [2:0] cc_ams_reg;
reg [1:0] cc_shn_reg;
reg [3:0] cc_iosqes_reg;
reg [3:0] cc_iocqes_reg;

reg [1:0] shst_reg;
reg [31:0] intm_reg;

reg [11:0] asqs_reg;
reg [11:0] acqs_reg;
reg [63:12] asq_reg;
reg [63:12] acq_reg;

reg ctrl_reset_reg;
reg admin_create_reg;
reg fatal_reg;

reg [31:0] rd_data_reg;

reg db_valid_reg;
reg [QID_W-1:0] db_qid_reg;
reg db_is_cq_reg;
reg db_beyond_reg;
reg [15:0] db_value_reg;

assign reg_rd_data = rd_data_reg;

assign ctrl_enabled = state_reg == STATE_READY;
assign ctrl_resetting = state_reg == STATE_RESETTING;
assign ctrl_reset = ctrl_reset_reg;
assign admin_create = admin_create_reg;
assign shutdown_requested = cc_shn_reg != 2'b00;
assign shutdown_abrupt = cc_shn_reg == 2'b10;
assign shutdown_complete = shst_reg == SHST_COMPLETE;
assign fatal = fatal_reg;
assign cc_mps = cc_mps_reg;
assign cc_ams = cc_ams_reg;
assign cc_css = cc_css_reg;
assign cc_iosqes = cc_iosqes_reg;
assign cc_iocqes = cc_iocqes_reg;
assign aqa_asqs = asqs_reg;
assign aqa_acqs = acqs_reg;
assign asq_base = asq_reg;
assign acq_base = acq_reg;
assign intm = intm_reg;

assign db_valid = db_valid_reg;
assign db_qid = db_qid_reg;
assign db_is_cq = db_is_cq_reg;
assign db_beyond = db_beyond_reg;
assign db_value = db_value_reg;

wire [31:0] strb_mask = {{8{reg_wr_strb[3]}}, {8{reg_wr_strb[2]}}, {8{reg_wr_strb[1]}}, {8{reg_wr_strb[0]}}};

// Merge a write into a 32-bit register image under the byte enables
function [31:0] merge(input [31:0] old, input [31:0] data, input [31:0] mask);
    merge = (old & ~mask) | (data & mask);
endfunction

wire [31:0] cc_image = place({31'd0, cc_en_reg}, NVME_CC_EN) | place({29'd0, cc_css_reg}, NVME_CC_CSS)
    | place({28'd0, cc_mps_reg}, NVME_CC_MPS) | place({29'd0, cc_ams_reg}, NVME_CC_AMS)
    | place({30'd0, cc_shn_reg}, NVME_CC_SHN) | place({28'd0, cc_iosqes_reg}, NVME_CC_IOSQES)
    | place({28'd0, cc_iocqes_reg}, NVME_CC_IOCQES);
wire [31:0] aqa_image = place({20'd0, asqs_reg}, NVME_AQA_ASQS) | place({20'd0, acqs_reg}, NVME_AQA_ACQS);
// Register images after a write, under the byte enables; reserved bits drop out
/* verilator lint_off UNUSEDSIGNAL */
wire [31:0] cc_written = merge(cc_image, reg_wr_data, strb_mask);
wire [31:0] aqa_written = merge(aqa_image, reg_wr_data, strb_mask);
wire [31:0] asq_lo_written = merge({asq_reg[31:12], 12'd0}, reg_wr_data, strb_mask);
wire [31:0] acq_lo_written = merge({acq_reg[31:12], 12'd0}, reg_wr_data, strb_mask);
/* verilator lint_on UNUSEDSIGNAL */
// RDY stays set while a reset drains, so that RDY reading 0 means the
// engine has stopped
wire [31:0] csts_image = place({31'd0, state_reg == STATE_READY || state_reg == STATE_RESETTING}, NVME_CSTS_RDY)
    | place({31'd0, state_reg == STATE_FAILED || fatal_reg}, NVME_CSTS_CFS) | place({30'd0, shst_reg}, NVME_CSTS_SHST)
    | place({31'd0, NVME_CSTS_NSSRO_VALUE}, NVME_CSTS_NSSRO) | place({31'd0, NVME_CSTS_PP_VALUE}, NVME_CSTS_PP);

// Memory page size mask for queue base alignment checks
wire [63:0] page_mask = (64'd4096 << cc_mps_reg) - 1;

// MPSMIN may be zero, which makes its comparison constant
/* verilator lint_off UNSIGNED */
wire config_valid = cc_mps_reg >= MPSMIN && cc_mps_reg <= MPSMAX &&
                    (cc_css_reg == CSS_NVM || (cc_css_reg == CSS_ALL_IO && NVME_CAP_CSS_VALUE[6])) &&
                    (cc_ams_reg == 3'b000 || (cc_ams_reg == 3'b001 && AMS[0]) ||
                     (cc_ams_reg == 3'b111 && AMS[1])) &&
                    asqs_reg != 0 && acqs_reg != 0 &&
                    ({asq_reg, 12'd0} & page_mask) == 0 &&
                    ({acq_reg, 12'd0} & page_mask) == 0;
/* verilator lint_on UNSIGNED */

wire in_db_range = reg_addr >= DB_BASE[ADDR_WIDTH-3:0];
wire [ADDR_WIDTH-3:0] db_index = (reg_addr - DB_BASE[ADDR_WIDTH-3:0]) >> DSTRD;
wire db_aligned = DSTRD == 0 || ((reg_addr - DB_BASE[ADDR_WIDTH-3:0]) & ((1 << DSTRD) - 1)) == 0;

// Whether the next edge moves the enable state machine (state_reg or
// delay_reg) or the shutdown status (shst_reg), for stable: these follow the
// state machine and the shutdown steps of the clocked block below, and must
// change with them. (The shutdown status also returns to normal when a reset
// completes, a step of the state machine.)
reg sm_step;
always @* begin
    case (state_reg)
        STATE_DISABLED:  sm_step = cc_en_reg;
        STATE_CHECK:     sm_step = 1'b1;
        STATE_STARTING:  sm_step = !cc_en_reg || delay_reg != 0 || engine_idle;
        STATE_READY:     sm_step = !cc_en_reg;
        STATE_FAILED:    sm_step = !cc_en_reg;
        STATE_RESETTING: sm_step = !ctrl_reset_reg && engine_idle;
        default:         sm_step = 1'b1;
    endcase
end

wire shst_step = cc_shn_reg != 2'b00
                 ? shst_reg == SHST_NORMAL || (shst_reg == SHST_PROCESSING && engine_idle && fw_shutdown_done)
                 : shst_reg != SHST_NORMAL;

assign stable = !sm_step && !shst_step
                && !ctrl_reset_reg && !admin_create_reg && !db_valid_reg && !reg_rd_en && !reg_wr_en;

always @(posedge clk) begin
    ctrl_reset_reg <= 1'b0;
    admin_create_reg <= 1'b0;
    db_valid_reg <= 1'b0;

    if (fatal_error && state_reg == STATE_READY) begin
        fatal_reg <= 1'b1;
    end

    if (reg_rd_en) begin
        case (reg_addr)
            REG_CAP_LO: rd_data_reg <= CAP[31:0];
            REG_CAP_HI: rd_data_reg <= CAP[63:32];
            REG_VS:     rd_data_reg <= VERSION;
            REG_INTMS:  rd_data_reg <= intm_reg;
            REG_INTMC:  rd_data_reg <= intm_reg;
            REG_CC:     rd_data_reg <= cc_image;
            REG_CSTS:   rd_data_reg <= csts_image;
            REG_AQA:    rd_data_reg <= aqa_image;
            REG_ASQ_LO: rd_data_reg <= {asq_reg[31:12], 12'd0};
            REG_ASQ_HI: rd_data_reg <= asq_reg[63:32];
            REG_ACQ_LO: rd_data_reg <= {acq_reg[31:12], 12'd0};
            REG_ACQ_HI: rd_data_reg <= acq_reg[63:32];
            default:    rd_data_reg <= 32'd0;
        endcase
    end

    if (reg_wr_en) begin
        case (reg_addr)
            REG_INTMS: intm_reg <= intm_reg | (reg_wr_data & strb_mask);
            REG_INTMC: intm_reg <= intm_reg & ~(reg_wr_data & strb_mask);
            REG_CC: begin
                cc_en_reg <= cc_written[NVME_CC_EN];
                cc_shn_reg <= cc_written[NVME_CC_SHN +: 2];
                cc_iosqes_reg <= cc_written[NVME_CC_IOSQES +: 4];
                cc_iocqes_reg <= cc_written[NVME_CC_IOCQES +: 4];
                // CSS, MPS and AMS may change only while the controller is disabled
                if (!cc_en_reg) begin
                    cc_css_reg <= cc_written[NVME_CC_CSS +: 3];
                    cc_mps_reg <= cc_written[NVME_CC_MPS +: 4];
                    cc_ams_reg <= cc_written[NVME_CC_AMS +: 3];
                end
            end
            REG_AQA: begin
                asqs_reg <= aqa_written[NVME_AQA_ASQS +: 12];
                acqs_reg <= aqa_written[NVME_AQA_ACQS +: 12];
            end
            REG_ASQ_LO: asq_reg[31:12] <= asq_lo_written[31:12];
            REG_ASQ_HI: asq_reg[63:32] <= merge(asq_reg[63:32], reg_wr_data, strb_mask);
            REG_ACQ_LO: acq_reg[31:12] <= acq_lo_written[31:12];
            REG_ACQ_HI: acq_reg[63:32] <= merge(acq_reg[63:32], reg_wr_data, strb_mask);
            default: begin
                // a doorbell past the last queue is reported too (db_beyond)
                if (in_db_range && db_aligned) begin
                    db_valid_reg <= 1'b1;
                    db_qid_reg <= db_index[QID_W:1];
                    db_is_cq_reg <= db_index[0];
                    db_beyond_reg <= {{(32-ADDR_WIDTH+2){1'b0}}, db_index >> 1} >= QUEUE_COUNT;
                    db_value_reg <= reg_wr_data[15:0];
                end
            end
        endcase
    end

    // Shutdown: CC.SHN 00 -> notification starts it; back to 00 clears SHST
    if (cc_shn_reg != 2'b00 && shst_reg == SHST_NORMAL) begin
        shst_reg <= SHST_PROCESSING;
    end else if (shst_reg == SHST_PROCESSING && engine_idle && fw_shutdown_done) begin
        shst_reg <= SHST_COMPLETE;
    end
    if (cc_shn_reg == 2'b00) begin
        shst_reg <= SHST_NORMAL;
    end

    // Enable state machine; the intm, shst and fatal_reg updates here come
    // after, and so override, those above
    case (state_reg)
        STATE_DISABLED: begin
            if (cc_en_reg) begin
                state_reg <= STATE_CHECK;
            end
        end
        STATE_CHECK: begin
            if (!cc_en_reg) begin
                state_reg <= STATE_DISABLED;
            end else if (config_valid) begin
                delay_reg <= READY_DELAY[$clog2(READY_DELAY+1)-1:0];
                admin_create_reg <= 1'b1;
                state_reg <= STATE_STARTING;
            end else begin
                state_reg <= STATE_FAILED;
            end
        end
        STATE_STARTING: begin
            if (!cc_en_reg) begin
                ctrl_reset_reg <= 1'b1;
                state_reg <= STATE_RESETTING;
            end else if (delay_reg != 0) begin
                delay_reg <= delay_reg - 1;
            end else if (engine_idle) begin
                state_reg <= STATE_READY;
            end
        end
        STATE_READY: begin
            if (!cc_en_reg) begin
                ctrl_reset_reg <= 1'b1;
                intm_reg <= 32'd0;
                state_reg <= STATE_RESETTING;
            end
        end
        STATE_FAILED: begin
            if (!cc_en_reg) begin
                state_reg <= STATE_DISABLED;
            end
        end
        STATE_RESETTING: begin
            if (!ctrl_reset_reg && engine_idle) begin
                state_reg <= STATE_DISABLED;
                shst_reg <= SHST_NORMAL;
                fatal_reg <= 1'b0;
            end
        end
        default: state_reg <= STATE_DISABLED;
    endcase

    if (rst) begin
        state_reg <= STATE_DISABLED;
        delay_reg <= 0;
        cc_en_reg <= 1'b0;
        cc_css_reg <= 3'd0;
        cc_mps_reg <= 4'd0;
        cc_ams_reg <= 3'd0;
        cc_shn_reg <= 2'd0;
        cc_iosqes_reg <= 4'd0;
        cc_iocqes_reg <= 4'd0;
        shst_reg <= SHST_NORMAL;
        intm_reg <= 32'd0;
        asqs_reg <= 12'd0;
        acqs_reg <= 12'd0;
        asq_reg <= 52'd0;
        acq_reg <= 52'd0;
        ctrl_reset_reg <= 1'b0;
        admin_create_reg <= 1'b0;
        fatal_reg <= 1'b0;
        rd_data_reg <= 32'd0;
        db_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
