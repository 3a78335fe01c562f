"""Text emitters for a :class:`~loomc.adg.builder.FabricBuilder`: Fabric MLIR and DOT.

The MLIR uses the forms Loom's own tools print (spec-fabric*.md syntax, as in
Loom's templates): named ``fabric.pe``/``fabric.temporal_pe`` definitions first,
then one ``fabric.module`` whose body lists switches, FIFOs, tag ops, memories
and instances, ending in ``fabric.yield``.  Runtime configuration is left at its
defaults (spec-adg.md "Hardware vs Runtime Configuration Separation"), except
the attributes a rule requires to be present (``bypassed = false`` on a
bypassable FIFO, ``output_tag`` on a tagged PE, ``tag`` on ``add_tag``, the
``table`` of ``map_tag``).  Full crossbar connectivity tables are omitted (the
spec's default).  Output is a pure function of the builder state.

DOT follows spec-viz-adg.md in spirit: one node per op, shaped by kind, edges
from producer to consumer, laid out by ``pos`` hints when the builder has them.
"""

from __future__ import annotations

from loomc.adg.builder import FabricBuilder, switch_table
from loomc.adg.model import InPort, Node, OutPort, PEDef, TemporalPEDef
from loomc.adg.types import Memref, PortType, Tagged

_INDENT = "  "


def _category(t: PortType) -> int:
    """spec-fabric.md "Port Ordering": memref*, bits*, tagged*."""
    if isinstance(t, Memref):
        return 0
    if isinstance(t, Tagged):
        return 2
    return 1


def _types(ts: list[PortType] | tuple[PortType, ...]) -> str:
    return ", ".join(t.mlir() for t in ts)


class _Names:
    """SSA spelling of node results: ``%n`` or ``%n#i`` for multi-result nodes."""

    def __init__(self, nodes: list[Node]):
        self.multi = {n: len(n.out_types) > 1 for n in nodes}

    def ref(self, port: OutPort) -> str:
        node = port.node
        if node.kind == "input":
            return f"%{node.name}"
        if self.multi[node]:
            return f"%{node.name}#{port.index}"
        return f"%{node.name}"

    def lhs(self, node: Node) -> str:
        n = len(node.out_types)
        if n == 0:
            return ""
        if n == 1:
            return f"%{node.name} = "
        return f"%{node.name}:{n} = "


def _pe_header(pe: PEDef, named: bool = True) -> str:
    ports = ", ".join(f"%p{i}: {t.mlir()}" for i, t in enumerate(pe.inputs))
    hw = []
    if pe.latency is not None:
        hw.append(f"latency = {pe.latency.mlir()}")
    if pe.interval is not None:
        hw.append(f"interval = {pe.interval.mlir()}")
    if pe.queue_depth is not None:
        load = any(o.name == "handshake.load" for o in pe.ops)
        hw.append(f"{'lqDepth' if load else 'sqDepth'} = {pe.queue_depth}")
    hw_text = f" [{', '.join(hw)}]" if hw else ""
    cfg = ""
    if pe.output_tag is not None:
        tag_t = next(t for t in pe.outputs if isinstance(t, Tagged))
        cfg = " {output_tag = [" + ", ".join(
            f"{v} : i{tag_t.tag_width}" for v in pe.output_tag
        ) + "]}"
    outs = f"({_types(pe.outputs)})"
    return f"fabric.pe @{pe.name}({ports}){hw_text}{cfg} -> {outs} {{"


def _pe_lines(pe: PEDef, indent: str) -> list[str]:
    lines = [indent + _pe_header(pe)]
    for ln in pe.body:
        lines.append(indent + ("" if ln.startswith("^") else _INDENT) + ln)
    lines.append(indent + "}")
    return lines


