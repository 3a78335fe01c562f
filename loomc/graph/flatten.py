"""ADG flattening: inline every ``fabric.instance`` into the top ``fabric.module``.

spec-mapper-model.md "ADG Flattening": before graph extraction all instance
references are inlined, leaving ``fabric.module`` with PEs, temporal PEs,
routing ops and memories only.  This pass does that in place:

* an instance of a nested ``fabric.module`` is replaced by a copy of that
  module's body (its block arguments become the instance operands, its yielded
  values replace the instance results);
* an instance of a named ``fabric.pe`` / ``fabric.temporal_pe`` becomes the
  inline form of that op: same hardware parameters and body, the instance's
  operands and results.  Runtime configuration comes from the instance, never
  from the definition (spec-fabric.md "Runtime Configuration Overrides").
  Other targets (named switch, FIFO, memory) are ``CPL_INSTANCE_ILLEGAL_TARGET``;
* inside PE bodies, instances of named PEs and nested inline PEs are spliced
  into the enclosing body, so every PE body is a flat list of operations
  (what tech-mapping matches, spec-mapper-model.md "Operation Groups").

Every inlined op gets a ``loomc.path`` attribute with its hierarchical name
(``u0/sw``: instance ``u0``, op ``sw`` inside the instantiated module) so
reports can name hardware by where it was written; ``loomc.def`` records the
definition an inlined op came from.  Cyclic instance graphs are an error
(``CPL_INSTANCE_CYCLIC_REFERENCE``), as are unknown targets
(``CPL_INSTANCE_UNRESOLVED``).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr, UnitAttr
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass

from loomc.diagnostics import ExitCode, LoomcError
from loomc.graph.irutil import (
    DEF_ATTR,
    LOC_ATTR,
    PATH_ATTR,
    LocFn,
    NameFn,
    get_attr,
    is_terminator,
    short_kind,
    stamped,
    str_value,
    symbol_of,
    symbol_ref,
    terminator,
)

INSTANCE = "fabric.instance"
MODULE = "fabric.module"
PE = "fabric.pe"
#: definitions whose instances become the inline form of the same op.  Named
#: switches, FIFOs and memories are not legal instance targets (spec-fabric.md
#: "fabric.instance" constraints: CPL_INSTANCE_ILLEGAL_TARGET), as Loom enforces.
INLINABLE_DEFS = frozenset({"fabric.pe", "fabric.temporal_pe"})
#: unit attribute marking a top module this pass has flattened
FLATTENED_ATTR = "loomc.flattened"
#: attributes of a named definition that the inline form must not carry
_NAMED_ONLY = frozenset({"sym_name", "function_type", "arg_attrs", "res_attrs"})


def _no_names(_value: SSAValue) -> str | None:
    return None


def symbol_table(module: ModuleOp) -> dict[str, Operation]:
    """Named definitions at the top level of the builtin module (where Loom's
    ``fabric.instance`` resolves its target, the nearest symbol table)."""
    table: dict[str, Operation] = {}
    for op in module.ops:
        name = symbol_of(op)
        if name is not None and name not in table:
            table[name] = op
    return table


def _references(op: Operation) -> list[Operation]:
    """All ``fabric.instance`` ops nested anywhere inside ``op``."""
    return [inner for inner in op.walk() if inner.name == INSTANCE and inner is not op]


def check_instance_graph(
    module: ModuleOp, roots: list[Operation], loc_of: LocFn | None = None
) -> None:
    """Raise LoomcError on an unresolved or cyclic instance reference reachable
    from ``roots`` (spec-fabric.md ``fabric.instance`` constraints)."""
    table = symbol_table(module)
    state: dict[str, int] = {}  # 1 = on the DFS stack, 2 = done

    def fail(msg: str, code: str, op: Operation) -> LoomcError:
        loc = loc_of(op) if loc_of is not None else None
        return LoomcError(msg, loc=loc, code=code, exit_code=ExitCode.RULE_VIOLATION)

    def visit(defn: Operation, stack: list[str]) -> None:
        name = symbol_of(defn) or "<anonymous>"
        state[name] = 1
        for inst in _references(defn):
            target = symbol_ref(inst)
            if target is None or target not in table:
                raise fail(
                    f"fabric.instance refers to unknown symbol @{target}",
                    "CPL_INSTANCE_UNRESOLVED",
                    inst,
                )
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :] + [target]  # on the stack: a cycle
                raise fail(
                    "cyclic fabric.instance reference: " + " -> ".join("@" + s for s in cycle),
                    "CPL_INSTANCE_CYCLIC_REFERENCE",
                    inst,
                )
            if state.get(target) is None:
                visit(table[target], stack + [target])
        state[name] = 2

    for root in roots:
        name = symbol_of(root) or "<anonymous>"
        if state.get(name) is None:
            visit(root, [name])


def find_top_module(module: ModuleOp, top: str | None = None) -> Operation:
    """The ``fabric.module`` to flatten: the one named ``top``, else the last
    module no other module instantiates (the rule of ``loomc.loader.select_adg``:
    definitions precede their users, the top comes last)."""
    modules = [op for op in module.ops if op.name == MODULE]
    done = [op for op in modules if FLATTENED_ATTR in op.attributes]
    if top is None and done:
        return done[0]  # flattened earlier: its former children now look like roots
    if top is not None:
        for op in modules:
            if symbol_of(op) == top:
                return op
        raise LoomcError(f"no fabric.module named @{top}", exit_code=ExitCode.BAD_INPUT)
    if not modules:
        raise LoomcError("no fabric.module found", exit_code=ExitCode.BAD_INPUT)
    referenced = {symbol_ref(inst) for mod in modules for inst in _references(mod)}
    roots = [op for op in modules if symbol_of(op) not in referenced]
    if not roots:
        # every module is instantiated by another one: the instance graph has a cycle
        check_instance_graph(module, modules)
        raise LoomcError(  # pragma: no cover - check_instance_graph raises first
            "no top-level fabric.module",
            code="CPL_INSTANCE_CYCLIC_REFERENCE",
            exit_code=ExitCode.RULE_VIOLATION,
        )
    return roots[-1]


class _Namer:
    """Local names of ops, for building ``loomc.path`` values."""

    def __init__(self, names: NameFn):
        self.names = names

    def value_name(self, value: SSAValue) -> str | None:
        name = self.names(value)
        if name is None:
            name = value.name_hint
        if name is None:
            return None
        return name.split("#", 1)[0]

    def local(self, op: Operation, position: int) -> str:
        """``loomc.path`` if already set, else ``sym_name`` (instance names), else
        the SSA name of the first result, else ``<kind><position>``; an instance's
        kind is its target (``%12 = fabric.instance @pe`` → ``pe_12``)."""
        path = str_value(op.attributes.get(PATH_ATTR))
        if path:
            return path
        sym = str_value(get_attr(op, "sym_name"))
        if sym:
            return sym
        kind = (symbol_ref(op) if op.name == INSTANCE else None) or short_kind(op.name)
        name = self.value_name(op.results[0]) if op.results else None
        if name is None:
            return f"{kind}{position}"
        return f"{kind}_{name}" if name.isdigit() else name


def _set_path(op: Operation, path: str, definition: str | None = None) -> None:
    op.attributes[PATH_ATTR] = StringAttr(path)
    if definition is not None and DEF_ATTR not in op.attributes:
        op.attributes[DEF_ATTR] = StringAttr(definition)


def _splice_body(
    host_block: Block,
    anchor: Operation,
    source: Operation,
    operands: list[SSAValue],
    namer: _Namer | None,
    prefix: str | None,
    origins: dict[Operation, Operation],
) -> list[SSAValue]:
    """Copy ``source``'s body ops before ``anchor`` (block args → ``operands``);
    return the values its terminator yields, mapped into the host block.

    Two steps because bodies are graph regions: an op may use a value defined
    further down, so operands are re-mapped after every op has been copied."""
    block = source.regions[0].blocks[0]
    mapper: dict[SSAValue, SSAValue] = dict(zip(block.args, operands, strict=True))
    copies: list[Operation] = []
    for position, op in enumerate(block.ops):
        if is_terminator(op):
            continue
        new = op.clone(value_mapper=mapper)
        _record_origins(new, op, origins)
        if namer is not None and prefix is not None:
            _set_path(new, f"{prefix}/{namer.local(op, position)}", symbol_of(source))
        host_block.insert_op_before(new, anchor)
        copies.append(new)
    for new in copies:
        remapped = [mapper.get(v, v) for v in new.operands]
        if remapped != list(new.operands):
            new.operands = remapped
    term = terminator(source)
    yielded = list(term.operands) if term is not None else []
    return [mapper.get(v, v) for v in yielded]


def _record_origins(new: Operation, old: Operation, origins: dict[Operation, Operation]) -> None:
    """Map every op of a copy to the op it was copied from (same structure)."""
    for copy, source in zip(new.walk(), old.walk(), strict=False):
        origins[copy] = source


def _replace_results(old: Operation, new_values: list[SSAValue], loc_of: LocFn | None) -> None:
    if len(new_values) != len(old.results):
        raise LoomcError(
            f"fabric.instance has {len(old.results)} results but its target yields "
            f"{len(new_values)} values",
            loc=loc_of(old) if loc_of else None,
            code="CPL_INSTANCE_RESULT_MISMATCH",
            exit_code=ExitCode.RULE_VIOLATION,
        )
    for res, val in zip(old.results, new_values, strict=True):
        res.replace_all_uses_with(val)
    old.detach()
    old.erase()


def _inline_form(
    instance: Operation, definition: Operation, origins: dict[Operation, Operation]
) -> Operation:
    """The inline op equivalent to ``instance`` of a named op ``definition``."""
    attributes = {k: v for k, v in definition.attributes.items() if k not in _NAMED_ONLY}
    config = getattr(type(definition), "CONFIG_PARAMS", ())
    for key in config:  # spec-fabric.md: configuration is never copied from a definition
        attributes.pop(key, None)
    for key, value in instance.attributes.items():
        if key in config:
            attributes[key] = value
    properties = {k: v for k, v in definition.properties.items() if k not in _NAMED_ONLY}
    new = type(definition).create(
        operands=list(instance.operands),
        result_types=[r.type for r in instance.results],
        properties=properties,
        attributes=attributes,
        regions=[region.clone() for region in definition.regions],
    )
    _record_origins(new, definition, origins)
    origins[new] = instance  # the hardware is where it is instantiated
    return new


def _flatten_module_level(
    module: ModuleOp,
    top: Operation,
    namer: _Namer,
    loc_of: LocFn | None,
    origins: dict[Operation, Operation],
) -> None:
    table = symbol_table(module)
    block = top.regions[0].blocks[0]
    while True:
        # a snapshot: inlining only erases the instance at hand; instances that
        # come out of an inlined module body are handled in the next round
        work = [(pos, op) for pos, op in enumerate(block.ops) if op.name == INSTANCE]
        if not work:
            return
        for position, op in work:
            target_name = symbol_ref(op)
            definition = table.get(target_name or "")
            if definition is None:  # pragma: no cover - check_instance_graph ran first
                raise LoomcError(f"unknown symbol @{target_name}", code="CPL_INSTANCE_UNRESOLVED")
            if definition.name != MODULE and definition.name not in INLINABLE_DEFS:
                raise LoomcError(
                    f"fabric.instance cannot target {definition.name} @{target_name}; "
                    "only fabric.module, fabric.pe and fabric.temporal_pe can be instantiated",
                    loc=loc_of(op) if loc_of else None,
                    code="CPL_INSTANCE_ILLEGAL_TARGET",
                    exit_code=ExitCode.RULE_VIOLATION,
                )
            _check_arity(op, definition, loc_of)
            inst_name = namer.local(op, position)
            if definition.name == MODULE:
                values = _splice_body(
                    block, op, definition, list(op.operands), namer, inst_name, origins
                )
                _replace_results(op, values, loc_of)
            else:
                new = _inline_form(op, definition, origins)
                _set_path(new, inst_name, target_name)
                block.insert_op_before(new, op)
                _replace_results(op, list(new.results), loc_of)


def _check_arity(instance: Operation, definition: Operation, loc_of: LocFn | None) -> None:
    """Operand count must match the target's inputs (CPL_INSTANCE_OPERAND_MISMATCH)."""
    if definition.regions and definition.regions[0].blocks and definition.name in (MODULE, PE):
        expected = len(definition.regions[0].blocks[0].args)
    else:
        fn = get_attr(definition, "function_type")
        expected = len(fn.inputs.data) if fn is not None else len(instance.operands)
    if expected != len(instance.operands):
        raise LoomcError(
            f"fabric.instance passes {len(instance.operands)} operands but "
            f"@{symbol_ref(instance)} takes {expected}",
            loc=loc_of(instance) if loc_of else None,
            code="CPL_INSTANCE_OPERAND_MISMATCH",
            exit_code=ExitCode.RULE_VIOLATION,
        )


