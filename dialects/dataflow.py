"""The ``dataflow`` dialect: Loom's loop-stream operations, with Loom's textual syntax.

Four operations model loop control as streams (spec-dataflow.md):

* ``%o = dataflow.carry %d, %a, %b : i1, T, T -> T`` — loop-carried value;
* ``%o = dataflow.invariant %d, %a : i1, T -> T`` — loop-invariant repeater;
* ``%idx, %cont = dataflow.stream %start, %step, %bound {step_op = "+=", stop_cond = "<"}``
  — index stream generator (index operands, ``index``/``i1`` results, no type list);
* ``%v, %c = dataflow.gate %bv, %bc : T, i1 -> T, i1`` — before/after-region aligner.

The syntax follows Loom's operation definitions (``DataflowOps.td``): an operand
list, the attribute dictionary, then the explicit type list.  Operand types are
checked by :meth:`verify_` (not by the parser) so that a type error names the
spec's ``CPL_DATAFLOW_*`` rule instead of failing as an unreadable parse error.

This module also holds the small assembly helpers shared by the ``handshake``
dialect: inherent attributes (xDSL properties) are written inside the ordinary
attribute dictionary, sorted by name, exactly as MLIR prints them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import ClassVar, Self

from loomc.dialects.dataflow_types import BitsType, TaggedType
from xdsl.dialects.builtin import IndexType, IntegerType, StringAttr
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    result_def,
)
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

# --------------------------------------------------------------------------------------
# Shared assembly helpers (also used by loomc.dialects.handshake)
# --------------------------------------------------------------------------------------


def property_names(op_cls: type[IRDLOperation]) -> frozenset[str]:
    """The textual names of an op class's properties (its MLIR inherent attributes)."""
    return frozenset(op_cls.get_irdl_definition().properties)


def parse_attr_dict_split(
    parser: Parser, prop_names: Collection[str]
) -> tuple[dict[str, Attribute], dict[str, Attribute]]:
    """Parse an optional ``{...}`` dictionary and split it into (properties, attributes).

    MLIR writes inherent attributes (``value``, ``step_op``, ``id`` …) in the same
    dictionary as discardable ones (``loom.annotations``); xDSL keeps them apart.
    """
    attrs = parser.parse_optional_attr_dict()
    props = {name: attrs.pop(name) for name in list(attrs) if name in prop_names}
    return props, attrs


def print_attr_dict(printer: Printer, op: Operation, elided: Collection[str] = ()) -> None:
    """Print properties and attributes as one dictionary sorted by name (MLIR's order),
    skipping ``elided`` names that the custom syntax already shows elsewhere."""
    merged: dict[str, Attribute] = {}
    for source in (op.properties, op.attributes):
        for name, value in source.items():
            if name not in elided:
                merged[name] = value
    printer.print_op_attributes(dict(sorted(merged.items())))


def parse_type_list(parser: Parser) -> list[Attribute]:
    """A bare, non-empty comma-separated type list (``i1, i32, i32``)."""
    types: list[Attribute] = [parser.parse_type()]
    while parser.parse_optional_punctuation(",") is not None:
        types.append(parser.parse_type())
    return types


def parse_operand_list(parser: Parser) -> list[UnresolvedOperand]:
    """A possibly empty, undelimited comma-separated list of SSA uses."""
    first = parser.parse_optional_unresolved_operand()
    if first is None:
        return []
    operands = [first]
    while parser.parse_optional_punctuation(",") is not None:
        operands.append(parser.parse_unresolved_operand())
    return operands


def resolve_operands(
    parser: Parser,
    operands: Sequence[UnresolvedOperand],
    types: Sequence[Attribute],
    pos: int,
) -> list[SSAValue]:
    """Resolve uses against their written types; a count mismatch is a ParseError at pos."""
    return list(parser.resolve_operands(operands, types, pos))


def print_operands(printer: Printer, values: Sequence[SSAValue]) -> None:
    printer.print_list(values, printer.print_operand)


def print_types(printer: Printer, types: Sequence[Attribute]) -> None:
    printer.print_list(types, printer.print_attribute)


def _is_i1(type_: Attribute) -> bool:
    return isinstance(type_, IntegerType) and type_.width.data == 1


def _check(cond: bool, code: str, message: str) -> None:
    if not cond:
        raise VerifyException(f"[{code}] {message}")