def _tpe_lines(tpe: TemporalPEDef, indent: str) -> list[str]:
    ports = ", ".join(f"%p{i}: {t.mlir()}" for i, t in enumerate(tpe.inputs))
    hw = [
        f"num_register = {tpe.num_register}",
        f"num_instruction = {tpe.num_instruction}",
        f"reg_fifo_depth = {tpe.reg_fifo_depth}",
    ]
    if tpe.operand_buffer_size is not None:
        hw += [
            "enable_share_operand_buffer = true",
            f"operand_buffer_size = {tpe.operand_buffer_size}",
        ]
    lines = [
        f"{indent}fabric.temporal_pe @{tpe.name}({ports}) [{', '.join(hw)}] "
        f"-> ({_types(tpe.outputs)}) {{"
    ]
    for fu in tpe.fus:
        lines += _pe_lines(fu, indent + _INDENT)
    lines.append(f"{indent}{_INDENT}fabric.yield")
    lines.append(f"{indent}}}")
    return lines


def _table_attr(node: Node) -> str:
    rows = switch_table(node)
    if all(all(r) for r in rows):
        return ""
    flat = ", ".join(str(v) for r in rows for v in r)
    return f"connectivity_table = [{flat}]"


def _node_line(node: Node, names: _Names) -> str | None:
    args = [names.ref(d) for d in node.drivers if d is not None]
    operands = ", ".join(args)
    lhs = names.lhs(node)
    k = node.kind
    if k in ("input", "output"):
        return None
    if k == "instance":
        target = node.target
        assert target is not None
        ins = _types(node.in_types)
        outs = node.out_types
        res = "()" if not outs else (outs[0].mlir() if len(outs) == 1 else f"({_types(outs)})")
        return (
            f"{lhs}fabric.instance @{target.name}({operands}) {{sym_name = \"{node.name}\"}} "
            f": ({ins}) -> {res}"
        )
    if k in ("switch", "temporal_sw"):
        hw = []
        if k == "temporal_sw":
            hw.append(f"num_route_table = {node.params['num_route_table']}")
        table = _table_attr(node)
        if table:
            hw.append(table)
        hw_text = f"[{', '.join(hw)}] " if hw else ""
        assert node.port_type is not None
        t = node.port_type.mlir()
        outs = ", ".join([t] * len(node.out_types))
        return f"{lhs}fabric.{k} {hw_text}{operands} : {t} -> {outs}"
    if k == "fifo":
        hw = f"depth = {node.params['depth']}"
        cfg = ""
        if node.params["bypassable"]:
            hw += ", bypassable"
            cfg = " {bypassed = false}"
        return f"{lhs}fabric.fifo [{hw}]{cfg} {operands} : {node.in_types[0].mlir()}"
    if k == "add_tag":
        out = node.out_types[0]
        assert isinstance(out, Tagged)
        return (
            f"{lhs}fabric.add_tag {operands} {{tag = 0 : i{out.tag_width}}} : "
            f"{node.in_types[0].mlir()} -> {out.mlir()}"
        )
    if k == "del_tag":
        src, dst = node.in_types[0].mlir(), node.out_types[0].mlir()
        return f"{lhs}fabric.del_tag {operands} : {src} -> {dst}"
    if k == "map_tag":
        src, dst = node.in_types[0], node.out_types[0]
        assert isinstance(src, Tagged) and isinstance(dst, Tagged)
        size = node.params["table_size"]
        entry = f"[0 : i1, 0 : i{src.tag_width}, 0 : i{dst.tag_width}]"
        table = ", ".join([entry] * size)
        return (
            f"{lhs}fabric.map_tag {operands} {{table_size = {size}, table = [{table}]}} : "
            f"{src.mlir()} -> {dst.mlir()}"
        )
    if k in ("memory", "extmemory"):
        p = node.params
        hw = [f"ldCount = {p['ld']}", f"stCount = {p['st']}"]
        if p["st"]:
            hw.append(f"lsqDepth = {p['lsq']}")
        if k == "memory":
            hw.append(f"is_private = {'true' if p['private'] else 'false'}")
        if p.get("num_region") is not None:
            hw.append(f"numRegion = {p['num_region']}")
        memref = p["memref"]
        assert isinstance(memref, Memref)
        return (
            f"{lhs}fabric.{k} [{', '.join(hw)}] ({operands}) : {memref.text}, "
            f"({_types(node.in_types)}) -> ({_types(node.out_types)})"
        )
    raise AssertionError(k)


