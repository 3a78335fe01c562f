"""Routing and buffering ops: ``fabric.switch``, ``fabric.temporal_sw``, ``fabric.fifo``.

Syntax follows Loom (spec-fabric-switch.md, spec-fabric-temporal_sw.md,
spec-fabric-fifo.md):

    %o:2 = fabric.switch [connectivity_table = ["011", "110"]] {route_table = ["1", "1"]}
             %a, %b, %c : T -> T, T
    fabric.switch @sw [connectivity_table = [...]] : (T, T) -> (T, T)
    %o = fabric.temporal_sw [num_route_table = 4, connectivity_table = [...]]
             {route_table = ["route_table[0]: when(tag=0) O[0]<-I[1]"]} %a, %b : T -> T
    %f = fabric.fifo [depth = 2, bypassable] {bypassed = false} %in : T
    fabric.fifo @buf [depth = 4] : (T) -> (T)

Tables are stored as ``array<i8: ...>`` (Loom's DenseI8ArrayAttr) and parsed
straight from the source text, so the large templates' ~34,000 entries cost
milliseconds rather than seconds.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from loomc.dialects.fabric_base import FabricPortOp
from loomc.dialects.fabric_syntax import (
    KeywordEntry,
    attr_printer,
    dense_values,
    i8_array,
    int_printer,
    parse_array_value,
    parse_bool_value,
    parse_function_type_fast,
    parse_i8_table_value,
    parse_int_value,
    parse_operand_list_until,
    parse_optional_sym,
    parse_param_lists,
    parse_type_fast,
    parse_type_list,
    peek_punctuation,
    print_bit_table,
    print_keyword_list,
    print_optional_sym,
    resolve_operands,
    string_list,
)
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    IntegerAttr,
    StringAttr,
    UnitAttr,
)
from xdsl.ir import Attribute
from xdsl.irdl import irdl_op_definition, opt_attr_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import OptionalSymbolOpInterface
from xdsl.utils.exceptions import VerifyException

_VIZ = {"viz_row": parse_int_value, "viz_col": parse_int_value}


def _parse_inline_ports(
    parser: Parser, attrs: dict[str, Attribute], single_input_type_ok: bool = True
) -> tuple[list, list[Attribute]]:
    """``%a, %b : T (, T)* -> R (, R)*`` (inline switch / temporal_sw).  One input
    type with several operands applies to all of them, as in Loom."""
    pos = parser.pos
    operands = parse_operand_list_until(parser)
    parser.parse_punctuation(":")
    in_types: list[Attribute] = [] if peek_punctuation(parser, "->") else parse_type_list(parser)
    if single_input_type_ok and len(in_types) == 1 and len(operands) > 1:
        in_types = in_types * len(operands)
    parser.parse_punctuation("->")
    out_types = parse_type_list(parser)
    return resolve_operands(parser, operands, in_types, pos), out_types


def _print_inline_ports(printer: Printer, op: FabricPortOp) -> None:
    if op.inputs:
        printer.print_string(" ")
        printer.print_list(op.inputs, printer.print_operand)
    printer.print_string(" : ")
    in_types = [v.type for v in op.inputs]
    if in_types and all(t == in_types[0] for t in in_types):
        printer.print_attribute(in_types[0])
    else:
        printer.print_list(in_types, printer.print_attribute)
    printer.print_string(" -> ")
    printer.print_list([r.type for r in op.outputs], printer.print_attribute)


def _finish_named_or_inline(
    cls: type[FabricPortOp], parser: Parser, attrs: dict[str, Attribute]
) -> FabricPortOp:
    if "sym_name" in attrs:
        parser.parse_punctuation(":")
        attrs["function_type"] = parse_function_type_fast(parser)
        return cls.create(attributes=attrs)
    operands, out_types = _parse_inline_ports(parser, attrs)
    return cls.create(operands=operands, result_types=out_types, attributes=attrs)


def _print_named_signature(printer: Printer, op: FabricPortOp) -> None:
    printer.print_string(" : ")
    assert op.function_type is not None
    printer.print_attribute(op.function_type)


def _print_param_lists(
    printer: Printer, op: FabricPortOp, hw: list[KeywordEntry], config: list[KeywordEntry]
) -> None:
    """Print the ``[hw]`` list plus any viz hints, then the ``{config}`` list; an
    empty list prints nothing."""
    for key in ("viz_row", "viz_col"):
        if key in op.attributes:
            hw.append((key, int_printer(printer, op.attributes[key])))
    print_keyword_list(printer, "[", "]", hw)
    print_keyword_list(printer, "{", "}", config)


def _print_ports(printer: Printer, op: FabricPortOp) -> None:
    """Inline operands and types, or the named form's function type."""
    if op.is_inline:
        _print_inline_ports(printer, op)
    else:
        _print_named_signature(printer, op)


