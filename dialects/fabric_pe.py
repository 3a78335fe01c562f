"""Processing elements: ``fabric.pe`` and ``fabric.temporal_pe``.

Syntax (spec-fabric-pe.md "Named Form Syntax"/"Inline Form Syntax",
spec-fabric-temporal_pe.md "Syntax"):

    fabric.pe @name(%a: T0, %b: T1) [latency = [...], interval = [...]]
        {output_tag = [0 : i4]} -> (R0) { ^bb0(%x: i32, %y: i32): ... fabric.yield ... }
    %o = fabric.pe %in0, %in1 [hw] {config} : (T0, T1) -> (R0) { ^bb0(...): ... }
    fabric.temporal_pe @tpe(%a: tagged<...>) [num_register = 0, num_instruction = 4,
        reg_fifo_depth = 0] {instruction_mem = ["..."]} -> (tagged<...>) { fabric.pe ... }

Named bodies either take the header arguments (tags stripped) as their entry
block, or re-declare it with ``^bb0(...)`` when the ports are ``bits<N>`` and the
body works on native types.  The parser accepts both spellings (one token of
lookahead) and the printer spells the ``^bb0`` out whenever the body's types
differ from the stripped port types, so printing always re-parses to the same IR.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from loomc.dialects.fabric_base import FabricParamsOp, FabricPortOp
from loomc.dialects.fabric_syntax import (
    attr_printer,
    int_list,
    int_printer,
    next_is_block_label,
    parse_any_value,
    parse_array_value,
    parse_bool_value,
    parse_function_type_fast,
    parse_int_value,
    parse_operand_list_until,
    parse_optional_sym,
    parse_param_lists,
    parse_paren_type_list,
    parse_type_list,
    parse_typed_arguments,
    print_keyword_list,
    print_optional_sym,
    print_paren_types,
    resolve_operands,
    string_list,
    strip_tag,
    uses_bits,
)
from xdsl.dialects.builtin import ArrayAttr, FunctionType, IntegerAttr, StringAttr
from xdsl.ir import Attribute, Block, Operation, Region
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    opt_attr_def,
    region_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import IsTerminator, NoTerminator, OptionalSymbolOpInterface
from xdsl.utils.exceptions import VerifyException

_PE_HW = {
    "latency": parse_array_value,
    "interval": parse_array_value,
    "lqDepth": parse_int_value,
    "sqDepth": parse_int_value,
}
_PE_CONFIG = {
    "output_tag": parse_array_value,
    "constant_value": parse_any_value,
    "cont_cond_sel": parse_int_value,
}
_TPE_HW = {
    "num_register": parse_int_value,
    "num_instruction": parse_int_value,
    "reg_fifo_depth": parse_int_value,
    "enable_share_operand_buffer": parse_bool_value,
    "operand_buffer_size": parse_int_value,
}
_TPE_CONFIG = {"instruction_mem": parse_array_value}


def _parse_named_header(parser: Parser) -> list[Parser.Argument]:
    return parse_typed_arguments(parser)


def _parse_named_body(parser: Parser, header: Sequence[Parser.Argument]) -> Region:
    """Body of a named PE/temporal PE: an explicit ``^bb0(...)`` wins; otherwise
    the header arguments, tags stripped, become the entry block."""
    if next_is_block_label(parser):
        region = parser.parse_region()
    else:
        args = [Parser.Argument(a.name, strip_tag(a.type), a.location) for a in header]
        region = parser.parse_region(args)
    if not region.blocks:
        region.add_block(Block())
    return region


def _entry_matches(block: Block, interface: Sequence[Attribute]) -> bool:
    return len(block.args) == len(interface) and all(
        a.type == strip_tag(t) for a, t in zip(block.args, interface, strict=True)
    )


def _print_named_header(printer: Printer, op: Operation, inputs: Sequence[Attribute]) -> None:
    """``(%a: T, ...)``: names come from the entry block so that an implicit entry
    block and the header agree; extra ports get placeholder names (they are not
    bound when the body spells out its ``^bb0``)."""
    block = op.regions[0].blocks.first
    args = list(block.args) if block is not None else []
    printer.print_string("(")
    for i, t in enumerate(inputs):
        if i:
            printer.print_string(", ")
        if i < len(args):
            printer.print_ssa_value(args[i])
        else:
            printer.print_string(f"%port{i}")
        printer.print_string(": ")
        printer.print_attribute(t)
    printer.print_string(")")


def _fn_inputs(fn: FunctionType | None) -> tuple[Attribute, ...]:
    return () if fn is None else tuple(fn.inputs.data)


def _fn_outputs(fn: FunctionType | None) -> tuple[Attribute, ...]:
    return () if fn is None else tuple(fn.outputs.data)


@irdl_op_definition
class PEOp(FabricPortOp):
    """``fabric.pe``: a processing element (spec-fabric-pe.md).

    Hardware: ``latency``, ``interval`` (``[min, typical, max]`` of i16),
    ``lqDepth``/``sqDepth`` (load/store queues).  Configuration: ``output_tag``,
    ``constant_value``, ``cont_cond_sel``.  Body predicates/constants are also
    configuration (spec-fabric-pe.md "Runtime Configuration Parameters from PE
    Body") but live on the body ops themselves."""

    name = "fabric.pe"
    HW_PARAMS: ClassVar[tuple[str, ...]] = tuple(_PE_HW)
    CONFIG_PARAMS: ClassVar[tuple[str, ...]] = tuple(_PE_CONFIG)

    latency_attr = opt_attr_def(ArrayAttr, attr_name="latency")
    interval_attr = opt_attr_def(ArrayAttr, attr_name="interval")
    lq_depth_attr = opt_attr_def(IntegerAttr, attr_name="lqDepth")
    sq_depth_attr = opt_attr_def(IntegerAttr, attr_name="sqDepth")
    output_tag_attr = opt_attr_def(ArrayAttr, attr_name="output_tag")
    constant_value_attr = opt_attr_def(Attribute, attr_name="constant_value")
    cont_cond_sel_attr = opt_attr_def(IntegerAttr, attr_name="cont_cond_sel")
    body = region_def()

    traits = traits_def(OptionalSymbolOpInterface(), NoTerminator())

    @property
    def latency(self) -> tuple[int, ...] | None:
        """``(min, typical, max)`` cycles, or None when not given."""
        return int_list(self.latency_attr)

    @property
    def interval(self) -> tuple[int, ...] | None:
        return int_list(self.interval_attr)

    @property
    def lq_depth(self) -> int | None:
        return None if self.lq_depth_attr is None else self.lq_depth_attr.value.data

    @property
    def sq_depth(self) -> int | None:
        return None if self.sq_depth_attr is None else self.sq_depth_attr.value.data

    @property
    def output_tag(self) -> tuple[int, ...] | None:
        """Per-output tags (unsigned), or None when not configured."""
        return int_list(self.output_tag_attr, unsigned=True)

    def set_output_tag(self, tags: Sequence[int], tag_width: int) -> None:
        self.attributes["output_tag"] = ArrayAttr([IntegerAttr(t, tag_width) for t in tags])

    @property
    def body_block(self) -> Block:
        block = self.body.blocks.first
        assert block is not None, "fabric.pe always has an entry block"
        return block

    @property
    def body_ops(self) -> list[Operation]:
        """Body operations without the ``fabric.yield`` terminator."""
        return [o for o in self.body_block.ops if not isinstance(o, YieldOp)]

    @property
    def body_op_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.body_ops)

    @classmethod
    def parse(cls, parser: Parser) -> PEOp:
        sym = parser.parse_optional_symbol_name()
        if sym is not None:
            header = _parse_named_header(parser)
            attrs = parse_param_lists(parser, _PE_HW, _PE_CONFIG, "PE")
            parser.parse_punctuation("->")
            outs = parse_paren_type_list(parser)
            attrs["sym_name"] = sym
            attrs["function_type"] = FunctionType.from_lists([a.type for a in header], outs)
            body = _parse_named_body(parser, header)
            return cls.create(attributes=attrs, regions=[body])
        pos = parser.pos
        operands = parse_operand_list_until(parser)
        attrs = parse_param_lists(parser, _PE_HW, _PE_CONFIG, "PE")
        parser.parse_punctuation(":")
        fn = parse_function_type_fast(parser)
        values = resolve_operands(parser, operands, list(fn.inputs.data), pos)
        body = parser.parse_region()
        if not body.blocks:
            body.add_block(Block())
        return cls.create(
            operands=values, result_types=list(fn.outputs.data), attributes=attrs, regions=[body]
        )

    def _param_entries(self, printer: Printer, keys: Sequence[str]) -> list:
        out = []
        for k in keys:
            if k in self.attributes:
                a = self.attributes[k]
                emit = (
                    int_printer(printer, a)
                    if k in ("lqDepth", "sqDepth", "cont_cond_sel")
                    else attr_printer(printer, a)
                )
                out.append((k, emit))
        return out

    def print(self, printer: Printer) -> None:
        ins, outs = self.input_types, self.output_types
        block = self.body_block
        if self.sym_name is not None:
            printer.print_string(" ")
            printer.print_symbol_name(self.sym_name.data)
            _print_named_header(printer, self, ins)
        elif self.inputs:
            printer.print_string(" ")
            printer.print_list(self.inputs, printer.print_operand)
        print_keyword_list(printer, "[", "]", self._param_entries(printer, self.HW_PARAMS))
        print_keyword_list(printer, "{", "}", self._param_entries(printer, self.CONFIG_PARAMS))
        if self.sym_name is not None:
            printer.print_string(" -> ")
            print_paren_types(printer, outs)
            explicit = uses_bits(ins + outs) or not _entry_matches(block, ins)
        else:
            printer.print_string(" : ")
            print_paren_types(printer, ins)
            printer.print_string(" -> ")
            print_paren_types(printer, outs)
            explicit = True
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=explicit)

    def verify_(self) -> None:
        super().verify_()
        if len(self.body.blocks) != 1:
            raise VerifyException("fabric.pe body must have exactly one block")


