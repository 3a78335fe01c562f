"""Several DFGs as one: Loom maps all ``--dfgs`` functions in one session.

spec-cli.md "--dfgs": the ``handshake.func`` ops of all given files are merged
into one module and mapped together, so they share the fabric without
overlapping.  Here the graphs are merged instead of the IR: each DFG's ids get
its function name as a prefix (``vecsum/addi_3``), which keeps them unique and
readable in reports.
"""

from __future__ import annotations

import dataclasses

import networkx as nx

from loomc.graph import model


def _prefixed(graph: nx.MultiDiGraph, prefix: str) -> nx.MultiDiGraph:
    def p(name: str) -> str:
        return f"{prefix}/{name}"

    out = model.new_graph(graph.graph.get("kind", "dfg"), graph.graph.get("name", prefix))
    ports = model.ports(graph)
    for rec in model.nodes(graph):
        new = dataclasses.replace(
            rec, id=p(rec.id), input_ports=tuple(map(p, rec.input_ports)),
            output_ports=tuple(map(p, rec.output_ports)),
        )
        owned = [dataclasses.replace(ports[q], id=p(q), node=p(ports[q].node))
                 for q in (*rec.input_ports, *rec.output_ports) if ports[q].node == rec.id]
        model.add_node(out, new, owned)
    for edge in model.edges(graph):
        model.add_edge(out, p(edge.src_port), p(edge.dst_port))
    return out


def merge_dfgs(graphs: list[nx.MultiDiGraph]) -> nx.MultiDiGraph:
    """One DFG holding all of ``graphs``; a single graph is returned as is."""
    if len(graphs) == 1:
        return graphs[0]
    names = [g.graph.get("name", f"dfg{i}") for i, g in enumerate(graphs)]
    seen: dict[str, int] = {}
    merged = model.new_graph("dfg", "+".join(names))
    for graph, name in zip(graphs, names, strict=True):
        seen[name] = seen.get(name, 0) + 1
        prefix = name if seen[name] == 1 else f"{name}~{seen[name]}"
        part = _prefixed(graph, prefix)
        for rec in model.nodes(part):
            ports = model.ports(part)
            owned = [ports[q] for q in (*rec.input_ports, *rec.output_ports)
                     if ports[q].node == rec.id]
            model.add_node(merged, rec, owned)
        for edge in model.edges(part):
            model.add_edge(merged, edge.src_port, edge.dst_port)
    return merged
