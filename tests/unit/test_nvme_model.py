"""The NVMe reference model: shadow data, I/O statuses, admin statuses, logs and asynchronous events."""

from __future__ import annotations

import pytest

from models.identify import NSID_BROADCAST, ControllerConfig, IdentifyNamespace, parse_namespace_list
from models.nvme_commands import (CopyRange, DsmRange, abort_cmd, async_event_request_cmd, compare_cmd, copy_cmd,
                                  data_length, dsm_cmd, flush_cmd, get_log_page_cmd, identify_cmd, read_cmd,
                                  verify_cmd, write_cmd, write_zeroes_cmd)
from models.nvme_logs import (AEC_NAMESPACE_ATTRIBUTE, CRITICAL_WARNING_TEMPERATURE,
                              INVALID_DOORBELL_REGISTER, INVALID_DOORBELL_VALUE, NAMESPACE_ATTRIBUTE_CHANGED,
                              SMART_LOG_SIZE, TEMPERATURE_THRESHOLD, Effect, LogId, parse_command_effects,
                              temperature_threshold_dword)
from models.nvme_model import HELD, NvmeModel, Prediction
from models.prp import DataPointerError
from models.nvme_spec import (SUCCESS, AdminOpcode, CommandSpecificStatus, FeatureId, GenericStatus,
                              GetFeaturesSelect, MediaStatus, NvmOpcode, Status, StatusCode, StatusCodeType,
                              SubmissionEntry,
                              create_io_cq, create_io_sq, delete_io_cq, get_features, set_features, set_num_queues)

PAIRS = 4
NS512, NS4K = 1, 2
NN = ControllerConfig().max_namespaces


@pytest.fixture
def model() -> NvmeModel:
    return NvmeModel(ControllerConfig(), io_queue_pairs=PAIRS, mqes=255)


def pattern(length: int, seed: int = 1) -> bytes:
    return bytes((i * 7 + seed) & 0xFF for i in range(length))


def failed(prediction: Prediction | None, code: StatusCode) -> bool:
    assert prediction is not None
    return prediction.status == Status.of(code, dnr=True)


def lba_size(nsid: int) -> int:
    return 512 if nsid == NS512 else 4096


# I/O

@pytest.mark.parametrize("nsid", [NS512, NS4K])
def test_write_then_read_returns_the_data_and_unwritten_blocks_read_zeroes(model: NvmeModel, nsid: int) -> None:
    data = pattern(3 * lba_size(nsid))
    assert model.io(write_cmd(nsid, 10, 3), data) == Prediction(SUCCESS)
    assert model.io(read_cmd(nsid, 9, 5)).data == bytes(lba_size(nsid)) + data + bytes(lba_size(nsid))
    assert model.read_shadow(nsid, 10, 3) == data


def test_namespaces_are_separate(model: NvmeModel) -> None:
    model.io(write_cmd(NS512, 0, 8), pattern(4096))
    assert model.io(read_cmd(NS4K, 0, 1)).data == bytes(4096)


@pytest.mark.parametrize("nsid", [NS512, NS4K])
def test_lba_out_of_range(model: NvmeModel, nsid: int) -> None:
    last = model.config.namespace(nsid).nlbas - 1
    assert model.io(read_cmd(nsid, last, 1)).status == SUCCESS
    assert failed(model.io(read_cmd(nsid, last, 2)), GenericStatus.LBA_OUT_OF_RANGE)
    assert failed(model.io(write_zeroes_cmd(nsid, last + 1, 1)), GenericStatus.LBA_OUT_OF_RANGE)


@pytest.mark.parametrize("nsid", [0, NN + 1, NSID_BROADCAST])
def test_invalid_namespace(model: NvmeModel, nsid: int) -> None:
    assert failed(model.io(read_cmd(nsid, 0, 1)), GenericStatus.INVALID_NAMESPACE_OR_FORMAT)


@pytest.mark.parametrize("nsid", [3, NN])
def test_inactive_namespace_is_invalid_field(model: NvmeModel, nsid: int) -> None:
    assert failed(model.io(read_cmd(nsid, 0, 1)), GenericStatus.INVALID_FIELD)
    assert failed(model.io(flush_cmd(nsid)), GenericStatus.INVALID_FIELD)


