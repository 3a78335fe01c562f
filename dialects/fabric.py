"""The ``fabric`` dialect: Loom's hardware IR for CGRA fabrics, with Loom's textual syntax.

Ops and where they are specified (specs under /work/specs/loom):

- ``fabric.module``, ``fabric.instance``, ``fabric.yield`` — spec-fabric.md
- ``fabric.pe``, ``fabric.temporal_pe`` — spec-fabric-pe.md, spec-fabric-temporal_pe.md
  (module ``fabric_pe``)
- ``fabric.switch``, ``fabric.temporal_sw``, ``fabric.fifo`` — spec-fabric-switch.md,
  spec-fabric-temporal_sw.md, spec-fabric-fifo.md (module ``fabric_route``)
- ``fabric.memory``, ``fabric.extmemory`` — spec-fabric-mem.md (module ``fabric_mem``)
- ``fabric.add_tag``, ``fabric.map_tag``, ``fabric.del_tag`` — spec-fabric-tag.md (here)

Parsing is deliberately permissive: anything Loom's grammar accepts parses, even
when it breaks a semantic rule, so that the fabric verifier can reject it with
the right ``CPL_*`` code (spec-fabric-error.md).  ``verify_()`` only checks what
the IR could not otherwise represent (e.g. a named op with SSA operands).

Every op keeps hardware parameters (``[...]``) and runtime configuration
(``{...}``) as separate attributes and lists them in ``HW_PARAMS`` /
``CONFIG_PARAMS``; printing writes them back into the same brackets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from loomc.dialects.fabric_base import FabricParamsOp, FabricPortOp
from loomc.dialects.fabric_mem import ExtMemoryOp, MemoryOp
from loomc.dialects.fabric_pe import PEOp, TemporalPEOp, YieldOp
from loomc.dialects.fabric_route import FifoOp, SwitchOp, TemporalSwOp
from loomc.dialects.fabric_syntax import (
    next_is_block_label,
    parse_function_type_fast,
    parse_operand_list_until,
    parse_optional_attr_dict_fast,
    parse_paren_type_list,
    parse_type_fast,
    parse_typed_arguments,
    resolve_operands,
    unsigned_value,
)
from xdsl.dialects.builtin import (
    ArrayAttr,
    FunctionType,
    IntegerAttr,
    IntegerType,
    StringAttr,
    SymbolRefAttr,
)
from xdsl.ir import Attribute, Block, Dialect, Operation
from xdsl.irdl import (
    IRDLOperation,
    attr_def,
    irdl_op_definition,
    operand_def,
    opt_attr_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import IsolatedFromAbove, NoTerminator, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException


def _print_loom_attr_dict(printer: Printer, attrs: Mapping[str, Attribute]) -> None:
    """``{k = v, ...}`` with i64 integers bare, as MLIR (and so Loom) prints them."""
    printer.print_string("{")
    for i, (key, value) in enumerate(attrs.items()):
        if i:
            printer.print_string(", ")
        printer.print_identifier_or_string_literal(key)
        printer.print_string(" = ")
        if (
            isinstance(value, IntegerAttr)
            and isinstance(value.type, IntegerType)
            and value.type.width.data == 64
        ):
            printer.print_int(value.value.data)
        else:
            printer.print_attribute(value)
    printer.print_string("}")


# ------------------------------------------------------------------------- top level


@irdl_op_definition
class ModuleOp(IRDLOperation):
    """``fabric.module @name(%a: T, ...) -> (R, ...) { ... fabric.yield ... }``.

    The body is a graph region (forward references allowed, spec-fabric.md
    "Body and Terminator").  A missing ``fabric.yield`` still parses; reporting
    it is the verifier's job (``CPL_MODULE_MISSING_YIELD``)."""

    name = "fabric.module"

    sym_name = attr_def(StringAttr)
    function_type = attr_def(FunctionType)
    body = region_def()

    traits = traits_def(SymbolOpInterface(), IsolatedFromAbove(), NoTerminator())

    @property
    def symbol(self) -> str:
        return self.sym_name.data

    @property
    def input_types(self) -> tuple[Attribute, ...]:
        return tuple(self.function_type.inputs.data)

    @property
    def output_types(self) -> tuple[Attribute, ...]:
        return tuple(self.function_type.outputs.data)

    @property
    def body_block(self) -> Block:
        block = self.body.blocks.first
        assert block is not None
        return block

    @property
    def yield_op(self) -> YieldOp | None:
        last = self.body_block.last_op
        return last if isinstance(last, YieldOp) else None

    @property
    def body_ops(self) -> list[Operation]:
        """Body operations without the terminator."""
        return [o for o in self.body_block.ops if not isinstance(o, YieldOp)]

    @classmethod
    def parse(cls, parser: Parser) -> ModuleOp:
        sym = parser.parse_symbol_name()
        header = parse_typed_arguments(parser)
        parser.parse_punctuation("->")
        outs = parse_paren_type_list(parser)
        region = (
            parser.parse_region() if next_is_block_label(parser) else parser.parse_region(header)
        )
        if not region.blocks:
            region.add_block(Block())
        fn = FunctionType.from_lists([a.type for a in header], outs)
        return cls.create(attributes={"sym_name": sym, "function_type": fn}, regions=[region])

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        block = self.body_block
        ins = self.input_types
        matches = len(block.args) == len(ins) and all(
            a.type == t for a, t in zip(block.args, ins, strict=True)
        )
        printer.print_string("(")
        for i, t in enumerate(ins):
            if i:
                printer.print_string(", ")
            if i < len(block.args):
                printer.print_ssa_value(block.args[i])
            else:
                printer.print_string(f"%port{i}")
            printer.print_string(": ")
            printer.print_attribute(t)
        printer.print_string(") -> (")
        printer.print_list(self.output_types, printer.print_attribute)
        printer.print_string(") ")
        printer.print_region(self.body, print_entry_block_args=not matches)

    def verify_(self) -> None:
        if len(self.body.blocks) != 1:
            raise VerifyException("fabric.module body must have exactly one block")


