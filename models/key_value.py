"""The Key Value command set (NVMe KV Command Set 1.0c, CSI 01h): what host, firmware and reference model share.

Opcodes, the fields of Store (01h), Retrieve (02h), List (06h), Delete
(10h) and Exist (14h), the KV Identify Namespace structure (CNS 05h, CSI
01h), the List data and the SQE builders. A key is up to 16 bytes: bytes
0-7 in CDW2-3 and 8-15 in CDW14-15, its length in CDW11 [7:0]; CDW10 is
the value size (Store) or the host buffer size (Retrieve, List); CDW11
[15:8] holds the command's options. How values are stored is the
firmware's (firmware/nvme/key_value.py); what a command completes with,
the model predicts on its own (models/nvme_model.py).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from models.nvme_spec import SubmissionEntry

IDENTIFY_SIZE = 4096
MAX_KEY = 16


class KvOpcode(IntEnum):
    STORE = 0x01
    RETRIEVE = 0x02
    LIST = 0x06
    DELETE = 0x10
    EXIST = 0x14


# Store options (CDW11 [15:8]): store only if the key exists (an update), only if it does not (an insert)
STORE_ONLY_IF_EXISTS = 1 << 0
STORE_ONLY_IF_ABSENT = 1 << 1


@dataclass(frozen=True)
class KvFormat:
    """The one KV format a namespace offers: the longest key and value, and at most how many keys (0: no
    limit but capacity)."""

    max_key: int = MAX_KEY
    max_value: int = 128 << 10
    max_keys: int = 0


@dataclass(frozen=True)
class KvFields:
    """A KV command's key, the size in CDW10 and the options in CDW11 [15:8]."""

    key: bytes
    key_length: int
    size: int
    options: int

    @classmethod
    def decode(cls, sqe: SubmissionEntry) -> KvFields:
        image = struct.pack("<IIII", sqe.cdw2, sqe.cdw3, sqe.cdw14, sqe.cdw15)
        length = sqe.cdw11 & 0xFF
        return cls(image[:min(length, MAX_KEY)], length, sqe.cdw10, sqe.cdw11 >> 8 & 0xFF)


def kv_data_length(sqe: SubmissionEntry) -> int:
    """Bytes a KV command's data pointer describes: the value (Store) or the host buffer (Retrieve, List)."""
    return sqe.cdw10 if sqe.opcode in (KvOpcode.STORE, KvOpcode.RETRIEVE, KvOpcode.LIST) else 0


def kv_identify_namespace(size: int, used: int, kv: KvFormat) -> bytes:
    """KV Identify Namespace (KV figure 39): NSZE and NUSE in bytes, NKVF, and KV format 0 (figure 40: the
    maximum key length, value length and number of keys)."""
    buf = bytearray(IDENTIFY_SIZE)
    struct.pack_into("<QQQBB", buf, 0, size, 0, used, 0, 1)
    struct.pack_into("<HBBII", buf, 72, kv.max_key, 0, 0, kv.max_value, kv.max_keys)
    return bytes(buf)


def key_list(keys: list[bytes], length: int) -> bytes:
    """List data of ``length`` bytes: the number of keys returned, then each key's length (2 bytes) and
    bytes, padded to 4 bytes; as many keys as fit."""
    out = bytearray(4)
    count = 0
    for key in keys:
        entry = struct.pack("<H", len(key)) + key
        entry += bytes(-len(entry) % 4)
        if len(out) + len(entry) > length:
            break
        out += entry
        count += 1
    struct.pack_into("<I", out, 0, count)
    return bytes(out[:length]).ljust(length, b"\0")


def parse_key_list(raw: bytes) -> list[bytes]:
    (count,) = struct.unpack_from("<I", raw)
    keys, pos = [], 4
    for _ in range(count):
        (length,) = struct.unpack_from("<H", raw, pos)
        keys.append(raw[pos + 2:pos + 2 + length])
        pos += 2 + length + (-(2 + length) % 4)
    return keys


# SQE builders for the host

def kv_cmd(opcode: KvOpcode, nsid: int, key: bytes, size: int = 0, options: int = 0, prp1: int = 0,
           prp2: int = 0, key_length: int | None = None) -> SubmissionEntry:
    """A KV command; ``key_length`` other than ``len(key)`` (up to 255) is for tests of the checks."""
    image = key.ljust(MAX_KEY, b"\0")[:MAX_KEY]
    cdw2, cdw3, cdw14, cdw15 = struct.unpack("<IIII", image)
    length = len(key) if key_length is None else key_length
    return SubmissionEntry(opcode, nsid=nsid, cdw2=cdw2, cdw3=cdw3, cdw14=cdw14, cdw15=cdw15, prp1=prp1,
                           prp2=prp2, cdw10=size, cdw11=length | options << 8)
