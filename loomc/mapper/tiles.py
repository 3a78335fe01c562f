"""Tile classes of an ADG (spec-mapper-cost.md "Placement Pressure").

Shared by the solver objective (:mod:`loomc.mapper.problem`) and the reported
cost (:mod:`loomc.mapper.cost`), so both mean the same classes: ``fabric.pe``
nodes with structurally identical bodies, temporal-PE FUs by the body pattern
of their parent, memories by op kind.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from loomc.graph import model
from loomc.graph.model import NodeKind, NodeRecord, ResourceClass


def _body_key(rec: NodeRecord) -> tuple:
    body = rec.body
    if body is None:
        return ()
    return (body.arg_types, tuple((o.op_name, o.operands, o.attrs, o.result_types)
                                  for o in body.ops), body.yields)


def tile_classes(adg: nx.MultiDiGraph) -> dict[tuple, list[str]]:
    """Tile class key -> member node ids (spec "Placement Pressure")."""
    classes: dict[tuple, list[str]] = defaultdict(list)
    recs = {r.id: r for r in model.nodes(adg)}
    for rec in recs.values():
        if rec.kind is not NodeKind.OPERATION or rec.is_virtual:
            continue
        if rec.parent_temporal_pe is not None:
            parent = recs[rec.parent_temporal_pe]
            pattern = tuple(_body_key(recs[f]) for f in parent.fu_nodes)
            classes[("temporal", pattern)].append(rec.id)
        elif rec.resource_class is ResourceClass.MEMORY:
            classes[("memory", rec.op_name)].append(rec.id)
        elif rec.op_name == "fabric.pe":
            classes[("pe", _body_key(rec))].append(rec.id)
    return classes
