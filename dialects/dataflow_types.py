"""Types of the ``dataflow`` dialect: ``!dataflow.bits<N>`` and ``!dataflow.tagged<T, iK>``.

Loom's fabric carries untyped bit vectors on its wires (spec-fabric.md, "Type
System"): ``bits<N>`` is an N-bit payload and ``tagged<bits<N>, iK>`` adds a K-bit
tag used for time-multiplexing (spec-fabric-tag.md).  These live in their own
module so the ``dataflow``, ``handshake`` and ``fabric`` dialects can all import
them without importing one another.
"""

from __future__ import annotations

from xdsl.dialects.builtin import IntAttr, IntegerType
from xdsl.ir import Attribute, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition, param_def
from xdsl.parser import AttrParser
from xdsl.printer import Printer


@irdl_attr_definition
class BitsType(ParametrizedAttribute, TypeAttribute):
    """``!dataflow.bits<N>``: an N-bit untyped payload on a fabric wire."""

    name = "dataflow.bits"

    width: IntAttr = param_def(converter=IntAttr.get)

    def __init__(self, width: int | IntAttr):
        super().__init__(IntAttr.get(width) if isinstance(width, int) else width)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> tuple[IntAttr]:
        with parser.in_angle_brackets():
            pos = parser.pos
            width = parser.parse_integer(allow_boolean=False, allow_negative=False)
            if width < 1:
                parser.raise_error("bits width must be at least 1", pos, parser.pos)
        return (IntAttr(width),)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_int(self.width.data)


@irdl_attr_definition
class TaggedType(ParametrizedAttribute, TypeAttribute):
    """``!dataflow.tagged<T, iK>``: value type T carried with a K-bit tag."""

    name = "dataflow.tagged"

    value_type: Attribute
    tag_type: IntegerType

    def __init__(self, value_type: Attribute, tag_type: IntegerType | int):
        if isinstance(tag_type, int):
            tag_type = IntegerType(tag_type)
        super().__init__(value_type, tag_type)

    @property
    def tag_width(self) -> int:
        return self.tag_type.width.data

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> tuple[Attribute, IntegerType]:
        with parser.in_angle_brackets():
            value_type = parser.parse_type()
            parser.parse_punctuation(",")
            pos = parser.pos
            tag_type = parser.parse_type()
            if not isinstance(tag_type, IntegerType):
                parser.raise_error("tag type must be an integer type iK", pos, parser.pos)
        return (value_type, tag_type)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_attribute(self.value_type)
            printer.print_string(", ")
            printer.print_attribute(self.tag_type)


#: Width of an address (``index``) on fabric wires: spec-fabric-mem.md "Operand
#: Ordering Convention" fixes ADDR_BIT_WIDTH at 57.
ADDR_BIT_WIDTH = 57


def payload_width(type_: Attribute) -> int | None:
    """Bit width of a value's payload: ``bits<N>`` → N, ``iN`` → N, ``f32`` → 32,
    ``index`` → ADDR_BIT_WIDTH, ``none`` → 0; tagged types report their
    value part.  ``None`` for types without a fixed width."""
    from xdsl.dialects.builtin import IndexType, NoneType

    if isinstance(type_, TaggedType):
        return payload_width(type_.value_type)
    if isinstance(type_, BitsType):
        return type_.width.data
    if isinstance(type_, IntegerType):
        return type_.width.data
    if isinstance(type_, IndexType):
        return ADDR_BIT_WIDTH
    if isinstance(type_, NoneType):
        return 0
    bw = getattr(type_, "bitwidth", None)
    return int(bw) if isinstance(bw, int) else None
