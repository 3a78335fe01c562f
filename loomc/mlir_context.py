"""The xDSL context loomc parses with: stock dialects, loomc's dialects, and extras.

Registered dialects mirror what Loom's driver loads before parsing (see
``_STOCK_DIALECTS``); loomc's own dialects are imported lazily so one that does
not exist yet only disables itself.  Unknown ops are rejected; only named
metadata attributes (LLVM debug info, module flags) may stay opaque.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, UnregisteredAttr
from xdsl.ir import Attribute, Dialect, Operation

#: Stock xDSL dialects, the same set Loom's driver registers before parsing a DFG
#: (tools/loom/loom.cpp: LLVM, DLTI, arith, cf, func, math, memref, scf, ub, hw, seq).
_STOCK_DIALECTS: tuple[tuple[str, str, str], ...] = (
    ("arith", "xdsl.dialects.arith", "Arith"),
    ("cf", "xdsl.dialects.cf", "Cf"),
    ("dlti", "xdsl.dialects.dlti", "DLTI"),
    ("func", "xdsl.dialects.func", "Func"),
    ("hw", "xdsl.dialects.hw", "HW"),
    ("llvm", "xdsl.dialects.llvm", "LLVM"),
    ("math", "xdsl.dialects.math", "Math"),
    ("memref", "xdsl.dialects.memref", "MemRef"),
    ("scf", "xdsl.dialects.scf", "Scf"),
    ("seq", "xdsl.dialects.seq", "Seq"),
    ("ub", "xdsl.dialects.ub", "UB"),
)

#: loomc's own dialects: (dialect name, module, exported Dialect).  They are
#: imported lazily so that a missing module only disables its dialect.
_PROJECT_DIALECTS: tuple[tuple[str, str, str], ...] = (
    ("dataflow", "loomc.dialects.dataflow", "Dataflow"),
    ("handshake", "loomc.dialects.handshake", "Handshake"),
    ("fabric", "loomc.dialects.fabric", "Fabric"),
    ("esi", "loomc.dialects.circt", "ESI"),
)


@dataclass
class LoomContext(Context):
    """An xDSL context that rejects unknown ops but carries named metadata opaquely.

    ``Context(allow_unregistered=True)`` would also accept misspelled ops, which
    loomc must report.  Here only attributes whose name starts with one of
    ``opaque_attr_prefixes`` (LLVM debug info, module flags) are accepted without
    a definition; they keep their text as an ``UnregisteredAttr``.
    """

    opaque_attr_prefixes: tuple[str, ...] = ()
    _opaque_attrs: dict[str, type[Attribute]] = field(default_factory=dict)

    def get_optional_attr(self, name: str) -> type[Attribute] | None:
        found = super().get_optional_attr(name)
        if found is not None or not name.startswith(self.opaque_attr_prefixes):
            return found
        if name not in self._opaque_attrs:
            self._opaque_attrs[name] = UnregisteredAttr.with_name_and_type(name, False)
        return self._opaque_attrs[name]


def _import_dialect(module: str, export: str) -> Dialect | None:
    """The ``Dialect`` object ``module.export``, or None while that module does not exist."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
        return None
    return getattr(mod, export, None)


def _merged(name: str, base: Dialect | None, extra: Sequence[type[Operation]]) -> Dialect:
    """``base`` with the ``extra`` ops added; an extra op replaces a same-named one."""
    ops: dict[str, type[Operation]] = {}
    attrs: list[type[Attribute]] = []
    if base is not None:
        ops.update((op.name, op) for op in base.operations)
        attrs.extend(base.attributes)
    for op in extra:
        ops[op.name] = op
    return Dialect(name, list(ops.values()), attrs)


def _dialect_factories() -> dict[str, Callable[[], Dialect]]:
    """Lazy factories for every dialect loomc reads, with the extras merged in.

    An extra op replaces the stock op of the same name (xDSL's generic-only
    ``memref.global`` etc.); loomc's own dialects are taken as they are.
    """
    from loomc.dialects import extras

    factories: dict[str, Callable[[], Dialect]] = {}
    for name, module, export in _STOCK_DIALECTS:

        def stock(name: str = name, module: str = module, export: str = export) -> Dialect:
            return _merged(name, _import_dialect(module, export), extras.EXTRA_OPS.get(name, ()))

        factories[name] = stock
    for name, module, export in _PROJECT_DIALECTS:

        def own(name: str = name, module: str = module, export: str = export) -> Dialect:
            found = _import_dialect(module, export)
            return found if found is not None else Dialect(name, [], [])

        factories[name] = own
    return factories


def make_context() -> Context:
    """A fresh context with builtin, the stock dialects, loomc's dialects and extras.

    Dialects load lazily (on first use of one of their ops or types), so a
    context is cheap to make.  Unknown ops are rejected.
    """
    from loomc.dialects import extras

    ctx = LoomContext(opaque_attr_prefixes=extras.OPAQUE_ATTRIBUTE_PREFIXES)
    ctx.load_dialect(Builtin)
    for name, factory in _dialect_factories().items():
        ctx.register_dialect(name, factory)
    return ctx
