`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * PRP and SGL walker of the DMA engine.
 *
 * For one firmware request at a time it reads the command's data pointer
 * from its slot (PSDT, PRP1/PRP2 or SGL1), and turns bytes
 * [offset, offset + length) of the command's data into host segments, each
 * inside one host 4 KiB page, paired with the DRAM address they move
 * to/from. Segments go to the read or the write engine; a final end
 * marker carries the walk's status (0 or an NVMe generic status code), so
 * an engine knows when a request has been handed over in full.
 *
 * PRP (NVMe 1.4 4.3): PRP1 may carry a dword-aligned offset; PRP2 is a
 * second page or a pointer to a PRP list once the data spans more than two
 * memory pages (CC.MPS); list pages chain through their last entry. Every
 * later entry must be page aligned (else PRP Offset Invalid), list pointers
 * qword aligned. Entries are read on demand, up to 16 per read.
 *
 * SGL (4.4): Data Block, Segment and Last Segment descriptors with the
 * address subtype; any other is SGL Descriptor Type Invalid. A segment
 * pointer may only be SGL1 or the last descriptor of a Segment (else
 * Invalid SGL Segment Descriptor). Data blocks need dword alignment and
 * granularity (Identify SGLS = 10b): a bad length is Data SGL Length
 * Invalid, a bad address Invalid Field. An SGL that ends before the range
 * does, or that goes on past the command's last byte in the segment being
 * read, is Data SGL Length Invalid. Descriptors are read up to 8 at a time.
 * This is the walk models/prp.py defines.
 *
 * A host-buffer request (req_host_buf) walks no data pointer: its bytes
 * are those of the contiguous host buffer at req_host, req_cmd_len long,
 * such as a list a command's dwords point at (an open-channel LBA list).
 * It is walked as if the command's SGL1 were one Data Block descriptor of
 * that buffer, so it has the data block's rules and segments.
 *
 * Pointer reads use a small pool of tags (an nvme_tag_pool), one read at a
 * time. An unsuccessful or poisoned completion, or none within the timeout,
 * ends the walk with Data Transfer Error; a timed-out tag stays out of use
 * until the controller reset.
 */
module nvme_dma_walker #
(
    // Width of the RC stream in bits
    parameter AXIS_PCIE_DATA_WIDTH = 256,
    // tkeep width: one bit per dword
    parameter AXIS_PCIE_KEEP_WIDTH = AXIS_PCIE_DATA_WIDTH/32,
    // RC tuser width
    parameter AXIS_PCIE_RC_USER_WIDTH = 75,
    // Command slot id width
    parameter SLOT_W = 6,
    // Request id width
    parameter REQ_W = 4,
    // Byte count width of offsets and lengths
    parameter LEN_W = 24,
    // Device DRAM byte address width
    parameter DRAM_AW = 32,
    // First pointer-read tag
    parameter [7:0] TAG_BASE = 8,
    // Pointer-read tags
    parameter TAGS = 4,
    // Completion timeout in ticks of the timebase
    parameter TIMEOUT_TICKS = 13,
    // Segments an SGL may visit before it is taken for a loop
    parameter MAX_SGL_SEGMENTS = 1024
)
(
    input  wire                                 clk,
    input  wire                                 rst,
    // Controller reset: drop the walk in progress
    input  wire                                 clear,
    // Timebase of the completion timeout
    input  wire                                 tick,
    // CC.MPS: memory page size 4 KiB << mps
    input  wire [3:0]                           mps,

    /*
     * Request
     */
    input  wire                                 req_valid,
    output wire                                 req_ready,
    input  wire [REQ_W-1:0]                     req_id,
    input  wire [SLOT_W-1:0]                    req_slot,
    input  wire                                 req_dir,
    // Refused (an older reset generation): end at once with Command Abort Requested
    input  wire                                 req_refuse,
    input  wire [LEN_W-1:0]                     req_offset,
    input  wire [LEN_W-1:0]                     req_length,
    input  wire [LEN_W-1:0]                     req_cmd_len,
    input  wire [DRAM_AW-1:0]                   req_dram,
    input  wire                                 req_host_buf,
    input  wire [63:0]                          req_host,
    // the request's PCIe Address Type: other than untranslated only for a host buffer, never 3 (reserved)
    input  wire [1:0]                           req_at,

    /*
     * Command slot reads (data the next cycle)
     */
    output wire                                 sqe_rd_en,
    output wire [SLOT_W-1:0]                    sqe_rd_slot,
    output wire [3:0]                           sqe_rd_dw,
    input  wire [31:0]                          sqe_rd_data,

    /*
     * Pointer reads (memory read requests)
     */
    output wire                                 ptr_req_valid,
    input  wire                                 ptr_req_ready,
    output wire [63:2]                          ptr_req_addr,
    output wire [10:0]                          ptr_req_dwords,
    output wire [7:0]                           ptr_req_tag,

    /*
     * Their completions
     */
    input  wire [AXIS_PCIE_DATA_WIDTH-1:0]      s_axis_rc_tdata,
    input  wire [AXIS_PCIE_KEEP_WIDTH-1:0]      s_axis_rc_tkeep,
    input  wire                                 s_axis_rc_tvalid,
    output wire                                 s_axis_rc_tready,
    input  wire                                 s_axis_rc_tlast,
    input  wire [AXIS_PCIE_RC_USER_WIDTH-1:0]   s_axis_rc_tuser,
    // the completion descriptor, decoded once by the RC front end (pcie_us_rc_router)
    input  wire [11:0]                          s_axis_rc_lower_addr,
    input  wire                                 s_axis_rc_failed,
    input  wire                                 s_axis_rc_completed,
    input  wire [10:0]                          s_axis_rc_dwords,
    input  wire [7:0]                           s_axis_rc_tag,

    /*
     * Segments and end markers; seg_dir picks the engine
     */
    output wire                                 seg_valid,
    input  wire                                 seg_ready,
    output wire                                 seg_dir,
    output wire                                 seg_end,
    output wire [REQ_W-1:0]                     seg_req,
    output wire [7:0]                           seg_code,
    output wire [63:2]                          seg_addr,
    output wire [10:0]                          seg_dwords,
    output wire [DRAM_AW-1:2]                   seg_dram,

    output wire                                 idle,
    // a pointer read is waiting: its completion timeout runs
    output wire                                 timer_armed
);

localparam TAG_W = TAGS > 1 ? $clog2(TAGS) : 1;
// dwords per RC beat
localparam LANES = AXIS_PCIE_DATA_WIDTH / 32;
localparam [5:0] BEAT_DWORDS = LANES[5:0];

initial begin
    if (AXIS_PCIE_DATA_WIDTH != 256 && AXIS_PCIE_DATA_WIDTH != 512) begin
        $error("Error: the walker parses 256- or 512-bit completions (instance %m)");
        $finish;
    end
end

// generic status codes (NVMe 1.4 figure 126)
localparam [7:0]
    SC_INVALID_FIELD = 8'h02,
    SC_DATA_TRANSFER_ERROR = 8'h04,
    SC_INTERNAL_ERROR = 8'h06,
    SC_ABORT_REQUESTED = 8'h07,
    SC_INVALID_SGL_SEGMENT = 8'h0D,
    SC_DATA_SGL_LENGTH = 8'h0F,
    SC_SGL_TYPE_INVALID = 8'h11,
    SC_PRP_OFFSET_INVALID = 8'h13;

localparam [3:0]
    SGL_DATA_BLOCK = 4'h0,
    SGL_SEGMENT = 4'h2,
    SGL_LAST_SEGMENT = 4'h3;

localparam [4:0]
    ST_IDLE = 5'd0,
    ST_SQE = 5'd1,
    ST_START = 5'd2,
    ST_PRP_NEXT = 5'd3,
    ST_LIST_SETUP = 5'd4,
    ST_PRP_ENTRY = 5'd5,
    ST_PRP_CHAIN = 5'd6,
    ST_SGL_DESC = 5'd7,
    ST_SGL_DATA = 5'd8,
    ST_SGL_NEXT = 5'd9,
    ST_PTR_REQ = 5'd10,
    ST_PTR_WAIT = 5'd11,
    ST_EMIT = 5'd12,
    ST_END = 5'd13,
    ST_DRAIN = 5'd14,
    ST_PRP_PIECE = 5'd15;

reg [4:0] state_reg;
reg [4:0] ret_state_reg;      // where a pointer read or a segment returns to

// request
reg [REQ_W-1:0] id_reg;
reg [SLOT_W-1:0] slot_reg;
reg dir_reg;
reg [LEN_W-1:0] pos_reg;      // command byte of the next segment
reg [LEN_W-1:0] rem_reg;      // bytes still to hand over
reg [LEN_W-1:0] cmd_len_reg;
reg [LEN_W-1:0] offset_reg;
reg [DRAM_AW-1:0] dram_reg;
reg [7:0] code_reg;
reg host_buf_reg;
reg at_bad_reg;
reg [63:0] host_reg;

// SQE fields
reg [2:0] sqe_step_reg;
reg [3:0] sqe_dw_reg;            // the dword whose data is on sqe_rd_data
reg [31:0] dw0_reg;
reg [127:0] dptr_reg;         // DW6-9: PRP1/PRP2 or SGL1
wire [63:0] prp1 = dptr_reg[63:0];
wire [63:0] prp2 = dptr_reg[127:64];

// memory page
wire [4:0] pshift = 5'd12 + {3'd0, mps[1:0]};
wire [LEN_W-1:0] psize = {{(LEN_W-1){1'b0}}, 1'b1} << pshift;
wire [LEN_W-1:0] pmask = psize - 1;
reg [LEN_W-1:0] first_len_reg;   // bytes of the command in PRP1's page
reg [LEN_W-1:0] entries_reg;     // data entries after PRP1

// PRP list walk
reg list_ready_reg;
reg [63:0] list_ptr_reg;         // current list page (may carry an offset)
reg [LEN_W-1:0] list_first_reg; // index of the first data entry in this list page
reg [LEN_W-1:0] list_in_page_reg;
reg [LEN_W-1:0] list_slots_reg;
reg [LEN_W-1:0] entry_idx_reg;   // data entry wanted
reg [LEN_W-1:0] in_off_reg;      // byte offset in its page
reg [LEN_W-1:0] buf_first_reg;   // entry index of pbuf's first qword
reg [5:0] buf_count_reg;         // qwords (PRP) or descriptors (SGL) in pbuf
reg [63:0] entry_reg;

// SGL walk
reg [127:0] desc_reg;
reg desc_from_seg_reg;
reg in_seg_reg;
reg seg_last_reg;
reg [63:0] seg_ptr_reg;          // next descriptor to read
reg [27:0] seg_left_reg;         // descriptors of the segment not yet taken
reg [3:0] buf_next_reg;
reg [10:0] segs_seen_reg;
reg [LEN_W-1:0] spos_reg;        // command byte where the next data block starts
reg [63:0] blk_addr_reg;
reg [31:0] blk_left_reg;

// pointer read buffer: 32 dwords
reg [31:0] pbuf [0:31];
reg [63:0] ptr_addr_reg;
reg [5:0] ptr_dwords_reg;
reg [TAG_W-1:0] ptr_tag_reg;
reg ptr_failed_reg;

// segment output
reg [63:2] out_addr_reg;
reg [10:0] out_dwords_reg;
reg [DRAM_AW-1:2] out_dram_reg;

assign req_ready = state_reg == ST_IDLE && !clear;
assign sqe_rd_slot = slot_reg;
assign sqe_rd_en = state_reg == ST_SQE && sqe_step_reg < 3'd5;
assign sqe_rd_dw = sqe_step_reg == 3'd0 ? 4'd0 : 4'd5 + {1'b0, sqe_step_reg};

assign ptr_req_valid = state_reg == ST_PTR_REQ;
assign ptr_req_addr = ptr_addr_reg[63:2];
assign ptr_req_dwords = {5'd0, ptr_dwords_reg};
assign ptr_req_tag = TAG_BASE + {{(8-TAG_W){1'b0}}, ptr_tag_reg};

assign seg_valid = state_reg == ST_EMIT || state_reg == ST_END;
assign seg_dir = dir_reg;
assign seg_end = state_reg == ST_END;
assign seg_req = id_reg;
assign seg_code = code_reg;
assign seg_addr = out_addr_reg;
assign seg_dwords = out_dwords_reg;
assign seg_dram = out_dram_reg;

/*
 * Pointer-read tags and their completion timeout. One read is outstanding
 * at a time and none is while a walk picks the next tag (pointer_read), so
 * the pool's free tag is still ptr_tag_reg when the request is taken and
 * the tag becomes busy.
 */
localparam [TAGS-1:0] TAG_ONE = 1;
wire [TAG_W-1:0] free_tag;
wire tag_left;
wire [TAGS-1:0] tag_retire;
wire timeout_valid;
wire [TAG_W-1:0] timeout_tag;
wire [TAGS-1:0] tag_busy;
wire [TAGS-1:0] tag_dead;
wire [TAGS-1:0] tag_live;
// the pointer read in flight: its tag is live
wire ptr_pending;
wire ptr_timer_armed;
wire [TAG_W+3*TAGS-1:0] unused_tags = {timeout_tag, tag_busy, tag_dead, tag_live};

nvme_tag_pool #(
    .TAGS(TAGS),
    .TAG_W(TAG_W),
    .TIMEOUT_TICKS(TIMEOUT_TICKS)
)
tag_pool_inst (
    .clk(clk),
    .rst(rst),
    .clear(clear),
    .tick(tick),
    .free_tag(free_tag),
    .free_valid(tag_left),
    .alloc(state_reg == ST_PTR_REQ && ptr_req_ready),
    .retire(tag_retire),
    .timeout_valid(timeout_valid),
    .timeout_tag(timeout_tag),
    .timeout_ready(1'b1),
    .busy(tag_busy),
    .dead(tag_dead),
    .live(tag_live),
    .any_live(ptr_pending),
    .armed(ptr_timer_armed)
);

assign idle = state_reg == ST_IDLE && !ptr_pending;
// a dead tag's quarantine needs the time base too
assign timer_armed = ptr_timer_armed;

/*
 * Completions of pointer reads
 */
wire rc_hs = s_axis_rc_tvalid;
assign s_axis_rc_tready = 1'b1;
wire [AXIS_PCIE_RC_USER_WIDTH-1:0] unused_rc_tuser = s_axis_rc_tuser;
reg rc_in_frame_reg;
reg rc_take_reg;                 // this frame fills pbuf
reg [5:0] rc_base_reg;           // pbuf index of the frame's lane 0, plus LANES per beat
wire [11:0] rc_lower_addr = s_axis_rc_lower_addr;
wire rc_failed = s_axis_rc_failed;
wire rc_completed = s_axis_rc_completed;
wire [7:0] rc_tag = s_axis_rc_tag;
wire [10:0] unused_rc_dwords = s_axis_rc_dwords;
wire rc_ours = ptr_pending && rc_tag == ptr_req_tag;
// the completion that ends the read frees its tag
assign tag_retire = rc_hs && !rc_in_frame_reg && rc_ours && (rc_completed || rc_failed)
                    ? TAG_ONE << ptr_tag_reg : {TAGS{1'b0}};
// lane 3 of the first beat is the dword at the completion's lower address
wire [9:0] rc_first_idx = rc_lower_addr[11:2] - ptr_addr_reg[11:2];
wire [5:0] rc_first_base = rc_first_idx[5:0] - 6'd3;

/* verilator lint_off UNUSEDSIGNAL */
function [4:0] idx5(input [5:0] v);
    idx5 = v[4:0];
endfunction
/* verilator lint_on UNUSEDSIGNAL */

integer l;
always @(posedge clk) begin
    if (rc_hs) begin
        rc_in_frame_reg <= !s_axis_rc_tlast;
        if (!rc_in_frame_reg) begin
            rc_take_reg <= rc_ours && !rc_failed && !ptr_failed_reg;
            rc_base_reg <= rc_first_base + BEAT_DWORDS;
            if (rc_ours && rc_failed) begin
                ptr_failed_reg <= 1'b1;
            end
            for (l = 3; l < LANES; l = l + 1) begin
                if (rc_ours && !rc_failed && s_axis_rc_tkeep[l]
                        && {22'd0, rc_first_idx} + l - 3 < 32) begin
                    pbuf[idx5(rc_first_base + l[5:0])] <= s_axis_rc_tdata[32*l +: 32];
                end
            end
        end else begin
            rc_base_reg <= rc_base_reg + BEAT_DWORDS;
            for (l = 0; l < LANES; l = l + 1) begin
                if (rc_take_reg && s_axis_rc_tkeep[l] && {26'd0, rc_base_reg} + l < 32) begin
                    pbuf[idx5(rc_base_reg + l[5:0])] <= s_axis_rc_tdata[32*l +: 32];
                end
            end
        end
    end

    // completion timeout (the tag pool's): the tag dies, the walk fails
    if (timeout_valid) begin
        ptr_failed_reg <= 1'b1;
    end

    if (state_reg == ST_PTR_REQ && ptr_req_ready) begin
        ptr_failed_reg <= 1'b0;
    end

    if (rst) begin
        rc_in_frame_reg <= 1'b0;
        rc_take_reg <= 1'b0;
        ptr_failed_reg <= 1'b0;
    end
end

/*
 * The walk
 */
// PRP: where the next segment starts
wire [LEN_W-1:0] after_first = pos_reg - first_len_reg;
wire [LEN_W-1:0] want_entry = after_first >> pshift;
wire [LEN_W-1:0] want_off = after_first & pmask;
wire [LEN_W-1:0] list_slot_off = entry_idx_reg - list_first_reg;
wire [63:0] entry_addr = list_ptr_reg + {{(64-LEN_W-3){1'b0}}, list_slot_off, 3'b000};
wire [12:0] to_4k_entries = (13'h1000 - {1'b0, entry_addr[11:0]}) >> 3;
wire [LEN_W-1:0] entries_left_in_page = list_first_reg + list_in_page_reg - entry_idx_reg;
wire [LEN_W-1:0] buf_rel = entry_idx_reg - buf_first_reg;
wire buf_has_entry = entry_idx_reg >= buf_first_reg && buf_rel < {{(LEN_W-6){1'b0}}, buf_count_reg};
wire [63:0] buf_entry = {pbuf[{buf_rel[3:0], 1'b1}], pbuf[{buf_rel[3:0], 1'b0}]};
wire [LEN_W-1:0] chain_slot = list_slots_reg - 1;
wire [63:0] chain_addr = list_ptr_reg + {{(64-LEN_W-3){1'b0}}, chain_slot, 3'b000};
wire [LEN_W-1:0] list_slots_new = (psize - (list_ptr_reg[LEN_W-1:0] & pmask)) >> 3;

// a segment: at most the bytes left, to the end of its page or block, and inside one host 4 KiB page
reg [63:0] piece_addr;
reg [LEN_W-1:0] piece_avail;
wire [12:0] to_4k = 13'h1000 - {1'b0, piece_addr[11:0]};
wire [LEN_W-1:0] piece_len_a = rem_reg < piece_avail ? rem_reg : piece_avail;
wire [LEN_W-1:0] piece_len = piece_len_a < {{(LEN_W-13){1'b0}}, to_4k} ? piece_len_a : {{(LEN_W-13){1'b0}}, to_4k};

// SGL descriptor fields
wire [63:0] d_addr = desc_reg[63:0];
wire [31:0] d_len = desc_reg[95:64];
wire [3:0] d_type = desc_reg[127:124];
wire [3:0] d_subtype = desc_reg[123:120];
wire [LEN_W:0] d_end = {1'b0, spos_reg} + {1'b0, d_len[LEN_W-1:0]};
wire d_len_big = d_len[31:LEN_W] != 0;
wire [12:0] to_4k_descs = (13'h1000 - {1'b0, seg_ptr_reg[11:0]}) >> 4;

always @* begin
    piece_addr = 64'd0;
    piece_avail = 0;
    case (state_reg)
        ST_PRP_PIECE: begin
            piece_addr = entry_reg + {{(64-LEN_W){1'b0}}, in_off_reg};
            piece_avail = psize - in_off_reg;
        end
        ST_SGL_DATA: begin
            piece_addr = blk_addr_reg;
            piece_avail = blk_left_reg[LEN_W-1:0];
        end
        default: begin
            // PRP1's page
            piece_addr = prp1 + {{(64-LEN_W){1'b0}}, pos_reg};
            piece_avail = first_len_reg - pos_reg;
        end
    endcase
end

task fail(input [7:0] code);
    begin
        code_reg <= code;
        state_reg <= ST_END;
    end
endtask

/* verilator lint_off UNUSEDSIGNAL */
task emit(input [63:0] addr, input [LEN_W-1:0] len, input [4:0] ret);
    begin
        out_addr_reg <= addr[63:2];
        out_dwords_reg <= len[12:2];
        state_reg <= ST_EMIT;
        ret_state_reg <= ret;
    end
endtask
/* verilator lint_on UNUSEDSIGNAL */

task pointer_read(input [63:0] addr, input [5:0] dwords, input [4:0] ret);
    begin
        if (!tag_left) begin
            fail(SC_DATA_TRANSFER_ERROR);
        end else begin
            ptr_addr_reg <= addr;
            ptr_dwords_reg <= dwords;
            ptr_tag_reg <= free_tag;
            ret_state_reg <= ret;
            state_reg <= ST_PTR_REQ;
        end
    end
endtask

always @(posedge clk) begin
    case (state_reg)
        ST_IDLE: begin
            if (req_valid && !clear) begin
                id_reg <= req_id;
                slot_reg <= req_slot;
                dir_reg <= req_dir;
                pos_reg <= req_offset;
                offset_reg <= req_offset;
                rem_reg <= req_length;
                cmd_len_reg <= req_cmd_len;
                dram_reg <= req_dram;
                host_buf_reg <= req_host_buf;
                at_bad_reg <= req_at == 2'b11 || (req_at != 2'b00 && !req_host_buf);
                host_reg <= req_host;
                code_reg <= 8'd0;
                sqe_step_reg <= 3'd0;
                list_ready_reg <= 1'b0;
                buf_count_reg <= 6'd0;
                in_seg_reg <= 1'b0;
                segs_seen_reg <= 11'd0;
                state_reg <= ST_SQE;
                if (req_refuse) begin
                    // not even the slot is read: it may hold a newer command
                    fail(SC_ABORT_REQUESTED);
                end
            end
        end
        ST_SQE: begin
            // read DW0, DW6, DW7, DW8, DW9; each arrives a cycle later
            sqe_step_reg <= sqe_step_reg + 3'd1;
            sqe_dw_reg <= sqe_rd_dw;
            if (sqe_step_reg != 3'd0) begin
                if (sqe_dw_reg == 4'd0) begin
                    dw0_reg <= sqe_rd_data;
                end else begin
                    dptr_reg[32*{30'd0, sqe_dw_reg[1:0] - 2'd2} +: 32] <= sqe_rd_data;
                end
            end
            if (sqe_step_reg == 3'd5) begin
                state_reg <= ST_START;
            end
        end
        ST_START: begin
            first_len_reg <= psize - (prp1[LEN_W-1:0] & pmask);
            // a host buffer: one Data Block descriptor (type 0, subtype 0) of the whole buffer
            desc_reg <= host_buf_reg ? {8'h00, 24'd0, {{(32-LEN_W){1'b0}}, cmd_len_reg}, host_reg} : dptr_reg;
            desc_from_seg_reg <= 1'b0;
            spos_reg <= 0;
            if (offset_reg[1:0] != 0 || rem_reg[1:0] != 0 || dram_reg[1:0] != 0 || at_bad_reg
                    || {1'b0, offset_reg} + {1'b0, rem_reg} > {1'b0, cmd_len_reg}) begin
                // the firmware asked for what no command can be
                fail(SC_INTERNAL_ERROR);
            end else if (rem_reg == 0) begin
                state_reg <= ST_END;
            end else begin
                case (host_buf_reg ? 2'b01 : dw0_reg[15:14])
                    2'b00: begin
                        if (prp1[1:0] != 2'b00) begin
                            fail(SC_PRP_OFFSET_INVALID);
                        end else begin
                            state_reg <= ST_PRP_NEXT;
                        end
                    end
                    2'b01, 2'b10: state_reg <= ST_SGL_DESC;
                    default: fail(SC_INVALID_FIELD);
                endcase
            end
            entries_reg <= cmd_len_reg > psize - (prp1[LEN_W-1:0] & pmask)
                ? ((cmd_len_reg - (psize - (prp1[LEN_W-1:0] & pmask)) + pmask) >> pshift) : 0;
        end

        /*
         * PRP
         */
        ST_PRP_NEXT: begin
            if (rem_reg == 0) begin
                state_reg <= ST_END;
            end else if (pos_reg < first_len_reg) begin
                emit(piece_addr, piece_len, ST_PRP_NEXT);
            end else begin
                entry_idx_reg <= want_entry;
                in_off_reg <= want_off;
                if (entries_reg == 1) begin
                    if ((prp2[LEN_W-1:0] & pmask) != 0) begin
                        fail(SC_PRP_OFFSET_INVALID);
                    end else begin
                        entry_reg <= prp2;
                        state_reg <= ST_PRP_PIECE;
                    end
                end else if (!list_ready_reg) begin
                    list_ptr_reg <= prp2;
                    list_first_reg <= 0;
                    state_reg <= ST_LIST_SETUP;
                end else begin
                    state_reg <= ST_PRP_ENTRY;
                end
            end
        end
        ST_LIST_SETUP: begin
            // a list page runs to the end of its memory page; its last slot chains on
            list_slots_reg <= list_slots_new;
            buf_count_reg <= 6'd0;
            if (list_ptr_reg[2:0] != 3'd0) begin
                fail(SC_PRP_OFFSET_INVALID);
            end else if (entries_reg - list_first_reg > list_slots_new) begin
                if (list_slots_new == 1) begin
                    fail(SC_PRP_OFFSET_INVALID);
                end else begin
                    list_in_page_reg <= list_slots_new - 1;
                    list_ready_reg <= 1'b1;
                    state_reg <= ST_PRP_ENTRY;
                end
            end else begin
                list_in_page_reg <= entries_reg - list_first_reg;
                list_ready_reg <= 1'b1;
                state_reg <= ST_PRP_ENTRY;
            end
        end
        ST_PRP_ENTRY: begin
            if (entry_idx_reg >= list_first_reg + list_in_page_reg) begin
                // beyond this list page: follow its chain pointer
                pointer_read(chain_addr, 6'd2, ST_PRP_CHAIN);
            end else if (buf_has_entry) begin
                if ((buf_entry[LEN_W-1:0] & pmask) != 0) begin
                    fail(SC_PRP_OFFSET_INVALID);
                end else begin
                    entry_reg <= buf_entry;
                    state_reg <= ST_PRP_PIECE;
                end
            end else begin
                buf_first_reg <= entry_idx_reg;
                buf_count_reg <= entries_left_in_page < 16 && entries_left_in_page < {{(LEN_W-13){1'b0}}, to_4k_entries}
                    ? entries_left_in_page[5:0]
                    : to_4k_entries < 16 ? to_4k_entries[5:0] : 6'd16;
                pointer_read(entry_addr,
                    entries_left_in_page < 16 && entries_left_in_page < {{(LEN_W-13){1'b0}}, to_4k_entries}
                        ? {entries_left_in_page[4:0], 1'b0}
                        : to_4k_entries < 16 ? {to_4k_entries[4:0], 1'b0} : 6'd32,
                    ST_PRP_ENTRY);
            end
        end
        ST_PRP_CHAIN: begin
            list_ptr_reg <= {pbuf[1], pbuf[0]};
            list_first_reg <= list_first_reg + list_in_page_reg;
            state_reg <= ST_LIST_SETUP;
        end
        ST_PRP_PIECE: begin
            emit(piece_addr, piece_len, ST_PRP_NEXT);
        end

        /*
         * SGL
         */
        ST_SGL_DESC: begin
            if (d_subtype != 4'd0 || (d_type != SGL_DATA_BLOCK && d_type != SGL_SEGMENT
                    && d_type != SGL_LAST_SEGMENT)) begin
                fail(SC_SGL_TYPE_INVALID);
            end else if (d_type == SGL_DATA_BLOCK) begin
                if (d_len[1:0] != 2'b00) begin
                    fail(SC_DATA_SGL_LENGTH);
                end else if (d_addr[1:0] != 2'b00) begin
                    fail(SC_INVALID_FIELD);
                end else if (!d_len_big && d_end <= {1'b0, pos_reg}) begin
                    // wholly before the range
                    spos_reg <= d_end[LEN_W-1:0];
                    state_reg <= ST_SGL_NEXT;
                end else begin
                    blk_addr_reg <= d_addr + {{(64-LEN_W){1'b0}}, pos_reg - spos_reg};
                    blk_left_reg <= d_len - {{(32-LEN_W){1'b0}}, pos_reg - spos_reg};
                    spos_reg <= d_end[LEN_W-1:0];
                    state_reg <= ST_SGL_DATA;
                end
            end else begin
                // a segment pointer: SGL1, or the last descriptor of a Segment
                if ((desc_from_seg_reg && (seg_left_reg != 0 || seg_last_reg))
                        || d_len == 0 || d_len[3:0] != 4'd0 || d_addr[3:0] != 4'd0
                        || segs_seen_reg == MAX_SGL_SEGMENTS[10:0]) begin
                    fail(SC_INVALID_SGL_SEGMENT);
                end else begin
                    segs_seen_reg <= segs_seen_reg + 11'd1;
                    in_seg_reg <= 1'b1;
                    seg_last_reg <= d_type == SGL_LAST_SEGMENT;
                    seg_ptr_reg <= d_addr;
                    seg_left_reg <= d_len[31:4];
                    buf_count_reg <= 6'd0;
                    buf_next_reg <= 4'd0;
                    state_reg <= ST_SGL_NEXT;
                end
            end
        end
        ST_SGL_DATA: begin
            if (rem_reg == 0) begin
                // the range is done; at the command's end nothing may be left over
                if (pos_reg == cmd_len_reg && (blk_left_reg != 0 || (in_seg_reg && seg_left_reg != 0))) begin
                    fail(SC_DATA_SGL_LENGTH);
                end else begin
                    state_reg <= ST_END;
                end
            end else if (blk_left_reg == 0) begin
                state_reg <= ST_SGL_NEXT;
            end else begin
                emit(piece_addr, piece_len, ST_SGL_DATA);
            end
        end
        ST_SGL_NEXT: begin
            if (!in_seg_reg || seg_left_reg == 0) begin
                // the SGL ended before the range did
                fail(SC_DATA_SGL_LENGTH);
            end else if ({2'b00, buf_next_reg} < buf_count_reg) begin
                desc_reg <= {pbuf[{buf_next_reg[2:0], 2'd3}], pbuf[{buf_next_reg[2:0], 2'd2}],
                             pbuf[{buf_next_reg[2:0], 2'd1}], pbuf[{buf_next_reg[2:0], 2'd0}]};
                desc_from_seg_reg <= 1'b1;
                buf_next_reg <= buf_next_reg + 4'd1;
                seg_left_reg <= seg_left_reg - 28'd1;
                state_reg <= ST_SGL_DESC;
            end else begin
                buf_next_reg <= 4'd0;
                buf_count_reg <= seg_left_reg < 8 && seg_left_reg < {15'd0, to_4k_descs}
                    ? seg_left_reg[5:0]
                    : to_4k_descs < 8 ? to_4k_descs[5:0] : 6'd8;
                seg_ptr_reg <= seg_ptr_reg + {56'd0, (seg_left_reg < 8 && seg_left_reg < {15'd0, to_4k_descs}
                    ? seg_left_reg[3:0] : to_4k_descs < 8 ? to_4k_descs[3:0] : 4'd8), 4'd0};
                pointer_read(seg_ptr_reg,
                    seg_left_reg < 8 && seg_left_reg < {15'd0, to_4k_descs}
                        ? {seg_left_reg[3:0], 2'b00}
                        : to_4k_descs < 8 ? {to_4k_descs[3:0], 2'b00} : 6'd32,
                    ST_SGL_NEXT);
            end
        end

        /*
         * Pointer reads
         */
        ST_PTR_REQ: begin
            if (ptr_req_ready) begin
                state_reg <= ST_PTR_WAIT;
            end
        end
        ST_PTR_WAIT: begin
            if (!ptr_pending) begin
                if (ptr_failed_reg) begin
                    fail(SC_DATA_TRANSFER_ERROR);
                end else begin
                    state_reg <= ret_state_reg;
                end
            end
        end

        /*
         * Output
         */
        ST_EMIT: begin
            if (seg_ready) begin
                pos_reg <= pos_reg + {{(LEN_W-13){1'b0}}, out_dwords_reg, 2'b00};
                rem_reg <= rem_reg - {{(LEN_W-13){1'b0}}, out_dwords_reg, 2'b00};
                dram_reg <= dram_reg + {{(DRAM_AW-13){1'b0}}, out_dwords_reg, 2'b00};
                if (ret_state_reg == ST_SGL_DATA) begin
                    blk_addr_reg <= blk_addr_reg + {51'd0, out_dwords_reg, 2'b00};
                    blk_left_reg <= blk_left_reg - {19'd0, out_dwords_reg, 2'b00};
                end
                state_reg <= ret_state_reg;
            end
        end
        ST_END: begin
            if (seg_ready) begin
                state_reg <= ST_IDLE;
            end
        end
        ST_DRAIN: begin
            // an cleared walk waits for its pointer read before the next one
            if (!ptr_pending) begin
                state_reg <= ST_IDLE;
            end
        end
        default: state_reg <= ST_IDLE;
    endcase

    out_dram_reg <= state_reg == ST_EMIT ? out_dram_reg : dram_reg[DRAM_AW-1:2];

    if (clear) begin
        state_reg <= ST_DRAIN;
    end

    if (rst) begin
        state_reg <= ST_IDLE;
        list_ready_reg <= 1'b0;
        buf_count_reg <= 6'd0;
        code_reg <= 8'd0;
    end
end

wire [59:0] unused_bits = {dw0_reg[31:16], dw0_reg[13:0], mps[3:2], desc_reg[119:96], ptr_addr_reg[1:0], rc_lower_addr[1:0]};

endmodule

`resetall
