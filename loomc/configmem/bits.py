"""Bit vectors with a named field breakdown, packed the way config_mem packs them.

Every configurable fabric node turns into one :class:`ConfigBits`: an unsigned
integer with an explicit width plus the list of fields it was built from, so a
report can show *which* bits mean *what*, and a verifier can re-slice another
value with the same layout and name the fields that differ.

Packing rule (spec-fabric-config_mem.md "Bit Layout"): fields are placed in
spec-defined order starting at bit 0, each later field above the earlier ones,
arrays by ascending index; a field may straddle a 32-bit word boundary inside
one node's allocation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: config_mem word width in bits (spec-fabric-config_mem.md "Physical Properties").
WORD_BITS = 32


class ConfigEncodingError(ValueError):
    """A configuration that cannot be encoded (a value does not fit its field,
    a route over a missing wire, a count that contradicts the hardware shape).

    These are mapper/verifier programming errors, not user input errors: the
    code that decides a configuration must only ask for encodable ones.  When the
    problem corresponds to a spec rule, ``code`` names it (``CPL_*``/``CFG_*``) so
    a caller reporting a fabric file can turn it into a ``LoomcError``.
    """

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


def log2ceil(n: int) -> int:
    """``ceil(log2(n))`` with ``log2ceil(1) == 0`` (and 0 for ``n <= 1``).

    The fabric specs use this for selector widths: one FU type needs no opcode
    bits (spec-fabric-temporal_pe.md "Opcode Assignment").
    """
    return 0 if n <= 1 else (n - 1).bit_length()


def words_for(width: int) -> int:
    """Number of 32-bit words a node of ``width`` config bits occupies."""
    return -(-width // WORD_BITS)


@dataclass(frozen=True)
class Field:
    """One named field: ``value`` occupies bits ``[lsb + width - 1 : lsb]``."""

    name: str
    lsb: int
    width: int
    value: int

    @property
    def msb(self) -> int:
        return self.lsb + self.width - 1


@dataclass(frozen=True)
class FieldMismatch:
    """A field whose value in some other bit vector differs from the expected one."""

    name: str
    lsb: int
    width: int
    expected: int
    actual: int


@dataclass(frozen=True)
class ConfigBits:
    """An unsigned ``width``-bit value and the fields (LSB-first) that compose it."""

    width: int
    value: int
    fields: tuple[Field, ...] = ()

    def __post_init__(self) -> None:
        if self.width < 0 or self.value < 0 or self.value >> self.width:
            raise ConfigEncodingError(f"value {self.value:#x} does not fit in {self.width} bits")

    @property
    def num_words(self) -> int:
        return words_for(self.width)

    def words(self) -> tuple[int, ...]:
        """The 32-bit words of this node, word 0 holding bits [31:0]."""
        mask = (1 << WORD_BITS) - 1
        return tuple((self.value >> (WORD_BITS * i)) & mask for i in range(self.num_words))

    def hex(self) -> str:
        """``0x``-prefixed, zero-padded to ``ceil(width / 4)`` digits (``0x0E7`` for 10 bits)."""
        digits = max(1, -(-self.width // 4))
        return f"0x{self.value:0{digits}X}"

    def bin(self) -> str:
        """All ``width`` bits, MSB first (the display order the specs use)."""
        return format(self.value, f"0{self.width}b") if self.width else ""

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def slice_of(self, other_value: int, name: str) -> int:
        """The bits of ``other_value`` that this layout calls ``name``."""
        f = self.field(name)
        return (other_value >> f.lsb) & ((1 << f.width) - 1)

    def diff(self, actual_value: int) -> tuple[FieldMismatch, ...]:
        """Fields whose bits in ``actual_value`` differ from this vector's.

        Bits outside every field (none, for vectors built by :func:`pack_fields`)
        are compared too, under the name ``"(unassigned)"``.
        """
        out = []
        covered = 0
        for f in self.fields:
            mask = ((1 << f.width) - 1) << f.lsb
            covered |= mask
            got = (actual_value & mask) >> f.lsb
            if got != f.value:
                out.append(FieldMismatch(f.name, f.lsb, f.width, f.value, got))
        rest = ~covered
        if (actual_value & rest) != (self.value & rest):
            out.append(
                FieldMismatch(
                    "(unassigned)",
                    0,
                    max(self.width, actual_value.bit_length()),
                    self.value & rest,
                    actual_value & rest,
                )
            )
        return tuple(out)

    def describe(self) -> list[str]:
        """One line per field, MSB field first: ``name [msb:lsb] = value``."""
        lines = []
        for f in reversed(self.fields):
            rng = f"[{f.msb}]" if f.width == 1 else f"[{f.msb}:{f.lsb}]"
            lines.append(f"{f.name} {rng} = {f.value:#x}")
        return lines


EMPTY = ConfigBits(0, 0, ())


def pack_fields(spec: Iterable[tuple[str, int, int]]) -> ConfigBits:
    """Pack ``(name, width, value)`` triples LSB-first into one :class:`ConfigBits`.

    Zero-width fields are dropped (e.g. operand fields when a temporal PE has no
    registers).  Values must be non-negative and fit their width: a silent
    truncation here would put wrong bits into hardware.
    """
    fields: list[Field] = []
    pos = 0
    value = 0
    for name, width, v in spec:
        if width < 0:
            raise ConfigEncodingError(f"field {name}: negative width {width}")
        if width == 0:
            if v:
                raise ConfigEncodingError(f"field {name}: value {v} in a zero-width field")
            continue
        if v < 0 or v >> width:
            raise ConfigEncodingError(f"field {name}: value {v} does not fit in {width} bits")
        fields.append(Field(name, pos, width, v))
        value |= v << pos
        pos += width
    return ConfigBits(pos, value, tuple(fields))


def concat(parts: Iterable[tuple[str, ConfigBits]]) -> ConfigBits:
    """Stack sub-vectors LSB-first, prefixing their field names with ``prefix.``."""
    spec: list[tuple[str, int, int]] = []
    for prefix, bits in parts:
        for f in bits.fields:
            spec.append((f"{prefix}.{f.name}" if prefix else f.name, f.width, f.value))
    return pack_fields(spec)
