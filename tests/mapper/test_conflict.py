"""Conflicting sets for impossible mappings: a proven, minimal set of DFG
values that cannot all be routed (C3), named in the diagnostics."""

from __future__ import annotations

from pathlib import Path

from loomc.solvers.pnr import SolveParams, solve, solve_feasible

from loomc.corpus import corpus_root, mapper_cases
from loomc.graph.load import adg_from_file, dfgs_from_file
from loomc.mapper.conflict import net_groups, routing_core, shrink, with_nets
from loomc.mapper.decode import decode
from loomc.mapper.outputs import output_paths, write_outputs
from loomc.mapper.pipeline import MapperOptions, map_dfg, prepare
from loomc.mlir_io import parse_mlir_file
from loomc.verify import verify_pnr_files

#: proven unroutable under the spec's temporal tag rules (tests/mapper/test_corpus_mapping.py)
PAIR = "smoke/temporal-saturate:temporal-saturate.fabric:triple-addi.handshake"


def _case():
    return next(c for c in mapper_cases(corpus_root()) if c.name == PAIR)


def test_routing_core_is_proven_and_minimal(corpus: Path) -> None:
    case = _case()
    dfg, adg = dfgs_from_file(case.dfg)[0], adg_from_file(case.adg)
    problem = prepare(dfg, adg, MapperOptions()).problem
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
    problem = prepare(dfg, adg, MapperOptions()).problem
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


def test_solve_feasible_finds_a_valid_mapping_and_proves_the_impossible(corpus: Path,
                                                                         tmp_path: Path) -> None:
    """The objective-free search: on a mappable app its mapping passes the independent
    validator; on the saturated pair it proves infeasibility; a seed reproduces it."""
    loom = corpus / "loom"
    adg_path = loom / "templates" / "loom_cgra_smoke.fabric.mlir"
    dfg_path = loom / "apps" / "S1-streaming-vecsum" / "vecsum.handshake.mlir"
    dfg, adg = dfgs_from_file(dfg_path)[0], adg_from_file(adg_path)
    ip = prepare(dfg, adg, MapperOptions())
    params = SolveParams(seed=1, deterministic_time=30.0)
    found = solve_feasible(ip.problem, params)
    assert found.status == "FEASIBLE" and found.objective is None
    again = solve_feasible(ip.problem, params)
    assert (again.node_match, again.routes) == (found.node_match, found.routes)
    mapping = decode(ip, found, dfg, adg, profile="balanced", params=params)
    write_outputs(tmp_path / "k", mapping, dfg, adg, parse_mlir_file(adg_path), "balanced")
    out = output_paths(tmp_path / "k")
    result = verify_pnr_files(adg_path, dfg_path, out[".map.json"],
                              config_path=out[".config.bin"], addr_path=out["_addr.h"],
                              configured_path=out[".fabric.mlir"])
    assert result.ok, [v.one_line() for v in result.violations]

    case = _case()
    sat = prepare(dfgs_from_file(case.dfg)[0], adg_from_file(case.adg), MapperOptions())
    assert solve_feasible(sat.problem, SolveParams(deterministic_time=10.0)).status == \
        "INFEASIBLE"