@pytest.mark.parametrize("nsid, blocks", [(NS512, 256), (NS4K, 32)])
def test_transfers_above_mdts_are_invalid_field(model: NvmeModel, nsid: int, blocks: int) -> None:
    assert model.io(read_cmd(nsid, 0, blocks)).status == SUCCESS     # exactly 128 KiB
    assert failed(model.io(read_cmd(nsid, 0, blocks + 1)), GenericStatus.INVALID_FIELD)
    assert model.io(write_zeroes_cmd(nsid, 0, blocks + 1)).status == SUCCESS   # no data moves


def test_mdts_is_checked_before_the_lba_range(model: NvmeModel) -> None:
    assert failed(model.io(read_cmd(NS4K, 1 << 40, 33)), GenericStatus.INVALID_FIELD)


def test_write_zeroes_and_deallocate_read_back_zeroes(model: NvmeModel) -> None:
    model.io(write_cmd(NS4K, 0, 4), pattern(4 * 4096))
    assert model.io(write_zeroes_cmd(NS4K, 0, 1)).status == SUCCESS
    ranges = [DsmRange(2, 1), DsmRange(3, 1)]
    assert model.io(dsm_cmd(NS4K, 2), b"".join(r.pack() for r in ranges)).status == SUCCESS
    assert model.read_shadow(NS4K, 0, 4) == bytes(4096) + pattern(4 * 4096)[4096:8192] + bytes(8192)


def test_dsm_without_deallocate_keeps_data(model: NvmeModel) -> None:
    model.io(write_cmd(NS512, 0, 1), pattern(512))
    assert model.io(dsm_cmd(NS512, 1, deallocate=False), DsmRange(0, 1).pack()).status == SUCCESS
    assert model.read_shadow(NS512, 0, 1) == pattern(512)


def test_dsm_range_out_of_range_deallocates_nothing(model: NvmeModel) -> None:
    model.io(write_cmd(NS512, 0, 1), pattern(512))
    nlbas = model.config.namespace(NS512).nlbas
    data = DsmRange(0, 1).pack() + DsmRange(nlbas - 1, 2).pack()
    assert failed(model.io(dsm_cmd(NS512, 2), data), GenericStatus.LBA_OUT_OF_RANGE)
    assert model.read_shadow(NS512, 0, 1) == pattern(512)


def test_compare(model: NvmeModel) -> None:
    model.io(write_cmd(NS512, 5, 2), pattern(1024))
    assert model.io(compare_cmd(NS512, 5, 2), pattern(1024)).status == SUCCESS
    mismatch = model.io(compare_cmd(NS512, 5, 2), pattern(1023) + b"\0")
    assert mismatch.status == Status.of(MediaStatus.COMPARE_FAILURE, dnr=True)
    assert mismatch.status.sct == StatusCodeType.MEDIA_DATA_INTEGRITY


@pytest.mark.parametrize("nsid, ok", [(NS512, True), (NSID_BROADCAST, True), (0, False), (NN + 1, False)])
def test_flush(model: NvmeModel, nsid: int, ok: bool) -> None:
    prediction = model.io(flush_cmd(nsid))
    assert prediction.status == SUCCESS if ok else failed(prediction, GenericStatus.INVALID_NAMESPACE_OR_FORMAT)


@pytest.mark.parametrize("opcode", [0x04, 0x0D, 0x7F, 0x99])   # Write Uncorrectable: not in ONCS
def test_unknown_io_opcodes(model: NvmeModel, opcode: int) -> None:
    assert failed(model.io(SubmissionEntry(opcode, nsid=1)), GenericStatus.INVALID_OPCODE)


def test_reserved_psdt_and_sgl_when_unsupported(model: NvmeModel) -> None:
    assert failed(model.io(SubmissionEntry(0x02, psdt=2, nsid=1)), GenericStatus.INVALID_FIELD)
    assert model.io(SubmissionEntry(0x02, psdt=1, nsid=1)).status == SUCCESS
    no_sgl = NvmeModel(ControllerConfig(sgl=False), PAIRS, 255)
    assert failed(no_sgl.io(SubmissionEntry(0x02, psdt=1, nsid=1)), GenericStatus.INVALID_FIELD)


def test_verify_moves_nothing_and_is_bounded_like_a_read(model: NvmeModel) -> None:
    assert model.io(verify_cmd(NS4K, 0, 32)) == Prediction(SUCCESS)
    assert failed(model.io(verify_cmd(NS4K, 0, 33)), GenericStatus.INVALID_FIELD)          # above MDTS
    last = model.config.namespace(NS4K).nlbas
    assert failed(model.io(verify_cmd(NS4K, last - 1, 2)), GenericStatus.LBA_OUT_OF_RANGE)


