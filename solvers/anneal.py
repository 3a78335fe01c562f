"""Placement refinement by simulated annealing on true routing distances.

The CP-SAT placement model (:mod:`loomc.solvers.placement`) measures wirelength
in an embedding of the fabric, which flattens detours that the real routing
network forces (a memory reachable from one switch only, a one-way ring).
Annealing instead prices every DFG edge by the shortest routed distance
between the two hardware ports its placement binds (VPR's approach to
placement, spec-mapper-algorithm.md "Stage 2" uses the same routing-cost
estimate greedily).

Moves keep the placement resource-feasible: a *unit* (the DFG nodes one chosen
match covers) moves to another match covering the same nodes, or swaps
hardware with the unit holding the resource it wants.  The schedule is VPR's
(acceptance-rate driven cooling); the move budget is a count, and a seeded
generator makes the result reproducible.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loomc.solvers.pnr import Endpoint, Match, Net

#: cost of an edge whose two ports have no path at all
UNROUTABLE = 1000.0


@dataclass(frozen=True)
class AnnealResult:
    node_match: tuple[int, ...]
    cost: float
    moves: int


class _State:
    """Chosen matches, resource usage and per-edge costs of one placement."""

    def __init__(self, matches: Sequence[Match], nets: Sequence[Net], node_match: Sequence[int],
                 capacity: dict[str, int], distance: Callable[[int, int], float],
                 weights: Sequence[float]):
        self.matches = matches
        self.capacity = capacity
        self.distance = distance
        self.node_match = list(node_match)
        self.edges: list[tuple[Endpoint, Endpoint]] = [
            (net.source, sink) for net in nets for sink in net.sinks]
        self.weights = list(weights) if weights else [1.0] * len(self.edges)
        self.node_edges: dict[int, list[int]] = defaultdict(list)
        for ei, (src, snk) in enumerate(self.edges):
            for end in (src, snk):
                if not end.is_fixed:
                    self.node_edges[end.sw_node].append(ei)
        self.out_port = [{(sw, i): p for sw, i, p in m.outputs} for m in matches]
        self.in_port = [{(sw, i): p for sw, i, p in m.inputs} for m in matches]
        self.usage: dict[str, int] = defaultdict(int)
        for mi in set(self.node_match):
            if mi >= 0:
                for key, amount in matches[mi].uses:
                    self.usage[key] += amount
        self.edge_cost = [self._edge(ei) for ei in range(len(self.edges))]
        self.cost = sum(self.edge_cost)

    def _port(self, end: Endpoint, outputs: bool) -> int | None:
        if end.is_fixed:
            return end.hw_port
        mi = self.node_match[end.sw_node]
        table = self.out_port[mi] if outputs else self.in_port[mi]
        return table.get((end.sw_node, end.index))

    def _edge(self, ei: int) -> float:
        src, snk = self.edges[ei]
        a, b = self._port(src, True), self._port(snk, False)
        if a is None or b is None:
            return 0.0  # inside one multi-op PE
        d = self.distance(a, b)
        return self.weights[ei] * (d if math.isfinite(d) else UNROUTABLE)

    def fits(self, remove: Sequence[int], add: Sequence[int]) -> bool:
        delta: dict[str, int] = defaultdict(int)
        for mi in remove:
            for key, amount in self.matches[mi].uses:
                delta[key] -= amount
        for mi in add:
            for key, amount in self.matches[mi].uses:
                delta[key] += amount
        return all(self.usage[k] + d <= self.capacity.get(k, 1 << 30)
                   for k, d in delta.items() if d > 0)

    def apply(self, changes: Sequence[tuple[int, int]]) -> float:
        """Replace match ``old`` by ``new`` for each pair; return the cost delta."""
        touched: set[int] = set()
        for old, new in changes:
            for key, amount in self.matches[old].uses:
                self.usage[key] -= amount
            for key, amount in self.matches[new].uses:
                self.usage[key] += amount
            for v in self.matches[new].sw_nodes:
                self.node_match[v] = new
                touched.update(self.node_edges.get(v, ()))
        delta = 0.0
        for ei in touched:
            c = self._edge(ei)
            delta += c - self.edge_cost[ei]
            self.edge_cost[ei] = c
        self.cost += delta
        return delta


def anneal(matches: Sequence[Match], nets: Sequence[Net], start: Sequence[int],
           capacity: dict[str, int], distance: Callable[[int, int], float], *,
           seed: int = 0, max_moves: int = 200_000, weights: Sequence[float] = (),
           heat: float = 20.0) -> AnnealResult:
    """Refine the resource-feasible placement ``start`` (a match per DFG node).
    ``heat``: starting temperature in standard deviations of a random move's
    cost change (VPR uses 20; a lower value refines rather than restarts)."""
    rng = random.Random(seed)
    state = _State(matches, nets, start, capacity, distance, weights)
    alternatives: dict[tuple[int, ...], list[int]] = defaultdict(list)
    by_use: dict[tuple[tuple[int, ...], tuple], int] = {}
    for mi, m in enumerate(matches):
        alternatives[m.sw_nodes].append(mi)
        by_use.setdefault((m.sw_nodes, m.uses), mi)
    holder: dict[str, set[int]] = defaultdict(set)  # exclusive resource -> match holding it
    units = sorted({mi for mi in state.node_match if mi >= 0})
    for mi in units:
        for key, _ in matches[mi].uses:
            holder[key].add(mi)
    movable = [mi for mi in units if len(alternatives[matches[mi].sw_nodes]) > 1]
    if not movable or not state.edges:
        return AnnealResult(tuple(state.node_match), state.cost, 0)

    def propose() -> list[tuple[int, int]] | None:
        unit_node = matches[rng.choice(movable)].sw_nodes[0]
        old = state.node_match[unit_node]
        alts = alternatives[matches[old].sw_nodes]
        new = alts[rng.randrange(len(alts))]
        if new == old:
            return None
        if state.fits([old], [new]):
            return [(old, new)]
        # swap with the unit that holds what ``new`` needs
        others = {o for key, _ in matches[new].uses for o in holder.get(key, ())} - {old}
        if len(others) != 1:
            return None
        other = others.pop()
        back = by_use.get((matches[other].sw_nodes, matches[old].uses))
        if back is None or set(matches[other].sw_nodes) & set(matches[old].sw_nodes):
            return None
        if not state.fits([old, other], [new, back]):
            return None
        return [(old, new), (other, back)]

    def commit(changes) -> None:
        for old, _new in changes:
            for key, _ in matches[old].uses:
                holder[key].discard(old)
        for _, new in changes:
            for key, _ in matches[new].uses:
                holder[key].add(new)

    def undo(changes) -> None:
        state.apply([(new, old) for old, new in reversed(changes)])

    # initial temperature: spread of random move deltas (VPR)
    deltas = []
    for _ in range(min(200, 10 * len(movable))):
        ch = propose()
        if ch:
            deltas.append(state.apply(ch))
            undo(ch)
    temperature = heat * (float(_std(deltas)) or 1.0)
    per_temperature = max(50, int(len(movable) ** (4 / 3) * 10))
    best, best_cost, moves = list(state.node_match), state.cost, 0
    n_edges = len(state.edges)
    while moves < max_moves:
        accepted = 0
        for _ in range(per_temperature):
            moves += 1
            ch = propose()
            if not ch:
                continue
            d = state.apply(ch)
            if d <= 0 or rng.random() < math.exp(-d / temperature):
                commit(ch)
                accepted += 1
                if state.cost < best_cost - 1e-9:
                    best, best_cost = list(state.node_match), state.cost
            else:
                undo(ch)
        rate = accepted / per_temperature
        temperature *= 0.5 if rate > 0.96 else 0.9 if rate > 0.8 else 0.95 if rate > 0.15 else 0.8
        if temperature < 0.005 * state.cost / n_edges:
            break
    return AnnealResult(tuple(best), best_cost, moves)


def _std(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return 0.0
    mean = sum(xs) / len(xs)
    return math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