@irdl_op_definition
class InstanceOp(IRDLOperation):
    """``%r = fabric.instance @target(%a, %b) {sym_name = "u0"} : (T...) -> (R...)``.

    Besides ``sym_name`` the attribute dictionary may carry runtime configuration
    overrides for the instantiated definition (spec-fabric.md "Runtime
    Configuration Overrides"); they are kept as-is."""

    name = "fabric.instance"

    module = attr_def(SymbolRefAttr)
    sym_name = opt_attr_def(StringAttr)
    inputs = var_operand_def()
    outputs = var_result_def()

    @property
    def module_name(self) -> str:
        """Referenced definition's symbol (``@pe_add`` → ``"pe_add"``)."""
        return self.module.root_reference.data

    @property
    def instance_name(self) -> str | None:
        """The instance's ``sym_name`` (its hardware name), if given."""
        return None if self.sym_name is None else self.sym_name.data

    def config_overrides(self) -> dict[str, Attribute]:
        """Attributes other than the target and the instance name."""
        return {k: v for k, v in self.attributes.items() if k not in ("module", "sym_name")}

    @classmethod
    def parse(cls, parser: Parser) -> InstanceOp:
        target = parser.parse_symbol_name()
        pos = parser.pos
        parser.parse_punctuation("(")
        operands = parse_operand_list_until(parser)
        parser.parse_punctuation(")")
        attrs = parse_optional_attr_dict_fast(parser)
        parser.parse_punctuation(":")
        fn = parse_function_type_fast(parser)
        values = resolve_operands(parser, operands, list(fn.inputs.data), pos)
        attrs = {"module": SymbolRefAttr(target), **attrs}
        return cls.create(operands=values, result_types=list(fn.outputs.data), attributes=attrs)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.module_name)
        printer.print_string("(")
        printer.print_list(self.operands, printer.print_operand)
        printer.print_string(")")
        rest = {k: v for k, v in self.attributes.items() if k != "module"}
        if rest:
            printer.print_string(" ")
            _print_loom_attr_dict(printer, rest)
        printer.print_string(" : ")
        printer.print_function_type([o.type for o in self.operands], [r.type for r in self.results])


