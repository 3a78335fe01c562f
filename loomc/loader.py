"""Pick the IR loomc works on out of a parsed file: the DFG functions and the ADG top.

A DFG file is either a mapper test (a module holding one ``handshake.func``) or a
full application module from Loom's front end (host ``func.func @main``, ESI
glue, and the accelerated ``handshake.func``).  An ADG file holds one or more
``fabric.module`` ops, one of which is the top.  This module only *selects*; the
rules are below and the ops keep their source locations through the
:class:`~loomc.mlir_io.ParsedModule` they came from.

DFG selection rule (:func:`load_dfgs`):

1. Candidates are all ``handshake.func`` ops, in file order.
2. If any candidate is annotated as an accelerator — ``loom.annotations``
   contains ``"loom.accel"`` or ``"loom.accel=<name>"`` (include/loom/loom.h,
   ``LOOM_ACCEL``) — only annotated ones are kept.  If none is annotated
   (a hand-written DFG), all are kept: Loom's ``--dfgs`` path maps whatever
   ``handshake.func`` it finds (spec-cli.md "--dfgs").
3. Loom's front end also emits ``<name>_esi``, a copy of accelerator ``<name>``
   with ``i1`` start/done tokens for the ESI host interface
   (lib/loom/Conversion/SCFToHandshake.cpp).  Mapping both would place the same
   kernel twice, so when ``<name>`` is present its ``_esi`` wrapper is dropped
   (``include_esi_wrappers=True`` keeps it).  Every corpus app therefore yields its
   kernel(s) once, e.g. ``dotprod`` yields three distinct kernels.
4. No function left is a BAD_INPUT error at the file.

ADG top rule (:func:`load_adg`): the top ``fabric.module`` is the one no
``fabric.instance`` in the file refers to (spec-fabric.md "fabric.instance":
modules are instantiated by symbol).  Several such roots: the last one in the
file wins, because definitions precede their users in Loom's output (children
are emitted first, the top last).  No ``fabric.module`` is a BAD_INPUT error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xdsl.dialects.builtin import ArrayAttr, StringAttr, SymbolRefAttr
from xdsl.ir import Attribute, Operation

from loomc.diagnostics import LoomcError, SourceLocation
from loomc.mlir_io import ParsedModule, parse_mlir_file

ACCEL_ANNOTATION = "loom.accel"
ESI_SUFFIX = "_esi"


@dataclass(frozen=True, eq=False)
class LoadedOp:
    """A selected top-level op with its name, location and the file it came from."""

    op: Operation
    name: str
    loc: SourceLocation
    parsed: ParsedModule


def _inherent_or_discardable(op: Operation, key: str) -> Attribute | None:
    """An attribute of ``op`` whether its dialect stores it as a property or not."""
    if key in op.properties:
        return op.properties[key]
    return op.attributes.get(key)


def symbol_name(op: Operation) -> str:
    """The op's ``sym_name`` (empty if it has none)."""
    attr = _inherent_or_discardable(op, "sym_name")
    return attr.data if isinstance(attr, StringAttr) else ""


def annotations(op: Operation) -> tuple[str, ...]:
    """The strings of the op's ``loom.annotations`` array (empty if absent)."""
    attr = _inherent_or_discardable(op, "loom.annotations")
    if not isinstance(attr, ArrayAttr):
        return ()
    return tuple(a.data for a in attr.data if isinstance(a, StringAttr))


def is_accel(op: Operation) -> bool:
    """True when ``op`` carries ``loom.accel`` or ``loom.accel=<name>``."""
    return any(
        a == ACCEL_ANNOTATION or a.startswith(ACCEL_ANNOTATION + "=") for a in annotations(op)
    )


def _ops_named(parsed: ParsedModule, op_name: str) -> list[Operation]:
    return [op for op in parsed.module.walk() if op.name == op_name]


def select_dfgs(parsed: ParsedModule, *, include_esi_wrappers: bool = False) -> list[LoadedOp]:
    """The DFG functions of an already parsed file (rule in the module docstring)."""
    funcs = _ops_named(parsed, "handshake.func")
    accel = [f for f in funcs if is_accel(f)]
    chosen = accel or funcs
    if not include_esi_wrappers:
        names = {symbol_name(f) for f in chosen}
        chosen = [
            f
            for f in chosen
            if not (
                symbol_name(f).endswith(ESI_SUFFIX)
                and symbol_name(f)[: -len(ESI_SUFFIX)] in names
            )
        ]
    if not chosen:
        raise LoomcError("no handshake.func found", loc=parsed.loc(parsed.module))
    return [LoadedOp(f, symbol_name(f), parsed.loc(f), parsed) for f in chosen]


def load_dfgs(path: str | Path, *, include_esi_wrappers: bool = False) -> list[LoadedOp]:
    """Parse ``path`` and return its DFG ``handshake.func`` ops, in file order."""
    return select_dfgs(parse_mlir_file(path), include_esi_wrappers=include_esi_wrappers)


def _instantiated_symbols(parsed: ParsedModule) -> set[str]:
    """Every symbol a ``fabric.instance`` refers to, whatever its attribute's name."""
    refs: set[str] = set()
    for op in parsed.module.walk():
        if op.name != "fabric.instance":
            continue
        for attr in (*op.properties.values(), *op.attributes.values()):
            if isinstance(attr, SymbolRefAttr):
                refs.add(attr.root_reference.data)
    return refs


def select_adg(parsed: ParsedModule) -> LoadedOp:
    """The top ``fabric.module`` of an already parsed file (rule in the module docstring)."""
    modules = _ops_named(parsed, "fabric.module")
    if not modules:
        raise LoomcError("no fabric.module found", loc=parsed.loc(parsed.module))
    used = _instantiated_symbols(parsed)
    roots = [m for m in modules if symbol_name(m) not in used] or modules
    top = roots[-1]
    return LoadedOp(top, symbol_name(top), parsed.loc(top), parsed)


def load_adg(path: str | Path) -> LoadedOp:
    """Parse ``path`` and return its top ``fabric.module``."""
    return select_adg(parse_mlir_file(path))