def emit_mlir(builder: FabricBuilder) -> str:
    """The builder's fabric as Fabric MLIR text."""
    names = _Names(builder.nodes)
    inputs = sorted(
        (n for n in builder.nodes if n.kind == "input"), key=lambda n: _category(n.out_types[0])
    )
    outputs = sorted(
        (n for n in builder.nodes if n.kind == "output"), key=lambda n: _category(n.in_types[0])
    )
    lines: list[str] = [f"// Generated by loomc.adg ({builder.name})."]
    lines += [f"// {c}" for c in builder.comments]
    lines.append("module {")
    for d in builder.pe_defs:
        if isinstance(d, TemporalPEDef):
            lines += _tpe_lines(d, _INDENT)
        else:
            lines += _pe_lines(d, _INDENT)
    args = ", ".join(f"%{n.name}: {n.out_types[0].mlir()}" for n in inputs)
    results = ", ".join(n.in_types[0].mlir() for n in outputs)
    lines.append(f"{_INDENT}fabric.module @{builder.name}({args}) -> ({results}) {{")
    body_indent = _INDENT * 2
    for node in builder.nodes:
        line = _node_line(node, names)
        if line is not None:
            lines.append(body_indent + line)
    yielded = [names.ref(n.drivers[0]) for n in outputs if n.drivers[0] is not None]
    if yielded:
        lines.append(
            f"{body_indent}fabric.yield {', '.join(yielded)} : "
            f"{', '.join(n.in_types[0].mlir() for n in outputs)}"
        )
    else:
        lines.append(f"{body_indent}fabric.yield")
    lines.append(f"{_INDENT}}}")
    lines.append("}")
    return "\n".join(lines) + "\n"


_SHAPES = {
    "input": ("invhouse", "#dddddd"),
    "output": ("house", "#dddddd"),
    "instance": ("box", "#cfe2ff"),
    "switch": ("diamond", "#fff3cd"),
    "temporal_sw": ("Mdiamond", "#ffe5b4"),
    "fifo": ("cds", "#e2e3e5"),
    "add_tag": ("trapezium", "#d1e7dd"),
    "del_tag": ("invtrapezium", "#d1e7dd"),
    "map_tag": ("parallelogram", "#d1e7dd"),
    "memory": ("cylinder", "#f8d7da"),
    "extmemory": ("cylinder", "#f5c2c7"),
}


def emit_dot(builder: FabricBuilder) -> str:
    """The builder's fabric as a Graphviz digraph (structure only)."""
    lines = [f'digraph "{builder.name}" {{', "  node [fontsize=10];", "  edge [fontsize=8];"]
    for node in builder.nodes:
        shape, color = _SHAPES[node.kind]
        if node.kind == "instance" and isinstance(node.target, TemporalPEDef):
            shape, color = "box3d", "#b6d4fe"
        pos = f', pos="{node.pos[0]:g},{node.pos[1]:g}!"' if node.pos is not None else ""
        lines.append(
            f'  "{node.name}" [label="{node.label}", shape={shape}, style=filled, '
            f'fillcolor="{color}"{pos}];'
        )
    for node in builder.nodes:
        for i, drv in enumerate(node.drivers):
            if drv is None:
                continue
            dst = InPort(node, i)
            label = _edge_label(drv, dst)
            lines.append(f'  "{drv.node.name}" -> "{node.name}" [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edge_label(src: OutPort, dst: InPort) -> str:
    t = src.type
    return t.mlir().replace("!dataflow.", "").replace('"', "'")