def _parse_typed_op(
    parser: Parser, n_operands: int, n_results: int
) -> tuple[list[SSAValue], list[Attribute], dict[str, Attribute]]:
    """Shared grammar of carry/invariant/gate: ``ops attr-dict : in-types -> out-types``."""
    pos = parser.pos
    operands = parse_operand_list(parser)
    attrs = parser.parse_optional_attr_dict()
    parser.parse_punctuation(":")
    type_pos = parser.pos
    in_types = parse_type_list(parser)
    parser.parse_punctuation("->")
    out_pos = parser.pos
    out_types = parse_type_list(parser)
    if len(operands) != n_operands:
        parser.raise_error(f"expected {n_operands} operands, got {len(operands)}", pos)
    if len(in_types) != n_operands:
        parser.raise_error(f"expected {n_operands} operand types, got {len(in_types)}", type_pos)
    if len(out_types) != n_results:
        parser.raise_error(f"expected {n_results} result types, got {len(out_types)}", out_pos)
    return resolve_operands(parser, operands, in_types, pos), out_types, attrs


def _print_typed_op(printer: Printer, op: Operation) -> None:
    printer.print_string(" ")
    print_operands(printer, op.operands)
    print_attr_dict(printer, op)
    printer.print_string(" : ")
    print_types(printer, [v.type for v in op.operands])
    printer.print_string(" -> ")
    print_types(printer, [r.type for r in op.results])


# --------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------


class _TypedOp(IRDLOperation):
    """carry, invariant and gate share one assembly form (``_parse_typed_op``);
    each states its operand and result counts in ``ARITY``.  No IRDL fields here."""

    ARITY: ClassVar[tuple[int, int]]

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        operands, out_types, attrs = _parse_typed_op(parser, *cls.ARITY)
        return cls.create(operands=operands, result_types=out_types, attributes=attrs)

    def print(self, printer: Printer) -> None:
        _print_typed_op(printer, self)


@irdl_op_definition
class CarryOp(_TypedOp):
    """``dataflow.carry``: emits ``a`` once, then ``b`` while ``d`` is true
    (spec-dataflow.md "Operation: dataflow.carry")."""

    name = "dataflow.carry"
    ARITY: ClassVar[tuple[int, int]] = (3, 1)

    d = operand_def()
    a = operand_def()
    b = operand_def()
    o = result_def()

    def __init__(self, d: SSAValue | Operation, a: SSAValue | Operation, b: SSAValue | Operation):
        super().__init__(operands=[d, a, b], result_types=[SSAValue.get(a).type])

    def verify_(self) -> None:
        # spec-dataflow.md "dataflow.carry" Constraints
        _check(_is_i1(self.d.type), "CPL_DATAFLOW_CARRY_CTRL_TYPE", "control %d must be i1")
        _check(
            self.a.type == self.b.type == self.o.type,
            "CPL_DATAFLOW_CARRY_TYPE_MISMATCH",
            "%a, %b and the result must have the same type",
        )


@irdl_op_definition
class InvariantOp(_TypedOp):
    """``dataflow.invariant``: repeats ``a`` once per true ``d``
    (spec-dataflow.md "Operation: dataflow.invariant")."""

    name = "dataflow.invariant"
    ARITY: ClassVar[tuple[int, int]] = (2, 1)

    d = operand_def()
    a = operand_def()
    o = result_def()

    def __init__(self, d: SSAValue | Operation, a: SSAValue | Operation):
        super().__init__(operands=[d, a], result_types=[SSAValue.get(a).type])

    def verify_(self) -> None:
        # spec-dataflow.md "dataflow.invariant" Constraints
        _check(_is_i1(self.d.type), "CPL_DATAFLOW_INVARIANT_CTRL_TYPE", "control %d must be i1")
        _check(
            self.a.type == self.o.type,
            "CPL_DATAFLOW_INVARIANT_TYPE_MISMATCH",
            "%a and the result must have the same type",
        )


STEP_OPS = ("+=", "-=", "*=", "/=", "<<=", ">>=")
CONT_CONDS = ("<", "<=", ">", ">=", "!=")


