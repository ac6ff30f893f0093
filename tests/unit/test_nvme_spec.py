"""NVMe spec codecs: field positions against hand-packed bytes, round trips, builders."""

import random

import pytest

from models.nvme_spec import (SUCCESS, AdminOpcode, CommandSpecificStatus, CompletionEntry, CreateCqFlags,
                              CreateSqFlags, FeatureId, GenericStatus, GetFeaturesSelect, MediaStatus, Status,
                              StatusCodeType, SubmissionEntry, create_io_cq, create_io_sq, delete_io_cq,
                              delete_io_sq, get_features, qsize_qid, set_arbitration, set_features,
                              set_interrupt_coalescing, set_interrupt_vector_config, set_num_queues)


def dwords(data: bytes) -> list[int]:
    return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]


# Status field

@pytest.mark.parametrize("status, raw", [
    (Status(sc=0x01), 0x0001),
    (Status(sc=0x02, sct=1), 0x0102),
    (Status(sc=0x85, sct=2, crd=3), 0x1A85),
    (Status(sc=0, m=True), 0x2000),
    (Status(sc=0x0C, sct=1, dnr=True), 0x410C),
])
def test_status_bit_positions(status: Status, raw: int) -> None:
    assert status.encode() == raw
    assert Status.decode(raw) == status


def test_status_round_trips_every_15_bit_value() -> None:
    for raw in range(1 << 15):
        assert Status.decode(raw).encode() == raw


def test_status_of_takes_the_sct_from_the_code_enum() -> None:
    assert Status.of(GenericStatus.LBA_OUT_OF_RANGE) == Status(0x80, 0)
    assert Status.of(CommandSpecificStatus.INVALID_QUEUE_DELETION) == Status(0x0C, 1)
    assert Status.of(MediaStatus.COMPARE_FAILURE, dnr=True) == Status(0x85, 2, dnr=True)


def test_status_spec_code_values() -> None:
    """A few values straight from the spec's tables, so a renumbered enum shows."""
    assert (GenericStatus.ABORT_SQ_DELETION, GenericStatus.INVALID_NAMESPACE_OR_FORMAT,
            GenericStatus.PRP_OFFSET_INVALID, GenericStatus.SGL_DESCRIPTOR_TYPE_INVALID) == (0x08, 0x0B, 0x13, 0x11)
    assert (CommandSpecificStatus.INVALID_INTERRUPT_VECTOR, CommandSpecificStatus.INVALID_LOG_PAGE,
            CommandSpecificStatus.ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED,
            CommandSpecificStatus.FEATURE_NOT_SAVEABLE) == (0x08, 0x09, 0x05, 0x0D)


def test_status_success_and_same_code() -> None:
    assert SUCCESS.is_success
    assert not Status.of(GenericStatus.INVALID_OPCODE).is_success
    # SC 0 of another type is not success
    assert not Status(0, StatusCodeType.COMMAND_SPECIFIC).is_success
    assert Status(2, dnr=True).same_code(Status(2))
    assert not Status(2, sct=1).same_code(Status(2))


def test_status_str_names_the_code() -> None:
    assert "INVALID_QUEUE_SIZE" in str(Status.of(CommandSpecificStatus.INVALID_QUEUE_SIZE, dnr=True))
    assert "DNR" in str(Status(1, dnr=True))
    assert "SC 0x7f" in str(Status(0x7F))


@pytest.mark.parametrize("kwargs", [{"sc": 0x100}, {"sc": 0, "sct": 8}, {"sc": 0, "crd": 4}])
def test_status_rejects_fields_that_do_not_fit(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Status(**kwargs)


# Submission entry

def test_sqe_field_positions() -> None:
    sqe = SubmissionEntry(opcode=0x02, fuse=1, psdt=2, cid=0xBEEF, nsid=0x11223344, cdw2=0x55, cdw3=0x66,
                          mptr=0x0102030405060708, prp1=0x1111_2222_3333_4000, prp2=0xAAAA_BBBB_CCCC_D000,
                          cdw10=10, cdw11=11, cdw12=12, cdw13=13, cdw14=14, cdw15=15)
    data = sqe.pack()
    assert len(data) == 64
    dw = dwords(data)
    assert dw[0] == 0xBEEF_8102  # CID [31:16], PSDT [15:14] = 2, FUSE [9:8] = 1, opcode 0x02
    assert dw[1] == 0x11223344
    assert dw[2:4] == [0x55, 0x66]
    assert dw[4:6] == [0x05060708, 0x01020304]
    assert dw[6:8] == [0x3333_4000, 0x1111_2222]
    assert dw[8:10] == [0xCCCC_D000, 0xAAAA_BBBB]
    assert dw[10:16] == [10, 11, 12, 13, 14, 15]


def test_sqe_round_trips_random_bytes() -> None:
    rng = random.Random(1)
    for _ in range(200):
        raw = bytearray(rng.randbytes(64))
        raw[1] &= 0xC3  # CDW0 bits 13:10 are reserved and not carried
        assert SubmissionEntry.unpack(bytes(raw)).pack() == bytes(raw)


def test_sqe_from_dwords_matches_unpack() -> None:
    sqe = SubmissionEntry(opcode=1, cid=7, nsid=1, prp1=0x1000, cdw12=0xFF)
    assert SubmissionEntry.from_dwords(dwords(sqe.pack())) == sqe


def test_sqe_rejects_bad_sizes_and_fields() -> None:
    with pytest.raises(ValueError):
        SubmissionEntry.unpack(bytes(63))
    with pytest.raises(ValueError):
        SubmissionEntry(opcode=0x100)
    with pytest.raises(ValueError):
        SubmissionEntry(opcode=1, cid=1 << 16)


# Completion entry

def test_cqe_field_positions() -> None:
    cqe = CompletionEntry(dw0=0xA0A0A0A0, dw1=0xB1B1B1B1, sq_head=0x0123, sq_id=0x0045, cid=0xCAFE, phase=1,
                          status=Status(sc=0x02, sct=1, dnr=True))
    dw = dwords(cqe.pack())
    assert dw[:2] == [0xA0A0A0A0, 0xB1B1B1B1]
    assert dw[2] == 0x0045_0123
    assert dw[3] == (0x4102 << 17) | (1 << 16) | 0xCAFE
    assert CompletionEntry.unpack(cqe.pack()) == cqe


def test_cqe_round_trips_random_bytes() -> None:
    rng = random.Random(2)
    for _ in range(200):
        raw = rng.randbytes(16)
        assert CompletionEntry.unpack(raw).pack() == raw


def test_cqe_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError):
        CompletionEntry.unpack(bytes(15))
    with pytest.raises(ValueError):
        CompletionEntry(phase=2)


