"""Candidate pruning by routing reachability (arc consistency on DFG edges).

Tech-mapping (spec-mapper-algorithm.md "Stage 1") matches an op to every
hardware node that can execute it, whether or not the routing network connects
that node to anything the op's neighbours can use.  Loom's templates split
traffic into per-width networks, so e.g. an ``f32`` load matched by width to an
index-typed load PE can never deliver its data to an ``addf``.

A match survives only if, for every DFG edge at each of its bound ports, some
surviving match of the other endpoint binds a port it can reach (C3: a
physical path must exist).  Removing a match can strand others, so this runs to
a fixpoint (AC-3).  Every removed match is part of no valid mapping, so the
joint model's solutions are unchanged — it only gets smaller — and a DFG node
left with no match is a proof that no mapping exists.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, replace

import numpy as np

from loomc.mapper.problem import IndexedProblem
from loomc.solvers.pathfinder import PortDistances, PortGraph
from loomc.solvers.pnr import Endpoint, Match, PnRProblem


@dataclass(frozen=True)
class Pruned:
    """The pruned problem, or the DFG edge that cannot be routed at all."""

    problem: IndexedProblem
    #: (net index, sink index) of an edge with no connectable placement pair
    dead_edge: tuple[int, int] | None = None
    #: DFG node left without any match
    dead_node: int | None = None
    removed: int = 0


def _port(match: Match, end: Endpoint, outputs: bool) -> int | None:
    for sw, idx, port in match.outputs if outputs else match.inputs:
        if sw == end.sw_node and idx == end.index:
            return port
    return None


def prune_unreachable(ip: IndexedProblem) -> Pruned:
    """Drop matches that cannot take part in any routable mapping."""
    problem = ip.problem
    graph = PortGraph.of(problem.arcs, problem.num_ports)
    sources = {p for m in problem.matches for _, _, p in m.outputs}
    sources |= {n.source.hw_port for n in problem.nets if n.source.is_fixed}
    reach = PortDistances(graph, sources)
    # temporal PEs whose internal registers can carry an edge between two of
    # their instructions with no route at all (C5.2, solvers.pnr)
    with_regs = {t for t, n, _w in problem.temporal_registers if n > 0}
    alive = [True] * len(problem.matches)
    covering: dict[int, list[int]] = defaultdict(list)
    for mi, m in enumerate(problem.matches):
        for v in m.sw_nodes:
            covering[v].append(mi)
    edges = [(ni, ki, net.source, sink) for ni, net in enumerate(problem.nets)
             for ki, sink in enumerate(net.sinks)]
    by_node: dict[int, list[int]] = defaultdict(list)
    for ei, (_, _, src, snk) in enumerate(edges):
        for end in (src, snk):
            if not end.is_fixed:
                by_node[end.sw_node].append(ei)

    def ends(end: Endpoint, outputs: bool) -> list[tuple[int | None, int | None]]:
        """(match, bound port) options of one endpoint among the live matches."""
        if end.is_fixed:
            return [(None, end.hw_port)]
        return [(mi, _port(problem.matches[mi], end, outputs))
                for mi in covering[end.sw_node] if alive[mi]]

    def supported(ei: int) -> tuple[set[int], bool]:
        """Matches of either endpoint with a partner they connect to; and
        whether the edge has any connectable pair at all."""
        _, _, src, snk = edges[ei]
        good: set[int] = set()
        t_opts = ends(snk, False)
        t_ports = np.array([-1 if pt is None else pt for _, pt in t_opts], dtype=np.int64)
        t_bound = t_ports >= 0
        t_tpe = np.array([-1 if mt is None or problem.matches[mt].temporal_pe is None
                          else problem.matches[mt].temporal_pe for mt, _ in t_opts],
                         dtype=np.int64)
        for ms, ps in ends(src, True):
            tpe = None if ms is None else problem.matches[ms].temporal_pe
            in_reg = tpe is not None and tpe in with_regs
            if ms is not None and snk.sw_node in problem.matches[ms].sw_nodes:
                # the sink's node is in the source's own match: internal edge,
                # or a loop out of the match and back into it (or a register)
                pt = _port(problem.matches[ms], snk, False)
                ok = (ps is None and pt is None) or (
                    ps is not None and pt is not None and (in_reg or reach.reachable(ps, pt)))
                if ok:
                    good.add(ms)
                continue
            if ps is None or not t_opts:
                continue
            hit = t_bound & np.isfinite(reach.row(ps)[np.maximum(t_ports, 0)])
            if in_reg:
                hit |= t_bound & (t_tpe == tpe)
            if hit.any():
                if ms is not None:
                    good.add(ms)
                good.update(t_opts[i][0] for i in np.nonzero(hit)[0]
                            if t_opts[i][0] is not None)
        any_pair = bool(good) or (src.is_fixed and snk.is_fixed)
        return good, any_pair

    queue = deque(range(len(edges)))
    queued = set(queue)
    removed = 0
    while queue:
        ei = queue.popleft()
        queued.discard(ei)
        good, any_pair = supported(ei)
        ni, ki, src, snk = edges[ei]
        if not any_pair:
            return Pruned(ip, dead_edge=(ni, ki))
        for end in (src, snk):
            if end.is_fixed:
                continue
            for mi in covering[end.sw_node]:
                if alive[mi] and mi not in good:
                    alive[mi] = False
                    removed += 1
                    for v in problem.matches[mi].sw_nodes:
                        for other in by_node[v]:
                            if other not in queued:
                                queued.add(other)
                                queue.append(other)
    for v in range(problem.num_sw_nodes):
        if covering[v] and not any(alive[mi] for mi in covering[v]):
            return Pruned(ip, dead_node=v)
    if not removed:
        return Pruned(ip)
    kept = [mi for mi, ok in enumerate(alive) if ok]
    sub = PnRProblem(**{**problem.__dict__,
                        "matches": tuple(problem.matches[mi] for mi in kept)})
    return Pruned(replace(ip, problem=sub, candidates=tuple(ip.candidates[mi] for mi in kept)),
                  removed=removed)