def _bool_matrix(flat: np.ndarray, rows: int, cols: int) -> np.ndarray:
    return flat.reshape(rows, cols).astype(bool)


class _TableRoutingMixin:
    """Connectivity accessors shared by switch and temporal_sw."""

    def _table_attr(self) -> DenseArrayBase | None:
        attr = self.attributes.get("connectivity_table")  # type: ignore[attr-defined]
        return attr if isinstance(attr, DenseArrayBase) else None

    @property
    def connectivity_values(self) -> np.ndarray | None:
        """The stored table, flat (row-major by output), or None if omitted."""
        attr = self._table_attr()
        return None if attr is None else dense_values(attr)

    @property
    def connectivity(self) -> np.ndarray:
        """Physical wires as a bool matrix of shape ``(num_outputs, num_inputs)``:
        ``connectivity[o, i]`` is True when input ``i`` can reach output ``o``
        (spec-fabric-switch.md ``connectivity_table``: ``[output][input]``,
        row-major).  An omitted table means a full crossbar.  Raises ValueError
        when the stored length does not match the port counts (the verifier
        reports that as ``CPL_SWITCH_TABLE_SHAPE``)."""
        n_out, n_in = self.num_outputs, self.num_inputs  # type: ignore[attr-defined]
        flat = self.connectivity_values
        if flat is None:
            return np.ones((n_out, n_in), dtype=bool)
        if flat.size != n_out * n_in:
            raise ValueError(f"connectivity_table has {flat.size} entries, expected {n_out}x{n_in}")
        return _bool_matrix(flat != 0, n_out, n_in)

    def _print_table(self, printer: Printer) -> None:
        flat = self.connectivity_values
        assert flat is not None
        n_out, n_in = self.num_outputs, self.num_inputs  # type: ignore[attr-defined]
        rows = [n_in] * n_out if n_in and flat.size == n_in * n_out else []
        print_bit_table(printer, flat.tolist(), rows)


