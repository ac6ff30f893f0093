"""What the generated register maps (contract/nvme_bar0.py, contract/fw_mailbox.py) are made of.

A register is a class with an ``OFFSET`` and one ``Field`` attribute per
field, so that code names what it means (``CMD_INFO.SLOT.get(raw)``,
``CPL_POST.encode(STATUS=s, EPOCH=e, SLOT=i)``) and a moved field moves
everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """A field of a register: ``width`` bits from bit ``lsb``."""

    lsb: int
    width: int

    @property
    def mask(self) -> int:
        """The field's bits in place."""
        return ((1 << self.width) - 1) << self.lsb

    @property
    def bit(self) -> int:
        """The value of a one-bit field when set (its mask)."""
        assert self.width == 1, "bit is for one-bit fields"
        return self.mask

    def get(self, raw: int) -> int:
        """The field's value in a register value."""
        return (raw >> self.lsb) & ((1 << self.width) - 1)

    def put(self, value: int) -> int:
        """The field's value placed in an otherwise zero register value."""
        if not 0 <= value < 1 << self.width:
            raise ValueError(f"{value:#x} does not fit a {self.width}-bit field")
        return value << self.lsb

    def replace(self, raw: int, value: int) -> int:
        """``raw`` with this field set to ``value``."""
        return (raw & ~self.mask) | self.put(value)


class Register:
    """Base of the generated register classes: OFFSET, WIDTH, RESET_VALUE where it is a constant,
    and Field attributes."""

    OFFSET: int = 0
    WIDTH: int = 32

    @classmethod
    def fields(cls) -> dict[str, Field]:
        """The register's fields by name, lowest bit first."""
        found = {name: value for name, value in vars(cls).items() if isinstance(value, Field)}
        return dict(sorted(found.items(), key=lambda item: item[1].lsb))

    @classmethod
    def encode(cls, **values: int) -> int:
        """A register value from field values by name (missing fields are 0)."""
        fields = cls.fields()
        raw = 0
        for name, value in values.items():
            if name not in fields:
                raise KeyError(f"{cls.__name__} has no field {name}")
            raw |= fields[name].put(int(value))
        return raw

    @classmethod
    def decode(cls, raw: int) -> dict[str, int]:
        """Field values by name."""
        return {name: f.get(raw) for name, f in cls.fields().items()}
