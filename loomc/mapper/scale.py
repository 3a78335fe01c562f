"""Scale strategy for DFGs beyond the joint model's reach.

The joint CP-SAT model has one flow variable per (DFG edge, routing arc): a
111-op app on Loom's small template would need ~8 million.  Above a size
threshold loomc therefore solves in two coupled CP-SAT stages:

1. **Place** (:mod:`loomc.solvers.placement`): exact placement constraints with
   total Manhattan wirelength in an embedding of the fabric (classical MDS of
   hop distances between placement targets) as the objective.
   A pair of placements with no physical path between the two ports of a DFG
   edge is cut (no-good) and placement runs again.
2. **Route and repair in a window** (:mod:`loomc.solvers.pnr`): the joint
   model again, but each DFG node keeps only its ``k`` candidates nearest to
   where it was placed and each net only the arcs of its *corridors* — arcs on
   some path at most ``slack`` hops longer than the shortest one between its
   endpoints' remaining candidates.  An infeasible window grows (``k`` doubles,
   ``slack`` +4) until the budget is spent.

The result is a normal :class:`~loomc.solvers.pnr.PnRSolution` over the joint
problem's indices, so decoding, emission and verification do not care which
path produced it.  Optimality is not claimed: the status is FEASIBLE with the
routing stage's bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra, shortest_path

from loomc.mapper.problem import IndexedProblem
from loomc.solvers.placement import PlacementProblem, solve_placement
from loomc.solvers.pnr import PnRProblem, PnRSolution, SolveParams, solve

#: joint model size (flow variables) above which the two-stage strategy runs
JOINT_LIMIT = 250_000


def joint_size(problem: PnRProblem) -> int:
    return len(problem.arcs) * sum(len(n.sinks) for n in problem.nets)


@dataclass(frozen=True)
class Geometry:
    """Hop distances on the port graph and coordinates of hardware nodes."""

    port_graph: csr_matrix
    coords: dict[int, tuple[int, ...]]  # match index -> coordinates


def _port_graph(problem: PnRProblem) -> csr_matrix:
    src = np.array([a.src for a in problem.arcs], dtype=np.int64)
    dst = np.array([a.dst for a in problem.arcs], dtype=np.int64)
    w = np.ones(len(src))
    return csr_matrix((w, (src, dst)), shape=(problem.num_ports, problem.num_ports))


def _embed(dist: np.ndarray, dims: int = 3, scale: float = 4.0) -> np.ndarray:
    """Classical MDS: coordinates whose Euclidean distances approximate ``dist``."""
    n = dist.shape[0]
    finite = dist[np.isfinite(dist)]
    big = (finite.max() if finite.size else 1.0) * 2
    d = np.where(np.isfinite(dist), dist, big)
    d = (d + d.T) / 2
    j = np.eye(n) - np.ones((n, n)) / n
    b = -0.5 * j @ (d**2) @ j
    vals, vecs = np.linalg.eigh(b)
    order = np.argsort(vals)[::-1][:dims]
    x = vecs[:, order] * np.sqrt(np.maximum(vals[order], 0))
    return np.rint((x - x.min(axis=0)) * scale).astype(int)


def geometry(ip: IndexedProblem) -> Geometry:
    """Embed every match's hardware node using port-graph hop distances between
    one representative port per hardware node."""
    problem = ip.problem
    graph = _port_graph(problem)
    rep: dict[int, int] = {}
    for mi, match in enumerate(problem.matches):
        ports = [p for _, _, p in match.inputs] + [p for _, _, p in match.outputs]
        if ports:
            rep[mi] = ports[0]
    reps = sorted(set(rep.values()))
    index = {p: i for i, p in enumerate(reps)}
    undirected = graph + graph.T
    dist = shortest_path(undirected, indices=reps, unweighted=True)[:, reps]
    xyz = _embed(dist)
    coords = {mi: tuple(int(c) for c in xyz[index[p]]) for mi, p in rep.items()}
    return Geometry(graph, coords)


def _unroutable(problem: PnRProblem, graph: csr_matrix, node_match) -> list[tuple[int, int]]:
    """(net, sink) pairs whose two bound ports have no physical path at all under
    the placement ``node_match`` (internal edges of a group match are skipped)."""
    ends = []  # (net, sink, source port, sink port)
    for ni, net in enumerate(problem.nets):
        src = _bound_port(problem, node_match, net.source, outputs=True)
        for ki, sink in enumerate(net.sinks):
            dst = _bound_port(problem, node_match, sink, outputs=False)
            if src is not None and dst is not None:
                ends.append((ni, ki, src, dst))
    sources = sorted({s for _, _, s, _ in ends})
    if not sources:
        return []
    d_from = dict(zip(sources, dijkstra(graph, indices=sources, unweighted=True), strict=True))
    return [(ni, ki) for ni, ki, s, t in ends if not np.isfinite(d_from[s][t])]


def _bound_port(problem: PnRProblem, node_match, end, outputs: bool) -> int | None:
    if end.is_fixed:
        return end.hw_port
    match = problem.matches[node_match[end.sw_node]]
    for sw, idx, port in match.outputs if outputs else match.inputs:
        if sw == end.sw_node and idx == end.index:
            return port
    return None


def _window(problem: PnRProblem, graph: csr_matrix, coords, node_match, k: int, slack: int):
    """A joint sub-problem around a placement: each DFG node keeps its ``k``
    candidates nearest (in the embedding) to where it was placed, and each net
    the arcs of the corridors between its endpoints' remaining candidates."""
    covering: dict[int, list[int]] = {}
    for mi, match in enumerate(problem.matches):
        for v in match.sw_nodes:
            covering.setdefault(v, []).append(mi)
    keep: set[int] = set()
    for v, mis in covering.items():
        here = coords[node_match[v]]
        ranked = sorted(mis, key=lambda mi: (sum(abs(a - b) for a, b in
                                                  zip(coords[mi], here, strict=True)), mi))
        keep.update(ranked[:k])
    kept = tuple(sorted(keep))
    ports_of: dict[tuple[int, int, bool], set[int]] = {}
    for mi in kept:
        match = problem.matches[mi]
        for sw, idx, port in match.outputs:
            ports_of.setdefault((sw, idx, True), set()).add(port)
        for sw, idx, port in match.inputs:
            ports_of.setdefault((sw, idx, False), set()).add(port)

    def ends(end, outputs):
        if end.is_fixed:
            return {end.hw_port}
        return ports_of.get((end.sw_node, end.index, outputs), set())

    src_sets = [ends(net.source, True) for net in problem.nets]
    snk_sets = [[ends(s, False) for s in net.sinks] for net in problem.nets]
    all_src = sorted(set().union(*src_sets)) if src_sets else []
    all_snk = sorted(set().union(*(x for xs in snk_sets for x in xs))) if snk_sets else []
    d_from = dict(zip(all_src, dijkstra(graph, indices=all_src), strict=True)) if all_src else {}
    d_to = (dict(zip(all_snk, dijkstra(graph.T.tocsr(), indices=all_snk), strict=True))
            if all_snk else {})
    arc_src = np.array([a.src for a in problem.arcs])
    arc_dst = np.array([a.dst for a in problem.arcs])
    allowed = []
    for ni in range(len(problem.nets)):
        if not src_sets[ni]:
            allowed.append(())
            continue
        near_src = np.min([d_from[p] for p in src_sets[ni]], axis=0)
        arcs: set[int] = set()
        for sinks in snk_sets[ni]:
            if not sinks:
                continue
            near_snk = np.min([d_to[t] for t in sinks], axis=0)
            best = min(near_src[t] for t in sinks)
            if not np.isfinite(best):
                continue
            ok = near_src[arc_src] + 1 + near_snk[arc_dst] <= best + slack
            arcs.update(np.nonzero(ok)[0].tolist())
        allowed.append(tuple(sorted(arcs)))
    return kept, tuple(allowed)


