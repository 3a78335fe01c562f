"""Small readers over xDSL IR used by the graph builders.

The graph builders look at ops by name and read attributes by name, so they do
not depend on how each dialect class spells its accessors: an attribute may live
in ``op.properties`` or ``op.attributes`` and an integer list may be a dense
array, an array of integers or an array of ``"0101"`` strings (the corpus uses
all three for ``connectivity_table``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    FloatAttr,
    IntAttr,
    IntegerAttr,
    IntegerType,
    MemRefType,
    NoneType,
    StringAttr,
    SymbolRefAttr,
    UnitAttr,
)
from xdsl.ir import Attribute, Operation, SSAValue

from loomc.diagnostics import SourceLocation
from loomc.dialects.dataflow_types import TaggedType, payload_width
from loomc.graph.model import PortCategory

#: discardable attribute the flatten pass puts on inlined ops: their
#: hierarchical instance path (``u0/sw``), used as node name in reports
PATH_ATTR = "loomc.path"
#: discardable attribute naming the definition an inlined op came from
DEF_ATTR = "loomc.def"

#: discardable attribute with the source location (``file:line:col``) of the op
#: a flattened copy came from
LOC_ATTR = "loomc.loc"
#: value → source SSA name (without ``%``), or None when unknown
NameFn = Callable[[SSAValue], "str | None"]
#: op → where its text is (``ParsedModule.loc``)
LocFn = Callable[[Operation], SourceLocation]


def stamped(loc_of: LocFn) -> LocFn:
    """``loc_of`` that first honours a ``loomc.loc`` stamp (copies made by
    flattening are not in the parser's source map)."""

    def locate(op: Operation) -> SourceLocation:
        attr = op.attributes.get(LOC_ATTR)
        if isinstance(attr, StringAttr):
            parts = attr.data.rsplit(":", 2)
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                return SourceLocation(parts[0], int(parts[1]), int(parts[2]))
            return SourceLocation(attr.data)
        return loc_of(op)

    return locate


def get_attr(op: Operation, name: str) -> Attribute | None:
    """An attribute by name, from properties first, then attributes."""
    attr = op.properties.get(name)
    if attr is None:
        attr = op.attributes.get(name)
    return attr


def all_attrs(op: Operation) -> dict[str, Attribute]:
    merged = dict(op.attributes)
    merged.update(op.properties)
    return merged


def str_value(attr: Attribute | None) -> str | None:
    if isinstance(attr, StringAttr):
        return attr.data
    if isinstance(attr, SymbolRefAttr):
        return attr.string_value()
    return None


def symbol_of(op: Operation) -> str | None:
    """The op's own symbol name (``sym_name``), if any."""
    return str_value(get_attr(op, "sym_name"))


def symbol_ref(op: Operation) -> str | None:
    """The symbol an op refers to (``fabric.instance``'s target).

    Looks for ``module``/``target``/``callee`` first, then any SymbolRefAttr."""
    for key in ("module", "target", "callee"):
        attr = get_attr(op, key)
        if isinstance(attr, SymbolRefAttr):
            return attr.string_value()
        if isinstance(attr, StringAttr) and key != "sym_name":
            return attr.data
    for attr in all_attrs(op).values():
        if isinstance(attr, SymbolRefAttr):
            return attr.string_value()
    return None


def int_value(attr: Attribute | None) -> int | None:
    if isinstance(attr, IntegerAttr):
        return int(attr.value.data)
    if isinstance(attr, IntAttr):
        return int(attr.data)
    return None


def is_bool(attr: Attribute | None) -> bool:
    """An ``i1`` integer attribute (``true``/``false``)."""
    return isinstance(attr, IntegerAttr) and attr.type == IntegerType(1)


def int_list(attr: Attribute | None) -> list[int] | None:
    """Integers of a dense array, an array of ints, or an array of ``"0110"``
    strings (one digit per entry, rows concatenated)."""
    if attr is None:
        return None
    if isinstance(attr, DenseArrayBase):
        return [int(v) for v in attr.get_values()]
    if isinstance(attr, ArrayAttr):
        out: list[int] = []
        for item in attr.data:
            if isinstance(item, StringAttr):
                out.extend(int(ch) for ch in item.data if ch in "01")
            else:
                value = int_value(item)
                if value is None:
                    return None
                out.append(value)
        return out
    data = getattr(attr, "data", None)
    if isinstance(data, tuple | list) and all(isinstance(v, int) for v in data):
        return list(data)
    return None


def plain_value(attr: Attribute) -> object:
    """A hashable Python value for an attribute (for node ``params``)."""
    if isinstance(attr, UnitAttr):
        return True
    if is_bool(attr):
        return bool(attr.value.data)  # type: ignore[union-attr]
    iv = int_value(attr)
    if iv is not None:
        return iv
    if isinstance(attr, FloatAttr):
        return float(attr.value.data)
    if isinstance(attr, StringAttr):
        return attr.data
    ints = int_list(attr)
    if ints is not None:
        return tuple(ints)
    if isinstance(attr, ArrayAttr):
        return tuple(plain_value(a) for a in attr.data)
    return str(attr)


@functools.lru_cache(maxsize=4096)
def type_info(type_: Attribute) -> tuple[PortCategory, int | None, int | None, str]:
    """(category, payload width, tag width or None, value-type text) of a type.

    Cached: printing a type is the slow part and large fabrics repeat a few types."""
    if isinstance(type_, TaggedType):
        return (
            PortCategory.TAGGED,
            payload_width(type_.value_type),
            type_.tag_width,
            str(type_.value_type),
        )
    if isinstance(type_, MemRefType):
        return PortCategory.MEMREF, None, None, str(type_)
    if isinstance(type_, NoneType):
        return PortCategory.NONE, 0, None, "none"
    return PortCategory.NATIVE, payload_width(type_), None, str(type_)


@functools.lru_cache(maxsize=4096)
def type_text(type_: Attribute) -> str:
    return str(type_)


def is_terminator(op: Operation) -> bool:
    return op.name.endswith(".yield") or op.name.endswith(".return")


def body_ops(op: Operation) -> Iterable[Operation]:
    """Non-terminator ops of the first block of the op's first region."""
    if not op.regions or not op.regions[0].blocks:
        return []
    return [o for o in op.regions[0].blocks[0].ops if not is_terminator(o)]


def terminator(op: Operation) -> Operation | None:
    if not op.regions or not op.regions[0].blocks:
        return None
    last = op.regions[0].blocks[0].last_op
    return last if last is not None and is_terminator(last) else None


def short_kind(op_name: str) -> str:
    """``fabric.switch`` → ``switch``."""
    return op_name.split(".", 1)[-1]


def memref_bytes(memref: str) -> int | None:
    """Byte size of a static ``memref<AxBxT>`` (None when a dimension is dynamic):
    what an on-chip ``fabric.memory`` must hold (C4.3)."""
    m = re.match(r"memref<(.*)>", memref.strip())
    if not m:
        return None
    parts = m.group(1).split(",")[0].split("x")
    count = 1
    for dim in parts[:-1]:
        if not dim.strip().isdigit():
            return None
        count *= int(dim)
    w = re.search(r"(\d+)$", parts[-1].strip())
    width = int(w.group(1)) if w else (64 if parts[-1].strip() == "index" else 32)
    return count * max(1, (width + 7) // 8)
