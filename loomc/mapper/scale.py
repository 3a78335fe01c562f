"""Scale strategy for DFGs beyond the joint model's reach.

The joint CP-SAT model has one flow variable per (DFG edge, routing arc): a
111-op app on Loom's small template would need ~8 million.  Above a size
threshold loomc therefore narrows the joint model down before solving it:

1. **Initial placement** (:mod:`loomc.solvers.placement`): CP-SAT with the exact
   placement constraints (resources, groups, temporal slots) and Manhattan
   wirelength in an embedding of the fabric (classical MDS of hop distances).
   An infeasible placement is the resource shortage, proven.
2. **Annealing** (:mod:`loomc.solvers.anneal`) on true routed distances between
   the ports each placement binds.
3. **Negotiated-congestion routing** (:mod:`loomc.solvers.pathfinder`) of every
   net as a tree.  If ports stay over capacity, the edges of the congested nets
   weigh more, the congestion history is kept, and annealing runs again.
4. **Exact finish** (:mod:`loomc.solvers.pnr`): the joint model restricted to
   the chosen matches and, per net, to the arcs of its routed tree; it decides
   tags, temporal slots and switch rules exactly.  If that is infeasible the
   window grows: each DFG node keeps its ``k`` nearest candidates and each net
   the arcs of its *corridors* (arcs on some path at most ``slack`` hops longer
   than the shortest between its endpoints' candidates); ``k`` doubles and
   ``slack`` grows until the budget is spent.

The result is a normal :class:`~loomc.solvers.pnr.PnRSolution` over the joint
problem's indices, so decoding, emission and verification do not care which
path produced it.  Optimality is not claimed: the status is FEASIBLE and no
global bound is reported (the window's bound holds for the window only).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import eigh
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra, shortest_path

from loomc.mapper.problem import IndexedProblem
from loomc.solvers.anneal import anneal
from loomc.solvers.pathfinder import PortDistances, PortGraph, RouteNet, Routing, route
from loomc.solvers.placement import PlacementProblem, solve_placement
from loomc.solvers.pnr import PnRProblem, PnRSolution, SolveParams, solve

#: joint model size (flow variables) up to which the joint model runs directly
DIRECT_LIMIT = 60_000
#: joint model size up to which the joint model still refines the scale
#: strategy's mapping (and can prove infeasibility); above it, windows only
JOINT_LIMIT = 250_000


def joint_size(problem: PnRProblem) -> int:
    """Flow variables of the joint model (arcs usable by a net x its sinks)."""
    if problem.net_arcs is None:
        return len(problem.arcs) * sum(len(n.sinks) for n in problem.nets)
    return sum(len(problem.arcs) if arcs is None else len(arcs)
               for arcs, net in zip(problem.net_arcs, problem.nets, strict=True)
               for _ in net.sinks)


@dataclass(frozen=True)
class Geometry:
    """Hop distances on the port graph and coordinates of hardware nodes."""

    port_graph: csr_matrix
    coords: dict[int, tuple[int, ...]]  # match index -> coordinates


def _embed(dist: np.ndarray, dims: int = 3, scale: float = 4.0) -> np.ndarray:
    """Classical MDS: coordinates whose Euclidean distances approximate ``dist``."""
    n = dist.shape[0]
    finite = dist[np.isfinite(dist)]
    big = (finite.max() if finite.size else 1.0) * 2
    d = np.where(np.isfinite(dist), dist, big)
    d = (d + d.T) / 2
    j = np.eye(n) - np.ones((n, n)) / n
    b = -0.5 * j @ (d**2) @ j
    k = min(dims, n)
    vals, vecs = eigh(b, subset_by_index=[n - k, n - 1])  # the k largest only
    order = np.argsort(vals)[::-1]
    x = vecs[:, order] * np.sqrt(np.maximum(vals[order], 0))
    return np.rint((x - x.min(axis=0)) * scale).astype(int)


def geometry(ip: IndexedProblem) -> Geometry:
    """Embed every match's hardware node using port-graph hop distances between
    one representative port per hardware node."""
    problem = ip.problem
    # hop counts only: the weights of this graph are ignored here and in _window
    graph = PortGraph.of(problem.arcs, problem.num_ports).matrix
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


def _bound_port(problem: PnRProblem, node_match, end, outputs: bool) -> int | None:
    if end.is_fixed:
        return end.hw_port
    match = problem.matches[node_match[end.sw_node]]
    for sw, idx, port in match.outputs if outputs else match.inputs:
        if sw == end.sw_node and idx == end.index:
            return port
    return None


def _hops(graph: csr_matrix, ports: list[int]) -> dict[int, np.ndarray]:
    """Hop counts from each of ``ports`` to every port."""
    if not ports:
        return {}
    return dict(zip(ports, dijkstra(graph, indices=ports, unweighted=True), strict=True))


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
    d_from = _hops(graph, all_src)
    d_to = _hops(graph.T.tocsr(), all_snk)
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


#: annealing moves of the first round (later rounds refine with a third of it)
ANNEAL_MOVES = 60_000
#: rounds of annealing + negotiated routing before the window search takes over
MAX_ROUNDS = 6
#: deterministic seconds charged per annealing + routing round (they run outside
#: CP-SAT, so the budget counts them as a fixed amount of work)
ROUND_COST = 2.0


def _route_nets(problem: PnRProblem, node_match) -> tuple[RouteNet, ...]:
    nets = []
    for net in problem.nets:
        src = _bound_port(problem, node_match, net.source, outputs=True)
        sinks = tuple(_bound_port(problem, node_match, s, outputs=False) for s in net.sinks)
        nets.append(RouteNet(-1 if src is None else src,
                             sinks if src is not None else tuple(None for _ in sinks)))
    return tuple(nets)


def _sub_problem(problem: PnRProblem, kept: tuple[int, ...], allowed) -> PnRProblem:
    return PnRProblem(**{**problem.__dict__, "matches": tuple(problem.matches[i] for i in kept),
                         "net_arcs": allowed})


def _solve_window(problem: PnRProblem, kept: tuple[int, ...], allowed, node_match,
                  params: SolveParams) -> PnRSolution:
    """The joint model on a window; the solution comes back in full indices."""
    index = {mi: i for i, mi in enumerate(kept)}
    solved = solve(_sub_problem(problem, kept, allowed), params, explain=False,
                   hint=tuple(index.get(mi, -1) for mi in node_match))
    if not solved.feasible:
        return solved
    return replace(solved, node_match=tuple(kept[i] if i >= 0 else -1
                                            for i in solved.node_match))


def solve_two_stage(ip: IndexedProblem, params: SolveParams, windows: bool = True) -> PnRSolution:
    """Place, anneal, negotiate routes, then finish exactly on the routed trees
    and — with ``windows`` — in growing windows (module docstring).  The
    result's ``deterministic_time`` is the budget used.  When no mapping is
    found, ``node_match``/``routes`` of the result hold the least congested
    attempt (not a mapping), a starting point for CP-SAT to repair."""
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
    log = params.log_progress or (lambda _msg: None)

    def wall_ok() -> bool:
        return (_wall_left(params, started) or 2.0) > 1.0

    # 1. a resource-feasible placement with short embedded wirelength
    place_params = replace(params, deterministic_time=max(1.0, 0.1 * budget),
                           wall_time=_wall_left(params, started), log_progress=None)
    placed = solve_placement(
        PlacementProblem(problem.num_sw_nodes, problem.matches, coords, tuple(edges),
                         problem.resource_capacity),
        place_params,
    )
    spent += max(placed.deterministic_time, 0.05)
    if placed.status == "UNKNOWN":  # no placement yet: settle for any feasible one
        placed = solve_placement(
            PlacementProblem(problem.num_sw_nodes, problem.matches, coords, (),
                             problem.resource_capacity), place_params)
        spent += max(placed.deterministic_time, 0.05)
    if not placed.feasible:
        return PnRSolution(status=placed.status, objective=None, bound=None,
                           wall_time=time.monotonic() - started, conflict=placed.conflict,
                           deterministic_time=spent)

    # 2-3. anneal on routed distances, negotiate routes; congested edges weigh more
    graph = PortGraph.of(problem.arcs, problem.num_ports)
    sources = {p for m in problem.matches for _, _, p in m.outputs}
    sources |= {n.source.hw_port for n in problem.nets if n.source.is_fixed}
    distance = PortDistances(graph, sources)
    capacity = np.array([1 if b == 0 else 2**b for b in problem.port_tag_bits], dtype=np.int64)
    for port, cap in problem.port_capacity:
        capacity[port] = cap
    history = np.zeros(problem.num_ports)
    sink_counts = [len(n.sinks) for n in problem.nets]
    edge_of_net = np.repeat(np.arange(len(problem.nets)), sink_counts)
    weights = np.ones(len(edge_of_net))
    node_match = placed.node_match
    routing: Routing | None = None
    nearest: tuple[tuple[int, ...], Routing] | None = None  # fewest ports over capacity
    # with the joint model as the fallback, give up on negotiation sooner
    for rnd in range(MAX_ROUNDS if windows else MAX_ROUNDS // 2):
        if spent >= budget or not wall_ok():
            break
        annealed = anneal(problem.matches, problem.nets, node_match,
                          dict(problem.resource_capacity), distance, seed=params.seed + rnd,
                          weights=weights.tolist(), heat=20.0 if rnd == 0 else 2.0,
                          max_moves=ANNEAL_MOVES if rnd == 0 else ANNEAL_MOVES // 3)
        node_match = annealed.node_match
        routing = route(graph, _route_nets(problem, node_match), capacity, history=history)
        spent += ROUND_COST
        if nearest is None or len(routing.overused) < len(nearest[1].overused):
            nearest = (node_match, routing)
        log(f"round {rnd + 1}: wirelength {annealed.cost:.0f}, routing "
            f"{'legal' if routing.legal else f'{len(routing.overused)} ports over capacity'}"
            f" after {routing.iterations} iterations")
        if routing.legal:
            break
        bad = set(routing.congested_nets) | {ni for ni, _ in routing.unreachable}
        weights[np.isin(edge_of_net, sorted(bad))] *= 1.5
        # congestion-aware distances: a port that stayed crowded costs its history
        graph.set_costs(history, np.ones(problem.num_ports))
        distance = PortDistances(graph, sources)

    # 4. exact finish on the routed trees, then in growing windows
    if routing is not None and routing.legal and spent < budget and wall_ok():
        kept = tuple(sorted({mi for mi in node_match if mi >= 0}))
        allowed = tuple(tuple(sorted({a for path in per_sink for a in path}))
                        for per_sink in routing.routes)
        finished = _solve_window(problem, kept, allowed, node_match, replace(
            params, deterministic_time=max(1.0, budget - spent),
            wall_time=_wall_left(params, started)))
        spent += max(finished.deterministic_time, 0.05)
        log(f"exact finish on the routed trees: {finished.status}")
        if finished.feasible:
            return replace(finished, status="FEASIBLE", bound=None,
                           wall_time=time.monotonic() - started, deterministic_time=spent)
    k, slack = 1, 2
    last: PnRSolution | None = None
    previous = None
    while windows and spent < budget and wall_ok():
        kept, allowed = _window(problem, geo.port_graph, coords, node_match, k, slack)
        if (kept, allowed) == previous:
            break  # the window covers everything the corridors can reach
        previous = kept, allowed
        routed = _solve_window(problem, kept, allowed, node_match, replace(
            params, deterministic_time=max(1.0, budget - spent),
            wall_time=_wall_left(params, started)))
        spent += max(routed.deterministic_time, 0.05)
        log(f"window k={k} slack={slack}: {len(kept)} matches, "
            f"{sum(map(len, allowed))} arcs, {routed.status}")
        if routed.feasible:
            return replace(routed, status="FEASIBLE", bound=None,
                           wall_time=time.monotonic() - started, deterministic_time=spent)
        last = routed
        if routed.status != "INFEASIBLE":
            break  # out of budget inside the window
        k, slack = k * 2, slack + 2
    last = last or PnRSolution(status="UNKNOWN", objective=None, bound=None, wall_time=0.0)
    # an infeasible window proves nothing about the whole problem
    last = replace(last, status="UNKNOWN", conflict=())
    if nearest is not None:
        # not a mapping: the least congested attempt, for the caller to repair
        last = replace(last, node_match=nearest[0], routes=nearest[1].routes)
    return replace(last, wall_time=time.monotonic() - started, deterministic_time=spent)