def copy_ranges(*ranges: tuple[int, int]) -> bytes:
    return b"".join(CopyRange(slba, nlb).pack() for slba, nlb in ranges)


def test_copy_reads_every_source_before_writing(model: NvmeModel) -> None:
    model.io(write_cmd(NS512, 0, 4), pattern(2048))
    # the second source overlaps the destination: it is copied as it was before the command
    assert model.io(copy_cmd(NS512, 2, 2), copy_ranges((0, 2), (2, 2))) == Prediction(SUCCESS)
    assert model.io(read_cmd(NS512, 0, 6)).data == pattern(2048)[:1024] + pattern(2048)[:1024] + pattern(2048)[1024:]


@pytest.mark.parametrize("sqe, ranges, code", [
    (copy_cmd(NS4K, 0, 1, desfmt=1), [(0, 1)], GenericStatus.INVALID_FIELD),
    (copy_cmd(NS4K, 0, 129), [(0, 1)] * 129, CommandSpecificStatus.COMMAND_SIZE_LIMIT_EXCEEDED),   # MSRC
    (copy_cmd(NS4K, 0, 1), [(0, 33)], CommandSpecificStatus.COMMAND_SIZE_LIMIT_EXCEEDED),           # MSSRL
    (copy_cmd(NS4K, 0, 2), [(0, 20), (40, 20)], CommandSpecificStatus.COMMAND_SIZE_LIMIT_EXCEEDED),  # MCL
    (copy_cmd(NS4K, (1 << 18) - 1, 1), [(0, 2)], GenericStatus.LBA_OUT_OF_RANGE),                   # destination
    (copy_cmd(NS4K, 0, 1), [((1 << 18) - 1, 2)], GenericStatus.LBA_OUT_OF_RANGE),                   # source
])
def test_copy_errors_change_nothing(model: NvmeModel, sqe: SubmissionEntry, ranges: list[tuple[int, int]],
                                    code: StatusCode) -> None:
    model.io(write_cmd(NS4K, 0, 1), pattern(4096))
    assert failed(model.io(sqe, copy_ranges(*ranges)), code)
    assert model.io(read_cmd(NS4K, 0, 2)).data == pattern(4096) + bytes(4096)


def test_copy_pointer_error_comes_after_the_command_fields(model: NvmeModel) -> None:
    bad = DataPointerError(GenericStatus.PRP_OFFSET_INVALID, "test")
    assert failed(model.io(copy_cmd(NS4K, 0, 1, desfmt=1), b"", bad), GenericStatus.INVALID_FIELD)
    assert failed(model.io(copy_cmd(NS4K, 0, 1), b"", bad), GenericStatus.PRP_OFFSET_INVALID)


def test_effects_log_marks_every_supported_opcode(model: NvmeModel) -> None:
    admin, io = parse_command_effects(model.admin(get_log_page_cmd(LogId.COMMANDS_SUPPORTED, 4096)).data)
    assert io[NvmOpcode.COPY] == Effect.CSUPP | Effect.LBCC and io[NvmOpcode.VERIFY] == Effect.CSUPP
    assert admin[AdminOpcode.NS_ATTACHMENT] & Effect.NIC and AdminOpcode.FORMAT_NVM not in admin
    sends = (NvmOpcode.WRITE, NvmOpcode.COMPARE, NvmOpcode.DATASET_MANAGEMENT, NvmOpcode.COPY)
    for opcode in range(256):   # the log and the model agree on what is an Invalid Opcode
        sqe = SubmissionEntry(opcode, nsid=NS512)
        prediction = model.io(sqe, bytes(data_length(sqe, 512)) if opcode in sends else b"")
        assert failed(prediction, GenericStatus.INVALID_OPCODE) == (opcode not in io), hex(opcode)


def test_host_buffer_length_is_checked(model: NvmeModel) -> None:
    with pytest.raises(ValueError):
        model.io(write_cmd(NS512, 0, 2), pattern(512))


def test_data_length() -> None:
    assert data_length(read_cmd(1, 0, 8), 512) == 4096
    assert data_length(dsm_cmd(1, 3), None) == 48
    with pytest.raises(ValueError):
        data_length(flush_cmd(1), 512)


# admin: queues, identify, features

