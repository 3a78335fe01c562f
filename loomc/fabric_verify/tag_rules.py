"""Rules of ``fabric.add_tag``, ``fabric.del_tag`` and ``fabric.map_tag``
(spec-fabric-tag.md "Constraints" of each op)."""

from __future__ import annotations

from xdsl.dialects.builtin import ArrayAttr, IntegerAttr
from xdsl.ir import Attribute, Operation

from loomc.fabric_verify.context import VerifyContext, Violation
from loomc.fabric_verify.ir_access import (
    fmt,
    int_attr,
    is_routing_payload,
    is_tagged,
    raw_attr,
    tag_width,
    value_type,
)

#: spec-fabric-tag.md / spec-dataflow.md: tag widths i1..i16.
MIN_TAG_WIDTH, MAX_TAG_WIDTH = 1, 16
#: spec-fabric-tag.md "fabric.map_tag" "Attributes": table_size in [1, 256].
MAX_MAP_TAG_TABLE = 256


def _tag_range(op: Operation, ctx: VerifyContext, t: Attribute) -> Violation | None:
    width = tag_width(t)
    if width is not None and not MIN_TAG_WIDTH <= width <= MAX_TAG_WIDTH:
        return ctx.violation(
            op,
            "CPL_TAG_WIDTH_RANGE",
            f"tag type width must be in [{MIN_TAG_WIDTH}, {MAX_TAG_WIDTH}]; got i{width}",
        )
    return None


def _payload(op: Operation, ctx: VerifyContext, t: Attribute) -> Violation | None:
    if not is_routing_payload(t):
        return ctx.violation(
            op,
            "CPL_ROUTING_PAYLOAD_NOT_BITS",
            f"{op.name} value type must be !dataflow.bits<N> or none; got {fmt(t)}",
        )
    return None


def _tag_boundary(
    op: Operation,
    ctx: VerifyContext,
    code: str,
    tagged: tuple[str, Attribute],
    plain: tuple[str, Attribute],
) -> Violation | None:
    """The mirrored type rules of add_tag and del_tag: the ``tagged`` side (named
    port, type) must be a legal tagged type whose value type is the ``plain``
    side's type (spec-fabric-tag.md "Constraints")."""
    tagged_name, tagged_type = tagged
    plain_name, plain_type = plain
    if not is_tagged(tagged_type):
        kind = op.name.removeprefix("fabric.")
        return ctx.violation(op, code, f"{kind} {tagged_name} must be !dataflow.tagged")
    value = value_type(tagged_type)
    problem = _tag_range(op, ctx, tagged_type) or _payload(op, ctx, value)
    if problem is not None:
        return problem
    if plain_type != value:
        return ctx.violation(
            op,
            code,
            f"{plain_name} type {fmt(plain_type)} must equal the {tagged_name} value type "
            f"{fmt(value)}",
        )
    return None


def check_add_tag(op: Operation, ctx: VerifyContext) -> Violation | None:
    """spec-fabric-tag.md "Operation: fabric.add_tag" "Constraints"."""
    if len(op.operands) != 1 or len(op.results) != 1:
        return None
    result = op.results[0].type
    problem = _tag_boundary(
        op,
        ctx,
        "CPL_ADD_TAG_VALUE_TYPE_MISMATCH",
        ("result", result),
        ("input", op.operands[0].type),
    )
    if problem is not None:
        return problem
    tag = raw_attr(op, "tag")
    if isinstance(tag, IntegerAttr):
        width = tag_width(result) or 0
        attr_width = getattr(tag.type, "width", None)
        attr_bits = attr_width.data if attr_width is not None else None
        if attr_bits is not None and attr_bits != width:
            return ctx.violation(
                op,
                "CPL_ADD_TAG_VALUE_OVERFLOW",
                f"tag attribute is i{attr_bits} but the result tag type is i{width}",
            )
        value = int(tag.value.data)
        if value < 0:
            value &= (1 << width) - 1 if attr_bits is None else (1 << attr_bits) - 1
        if value.bit_length() > width:
            return ctx.violation(
                op, "CPL_ADD_TAG_VALUE_OVERFLOW", f"tag value {value} does not fit in i{width}"
            )
    return None


def check_del_tag(op: Operation, ctx: VerifyContext) -> Violation | None:
    """spec-fabric-tag.md "Operation: fabric.del_tag" "Constraints"."""
    if len(op.operands) != 1 or len(op.results) != 1:
        return None
    return _tag_boundary(
        op,
        ctx,
        "CPL_DEL_TAG_VALUE_TYPE_MISMATCH",
        ("input", op.operands[0].type),
        ("result", op.results[0].type),
    )


def check_map_tag(op: Operation, ctx: VerifyContext) -> Violation | None:
    """spec-fabric-tag.md "Operation: fabric.map_tag" "Constraints"."""
    if len(op.operands) != 1 or len(op.results) != 1:
        return None
    t_in, t_out = op.operands[0].type, op.results[0].type
    if not is_tagged(t_in) or not is_tagged(t_out):
        return ctx.violation(
            op,
            "CPL_MAP_TAG_VALUE_TYPE_MISMATCH",
            "map_tag input and result must be !dataflow.tagged",
        )
    problem = (
        _tag_range(op, ctx, t_in)
        or _tag_range(op, ctx, t_out)
        or _payload(op, ctx, value_type(t_in))
    )
    if problem is not None:
        return problem
    if value_type(t_in) != value_type(t_out):
        return ctx.violation(
            op,
            "CPL_MAP_TAG_VALUE_TYPE_MISMATCH",
            f"input value type {fmt(value_type(t_in))} must equal output value type "
            f"{fmt(value_type(t_out))}",
        )
    size = int_attr(op, "table_size", default=0)
    if size is None or not 1 <= size <= MAX_MAP_TAG_TABLE:
        return ctx.violation(
            op,
            "CPL_MAP_TAG_TABLE_SIZE",
            f"table_size must be in [1, {MAX_MAP_TAG_TABLE}]; got {size}",
        )
    table = raw_attr(op, "table")
    if isinstance(table, ArrayAttr) and len(table.data) != size:
        return ctx.violation(
            op,
            "CPL_MAP_TAG_TABLE_LENGTH",
            f"table has {len(table.data)} entries but table_size is {size}",
        )
    return None