# ------------------------------------------------------------------------------ tags


class _TagOp(FabricParamsOp):
    """Shared ``%v attr-dict : T -> R`` syntax of the tag boundary ops."""

    input = operand_def()
    result = result_def()

    @classmethod
    def parse(cls, parser: Parser) -> _TagOp:
        pos = parser.pos
        operand = parser.parse_unresolved_operand()
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        in_type = parse_type_fast(parser)
        parser.parse_punctuation("->")
        out_type = parse_type_fast(parser)
        (value,) = resolve_operands(parser, [operand], [in_type], pos)
        return cls.create(operands=[value], result_types=[out_type], attributes=attrs)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.input)
        if self.attributes:
            printer.print_string(" ")
            _print_loom_attr_dict(printer, self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.input.type)
        printer.print_string(" -> ")
        printer.print_attribute(self.result.type)


@irdl_op_definition
class AddTagOp(_TagOp):
    """``fabric.add_tag %v {tag = 5 : i4} : T -> tagged<T, i4>``; ``tag`` is runtime
    configuration (default 0)."""

    name = "fabric.add_tag"
    CONFIG_PARAMS: ClassVar[tuple[str, ...]] = ("tag",)

    tag_attr = opt_attr_def(IntegerAttr, attr_name="tag")

    @property
    def tag(self) -> int | None:
        """Configured tag (unsigned), or None when absent (hardware default 0)."""
        return None if self.tag_attr is None else unsigned_value(self.tag_attr)

    def set_tag(self, value: int, tag_width: int) -> None:
        self.attributes["tag"] = IntegerAttr(value, tag_width)


@irdl_op_definition
class DelTagOp(_TagOp):
    """``fabric.del_tag %t : tagged<T, iN> -> T``."""

    name = "fabric.del_tag"


@irdl_op_definition
class MapTagOp(_TagOp):
    """``fabric.map_tag %t {table_size = N, table = [[valid, src, dst], ...]} : A -> B``.

    ``table_size`` is a hardware parameter, ``table`` runtime configuration."""

    name = "fabric.map_tag"
    HW_PARAMS: ClassVar[tuple[str, ...]] = ("table_size",)
    CONFIG_PARAMS: ClassVar[tuple[str, ...]] = ("table",)

    table_size_attr = opt_attr_def(IntegerAttr, attr_name="table_size")
    table_attr = opt_attr_def(ArrayAttr, attr_name="table")

    @property
    def table_size(self) -> int | None:
        return None if self.table_size_attr is None else self.table_size_attr.value.data

    @property
    def table(self) -> tuple[tuple[int, ...], ...] | None:
        """Entries ``(valid, src_tag, dst_tag)``; None when unconfigured or when an
        entry is not a list of integers (left to the verifier)."""
        if self.table_attr is None:
            return None
        rows = []
        for row in self.table_attr.data:
            if not isinstance(row, ArrayAttr) or not all(
                isinstance(x, IntegerAttr) for x in row.data
            ):
                return None
            rows.append(tuple(unsigned_value(x) for x in row.data))  # type: ignore[arg-type]
        return tuple(rows)


Fabric = Dialect(
    "fabric",
    [
        ModuleOp,
        InstanceOp,
        YieldOp,
        PEOp,
        TemporalPEOp,
        SwitchOp,
        TemporalSwOp,
        FifoOp,
        AddTagOp,
        MapTagOp,
        DelTagOp,
        MemoryOp,
        ExtMemoryOp,
    ],
    [],
)

__all__ = [
    "AddTagOp",
    "DelTagOp",
    "ExtMemoryOp",
    "Fabric",
    "FabricPortOp",
    "FifoOp",
    "InstanceOp",
    "MapTagOp",
    "MemoryOp",
    "ModuleOp",
    "PEOp",
    "SwitchOp",
    "TemporalPEOp",
    "TemporalSwOp",
    "YieldOp",
]
