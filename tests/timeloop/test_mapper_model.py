"""The CP-SAT formulation states exactly the closed-form counts, and its optimum is the optimum.

No corpus needed: hand-made problems shaped like the Timeloop ones (a 1-D
convolution with output channels on a three-level hierarchy, with and without a
spatial fanout).
"""

from __future__ import annotations

import itertools
import math
import random
import sys
from pathlib import Path

import pytest
from loomc.solvers.tiling import SolveOptions, optimize
from loomc.solvers.tiling_cost import evaluate_closed_form, spans_upto
from loomc.solvers.tiling_model import TilingModel, prime_factors
from loomc.solvers.tiling_spec import (
    SPATIAL_X,
    TEMPORAL,
    LevelRules,
    LevelSpec,
    SpaceSpec,
    TilePoint,
    TilingSpec,
)
from ortools.sat.python import cp_model

sys.path.insert(0, str(Path(__file__).parent))

from pinned import pinned_values  # noqa: E402

K, R, P = 0, 1, 2
SPACES = (
    SpaceSpec("Weights", (((K, 1),), ((R, 1),))),
    SpaceSpec("Inputs", (((R, 1), (P, 1)),)),
    SpaceSpec("Outputs", (((K, 1),), ((P, 1),)), True),
)


def make_spec(bounds=(8, 3, 4), fanout=1, rf_words=16, metrics=("delay", "energy"),
              glb_keep=(None, None, None)):
    levels = (
        LevelSpec("RF", 1, rf_words, 1, 1, 1, 0.42564, 0.42564, 0.42564, 0.000861,
                  keep=(None,) * 3),
        LevelSpec("GLB", 1, 4096, 8, fanout, 1, 43.353054, 30.878292, 30.878292, 0.007972,
                  keep=glb_keep),
        LevelSpec("DRAM", 1, None, 32, 1, 1, 2048.0, 2048.0, 2048.0, 0.0, keep=(True,) * 3),
    )
    return TilingSpec(("K", "R", "P"), bounds, SPACES, levels, (LevelRules(),) * 3, 0.845, 1,
                      metrics)


def random_point(spec: TilingSpec, rng: random.Random) -> TilePoint:
    nl, nd = len(spec.levels), len(spec.bounds)
    fac = [{s: [1] * nd for s in spec.slots(lv)} for lv in range(nl)]
    for d in range(nd):
        for p, mult in prime_factors(spec.bounds[d]).items():
            for _ in range(mult):
                lv = rng.randrange(nl)
                fac[lv][rng.choice(spec.slots(lv))][d] *= p
    orders = tuple(tuple(rng.sample(range(nd), nd)) for _ in range(nl))
    keep = tuple(tuple(lv == nl - 1 or rng.random() < 0.5 for _ in spec.spaces)
                 for lv in range(nl))
    return TilePoint(tuple({s: tuple(v) for s, v in f.items()} for f in fac), orders, keep)


def valid(spec: TilingSpec, pt: TilePoint) -> bool:
    """Capacity and fanout, stated independently of the CP-SAT model."""
    for lv, level in enumerate(spec.levels):
        fx = math.prod(pt.factor(lv, SPATIAL_X, d) for d in range(len(spec.bounds)))
        if fx > level.fanout_x:
            return False
        if level.capacity is not None:
            spans = tuple(spans_upto(spec, pt, lv))
            need = sum(ds.size(spans) for k, ds in enumerate(spec.spaces) if pt.keep[lv][k])
            if need > level.capacity:
                return False
    return True


@pytest.mark.parametrize("fanout", [1, 4])
def test_cpsat_counts_equal_closed_form(fanout):
    spec = make_spec(fanout=fanout)
    rng = random.Random(7)
    checked = 0
    while checked < 12:
        pt = random_point(spec, rng)
        got = pinned_values(spec, pt)
        if not valid(spec, pt):
            assert got is None, "the model accepted a mapping that breaks capacity or fanout"
            continue
        assert got is not None, f"the model rejected a valid mapping {pt}"
        cf = evaluate_closed_form(spec, pt)
        cycles, energy, counts = got
        assert cycles == cf.cycles
        for lv in range(len(spec.levels)):
            for k in range(len(spec.spaces)):
                c = cf.counts[lv][k]
                want = (0, 0, 0) if c is None else (c.reads, c.fills, c.updates)
                assert counts[lv][k] == want, (lv, k, pt)
        # ERT energies have <= 6 decimals, so the model's integer energy is exact
        assert energy == pytest.approx(cf.energy, rel=1e-9)
        checked += 1


