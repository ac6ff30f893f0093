"""Firmware admin decisions: queue creation/deletion checks and the queue-related features."""

import pytest

from firmware.admin import (AdminState, CreateCq, CreateSq, DeleteCq, DeleteSq, ProgramArbitration, ProgramCoalescing,
                            ProgramCoalescingDisable)
from models.nvme_spec import (AdminOpcode, CommandSpecificStatus, FeatureId, GenericStatus, GetFeaturesSelect, Status,
                              StatusCode, SubmissionEntry, create_io_cq, create_io_sq, delete_io_cq, delete_io_sq,
                              get_features, set_arbitration, set_features, set_interrupt_coalescing,
                              set_interrupt_vector_config, set_num_queues)

PAIRS = 4
MQES = 255
BASE = 0x10_0000


@pytest.fixture
def fw() -> AdminState:
    return AdminState(io_queue_pairs=PAIRS, mqes=MQES)


@pytest.fixture
def pair(fw: AdminState) -> AdminState:
    """CQ 1 (vector 1) and SQ 1 bound to it."""
    assert fw.execute(create_io_cq(1, 63, BASE, iv=1)).status.is_success
    assert fw.execute(create_io_sq(1, 63, BASE + 0x1000, cqid=1)).status.is_success
    return fw


def fails_with(fw: AdminState, sqe: SubmissionEntry, code: StatusCode) -> None:
    result = fw.execute(sqe)
    assert result.status == Status.of(code, dnr=True), f"got {result.status}"
    assert result.actions == ()


def test_create_cq_and_sq_program_the_hardware(fw: AdminState) -> None:
    assert fw.execute(create_io_cq(2, 15, BASE, iv=3, ien=False)).actions == (CreateCq(2, BASE, 15, 3, False),)
    assert fw.execute(create_io_sq(4, 31, BASE, cqid=2, qprio=1)).actions == (CreateSq(4, BASE, 31, 2, 1),)
    assert fw.cq_of(4) == 2 and fw.cq_of(0) == 0 and fw.cq_of(1) is None


@pytest.mark.parametrize("qid", [0, PAIRS + 1])
def test_create_cq_with_bad_qid(fw: AdminState, qid: int) -> None:
    fails_with(fw, create_io_cq(qid, 15, BASE, iv=1), CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)


def test_create_existing_queue(pair: AdminState) -> None:
    fails_with(pair, create_io_cq(1, 15, BASE, iv=1), CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)
    fails_with(pair, create_io_sq(1, 15, BASE, cqid=1), CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)


@pytest.mark.parametrize("qsize", [0, MQES + 1])
def test_create_queue_with_bad_size(pair: AdminState, qsize: int) -> None:
    fails_with(pair, create_io_cq(2, qsize, BASE, iv=1), CommandSpecificStatus.INVALID_QUEUE_SIZE)
    fails_with(pair, create_io_sq(2, qsize, BASE, cqid=1), CommandSpecificStatus.INVALID_QUEUE_SIZE)


def test_largest_queue_is_mqes(fw: AdminState) -> None:
    assert fw.execute(create_io_cq(1, MQES, BASE, iv=1)).status.is_success


def test_create_cq_with_bad_vector(fw: AdminState) -> None:
    fails_with(fw, create_io_cq(1, 15, BASE, iv=PAIRS + 1), CommandSpecificStatus.INVALID_INTERRUPT_VECTOR)
    assert fw.execute(create_io_cq(1, 15, BASE, iv=PAIRS)).status.is_success


def test_queues_must_be_contiguous(pair: AdminState) -> None:
    fails_with(pair, create_io_cq(2, 15, BASE, iv=1, pc=False), GenericStatus.INVALID_FIELD)
    fails_with(pair, create_io_sq(2, 15, BASE, cqid=1, pc=False), GenericStatus.INVALID_FIELD)


def test_queue_base_must_be_page_aligned(pair: AdminState) -> None:
    fails_with(pair, create_io_cq(2, 15, BASE + 0x80, iv=1), GenericStatus.PRP_OFFSET_INVALID)


@pytest.mark.parametrize("cqid", [0, 2])
def test_create_sq_on_missing_cq(pair: AdminState, cqid: int) -> None:
    fails_with(pair, create_io_sq(2, 15, BASE, cqid=cqid), CommandSpecificStatus.COMPLETION_QUEUE_INVALID)


def test_delete_in_order(pair: AdminState) -> None:
    fails_with(pair, delete_io_cq(1), CommandSpecificStatus.INVALID_QUEUE_DELETION)
    assert pair.execute(delete_io_sq(1)).actions == (DeleteSq(1),)
    assert pair.execute(delete_io_cq(1)).actions == (DeleteCq(1),)
    assert pair.cqs == {} and pair.sqs == {}


@pytest.mark.parametrize("qid", [0, 2])
def test_delete_missing_queue(pair: AdminState, qid: int) -> None:
    fails_with(pair, delete_io_sq(qid), CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)
    fails_with(pair, delete_io_cq(qid), CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)


