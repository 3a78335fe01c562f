"""Resource shortage by counting: a Hall's-theorem check before any solve.

Every DFG op needs its own unit of some resource (a PE, one instruction slot
of a temporal PE, a memory), and only the hardware its surviving candidates
name (after reachability pruning) will do.  If a maximum bipartite matching of
ops to resource units leaves an op out, König's construction yields a set of
ops whose candidate hardware is smaller than the set: the shortage, in
numbers, found in milliseconds (the issue: a template too small for an app is
rejected within seconds, naming op kind, needed and available).

Only ops that must occupy a resource alone are counted: an op that some
multi-op match could place together with others is left out, so the check
never rejects a DFG that fits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import networkx as nx
from networkx.algorithms import bipartite

from loomc.mapper.problem import IndexedProblem


@dataclass(frozen=True)
class Shortage:
    """A set of DFG nodes that together need more resource units than exist."""

    sw_nodes: tuple[int, ...]
    #: resource units (``key#k``) all of their candidates draw from
    units: tuple[str, ...]
    #: hardware node names behind those units
    hosts: tuple[str, ...]


def find_shortage(ip: IndexedProblem) -> Shortage | None:
    """The Hall violator of the ops-to-resource-units matching, if any."""
    problem = ip.problem
    capacity = dict(problem.resource_capacity)
    grouped = {v for m in problem.matches if len(m.sw_nodes) > 1 for v in m.sw_nodes}
    need: dict[int, set[str]] = defaultdict(set)
    host_of: dict[str, str] = {}
    for mi, m in enumerate(problem.matches):
        if len(m.sw_nodes) != 1 or m.sw_nodes[0] in grouped:
            continue
        for key, amount in m.uses:
            if amount != 1:
                continue
            for k in range(capacity.get(key, 1)):
                unit = f"{key}#{k}"
                need[m.sw_nodes[0]].add(unit)
                host_of[unit] = ip.candidates[mi].hw_node
    graph = nx.Graph()
    ops = sorted(need)
    graph.add_nodes_from((("op", v) for v in ops), bipartite=0)
    for v in ops:
        graph.add_edges_from((("op", v), ("unit", u)) for u in sorted(need[v]))
    matching = bipartite.hopcroft_karp_matching(graph, top_nodes=[("op", v) for v in ops])
    free = [v for v in ops if ("op", v) not in matching]
    if not free:
        return None
    # König: ops reachable from an unmatched op by alternating paths
    seen_ops, seen_units = {free[0]}, set()
    frontier = [free[0]]
    while frontier:
        v = frontier.pop()
        for u in need[v]:
            if u in seen_units:
                continue
            seen_units.add(u)
            mate = matching.get(("unit", u))
            if mate is not None and mate[1] not in seen_ops:
                seen_ops.add(mate[1])
                frontier.append(mate[1])
    units = tuple(sorted(seen_units))
    return Shortage(tuple(sorted(seen_ops)), units,
                    tuple(sorted({host_of[u] for u in units})))


def describe(ip: IndexedProblem, shortage: Shortage, op_names: dict[str, str]) -> str:
    """``3 handshake.load need 3 units, 2 available (on load_a, load_b)``."""
    kinds = Counter(op_names[ip.sw_node_ids[v]] for v in shortage.sw_nodes)
    what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    hosts = ", ".join(shortage.hosts[:6]) + (", ..." if len(shortage.hosts) > 6 else "")
    return (f"{what}: need {len(shortage.sw_nodes)} hardware units, "
            f"{len(shortage.units)} available ({hosts or 'none'})")