def test_queue_commands(model: NvmeModel) -> None:
    assert model.admin(create_io_cq(1, 15, 0x10000, iv=1)) == Prediction(SUCCESS)
    assert failed(model.admin(create_io_sq(1, 15, 0x20000, cqid=2)), CommandSpecificStatus.COMPLETION_QUEUE_INVALID)
    assert model.admin(create_io_sq(1, 15, 0x20000, cqid=1)) == Prediction(SUCCESS)
    assert failed(model.admin(delete_io_cq(1)), CommandSpecificStatus.INVALID_QUEUE_DELETION)
    assert failed(model.admin(create_io_cq(PAIRS + 1, 15, 0x10000, iv=1)),
                  CommandSpecificStatus.INVALID_QUEUE_IDENTIFIER)
    assert failed(model.admin(create_io_cq(2, 15, 0x10000, iv=PAIRS + 1)),
                  CommandSpecificStatus.INVALID_INTERRUPT_VECTOR)
    assert failed(model.admin(set_num_queues(2, 2)), GenericStatus.COMMAND_SEQUENCE_ERROR)


def test_identify(model: NvmeModel) -> None:
    assert model.admin(identify_cmd(1)).data == model.config.identify().pack()
    assert IdentifyNamespace.unpack(model.admin(identify_cmd(0, NS4K)).data).lba_size == 4096
    assert parse_namespace_list(model.admin(identify_cmd(2, 1)).data) == [2]
    assert model.admin(identify_cmd(3, NS512)).data == model.config.namespace(NS512).descriptors()


@pytest.mark.parametrize("cns, nsid", [(0, 0), (0, NN + 1), (3, 0), (3, NSID_BROADCAST), (2, NSID_BROADCAST),
                                       (2, NSID_BROADCAST - 1), (0x10, NSID_BROADCAST), (0x11, NN + 1),
                                       (0x12, 0)])
def test_identify_invalid_namespace(model: NvmeModel, cns: int, nsid: int) -> None:
    assert failed(model.admin(identify_cmd(cns, nsid)), GenericStatus.INVALID_NAMESPACE_OR_FORMAT)


@pytest.mark.parametrize("cns", [0x04, 0x14, 0x15, 0xFF])
def test_reserved_cns_is_invalid_field(model: NvmeModel, cns: int) -> None:
    assert failed(model.admin(identify_cmd(cns, 1)), GenericStatus.INVALID_FIELD)


@pytest.mark.parametrize("opcode", [AdminOpcode.FORMAT_NVM, AdminOpcode.FW_COMMIT, AdminOpcode.KEEP_ALIVE, 0xC1])
def test_unknown_admin_opcodes(model: NvmeModel, opcode: int) -> None:
    assert failed(model.admin(SubmissionEntry(opcode)), GenericStatus.INVALID_OPCODE)


def get(model: NvmeModel, fid: FeatureId, sel: GetFeaturesSelect = GetFeaturesSelect.CURRENT,
        cdw11: int = 0) -> int | None:
    prediction = model.admin(get_features(fid, sel, cdw11))
    assert prediction is not None and prediction.status == SUCCESS
    return prediction.dw0


@pytest.mark.parametrize("fid, value, default", [
    (FeatureId.VOLATILE_WRITE_CACHE, 0, 1), (FeatureId.ASYNC_EVENT_CONFIG, 0x101, 0),
    (FeatureId.ARBITRATION, 0x03020103, 0), (FeatureId.INTERRUPT_COALESCING, 0x0A05, 0),
    # mandatory features with nothing to change: PS0 with a workload hint, a TLER, Disable Normal
    (FeatureId.POWER_MANAGEMENT, 0x40, 0), (FeatureId.ERROR_RECOVERY, 0x0010, 0),
    (FeatureId.WRITE_ATOMICITY, 1, 0)])
def test_feature_select(model: NvmeModel, fid: FeatureId, value: int, default: int) -> None:
    assert model.admin(set_features(fid, value)) == Prediction(SUCCESS)
    assert get(model, fid) == value
    assert get(model, fid, GetFeaturesSelect.DEFAULT) == default
    assert get(model, fid, GetFeaturesSelect.SAVED) == default
    assert get(model, fid, GetFeaturesSelect.SUPPORTED_CAPABILITIES) == 1 << 2   # changeable only


