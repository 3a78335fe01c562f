"""Pieces both graph builders share: unique ids, port records, location text."""

from __future__ import annotations

from xdsl.ir import Attribute

from loomc.diagnostics import SourceLocation
from loomc.graph.irutil import type_info, type_text
from loomc.graph.model import Direction, PortRecord


class IdAllocator:
    """Unique, name-based node ids; a repeated base gets ``~2``, ``~3``…"""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}~{n}"
        self.used.add(candidate)
        return candidate


def make_port(
    node: str, direction: Direction, index: int, type_: Attribute, role: str | None = None
) -> PortRecord:
    """The record of port ``index`` of ``node``: id ``<node>:in<i>``/``<node>:out<i>``,
    type text, category, payload and tag widths."""
    category, width, tag_width, value_type = type_info(type_)
    tag = "in" if direction is Direction.IN else "out"
    return PortRecord(
        id=f"{node}:{tag}{index}",
        node=node,
        direction=direction,
        index=index,
        type=type_text(type_),
        category=category,
        width=width,
        tag_width=tag_width,
        value_type=value_type,
        role=role,
    )


def loc_text(loc: SourceLocation | None) -> str | None:
    if loc is None:
        return None
    return f"{loc.file}:{loc.line}" if loc.line else loc.file
