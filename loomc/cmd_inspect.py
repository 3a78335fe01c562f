"""``loomc inspect FILE``: what the mapper would see in an MLIR file.

A fabric file gives its ADG (top ``fabric.module``, flattened); a Handshake file
gives one DFG per accelerator ``handshake.func`` (``loom.accel``; all functions
when none is marked).  For each graph it prints node/edge/port counts, sentinel
counts, node classes and ops by kind (``--json`` for a machine-readable form,
``--nodes`` to list every node with its ports).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import networkx as nx

from loomc.diagnostics import LoomcError, SourceLocation
from loomc.graph import model
from loomc.graph.load import adg_from_parsed, dfgs_from_parsed, has_fabric, has_handshake
from loomc.mlir_io import parse_mlir_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loomc inspect",
        description="Summarize the ADG / DFG graphs the mapper builds from an MLIR file.",
    )
    parser.add_argument("file", help="a .fabric.mlir (ADG) or .handshake.mlir (DFG) file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--nodes", action="store_true", help="also list every node")
    return parser


def graphs_of(path: str) -> list[nx.MultiDiGraph]:
    """The ADG (if the file has a ``fabric.module``) then the DFGs (if it has
    ``handshake.func`` ops) of a file."""
    parsed = parse_mlir_file(path)
    graphs: list[nx.MultiDiGraph] = []
    if has_fabric(parsed):
        graphs.append(adg_from_parsed(parsed))
    if has_handshake(parsed):
        graphs.extend(dfgs_from_parsed(parsed))
    if not graphs:
        raise LoomcError(
            "neither a fabric.module nor a handshake.func in this file",
            loc=SourceLocation(path),
        )
    return graphs


def _node_dict(rec: model.NodeRecord, ports: dict[str, model.PortRecord]) -> dict:
    def port(pid: str) -> dict:
        p = ports[pid]
        out = {"id": p.id, "type": p.type, "width": p.width}
        if p.tag_width is not None:
            out["tag_width"] = p.tag_width
        if p.role:
            out["role"] = p.role
        return out

    data: dict = {
        "id": rec.id,
        "kind": rec.kind.value,
        "op": rec.op_name,
        "class": rec.resource_class.value if rec.resource_class else None,
        "inputs": [port(p) for p in rec.input_ports],
        "outputs": [port(p) for p in rec.output_ports],
    }
    if rec.loc:
        data["loc"] = rec.loc
    if rec.body_ops:
        data["body_ops"] = list(rec.body_ops)
    if rec.parent_temporal_pe:
        data["temporal_pe"] = rec.parent_temporal_pe
    if rec.fu_nodes:
        data["fu_nodes"] = list(rec.fu_nodes)
    return data


def _counts(pairs: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{name} {count}" for name, count in pairs) or "-"


def _text(path: str, graph: nx.MultiDiGraph, with_nodes: bool) -> list[str]:
    s = model.summarize(graph)
    title = "ADG fabric.module" if s.kind == "adg" else "DFG handshake.func"
    lines = [
        f"{title} @{s.name}  ({path})",
        f"  nodes {s.nodes}  edges {s.edges}  ports {s.ports}",
        f"  sentinels: {s.input_sentinels} inputs, {s.output_sentinels} outputs",
        f"  node classes: {_counts(s.by_class)}",
        f"  ops: {_counts(s.by_op)}",
    ]
    if s.kind == "adg":
        lines.append(f"  pe body ops: {_counts(s.body_ops)}")
        lines.append(
            f"  placement targets {s.placeable}  temporal PEs {s.temporal_pes} "
            f"(FU nodes {s.fu_nodes})  fan-out ports {s.fanout_ports}"
        )
    else:
        lines.append(f"  ops to place {s.placeable}  fan-out ports {s.fanout_ports}")
    if with_nodes:
        ports = model.ports(graph)
        for rec in model.nodes(graph):
            cls = rec.resource_class.value if rec.resource_class else rec.kind.value
            ins = ", ".join(ports[p].type for p in rec.input_ports)
            outs = ", ".join(ports[p].type for p in rec.output_ports)
            extra = f"  [{', '.join(rec.body_ops)}]" if rec.body_ops else ""
            lines.append(f"    {rec.id:<24} {cls:<13} {rec.op_name:<20} ({ins}) -> ({outs}){extra}")
    return lines


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    graphs = graphs_of(args.file)
    if args.json:
        payload = {"file": args.file, "graphs": []}
        for graph in graphs:
            entry = model.summarize(graph).to_dict()
            if args.nodes:
                ports = model.ports(graph)
                entry["node_list"] = [_node_dict(r, ports) for r in model.nodes(graph)]
            payload["graphs"].append(entry)
        json.dump(payload, sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        for i, graph in enumerate(graphs):
            if i:
                print()
            print("\n".join(_text(args.file, graph, args.nodes)))
    return 0