def test_interrupt_vector_configuration(model: NvmeModel) -> None:
    assert model.admin(set_features(FeatureId.INTERRUPT_VECTOR_CONFIG, 2 | 1 << 16)) == Prediction(SUCCESS)
    assert get(model, FeatureId.INTERRUPT_VECTOR_CONFIG, cdw11=2) == 2 | 1 << 16
    assert get(model, FeatureId.INTERRUPT_VECTOR_CONFIG, GetFeaturesSelect.DEFAULT, 2) == 2
    assert get(model, FeatureId.INTERRUPT_VECTOR_CONFIG, cdw11=0) == 1 << 16
    assert failed(model.admin(get_features(FeatureId.INTERRUPT_VECTOR_CONFIG, cdw11=PAIRS + 1)),
                  GenericStatus.INVALID_FIELD)


def test_number_of_queues_is_granted_up_to_the_hardware(model: NvmeModel) -> None:
    assert model.admin(set_num_queues(64, 2)) == Prediction(SUCCESS, dw0=(PAIRS - 1) | 1 << 16)
    assert get(model, FeatureId.NUMBER_OF_QUEUES, GetFeaturesSelect.DEFAULT) == (PAIRS - 1) * 0x10001


def test_feature_errors(model: NvmeModel) -> None:
    assert failed(model.admin(set_features(FeatureId.VOLATILE_WRITE_CACHE, 1, save=True)),
                  CommandSpecificStatus.FEATURE_NOT_SAVEABLE)
    assert failed(model.admin(set_features(FeatureId.POWER_MANAGEMENT, 1)), GenericStatus.INVALID_FIELD)   # NPSS 0
    assert failed(model.admin(set_features(FeatureId.ERROR_RECOVERY, 1 << 16)), GenericStatus.INVALID_FIELD)
    assert failed(model.admin(set_features(FeatureId.LBA_RANGE_TYPE, 0)), GenericStatus.INVALID_FIELD)
    assert failed(model.admin(get_features(FeatureId.TIMESTAMP)), GenericStatus.INVALID_FIELD)
    bad_sel = SubmissionEntry(AdminOpcode.GET_FEATURES, cdw10=FeatureId.ARBITRATION | 4 << 8)
    assert failed(model.admin(bad_sel), GenericStatus.INVALID_FIELD)
    assert failed(model.admin(set_features(FeatureId.TEMPERATURE_THRESHOLD, 300 | 1 << 16)),
                  GenericStatus.INVALID_FIELD)


# logs

def log(model: NvmeModel, lid: int, length: int, **kwargs: int) -> bytes:
    prediction = model.admin(get_log_page_cmd(lid, length, **kwargs))
    assert prediction is not None and prediction.status == SUCCESS and prediction.data is not None
    assert len(prediction.data) == length
    return prediction.data


def counter(smart: bytes, offset: int) -> int:
    return int.from_bytes(smart[offset:offset + 16], "little")


def test_smart_counts_successful_host_io(model: NvmeModel) -> None:
    for i in range(25):                                       # 2000 units of 512 B: 2 data units
        model.io(write_cmd(NS4K, 10 * i, 10), pattern(10 * 4096))
    model.io(write_cmd(NS512, 0, 1), pattern(512))            # one more unit rounds up to 3
    model.io(read_cmd(NS512, 0, 1))
    model.io(read_cmd(NS512, 1 << 40, 1))                     # fails: not counted
    model.io(compare_cmd(NS512, 0, 1), pattern(512))
    smart = log(model, LogId.SMART_HEALTH, SMART_LOG_SIZE)
    assert [counter(smart, o) for o in (32, 48, 64, 80)] == [1, 3, 2, 26]
    assert smart[0] == 0 and int.from_bytes(smart[1:3], "little") == 313


def test_log_longer_than_the_page_is_zero_filled(model: NvmeModel) -> None:
    data = log(model, LogId.FIRMWARE_SLOT, 1024)
    assert data[0] == 1 and data[8:16] == b"0.1     " and data[512:] == bytes(512)


def test_log_offset(model: NvmeModel) -> None:
    assert log(model, LogId.FIRMWARE_SLOT, 8, offset=8) == b"0.1     "
    assert log(model, LogId.FIRMWARE_SLOT, 4, offset=512) == bytes(4)
    assert failed(model.admin(get_log_page_cmd(LogId.FIRMWARE_SLOT, 4, offset=516)), GenericStatus.INVALID_FIELD)
    assert failed(model.admin(get_log_page_cmd(LogId.FIRMWARE_SLOT, 4, offset=2)), GenericStatus.INVALID_FIELD)