@irdl_op_definition
class SwitchOp(_TableRoutingMixin, FabricPortOp):
    """``fabric.switch``: a configurable crossbar (spec-fabric-switch.md).

    Hardware: ``connectivity_table`` (0/1, outputs × inputs, row-major),
    ``viz_row``/``viz_col`` (layout hints).  Configuration: ``route_table``, one
    enable bit per 1-entry of the connectivity table, in row-major order."""

    name = "fabric.switch"
    HW_PARAMS: ClassVar[tuple[str, ...]] = ("connectivity_table", "viz_row", "viz_col")
    CONFIG_PARAMS: ClassVar[tuple[str, ...]] = ("route_table",)

    connectivity_table_attr = opt_attr_def(DenseArrayBase, attr_name="connectivity_table")
    route_table_attr = opt_attr_def(DenseArrayBase, attr_name="route_table")

    traits = traits_def(OptionalSymbolOpInterface())

    @property
    def route_table(self) -> np.ndarray | None:
        """Flat enable bits (one per connected position), or None when unconfigured."""
        attr = self.route_table_attr
        return None if attr is None else dense_values(attr)

    @property
    def routes(self) -> np.ndarray | None:
        """Enabled paths as a bool matrix ``(num_outputs, num_inputs)`` obtained by
        scattering ``route_table`` onto the 1-positions of ``connectivity``; None
        when unconfigured.  Raises ValueError on a length mismatch."""
        rt = self.route_table
        if rt is None:
            return None
        conn = self.connectivity
        positions = np.flatnonzero(conn.ravel())
        if positions.size != rt.size:
            raise ValueError(
                f"route_table has {rt.size} entries, connectivity has {positions.size} wires"
            )
        out = np.zeros(conn.size, dtype=bool)
        out[positions] = rt != 0
        return out.reshape(conn.shape)

    def set_route_table(self, bits: np.ndarray | list[int]) -> None:
        """Write the runtime route table (flat bits, or a full outputs×inputs
        matrix that is gathered at the connected positions)."""
        arr = np.asarray(bits)
        if arr.ndim == 2:
            arr = arr.ravel()[np.flatnonzero(self.connectivity.ravel())]
        self.attributes["route_table"] = i8_array(arr.astype(np.int8))

    @classmethod
    def parse(cls, parser: Parser) -> SwitchOp:
        attrs = parse_optional_sym(parser)
        attrs |= parse_param_lists(
            parser,
            {"connectivity_table": parse_i8_table_value, **_VIZ},
            {"route_table": parse_i8_table_value},
            "switch",
        )
        op = _finish_named_or_inline(cls, parser, attrs)
        assert isinstance(op, SwitchOp)
        return op

    def print(self, printer: Printer) -> None:
        print_optional_sym(printer, self.sym_name)
        hw: list[KeywordEntry] = []
        if self.connectivity_table_attr is not None:
            hw.append(("connectivity_table", lambda: self._print_table(printer)))
        config: list[KeywordEntry] = []
        if self.route_table_attr is not None:
            config.append(("route_table", lambda: self._print_route(printer)))
        _print_param_lists(printer, self, hw, config)
        _print_ports(printer, self)

    def _print_route(self, printer: Printer) -> None:
        rt = self.route_table
        assert rt is not None
        rows: list[int] = []
        try:
            conn = self.connectivity
            rows = [int(r.sum()) for r in conn]
        except ValueError:
            pass
        print_bit_table(printer, rt.tolist(), rows)


@irdl_op_definition
class TemporalSwOp(_TableRoutingMixin, FabricPortOp):
    """``fabric.temporal_sw``: a tag-indexed switch (spec-fabric-temporal_sw.md).

    Hardware: ``num_route_table`` (slots), ``connectivity_table``.  Configuration:
    ``route_table``, an array of slot strings (human-readable or hex)."""

    name = "fabric.temporal_sw"
    HW_PARAMS: ClassVar[tuple[str, ...]] = (
        "num_route_table",
        "connectivity_table",
        "viz_row",
        "viz_col",
    )
    CONFIG_PARAMS: ClassVar[tuple[str, ...]] = ("route_table",)

    num_route_table_attr = opt_attr_def(IntegerAttr, attr_name="num_route_table")
    connectivity_table_attr = opt_attr_def(DenseArrayBase, attr_name="connectivity_table")
    route_table_attr = opt_attr_def(ArrayAttr, attr_name="route_table")

    traits = traits_def(OptionalSymbolOpInterface())

    @property
    def num_route_table(self) -> int | None:
        a = self.num_route_table_attr
        return None if a is None else a.value.data

    @property
    def route_table(self) -> tuple[str, ...]:
        """Configured slot strings (empty when unconfigured)."""
        return string_list(self.route_table_attr)

    def set_route_table(self, slots: list[str]) -> None:
        self.attributes["route_table"] = ArrayAttr([StringAttr(s) for s in slots])

    @classmethod
    def parse(cls, parser: Parser) -> TemporalSwOp:
        attrs = parse_optional_sym(parser)
        attrs |= parse_param_lists(
            parser,
            {
                "num_route_table": parse_int_value,
                "connectivity_table": parse_i8_table_value,
                **_VIZ,
            },
            {"route_table": parse_array_value},
            "temporal_sw",
        )
        op = _finish_named_or_inline(cls, parser, attrs)
        assert isinstance(op, TemporalSwOp)
        return op

    def print(self, printer: Printer) -> None:
        print_optional_sym(printer, self.sym_name)
        hw: list[KeywordEntry] = []
        if self.num_route_table_attr is not None:
            hw.append(("num_route_table", int_printer(printer, self.num_route_table_attr)))
        if self.connectivity_table_attr is not None:
            hw.append(("connectivity_table", lambda: self._print_table(printer)))
        config: list[KeywordEntry] = []
        if self.route_table_attr is not None:
            config.append(("route_table", attr_printer(printer, self.route_table_attr)))
        _print_param_lists(printer, self, hw, config)
        _print_ports(printer, self)

    def verify_(self) -> None:
        super().verify_()
        if self.num_route_table_attr is None:
            raise VerifyException("fabric.temporal_sw requires num_route_table")


