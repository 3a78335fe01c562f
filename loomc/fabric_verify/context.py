"""What every rule needs besides the op itself: symbols, locations, the result type.

A rule is a function ``check(op, ctx) -> Violation | None`` that returns the
*first* rule the op breaks, in Loom's order for that op.  Loom's verifier stops
an op at its first error, and several red tests rely on which error comes first
(e.g. a module-boundary native port is reported before the memory data-port
rule, spec-fabric.md "Constraints"), so the rule functions keep that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xdsl.ir import Operation

from loomc.diagnostics import SourceLocation
from loomc.fabric_verify.ir_access import sym_name, walk_preorder

#: ``{op: SourceLocation}`` or any object with ``loc_of(op) -> SourceLocation``
SourceMapLike = Mapping[Operation, SourceLocation] | Any


@dataclass(frozen=True)
class Violation:
    """One broken rule: Loom's error code, a message, and where the op is."""

    code: str
    message: str
    loc: SourceLocation | None = None
    op_name: str = ""

    def one_line(self) -> str:
        """``file:line:col: error: [CODE] message`` (loomc's diagnostic format)."""
        where = f"{self.loc}: " if self.loc else ""
        return f"{where}error: [{self.code}] {self.message}"


@dataclass
class VerifyContext:
    """Symbol table and source locations for one fabric file."""

    root: Operation
    source_map: SourceMapLike | None = None
    symbols: dict[str, Operation] = field(default_factory=dict)
    #: per-run memo tables of the rules that need whole-file facts
    #: (instance graph, combinational summaries of modules)
    cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, root: Operation, source_map: SourceMapLike | None = None) -> VerifyContext:
        """Index every op carrying a ``sym_name``; the first one wins, as in Loom's
        whole-file lookup (spec-fabric.md "Operation: fabric.instance")."""
        symbols: dict[str, Operation] = {}
        for op in walk_preorder(root):
            name = sym_name(op)
            if name is not None and name not in symbols:
                symbols[name] = op
        return cls(root=root, source_map=source_map, symbols=symbols)

    def lookup(self, name: str | None) -> Operation | None:
        return None if name is None else self.symbols.get(name)

    def loc(self, op: Operation) -> SourceLocation | None:
        """Where ``op`` is written; accepts a plain mapping or a source map with
        ``loc_of(op)`` (``loomc.mlir_io.SourceMap``)."""
        if self.source_map is None:
            return None
        loc_of = getattr(self.source_map, "loc_of", None)
        if callable(loc_of):
            return loc_of(op)
        return self.source_map.get(op)

    def violation(self, op: Operation, code: str, message: str) -> Violation:
        return Violation(code=code, message=message, loc=self.loc(op), op_name=op.name)