def _wall_left(params: SolveParams, started: float) -> float | None:
    """What remains of the run's wall-clock cap (None: no cap)."""
    if params.wall_time is None:
        return None
    return max(0.5, params.wall_time - (time.monotonic() - started))


def solve_two_stage(ip: IndexedProblem, params: SolveParams) -> PnRSolution:
    """Place on a wirelength proxy, then solve the joint model in a growing
    window around that placement (module docstring)."""
    problem = ip.problem
    started = time.monotonic()
    geo = geometry(ip)
    dims = len(next(iter(geo.coords.values()), ()))
    coords = tuple(geo.coords.get(mi, (0,) * dims) for mi in range(len(problem.matches)))
    edges = []
    for net in problem.nets:
        if net.source.is_fixed:
            continue
        for sink in net.sinks:
            if not sink.is_fixed:
                edges.append((net.source.sw_node, sink.sw_node, 1))
    budget = params.deterministic_time
    spent = 0.0
    cuts: list[tuple[int, ...]] = []
    # 1. a placement whose every edge has at least one physical path
    while True:
        place_params = replace(params, deterministic_time=max(1.0, 0.2 * (budget - spent)),
                               wall_time=_wall_left(params, started), log_progress=None)
        placed = solve_placement(
            PlacementProblem(problem.num_sw_nodes, problem.matches, coords, tuple(edges),
                             problem.resource_capacity, nogoods=tuple(cuts)),
            place_params,
        )
        spent += max(placed.deterministic_time, 0.05)
        if not placed.feasible:
            return PnRSolution(status=placed.status, objective=None, bound=None,
                               wall_time=time.monotonic() - started, conflict=placed.conflict)
        unroutable = _unroutable(problem, geo.port_graph, placed.node_match)
        if not unroutable or spent >= budget or (_wall_left(params, started) or 2.0) <= 1.0:
            break
        for ni, ki in unroutable:  # forbid exactly the disconnected pair
            net = problem.nets[ni]
            pair = tuple(sorted({placed.node_match[e.sw_node]
                                 for e in (net.source, net.sinks[ki]) if not e.is_fixed}))
            if pair and pair not in cuts:
                cuts.append(pair)
    # 2. joint place-and-route in a window around it, widening on failure
    k, slack = 3, 4
    last: PnRSolution | None = None
    while spent < budget and (_wall_left(params, started) or 2.0) > 1.0:
        kept, allowed = _window(problem, geo.port_graph, coords, placed.node_match, k, slack)
        index = {mi: i for i, mi in enumerate(kept)}
        sub = PnRProblem(**{**problem.__dict__, "matches": tuple(problem.matches[i] for i in kept),
                            "net_arcs": allowed})
        sub_params = replace(params, deterministic_time=max(1.0, budget - spent),
                             wall_time=_wall_left(params, started))
        routed = solve(sub, sub_params, hint=tuple(index.get(mi, -1)
                                                   for mi in placed.node_match))
        spent += max(routed.deterministic_time, 0.05)
        if params.log_progress:
            params.log_progress(f"window k={k} slack={slack}: {len(kept)} matches, "
                                f"{sum(map(len, allowed))} arcs, {routed.status}")
        if routed.feasible:
            node_match = tuple(kept[i] if i >= 0 else -1 for i in routed.node_match)
            # optimal within the window only: no global proof
            return replace(routed, status="FEASIBLE", node_match=node_match,
                           wall_time=time.monotonic() - started)
        last = routed
        if routed.status != "INFEASIBLE":
            break  # out of budget inside the window
        k, slack = k * 2, slack + 4
    return last or PnRSolution(status="UNKNOWN", objective=None, bound=None,
                               wall_time=time.monotonic() - started)
