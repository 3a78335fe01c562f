"""``<base>.viz.html``: a self-contained picture of the mapping (spec-viz-mapped.md).

A modest subset of Loom's viewer: one inline SVG of the ADG in overlay mode.
Hardware nodes sit on a grid (spec-viz-adg.md "Coordinate Sources": explicit
``viz_row``/``viz_col`` first, then name patterns such as ``sw_<r>_<c>``,
``pe_<r>_<c>``, ``<kind>_r<r>_c<c>``, ``sw<r><c>``; FIFOs and tag ops between
their neighbours; anything else in layers by distance from the inputs).  Mapped
nodes are filled with the colour of their software op's dialect, unmapped ones
are white, dashed and faded; every routed DFG edge is a coloured polyline over
the nodes it passes, colours from the spec's 12-colour palette in edge order.
The mapping itself is embedded as JSON (``mappingData``) for tooling.  No
scripts, fonts or links to anything outside the file; deterministic output.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict

import networkx as nx

from loomc.graph import model
from loomc.graph.model import NodeKind
from loomc.mapper.emit_json import registers_section
from loomc.mapper.mapping import Mapping

#: spec-viz-mapped.md "Routing Path Visualization"
PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4",
           "#f032e6", "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9A6324")
CELL = 90
BOX = 62


def dialect_color(sw_op: str) -> str:
    """spec-viz-mapped.md "Mapped Node Recoloring"."""
    if sw_op in ("handshake.load", "handshake.memory", "handshake.extmemory"):
        return "#87ceeb"
    if sw_op == "handshake.store":
        return "#ffa07a"
    if sw_op == "handshake.constant":
        return "#ffd700"
    if sw_op.startswith("handshake."):
        return "#ffffe0"
    if sw_op.startswith("dataflow."):
        return "#90ee90"
    if sw_op.startswith("math."):
        return "#dda0dd"
    return "#add8e6"


_PATTERNS = (
    (re.compile(r"_r(\d+)_c(\d+)$"), 1),
    (re.compile(r"(?:^|_)(?:t?sw|st)_?(\d+)_(\d+)$"), 0),
    (re.compile(r"^(?:t?sw|st|sn)(\d)(\d)$"), 0),
    (re.compile(r"(?:^|_)(?:t?pe|pe)_(\d+)_(\d+)$"), 1),
)


def _grid_of(rec) -> tuple[float, float] | None:
    row, col = rec.param("viz_row"), rec.param("viz_col")
    if isinstance(row, int) and isinstance(col, int):
        return float(col), float(row)
    name = rec.id.rsplit("/", 1)[-1]
    for pattern, odd in _PATTERNS:
        m = pattern.search(name)
        if m:
            r, c = int(m.group(1)), int(m.group(2))
            return float(2 * c + odd), float(2 * r + odd)
    return None


def layout(adg: nx.MultiDiGraph) -> dict[str, tuple[float, float]]:
    """Grid (col, row) of every visible ADG node (FU nodes fold into their
    temporal PE, spec-viz-mapped.md "Temporal PE Aggregation")."""
    recs = [r for r in model.nodes(adg) if r.parent_temporal_pe is None]
    pos: dict[str, tuple[float, float]] = {}
    for r in recs:
        if r.kind is NodeKind.OPERATION and (g := _grid_of(r)) is not None:
            pos[r.id] = g
    nbrs: dict[str, set[str]] = defaultdict(set)
    for e in model.edges(adg):
        nbrs[e.src_node].add(e.dst_node)
        nbrs[e.dst_node].add(e.src_node)
    # in-between nodes (FIFOs, tag ops) at the midpoint of placed neighbours
    for r in recs:
        if r.id in pos or r.kind is not NodeKind.OPERATION:
            continue
        placed = sorted(pos[n] for n in nbrs[r.id] if n in pos)
        if len(placed) >= 2:
            (c1, r1), (c2, r2) = placed[0], placed[-1]
            pos[r.id] = ((c1 + c2) / 2, (r1 + r2) / 2)
    # the rest: layers by hop distance from the module inputs, below the grid
    rest = [r for r in recs if r.id not in pos and r.kind is NodeKind.OPERATION]
    base = max((p[1] for p in pos.values()), default=-2.0) + 2
    if rest:
        dist: dict[str, int] = {}
        frontier = [r.id for r in recs if r.kind is NodeKind.MODULE_INPUT]
        for n in frontier:
            dist[n] = 0
        while frontier:
            nxt = []
            for n in frontier:
                for m in sorted(nbrs[n]):
                    if m not in dist:
                        dist[m] = dist[n] + 1
                        nxt.append(m)
            frontier = nxt
        per_layer: dict[int, int] = defaultdict(int)
        for r in rest:
            layer = dist.get(r.id, 0)
            pos[r.id] = (float(layer), base + per_layer[layer])
            per_layer[layer] += 1
    bottom = max((p[1] for p in pos.values()), default=0.0) + 2
    for kind, row in ((NodeKind.MODULE_INPUT, -2.0), (NodeKind.MODULE_OUTPUT, bottom)):
        for k, r in enumerate(x for x in recs if x.kind is kind):
            pos[r.id] = (float(2 * k), row)
    return pos


def _display_node(adg: nx.MultiDiGraph, node: str) -> str:
    rec = model.node_record(adg, node)
    return rec.parent_temporal_pe or node


def render_viz(mapping: Mapping, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph) -> str:
    del dfg  # the overlay only needs the mapping's names
    pos = layout(adg)
    min_c = min(c for c, _ in pos.values())
    min_r = min(r for _, r in pos.values())

    def xy(node: str) -> tuple[float, float]:
        c, r = pos[node]
        return (c - min_c) * CELL + CELL / 2 + 10, (r - min_r) * CELL + CELL / 2 + 10

    hw_to_sw: dict[str, list[str]] = defaultdict(list)
    for p in sorted(mapping.placement, key=lambda p: p.sw_node):
        hw_to_sw[_display_node(adg, p.hw_node)].append(p)
    width = int((max(c for c, _ in pos.values()) - min_c + 1) * CELL + 20)
    height = int((max(r for _, r in pos.values()) - min_r + 1) * CELL + 20)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="9">']
    for e in model.edges(adg):
        a, b = _display_node(adg, e.src_node), _display_node(adg, e.dst_node)
        if a in pos and b in pos:
            (x1, y1), (x2, y2) = xy(a), xy(b)
            svg.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                       'stroke="#bbbbbb" stroke-width="1"/>')
    hw_ports = model.ports(adg)
    for k, r in enumerate(sorted(mapping.routes, key=lambda r: (r.src_sw_port, r.sw_edge))):
        nodes: list[str] = []
        for src, dst in r.hw_path:
            for port in (src, dst):
                n = _display_node(adg, hw_ports[port].node)
                if not nodes or nodes[-1] != n:
                    nodes.append(n)
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(n) for n in nodes if n in pos))
        svg.append(f'<polyline points="{pts}" fill="none" stroke="{PALETTE[k % 12]}" '
                   f'stroke-width="3" opacity="0.6"><title>{html.escape(r.sw_edge)}'
                   '</title></polyline>')
    for node in sorted(pos):
        rec = model.node_record(adg, node)
        x, y = xy(node)
        placed = hw_to_sw.get(node, [])
        fill = dialect_color(placed[0].sw_op) if placed else "#ffffff"
        style = "" if placed else ' stroke-dasharray="4,3" opacity="0.4"'
        if rec.is_sentinel:
            fill, style = "#eeeeee", ""
        svg.append(f'<rect x="{x - BOX / 2:.1f}" y="{y - BOX / 4:.1f}" width="{BOX}" '
                   f'height="{BOX / 2}" rx="4" fill="{fill}" stroke="#333333"{style}>'
                   f'<title>{html.escape(rec.op_name)} {html.escape(node)}</title></rect>')
        label = [node.rsplit("/", 1)[-1]] + [f"<- {p.sw_node}" for p in placed[:2]]
        for i, text in enumerate(label):
            svg.append(f'<text x="{x:.1f}" y="{y - 4 + 10 * i:.1f}" text-anchor="middle">'
                       f'{html.escape(text[:14])}</text>')
    svg.append("</svg>")
    data = {
        "swToHw": {p.sw_node: _display_node(adg, p.hw_node) for p in mapping.placement},
        "hwToSw": {hw: [p.sw_node for p in ps] for hw, ps in sorted(hw_to_sw.items())},
        "routes": {r.sw_edge: [list(h) for h in r.hw_path] for r in mapping.routes},
        "temporal": {t.sw_node: {"temporalPE": t.temporal_pe, "slot": t.slot, "tag": t.tag}
                     for t in mapping.temporal},
    }
    if mapping.registers:  # edges held in temporal-PE registers have no hops to draw
        data["registers"] = registers_section(mapping)
    regs = (f", {len(mapping.registers)} in temporal registers" if mapping.registers else "")
    payload = json.dumps(data, sort_keys=True).replace("</", "<\\/")
    title = html.escape(f"{mapping.dfg_name} on {mapping.adg_name}")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        "<style>body{font-family:sans-serif;margin:12px}</style>",
        "</head><body>",
        f"<h1>{title}</h1>",
        f"<p>status {html.escape(mapping.status)}, {len(mapping.placement)} ops placed, "
        f"{len(mapping.routes)} edges routed{regs}</p>",
        *svg,
        f'<script type="application/json" id="mappingData">{payload}</script>',
        "</body></html>",
        "",
    ])


__all__ = ["PALETTE", "dialect_color", "layout", "render_viz"]
