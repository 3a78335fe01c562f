"""Reading fabric ops without depending on how the dialect stores them.

The verifier only needs *values*: an op's name, its port types, and a handful of
integer / boolean / string attributes.  The xDSL dialect may keep those as
properties or as attributes, as ``DenseArrayBase`` or ``ArrayAttr``, under
Loom's spelling (``addr_offset_table``) or ODS spelling (``addrOffsetTable``).
Every rule module reads ops through these helpers so a storage change in the
dialect touches this file only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from xdsl.dialects.builtin import (
    ArrayAttr,
    BFloat16Type,
    DenseArrayBase,
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    FunctionType,
    IndexType,
    IntAttr,
    IntegerAttr,
    IntegerType,
    MemRefType,
    NoneType,
    StringAttr,
    SymbolRefAttr,
    UnitAttr,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue

from loomc.dialects.dataflow_types import BitsType, TaggedType

#: Loom's address width: ``index`` travels as ``!dataflow.bits<57>``
#: (spec-fabric-mem.md "Address Semantics and Data Width").
ADDR_BIT_WIDTH = 57

#: Block terminators that can close a fabric body.
TERMINATOR_NAMES = frozenset({"fabric.yield"})
OTHER_TERMINATORS = frozenset({"func.return", "handshake.return"})


# --------------------------------------------------------------------------- attributes


def raw_attr(op: Operation, *names: str) -> Attribute | None:
    """The first of ``names`` found in the op's properties or attributes."""
    for name in names:
        props = getattr(op, "properties", {})
        if name in props:
            return props[name]
        if name in op.attributes:
            return op.attributes[name]
    return None


def has_attr(op: Operation, *names: str) -> bool:
    """Whether any of ``names`` is present on the op (even as a unit/false value)."""
    return raw_attr(op, *names) is not None


def as_int(attr: Attribute | int | None) -> int | None:
    """An integer attribute's value (``IntegerAttr``, ``IntAttr``, bool, int)."""
    if attr is None:
        return None
    if isinstance(attr, bool):
        return int(attr)
    if isinstance(attr, int):
        return attr
    if isinstance(attr, IntegerAttr):
        return int(attr.value.data)
    if isinstance(attr, IntAttr):
        return int(attr.data)
    if isinstance(attr, FloatAttr):
        return int(attr.value.data)
    return None


def as_bool(attr: Attribute | bool | None) -> bool | None:
    """A boolean attribute's value; a unit attribute counts as ``True``."""
    if attr is None:
        return None
    if isinstance(attr, bool):
        return attr
    if isinstance(attr, UnitAttr):
        return True
    value = as_int(attr)
    return None if value is None else bool(value)


def as_int_list(attr: Attribute | None) -> list[int] | None:
    """An integer array attribute as a Python list (dense arrays or ``ArrayAttr``)."""
    if attr is None:
        return None
    if isinstance(attr, DenseArrayBase):
        return [int(v) for v in attr.get_values()]
    if isinstance(attr, ArrayAttr):
        out: list[int] = []
        for item in attr.data:
            value = as_int(item)
            if value is None:
                return None
            out.append(value)
        return out
    if isinstance(attr, list | tuple):
        return [int(v) for v in attr]
    return None


def as_str_list(attr: Attribute | None) -> list[str] | None:
    """A string array attribute (``["inst[0]: ...", "0x0"]``) as a Python list."""
    if attr is None:
        return None
    if isinstance(attr, ArrayAttr):
        return [item.data for item in attr.data if isinstance(item, StringAttr)]
    return None


def int_attr(op: Operation, *names: str, default: int | None = None) -> int | None:
    value = as_int(raw_attr(op, *names))
    return default if value is None else value


def bool_attr(op: Operation, *names: str, default: bool = False) -> bool:
    value = as_bool(raw_attr(op, *names))
    return default if value is None else value


def int_list_attr(op: Operation, *names: str) -> list[int] | None:
    return as_int_list(raw_attr(op, *names))


def str_list_attr(op: Operation, *names: str) -> list[str] | None:
    return as_str_list(raw_attr(op, *names))


def sym_name(op: Operation) -> str | None:
    """The op's ``sym_name`` (named definitions, and instances that carry one)."""
    attr = raw_attr(op, "sym_name")
    if isinstance(attr, StringAttr):
        return attr.data
    if isinstance(attr, SymbolRefAttr):
        return attr.root_reference.data
    return None


def instance_target(op: Operation) -> str | None:
    """The symbol a ``fabric.instance`` refers to (``@name`` after the op name)."""
    attr = raw_attr(op, "module", "target", "callee", "ref")
    if isinstance(attr, SymbolRefAttr):
        return attr.root_reference.data
    if isinstance(attr, StringAttr):
        return attr.data
    return None


# --------------------------------------------------------------------------- signatures


@dataclass(frozen=True)
class Signature:
    """An op's logical port types: named forms read them from ``function_type``,
    inline forms from their SSA operands and results."""

    inputs: tuple[Attribute, ...]
    outputs: tuple[Attribute, ...]
    named: bool


def function_type(op: Operation) -> FunctionType | None:
    attr = raw_attr(op, "function_type")
    if isinstance(attr, FunctionType):
        return attr
    return None


