"""What the test bench's reference hands the model for an I/O command: the host's data, or why there is none.

The reference walks a command's PRPs or SGL at submission. A host fault
(an invalid pointer, memory where nothing answers) is a prediction; a
command that moves no data is not walked; anything else raised on the way
is a bug and must reach the test rather than turn into "no data".
"""

from __future__ import annotations

import pytest

from models.identify import NSID_BROADCAST, ControllerConfig
from models.nvme_commands import DSM_RANGE_SIZE, dsm_cmd, flush_cmd, read_cmd, write_cmd
from models.nvme_spec import GenericStatus, SubmissionEntry
from tb.device_dram import NoHostMemory
from models.prp import Segment
from tb.reference import host_data, landed, transfer_length
from tests.unit.prp_host import HostMemory

CONFIG = ControllerConfig()
NS = CONFIG.namespaces[0]
BUFFER = 0x10_0000


def no_memory(addr: int, length: int) -> bytes:
    raise NoHostMemory(f"no host memory at {addr:#x}")


def untouched(addr: int, length: int) -> bytes:
    raise AssertionError(f"host memory read at {addr:#x} for a command that moves no data")


def test_transfer_length_of_data_commands() -> None:
    assert transfer_length(read_cmd(NS.nsid, 0, 8), CONFIG.namespace) == 8 * NS.lba_size
    assert transfer_length(write_cmd(2, 0, 3), CONFIG.namespace) == 3 * CONFIG.namespaces[1].lba_size
    assert transfer_length(dsm_cmd(NS.nsid, 4), CONFIG.namespace) == 4 * DSM_RANGE_SIZE


@pytest.mark.parametrize("sqe", [flush_cmd(NS.nsid), read_cmd(0, 0, 1), write_cmd(NSID_BROADCAST, 0, 1),
                                 write_cmd(len(CONFIG.namespaces) + 1, 0, 1),
                                 dsm_cmd(len(CONFIG.namespaces) + 1, 1)],
                         ids=["flush", "read-nsid-0", "write-broadcast", "write-inactive", "dsm-inactive"])
def test_commands_that_move_no_data_are_not_walked(sqe: SubmissionEntry) -> None:
    assert transfer_length(sqe, CONFIG.namespace) is None
    assert host_data(sqe, CONFIG.namespace, untouched) == (b"", None)


def test_write_data_comes_from_the_buffer() -> None:
    mem = HostMemory()
    data = bytes(range(256)) * 2
    mem.write(BUFFER, data)
    assert host_data(write_cmd(NS.nsid, 0, 1, prp1=BUFFER), CONFIG.namespace, mem.read) == (data, None)


def test_read_walks_its_pointer_but_takes_no_data() -> None:
    assert host_data(read_cmd(NS.nsid, 0, 1, prp1=BUFFER), CONFIG.namespace, HostMemory().read) == (b"", None)


def test_invalid_prp_predicts_its_status() -> None:
    data, error = host_data(write_cmd(NS.nsid, 0, 1, prp1=BUFFER + 2), CONFIG.namespace, HostMemory().read)
    assert data == b"" and error is not None and error.code == GenericStatus.PRP_OFFSET_INVALID


def test_unmapped_host_memory_predicts_data_transfer_error() -> None:
    data, error = host_data(write_cmd(NS.nsid, 0, 1, prp1=BUFFER), CONFIG.namespace, no_memory)
    assert data == b"" and error is not None and error.code == GenericStatus.DATA_TRANSFER_ERROR


@pytest.mark.parametrize("bug", [AssertionError, ValueError, KeyError])
def test_a_bug_on_the_way_is_not_taken_for_no_data(bug: type[Exception]) -> None:
    def broken(addr: int, length: int) -> bytes:
        raise bug("broken host memory model")

    with pytest.raises(bug):
        host_data(write_cmd(NS.nsid, 0, 1, prp1=BUFFER), CONFIG.namespace, broken)


def test_landed_without_aliasing_is_the_transfer() -> None:
    segments = [Segment(0x2000, 4), Segment(0x1000, 2)]
    assert landed(segments, b"abcdef") == (segments, b"abcdef")


def test_landed_where_segments_alias_the_later_write_wins() -> None:
    # a PRP list naming one page twice: the second write lands over the first
    runs, expected = landed([Segment(0x1000, 4), Segment(0x3000, 2), Segment(0x1002, 4)], b"abcdefWXYZ")
    assert runs == [Segment(0x1000, 6), Segment(0x3000, 2)] and expected == b"abWXYZef"