@irdl_op_definition
class StreamOp(IRDLOperation):
    """``dataflow.stream``: index stream ``start, start (op) step, …`` plus its
    will-continue stream (spec-dataflow.md "Operation: dataflow.stream").

    The comparison is stored as ``stop_cond``, the name Loom's op definition and the
    corpus use (the spec text calls it ``cont_cond``); :attr:`cont_cond` reads it.
    """

    name = "dataflow.stream"

    start = operand_def()
    step = operand_def()
    bound = operand_def()
    step_op = opt_prop_def(StringAttr)
    stop_cond = opt_prop_def(StringAttr)
    index = result_def()
    will_continue = result_def()

    def __init__(
        self,
        start: SSAValue | Operation,
        step: SSAValue | Operation,
        bound: SSAValue | Operation,
        step_op: str | None = None,
        cont_cond: str | None = None,
    ):
        props: dict[str, Attribute | None] = {
            "step_op": StringAttr(step_op) if step_op is not None else None,
            "stop_cond": StringAttr(cont_cond) if cont_cond is not None else None,
        }
        super().__init__(
            operands=[start, step, bound],
            result_types=[IndexType(), IntegerType(1)],
            properties=props,
        )

    @property
    def step_kind(self) -> str:
        """The update operator; ``+=`` when omitted (spec default)."""
        return self.step_op.data if self.step_op is not None else "+="

    @property
    def cont_cond(self) -> str:
        """The continue comparison; ``<`` when omitted (spec default)."""
        if self.stop_cond is not None:
            return self.stop_cond.data
        legacy = self.attributes.get("cont_cond")
        return legacy.data if isinstance(legacy, StringAttr) else "<"

    @classmethod
    def parse(cls, parser: Parser) -> StreamOp:
        pos = parser.pos
        operands = parse_operand_list(parser)
        if len(operands) != 3:
            parser.raise_error(
                f"dataflow.stream expects 3 operands (start, step, bound), got {len(operands)}",
                pos,
            )
        attr_pos = parser.pos
        props, attrs = parse_attr_dict_split(parser, property_names(cls))
        for name, value in props.items():
            if not isinstance(value, StringAttr):
                parser.raise_error(f"'{name}' must be a string attribute", attr_pos, parser.pos)
        index = IndexType()
        values = resolve_operands(parser, operands, [index, index, index], pos)
        return cls.create(
            operands=values,
            result_types=[index, IntegerType(1)],
            properties=props,
            attributes=attrs,
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        print_operands(printer, self.operands)
        print_attr_dict(printer, self)

    def verify_(self) -> None:
        # spec-dataflow.md "dataflow.stream" Constraints
        _check(
            all(isinstance(v.type, IndexType) for v in self.operands),
            "CPL_DATAFLOW_STREAM_OPERAND_TYPE",
            "start, step and bound must be index",
        )
        _check(
            self.step_kind in STEP_OPS,
            "CPL_DATAFLOW_STREAM_INVALID_STEP_OP",
            f"step_op must be one of {', '.join(STEP_OPS)}",
        )
        _check(
            self.cont_cond in CONT_CONDS,
            "CPL_DATAFLOW_STREAM_INVALID_CONT_COND",
            f"cont_cond must be one of {', '.join(CONT_CONDS)}",
        )


@irdl_op_definition
class GateOp(_TypedOp):
    """``dataflow.gate``: drops the tail of the value stream and the head of the
    condition stream (spec-dataflow.md "Operation: dataflow.gate")."""

    name = "dataflow.gate"
    ARITY: ClassVar[tuple[int, int]] = (2, 2)

    before_value = operand_def()
    before_cond = operand_def()
    after_value = result_def()
    after_cond = result_def()

    def __init__(self, before_value: SSAValue | Operation, before_cond: SSAValue | Operation):
        super().__init__(
            operands=[before_value, before_cond],
            result_types=[SSAValue.get(before_value).type, IntegerType(1)],
        )

    def verify_(self) -> None:
        # spec-dataflow.md "dataflow.gate" Constraints
        _check(
            _is_i1(self.before_cond.type) and _is_i1(self.after_cond.type),
            "CPL_DATAFLOW_GATE_COND_TYPE",
            "condition operand and result must be i1",
        )
        _check(
            self.before_value.type == self.after_value.type,
            "CPL_DATAFLOW_GATE_TYPE_MISMATCH",
            "value operand and result must have the same type",
        )


DATAFLOW_OPS: tuple[type[IRDLOperation], ...] = (CarryOp, InvariantOp, StreamOp, GateOp)

Dataflow = Dialect("dataflow", list(DATAFLOW_OPS), [BitsType, TaggedType])

__all__ = [
    "CONT_CONDS",
    "DATAFLOW_OPS",
    "STEP_OPS",
    "BitsType",
    "CarryOp",
    "Dataflow",
    "GateOp",
    "InvariantOp",
    "StreamOp",
    "TaggedType",
    "parse_attr_dict_split",
    "print_attr_dict",
    "property_names",
]