def brute_force(spec: TilingSpec):
    """Lexicographic optimum of the closed form over every canonical mapping."""
    from loomc.timeloop.mapper_search import Mapspace

    space = Mapspace(spec)
    best = None
    for fz in space.factorizations():
        for orders in space.permutations(fz, pruned=True):
            for keep in space.bypasses():
                pt = TilePoint(fz, orders, keep)
                if not valid(spec, pt):
                    continue
                cf = evaluate_closed_form(spec, pt)
                vals = tuple(cf.metric(m) for m in spec.metrics)
                if best is None or vals < best:
                    best = vals
    return best


@pytest.mark.parametrize("metrics,fanout", [(("delay", "energy"), 1), (("energy",), 2),
                                            (("edp",), 2)])
def test_optimum_matches_enumeration(metrics, fanout):
    # GLB keeps everything: the brute force stays small (8 bypass choices, not 64)
    spec = make_spec(bounds=(4, 3, 2), fanout=fanout, metrics=metrics, glb_keep=(True,) * 3)

    def exact(pt):  # the evaluator contract: None for an invalid mapping
        if not valid(spec, pt):
            return None
        cf = evaluate_closed_form(spec, pt)
        return tuple(cf.metric(m) for m in metrics)

    res = optimize(spec, exact, SolveOptions(time_limit=60, seed=1))
    assert res.status == "OPTIMAL"
    want = brute_force(spec)
    assert res.best_metrics == pytest.approx(want, rel=1e-12)


def test_infeasible_space_names_the_rule():
    # RF must keep everything and hold K=8 R=3 P=4 whole: 24 + 6 + 32 words > 16
    spec = make_spec()
    levels = list(spec.levels)
    levels[0] = LevelSpec("RF", 1, 16, keep=(True, True, True))
    rules = (LevelRules(factors={TEMPORAL: {K: 8, R: 3, P: 4}}), LevelRules(), LevelRules())
    spec = TilingSpec(spec.dim_names, spec.bounds, spec.spaces, tuple(levels), rules,
                      metrics=("energy",))
    res = optimize(spec, lambda pt: (0.0,), SolveOptions(time_limit=20))
    assert res.status == "INFEASIBLE"
    assert any("capacity of RF" in c for c in res.conflict)
    assert any("factors at RF" in c or "keep/bypass at RF" in c for c in res.conflict)


def test_canonical_encoding_is_unique():
    """Forbidding a mapping removes exactly that mapping: orders of unit loops are fixed."""
    spec = make_spec(bounds=(2, 3, 1), metrics=("energy",))
    tm = TilingModel(spec)
    for g in tm.groups.values():
        tm.m.Add(g == 1)
    tm.m.Add(tm.no_throttle == 0)  # a switch, not a decision
    s = cp_model.CpSolver()
    s.parameters.num_workers = 1
    s.parameters.enumerate_all_solutions = True
    seen = []

    class Collect(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self):
            seen.append(tm.decode(self).key())

    # decode needs Value/BooleanValue: the callback provides both
    s.Solve(tm.m, Collect())
    assert len(seen) == len(set(seen)) > 0
    from loomc.timeloop.mapper_search import Mapspace

    space = Mapspace(spec)
    enumerated = {TilePoint(fz, o, kp).key()
                  for fz in space.factorizations()
                  for o in space.permutations(fz, pruned=True)
                  for kp in space.bypasses()
                  if valid(spec, TilePoint(fz, o, kp))}
    assert set(seen) == enumerated


def test_all_slots_considered():
    spec = make_spec(fanout=4)
    assert spec.slots(1) == (TEMPORAL, SPATIAL_X)
    assert list(itertools.islice(spec.slots(0), 3)) == [TEMPORAL]
