"""``--prove-optimal`` on place-and-route mappings: a detoured (valid but longer)
mapping is shown improvable; the mapper's own mapping is proved optimal."""

from __future__ import annotations

import dataclasses

import networkx as nx

from loomc.graph import model
from loomc.mapper.cost import mapping_cost
from loomc.verify import verify_pnr
from loomc.verify.optimality import prove_pnr


def _port_graph(adg: nx.MultiDiGraph) -> nx.DiGraph:
    """Wires plus the internal connections of routing nodes (all ones tables here)."""
    g = nx.DiGraph()
    for e in model.edges(adg):
        g.add_edge(e.src_port, e.dst_port)
    for rec in model.nodes(adg):
        for a, b in rec.routes:
            g.add_edge(a, b)
    return g


def _detour(case):
    """The first route that has a strictly longer alternative over ports no other
    net uses, rerouted along that alternative."""
    g = _port_graph(case.adg)
    used_by: dict[str, set[str]] = {}
    for r in case.doc.routes:
        for hop in r.hops:
            for p in hop:
                used_by.setdefault(p, set()).add(r.src_sw_port)
    for k, r in enumerate(case.doc.routes):
        free = [p for p in g if used_by.get(p, {r.src_sw_port}) == {r.src_sw_port}]
        sub = g.subgraph(free)
        start, end = r.hops[0][0], r.hops[-1][1]
        for path in nx.all_simple_paths(sub, start, end, cutoff=len(r.hops) + 6):
            if len(path) - 1 > len(r.hops):
                hops = tuple(zip(path, path[1:], strict=False))
                routes = list(case.doc.routes)
                routes[k] = dataclasses.replace(r, hops=hops)
                return dataclasses.replace(case.doc, routes=tuple(routes))
    raise AssertionError("no detour found")


def test_detoured_mapping_is_valid_but_improvable(mutation_cases):
    case = mutation_cases["addi"]
    worse = _detour(case)
    assert verify_pnr(worse, case.dfg, case.adg).ok  # a legal alternative is accepted
    given = mapping_cost(worse.to_mapping(), case.dfg, case.adg, "balanced").total
    best = mapping_cost(case.doc.to_mapping(), case.dfg, case.adg, "balanced").total
    assert given > best
    verdict = prove_pnr(worse, case.dfg, case.adg, budget=5.0)
    assert verdict.kind == "improvable"
    assert verdict.found < verdict.given == given
    assert verdict.line().startswith(f"improvable: found {verdict.found:.6g} < {given:.6g}")


def test_mapper_mapping_is_proved_optimal(mutation_cases):
    case = mutation_cases["techmap"]
    verdict = prove_pnr(case.doc, case.dfg, case.adg, budget=5.0)
    assert verdict.line() == "optimal (proved)"
    assert verdict.found == verdict.given


def test_legal_detours_are_accepted_everywhere(mutation_cases):
    """No false positives: any longer route over free ports of the fabric is legal."""
    detoured = 0
    for name, case in sorted(mutation_cases.items()):
        try:
            doc = _detour(case)
        except AssertionError:
            continue  # no free alternative in this fabric
        result = verify_pnr(doc, case.dfg, case.adg)
        assert result.ok, (name, result.violations)
        detoured += 1
    assert detoured >= 5