def test_log_errors(model: NvmeModel) -> None:
    assert failed(model.admin(get_log_page_cmd(0x06, 512)), CommandSpecificStatus.INVALID_LOG_PAGE)   # self-test
    assert failed(model.admin(get_log_page_cmd(LogId.SMART_HEALTH, 512, nsid=1)), GenericStatus.INVALID_FIELD)
    assert failed(model.admin(get_log_page_cmd(LogId.SMART_HEALTH, 256 * 1024)), GenericStatus.INVALID_FIELD)


# asynchronous events

def test_aer_is_held_until_an_event(model: NvmeModel) -> None:
    assert model.admin(async_event_request_cmd()) is HELD
    assert model.async_completions == []
    model.doorbell_error(no_such_queue=True)
    assert model.async_completions == [INVALID_DOORBELL_REGISTER.dw0]
    assert INVALID_DOORBELL_REGISTER.dw0 == 0x01_00_00
    errors = log(model, LogId.ERROR_INFORMATION, 128)
    assert int.from_bytes(errors[:8], "little") == 1 and errors[64:] == bytes(64)


def test_event_before_the_request_waits_for_it(model: NvmeModel) -> None:
    model.doorbell_error(no_such_queue=False)
    assert model.admin(async_event_request_cmd()) is HELD
    assert model.async_completions == [INVALID_DOORBELL_VALUE.dw0]


def test_aer_limit(model: NvmeModel) -> None:
    for _ in range(4):   # AERL 3, zero-based
        assert model.admin(async_event_request_cmd()) is HELD
    assert failed(model.admin(async_event_request_cmd()), CommandSpecificStatus.ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED)


def test_event_type_is_masked_until_its_log_is_read(model: NvmeModel) -> None:
    model.admin(async_event_request_cmd())
    model.admin(async_event_request_cmd())
    model.doorbell_error(no_such_queue=True)
    model.doorbell_error(no_such_queue=True)
    assert len(model.async_completions) == 1
    log(model, LogId.ERROR_INFORMATION, 64, rae=True)   # retain: still masked
    assert len(model.async_completions) == 1
    log(model, LogId.ERROR_INFORMATION, 64)
    assert len(model.async_completions) == 2


def test_temperature_threshold_event_needs_aec(model: NvmeModel) -> None:
    model.admin(async_event_request_cmd())
    model.admin(set_features(FeatureId.TEMPERATURE_THRESHOLD, temperature_threshold_dword(300)))
    assert model.async_completions == []                     # AEC bit 1 clear: not reported
    assert log(model, LogId.SMART_HEALTH, 4)[0] == CRITICAL_WARNING_TEMPERATURE
    model.admin(set_features(FeatureId.TEMPERATURE_THRESHOLD, temperature_threshold_dword(343)))
    model.admin(set_features(FeatureId.ASYNC_EVENT_CONFIG, CRITICAL_WARNING_TEMPERATURE))
    model.admin(set_features(FeatureId.TEMPERATURE_THRESHOLD, temperature_threshold_dword(300)))
    assert model.async_completions == [TEMPERATURE_THRESHOLD.dw0]


def test_namespace_change_notice(model: NvmeModel) -> None:
    model.admin(set_features(FeatureId.ASYNC_EVENT_CONFIG, AEC_NAMESPACE_ATTRIBUTE))
    model.admin(async_event_request_cmd())
    model.namespace_changed([2])
    assert model.async_completions == [NAMESPACE_ATTRIBUTE_CHANGED.dw0]
    assert parse_namespace_list(log(model, LogId.CHANGED_NAMESPACES, 4096)) == [2]
    assert parse_namespace_list(log(model, LogId.CHANGED_NAMESPACES, 4096)) == []   # cleared by reading


def test_reset_drops_requests_and_features_but_keeps_data(model: NvmeModel) -> None:
    model.io(write_cmd(NS512, 0, 1), pattern(512))
    model.admin(async_event_request_cmd())
    model.admin(set_features(FeatureId.VOLATILE_WRITE_CACHE, 0))
    model.reset()
    model.doorbell_error(no_such_queue=True)
    assert model.async_completions == []
    assert get(model, FeatureId.VOLATILE_WRITE_CACHE) == 1
    assert model.read_shadow(NS512, 0, 1) == pattern(512)


def test_abort_status_is_predicted_but_not_its_outcome(model: NvmeModel) -> None:
    assert model.admin(abort_cmd(1, 7)) == Prediction(SUCCESS, dw0=None)
