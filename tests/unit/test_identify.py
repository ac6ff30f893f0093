"""Identify data structures: field positions from the spec's figures, round trips, the device's answers."""

import struct

import pytest

from models.identify import (IDENTIFY_SIZE, OACS_DOORBELL_BUFFER_CONFIG, ControllerConfig, IdentifyController,
                             IdentifyNamespace, LbaFormat, NamespaceConfig, NidType, Oncs, namespace_list,
                             ns_descriptors, parse_namespace_list, parse_ns_descriptors)
from models.nvme_commands import doorbell_buffer_config_cmd
from models.nvme_logs import command_effects
from models.nvme_model import NvmeModel
from models.nvme_spec import AdminOpcode, Csi
from models.zoned import ZoneGeometry


@pytest.fixture
def config() -> ControllerConfig:
    return ControllerConfig()


def test_controller_fields_sit_at_the_spec_offsets(config: ControllerConfig) -> None:
    raw = config.identify().pack()
    assert len(raw) == IDENTIFY_SIZE
    assert struct.unpack_from("<H", raw, 0)[0] == 0x10EE
    assert raw[4:24] == b"NVMECOSIM0001".ljust(20)
    assert raw[64:72] == b"0.1     "
    assert raw[77] == 5                                     # MDTS
    assert struct.unpack_from("<I", raw, 80)[0] == 0x10400  # VER
    assert raw[259] == 3                                    # AERL
    assert (raw[512], raw[513]) == (0x66, 0x44)             # SQES, CQES
    assert struct.unpack_from("<I", raw, 516)[0] == config.max_namespaces   # NN
    assert struct.unpack_from("<H", raw, 256)[0] & 1 << 3   # OACS: namespace management
    assert struct.unpack_from("<QQ", raw, 280) == (config.nvm_capacity, 0)           # TNVMCAP
    assert struct.unpack_from("<QQ", raw, 296) == (config.nvm_capacity - (2 << 30), 0)   # UNVMCAP
    assert raw[76] == 0 and struct.unpack_from("<H", raw, 78)[0] == config.cntlid      # CMIC, CNTLID
    oncs = struct.unpack_from("<H", raw, 520)[0]
    assert oncs == (Oncs.COMPARE | Oncs.DATASET_MANAGEMENT | Oncs.WRITE_ZEROES | Oncs.SAVE_SELECT | Oncs.VERIFY
                    | Oncs.COPY)
    assert struct.unpack_from("<H", raw, 534)[0] == 1      # OCFS: Copy format 0
    assert raw[261] & 0b110 == 0b110                        # LPA: effects log, extended data
    assert raw[525] & 1                                     # VWC present
    assert struct.unpack_from("<I", raw, 536)[0] & 0x3 == 2  # SGLS: dword granularity


def test_controller_round_trip(config: ControllerConfig) -> None:
    ident = config.identify()
    assert IdentifyController.unpack(ident.pack()) == ident
    assert ident.max_transfer() == 128 * 1024
    assert ControllerConfig(mdts=0).max_transfer is None


def test_without_sgl_support_sgls_is_zero() -> None:
    assert ControllerConfig(sgl=False).identify().sgls == 0


def test_shadow_doorbells_for_every_controller_of_a_subsystem() -> None:
    """Each controller's firmware sweeps its own buffers (DMA that names its function), alone or not."""
    for config in (ControllerConfig(), ControllerConfig(controllers=(0, 1))):
        assert config.identify().oacs & OACS_DOORBELL_BUFFER_CONFIG
        assert AdminOpcode.DOORBELL_BUFFER_CONFIG in command_effects(config)[0]
        accepted = NvmeModel(config, 4, 64).admin(doorbell_buffer_config_cmd(0x1000, 0x2000))
        assert accepted is not None and accepted.status.is_success, accepted


