"""``<base>.map.json``: the machine-readable mapping report.

Schema: spec-mapper-output.md "mapping.json Schema" (version 1).  Keys are our
string ids (node ids, ``node:inN``/``node:outN`` ports, ``src->dst`` edges),
entries are sorted by id and the text is printed with a fixed indent, so the
same mapping always gives the same bytes.  Nothing time-dependent goes in:
wall time and deterministic time stay out (they belong on stdout), the solver
block carries only status, objective, bound and gap.

``registers`` is written only when the mapping uses temporal registers (spec
"registers": "Only present when temporal registers are used").

Beyond the spec's fields: ``dfg``/``adg`` names, ``solver`` (status, bound,
gap), ``warnings`` (configurations the hardware would flag), and in
``diagnostics`` the ``code`` and ``message`` of a failure with the
source location of every conflicting DFG op.
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx

from loomc.graph import model
from loomc.mapper.cost import CostBreakdown
from loomc.mapper.mapping import Mapping

SCHEMA_VERSION = 1


def _solver(mapping: Mapping) -> dict[str, Any] | None:
    s = mapping.solver
    if s is None:
        return None
    return {"status": s.status, "objective": s.objective, "bound": s.bound, "gap": s.gap}


def _diagnostics(mapping: Mapping, dfg: nx.MultiDiGraph | None) -> dict[str, Any]:
    d = mapping.diagnostics
    locs = {n.id: n.loc for n in model.nodes(dfg)} if dfg is not None else {}
    return {
        "code": d.code,
        "message": d.message,
        "unmappedNodes": list(d.unmapped_nodes),
        "failedEdges": list(d.failed_edges),
        "firstViolatedConstraint": d.first_violated_constraint,
        "conflictingResources": [
            {"sw": sw, "hw": hw or None, "reason": reason, "swLoc": locs.get(sw)}
            for sw, hw, reason in d.conflicting
        ],
    }


def registers_section(mapping: Mapping) -> dict[str, dict[str, object]]:
    """map.json's ``registers``: DFG edge -> its temporal PE and register index."""
    return {r.sw_edge: {"temporalPE": r.temporal_pe, "registerIndex": r.register}
            for r in sorted(mapping.registers, key=lambda r: r.sw_edge)}


def mapping_document(mapping: Mapping, cost: CostBreakdown | None,
                     dfg: nx.MultiDiGraph | None = None,
                     warnings: tuple[str, ...] = ()) -> dict[str, Any]:
    """The report as plain data (key order = the order written).  ``warnings``
    are configuration warnings (e.g. a tagged switch merging inputs)."""
    doc: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "status": mapping.status,
        "profile": mapping.profile,
        "seed": mapping.seed,
        "dfg": mapping.dfg_name,
        "adg": mapping.adg_name,
        "placement": {
            p.sw_node: {"hwNode": p.hw_node, "hwNodeName": p.hw_name, "swOp": p.sw_op,
                        "swLoc": p.sw_loc}
            for p in sorted(mapping.placement, key=lambda p: p.sw_node)
        },
        "portBinding": dict(sorted(mapping.port_binding)),
        "routes": {
            r.sw_edge: {
                "srcSwPort": r.src_sw_port,
                "dstSwPort": r.dst_sw_port,
                "hwPath": [{"src": s, "dst": d} for s, d in r.hw_path],
                "tag": r.tag,
            }
            for r in sorted(mapping.routes, key=lambda r: r.sw_edge)
        },
        "temporal": {
            t.sw_node: {"temporalPE": t.temporal_pe, "slot": t.slot, "tag": t.tag,
                        "opcode": t.opcode}
            for t in sorted(mapping.temporal, key=lambda t: t.sw_node)
        },
        "cost": cost.to_dict() if cost is not None else None,
        "solver": _solver(mapping),
        "warnings": list(warnings),
    }
    if mapping.registers:
        # spec-mapper-output.md "registers": only present when temporal
        # registers are used; one entry per DFG edge carried by a register
        doc["registers"] = registers_section(mapping)
    if mapping.status != "success":
        doc["diagnostics"] = _diagnostics(mapping, dfg)
    return doc


def render_json(mapping: Mapping, cost: CostBreakdown | None,
                dfg: nx.MultiDiGraph | None = None, warnings: tuple[str, ...] = ()) -> str:
    """The ``map.json`` text (2-space indent, trailing newline)."""
    doc = mapping_document(mapping, cost, dfg, warnings)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


__all__ = ["SCHEMA_VERSION", "mapping_document", "render_json"]
