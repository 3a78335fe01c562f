"""The few CIRCT ESI constructs that Loom's full-application modules contain.

Loom's front end wraps each accelerator for the host side (``func.func @main``)
with ESI valid/ready channels: ``esi.wrap.vr`` turns a value into an
``!esi.channel<T>``, ``handshake.esi_instance`` instantiates the ``*_esi``
``handshake.func`` on those channels, and ``esi.unwrap.vr`` takes the result out
again.  loomc never maps this host code, but it must read it to reach the
``loom.accel`` function.  Only the subset the corpus uses is defined, with
CIRCT's custom syntax; ``seq.const_clock`` comes with stock xDSL.

``handshake.esi_instance`` belongs to the handshake dialect; it is defined here
(not in :mod:`loomc.dialects.handshake`) because it is host glue, and
:func:`loomc.mlir_io.make_context` adds it to that dialect unless the handshake
module defines it itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from xdsl.dialects.builtin import (
    FlatSymbolRefAttr,
    FunctionType,
    IntegerType,
    StringAttr,
    i1,
)
from xdsl.dialects.seq import ClockType
from xdsl.ir import Attribute, Dialect, Operation, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    param_def,
    prop_def,
    result_def,
    var_operand_def,
    var_result_def,
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


@irdl_op_definition
class ESIInstanceOp(IRDLOperation):
    """``handshake.esi_instance @fn "inst" clk %c rst %r(%ch..) : (..) -> ..``."""

    name = "handshake.esi_instance"

    module = prop_def(FlatSymbolRefAttr)
    inst_name = prop_def(StringAttr, prop_name="instName")
    clk = operand_def(ClockType)
    rst = operand_def(IntegerType)
    op_operands = var_operand_def(ChannelType)
    outs = var_result_def(ChannelType)

    @classmethod
    def parse(cls, parser: Parser) -> ESIInstanceOp:
        module = FlatSymbolRefAttr(parser.parse_symbol_name())
        inst_name = parser.parse_str_literal()
        parser.parse_keyword("clk")
        clk = parser.parse_unresolved_operand()
        parser.parse_keyword("rst")
        rst = parser.parse_unresolved_operand()
        args = parser.parse_comma_separated_list(
            parser.Delimiter.PAREN, parser.parse_unresolved_operand
        )
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        pos = parser.pos
        fn_type = parser.parse_function_type()
        operands = parser.resolve_operands(
            [clk, rst, *args], [ClockType(), i1, *fn_type.inputs.data], pos
        )
        return cls.create(
            operands=operands,
            result_types=list(fn_type.outputs.data),
            properties={"module": module, "instName": StringAttr(inst_name)},
            attributes=attrs,
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.module)
        printer.print_string(" ")
        printer.print_string_literal(self.inst_name.data)
        printer.print_string(" clk ")
        printer.print_operand(self.clk)
        printer.print_string(" rst ")
        printer.print_operand(self.rst)
        printer.print_string("(")
        printer.print_list(self.op_operands, printer.print_operand)
        printer.print_string(")")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(
            FunctionType.from_lists(
                [o.type for o in self.op_operands], [r.type for r in self.outs]
            )
        )


ESI = Dialect("esi", [WrapValidReadyOp, UnwrapValidReadyOp], [ChannelType])

#: Ops this module adds to dialects defined elsewhere, by dialect name.
EXTRA_OPS: Mapping[str, Sequence[type[Operation]]] = {"handshake": (ESIInstanceOp,)}