def test_namespace_fields_sit_at_the_spec_offsets() -> None:
    raw = NamespaceConfig(2, 4096, 1000).identify().pack()
    assert struct.unpack_from("<3Q", raw, 0) == (1000, 1000, 1000)
    assert raw[25] == 1                     # NLBAF: two formats, zero-based
    assert raw[26] == 1                     # FLBAS: the 4 KiB format
    assert raw[33] & 0x7 == 0b001           # DLFEAT: deallocated blocks read zeroes
    lbaf0, lbaf1 = struct.unpack_from("<2I", raw, 128)
    assert (lbaf0 >> 16 & 0xFF, lbaf1 >> 16 & 0xFF) == (9, 12)
    assert raw[120:128] == NamespaceConfig(2, 4096, 1000).eui64


@pytest.mark.parametrize("lba_size", [512, 4096])
def test_namespace_round_trip(lba_size: int) -> None:
    ident = NamespaceConfig(1, lba_size, 1 << 20).identify()
    parsed = IdentifyNamespace.unpack(ident.pack())
    assert parsed == ident
    assert parsed.lba_size == lba_size


def test_lba_format_codec() -> None:
    f = LbaFormat(lbads=12, ms=8, rp=2)
    assert LbaFormat.decode(f.encode()) == f and f.lba_size == 4096


def test_unsupported_lba_size_is_refused() -> None:
    with pytest.raises(ValueError):
        NamespaceConfig(1, 1024, 10)


@pytest.mark.parametrize("namespaces", [(NamespaceConfig(0, 512, 10),), (NamespaceConfig(9, 512, 10),),
                                        (NamespaceConfig(1, 512, 10), NamespaceConfig(1, 4096, 10)),
                                        (NamespaceConfig(1, 4096, 1 << 20), NamespaceConfig(2, 512, 1))])
def test_namespaces_must_be_distinct_within_nn_and_capacity(namespaces: tuple[NamespaceConfig, ...]) -> None:
    with pytest.raises(ValueError):
        ControllerConfig(namespaces=namespaces, nvm_capacity=4 << 30)


def test_namespace_ids_may_leave_gaps() -> None:
    config = ControllerConfig(namespaces=(NamespaceConfig(3, 512, 10),))
    assert config.namespace(3) is not None and config.namespace(1) is None


def test_namespace_lookup(config: ControllerConfig) -> None:
    assert config.namespace(2) is not None and config.namespace(2).lba_size == 4096
    assert [config.namespace(n) for n in (0, 3, 0xFFFF_FFFF)] == [None, None, None]


@pytest.mark.parametrize("after, expected", [(0, [1, 2, 5]), (1, [2, 5]), (5, [])])
def test_active_namespace_list(after: int, expected: list[int]) -> None:
    raw = namespace_list([5, 1, 2], after)
    assert len(raw) == IDENTIFY_SIZE
    assert parse_namespace_list(raw) == expected


def test_full_namespace_list_has_no_terminator() -> None:
    assert parse_namespace_list(namespace_list(list(range(1, 1100)), 0)) == list(range(1, 1025))


def test_ns_descriptor_list(config: ControllerConfig) -> None:
    ns = config.namespaces[0]
    raw = ns.descriptors()
    assert raw[:4] == bytes((1, 8, 0, 0)) and raw[4:12] == ns.eui64
    assert parse_ns_descriptors(raw) == {NidType.EUI64: ns.eui64, NidType.NGUID: ns.nguid, NidType.CSI: b"\0"}
    assert ns.identify().nguid == ns.nguid


def test_zoned_namespace_reports_its_command_set() -> None:
    """NVMe 2.0: with CAP.CSS bit 6 every namespace's descriptor list carries its CSI; a zoned namespace
    takes no Copy, so its Copy limits are zero."""
    zoned = NamespaceConfig(1, 4096, 64, zones=ZoneGeometry(16, 12))
    assert parse_ns_descriptors(zoned.descriptors())[NidType.CSI] == bytes([Csi.ZONED])
    assert (zoned.identify().mssrl, zoned.identify().mcl, zoned.identify().msrc) == (0, 0, 0)
    with pytest.raises(ValueError, match="whole zones"):
        NamespaceConfig(1, 4096, 60, zones=ZoneGeometry(16, 12))


def test_ns_descriptor_length_is_checked() -> None:
    with pytest.raises(ValueError):
        ns_descriptors({NidType.UUID: bytes(8)})


def test_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError):
        IdentifyController.unpack(bytes(512))