@irdl_op_definition
class FifoOp(FabricPortOp):
    """``fabric.fifo``: a single-input pipeline buffer (spec-fabric-fifo.md).

    Hardware: ``depth``, ``bypassable`` (flag).  Configuration: ``bypassed``."""

    name = "fabric.fifo"
    HW_PARAMS: ClassVar[tuple[str, ...]] = ("depth", "bypassable", "viz_row", "viz_col")
    CONFIG_PARAMS: ClassVar[tuple[str, ...]] = ("bypassed",)

    depth_attr = opt_attr_def(IntegerAttr, attr_name="depth")
    bypassable_attr = opt_attr_def(UnitAttr, attr_name="bypassable")
    bypassed_attr = opt_attr_def(IntegerAttr, attr_name="bypassed")

    traits = traits_def(OptionalSymbolOpInterface())

    @property
    def depth(self) -> int | None:
        """Number of buffer slots (None only if the text omitted it)."""
        return None if self.depth_attr is None else self.depth_attr.value.data

    @property
    def bypassable(self) -> bool:
        return self.bypassable_attr is not None

    @property
    def bypassed(self) -> bool | None:
        """Runtime bypass setting; None when the attribute is absent."""
        return None if self.bypassed_attr is None else bool(self.bypassed_attr.value.data)

    def set_bypassed(self, value: bool) -> None:
        self.attributes["bypassed"] = IntegerAttr.from_bool(value)

    @classmethod
    def parse(cls, parser: Parser) -> FifoOp:
        attrs = parse_optional_sym(parser)
        attrs |= parse_param_lists(
            parser,
            {"depth": parse_int_value, **_VIZ},
            {"bypassed": parse_bool_value},
            "fifo",
            flags=("bypassable",),
        )
        if "sym_name" in attrs:
            parser.parse_punctuation(":")
            attrs["function_type"] = parse_function_type_fast(parser)
            return cls.create(attributes=attrs)
        pos = parser.pos
        operand = parser.parse_unresolved_operand()
        parser.parse_punctuation(":")
        type_ = parse_type_fast(parser)
        (value,) = resolve_operands(parser, [operand], [type_], pos)
        return cls.create(operands=[value], result_types=[type_], attributes=attrs)

    def print(self, printer: Printer) -> None:
        print_optional_sym(printer, self.sym_name)
        hw: list[KeywordEntry] = []
        if self.depth_attr is not None:
            hw.append(("depth", int_printer(printer, self.depth_attr)))
        if self.bypassable:
            hw.append(("bypassable", None))
        config: list[KeywordEntry] = []
        if self.bypassed_attr is not None:
            config.append(("bypassed", int_printer(printer, self.bypassed_attr)))
        _print_param_lists(printer, self, hw, config)
        if self.is_inline:
            printer.print_string(" ")
            printer.print_list(self.inputs, printer.print_operand)
            printer.print_string(" : ")
            if self.inputs:
                printer.print_attribute(self.inputs[0].type)
        else:
            _print_named_signature(printer, self)

    def verify_(self) -> None:
        super().verify_()
        if self.depth_attr is None:
            raise VerifyException("fabric.fifo requires depth")
        if self.is_inline and (len(self.inputs) != 1 or len(self.outputs) != 1):
            raise VerifyException("inline fabric.fifo has exactly one input and one output")


__all__ = ["FifoOp", "SwitchOp", "TemporalSwOp"]
