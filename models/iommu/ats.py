"""The PCIe ATS Translation Completion data entry, as the root complex writes it and a device reads it.

One 8-byte entry per translated range of 4 KiB (S = 0): the translated
address in bits 63:12, W in bit 1, R in bit 0; R = W = 0 grants no access.
The other attribute bits (U, N, Exe, Priv, Global) are 0: this model uses
none of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .pagetable import PAGE_SIZE

ENTRY_BYTES = 8
READ, WRITE = 1 << 0, 1 << 1


@dataclass(frozen=True)
class TranslationEntry:
    """The host-physical page an untranslated page maps to, and the access granted."""

    phys: int
    read: bool
    write: bool

    @property
    def grants_access(self) -> bool:
        return self.read or self.write

    def pack(self) -> bytes:
        return ((self.phys & ~(PAGE_SIZE - 1)) | READ * self.read | WRITE * self.write).to_bytes(ENTRY_BYTES,
                                                                                                 "little")

    @classmethod
    def unpack(cls, raw: bytes) -> TranslationEntry:
        word = int.from_bytes(raw[:ENTRY_BYTES], "little")
        return cls(word & ~(PAGE_SIZE - 1), bool(word & READ), bool(word & WRITE))


NO_ACCESS = TranslationEntry(0, False, False)