@irdl_op_definition
class TemporalPEOp(FabricParamsOp):
    """``fabric.temporal_pe``: a time-multiplexed PE whose body holds FU
    ``fabric.pe`` definitions (spec-fabric-temporal_pe.md).

    Hardware: ``num_register``, ``num_instruction``, ``reg_fifo_depth``,
    ``enable_share_operand_buffer``, ``operand_buffer_size``.  Configuration:
    ``instruction_mem`` (array of slot strings)."""

    name = "fabric.temporal_pe"
    HW_PARAMS: ClassVar[tuple[str, ...]] = tuple(_TPE_HW)
    CONFIG_PARAMS: ClassVar[tuple[str, ...]] = tuple(_TPE_CONFIG)

    sym_name = opt_attr_def(StringAttr)
    function_type = opt_attr_def(FunctionType)
    num_register_attr = opt_attr_def(IntegerAttr, attr_name="num_register")
    num_instruction_attr = opt_attr_def(IntegerAttr, attr_name="num_instruction")
    reg_fifo_depth_attr = opt_attr_def(IntegerAttr, attr_name="reg_fifo_depth")
    enable_share_operand_buffer_attr = opt_attr_def(
        IntegerAttr, attr_name="enable_share_operand_buffer"
    )
    operand_buffer_size_attr = opt_attr_def(IntegerAttr, attr_name="operand_buffer_size")
    instruction_mem_attr = opt_attr_def(ArrayAttr, attr_name="instruction_mem")
    body = region_def()

    traits = traits_def(OptionalSymbolOpInterface(), NoTerminator())

    @property
    def symbol(self) -> str | None:
        return None if self.sym_name is None else self.sym_name.data

    @property
    def input_types(self) -> tuple[Attribute, ...]:
        return _fn_inputs(self.function_type)

    @property
    def output_types(self) -> tuple[Attribute, ...]:
        return _fn_outputs(self.function_type)

    @property
    def num_inputs(self) -> int:
        return len(self.input_types)

    @property
    def num_outputs(self) -> int:
        return len(self.output_types)

    @staticmethod
    def _int(a: IntegerAttr | None) -> int | None:
        return None if a is None else a.value.data

    @property
    def num_register(self) -> int | None:
        return self._int(self.num_register_attr)

    @property
    def num_instruction(self) -> int | None:
        return self._int(self.num_instruction_attr)

    @property
    def reg_fifo_depth(self) -> int | None:
        return self._int(self.reg_fifo_depth_attr)

    @property
    def enable_share_operand_buffer(self) -> bool:
        """Shared operand buffer mode; False when omitted (the default)."""
        return bool(self._int(self.enable_share_operand_buffer_attr) or 0)

    @property
    def operand_buffer_size(self) -> int | None:
        return self._int(self.operand_buffer_size_attr)

    @property
    def instruction_mem(self) -> tuple[str, ...]:
        """Configured instruction slots (empty when unconfigured)."""
        return string_list(self.instruction_mem_attr)

    def set_instruction_mem(self, slots: Sequence[str]) -> None:
        self.attributes["instruction_mem"] = ArrayAttr([StringAttr(s) for s in slots])

    @property
    def body_block(self) -> Block:
        block = self.body.blocks.first
        assert block is not None
        return block

    @property
    def fu_pes(self) -> list[PEOp]:
        """FU type definitions, in body order (which is the opcode order)."""
        return [o for o in self.body_block.ops if isinstance(o, PEOp)]

    @classmethod
    def parse(cls, parser: Parser) -> TemporalPEOp:
        attrs = parse_optional_sym(parser)
        header = _parse_named_header(parser)
        attrs.update(parse_param_lists(parser, _TPE_HW, _TPE_CONFIG, "temporal_pe"))
        parser.parse_punctuation("->")
        outs = parse_paren_type_list(parser)
        attrs["function_type"] = FunctionType.from_lists([a.type for a in header], outs)
        body = _parse_named_body(parser, header)
        return cls.create(attributes=attrs, regions=[body])

    def print(self, printer: Printer) -> None:
        ins = self.input_types
        print_optional_sym(printer, self.sym_name)
        _print_named_header(printer, self, ins)
        hw = []
        for k in self.HW_PARAMS:
            if k in self.attributes:
                hw.append((k, int_printer(printer, self.attributes[k])))
        print_keyword_list(printer, "[", "]", hw)
        if self.instruction_mem_attr is not None:
            entry = ("instruction_mem", attr_printer(printer, self.instruction_mem_attr))
            print_keyword_list(printer, "{", "}", [entry])
        printer.print_string(" -> ")
        print_paren_types(printer, self.output_types)
        printer.print_string(" ")
        explicit = not _entry_matches(self.body_block, ins)
        printer.print_region(self.body, print_entry_block_args=explicit)

    def verify_(self) -> None:
        if self.function_type is None:
            raise VerifyException("fabric.temporal_pe requires a function_type")
        if len(self.body.blocks) != 1:
            raise VerifyException("fabric.temporal_pe body must have exactly one block")
        for key in ("num_register", "num_instruction", "reg_fifo_depth"):
            if key not in self.attributes:
                raise VerifyException(f"fabric.temporal_pe requires {key}")


@irdl_op_definition
class YieldOp(IRDLOperation):
    """``fabric.yield %v0, %v1 : T0, T1``: terminator of module/pe/temporal_pe bodies."""

    name = "fabric.yield"

    values = var_operand_def()

    traits = traits_def(IsTerminator())

    @classmethod
    def parse(cls, parser: Parser) -> YieldOp:
        attrs = parser.parse_optional_attr_dict()
        pos = parser.pos
        operands = parse_operand_list_until(parser)
        types: list[Attribute] = []
        if operands:
            parser.parse_punctuation(":")
            types = parse_type_list(parser)
        values = resolve_operands(parser, operands, types, pos)
        return cls.create(operands=values, attributes=attrs)

    def print(self, printer: Printer) -> None:
        if self.attributes:
            printer.print_string(" ")
            printer.print_attr_dict(self.attributes)
        if self.values:
            printer.print_string(" ")
            printer.print_list(self.values, printer.print_operand)
            printer.print_string(" : ")
            printer.print_list([v.type for v in self.values], printer.print_attribute)