def _flatten_pe_bodies(
    module: ModuleOp, top: Operation, loc_of: LocFn | None, origins: dict[Operation, Operation]
) -> None:
    """Splice named-PE instances and nested inline PEs into each PE body."""
    table = symbol_table(module)
    # innermost PEs first, so a PE spliced into its parent is already flat
    pes = [op for op in top.walk() if op.name == PE]
    for pe in reversed(pes):
        if not pe.regions or not pe.regions[0].blocks:
            continue
        block = pe.regions[0].blocks[0]
        changed = True
        while changed:
            changed = False
            for inner in list(block.ops):
                if inner.name == INSTANCE:
                    definition = table.get(symbol_ref(inner) or "")
                    if definition is None or definition.name != PE:
                        raise LoomcError(
                            "fabric.instance inside fabric.pe must target a named fabric.pe",
                            loc=loc_of(inner) if loc_of else None,
                            code="CPL_PE_INSTANCE_ILLEGAL_TARGET",
                            exit_code=ExitCode.RULE_VIOLATION,
                        )
                elif inner.name == PE and inner is not pe:
                    definition = inner
                else:
                    continue
                _check_arity(inner, definition, loc_of)
                values = _splice_body(
                    block, inner, definition, list(inner.operands), None, None, origins
                )
                _replace_results(inner, values, loc_of)
                changed = True
                break


