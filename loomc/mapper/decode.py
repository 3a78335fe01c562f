"""Turn a CP-SAT :class:`~loomc.solvers.pnr.PnRSolution` into a :class:`Mapping`."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from loomc.graph import model
from loomc.mapper.mapping import (
    Mapping,
    PlacedNode,
    RegisterUse,
    RoutedEdge,
    SolverRecord,
    TemporalSlot,
)
from loomc.mapper.problem import IndexedProblem
from loomc.solvers.pnr import PnRSolution, SolveParams


def solver_record(solution: PnRSolution, params: SolveParams) -> SolverRecord:
    return SolverRecord(
        status=solution.status, objective=solution.objective, bound=solution.bound,
        gap=solution.gap, wall_time=round(solution.wall_time, 3), seed=params.seed,
        deterministic_time=params.deterministic_time,
    )


def decode(
    ip: IndexedProblem, solution: PnRSolution, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph,
    *, profile: str, params: SolveParams,
) -> Mapping:
    sw_nodes = {n.id: n for n in model.nodes(dfg)}
    hw_nodes = {n.id: n for n in model.nodes(adg)}
    sw_ports = model.ports(dfg)
    placement, binding = [], {}
    chosen = sorted({mi for mi in solution.node_match if mi >= 0})
    for mi in chosen:
        cand = ip.candidates[mi]
        for sw in cand.sw_nodes:
            rec = sw_nodes[sw]
            if rec.is_sentinel:
                continue  # sentinels bind ports, they are never placed (spec)
            placement.append(PlacedNode(sw, cand.hw_node, hw_nodes[cand.hw_node].name,
                                        rec.op_name, rec.loc))
        binding.update(dict(cand.inputs))
        binding.update(dict(cand.outputs))

    routes = []
    for ni, per_sink in enumerate(solution.routes):
        for ki, path in enumerate(per_sink):
            tag = solution.sink_tags[ni][ki]
            edge_id = ip.net_edges[ni][ki]
            src, dst = edge_id.split("->")
            if not path:
                continue  # internal to a multi-op PE: not routed (spec "Routing exclusion")
            hops = ip.hops(path)
            routes.append(RoutedEdge(edge_id, src, dst, hops, tag))

    temporal = []
    itags = dict(solution.instruction_tags)
    slots: dict[str, int] = defaultdict(int)
    by_node = {p.sw_node: p for p in placement}
    for sw in sorted(itags, key=lambda v: ip.sw_node_ids[v]):
        sw_id = ip.sw_node_ids[sw]
        cand = ip.candidates[solution.node_match[sw]]
        if cand.temporal_pe is None or sw_id not in by_node:
            continue
        temporal.append(TemporalSlot(sw_id, cand.temporal_pe, 0, itags[sw], cand.opcode or 0))
    # slots are interchangeable (spec "Temporal Assignment Metadata"): number them
    # per temporal PE in tag order so the result does not depend on the solver
    numbered = []
    for t in sorted(temporal, key=lambda t: (t.temporal_pe, t.tag, t.sw_node)):
        numbered.append(TemporalSlot(t.sw_node, t.temporal_pe, slots[t.temporal_pe], t.tag,
                                     t.opcode))
        slots[t.temporal_pe] += 1

    return Mapping(
        registers=allocate_registers(ip, solution),
        dfg_name=dfg.graph.get("name", ""), adg_name=adg.graph.get("name", ""),
        status="success", profile=profile, seed=params.seed,
        placement=tuple(sorted(placement, key=lambda p: p.sw_node)),
        port_binding=tuple(sorted((k, v) for k, v in binding.items() if k in sw_ports)),
        routes=tuple(sorted(routes, key=lambda r: r.sw_edge)),
        temporal=tuple(numbered),
        solver=solver_record(solution, params),
    )


def allocate_registers(ip: IndexedProblem, solution: PnRSolution) -> tuple[RegisterUse, ...]:
    """Register indices for the nets the solver put in temporal registers.

    spec-mapper-algorithm.md "Stage 5": sequential allocation, all registers
    equivalent.  Per temporal PE, values are numbered 0, 1, ... in the order of
    their producer port id, so the numbering does not depend on the solver.  The
    solver already bounded the count by ``num_register`` (C5.2); every edge of
    one value shares that value's register (one writer, many readers)."""
    by_tpe: dict[int, list[int]] = defaultdict(list)
    for ni, t in solution.net_registers:
        by_tpe[t].append(ni)
    out = []
    for t, nets in sorted(by_tpe.items()):
        for index, ni in enumerate(sorted(nets, key=lambda n: ip.problem.nets[n].name)):
            for edge_id in ip.net_edges[ni]:
                src, dst = edge_id.split("->")
                out.append(RegisterUse(edge_id, src, dst, ip.tpe_ids[t], index))
    return tuple(sorted(out, key=lambda r: r.sw_edge))
