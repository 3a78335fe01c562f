"""The few CIRCT ESI constructs that Loom's full-application modules contain.

Loom's front end wraps each accelerator for the host side (``func.func @main``)
with ESI valid/ready channels: ``esi.wrap.vr`` turns a value into an
``!esi.channel<T>``, ``handshake.esi_instance`` instantiates the ``*_esi``
``handshake.func`` on those channels, and ``esi.unwrap.vr`` takes the result out
again.  loomc never maps this host code, but it must read it to reach the
``loom.accel`` function.  Only the subset the corpus uses is defined, with
CIRCT's custom syntax; ``seq.const_clock`` comes with stock xDSL.

``handshake.esi_instance`` belongs to the handshake dialect and is defined in
:mod:`loomc.dialects.handshake`.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import IntegerType, i1
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    param_def,
    result_def,
)
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException


@irdl_attr_definition
class ChannelType(ParametrizedAttribute, TypeAttribute):
    """``!esi.channel<T>``: a latency-insensitive valid/ready channel carrying ``T``."""

    name = "esi.channel"

    inner: Attribute = param_def()

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            inner = parser.parse_type()
        return (inner,)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_attribute(self.inner)


@irdl_op_definition
class WrapValidReadyOp(IRDLOperation):
    """``%chan, %ready = esi.wrap.vr %data, %valid : T``."""

    name = "esi.wrap.vr"

    raw_input = operand_def()
    valid = operand_def(IntegerType)
    chan_output = result_def(ChannelType)
    ready = result_def(IntegerType)

    @classmethod
    def parse(cls, parser: Parser) -> WrapValidReadyOp:
        data = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        valid = parser.parse_unresolved_operand()
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        inner = parser.parse_type()
        operands = parser.resolve_operands([data, valid], [inner, i1], parser.pos)
        return cls.create(
            operands=operands, result_types=[ChannelType(inner), i1], attributes=attrs
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_list(self.operands, printer.print_operand)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.raw_input.type)

    def verify_(self) -> None:
        chan = self.chan_output.type
        if not isinstance(chan, ChannelType) or chan.inner != self.raw_input.type:
            raise VerifyException("esi.wrap.vr: channel type must carry the input type")


@irdl_op_definition
class UnwrapValidReadyOp(IRDLOperation):
    """``%data, %valid = esi.unwrap.vr %chan, %ready : T``."""

    name = "esi.unwrap.vr"

    chan_input = operand_def(ChannelType)
    ready = operand_def(IntegerType)
    raw_output = result_def()
    valid = result_def(IntegerType)

    @classmethod
    def parse(cls, parser: Parser) -> UnwrapValidReadyOp:
        chan = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        ready = parser.parse_unresolved_operand()
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        inner = parser.parse_type()
        operands = parser.resolve_operands(
            [chan, ready], [ChannelType(inner), i1], parser.pos
        )
        return cls.create(operands=operands, result_types=[inner, i1], attributes=attrs)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_list(self.operands, printer.print_operand)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.raw_output.type)

    def verify_(self) -> None:
        chan = self.chan_input.type
        if not isinstance(chan, ChannelType) or chan.inner != self.raw_output.type:
            raise VerifyException("esi.unwrap.vr: result type must be the channel's type")


ESI = Dialect("esi", [WrapValidReadyOp, UnwrapValidReadyOp], [ChannelType])
