"""Negotiated-congestion routing (PathFinder) on the port graph.

For DFGs whose joint CP-SAT model is too large, routing under a fixed
placement is first solved heuristically: every net is routed as a tree by
shortest paths, ports used by more nets than they can carry get more expensive
(a *present* cost that grows each iteration and a *history* cost that
accumulates), and the congested nets are ripped up and rerouted until no port is
over capacity (McMurchie & Ebeling's PathFinder, as in VPR).

The result only prunes the exact model: the caller hands the routes to the
joint CP-SAT model (:mod:`loomc.solvers.pnr`) as each net's allowed arcs, and
that model — tags, temporal slots, switch rules and all — decides.  So the
router may be approximate where the exact rules are intricate: a tagged port
counts as ``2**tag_bits`` units of capacity without choosing tags.

Trees, not paths: a sink is reached from *any* port already on its net's tree
(those are the search's sources at distance 0), so branches start where the
hardware broadcasts (a switch input feeding several outputs, spec-mapper-
model.md C3.6) and no port of the net is entered twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from loomc.solvers.pnr import Arc
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

#: added to every arc's weight so that zero-weight arcs (switch internals) still
#: make longer paths more expensive and scipy sees no explicit zeros
_EPS = 0.05


@dataclass(frozen=True)
class RouteNet:
    """One net under a fixed placement: its source port and sink ports
    (None for a sink kept inside a multi-op PE, which needs no route)."""

    source: int
    sinks: tuple[int | None, ...]


@dataclass(frozen=True)
class Routing:
    """Outcome of :func:`route`.  ``routes[n][k]`` is the ordered arc list of
    net ``n``'s sink ``k`` (from its tree's branch point); ``overused`` lists the
    ports still over capacity (empty on success); ``congested_nets`` the nets
    through them."""

    routes: tuple[tuple[tuple[int, ...], ...], ...]
    overused: tuple[int, ...]
    congested_nets: tuple[int, ...]
    unreachable: tuple[tuple[int, int], ...]
    iterations: int

    @property
    def legal(self) -> bool:
        return not self.overused and not self.unreachable


class PortGraph:
    """The arcs of a :class:`~loomc.solvers.pnr.PnRProblem` as a CSR matrix
    whose data can be re-weighted in place (one vectorised update per net)."""

    def __init__(self, num_ports: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray):
        self.num_ports = num_ports
        order = np.lexsort((dst, src))
        # parallel arcs between one port pair: keep the first (same hop either way)
        keep = np.ones(len(order), dtype=bool)
        s, d = src[order], dst[order]
        keep[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
        self.arc_ids = order[keep]
        self.src = src[self.arc_ids]
        self.dst = dst[self.arc_ids]
        self.base = weight[self.arc_ids].astype(float) + _EPS
        self.matrix = csr_matrix((self.base.copy(), (self.src, self.dst)),
                                 shape=(num_ports, num_ports))
        self.matrix.sort_indices()
        # CSR order equals our (src, dst) lexicographic order, so data[i] is arc i
        self._arc_at = {(int(a), int(b)): int(i) for a, b, i in
                        zip(self.src, self.dst, self.arc_ids, strict=True)}
        self._src_of = {int(i): int(a) for a, i in zip(self.src, self.arc_ids, strict=True)}

    @classmethod
    def of(cls, arcs: Sequence[Arc], num_ports: int) -> PortGraph:
        return cls(num_ports, np.array([a.src for a in arcs], dtype=np.int64),
                   np.array([a.dst for a in arcs], dtype=np.int64),
                   np.array([a.weight for a in arcs], dtype=np.int64))

    def arc(self, a: int, b: int) -> int:
        return self._arc_at[a, b]

    def arc_src(self, arc_id: int) -> int:
        return self._src_of[arc_id]

    def set_costs(self, port_cost: np.ndarray, port_factor: np.ndarray) -> None:
        self.matrix.data[:] = (self.base + port_cost[self.dst]) * port_factor[self.dst]


class PortDistances:
    """Routed distance (arc weights, ``inf`` if unreachable) from a set of
    source ports to every port, computed once up front."""

    def __init__(self, graph: PortGraph, sources: Iterable[int]):
        order = sorted(set(sources))
        self._row = {p: i for i, p in enumerate(order)}
        self.table = (dijkstra(graph.matrix, directed=True, indices=order).astype(np.float32)
                      if order else np.zeros((0, graph.num_ports), dtype=np.float32))

    def __call__(self, a: int, b: int) -> float:
        return float(self.table[self._row[a], b])

    def row(self, a: int) -> np.ndarray:
        return self.table[self._row[a]]

    def reachable(self, a: int, b: int) -> bool:
        return bool(np.isfinite(self.table[self._row[a], b]))


def route(graph: PortGraph, nets: tuple[RouteNet, ...], capacity: np.ndarray, *,
          max_iterations: int = 40, present_start: float = 0.5, present_growth: float = 1.6,
          history_step: float = 1.0, history: np.ndarray | None = None) -> Routing:
    """Route every net; negotiate until no port is over ``capacity`` or the
    iteration limit is reached.  Deterministic: nets are visited in index order.

    ``history`` (per port, updated in place) lets a caller carry congestion
    knowledge across placements."""
    n_ports = graph.num_ports
    hist = history if history is not None else np.zeros(n_ports)
    occ = np.zeros(n_ports, dtype=np.int64)
    trees: list[list[tuple[int, ...]]] = [[() for _ in net.sinks] for net in nets]
    ports_of: list[np.ndarray] = [np.zeros(0, dtype=np.int64) for _ in nets]
    unreachable: set[tuple[int, int]] = set()
    present = present_start
    todo = list(range(len(nets)))
    iteration = 0
    overused = np.zeros(0, dtype=np.int64)
    while iteration < max_iterations:
        iteration += 1
        for ni in todo:
            occ[ports_of[ni]] -= 1  # rip up
            over = np.maximum(0, occ + 1 - capacity)
            graph.set_costs(hist, 1.0 + present * over)
            trees[ni], ports = _route_net(graph, nets[ni], ni, unreachable)
            ports_of[ni] = ports
            occ[ports] += 1
        overused = np.nonzero(occ > capacity)[0]
        if overused.size == 0:
            break
        hist[overused] += history_step * (occ[overused] - capacity[overused])
        present *= present_growth
        bad = set(overused.tolist())
        todo = [ni for ni in range(len(nets)) if bad.intersection(ports_of[ni].tolist())]
    bad = set(overused.tolist())
    congested = tuple(ni for ni in range(len(nets)) if bad.intersection(ports_of[ni].tolist()))
    return Routing(
        routes=tuple(tuple(t) for t in trees), overused=tuple(int(p) for p in overused),
        congested_nets=congested, unreachable=tuple(sorted(unreachable)), iterations=iteration,
    )


def _route_net(graph: PortGraph, net: RouteNet, ni: int,
               unreachable: set[tuple[int, int]]) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """Grow one net's tree: repeatedly connect the nearest unconnected sink to
    the tree (one multi-source shortest-path search per sink).  Each sink's
    route is its full source-to-sink path through the tree."""
    on_tree = [net.source]
    parent: dict[int, int | None] = {net.source: None}  # port -> arc entering it
    paths: list[tuple[int, ...]] = [() for _ in net.sinks]
    pending = {ki: p for ki, p in enumerate(net.sinks) if p is not None}
    if not pending:
        return paths, np.zeros(0, dtype=np.int64)
    while pending:
        dist, pred, _ = dijkstra(graph.matrix, directed=True, indices=on_tree,
                                 return_predecessors=True, min_only=True)
        ki = min(pending, key=lambda k: (dist[pending[k]], k))
        target = pending.pop(ki)
        if not np.isfinite(dist[target]):
            unreachable.add((ni, ki))
            continue
        port = target
        while port not in parent:
            prev = int(pred[port])
            parent[port] = graph.arc(prev, port)
            on_tree.append(port)
            port = prev
        hops = []
        port = target
        while parent[port] is not None:
            a = parent[port]
            hops.append(a)
            port = graph.arc_src(a)
        paths[ki] = tuple(reversed(hops))
    return paths, np.fromiter(parent, dtype=np.int64, count=len(parent))
