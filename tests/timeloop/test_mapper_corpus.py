"""The mapper on Timeloop's exercises: proofs on 05, the bound's soundness, round trips, CLI.

Reference numbers are never copied: every reference mapping is re-evaluated with
loomc's evaluator from the corpus files at test time.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from loomc.solvers.tiling_cost import evaluate_closed_form
from loomc.solvers.tiling_model import prime_factors
from loomc.solvers.tiling_spec import TilePoint

from loomc.cli import run as cli_run
from loomc.diagnostics import ExitCode
from loomc.timeloop.cmd_tile import split_mapper
from loomc.timeloop.emit_map import map_yaml
from loomc.timeloop.emit_stats import stats_text
from loomc.timeloop.mapper import (
    MapperOptions,
    build_tiling_spec,
    mapping_to_point,
    metric_values,
    parse_mapper_options,
    point_to_mapping,
    run_mapper,
)
from loomc.timeloop.mapping import MappingError
from loomc.timeloop.model import Evaluator, evaluate
from loomc.timeloop.spec import load_mapping, load_spec
from loomc.timeloop.yamlio import inputs_from_dicts, load_inputs

EX05 = "timeloop/exercises/05-mapper-conv1d+oc-3level"
EX06 = "timeloop/exercises/06-mapper-convlayer-eyeriss"
CONSTRAINTS = {"null": "null", "freebypass": "conv1d+oc-3level-freebypass",
               "baked": "conv1d+oc-3level-1mapping"}


def files_05(corpus: Path, variant: str) -> list[Path]:
    d = corpus / EX05
    return [d / "arch/3level.arch.yaml", d / "prob/conv1d+oc.prob.yaml",
            d / f"constraints/{CONSTRAINTS[variant]}.constraints.yaml",
            d / "mapper/exhaustive.mapper.yaml", d / "ref-output/null/timeloop-mapper.ERT.yaml"]


def load(files):
    inputs, node = split_mapper(load_inputs(files))
    return load_spec(inputs), parse_mapper_options(node)


def ref_values(corpus: Path, spec, variant: str, metrics):
    ref = corpus / EX05 / f"ref-output/{variant}/timeloop-mapper.map.yaml"
    return metric_values(evaluate(spec, load_mapping(load_inputs([ref]), spec)), metrics)


@pytest.fixture(scope="module")
def runs_05(corpus):
    out = {}
    for variant in CONSTRAINTS:
        spec, opts = load(files_05(corpus, variant))
        assert opts.metrics == ("delay", "energy")
        out[variant] = (spec, run_mapper(spec, replace(opts, algorithm="cp_sat",
                                                       time_limit=60.0)))
    return out


def test_05_proven_optimal_and_beats_every_reference(corpus, runs_05):
    best_ref = min(ref_values(corpus, runs_05["null"][0], v, ("delay", "energy"))
                   for v in CONSTRAINTS)
    for variant, (spec, res) in runs_05.items():
        assert res.status == "OPTIMAL", variant
        assert res.gap == 0.0
        # the reported objective is the evaluator's number for the returned mapping
        assert res.values == metric_values(evaluate(spec, res.mapping), res.metrics)
        own_ref = ref_values(corpus, spec, variant, res.metrics)
        assert res.values <= own_ref, variant
    null = runs_05["null"][1].values
    assert null[0] <= 1536
    assert null <= best_ref
    # the freebypass/baked spaces contain exactly their reference (one factorization)
    assert runs_05["baked"][1].values == ref_values(corpus, runs_05["baked"][0], "baked",
                                                    ("delay", "energy"))


def test_05_freebypass_optimum_equals_full_enumeration(corpus, runs_05):
    spec, res = runs_05["freebypass"]
    _, opts = load(files_05(corpus, "freebypass"))
    full = run_mapper(spec, replace(opts, algorithm="exhaustive", timeout=10**9,
                                    time_limit=120.0))
    assert full.status == "OPTIMAL"  # the whole space was enumerated
    assert full.values == res.values


def small_problem_inputs(corpus: Path, bounds: dict[str, int]):
    """05's architecture and ERT with a smaller instance of the same problem."""
    files = files_05(corpus, "null")
    inputs = load_inputs(files)
    prob = dict(inputs.get("problem"))
    prob["instance"] = dict(bounds)
    inputs.data["problem"] = prob
    return inputs


