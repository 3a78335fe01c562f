"""The software graph (DFG) of a ``handshake.func`` (spec-mapper-model.md "Software Graph").

:func:`build_dfg` follows the spec's extraction rules:

1. every op of the (single) body block except ``handshake.return`` is a node,
   with one input port per operand and one output port per result (types and
   widths on the ports);
2. every use of an SSA value is an edge from the producer's output port to the
   user's input port — a value with several users keeps one output port with
   several edges (spec "SSA fan-out");
3. each function argument is a ``ModuleInputNode`` sentinel ``@in<i>`` with one
   output port, each ``handshake.return`` operand a ``ModuleOutputNode``
   sentinel ``@out<j>`` with one input port.

A body with more than one block is ``CPL_MAPPER_MULTI_BLOCK``.  Memory ops
(``handshake.memory``/``extmemory``) get port roles per spec "Bridge memory port
binding": outputs ``ld_data``×ld, ``ld_done``×ld, ``st_done``×st; inputs by what
produces them (a store's data/address result, a load's address result), else
``st_data, st_addr`` pairs then ``ld_addr``; the extmemory memref operand is
``memref``.

Node ids: the source SSA name of the first result (numeric names become
``<kind>_<n>``, e.g. ``addi_9``), else ``<kind><position>`` (``sink13``).
Each node carries ``loc`` (``file:line`` of its text in the ``.mlir`` file, from
the source map) and ``params`` (its attributes, plus ``src_loc``: ``file:line``
of the program source when the op's debug location has one).
"""

from __future__ import annotations

import networkx as nx
from xdsl.dialects.builtin import (
    ArrayAttr,
    CallSiteLoc,
    FileLineColLoc,
    FusedLoc,
    NameLoc,
    StringAttr,
)
from xdsl.ir import Attribute, Operation, SSAValue

from loomc.diagnostics import ExitCode, LoomcError
from loomc.graph import model
from loomc.graph.common import IdAllocator, loc_text, make_port
from loomc.graph.irutil import (
    LocFn,
    NameFn,
    all_attrs,
    get_attr,
    int_value,
    is_terminator,
    plain_value,
    short_kind,
    str_value,
)
from loomc.graph.model import Direction, NodeKind, NodeRecord

MEMORY_OPS = frozenset({"handshake.memory", "handshake.extmemory"})
#: attributes that are bulky or not about the op's meaning
_SKIP_PARAMS = frozenset({"loom.annotations", "memRefType"})


def _no_names(_value: SSAValue) -> str | None:
    return None


def debug_loc(location: Attribute | None, depth: int = 0) -> str | None:
    """``file:line`` of the first file location inside an op's debug location
    (apps carry ``loc(fused<#di_…>[loc("f.cpp":32:0)])``), as Loom's DFG builder
    records it."""
    if location is None or depth > 32:
        return None
    if isinstance(location, FileLineColLoc):
        return f"{location.filename.data.rsplit('/', 1)[-1]}:{location.line.data}"
    if isinstance(location, FusedLoc):
        for inner in location.locations:
            found = debug_loc(inner, depth + 1)
            if found:
                return found
        return None
    if isinstance(location, NameLoc):
        return debug_loc(location.location, depth + 1)
    if isinstance(location, CallSiteLoc):
        return debug_loc(location.callee, depth + 1)
    return None


def _counts(op: Operation) -> tuple[int, int]:
    ld = int_value(get_attr(op, "ldCount"))
    st = int_value(get_attr(op, "stCount"))
    if ld is None:
        ld = int_value(get_attr(op, "ld")) or 0
    if st is None:
        st = int_value(get_attr(op, "st")) or 0
    return ld, st


def memory_port_roles(op: Operation) -> tuple[list[str | None], list[str | None]]:
    """Roles of a handshake memory op's ports (see module docstring)."""
    ld, st = _counts(op)
    operands = list(op.operands)
    ins: list[str | None] = []
    start = 0
    if op.name == "handshake.extmemory" and operands:
        ins.append("memref")
        start = 1
    lane_inputs = operands[start:]
    positional = (["st_data", "st_addr"] * st + ["ld_addr"] * ld)[: len(lane_inputs)]
    positional += [None] * (len(lane_inputs) - len(positional))
    for pos, value in enumerate(lane_inputs):
        role = positional[pos]
        owner = value.owner if isinstance(value.owner, Operation) else None
        index = getattr(value, "index", None)
        if owner is not None and owner.name == "handshake.store":
            role = "st_data" if index == 0 else "st_addr"
        elif owner is not None and owner.name == "handshake.load" and index and index >= 1:
            role = "ld_addr"
        ins.append(role)
    outs: list[str | None] = []
    for r in range(len(op.results)):
        outs.append("ld_data" if r < ld else "ld_done" if r < 2 * ld else "st_done")
    return ins, outs


def _params(op: Operation) -> tuple[tuple[str, object], ...]:
    params: dict[str, object] = {}
    for key, attr in all_attrs(op).items():
        if key in _SKIP_PARAMS or key.startswith("loomc."):
            continue
        params[key] = plain_value(attr)
    if op.name in MEMORY_OPS:
        ld, st = _counts(op)
        params["ldCount"], params["stCount"] = ld, st
        memref = get_attr(op, "memRefType")
        if memref is not None:
            params["memref_type"] = str(memref)
    src = debug_loc(op.location)
    if src:
        params["src_loc"] = src
    return tuple(sorted(params.items()))


