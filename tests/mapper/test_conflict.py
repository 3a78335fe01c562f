"""Conflicting sets for impossible mappings: a proven, minimal set of DFG
values that cannot all be routed (C3), named in the diagnostics."""

from __future__ import annotations

from pathlib import Path

from loomc.solvers.pnr import SolveParams, solve

from loomc.corpus import corpus_root, mapper_cases
from loomc.graph.load import adg_from_file, dfgs_from_file
from loomc.mapper.conflict import net_groups, routing_core, shrink, with_nets
from loomc.mapper.pipeline import MapperOptions, _prepare, map_dfg

#: proven unroutable under the spec's temporal tag rules (tests/mapper/test_corpus_mapping.py)
PAIR = "smoke/temporal-saturate:temporal-saturate.fabric:triple-addi.handshake"


def _case():
    return next(c for c in mapper_cases(corpus_root()) if c.name == PAIR)


def test_routing_core_is_proven_and_minimal(corpus: Path) -> None:
    case = _case()
    dfg, adg = dfgs_from_file(case.dfg)[0], adg_from_file(case.adg)
    problem = _prepare(dfg, adg, MapperOptions()).problem
    params = SolveParams(deterministic_time=10.0)
    core = routing_core(problem, params)
    assert 0 < len(core) < len(problem.nets)
    assert solve(with_nets(problem, core), params, explain=False).status == "INFEASIBLE"
    for ni in core:  # minimal: every value in it is needed for the conflict
        rest = tuple(x for x in core if x != ni)
        assert solve(with_nets(problem, rest), params, explain=False).feasible


def test_diagnostics_name_the_conflicting_values(corpus: Path) -> None:
    case = _case()
    dfg, adg = dfgs_from_file(case.dfg)[0], adg_from_file(case.adg)
    mapping = map_dfg(dfg, adg, MapperOptions(budget=10.0))
    diag = mapping.diagnostics
    assert diag.code == "CPL_MAPPER_ROUTING_FAILED" and diag.first_violated_constraint == "C3"
    all_edges = {(u, v) for u, v in dfg.edges()}
    assert diag.failed_edges and len(diag.failed_edges) < len(all_edges)
    for edge in diag.failed_edges:  # each named edge's ends are named nodes
        for end in edge.split("->"):
            assert end.split(":")[0] in diag.unmapped_nodes


def test_nets_group_by_shared_arcs(corpus: Path) -> None:
    loom = corpus / "loom"
    adg = adg_from_file(loom / "templates" / "loom_cgra_smoke.fabric.mlir")
    dfg = dfgs_from_file(loom / "apps" / "S1-streaming-vecsum" / "vecsum.handshake.mlir")[0]
    problem = _prepare(dfg, adg, MapperOptions()).problem
    groups = net_groups(problem)
    assert sorted(ni for g in groups for ni in g) == list(range(len(problem.nets)))
    assert len(groups) > 1  # the template's width classes do not share wires
    arcs = [set(problem.net_arcs[ni]) for ni in range(len(problem.nets))]
    for g1 in groups:
        for g2 in groups:
            if g1 != g2:
                assert not any(arcs[a] & arcs[b] for a in g1 for b in g2)


def test_chunked_deletion_filter_finds_a_small_core_with_few_checks() -> None:
    calls = []

    def infeasible(items: tuple[int, ...]) -> bool:
        calls.append(items)
        return {3, 7, 40}.issubset(items)  # the conflict hides in 64 items

    assert shrink(tuple(range(64)), infeasible) == (3, 7, 40)
    assert len(calls) < 40  # one check per item would be 64
    # out of budget: still a proven (infeasible) superset
    partial = shrink(tuple(range(64)), infeasible, exhausted=lambda: len(calls) > 45)
    assert {3, 7, 40}.issubset(partial)
