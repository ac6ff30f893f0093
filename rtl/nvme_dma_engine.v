`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * DMA engine: moves a command's data between host memory and device DRAM
 * at the firmware's request (docs/dma_engine.md).
 *
 * A request names a command slot, a byte range of the command's data, a
 * DRAM address and a direction. Requests queue here, take one of REQS
 * request ids, are walked one at a time (nvme_dma_walker) and move in the
 * read or the write engine while later ones are walked. Each ends with a
 * result for the firmware: its cookie, slot and an NVMe generic status; on
 * success the engine can post the command's completion itself
 * (auto-complete). A request id comes back when the firmware pops the
 * result, so the result FIFO cannot overflow.
 *
 * Controller reset: queued requests and results are dropped, the walk and
 * the engines stop taking new work, what is in flight drains (reads
 * complete or time out, bursts finish), then every request is forgotten.
 *
 * A request is refused, without a single memory request, when it names an
 * older reset generation than the controller's (req_epoch != epoch) or
 * arrives while the controller does not serve commands (not ready, fatal
 * status, or shut down): it still takes a request id and ends with a result,
 * Command Abort Requested, so the firmware's bookkeeping stays the same.
 */
module nvme_dma_engine #
(
    // Width of the PCIe streams in bits
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // RQ tuser width
    parameter AXIS_PCIE_RQ_USER_WIDTH = 62,
    // RC tuser width
    parameter AXIS_PCIE_RC_USER_WIDTH = 75,
    // Command slot id width
    parameter SLOT_W = 6,
    // Requests in flight (a power of two)
    parameter REQS = 16,
    // Device DRAM byte address width
    parameter DRAM_AW = 32,
    // AXI4 id width
    parameter AXI_ID_W = 4,
    // First pointer-read tag; the data tags follow
    parameter [7:0] WALK_TAG_BASE = 8,
    // Pointer-read tags
    parameter WALK_TAGS = 4,
    // Data read tags
    parameter DATA_TAGS = 20,
    // Completion timeout: TIMEOUT_TICKS periods of TIMEOUT_TICK_CYCLES
    parameter TIMEOUT_TICK_CYCLES = 1024,
    parameter TIMEOUT_TICKS = 13
)
(
    input  wire                                 clk,
    input  wire                                 rst,
    // Controller reset pulse
    input  wire                                 clear,
    // CC.MPS of each function (4 bits each, function 0 lowest; a walk uses its request's), and the PCIe
    // device control settings
    input  wire [15:0]                          mps,
    input  wire [2:0]                           max_read_request,
    input  wire [2:0]                           max_payload,
    // The controller of the request's slot (req_slot) serves commands (CSTS.RDY, no fatal status, not
    // shut down), and its reset generation
    input  wire                                 serving,
    input  wire [7:0]                           epoch,

    /*
     * Firmware requests (held until taken) and results
     */
    input  wire                                 req_valid,
    output wire                                 req_ready,
    input  wire [SLOT_W-1:0]                    req_slot,
    // the function of the slot's controller: the requester of every memory request for it
    input  wire [1:0]                           req_function,
    input  wire                                 req_dir,
    input  wire                                 req_auto,
    input  wire [7:0]                           req_epoch,
    input  wire [7:0]                           req_cookie,
    input  wire [23:0]                          req_offset,
    input  wire [23:0]                          req_length,
    input  wire [23:0]                          req_cmd_len,
    input  wire [DRAM_AW-1:0]                   req_dram,
    // the request moves bytes of the host buffer at req_host (req_cmd_len long), not the command's data
    input  wire                                 req_host_buf,
    input  wire [63:0]                          req_host,
    // the PCIe Address Type of the request's memory requests (ATS): only a host-buffer request's may be other
    // than untranslated (0), and 3 is reserved; the walker fails any other with Internal Error
    input  wire [1:0]                           req_at,
    output wire                                 res_valid,
    input  wire                                 res_pop,
    // the oldest result (while res_valid): auto-completed, cookie, generic status, slot
    output wire                                 res_auto,
    output wire [7:0]                           res_cookie,
    output wire [7:0]                           res_status,
    output wire [SLOT_W-1:0]                    res_slot,
    output wire [7:0]                           res_count,
    output wire [7:0]                           req_in_flight,

    /*
     * Auto-completions to the CQ poster
     */
    output wire                                 cpl_valid,
    input  wire                                 cpl_ready,
    output wire [SLOT_W-1:0]                    cpl_slot,

    /*
     * Command slot reads (data the next cycle)
     */
    output wire                                 sqe_rd_en,
    output wire [SLOT_W-1:0]                    sqe_rd_slot,
    output wire [3:0]                           sqe_rd_dw,
    input  wire [31:0]                          sqe_rd_data,

    /*
     * RQ: memory reads (pointers and data) and memory writes
     */
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]      m_axis_rd_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]      m_axis_rd_tkeep,
    output wire                                 m_axis_rd_tvalid,
    input  wire                                 m_axis_rd_tready,
    output wire                                 m_axis_rd_tlast,
    output wire [AXIS_PCIE_RQ_USER_WIDTH-1:0]   m_axis_rd_tuser,
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]      m_axis_wr_tdata,
    output wire [AXIS_PCIE_KEEP_WIDTH-1:0]      m_axis_wr_tkeep,
    output wire                                 m_axis_wr_tvalid,
    input  wire                                 m_axis_wr_tready,
    output wire                                 m_axis_wr_tlast,
    output wire [AXIS_PCIE_RQ_USER_WIDTH-1:0]   m_axis_wr_tuser,

    /*
     * RC: completions of pointer reads and of data reads
     */
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]      s_axis_rc_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]      s_axis_rc_tkeep,
    input  wire [1:0]                           s_axis_rc_tvalid,
    output wire [1:0]                           s_axis_rc_tready,
    input  wire                                 s_axis_rc_tlast,
    input  wire [AXIS_PCIE_RC_USER_WIDTH-1:0]   s_axis_rc_tuser,
    // the completion descriptor, decoded once by the RC front end (pcie_us_rc_router)
    input  wire [11:0]                          s_axis_rc_lower_addr,
    input  wire                                 s_axis_rc_failed,
    input  wire                                 s_axis_rc_completed,
    input  wire [10:0]                          s_axis_rc_dwords,
    input  wire [7:0]                           s_axis_rc_tag,

    /*
     * AXI4 master to device DRAM
     */
    output wire [AXI_ID_W-1:0]                  m_axi_awid,
    output wire [DRAM_AW-1:0]                   m_axi_awaddr,
    output wire [7:0]                           m_axi_awlen,
    output wire [2:0]                           m_axi_awsize,
    output wire [1:0]                           m_axi_awburst,
    output wire                                 m_axi_awvalid,
    input  wire                                 m_axi_awready,
    output wire [AXIS_PCIE_DATA_WIDTH-1:0]      m_axi_wdata,
    output wire [AXIS_PCIE_DATA_WIDTH/8-1:0]    m_axi_wstrb,
    output wire                                 m_axi_wlast,
    output wire                                 m_axi_wvalid,
    input  wire                                 m_axi_wready,
    input  wire [AXI_ID_W-1:0]                  m_axi_bid,
    input  wire [1:0]                           m_axi_bresp,
    input  wire                                 m_axi_bvalid,
    output wire                                 m_axi_bready,
    output wire [AXI_ID_W-1:0]                  m_axi_arid,
    output wire [DRAM_AW-1:0]                   m_axi_araddr,
    output wire [7:0]                           m_axi_arlen,
    output wire [2:0]                           m_axi_arsize,
    output wire [1:0]                           m_axi_arburst,
    output wire                                 m_axi_arvalid,
    input  wire                                 m_axi_arready,
    input  wire [AXI_ID_W-1:0]                  m_axi_rid,
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]      m_axi_rdata,
    input  wire [1:0]                           m_axi_rresp,
    input  wire                                 m_axi_rlast,
    input  wire                                 m_axi_rvalid,
    output wire                                 m_axi_rready,

    output wire                                 idle
);

localparam REQ_W = $clog2(REQS);
localparam [7:0] DATA_TAG_BASE = WALK_TAG_BASE + WALK_TAGS;

initial begin
    if ((1 << REQ_W) != REQS) begin
        $error("Error: REQS must be a power of two (instance %m)");
        $finish;
    end
    if (DATA_TAG_BASE + DATA_TAGS > 32) begin
        $error("Error: tags end at 31 without extended tags (instance %m)");
        $finish;
    end
end

wire tick;
wire walker_timer_armed;
wire rd_timer_armed;
timebase_pulse #(
    .PERIOD(TIMEOUT_TICK_CYCLES)
)
tick_inst (
    .clk(clk),
    .rst(rst),
    .enable(walker_timer_armed || rd_timer_armed),
    .pulse(tick)
);

reg aborting_reg;
wire walker_idle;
wire rd_idle;
wire wr_idle;
wire forget = aborting_reg && walker_idle && rd_idle && wr_idle;

/*
 * Request queue and request ids
 */
localparam Q_BITS = 69 + SLOT_W + 3 + 8 + 3*24 + DRAM_AW;
reg [Q_BITS-1:0] q_mem [0:7];   // 8 requests waiting for the walker
reg [3:0] q_wr_reg;
reg [3:0] q_rd_reg;
wire q_empty = q_wr_reg == q_rd_reg;
// a 4-bit difference: compared unsized, it would widen to 32 bits and miss the full queue after a wrap
wire [3:0] q_count = q_wr_reg - q_rd_reg;
assign req_ready = q_count != 4'd8 && !aborting_reg && !clear;
wire [Q_BITS-1:0] q_head = q_mem[q_rd_reg[2:0]];
wire [SLOT_W-1:0] h_slot = q_head[Q_BITS-70 -: SLOT_W];
wire h_dir = q_head[Q_BITS-70-SLOT_W];
wire h_auto = q_head[Q_BITS-71-SLOT_W];
wire h_refuse = q_head[Q_BITS-72-SLOT_W];
wire [7:0] h_cookie = q_head[Q_BITS-73-SLOT_W -: 8];
wire [23:0] h_offset = q_head[DRAM_AW+71:DRAM_AW+48];
wire [23:0] h_length = q_head[DRAM_AW+47:DRAM_AW+24];
wire [23:0] h_cmd_len = q_head[DRAM_AW+23:DRAM_AW];
wire [DRAM_AW-1:0] h_dram = q_head[DRAM_AW-1:0];
wire [1:0] h_at = q_head[Q_BITS-1 -: 2];
wire [1:0] h_function = q_head[Q_BITS-3 -: 2];
wire h_host_buf = q_head[Q_BITS-5];
wire [63:0] h_host = q_head[Q_BITS-6 -: 64];

reg [REQS-1:0] id_busy_reg;
reg [7:0] id_cookie [0:REQS-1];
reg [SLOT_W-1:0] id_slot [0:REQS-1];
reg [REQS-1:0] id_auto_reg;
reg [2*REQS-1:0] id_function_reg;
reg [2*REQS-1:0] id_at_reg;

reg [REQ_W-1:0] free_id;
reg id_free;
reg [7:0] busy_count;
integer i;
always @* begin
    free_id = 0;
    id_free = 1'b0;
    busy_count = 8'd0;
    for (i = REQS - 1; i >= 0; i = i - 1) begin
        if (!id_busy_reg[i]) begin
            free_id = i[REQ_W-1:0];
            id_free = 1'b1;
        end
        busy_count = busy_count + {7'd0, id_busy_reg[i]};
    end
end
assign req_in_flight = busy_count;

wire walker_req_ready;
wire start = !q_empty && id_free && walker_req_ready && !aborting_reg && !clear;

/*
 * Walker
 */
wire ptr_req_valid;
wire ptr_req_ready;
wire [63:2] ptr_req_addr;
wire [10:0] ptr_req_dwords;
wire [7:0] ptr_req_tag;
wire seg_valid;
wire seg_dir;
wire seg_end;
wire [REQ_W-1:0] seg_req;
wire [7:0] seg_code;
wire [63:2] seg_addr;
wire [10:0] seg_dwords;
wire [DRAM_AW-1:2] seg_dram;
wire rd_seg_ready;
wire wr_seg_ready;

nvme_dma_walker #(
    .TIMEOUT_TICKS(TIMEOUT_TICKS),
    .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
    .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
    .AXIS_PCIE_RC_USER_WIDTH(AXIS_PCIE_RC_USER_WIDTH),
    .SLOT_W(SLOT_W),
    .REQ_W(REQ_W),
    .LEN_W(24),
    .DRAM_AW(DRAM_AW),
    .TAG_BASE(WALK_TAG_BASE),
    .TAGS(WALK_TAGS)
)
walker_inst (
    .clk(clk),
    .rst(rst),
    .clear(clear),
    .tick(tick),
    .mps(mps[4*id_function_reg[2*seg_req +: 2] +: 4]),
    .req_valid(start),
    .req_ready(walker_req_ready),
    .req_id(free_id),
    .req_slot(h_slot),
    .req_dir(h_dir),
    .req_refuse(h_refuse),
    .req_offset(h_offset),
    .req_length(h_length),
    .req_cmd_len(h_cmd_len),
    .req_dram(h_dram),
    .req_host_buf(h_host_buf),
    .req_host(h_host),
    .req_at(h_at),
    .sqe_rd_en(sqe_rd_en),
    .sqe_rd_slot(sqe_rd_slot),
    .sqe_rd_dw(sqe_rd_dw),
    .sqe_rd_data(sqe_rd_data),
    .ptr_req_valid(ptr_req_valid),
    .ptr_req_ready(ptr_req_ready),
    .ptr_req_addr(ptr_req_addr),
    .ptr_req_dwords(ptr_req_dwords),
    .ptr_req_tag(ptr_req_tag),
    .s_axis_rc_tdata(s_axis_rc_tdata),
    .s_axis_rc_tkeep(s_axis_rc_tkeep),
    .s_axis_rc_tvalid(s_axis_rc_tvalid[0]),
    .s_axis_rc_tready(s_axis_rc_tready[0]),
    .s_axis_rc_tlast(s_axis_rc_tlast),
    .s_axis_rc_tuser(s_axis_rc_tuser),
    .s_axis_rc_lower_addr(s_axis_rc_lower_addr),
    .s_axis_rc_failed(s_axis_rc_failed),
    .s_axis_rc_completed(s_axis_rc_completed),
    .s_axis_rc_dwords(s_axis_rc_dwords),
    .s_axis_rc_tag(s_axis_rc_tag),
    .seg_valid(seg_valid),
    .seg_ready(seg_dir ? wr_seg_ready : rd_seg_ready),
    .seg_dir(seg_dir),
    .seg_end(seg_end),
    .seg_req(seg_req),
    .seg_code(seg_code),
    .seg_addr(seg_addr),
    .seg_dwords(seg_dwords),
    .seg_dram(seg_dram),
    .idle(walker_idle),
    .timer_armed(walker_timer_armed)
);

/*
 * Host-to-device
 */
wire rd_req_valid;
wire rd_req_ready;
wire [63:2] rd_req_addr;
wire [10:0] rd_req_dwords;
wire [7:0] rd_req_tag;
wire [REQ_W-1:0] rd_req_id;
wire rd_done_valid;
wire rd_done_ready;
wire [REQ_W-1:0] rd_done_req;
wire [7:0] rd_done_code;

nvme_dma_rd #(
    .TIMEOUT_TICKS(TIMEOUT_TICKS),
    .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
    .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
    .AXIS_PCIE_RC_USER_WIDTH(AXIS_PCIE_RC_USER_WIDTH),
    .REQ_W(REQ_W),
    .DRAM_AW(DRAM_AW),
    .AXI_ID_W(AXI_ID_W),
    .TAG_BASE(DATA_TAG_BASE),
    .TAGS(DATA_TAGS)
)
rd_inst (
    .clk(clk),
    .rst(rst),
    .drop(clear),
    .forget(forget),
    .tick(tick),
    .max_read_request(max_read_request),
    .seg_valid(seg_valid && !seg_dir),
    .seg_ready(rd_seg_ready),
    .seg_end(seg_end),
    .seg_req(seg_req),
    .seg_code(seg_code),
    .seg_addr(seg_addr),
    .seg_dwords(seg_dwords),
    .seg_dram(seg_dram),
    .rd_req_valid(rd_req_valid),
    .rd_req_ready(rd_req_ready),
    .rd_req_addr(rd_req_addr),
    .rd_req_dwords(rd_req_dwords),
    .rd_req_tag(rd_req_tag),
    .rd_req_id(rd_req_id),
    .s_axis_rc_tdata(s_axis_rc_tdata),
    .s_axis_rc_tkeep(s_axis_rc_tkeep),
    .s_axis_rc_tvalid(s_axis_rc_tvalid[1]),
    .s_axis_rc_tready(s_axis_rc_tready[1]),
    .s_axis_rc_tlast(s_axis_rc_tlast),
    .s_axis_rc_tuser(s_axis_rc_tuser),
    .s_axis_rc_lower_addr(s_axis_rc_lower_addr),
    .s_axis_rc_failed(s_axis_rc_failed),
    .s_axis_rc_completed(s_axis_rc_completed),
    .s_axis_rc_dwords(s_axis_rc_dwords),
    .s_axis_rc_tag(s_axis_rc_tag),
    .m_axi_awid(m_axi_awid),
    .m_axi_awaddr(m_axi_awaddr),
    .m_axi_awlen(m_axi_awlen),
    .m_axi_awsize(m_axi_awsize),
    .m_axi_awburst(m_axi_awburst),
    .m_axi_awvalid(m_axi_awvalid),
    .m_axi_awready(m_axi_awready),
    .m_axi_wdata(m_axi_wdata),
    .m_axi_wstrb(m_axi_wstrb),
    .m_axi_wlast(m_axi_wlast),
    .m_axi_wvalid(m_axi_wvalid),
    .m_axi_wready(m_axi_wready),
    .m_axi_bid(m_axi_bid),
    .m_axi_bresp(m_axi_bresp),
    .m_axi_bvalid(m_axi_bvalid),
    .m_axi_bready(m_axi_bready),
    .done_valid(rd_done_valid),
    .done_ready(rd_done_ready),
    .done_req(rd_done_req),
    .done_code(rd_done_code),
    .idle(rd_idle),
    .timer_armed(rd_timer_armed)
);

// pointer reads go first: a walk waiting on its list holds up later data
pcie_us_rq_small_req #(
    .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
    .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
    .AXIS_PCIE_RQ_USER_WIDTH(AXIS_PCIE_RQ_USER_WIDTH)
)
read_rq_inst (
    .clk(clk),
    .rst(rst),
    .req_valid(ptr_req_valid || rd_req_valid),
    .req_ready(read_rq_ready),
    .req_write(1'b0),
    .req_addr(ptr_req_valid ? ptr_req_addr : rd_req_addr),
    .req_dwords(ptr_req_valid ? ptr_req_dwords : rd_req_dwords),
    .req_tag(ptr_req_valid ? ptr_req_tag : rd_req_tag),
    .req_function({6'd0, id_function_reg[2*(ptr_req_valid ? seg_req : rd_req_id) +: 2]}),
    .req_at(id_at_reg[2*(ptr_req_valid ? seg_req : rd_req_id) +: 2]),
    .req_data(128'd0),
    .m_axis_rq_tdata(m_axis_rd_tdata),
    .m_axis_rq_tkeep(m_axis_rd_tkeep),
    .m_axis_rq_tvalid(m_axis_rd_tvalid),
    .m_axis_rq_tready(m_axis_rd_tready),
    .m_axis_rq_tlast(m_axis_rd_tlast),
    .m_axis_rq_tuser(m_axis_rd_tuser)
);

wire read_rq_ready;
assign ptr_req_ready = read_rq_ready && ptr_req_valid;
assign rd_req_ready = read_rq_ready && !ptr_req_valid;

/*
 * Device-to-host
 */
wire wr_done_valid;
wire wr_done_ready;
wire [REQ_W-1:0] wr_done_req;
wire [7:0] wr_done_code;

nvme_dma_wr #(
    .AXIS_PCIE_DATA_WIDTH(AXIS_PCIE_DATA_WIDTH),
    .AXIS_PCIE_KEEP_WIDTH(AXIS_PCIE_KEEP_WIDTH),
    .AXIS_PCIE_RQ_USER_WIDTH(AXIS_PCIE_RQ_USER_WIDTH),
    .REQ_W(REQ_W),
    .DRAM_AW(DRAM_AW),
    .AXI_ID_W(AXI_ID_W)
)
wr_inst (
    .clk(clk),
    .rst(rst),
    .drop(clear),
    .forget(forget),
    .max_payload(max_payload),
    .seg_valid(seg_valid && seg_dir),
    .seg_ready(wr_seg_ready),
    .seg_end(seg_end),
    .seg_req(seg_req),
    .req_functions(id_function_reg),
    .req_ats(id_at_reg),
    .seg_code(seg_code),
    .seg_addr(seg_addr),
    .seg_dwords(seg_dwords),
    .seg_dram(seg_dram),
    .m_axi_arid(m_axi_arid),
    .m_axi_araddr(m_axi_araddr),
    .m_axi_arlen(m_axi_arlen),
    .m_axi_arsize(m_axi_arsize),
    .m_axi_arburst(m_axi_arburst),
    .m_axi_arvalid(m_axi_arvalid),
    .m_axi_arready(m_axi_arready),
    .m_axi_rid(m_axi_rid),
    .m_axi_rdata(m_axi_rdata),
    .m_axi_rresp(m_axi_rresp),
    .m_axi_rlast(m_axi_rlast),
    .m_axi_rvalid(m_axi_rvalid),
    .m_axi_rready(m_axi_rready),
    .m_axis_rq_tdata(m_axis_wr_tdata),
    .m_axis_rq_tkeep(m_axis_wr_tkeep),
    .m_axis_rq_tvalid(m_axis_wr_tvalid),
    .m_axis_rq_tready(m_axis_wr_tready),
    .m_axis_rq_tlast(m_axis_wr_tlast),
    .m_axis_rq_tuser(m_axis_wr_tuser),
    .done_valid(wr_done_valid),
    .done_ready(wr_done_ready),
    .done_req(wr_done_req),
    .done_code(wr_done_code),
    .idle(wr_idle)
);

/*
 * Results: one done request at a time, auto-completed first when asked
 */
localparam [1:0]
    D_IDLE = 2'd0,
    D_CPL = 2'd1,
    D_PUSH = 2'd2;

reg [1:0] d_state_reg;
reg [REQ_W-1:0] d_req_reg;
reg [7:0] d_code_reg;
reg d_auto_reg;
reg d_prefer_wr_reg;

wire take_wr = wr_done_valid && (d_prefer_wr_reg || !rd_done_valid);
wire take_any = d_state_reg == D_IDLE && (rd_done_valid || wr_done_valid);
assign rd_done_ready = (d_state_reg == D_IDLE && !take_wr) || aborting_reg;
assign wr_done_ready = (d_state_reg == D_IDLE && take_wr) || aborting_reg;

assign cpl_valid = d_state_reg == D_CPL;
assign cpl_slot = id_slot[d_req_reg];

// {request id, auto-completed, cookie, status, slot}
localparam RES_BITS = REQ_W + 1 + 8 + 8 + SLOT_W;
reg [RES_BITS-1:0] res_mem [0:REQS-1];
reg [REQ_W:0] res_wr_reg;
reg [REQ_W:0] res_rd_reg;
wire [RES_BITS-1:0] res_head = res_mem[res_rd_reg[REQ_W-1:0]];
wire [REQ_W-1:0] res_head_id = res_head[RES_BITS-1 -: REQ_W];
assign res_valid = res_wr_reg != res_rd_reg;
assign {res_auto, res_cookie, res_status, res_slot} = res_valid ? res_head[RES_BITS-REQ_W-1:0]
                                                                 : {(RES_BITS-REQ_W){1'b0}};
assign res_count = {{(7-REQ_W){1'b0}}, res_wr_reg - res_rd_reg};

assign idle = !aborting_reg && q_empty && d_state_reg == D_IDLE && walker_idle && rd_idle && wr_idle
              && !rd_done_valid && !wr_done_valid;

always @(posedge clk) begin
    // requests in
    if (req_valid && req_ready) begin
        q_mem[q_wr_reg[2:0]] <= {req_at, req_function, req_host_buf, req_host, req_slot, req_dir, req_auto, req_epoch != epoch || !serving, req_cookie,
                                 req_offset, req_length, req_cmd_len, req_dram};
        q_wr_reg <= q_wr_reg + 4'd1;
    end
    if (start) begin
        q_rd_reg <= q_rd_reg + 4'd1;
        id_busy_reg[free_id] <= 1'b1;
        id_cookie[free_id] <= h_cookie;
        id_slot[free_id] <= h_slot;
        id_auto_reg[free_id] <= h_auto;
        id_function_reg[2*free_id +: 2] <= h_function;
        id_at_reg[2*free_id +: 2] <= h_at;
    end

    // done requests
    case (d_state_reg)
        D_IDLE: begin
            if (take_any && !aborting_reg) begin
                d_req_reg <= take_wr ? wr_done_req : rd_done_req;
                d_code_reg <= take_wr ? wr_done_code : rd_done_code;
                d_prefer_wr_reg <= !take_wr;
                d_auto_reg <= id_auto_reg[take_wr ? wr_done_req : rd_done_req]
                              && (take_wr ? wr_done_code : rd_done_code) == 8'd0;
                d_state_reg <= id_auto_reg[take_wr ? wr_done_req : rd_done_req]
                               && (take_wr ? wr_done_code : rd_done_code) == 8'd0 ? D_CPL : D_PUSH;
            end
        end
        D_CPL: begin
            if (cpl_ready) begin
                d_state_reg <= D_PUSH;
            end
        end
        D_PUSH: begin
            res_mem[res_wr_reg[REQ_W-1:0]] <= {d_req_reg, d_auto_reg, id_cookie[d_req_reg], d_code_reg,
                                                id_slot[d_req_reg]};
            res_wr_reg <= res_wr_reg + 1;
            d_state_reg <= D_IDLE;
        end
        default: d_state_reg <= D_IDLE;
    endcase

    // a popped result gives its request id back
    if (res_pop && res_valid) begin
        res_rd_reg <= res_rd_reg + 1;
        id_busy_reg[res_head_id] <= 1'b0;
    end

    if (clear) begin
        aborting_reg <= 1'b1;
        q_rd_reg <= q_wr_reg;
        res_rd_reg <= res_wr_reg;
        d_state_reg <= D_IDLE;
    end else if (forget) begin
        aborting_reg <= 1'b0;
        id_busy_reg <= 0;
    end

    if (rst) begin
        aborting_reg <= 1'b0;
        q_wr_reg <= 4'd0;
        q_rd_reg <= 4'd0;
        id_busy_reg <= 0;
        d_state_reg <= D_IDLE;
        d_prefer_wr_reg <= 1'b0;
        res_wr_reg <= 0;
        res_rd_reg <= 0;
    end
end

endmodule

`resetall
