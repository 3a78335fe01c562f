"""The search over :class:`~loomc.solvers.tiling_model.TilingModel` that proves optimality.

``optimize`` runs: (1) a small model without counts → the least compute-cycle
count (a delay bound) and a first mapping; (2) a guided lexicographic search →
an incumbent, then a local search on the exact evaluator
(:mod:`loomc.solvers.tiling_polish`); (3) a lazy enumeration on the bound:

1. minimise the bound metrics lexicographically among the mappings not yet
   evaluated that could still beat the incumbent;
2. evaluate the solution exactly, update the incumbent, forbid that mapping and
   require every further mapping to beat the incumbent's exact metrics under the
   bound;
3. when no such mapping exists, the incumbent is optimal under the exact model
   (the bound's soundness is tested on random mappings and re-checked on every
   evaluated one; a violation downgrades the result to FEASIBLE).

Two additions make the proofs tractable on real layers.  Pass-through levels
(keeping nothing, e.g. Eyeriss' spatial containers) only admit the canonical
encoding of their loops (:mod:`loomc.solvers.tiling_symmetry`: none at all
without sliding windows, where hoisting them never costs).  And when ``edp`` is
the only metric, step (3) runs per cycle count instead of on the product
(:mod:`loomc.solvers.tiling_edp`), with sliding windows first on the hoisted
relaxation (``hoisted=True``: pass-through levels empty, window fills below
them relaxed; :func:`loomc.solvers.tiling_symmetry.hoisted_bound`).

When the budget runs out first, the result reports the best bound still open and
the gap.  Budgets are deterministic by default (CP-SAT deterministic time, seeded,
interleaved workers; local search counted in evaluations), so a seed reproduces
the mapping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from loomc.solvers.tiling_model import TilingModel, prime_exponent
from loomc.solvers.tiling_spec import TEMPORAL, TilePoint, TilingSpec
from loomc.solvers.tiling_symmetry import transparent_levels
from ortools.sat.python import cp_model


@dataclass(frozen=True)
class SolveOptions:
    """Knobs of one optimisation (mapper settings translate to these)."""

    time_limit: float = 60.0
    num_workers: int = 1
    seed: int = 0
    deterministic: bool = True
    energy_scale: int | None = None
    max_iterations: int = 10_000
    #: stop after this many exact evaluations in a row without improvement (0 = never)
    stall_limit: int = 0
    #: share of the time budget for the guided search before the bound loop
    guide_fraction: float = 0.5
    #: exact evaluations for the local search after the guided search, per budget second
    polish_per_second: int = 50
    log: Callable[[str], None] | None = None


@dataclass(frozen=True)
class Candidate:
    """One evaluated mapping with its closed-form bound and its exact metrics."""

    point: TilePoint
    bound: tuple[float, ...]
    exact: tuple[float, ...] | None


@dataclass(frozen=True)
class TilingResult:
    """Outcome of :func:`optimize`.

    ``status``: OPTIMAL (no mapping beats ``best`` under the exact model, given
    the bound), FEASIBLE (budget ran out; see ``bound``/``gap``), INFEASIBLE (no
    valid mapping; ``conflict`` names the rules), or UNKNOWN (nothing found).
    ``bound`` holds the lexicographic lower bound still open (per metric, the
    first metric not proven equal carries the gap).
    """

    status: str
    best: TilePoint | None
    best_metrics: tuple[float, ...] | None
    bound: tuple[float, ...] | None
    gap: float | None
    iterations: int
    evaluated: int
    wall_time: float
    conflict: tuple[str, ...] = ()
    bound_violations: int = 0
    #: improvements of the incumbent: (exact evaluations so far, wall seconds, metrics)
    history: tuple[tuple[int, float, tuple[float, ...]], ...] = field(default=(),
                                                                    compare=False)



#: share of the budget for the guided search when the only metric is EDP
EDP_GUIDE_FRACTION = 0.15

#: CP-SAT deterministic time units per wall second on the tiling models, one worker.
#: Measured on the 2-core development machine with the current formulation (symmetry
#: breaking and traffic floors in the model): 0.09-0.27 units per second on the ResNet-50
#: layers of the Eyeriss-like macro, about 0.14 per second over whole optimize() runs
#: (the exact evaluations and model copies add wall time the units do not count); the
#: earlier 0.06 came from a slower formulation.  Interleaved workers accumulate about
#: 0.04 units per second each.
DET_PER_SECOND = 0.14


#: wall seconds one exact evaluation is charged in deterministic runs (measured: mean
#: 0.84 ms over conv1's 934 evaluations, 1.07 ms over res2a_branch2a's 51).  Enumerated
#: classes can ask for many thousand evaluations; charging them keeps the budget, not
#: the wall-clock safety net, the limit that ends a run, so results stay load-independent.
EVAL_SECONDS = 0.001


def det_per_second(workers: int) -> float:
    """Deterministic units that correspond to about one wall second."""
    return DET_PER_SECOND if workers <= 1 else 0.0425 * workers


class _Clock:
    """The time budget.  Deterministic runs count CP-SAT's deterministic time only (so
    the same inputs and seed give the same result on any machine load); the wall clock
    is then just a safety net at five times the budget."""

    def __init__(self, opts: SolveOptions, without_core: bool = False):
        self.opts = opts
        self.t0 = time.monotonic()
        self.used = 0.0  # deterministic units spent
        #: leave CP-SAT's core-based subsolver out of multi-worker solves (see solve)
        self.without_core = without_core

    def left(self) -> float:
        """Seconds (or their deterministic equivalent) left in the budget."""
        wall_left = self.opts.time_limit - (time.monotonic() - self.t0)
        if not self.opts.deterministic:
            return wall_left
        if wall_left < -4 * self.opts.time_limit:
            return 0.0
        return self.opts.time_limit - self.used / det_per_second(self.opts.num_workers)

    def solve(self, work: cp_model.CpModel, seconds: float,
              enumerate_with: cp_model.CpSolverSolutionCallback | None = None,
              ) -> tuple[cp_model.CpSolver, int]:
        """Solve with at most ``seconds`` of the budget; returns the solver and status.

        ``enumerate_with``: report every solution of ``work`` (a model without objective)
        to this callback in one search (CP-SAT enumerates with a single worker)."""
        opts = self.opts
        s = cp_model.CpSolver()
        s.parameters.random_seed = opts.seed
        s.parameters.num_workers = 1 if enumerate_with else max(1, opts.num_workers)
        s.parameters.enumerate_all_solutions = enumerate_with is not None
        seconds = max(0.01, seconds)
        if s.parameters.num_workers > 1 and self.without_core:
            # the core-based subsolver exhausted 24 GB on VGG02 layer 5 (exercise 06, two
            # workers) with the window-sweep products in the model; the others do not
            s.parameters.ignore_subsolvers.append("core")
        if opts.deterministic:
            s.parameters.interleave_search = s.parameters.num_workers > 1
            # the budget's rate, not this solve's worker count: the clock counts one unit
            # of budget the same way whatever the solve (an enumeration runs one worker)
            s.parameters.max_deterministic_time = seconds * det_per_second(opts.num_workers)
            s.parameters.max_time_in_seconds = 5 * opts.time_limit + 10
        else:
            s.parameters.max_time_in_seconds = seconds
        st = s.Solve(work, enumerate_with)
        self.used += s.ResponseProto().deterministic_time
        return s, st

    def charge_evaluation(self) -> None:
        """Count one exact evaluation against the budget (see :data:`EVAL_SECONDS`)."""
        self.used += EVAL_SECONDS * det_per_second(self.opts.num_workers)


def _lex_solve(model: TilingModel, clock: _Clock, until: float, *, guide: bool = False,
               fixed_first: int | None = None):
    """Lexicographically minimise the metrics on a copy of the model.

    ``guide`` minimises the guide metrics with the no-throttling constraints on
    (a search for good mappings, no bound); otherwise the lower-bound metrics.
    ``fixed_first``: the first metric's value is known (it equals its proven lower
    bound), so that phase is replaced by a constraint.  Returns ``(point, values,
    open_bound, proven_all, infeasible)`` with values in model units; ``open_bound``
    is ``(phase, bound)`` when a phase ran out of time.
    """
    work = model.m.clone()
    names = model.spec.metrics
    table = model.guide_vars if guide else model.metric_vars
    vals: list[int] = []
    point = None
    for lit in model.groups.values():
        work.Add(work.GetBoolVarFromProtoIndex(lit.Index()) == 1)
    if guide:
        work.Add(work.GetBoolVarFromProtoIndex(model.no_throttle.Index()) == 1)
    for i, name in enumerate(names):
        idx = table[name].Index()
        var = work.GetIntVarFromProtoIndex(idx)
        if i == 0 and fixed_first is not None:
            work.Add(var <= fixed_first)
            vals.append(fixed_first)
            continue
        work.ClearObjective()
        work.Minimize(var)
        remaining = clock.left() - until
        if remaining <= 0.05:
            return point, vals, None, False, False
        s, st = clock.solve(work, remaining)
        if st == cp_model.INFEASIBLE:
            return None, vals, None, False, i == 0 or (i == 1 and fixed_first is not None)
        if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return point, vals, None, False, False
        point = model.decode(s)
        v = int(s.ObjectiveValue())
        if st != cp_model.OPTIMAL:
            return point, vals + [v], (i, int(s.BestObjectiveBound())), False, False
        vals.append(v)
        work.Add(var <= v)
    if point is None:
        # every phase was fixed: find any mapping
        s, st = clock.solve(work, max(0.05, clock.left() - until))
        if st == cp_model.INFEASIBLE:
            return None, vals, None, False, True
        if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, vals, None, False, False
        point = model.decode(s)
    return point, vals, None, True, False


def optimize(spec: TilingSpec, evaluate: Callable[[TilePoint], tuple[float, ...] | None],
             opts: SolveOptions | None = None,
             on_progress: Callable[[Candidate, tuple[float, ...] | None], None] | None = None,
             ) -> TilingResult:
    """Find the lexicographically best mapping of ``spec`` under ``evaluate`` (exact metrics).

    ``evaluate`` returns the exact metric tuple (same order as ``spec.metrics``)
    or None for a mapping the exact model rejects.  Steps: (1) a small model
    without counts gives the least compute-cycle count and a first mapping;
    (2) a guided search (guide counts, no bandwidth throttling) finds a good
    incumbent; (3) the lazy bound loop (module docstring) proves it or leaves a gap.
    """
    opts = opts or SolveOptions()
    t0 = time.monotonic()
    clock = _Clock(opts)
    names = spec.metrics
    first_hint = None
    min_cycles = 0
    light = TilingModel(spec, opts.energy_scale, counts=False)
    for lit in light.groups.values():
        light.m.Add(lit == 1)
    if "delay" in names or "edp" in names:
        light.m.Minimize(light.cycles)
        ls, lst = clock.solve(light.m, max(0.5, min(opts.time_limit * 0.1, clock.left())))
        if lst in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            first_hint = light.decode(ls)
            min_cycles = int(ls.BestObjectiveBound())
            if lst == cp_model.OPTIMAL and names[0] == "delay":
                light.m.Add(light.cycles <= min_cycles)
    # a reuse-minded first mapping: temporal factors as far inside as capacity allows
    # (a linear proxy; the guided search and the local search refine it)
    light.m.ClearObjective()
    light.m.Maximize(sum((light.nl - lv) * round(100 * math.log2(p)) * var
                         for (lv, slot, _d, p), var in light.e.items() if slot == TEMPORAL))
    ls, lst = clock.solve(light.m, max(0.5, min(opts.time_limit * 0.05, clock.left())))
    if lst in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        first_hint = light.decode(ls)
    elif first_hint is None:
        # any mapping at all (a plain feasibility solve is cheap)
        plain = light.m.clone()
        plain.ClearObjective()
        ls, lst = clock.solve(plain, max(0.5, min(opts.time_limit * 0.05, clock.left())))
        if lst in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            first_hint = light.decode(ls)
    # the window sweep pays off in the EDP class proof (pre-images closed on the plain
    # bound); elsewhere it only grows the model, and CP-SAT's core subsolver, which the
    # lexicographic energy search of exercise 06 needs, runs out of memory on it
    edp_only = tuple(names) == ("edp",)
    model = TilingModel(spec, opts.energy_scale, sweep=edp_only)
    clock.without_core = edp_only
    if min_cycles:
        model.m.Add(model.cycles >= min_cycles)
    scales = [model.metric_scale(n) for n in names]
    state = _LoopState()

    def consider(point: TilePoint, vals: list[int], guided: bool, forbid: bool = True) -> None:
        # forbid=False: the caller enumerated the point in a search of its own, so the
        # model need not learn it (each forbidden point adds constraints to every clone)
        lb = tuple(v * sc for v, sc in zip(vals, scales, strict=False))
        exact = evaluate(point)
        state.evaluated += 1
        clock.charge_evaluation()
        if exact is not None:
            if not guided:
                for i, (b, x) in enumerate(zip(lb, exact, strict=False)):
                    if b > x * (1 + 1e-9) + 1e-9:
                        state.violations += 1
                        if opts.log:
                            opts.log(f"bound violation on metric {names[i]}: {b} > {x}")
                        break
            if state.best_m is None or _lex_less(exact, state.best_m):
                state.best, state.best_m = point, tuple(exact)
                state.history.append((state.evaluated, time.monotonic() - t0, state.best_m))
                state.stall = 0
            else:
                state.stall += 1
        if on_progress:
            on_progress(Candidate(point, () if guided else lb, exact), state.best_m)
        if forbid:
            model.forbid(point)
        if state.best_m is not None:
            _require_improvement(model, names, state.best_m)

    if opts.log:
        opts.log(f"phase: model built, {clock.left():.1f} s left")
    # (2) guided search for a good first incumbent, starting from the light solution
    if first_hint is not None:
        if not _complete_hint(model, first_hint, clock):
            model.hint(first_hint)
        consider(first_hint, [], True)
    # leave (1 - guide_fraction) of the budget for the bound loop
    # EDP alone: the cycle-class proof (tiling_edp) minimises energy class by class and so
    # finds good mappings itself; the guided search only needs to seed it
    guide = min(opts.guide_fraction, EDP_GUIDE_FRACTION) if edp_only else opts.guide_fraction
    keep_back = opts.time_limit * (1 - guide)
    fixed = min_cycles if names[0] == "delay" and min_cycles else None
    point, vals, _, _, infeasible = _lex_solve(model, clock, keep_back, guide=True,
                                               fixed_first=fixed)
    if point is None and not infeasible and clock.left() > keep_back:
        point, vals, _, _, _ = _lex_solve(model, clock, keep_back)
    if point is not None:
        consider(point, vals, True)

    def polish_incumbent() -> None:
        from loomc.solvers.tiling_polish import polish

        if state.best is None or opts.polish_per_second <= 0:
            return
        pt, _, used = polish(spec, state.best, state.best_m, evaluate, seed=opts.seed,
                             max_evaluations=int(opts.polish_per_second * opts.time_limit),
                             should_stop=lambda: time.monotonic() - t0 > 5 * opts.time_limit)
        state.evaluated += used
        if pt.key() != state.best.key():
            consider(pt, [], True)

    if opts.log:
        opts.log(f"phase: guided search done, {clock.left():.1f} s left")
    polish_incumbent()
    if opts.log:
        opts.log(f"phase: polished, {clock.left():.1f} s left")

    # (3) the bound loop
    status = "UNKNOWN"
    bound: tuple[float, ...] | None = None
    it = 0
    skip_loop = False
    if edp_only and state.best_m is not None:
        # EDP alone: one linear problem per cycle count instead of the product
        from loomc.solvers.tiling_edp import prove_by_cycles
        from loomc.solvers.tiling_symmetry import merge_allowed

        # sliding windows keep loops on pass-through levels in the model; the hoisted
        # relaxation (tiling_symmetry.hoisted_bound) closes classes without them
        hmodel = (TilingModel(spec, model.scale, hoisted=True, guide=False)
                  if transparent_levels(model.spec) and not merge_allowed(model.spec)
                  else None)
        # the floor's machinery slows a minimising search where it seldom holds
        # (res4a_branch2b: 4.3 deterministic units instead of 2.3), so a class's first,
        # minimising solve runs on the relaxation without it
        hlite = (TilingModel(spec, model.scale, hoisted=True, window_floor=False, guide=False)
                 if hmodel is not None and hmodel.floored else None)
        proof = prove_by_cycles(
            model, light, clock, min_cycles,
            lambda: (state.best, state.best_m[0] if state.best_m else None),
            lambda pt, vals, forbid=True: consider(pt, vals, False, forbid), opts.log, hmodel,
            hlite)
        it = proof.classes
        skip_loop = True
        if proof.proven:
            status = "OPTIMAL"
            bound = state.best_m
        else:
            bound = (proof.bound,)
    while not skip_loop and it < opts.max_iterations:
        it += 1
        if clock.left() <= 0:
            break
        if state.best is not None:
            model.hint(state.best)
        elif first_hint is not None:
            model.hint(first_hint)
        fixed = None
        if names[0] == "delay" and min_cycles and state.best_m is not None \
                and state.best_m[0] <= min_cycles:
            fixed = min_cycles
        point, vals, open_bound, proven, infeasible = _lex_solve(model, clock, 0.0,
                                                                 fixed_first=fixed)
        if infeasible:
            status = "OPTIMAL" if state.best is not None else "INFEASIBLE"
            bound = state.best_m
            break
        if point is None:
            if open_bound is None and state.best_m is not None:
                bound = tuple(min_cycles if n == "delay" else 0.0 for n in names)
            break
        consider(point, vals, False)
        if not proven:
            if open_bound is not None:
                i, b = open_bound
                lb = [v * sc for v, sc in zip(vals, scales, strict=False)]
                bound = tuple(lb[:i] + [b * scales[i]])
            break
        if opts.stall_limit and state.stall >= opts.stall_limit:
            bound = tuple(v * sc for v, sc in zip(vals, scales, strict=False))
            break
        if state.evaluated >= opts.max_iterations:
            bound = tuple(v * sc for v, sc in zip(vals, scales, strict=False))
            break
    if status != "OPTIMAL" and state.best is not None:
        polish_incumbent()
    wall = time.monotonic() - t0
    best, best_m = state.best, state.best_m
    if status == "UNKNOWN" and best is not None:
        status = "FEASIBLE"
    if status == "OPTIMAL" and state.violations:
        status = "FEASIBLE"
    if bound is None and best_m is not None and status == "FEASIBLE":
        bound = tuple(min_cycles if n == "delay" else 0.0 for n in names)
    gap = None
    if status == "OPTIMAL":
        gap = 0.0
    elif best_m is not None and bound is not None:
        gap = _gap(best_m, bound)
    conflict: tuple[str, ...] = ()
    if status == "INFEASIBLE" or (best is None and status == "UNKNOWN"):
        conflict = explain_infeasible(model, opts)
        if conflict:
            status = "INFEASIBLE"
    return TilingResult(status, best, best_m, bound, gap, it, state.evaluated, wall, conflict,
                        state.violations, tuple(state.history))


@dataclass
class _LoopState:
    best: TilePoint | None = None
    best_m: tuple[float, ...] | None = None
    evaluated: int = 0
    violations: int = 0
    stall: int = 0
    history: list = field(default_factory=list)


def _complete_hint(model: TilingModel, pt: TilePoint, clock: _Clock) -> bool:
    """Hint every variable of ``model`` with the values ``pt`` implies (found by pinning the
    mapping's decisions and letting CP-SAT propagate); a complete hint gives the search a
    feasible start.  Returns False if that did not work in time."""
    work = model.m.clone()
    for lit in model.groups.values():
        work.Add(work.GetBoolVarFromProtoIndex(lit.Index()) == 1)
    for (lv, slot, d, p), var in model.e.items():
        exponent = prime_exponent(pt.factor(lv, slot, d), p)
        work.Add(work.GetIntVarFromProtoIndex(var.Index()) == exponent)
    for lv in range(model.nl):
        for k in range(model.nk):
            work.Add(work.GetBoolVarFromProtoIndex(model.keep[lv, k].Index())
                     == int(pt.keep[lv][k]))
    work.ClearObjective()
    work.ClearHints()
    s, st = clock.solve(work, max(0.05, min(10.0, clock.left())))
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False
    model.m.ClearHints()
    values = s.ResponseProto().solution
    for i, val in enumerate(values):
        model.m.AddHint(model.m.GetIntVarFromProtoIndex(i), int(val))
    return True


def _lex_less(a, b) -> bool:
    for x, y in zip(a, b, strict=False):
        if x < y:
            return True
        if x > y:
            return False
    return False


def _gap(best: tuple[float, ...], bound: tuple[float, ...]) -> float:
    for x, b in zip(best, bound, strict=False):
        if b < x:
            return (x - b) / x if x else 0.0
    return 0.0


def _require_improvement(model: TilingModel, names, best_m) -> None:
    """Every further solution must be able to beat ``best_m`` lexicographically."""
    m = model.m
    alts = []
    for i in range(len(names)):
        lit = m.NewBoolVar(f"imp{i}")
        for j in range(i):
            v = model.metric_vars[names[j]]
            m.Add(v <= _ceil_units(model, names[j], best_m[j])).OnlyEnforceIf(lit)
        v = model.metric_vars[names[i]]
        m.Add(v <= _ceil_units(model, names[i], best_m[i]) - 1).OnlyEnforceIf(lit)
        alts.append(lit)
    m.AddBoolOr(alts)


def _ceil_units(model: TilingModel, name: str, value: float) -> int:
    """The largest model-unit value a mapping whose exact metric is ``value`` can have."""
    return int(math.floor(value / model.metric_scale(name) + 1e-6))


def explain_infeasible(model: TilingModel, opts: SolveOptions) -> tuple[str, ...]:
    """Names of rule groups that together leave no valid mapping (empty if none found)."""
    work = model.m.clone()
    work.ClearObjective()
    work.ClearAssumptions()
    lits = list(model.groups.items())
    work.AddAssumptions([lit for _, lit in lits])
    s = cp_model.CpSolver()
    s.parameters.num_workers = 1
    s.parameters.random_seed = opts.seed
    s.parameters.max_deterministic_time = 1.0
    st = s.Solve(work)
    if st != cp_model.INFEASIBLE:
        return ()
    core = set(s.SufficientAssumptionsForInfeasibility())
    names = tuple(name for name, lit in lits if lit.Index() in core)
    return names or ("the factors cannot be distributed at all",)
