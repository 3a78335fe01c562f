"""Port types of a fabric under construction, and the native types PE bodies use.

spec-fabric.md "Type Conventions": every connection inside a ``fabric.module``
carries ``!dataflow.bits<N>``, ``none`` or ``!dataflow.tagged<bits<N>|none, iK>``;
module boundaries may also carry ``memref``.  PE *bodies* work on native types
(``i32``, ``f32``, ``index``); :func:`port_of` maps a native type to the port
type that carries it (``index`` travels as ``bits<ADDR_BIT_WIDTH>``).

The types are small frozen values so that builder code can compare and hash them
(switch planes are keyed by port type).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loomc.dialects.dataflow_types import ADDR_BIT_WIDTH

#: spec-fabric.md "Type Conventions": bits width must be 1-4096.
MAX_BITS = 4096
#: spec-dataflow.md "tagged": the tag type is i1 … i16.
MAX_TAG = 16


@dataclass(frozen=True, order=True)
class Bits:
    """``!dataflow.bits<width>``."""

    width: int

    def mlir(self) -> str:
        return f"!dataflow.bits<{self.width}>"

    @property
    def payload(self) -> int:
        return self.width


@dataclass(frozen=True, order=True)
class NoneType:
    """``none``: a control token with no payload."""

    def mlir(self) -> str:
        return "none"

    @property
    def payload(self) -> int:
        return 0


NONE = NoneType()


@dataclass(frozen=True, order=True)
class Tagged:
    """``!dataflow.tagged<value, i<tag_width>>`` with a bits or none value."""

    value: Bits | NoneType
    tag_width: int

    def mlir(self) -> str:
        return f"!dataflow.tagged<{self.value.mlir()}, i{self.tag_width}>"

    @property
    def payload(self) -> int:
        return self.value.payload


@dataclass(frozen=True, order=True)
class Memref:
    """A memref port type, kept as its MLIR text (``memref<?xi32>``)."""

    text: str

    def mlir(self) -> str:
        return self.text

    @property
    def element(self) -> str:
        """The element type (``i32`` of ``memref<?xi32, strided<…>>``)."""
        inner = self.text[len("memref<") : -1]
        head = inner.split(",", 1)[0].strip()
        return head.rsplit("x", 1)[-1]

    @property
    def is_static(self) -> bool:
        """spec-fabric-mem.md "Static vs Dynamic Shapes": no ``?`` dimension."""
        inner = self.text[len("memref<") : -1]
        head = inner.split(",", 1)[0]
        return "?" not in head

    @property
    def payload(self) -> int:
        return 0


PortType = Bits | NoneType | Tagged | Memref

_INT = re.compile(r"^i(\d+)$")
_FLOAT_WIDTH = {"f16": 16, "bf16": 16, "f32": 32, "f64": 64}


def native_width(native: str) -> int:
    """Payload width of a native value type (``none`` → 0, ``index`` → 57)."""
    if native == "none":
        return 0
    if native == "index":
        return ADDR_BIT_WIDTH
    if native in _FLOAT_WIDTH:
        return _FLOAT_WIDTH[native]
    match = _INT.match(native)
    if match:
        return int(match.group(1))
    raise ValueError(f"not a native value type: {native}")


def is_native(native: str) -> bool:
    try:
        native_width(native)
    except ValueError:
        return False
    return True


def port_of(native: str) -> Bits | NoneType:
    """The fabric port type that carries a native value (spec-fabric.md "Type Conventions")."""
    width = native_width(native)
    return NONE if width == 0 else Bits(width)


def parse_port_type(text: str) -> PortType:
    """A port type from its MLIR text; native names map through :func:`port_of`."""
    text = text.strip()
    if text == "none":
        return NONE
    match = re.fullmatch(r"!dataflow\.bits<(\d+)>", text)
    if match:
        return Bits(int(match.group(1)))
    match = re.fullmatch(r"!dataflow\.tagged<(.+),\s*i(\d+)>", text)
    if match:
        value = parse_port_type(match.group(1))
        if not isinstance(value, Bits | NoneType):
            raise ValueError(f"tagged value must be bits or none: {text}")
        return Tagged(value, int(match.group(2)))
    if text.startswith("memref<"):
        return Memref(text)
    if is_native(text):
        return port_of(text)
    raise ValueError(f"not a fabric port type: {text}")


def plane_key(t: PortType) -> str:
    """A short name for the routing plane carrying ``t``: ``w32``, ``none``, ``t32i4``."""
    if isinstance(t, Bits):
        return f"w{t.width}"
    if isinstance(t, NoneType):
        return "none"
    if isinstance(t, Tagged):
        inner = "none" if isinstance(t.value, NoneType) else str(t.value.width)
        return f"t{inner}i{t.tag_width}"
    return "memref"