def flatten_fabric(
    module: ModuleOp,
    top: str | None = None,
    names: NameFn | None = None,
    loc_of: LocFn | None = None,
) -> Operation:
    """Flatten the top ``fabric.module`` of ``module`` in place and return it.

    ``names`` gives source SSA names (``ParsedModule.value_name``) for readable
    hierarchical paths; ``loc_of`` (``ParsedModule.loc``) locates errors and, as
    copies have no text of their own, every copied op is stamped with the
    location of the op it came from (``loomc.loc``; an inlined PE gets its
    ``fabric.instance``'s), which :func:`~loomc.graph.irutil.stamped` reads."""
    if loc_of is not None:
        loc_of = stamped(loc_of)
    top_op = find_top_module(module, top)
    check_instance_graph(module, [top_op], loc_of=loc_of)
    namer = _Namer(names or _no_names)
    origins: dict[Operation, Operation] = {}
    _flatten_module_level(module, top_op, namer, loc_of, origins)
    _flatten_pe_bodies(module, top_op, loc_of, origins)
    if loc_of is not None:
        for copy in origins:
            text = str(loc_of(_origin_of(copy, origins)))
            copy.attributes[LOC_ATTR] = StringAttr(text)
    top_op.attributes[FLATTENED_ATTR] = UnitAttr()
    return top_op


def _origin_of(op: Operation, origins: dict[Operation, Operation]) -> Operation:
    """The op in the parsed text that ``op`` was (transitively) copied from."""
    seen = 0
    while op in origins and seen < 1000:
        op = origins[op]
        seen += 1
    return op


@dataclass(frozen=True)
class FlattenFabricPass(ModulePass):
    """``flatten-fabric``: inline all ``fabric.instance`` ops of the top module."""

    name = "flatten-fabric"

    top: str | None = None

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        flatten_fabric(op, self.top)


__all__ = [
    "FlattenFabricPass",
    "check_instance_graph",
    "find_top_module",
    "flatten_fabric",
    "symbol_table",
]