def _string_list(attr: Attribute | None, count: int) -> list[str] | None:
    if isinstance(attr, ArrayAttr) and len(attr.data) == count:
        if all(isinstance(a, StringAttr) for a in attr.data):
            return [a.data for a in attr.data]  # type: ignore[union-attr]
    return None


def build_dfg(
    func: Operation,
    names: NameFn | None = None,
    loc_of: LocFn | None = None,
) -> nx.MultiDiGraph:
    """The DFG of a ``handshake.func`` op (see module docstring).

    ``names`` gives source SSA names (``ParsedModule.value_name``), ``loc_of``
    source locations (``ParsedModule.loc``); both optional."""
    names = names or _no_names
    if func.name != "handshake.func":
        raise LoomcError(f"expected a handshake.func, got '{func.name}'")
    blocks = list(func.regions[0].blocks) if func.regions else []
    func_name = str_value(get_attr(func, "sym_name")) or ""
    if len(blocks) != 1:
        raise LoomcError(
            f"handshake.func @{func_name} has {len(blocks)} blocks; the mapper needs exactly one",
            loc=loc_of(func) if loc_of else None,
            code="CPL_MAPPER_MULTI_BLOCK",
            exit_code=ExitCode.NO_MAPPING,
        )
    block = blocks[0]
    graph = model.new_graph("dfg", func_name)
    ids = IdAllocator()
    producer: dict[SSAValue, str] = {}

    def loc(op: Operation) -> str | None:
        return loc_text(loc_of(op)) if loc_of else None

    arg_names = _string_list(func.attributes.get("argNames"), len(block.args))
    for i, arg in enumerate(block.args):
        node = ids.take(f"@in{i}")
        port = make_port(node, Direction.OUT, 0, arg.type)
        name = arg_names[i] if arg_names else (names(arg) or f"in{i}")
        rec = NodeRecord(
            id=node,
            kind=NodeKind.MODULE_INPUT,
            op_name="module_input",
            name=name,
            input_ports=(),
            output_ports=(port.id,),
            index=i,
            loc=loc(func),
        )
        model.add_node(graph, rec, [port])
        producer[arg] = port.id

    ops: list[tuple[Operation, NodeRecord]] = []
    term: Operation | None = None
    for position, op in enumerate(block.ops):
        if is_terminator(op):
            term = op
            continue
        base = f"{short_kind(op.name)}{position}"
        if op.results:
            hint = names(op.results[0]) or op.results[0].name_hint
            if hint:
                hint = hint.split("#", 1)[0]
                base = f"{short_kind(op.name)}_{hint}" if hint.isdigit() else hint
        node = ids.take(base)
        in_roles: list[str | None] = [None] * len(op.operands)
        out_roles: list[str | None] = [None] * len(op.results)
        if op.name in MEMORY_OPS:
            in_roles, out_roles = memory_port_roles(op)
        in_ports = [
            make_port(node, Direction.IN, i, v.type, in_roles[i]) for i, v in enumerate(op.operands)
        ]
        out_ports = [
            make_port(node, Direction.OUT, i, v.type, out_roles[i])
            for i, v in enumerate(op.results)
        ]
        rec = NodeRecord(
            id=node,
            kind=NodeKind.OPERATION,
            op_name=op.name,
            name=node,
            input_ports=tuple(p.id for p in in_ports),
            output_ports=tuple(p.id for p in out_ports),
            index=position,
            loc=loc(op),
            params=_params(op),
        )
        model.add_node(graph, rec, in_ports + out_ports)
        for value, port in zip(op.results, out_ports, strict=True):
            producer[value] = port.id
        ops.append((op, rec))

    def connect(value: SSAValue, dst: str, user: Operation) -> None:
        src = producer.get(value)
        if src is None:
            raise LoomcError(
                f"'{user.name}' uses a value defined outside handshake.func @{func_name}",
                loc=loc_of(user) if loc_of else None,
            )
        model.add_edge(graph, src, dst)

    for op, rec in ops:
        for i, value in enumerate(op.operands):
            connect(value, rec.input_ports[i], op)
    if term is not None:
        res_names = _string_list(func.attributes.get("resNames"), len(term.operands))
        for j, value in enumerate(term.operands):
            node = ids.take(f"@out{j}")
            port = make_port(node, Direction.IN, 0, value.type)
            rec = NodeRecord(
                id=node,
                kind=NodeKind.MODULE_OUTPUT,
                op_name="module_output",
                name=res_names[j] if res_names else f"out{j}",
                input_ports=(port.id,),
                output_ports=(),
                index=j,
                loc=loc(term),
            )
            model.add_node(graph, rec, [port])
            connect(value, port.id, term)
    return graph


def accel_funcs(module: Operation) -> list[Operation]:
    """The ``handshake.func`` ops to map: those annotated ``loom.accel``, or
    every ``handshake.func`` when none is annotated (mapper test files)."""
    funcs = [op for op in module.walk() if op.name == "handshake.func"]
    marked = [f for f in funcs if _has_annotation(f, "loom.accel")]
    return marked or funcs


def _has_annotation(func: Operation, text: str) -> bool:
    attr = func.attributes.get("loom.annotations")
    return isinstance(attr, ArrayAttr) and any(
        isinstance(a, StringAttr) and a.data == text for a in attr.data
    )
