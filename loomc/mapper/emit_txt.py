"""``<base>.map.txt``: the mapping report for people.

Sections: header (DFG, ADG, status, profile, seed), solver (status, objective,
bound, gap), cost families, placement table, routes hop by hop (``->`` is a
wire, ``=>`` a hop through a routing node), temporal assignments, temporal
registers, the configured nodes; a failed mapping gets the code, the first
violated constraint class, the unmapped ops and the conflicting ops with their
``file:line``.  Deterministic: no times, entries sorted by id.
"""

from __future__ import annotations

import networkx as nx

from loomc.graph import model
from loomc.mapper.cost import CostBreakdown
from loomc.mapper.mapping import Mapping

_CLASS_NAMES = {
    "C1": "node compatibility", "C2": "port/type compatibility", "C3": "route legality",
    "C4": "capacity", "C5": "temporal constraints", "C6": "configuration encoding",
}


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()
    out = ["  " + line, "  " + "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  " + "  ".join(str(c).ljust(w) for c, w in
                                    zip(r, widths, strict=True)).rstrip())
    return out


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def _path(hops: tuple[tuple[str, str], ...], hw_ports) -> str:
    if not hops:
        return "(inside one PE)"
    parts = [hops[0][0]]
    for src, dst in hops:
        same = hw_ports is not None and src in hw_ports and dst in hw_ports and \
            hw_ports[src].node == hw_ports[dst].node
        parts.append(("=> " if same else "-> ") + dst)
    return " ".join(parts)


def render_text(mapping: Mapping, cost: CostBreakdown | None, dfg: nx.MultiDiGraph | None = None,
                adg: nx.MultiDiGraph | None = None, config_lines: list[str] | None = None,
                warnings: tuple[str, ...] = ()) -> str:
    hw_ports = model.ports(adg) if adg is not None else None
    out = [
        "loomc mapping report",
        f"DFG:     {mapping.dfg_name}",
        f"ADG:     {mapping.adg_name}",
        f"status:  {mapping.status}",
        f"profile: {mapping.profile}",
        f"seed:    {mapping.seed}",
    ]
    s = mapping.solver
    out += ["", "== solver"]
    if s is None:
        out.append("  not run (rejected before solving)")
    else:
        out.append(f"  status {s.status}, objective {_fmt(s.objective)}, bound {_fmt(s.bound)}, "
                   f"gap {_fmt(s.gap)}")
    if mapping.status != "success":
        out += _failure(mapping, dfg)
        return "\n".join(out) + "\n"

    if cost is not None:
        out += ["", "== cost (recomputed from the mapping)"]
        out += [f"  {k:<18} {_fmt(v)}" for k, v in cost.to_dict().items()]

    rows = [(p.sw_node, p.sw_op, p.hw_node, p.sw_loc or "-")
            for p in sorted(mapping.placement, key=lambda p: p.sw_node)]
    out += ["", f"== placement ({len(rows)} ops)"]
    out += _table(rows, ("DFG op", "kind", "hardware", "source"))

    out += ["", f"== routes ({len(mapping.routes)} edges; -> wire, => through a routing node)"]
    for r in sorted(mapping.routes, key=lambda r: r.sw_edge):
        tag = "" if r.tag is None else f"  [tag {r.tag}]"
        wires = sum(1 for a, b in r.hw_path
                    if hw_ports is None or hw_ports[a].node != hw_ports[b].node)
        out.append(f"  {r.sw_edge}{tag}  ({wires} wires)")
        out.append(f"    {_path(r.hw_path, hw_ports)}")

    if mapping.temporal:
        rows = [(t.temporal_pe, str(t.slot), str(t.tag), str(t.opcode), t.sw_node)
                for t in sorted(mapping.temporal, key=lambda t: (t.temporal_pe, t.slot))]
        out += ["", "== temporal assignments"]
        out += _table(rows, ("temporal PE", "slot", "tag", "opcode", "DFG op"))

    if mapping.registers:
        rows = [(r.temporal_pe, str(r.register), r.sw_edge)
                for r in sorted(mapping.registers,
                                key=lambda r: (r.temporal_pe, r.register, r.sw_edge))]
        out += ["", f"== temporal registers ({len(rows)} edges, not routed)"]
        out += _table(rows, ("temporal PE", "register", "DFG edge"))

    if warnings:
        out += ["", "== warnings"]
        out += [f"  {w}" for w in warnings]
    if config_lines:
        out += ["", "== configuration"]
        out += [f"  {line}" for line in config_lines]
    return "\n".join(out) + "\n"


def _failure(mapping: Mapping, dfg: nx.MultiDiGraph | None) -> list[str]:
    d = mapping.diagnostics
    recs = {n.id: n for n in model.nodes(dfg)} if dfg is not None else {}
    cls = d.first_violated_constraint
    out = ["", "== failure",
           f"  code: {d.code or '-'}",
           f"  first violated constraint: {cls or '-'}"
           + (f" ({_CLASS_NAMES[cls]})" if cls in _CLASS_NAMES else ""),
           f"  {d.message or ''}".rstrip()]
    if d.unmapped_nodes:
        out += ["", "  unmapped DFG ops:"]
        for n in d.unmapped_nodes:
            rec = recs.get(n)
            what = f"{rec.op_name} '{rec.name}'" if rec else n
            out.append(f"    {n}: {what}  at {rec.loc if rec and rec.loc else '?'}")
    if d.failed_edges:
        out += ["", "  edges that could not be routed:"]
        out += [f"    {e}" for e in d.failed_edges]
    if d.conflicting:
        out += ["", "  conflicting set (from the solver's assumption core):"]
        for sw, hw, reason in d.conflicting:
            rec = recs.get(sw)
            where = rec.loc if rec and rec.loc else "?"
            on = f" on {hw}" if hw else ""
            out.append(f"    {where}: {sw}{on}: {reason}")
    return out


__all__ = ["render_text"]
