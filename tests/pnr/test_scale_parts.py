"""The pieces of the scale strategy: negotiated routing, annealing, reachability
pruning and crossbar hubs — on hand-built problems and on corpus fabrics."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from loomc.solvers.anneal import anneal
from loomc.solvers.pathfinder import PortDistances, PortGraph, RouteNet, route
from loomc.solvers.pnr import Arc, Endpoint, Match, Net, build_model

from loomc.graph.load import adg_from_file, dfgs_from_file
from loomc.mapper.pipeline import MapperOptions, map_dfg
from loomc.mapper.problem import HUB, build_candidates, build_problem
from loomc.mapper.prune import prune_unreachable
from loomc.mapper.scale import joint_size

# ports: sources 0, 1; middle 2 (cheap, shared), 3 (detour); sinks 4, 5
NEGOTIATION = [Arc(0, 2, 1), Arc(2, 4, 1), Arc(0, 3, 3), Arc(3, 4, 3),
               Arc(1, 2, 1), Arc(2, 5, 1)]


def test_pathfinder_negotiates_the_shared_port_away():
    graph = PortGraph.of(NEGOTIATION, 6)
    nets = (RouteNet(0, (4,)), RouteNet(1, (5,)))
    result = route(graph, nets, np.ones(6, dtype=np.int64))
    assert result.legal and result.iterations > 1  # first pass collides at port 2
    net0 = [(NEGOTIATION[a].src, NEGOTIATION[a].dst) for a in result.routes[0][0]]
    assert net0 == [(0, 3), (3, 4)]  # the net with a detour took it
    assert [NEGOTIATION[a].dst for a in result.routes[1][0]] == [2, 5]


def test_pathfinder_reports_what_stays_congested():
    graph = PortGraph.of(NEGOTIATION[:2] + NEGOTIATION[4:], 6)
    result = route(graph, (RouteNet(0, (4,)), RouteNet(1, (5,))),
                   np.ones(6, dtype=np.int64), max_iterations=5)
    assert not result.legal and result.overused == (2,)
    assert result.congested_nets == (0, 1)


def test_pathfinder_routes_a_fanout_as_one_tree():
    # 0 -> 1 (a broadcasting input) -> 2, 3 -> sinks 4, 5
    arcs = [Arc(0, 1), Arc(1, 2), Arc(1, 3), Arc(2, 4), Arc(3, 5)]
    result = route(PortGraph.of(arcs, 6), (RouteNet(0, (4, 5)),), np.ones(6, dtype=np.int64))
    assert result.legal
    paths = [[(arcs[a].src, arcs[a].dst) for a in p] for p in result.routes[0]]
    assert paths == [[(0, 1), (1, 2), (2, 4)], [(0, 1), (1, 3), (3, 5)]]


def test_anneal_untangles_a_chain_and_respects_capacity():
    # 4 slots on a line, a 4-node chain; start in the worst order
    slots = 4
    matches = tuple(Match(hw_node=h, sw_nodes=(v,), inputs=((v, 0, 100 + h),),
                          outputs=((v, 0, h),), uses=((f"pe:{h}", 1),))
                    for v in range(4) for h in range(slots))
    nets = tuple(Net(f"n{v}", Endpoint(v, 0), (Endpoint(v + 1, 0),)) for v in range(3))
    start = tuple(v * slots + h for v, h in enumerate((0, 2, 3, 1)))  # cost 2+1+2

    def distance(a: int, b: int) -> float:
        return float(abs(a - (b - 100)))

    result = anneal(matches, nets, start, {f"pe:{h}": 1 for h in range(slots)}, distance,
                    seed=3)
    assert result.cost == 3.0  # a straight line
    hosts = [matches[mi].hw_node for mi in result.node_match]
    assert sorted(hosts) == [0, 1, 2, 3]  # one node per PE
    again = anneal(matches, nets, start, {f"pe:{h}": 1 for h in range(slots)}, distance, seed=3)
    assert again == result  # seeded: reproducible


def test_port_distances_are_routed_costs():
    d = PortDistances(PortGraph.of(NEGOTIATION, 6), [0, 1])
    assert d(0, 4) == pytest.approx(2.1, rel=1e-6)
    assert d.reachable(1, 5) and not d.reachable(1, 3)


def test_crossbar_switches_become_hubs(corpus):
    unit = corpus / "loom" / "mapper" / "unit" / "addi"
    adg = adg_from_file(unit / "addi.fabric.mlir")
    dfg = dfgs_from_file(unit / "single-addi.handshake.mlir")[0]
    ip = build_problem(dfg, adg, build_candidates(dfg, adg))
    assert ip.hub_ports and all(ip.port_ids[h].endswith(f":{HUB}") for h in ip.hub_ports)
    mapping = map_dfg(dfg, adg, MapperOptions(budget=10))
    assert mapping.status == "success"
    hops = [h for r in mapping.routes for h in r.hw_path]
    assert hops and not any(HUB in p for hop in hops for p in hop)


def test_reachability_pruning_finds_the_real_shortage_fast(corpus):
    loom = corpus / "loom"
    adg = adg_from_file(loom / "templates" / "loom_cgra_small.fabric.mlir")
    dfg = dfgs_from_file(loom / "apps" / "S2-linalg-vecadd" / "vecadd.handshake.mlir")[0]
    ip = build_problem(dfg, adg, build_candidates(dfg, adg))
    pruned = prune_unreachable(ip)
    assert pruned.removed > 0 and pruned.dead_edge is None
    loads = {c.hw_node for c in pruned.problem.candidates
             if any(s.startswith("dataResult") for s in c.sw_nodes)}
    assert "load_0" not in loads  # index-network load: cannot feed the f32 adder
    mapping = map_dfg(dfg, adg, MapperOptions(budget=10))
    assert mapping.diagnostics.code == "CPL_MAPPER_INSUFFICIENT_RESOURCES"
    assert "load_f32_0" in mapping.diagnostics.message


def test_per_net_arcs_lose_no_flow_variable(corpus):
    """The per-net arc sets only drop arcs no flow of the net can use: the
    model's flow variables are the same as with every arc allowed, and the
    size estimate the pipeline uses to pick a strategy shrinks accordingly."""
    loom = corpus / "loom"
    adg = adg_from_file(loom / "templates" / "loom_cgra_smoke.fabric.mlir")
    dfg = dfgs_from_file(loom / "apps" / "S1-streaming-vecsum" / "vecsum.handshake.mlir")[0]
    problem = build_problem(dfg, adg, build_candidates(dfg, adg)).problem
    everything = replace(problem, net_arcs=None)
    assert set(build_model(problem).flow) == set(build_model(everything).flow)
    assert joint_size(problem) * 5 < joint_size(everything)