# Builders

def test_create_io_cq_layout() -> None:
    sqe = create_io_cq(qid=3, qsize=255, prp1=0x8000_0000, iv=2, ien=True)
    dw = dwords(sqe.pack())
    assert dw[0] & 0xFF == AdminOpcode.CREATE_IO_CQ == 0x05
    assert dw[6:8] == [0x8000_0000, 0]
    assert dw[10] == 0x00FF_0003  # QSIZE [31:16], QID [15:0]
    assert dw[11] == 0x0002_0003  # IV [31:16], IEN [1], PC [0]
    assert qsize_qid(sqe.cdw10) == (255, 3)
    assert CreateCqFlags.decode(sqe.cdw11) == CreateCqFlags(pc=True, ien=True, iv=2)


def test_create_io_cq_without_interrupts_or_contiguity() -> None:
    assert create_io_cq(qid=1, qsize=1, prp1=0, iv=0, ien=False, pc=False).cdw11 == 0


def test_create_io_sq_layout() -> None:
    sqe = create_io_sq(qid=4, qsize=63, prp1=0x2000, cqid=7, qprio=2)
    dw = dwords(sqe.pack())
    assert dw[0] & 0xFF == AdminOpcode.CREATE_IO_SQ == 0x01
    assert dw[10] == 0x003F_0004
    assert dw[11] == 0x0007_0005  # CQID [31:16], QPRIO [2:1] = 2, PC [0]
    assert CreateSqFlags.decode(sqe.cdw11) == CreateSqFlags(pc=True, qprio=2, cqid=7)


def test_delete_queue_layouts() -> None:
    assert dwords(delete_io_sq(5).pack())[:1] == [AdminOpcode.DELETE_IO_SQ] == [0x00]
    assert delete_io_sq(5).cdw10 == 5
    assert delete_io_cq(6).opcode == 0x04 and delete_io_cq(6).cdw10 == 6


def test_feature_builders() -> None:
    nq = set_num_queues(nsq=4, ncq=2)
    assert (nq.opcode, nq.cdw10, nq.cdw11) == (0x09, 0x07, 0x0001_0003)  # NCQR [31:16], NSQR [15:0], zero-based
    arb = set_arbitration(ab=3, lpw=1, mpw=2, hpw=4)
    assert (arb.cdw10, arb.cdw11) == (0x01, 0x0402_0103)
    co = set_interrupt_coalescing(thr=7, time_100us=10)
    assert (co.cdw10, co.cdw11) == (0x08, 0x0A07)
    ivc = set_interrupt_vector_config(iv=3, cd=True)
    assert (ivc.cdw10, ivc.cdw11) == (0x09, 0x0001_0003)
    assert set_features(FeatureId.ARBITRATION, 0, save=True).cdw10 == 0x8000_0001


def test_get_features_layout() -> None:
    sqe = get_features(FeatureId.INTERRUPT_VECTOR_CONFIG, GetFeaturesSelect.DEFAULT, cdw11=5)
    assert (sqe.opcode, sqe.cdw10, sqe.cdw11) == (0x0A, 0x0109, 5)


def test_builders_refuse_fields_that_do_not_fit() -> None:
    with pytest.raises(ValueError):
        create_io_cq(qid=1, qsize=1 << 16, prp1=0, iv=0)
    with pytest.raises(ValueError):
        create_io_sq(qid=1, qsize=1, prp1=0, cqid=1, qprio=4)
    with pytest.raises(ValueError):
        set_interrupt_coalescing(thr=256, time_100us=0)


def test_has_compares_the_code_not_the_retry_hints() -> None:
    status = Status.of(CommandSpecificStatus.INVALID_QUEUE_DELETION, dnr=True)
    assert status.has(CommandSpecificStatus.INVALID_QUEUE_DELETION)
    assert not status.has(GenericStatus.INVALID_FIELD) and not status.has(CommandSpecificStatus.INVALID_QUEUE_SIZE)