def test_cpsat_optimum_equals_exhaustive_enumeration_small(corpus):
    inputs, node = split_mapper(small_problem_inputs(corpus, {"K": 4, "R": 3, "P": 2}))
    spec = load_spec(inputs)
    opts = parse_mapper_options(node)
    cp = run_mapper(spec, replace(opts, algorithm="cp_sat", time_limit=60.0))
    ex = run_mapper(spec, replace(opts, algorithm="linear_pruned", timeout=10**9,
                                  time_limit=300.0))
    assert cp.status == "OPTIMAL" and ex.status == "OPTIMAL"
    assert cp.values == ex.values


def random_points(tspec, rng, n):
    nl, nd = len(tspec.levels), len(tspec.bounds)
    for _ in range(n):
        fac = [{s: [1] * nd for s in tspec.slots(lv)} for lv in range(nl)]
        for d in range(nd):
            for p, mult in prime_factors(tspec.bounds[d]).items():
                for _ in range(mult):
                    lv = rng.randrange(nl)
                    fac[lv][rng.choice(tspec.slots(lv))][d] *= p
        orders = tuple(tuple(rng.sample(range(nd), nd)) for _ in range(nl))
        keep = tuple(tuple(lv == nl - 1 or (tspec.levels[lv].keep[k]
                                            if tspec.levels[lv].keep[k] is not None
                                            else rng.random() < 0.5)
                           for k in range(len(tspec.spaces))) for lv in range(nl))
        yield TilePoint(tuple({s: tuple(v) for s, v in f.items()} for f in fac), orders, keep)


@pytest.mark.parametrize("which,n", [("04-cp", 400), ("04-kp", 400), ("05", 400), ("06", 25)])
def test_closed_form_never_exceeds_the_evaluator(corpus, which, n):
    """The CP-SAT bound is sound: on valid random mappings it is <= the exact model."""
    if which == "05":
        spec, _ = load(files_05(corpus, "null"))
    elif which.startswith("04"):
        # a spatial fanout: multicast and sliding-window offsets across PEs
        ref = corpus / "timeloop/exercises/04-model-conv1d+oc-3levelspatial/ref-output"
        variant = which.split("-")[1]
        spec, _ = load([ref / variant / "parsed-processed-input.yaml",
                        ref / variant / "timeloop-model.ERT.yaml"])
    else:
        d = corpus / EX06
        spec, _ = load([d / "arch/eyeriss_like.yaml", d / "prob/VGG02_layer5.yaml",
                        d / "ref-output/timeloop-mapper.ERT.yaml"])
    tspec = build_tiling_spec(spec, ("delay", "energy"))
    ev = Evaluator(spec)
    rng = random.Random(11)
    checked = 0
    for pt in random_points(tspec, rng, 400 * n):
        mapping = point_to_mapping(tspec, pt)
        try:
            res = ev.evaluate(mapping)
        except MappingError:
            continue
        cf = evaluate_closed_form(tspec, mapping_to_point(tspec, mapping))
        assert cf.cycles <= res.cycles
        assert cf.energy <= res.energy * (1 + 1e-12)
        checked += 1
        if checked == n:
            break
    assert checked == n


def test_round_trip_saved_mapping_gives_identical_stats(corpus, runs_05, tmp_path):
    spec, res = runs_05["null"]
    path = tmp_path / "best.map.yaml"
    path.write_text(map_yaml(spec, res.mapping))
    again = evaluate(spec, load_mapping(load_inputs([path]), spec))
    assert stats_text(spec, again) == stats_text(spec, res.result)


def test_same_seed_same_mapping_every_algorithm(corpus):
    spec, opts = load(files_05(corpus, "null"))
    for alg, limit in (("cp_sat", 30.0), ("random", 60.0), ("random_pruned", 60.0),
                       ("hybrid", 60.0), ("linear_pruned", 60.0), ("exhaustive", 60.0)):
        o = replace(opts, algorithm=alg, time_limit=limit, seed=5, timeout=10**9,
                    search_size=0 if alg == "cp_sat" else 300)
        a, b = run_mapper(spec, o), run_mapper(spec, o)
        assert a.mapping == b.mapping, alg
        assert a.values == b.values, alg