def test_unknown_admin_opcode(fw: AdminState) -> None:
    fails_with(fw, SubmissionEntry(AdminOpcode.IDENTIFY), GenericStatus.INVALID_OPCODE)
    fails_with(fw, SubmissionEntry(0xC0), GenericStatus.INVALID_OPCODE)


def test_number_of_queues_allocates_at_most_the_hardware(fw: AdminState) -> None:
    assert fw.execute(get_features(FeatureId.NUMBER_OF_QUEUES)).dw0 == (PAIRS - 1) << 16 | (PAIRS - 1)
    result = fw.execute(set_num_queues(nsq=2, ncq=64))
    assert result.status.is_success
    assert result.dw0 == (PAIRS - 1) << 16 | 1   # NCQA [31:16], NSQA [15:0], zero-based
    assert fw.execute(get_features(FeatureId.NUMBER_OF_QUEUES)).dw0 == result.dw0
    # SQ ids now stop at 2
    assert fw.execute(create_io_cq(1, 15, BASE, iv=1)).status.is_success
    fails_with(fw, create_io_sq(3, 15, BASE, cqid=1), CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)


def test_number_of_queues_after_queue_creation_is_a_sequence_error(pair: AdminState) -> None:
    fails_with(pair, set_num_queues(2, 2), GenericStatus.COMMAND_SEQUENCE_ERROR)


def test_number_of_queues_65536_is_invalid(fw: AdminState) -> None:
    fails_with(fw, set_features(FeatureId.NUMBER_OF_QUEUES, 0x0000_FFFF), GenericStatus.INVALID_FIELD)


def test_arbitration_and_coalescing_program_the_hardware(fw: AdminState) -> None:
    arb = set_arbitration(ab=2, lpw=1, mpw=3, hpw=7)
    assert fw.execute(arb).actions == (ProgramArbitration(arb.cdw11),)
    assert fw.execute(get_features(FeatureId.ARBITRATION)).dw0 == arb.cdw11
    co = set_interrupt_coalescing(thr=4, time_100us=2)
    assert fw.execute(co).actions == (ProgramCoalescing(0x0204),)
    assert fw.execute(get_features(FeatureId.INTERRUPT_COALESCING)).dw0 == 0x0204
    assert fw.execute(get_features(FeatureId.INTERRUPT_COALESCING, GetFeaturesSelect.DEFAULT)).dw0 == 0


def test_interrupt_vector_configuration(fw: AdminState) -> None:
    assert fw.execute(set_interrupt_vector_config(2, cd=True)).actions == (ProgramCoalescingDisable(2, True),)
    assert fw.execute(get_features(FeatureId.INTERRUPT_VECTOR_CONFIG, cdw11=2)).dw0 == 1 << 16 | 2
    assert fw.execute(get_features(FeatureId.INTERRUPT_VECTOR_CONFIG, cdw11=1)).dw0 == 1
    assert fw.execute(get_features(FeatureId.INTERRUPT_VECTOR_CONFIG, cdw11=0)).dw0 == 1 << 16  # admin: never
    fw.execute(set_interrupt_vector_config(2, cd=False))
    assert fw.execute(get_features(FeatureId.INTERRUPT_VECTOR_CONFIG, cdw11=2)).dw0 == 2


def test_interrupt_vector_configuration_refusals(fw: AdminState) -> None:
    fails_with(fw, set_interrupt_vector_config(PAIRS + 1, cd=True), GenericStatus.INVALID_FIELD)
    fails_with(fw, set_interrupt_vector_config(0, cd=False), GenericStatus.INVALID_FIELD)
    fails_with(fw, get_features(FeatureId.INTERRUPT_VECTOR_CONFIG, cdw11=PAIRS + 1), GenericStatus.INVALID_FIELD)


def test_features_are_not_saveable(fw: AdminState) -> None:
    fails_with(fw, set_features(FeatureId.ARBITRATION, 0, save=True), CommandSpecificStatus.FEATURE_NOT_SAVEABLE)


def test_unsupported_feature_and_select(fw: AdminState) -> None:
    fails_with(fw, set_features(FeatureId.TIMESTAMP, 0), GenericStatus.INVALID_FIELD)
    fails_with(fw, get_features(FeatureId.TIMESTAMP), GenericStatus.INVALID_FIELD)
    fails_with(fw, SubmissionEntry(AdminOpcode.GET_FEATURES, cdw10=4 << 8 | FeatureId.ARBITRATION),
               GenericStatus.INVALID_FIELD)
    assert fw.execute(get_features(FeatureId.ARBITRATION, GetFeaturesSelect.SUPPORTED_CAPABILITIES)).dw0 == 0b100


def test_reset_forgets_queues_and_features(pair: AdminState) -> None:
    pair.execute(set_interrupt_coalescing(thr=1, time_100us=1))
    pair.reset()
    assert pair.cq_of(1) is None
    assert pair.execute(get_features(FeatureId.INTERRUPT_COALESCING)).dw0 == 0
    assert pair.execute(create_io_cq(1, 15, BASE, iv=1)).status.is_success
    assert ProgramCoalescing(0) in pair.default_actions()
    assert ProgramCoalescingDisable(PAIRS, False) in pair.default_actions()
