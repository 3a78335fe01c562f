"""Small conflicting sets for a mapping that cannot exist (spec-mapper.md
"diagnostics": unmapped nodes, failed edges, conflicting resources).

A solver proof of infeasibility says *that* no mapping exists; a user needs to
know *where*.  Both shrinkers here are deletion filters over proofs: an
element is dropped only when the rest is still proven infeasible, so the set
they return is always a proven conflict, and it is minimal when no solve ran
out of its limit (an undecided solve keeps the element — sound, not minimal).

* :func:`shrink_nodes` works on DFG nodes that must all be placed (capacity
  conflicts, C4/C5).
* :func:`routing_core` works on nets with every node placed: which DFG values
  cannot all be routed at once (C3).  It starts from CP-SAT's sufficient-
  assumptions core over "net n is routed" literals; without one, nets that
  share no routing arc (e.g. different width classes of a template), which
  interact only through placement, are tried group by group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from loomc.solvers.pnr import PnRProblem, SolveParams, net_conflict, solve


def shrink(items: tuple[int, ...], infeasible: Callable[[tuple[int, ...]], bool],
           exhausted: Callable[[], bool] = lambda: False) -> tuple[int, ...]:
    """Deletion filter in chunks: try dropping a chunk of the kept items and
    keep the drop whenever the rest is still ``infeasible``; halve the chunk
    size after each pass, down to single items (then the result is minimal).
    Large chunks first make a small core inside a large set cheap to find
    (a few solves per halving instead of one per item).  Stops early, with a
    still-proven set, once ``exhausted()``."""
    kept = list(items)
    size = max(1, len(kept) // 2)
    while kept:
        start = 0
        while start < len(kept) and len(kept) > 1:
            if exhausted():
                return tuple(kept)
            chunk = kept[start:start + size]
            rest = tuple(x for x in kept if x not in chunk)
            if rest and infeasible(rest):
                kept = list(rest)
            else:
                start += size
        if size == 1:
            break
        size = max(1, size // 2)
    return tuple(kept)


def shrink_nodes(problem: PnRProblem, core: tuple[int, ...], params: SolveParams,
                 drop_first: frozenset[int] = frozenset(), max_solves: int = 60) -> tuple[int, ...]:
    """Drop DFG nodes while the rest still cannot all be placed.  Nodes in
    ``drop_first`` (sentinels) are tried first, so the set names the hardware
    that is missing rather than the module ports that would feed it."""
    solves = 0

    def infeasible(nodes: tuple[int, ...]) -> bool:
        nonlocal solves
        solves += 1
        return solve(problem, params, require=nodes).status == "INFEASIBLE"

    order = tuple(sorted(core, key=lambda v: (v not in drop_first, v)))
    return shrink(order, infeasible, lambda: solves >= max_solves)


def with_nets(problem: PnRProblem, nets: tuple[int, ...]) -> PnRProblem:
    """The problem with only these nets to route (every node still placed)."""
    arcs = problem.net_arcs
    return replace(problem, nets=tuple(problem.nets[i] for i in nets),
                   net_arcs=None if arcs is None else tuple(arcs[i] for i in nets))


def net_groups(problem: PnRProblem) -> tuple[tuple[int, ...], ...]:
    """Nets joined when their usable arcs overlap (union-find), smallest group
    first: the independent routing sub-problems."""
    parent = list(range(len(problem.nets)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[int, int] = {}
    every = tuple(range(len(problem.arcs)))
    for ni in range(len(problem.nets)):
        arcs = every if problem.net_arcs is None or problem.net_arcs[ni] is None \
            else problem.net_arcs[ni]
        for a in arcs:
            if a in owner:
                parent[find(ni)] = find(owner[a])
            else:
                owner[a] = ni
    groups: dict[int, list[int]] = {}
    for ni in range(len(problem.nets)):
        groups.setdefault(find(ni), []).append(ni)
    return tuple(sorted((tuple(g) for g in groups.values()), key=lambda g: (len(g), g)))


def routing_core(problem: PnRProblem, params: SolveParams, max_solves: int = 40,
                 total: float | None = None) -> tuple[int, ...]:
    """Indices of nets that cannot all be routed with every DFG node placed.

    ``params`` bounds each solve; at most ``max_solves`` solves run, and none
    starts once ``total`` deterministic seconds are spent.  Returns every net
    when no smaller proven conflict was found."""
    everything = tuple(range(len(problem.nets)))
    solves, spent = 0, 0.0

    def infeasible(nets: tuple[int, ...]) -> bool:
        nonlocal solves, spent
        solves += 1
        result = solve(with_nets(problem, nets), params, explain=False)
        spent += result.deterministic_time
        return result.status == "INFEASIBLE"

    def out_of_budget() -> bool:
        return solves >= max_solves or (total is not None and spent >= total)

    # CP-SAT's own core under "net n is routed" assumptions: one solve, small
    # but not necessarily minimal
    first = net_conflict(problem, params)
    solves, spent = 1, first.deterministic_time
    core = first.conflict if first.status == "INFEASIBLE" and first.conflict else everything
    groups = net_groups(problem) if core == everything else ()
    if len(groups) > 1:
        for group in groups:
            if out_of_budget():
                break
            if infeasible(group):
                core = group
                break
    return shrink(core, infeasible, out_of_budget)