def signature(op: Operation) -> Signature:
    """Port types of a fabric op, whichever form it is written in."""
    fn = function_type(op)
    named = sym_name(op) is not None and op.name != "fabric.instance"
    if fn is not None and (named or not op.operands and not op.results):
        return Signature(tuple(fn.inputs.data), tuple(fn.outputs.data), True)
    return Signature(tuple(v.type for v in op.operands), tuple(r.type for r in op.results), False)


def body_block(op: Operation) -> Block | None:
    """The first block of the op's first region, if it has one."""
    if not op.regions or not op.regions[0].blocks:
        return None
    return op.regions[0].blocks.first


def body_ops(op: Operation) -> list[Operation]:
    block = body_block(op)
    return [] if block is None else list(block.ops)


def is_terminator(op: Operation) -> bool:
    return op.name in TERMINATOR_NAMES or op.name in OTHER_TERMINATORS


def non_terminators(op: Operation) -> list[Operation]:
    return [o for o in body_ops(op) if not is_terminator(o)]


def terminator(op: Operation) -> Operation | None:
    ops = body_ops(op)
    if ops and is_terminator(ops[-1]):
        return ops[-1]
    return None


def use_count(value: SSAValue) -> int:
    return sum(1 for _ in value.uses)


def walk_preorder(op: Operation) -> Iterator[Operation]:
    """Parents before children, in source order (MLIR's verifier order)."""
    yield op
    for region in op.regions:
        for block in region.blocks:
            for child in block.ops:
                yield from walk_preorder(child)


def parent_ops(op: Operation) -> Iterator[Operation]:
    parent = op.parent_op()
    while parent is not None:
        yield parent
        parent = parent.parent_op()


def inside(op: Operation, name: str) -> bool:
    """Whether ``op`` is nested (at any depth) inside an op called ``name``."""
    return any(p.name == name for p in parent_ops(op))


# --------------------------------------------------------------------------- types


def is_bits(t: Attribute) -> bool:
    return isinstance(t, BitsType)


def is_none(t: Attribute) -> bool:
    return isinstance(t, NoneType)


def is_tagged(t: Attribute) -> bool:
    return isinstance(t, TaggedType)


def is_memref(t: Attribute) -> bool:
    return isinstance(t, MemRefType)


def value_type(t: Attribute) -> Attribute:
    """The value part of a tagged type; other types are their own value."""
    return t.value_type if isinstance(t, TaggedType) else t


def tag_width(t: Attribute) -> int | None:
    return t.tag_type.width.data if isinstance(t, TaggedType) else None


def is_routing_payload(t: Attribute) -> bool:
    """``bits<N>`` or ``none`` (spec-fabric-switch.md "Interface Types")."""
    return is_bits(t) or is_none(t)


def is_routing_port(t: Attribute) -> bool:
    """A routing payload, or a tagged type carrying one."""
    return is_routing_payload(t) or (is_tagged(t) and is_routing_payload(value_type(t)))


def native_width(t: Attribute) -> int | None:
    """Bit width for routing-compatibility checks; ``None`` if it has none (``none``)."""
    if isinstance(t, BitsType):
        return t.width.data
    if isinstance(t, IntegerType):
        return t.width.data
    if isinstance(t, Float16Type | BFloat16Type):
        return 16
    if isinstance(t, Float32Type):
        return 32
    if isinstance(t, Float64Type):
        return 64
    if isinstance(t, IndexType):
        return ADDR_BIT_WIDTH
    return None


def scalar_body_width(t: Attribute) -> int | None:
    """Width of a native scalar used inside a PE body (``none`` counts as 0)."""
    if isinstance(t, NoneType):
        return 0
    if isinstance(t, BitsType):
        return None
    return native_width(t)


def routing_compatible(a: Attribute, b: Attribute) -> bool:
    """Two port types a pass-through node may connect: same category and same
    payload (and tag) width (spec-fabric-switch.md "Interface Types")."""
    if a == b:
        return True
    if is_tagged(a) != is_tagged(b):
        return False
    if is_tagged(a):
        wa, wb = native_width(value_type(a)), native_width(value_type(b))
        return wa is not None and wa == wb and tag_width(a) == tag_width(b)
    wa, wb = native_width(a), native_width(b)
    return wa is not None and wa == wb


def first_incompatible(types: Iterable[Attribute]) -> tuple[Attribute, Attribute] | None:
    """The first port type not routing-compatible with the first one, if any."""
    seq = list(types)
    for t in seq[1:]:
        if not routing_compatible(seq[0], t):
            return seq[0], t
    return None


def memref_is_static(t: Attribute) -> bool:
    if not isinstance(t, MemRefType):
        return False
    return all(dim >= 0 for dim in t.get_shape())


def memref_element(t: Attribute) -> Attribute | None:
    return t.element_type if isinstance(t, MemRefType) else None


def fmt(attr: Attribute) -> str:
    """An attribute or type as MLIR text, for messages."""
    from io import StringIO

    from xdsl.printer import Printer

    stream = StringIO()
    Printer(stream=stream).print_attribute(attr)
    return stream.getvalue()
