"""The hoisted relaxation of the EDP proof (tiling_symmetry.hoisted_bound) on windowed layers.

Soundness: its bound of ``hoisted(pt)`` is never above the exact evaluator's energy of
``pt`` (with the pre-image floor it can exceed ``pt``'s plain bound), checked on random
mappings of 3x3 and strided 7x7 layers on the Eyeriss-like macro; and the CP-SAT
relaxation pinned to a hoisted mapping says what the closed form says.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from loomc.solvers.tiling_cost import (
    _unlinked_by_layout,
    evaluate_closed_form,
    refetch,
    relaxed_window_fills,
)
from loomc.solvers.tiling_edp import _class_work, _preimage, _preimages
from loomc.solvers.tiling_model import TilingModel
from loomc.solvers.tiling_spec import TilePoint
from loomc.solvers.tiling_symmetry import (
    canonical,
    hoisted,
    hoisted_bound,
    transparent_levels,
)
from ortools.sat.python import cp_model

from loomc.timeloop.api import call_mapper
from loomc.timeloop.mapper import point_to_mapping
from loomc.timeloop.mapping import MappingError
from loomc.timeloop.model import Evaluator

sys.path.insert(0, str(Path(__file__).parent))

import test_tiling_edp as base  # noqa: E402

#: windowed shapes (C, M, R, S, P, Q, stride) beyond test_tiling_edp's 3x3
EXTRA = {"3x3wide": (16, 32, 3, 3, 14, 14, 1), "7x7s2": (3, 16, 7, 7, 14, 14, 2)}


@pytest.fixture(autouse=True)
def _shapes(monkeypatch):
    monkeypatch.setattr(base, "SHAPES", {**base.SHAPES, **EXTRA})


def _floors(ts, h) -> int:
    """How many relaxed fill counts of ``h`` use the pre-image floor
    (``tiling_cost.relaxed_window_fills``)."""
    red = ts.without_unit_dims()
    out = 0
    for k, ds in enumerate(red.spaces):
        keepers = [lv for lv in range(len(red.levels)) if h.keep[lv][k]]
        for c in keepers[:-1]:
            first, _, _, _, slides = refetch(red, h, c, k, True)
            if ds.sliding() and first >= 0 and any(t > c for t in transparent_levels(red)):
                out += relaxed_window_fills(red, h, c, k, first, slides) is not None
    return out


@pytest.mark.parametrize("shape", ["3x3", "3x3wide", "7x7s2"])
def test_hoisted_bound_never_above_the_evaluator(shape):
    """The relaxation's bound of ``hoisted(pt)`` never exceeds ``pt``'s exact energy; it
    stays under ``pt``'s plain bound too except where the pre-image floor holds (that
    floor rests on Timeloop's counts, which the plain bound relaxes where links are
    not ruled out)."""
    parsed, ts = base.parsed_and_tiling(shape)
    walk, _ = base.random_walk(ts, parsed, 250, seed=17)
    moved = lower = floored = 0
    for pt, energy, _cycles in walk:
        h = hoisted(ts, pt)
        moved += h.key() != pt.key()
        relaxed = hoisted_bound(ts, pt)
        plain = evaluate_closed_form(ts, pt).energy
        assert relaxed <= energy * (1 + 1e-12), pt
        if _floors(ts, h):
            floored += 1
        else:
            assert relaxed <= plain * (1 + 1e-12), pt
        lower += relaxed < plain
        # the hoisted mapping has no loops on pass-through levels
        assert all(h.factor(lv, "T", d) == 1 for lv in transparent_levels(ts)
                   for d in range(len(ts.bounds)))
    assert moved > 0 and lower > 0
    if shape == "7x7s2":
        assert floored > 100


@pytest.mark.parametrize("shape", ["3x3", "7x7s2"])
def test_layout_link_claims_match_the_link_test(shape, monkeypatch):
    """Where ``_unlinked_by_layout`` rules links out at a spatial level, the evaluator's
    own link test fails there: for the mapping itself (no pass-through chain to
    redistribute), and — the claim the pre-image floor rests on — for its hoisted form
    with the chains above the level, which must hold for every mapping that hoists there."""
    parsed, ts = base.parsed_and_tiling(shape)
    walk, ev = base.random_walk(ts, parsed, 400, seed=5)
    red = ts.without_unit_dims()
    chains = transparent_levels(red)
    claims = pre_claims = 0
    for pt, seen in base.link_tests(monkeypatch, ev, ts, walk):
        h = hoisted(ts, pt)
        for ds, lev, hit in seen:
            claim = _unlinked_by_layout(red, pt, lev, ds, set())
            assert not (claim and hit), (ds, lev, pt)
            claims += claim
            tops = {t + 1 for t in chains if t + 1 >= lev}
            pre = _unlinked_by_layout(red, h, lev, ds, tops)
            assert not (pre and hit), (ds, lev, pt, h)
            pre_claims += pre
    assert claims > 100 and pre_claims > 100


def test_pre_image_floor_raises_the_strided_relaxation():
    """On the strided 7x7 layer the floor holds for most relaxed mappings and lifts their
    bound strictly above the relaxation without it (checked against the same count with
    the floor switched off)."""
    import loomc.solvers.tiling_cost as tc

    parsed, ts = base.parsed_and_tiling("7x7s2")
    walk, _ = base.random_walk(ts, parsed, 150, seed=8)
    raised = 0
    for pt, energy, _ in walk:
        with_floor = hoisted_bound(ts, pt)
        real = tc.relaxed_window_fills
        tc.relaxed_window_fills = lambda *a: None
        try:
            without = hoisted_bound(ts, pt)
        finally:
            tc.relaxed_window_fills = real
        assert without <= with_floor <= energy * (1 + 1e-12)
        raised += with_floor > without
    assert raised > 30


def _pinned_hoisted_energy(ts, pt) -> float | None:
    tm = TilingModel(ts, hoisted=True)
    tm.fix(pt)
    for g in tm.groups.values():
        tm.m.Add(g == 1)
    s = cp_model.CpSolver()
    s.parameters.num_workers = 1
    if s.Solve(tm.m) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return s.Value(tm.energy) / tm.scale


@pytest.mark.parametrize("shape", ["3x3", "7x7s2", "11x11s4"])
def test_hoisted_model_equals_closed_form(shape):
    parsed, ts = base.parsed_and_tiling(shape)
    walk, _ = base.random_walk(ts, parsed, 40, seed=23)
    for raw, _, _ in walk:
        h = hoisted(ts, raw)
        got = _pinned_hoisted_energy(ts, h)
        assert got is not None, h
        assert got == pytest.approx(evaluate_closed_form(ts, h, hoisted=True).energy,
                                    rel=1e-12), h


def _all_points(ts):
    """Every mapping of a tiny layer: each dimension's bound is 1 or a prime, so a
    dimension's loop sits in exactly one (level, slot); every order of each level's
    non-unit temporal loops that its rules allow."""
    import itertools

    nd, nl = len(ts.bounds), len(ts.levels)
    places = []
    for d in range(nd):
        if ts.bounds[d] == 1:
            places.append([None])
            continue
        opts = []
        for lv in range(nl):
            for s in ts.slots(lv):
                fixed = ts.rules[lv].factors.get(s, {})
                if fixed.get(d, 0) not in (0, ts.bounds[d]):
                    continue
                allowed = {"X": ts.rules[lv].spatial_x, "Y": ts.rules[lv].spatial_y}.get(s)
                if allowed is not None and d not in allowed:
                    continue
                opts.append((lv, s))
        places.append(opts)
    keep = tuple(tuple(True if k is None else k for k in lv.keep) for lv in ts.levels)
    for combo in itertools.product(*places):
        facs = [{s: [1] * nd for s in ts.slots(lv)} for lv in range(nl)]
        per_level: list[list[int]] = [[] for _ in range(nl)]
        for d, place in enumerate(combo):
            if place is None:
                continue
            lv, s = place
            facs[lv][s][d] = ts.bounds[d]
            if s == "T":
                per_level[lv].append(d)
        frozen = tuple({s: tuple(v) for s, v in f.items()} for f in facs)
        orders_per_level = []
        for lv in range(nl):
            perm = ts.rules[lv].permutation
            opts = []
            for o in itertools.permutations(per_level[lv]):
                # a permutation rule lists loops innermost first
                ranks = [perm.index(d) if d in perm else len(perm) for d in o]
                if ranks != sorted(ranks):
                    continue
                opts.append(tuple(o) + tuple(d for d in range(nd) if d not in o))
            orders_per_level.append(opts)
        for orders in itertools.product(*orders_per_level):
            yield TilePoint(frozen, tuple(orders), keep)


def test_tiny_windowed_layer_proven_optimum_equals_brute_force(monkeypatch):
    """A 3x3 layer small enough to enumerate: the proof (which now closes classes on the
    hoisted relaxation) returns the brute-force optimum of the exact evaluator."""
    monkeypatch.setattr(base, "SHAPES", {**base.SHAPES, "tiny": (1, 2, 3, 3, 3, 3, 1)})
    spec = base.small_layer("tiny")
    parsed, ts = base.parsed_and_tiling("tiny")
    ev = Evaluator(parsed)
    best = None
    n = 0
    for pt in _all_points(ts):
        try:
            res = ev.evaluate(point_to_mapping(ts, pt))
        except MappingError:
            continue
        n += 1
        edp = res.energy * res.cycles
        best = edp if best is None else min(best, edp)
    assert n > 1000 and best is not None
    run = call_mapper(spec, algorithm="cp_sat", metrics=("edp",), time_limit=30.0)
    assert run.result.status == "OPTIMAL"
    assert run.result.values[0] == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("shape", ["3x3", "7x7s2"])
def test_preimage_constraints_keep_every_mapping_that_hoists_there(shape):
    """The pre-image closed before a relaxed solution ``h`` is forbidden must hold every
    (canonical) mapping ``pt`` with ``hoisted(pt) == h``, else forbidding ``h`` could hide
    a better mapping."""
    parsed, ts = base.parsed_and_tiling(shape)
    walk, _ = base.random_walk(ts, parsed, 12, seed=31)
    chained = 0
    for raw, _, _ in walk:
        pt = canonical(ts, raw)
        # the compute-cycle class (the evaluator's cycles may include throttling)
        cycles = math.prod(pt.factor(lv, "T", d) for lv in range(len(ts.levels))
                           for d in range(len(ts.bounds)))
        chained += any(pt.factor(lv, "T", d) > 1 for lv in transparent_levels(ts)
                       for d in range(len(ts.bounds)))
        tm = TilingModel(ts)
        tm.fix(pt)
        energy = tm.metric_vars["energy"]
        work = _class_work(tm, energy, tm.cycles, cycles, _preimage(tm, hoisted(ts, pt)))
        s = cp_model.CpSolver()
        s.parameters.num_workers = 1
        assert s.Solve(work) in (cp_model.OPTIMAL, cp_model.FEASIBLE), pt
    assert chained > 0


@pytest.mark.parametrize("shape", ["3x3", "7x7s2"])
def test_batched_preimages_keep_every_mapping_of_each(shape):
    """The union of pre-images that one solve rules out (``_preimages``, used for a batch
    of relaxed mappings) must hold every mapping of each member's pre-image, else ruling
    a batch out could hide a better mapping."""
    parsed, ts = base.parsed_and_tiling(shape)
    walk, _ = base.random_walk(ts, parsed, 10, seed=37)
    pts = [canonical(ts, raw) for raw, _, _ in walk]
    hs = [hoisted(ts, pt) for pt in pts]
    assert len({h.key() for h in hs}) > 1
    for pt in pts:
        cycles = math.prod(pt.factor(lv, "T", d) for lv in range(len(ts.levels))
                           for d in range(len(ts.bounds)))
        tm = TilingModel(ts)
        tm.fix(pt)
        energy = tm.metric_vars["energy"]
        work = _class_work(tm, energy, tm.cycles, cycles, _preimages(tm, hs))
        s = cp_model.CpSolver()
        s.parameters.num_workers = 1
        assert s.Solve(work) in (cp_model.OPTIMAL, cp_model.FEASIBLE), pt
    # and it is no larger than needed: a mapping whose hoisted form has other factors or
    # keep flags than every member of a batch of two or more (so the table of allowed
    # assignments, not only fixed columns, decides) is outside the batch's union
    def sig(h):
        return (repr(h.factors), h.keep)

    checked = 0
    for pt, h in zip(pts, hs, strict=True):
        batch = list({sig(x): x for x in hs if sig(x) != sig(h)}.values())
        if len(batch) < 2:
            continue
        tm = TilingModel(ts)
        tm.fix(pt)
        energy = tm.metric_vars["energy"]
        cycles = math.prod(pt.factor(lv, "T", d) for lv in range(len(ts.levels))
                           for d in range(len(ts.bounds)))
        work = _class_work(tm, energy, tm.cycles, cycles, _preimages(tm, batch))
        s = cp_model.CpSolver()
        s.parameters.num_workers = 1
        assert s.Solve(work) == cp_model.INFEASIBLE, pt
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("hoist", [True, False])
def test_one_search_enumeration_lists_what_forbid_and_resolve_finds(hoist):
    """The class proof lists every mapping under a limit in one CP-SAT search
    (``_enumerate``).  CP-SAT may repeat a mapping (unit-loop orders) or, if presolve
    dropped solutions, miss one; the list must equal, mapping for mapping, what the
    slow loop finds (solve, forbid the mapping, solve again until infeasible)."""
    from loomc.solvers.tiling import SolveOptions, _Clock
    from loomc.solvers.tiling_edp import _enumerate

    _, ts = base.parsed_and_tiling("3x3")
    tm = TilingModel(ts, hoisted=hoist)
    energy = tm.metric_vars["energy"]
    light = TilingModel(ts, counts=False)
    for g in light.groups.values():
        light.m.Add(g == 1)
    light.m.Minimize(light.cycles)
    s = cp_model.CpSolver()
    s.parameters.num_workers = 1
    assert s.Solve(light.m) == cp_model.OPTIMAL
    cycles = int(s.ObjectiveValue())
    work = _class_work(tm, energy, tm.cycles, cycles)
    assert s.Solve(work) == cp_model.OPTIMAL
    limit = int(s.ObjectiveValue() * 1.05)  # a band above the class minimum

    slow: dict[tuple, int] = {}
    loop = _class_work(tm, energy, tm.cycles, cycles)
    loop.Add(loop.GetIntVarFromProtoIndex(energy.Index()) <= limit)
    loop.ClearObjective()
    while True:
        st = s.Solve(loop)
        if st == cp_model.INFEASIBLE:
            break
        assert st in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        pt = tm.decode(s)
        assert pt.key() not in slow
        slow[pt.key()] = int(s.Value(energy))
        tm.forbid(pt, into=loop)
        assert len(slow) < 500

    clock = _Clock(SolveOptions(time_limit=60.0))
    complete, found = _enumerate(clock, _class_work(tm, energy, tm.cycles, cycles), tm,
                                 energy, limit, cap=1000)
    assert complete
    fast = {key: e for key, (e, _) in found.found.items()}
    assert len(slow) > 3
    assert fast == slow
    listed = [e for e, _ in found.by_bound()]
    assert listed == sorted(listed)
    # a cap below the count stops the search and says so
    _, few = _enumerate(clock, _class_work(tm, energy, tm.cycles, cycles), tm, energy,
                        limit, cap=2)
    assert few.overflow and len(few.found) == 3


def test_exact_evaluations_are_charged_to_the_deterministic_budget():
    """Enumerated classes can ask for thousands of evaluations; each is charged so the
    deterministic budget, not the wall-clock net, ends such a run."""
    from loomc.solvers.tiling import EVAL_SECONDS, SolveOptions, _Clock

    clock = _Clock(SolveOptions(time_limit=60.0, num_workers=2))
    before = clock.left()
    for _ in range(1000):
        clock.charge_evaluation()
    assert clock.left() == pytest.approx(before - 1000 * EVAL_SECONDS, abs=1e-6)