def test_mapper_settings_spellings_and_errors():
    node = inputs_from_dicts([({"mapper": {"algorithm": "random-pruned",
                                           "optimization-metrics": ["delay", "energy"],
                                           "num-threads": 2, "victory-condition": 50,
                                           "max_permutations_per_if_visit": 4,
                                           "live-status": True, "seed": 3}}, "m.yaml")])
    _, mnode = split_mapper(node)
    o = parse_mapper_options(mnode)
    assert o == replace(MapperOptions(), algorithm="random_pruned", metrics=("delay", "energy"),
                        num_threads=2, victory_condition=50, max_permutations_per_if_visit=4,
                        live_status=True, seed=3)
    bad = inputs_from_dicts([({"mapper": {"algorithm": "annealing"}}, "m.yaml")])
    with pytest.raises(Exception, match="unknown algorithm 'annealing'"):
        parse_mapper_options(split_mapper(bad)[1])
    typo = inputs_from_dicts([({"mapper": {"victory-conditon": 5}}, "m.yaml")])
    with pytest.raises(Exception, match="victory_conditon"):
        parse_mapper_options(split_mapper(typo)[1])


def test_cli_tile_writes_outputs(corpus, tmp_path, capsys):
    files = [str(p) for p in files_05(corpus, "freebypass")]
    rc = cli_run(["tile", *files, "--algorithm", "cp-sat", "-o", str(tmp_path), "-q"])
    assert rc == 0
    assert capsys.readouterr().out == ""
    record = json.loads((tmp_path / "timeloop-mapper.solver.json").read_text())
    assert record["status"] == "OPTIMAL" and record["gap"] == 0.0
    assert record["objective"]["delay"] == 1536
    for suffix in ("map.yaml", "map.txt", "stats.txt"):
        assert (tmp_path / f"timeloop-mapper.{suffix}").stat().st_size > 0
    # the written mapping is accepted back by `loomc model` with the same energy
    rc = cli_run(["model", *files[:2], files[4], str(tmp_path / "timeloop-mapper.map.yaml"),
                  "-o", str(tmp_path / "model")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "Cycles: 1536" in out


def test_cli_tile_infeasible_names_the_constraint(corpus, tmp_path, capsys):
    d = corpus / EX05
    cons = tmp_path / "tight.constraints.yaml"
    cons.write_text(
        "mapspace_constraints:\n"
        "  targets:\n"
        "  - {target: RegisterFile, type: temporal, factors: K=32 R=3 P=16}\n"
        "  - {target: RegisterFile, type: dataspace, keep: [Weights, Inputs, Outputs]}\n")
    rc = cli_run(["tile", str(d / "arch/3level.arch.yaml"), str(d / "prob/conv1d+oc.prob.yaml"),
                  str(cons), str(d / "ref-output/null/timeloop-mapper.ERT.yaml"),
                  "-o", str(tmp_path), "-q"])
    assert rc == ExitCode.NO_MAPPING
    err = capsys.readouterr().err
    assert "no valid mapping exists" in err
    assert "capacity of RegisterFile" in err


def test_06_eyeriss_beats_the_reference_mapping(corpus):
    """VGG02 layer 5 on Eyeriss: same delay as Timeloop's mapping, less energy (same model)."""
    d = corpus / EX06
    spec, opts = load([d / "arch/eyeriss_like.yaml", d / "prob/VGG02_layer5.yaml",
                       d / "mapper/mapper.yaml", d / "ref-output/timeloop-mapper.ERT.yaml"])
    ref = metric_values(evaluate(spec, load_mapping(
        load_inputs([d / "ref-output/timeloop-mapper.map.yaml"]), spec)), opts.metrics)
    res = run_mapper(spec, replace(opts, algorithm="cp_sat", time_limit=30.0, num_threads=2))
    assert res.status == "FEASIBLE" and res.gap is not None and 0 < res.gap < 1
    assert res.values == metric_values(res.result, res.metrics)
    assert res.values[0] == ref[0]  # delay: every PE busy, as in the reference
    assert res.values[1] < ref[1]
