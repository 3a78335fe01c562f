"""The optimality proof for the ``edp`` metric: one linear problem per cycle count.

Why not minimise the product: the bound model's EDP is ``energy x cycles``, a
product CP-SAT relaxes so weakly that its objective bound hardly moves.  But
the bound's cycle count is the product of all temporal factors, i.e.
``computes / (spatial product)``: it divides the number of computes, and only
a few of its divisors lie between the least cycle count and
``incumbent EDP / (least energy)``.  For a fixed cycle count ``c`` the EDP
order is the energy order, so each *cycle class* is a linear problem:

* a class whose ``c x E_lb`` (``E_lb``: a proven lower bound of the energy
  bound over all mappings) is not below the incumbent's exact EDP cannot hold
  a better mapping and is skipped;
* a cycle count no mapping can have (the small feasibility model says so) is
  skipped;
* every other class runs the lazy enumeration of :mod:`loomc.solvers.tiling`
  with ``cycles == c`` and ``energy_bound <= incumbent / c``: minimise the
  energy bound, evaluate the solution exactly, forbid it, tighten, until the
  class is infeasible (closed) or the budget ends (open, with CP-SAT's energy
  bound times ``c`` as the class's EDP bound).

The incumbent is optimal when every class is closed: any better mapping would
lie in some class, with a bound (never above the evaluator) below the
incumbent.  A relative tolerance of 1e-9 on ties is the only slack.

With sliding windows the model must keep loops on pass-through levels (the
evaluator can tell them from hoisted ones), and CP-SAT's bound then hardly
moves.  So a class is first closed on the *hoisted relaxation*
(:func:`loomc.solvers.tiling_symmetry.hoisted_bound`, ``TilingModel(...,
hoisted=True)``): pass-through levels empty, window fills below them relaxed,
so that its bound of ``hoisted(pt)`` never exceeds the plain bound of ``pt``.
A class the relaxation proves empty below the incumbent holds no better
mapping.  A relaxed solution ``h`` stands for every ``pt`` with
``hoisted(pt) == h``: it is evaluated, that pre-image (or a superset: same
levels outside the chains, same spatial factors and keeps, same per-chain
temporal products) is closed on the plain model.  The relaxed mappings of a
class and the members of each pre-image are listed by one CP-SAT enumeration
each rather than by re-solving after every forbidden point.  If the relaxation
cannot close the class in time, the plain lazy enumeration takes over.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from loomc.solvers.tiling_spec import TilePoint
from ortools.sat.python import cp_model

#: ties within this relative margin count as "not better"
_TIE = 1e-9


@dataclass(frozen=True)
class EdpProof:
    """Outcome of :func:`prove_by_cycles`.

    ``proven``: no mapping beats the incumbent (given the bound); otherwise
    ``bound`` is the least EDP lower bound over the classes still open (real units).
    ``classes``/``closed``: cycle classes that needed a search, and how many closed.
    """

    proven: bool
    bound: float
    classes: int
    closed: int


def divisors(n: int) -> list[int]:
    """All divisors of ``n``, ascending."""
    small, large = [], []
    i = 1
    while i * i <= n:
        if n % i == 0:
            small.append(i)
            if i != n // i:
                large.append(n // i)
        i += 1
    return small + large[::-1]


def energy_floor(model, clock, seconds: float) -> int:
    """A proven lower bound of the model's energy bound (model units) over all mappings:
    the compute energy, raised by CP-SAT's objective bound of a short minimisation."""
    spec = model.spec
    const = int(math.floor(spec.compute_energy * model.scale)) * spec.computes
    work = model.m.clone()
    for lit in model.groups.values():
        work.Add(work.GetBoolVarFromProtoIndex(lit.Index()) == 1)
    var = work.GetIntVarFromProtoIndex(model.metric_vars["energy"].Index())
    work.ClearObjective()
    work.Minimize(var)
    s, st = clock.solve(work, seconds)
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return max(const, int(math.floor(s.BestObjectiveBound())))
    return const


def feasible_cycles(light, clock, c: int, seconds: float) -> bool:
    """False only if no mapping has ``c`` compute cycles (checked on the small model)."""
    work = light.m.clone()
    work.ClearObjective()
    work.ClearHints()
    work.Add(work.GetIntVarFromProtoIndex(light.cycles.Index()) == c)
    _, st = clock.solve(work, seconds)
    return st != cp_model.INFEASIBLE


def prove_by_cycles(model, light, clock, min_cycles: int,
                    best: Callable[[], tuple[TilePoint | None, float | None]],
                    consider: Callable[..., None],
                    log: Callable[[str], None] | None = None, hmodel=None) -> EdpProof:
    """Close every cycle class of ``model`` against the incumbent ``best()`` (see the module
    docstring).  ``consider(point, vals, forbid=True)`` evaluates a bound solution exactly,
    updates the incumbent and, if ``forbid``, forbids the point in ``model`` (``vals``: its
    EDP bound in model units; enumerated points need no forbidding)."""
    spec = model.spec
    scale = model.scale
    edp_unit = model.metric_scale("edp")

    def offer(pt: TilePoint, e_units: int, c: int, forbid: bool = True) -> None:
        # a class solution's energy bound (model units) times its cycles is its EDP bound
        consider(pt, [e_units * c / (scale * edp_unit)], forbid)
    _, inc = best()
    if inc is None:
        return EdpProof(False, 0.0, 0, 0)
    e_floor = energy_floor(model, clock, max(0.05, min(0.05 * clock.opts.time_limit,
                                                       clock.left())))
    lo = max(1, min_cycles)

    def class_limit(c: int, value: float) -> int:
        # largest energy bound (model units) with which a mapping of c cycles could still
        # beat `value`: E / scale * c < value
        return math.ceil(value * scale / c * (1 - _TIE)) - 1

    cands = [c for c in divisors(spec.computes) if c >= lo
             and e_floor <= class_limit(c, inc)]
    if log:
        log(f"edp proof: energy floor {e_floor / scale:.6g} pJ, {len(cands)} cycle classes "
            f"in [{lo}, {cands[-1] if cands else '-'}], {clock.left():.1f} s left")
    open_bounds: list[float] = []
    searched = closed = 0
    for i, c in enumerate(cands):
        _, inc = best()
        limit = class_limit(c, inc)
        if limit < e_floor:
            continue  # the incumbent improved: this class cannot beat it any more
        if clock.left() <= 0:
            open_bounds.extend(cc * e_floor / scale for cc in cands[i:])
            break
        if not feasible_cycles(light, clock, c, max(0.05, min(1.0, clock.left()))):
            continue
        searched += 1
        done, lb = False, 0
        if hmodel is not None:
            done, lb = _close_class_hoisted(model, hmodel, clock, c, best, offer,
                                            class_limit)
        if not done:
            done, lb2 = _close_class(model, clock, c, best, offer, class_limit)
            lb = max(lb, lb2)
        if done:
            closed += 1
        else:
            open_bounds.append(c * max(lb, e_floor) / scale)
        if log:
            log(f"edp proof: cycles {c}: {'closed' if done else 'open'}, "
                f"{clock.left():.1f} s left")
    _, inc = best()
    if open_bounds:
        return EdpProof(False, min(min(open_bounds), inc), searched, closed)
    return EdpProof(True, inc, searched, closed)


def _close_class(model, clock, c: int, best, offer, class_limit) -> tuple[bool, int]:
    """Lazy enumeration inside one cycle class; ``(closed, energy bound in model units)``.
    ``offer(pt, e_units, c, forbid=True)`` evaluates a class solution (its energy bound
    ``e_units`` in model units) and updates the incumbent."""
    energy = model.metric_vars["energy"]
    lb = 0
    first = True
    while True:
        pt_best, inc = best()
        limit = class_limit(c, inc)
        if limit < lb:
            return True, lb
        if clock.left() <= 0:
            return False, lb
        s, st = _solve_class(model, energy, model.cycles, clock, c, limit, minimise=first)
        if st == cp_model.INFEASIBLE:
            return True, limit + 1
        if first:
            # CP-SAT's objective bound is proven whatever the status (every mapping of the
            # class not yet evaluated has at least this energy bound)
            lb = max(lb, min(limit + 1, int(math.floor(s.BestObjectiveBound()))))
        first = False
        if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False, lb
        pt = model.decode(s)
        offer(pt, int(s.Value(energy)), c)
        if st != cp_model.OPTIMAL and clock.left() <= 0:
            return False, lb


#: distinct members one pre-image of the hoisted relaxation may have under the class
#: limit (a larger one leaves the class to the plain lazy enumeration; a count keeps
#: runs deterministic).  Each member costs one exact evaluation (about 1 ms, charged to
#: the budget as ``tiling.EVAL_SECONDS``), not a solve.  conv1's first relaxed mapping has 752
#: members under the limit, listed in 0.36 deterministic units; evaluating them lowers
#: its 60 s EDP by a fifth, so the cap sits above that.
MAX_PREIMAGE = 1024


def _class_work(m, energy, cycles, c: int, extra=None) -> cp_model.CpModel:
    """A clone of ``m`` (a TilingModel) minimising the energy bound in cycle class ``c``;
    ``extra(work)`` adds constraints to the clone."""
    work = m.m.clone()
    for lit in m.groups.values():
        work.Add(work.GetBoolVarFromProtoIndex(lit.Index()) == 1)
    work.Add(work.GetIntVarFromProtoIndex(cycles.Index()) == c)
    if extra is not None:
        extra(work)
    work.ClearObjective()
    work.Minimize(work.GetIntVarFromProtoIndex(energy.Index()))
    return work


def _solve_class(m, energy, cycles, clock, c: int, limit: int, minimise: bool = True):
    """A mapping of ``m`` in cycle class ``c`` with an energy bound of at most ``limit``:
    the least one when ``minimise``, else any.

    Only a class's first solve needs to minimise: every mapping whose bound lies under
    the class limit must be evaluated before the class closes, whatever the order, so
    once the least-bound solution has had its chance to improve the incumbent, later
    solves only need *some* such mapping — a feasibility solve instead of re-proving an
    optimum each time (res4a_branch2b from its best mapping: its class closed with 57 s
    of budget instead of 122 s).  The class's lower bound comes from the first solve."""
    work = _class_work(m, energy, cycles, c)
    work.Add(work.GetIntVarFromProtoIndex(energy.Index()) <= limit)
    if not minimise:
        work.ClearObjective()
    return clock.solve(work, clock.left())


def _preimage(model, h: TilePoint):
    """Constraints (on a clone of ``model.m``) keeping only mappings ``pt`` with
    ``hoisted(pt) == h``, or a superset: every level outside the pass-through chains and
    their upper levels is ``h``'s, every spatial factor and keep flag is ``h``'s, and the
    temporal factors of each chain (with its upper level) multiply to ``h``'s."""
    from loomc.solvers.tiling import _vp
    from loomc.solvers.tiling_spec import TEMPORAL
    from loomc.solvers.tiling_symmetry import transparent_levels

    spec = model.spec
    chain = set(transparent_levels(spec))
    tops: dict[int, list[int]] = {}
    for lv in sorted(chain):
        top = lv + 1
        while top in chain:
            top += 1
        tops.setdefault(top, []).append(lv)
    free = {lv for lvs in tops.values() for lv in lvs} | set(tops)

    def extra(work) -> None:
        def var(v):
            return work.GetIntVarFromProtoIndex(v.Index())

        def lit(v):
            return work.GetBoolVarFromProtoIndex(v.Index())

        for (lv, s, d, p), v in model.e.items():
            if s == TEMPORAL and lv in free:
                continue
            work.Add(var(v) == _vp(h.factor(lv, s, d), p))
        for top, lvs in tops.items():
            for d in range(model.nd):
                for p in model.primes[d]:
                    work.Add(sum(var(model.e[lv, TEMPORAL, d, p]) for lv in lvs + [top])
                             == _vp(h.factor(top, TEMPORAL, d), p))
        for lv in range(model.nl):
            for k in range(model.nk):
                work.Add(lit(model.keep[lv, k]) == int(h.keep[lv][k]))
            if lv in free:
                continue
            pos = {d: i for i, d in enumerate(h.order[lv])}
            for a in range(model.nd):
                for b in range(a + 1, model.nd):
                    if h.factor(lv, TEMPORAL, a) > 1 and h.factor(lv, TEMPORAL, b) > 1:
                        work.Add(lit(model.before[lv, a, b]) == int(pos[a] < pos[b]))
    return extra


class _Solutions(cp_model.CpSolverSolutionCallback):
    """Collects the distinct mappings of one enumeration, in the order found.

    The same mapping can come back more than once with different values of variables
    that do not matter (the order of unit loops); its key identifies it.  More than
    ``cap`` distinct mappings stop the search (the caller then leaves the set open)."""

    def __init__(self, model, energy, cap: int):
        super().__init__()
        self._model, self._energy, self._cap = model, energy, cap
        self.found: dict[tuple, tuple[int, TilePoint]] = {}
        self.overflow = False

    def on_solution_callback(self) -> None:
        pt = self._model.decode(self)
        e_units = int(self.Value(self._energy))
        seen = self.found.get(pt.key())
        if seen is None or e_units < seen[0]:
            # the least bound any copy reports: sound even if the energy variable could
            # sit above the mapping's own bound
            self.found[pt.key()] = (e_units, pt)
        if len(self.found) > self._cap:
            self.overflow = True
            self.StopSearch()

    def by_bound(self) -> list[tuple[int, TilePoint]]:
        """The mappings found, least energy bound first (ties in the order found)."""
        return sorted(self.found.values(), key=lambda item: item[0])


def _enumerate(clock, work: cp_model.CpModel, model, energy, limit: int, cap: int):
    """Every mapping of ``work`` (a class clone of ``model``) whose energy bound is at
    most ``limit``, in one search; ``(complete, solutions)``."""
    work.Add(work.GetIntVarFromProtoIndex(energy.Index()) <= limit)
    work.ClearObjective()
    found = _Solutions(model, energy, cap)
    _, st = clock.solve(work, clock.left(), enumerate_with=found)
    complete = st in (cp_model.OPTIMAL, cp_model.INFEASIBLE) and not found.overflow
    return complete, found


def _close_preimage(model, clock, c: int, h: TilePoint, best, offer, class_limit) -> bool:
    """Evaluate every mapping whose hoisted form is ``h`` and whose plain bound lies under
    the class limit: its least member, then one enumeration of the rest on the same
    clone (pre-image constraints), each member evaluated least bound first unless an
    improved incumbent has put it above the limit.  False when the budget ends or the set
    is larger than :data:`MAX_PREIMAGE` (the members found are still evaluated)."""
    pen = model.metric_vars["energy"]
    work = _class_work(model, pen, model.cycles, c, _preimage(model, h))
    wen = work.GetIntVarFromProtoIndex(pen.Index())
    # its least member first: the likeliest to improve the incumbent, and so to shrink
    # the set the enumeration must list
    work.Add(wen <= class_limit(c, best()[1]))
    s, st = clock.solve(work, clock.left())
    if st == cp_model.INFEASIBLE:
        return True
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False
    pt = model.decode(s)
    offer(pt, int(s.Value(pen)), c)
    model.forbid(pt, into=work)
    complete, found = _enumerate(clock, work, model, pen, class_limit(c, best()[1]),
                                 MAX_PREIMAGE)
    for e_units, pt in found.by_bound():
        if e_units <= class_limit(c, best()[1]):
            offer(pt, e_units, c, False)
    return complete


#: distinct relaxed mappings one class enumeration may collect (more: the class stays open)
MAX_RELAXED = 256


def _close_class_hoisted(model, hmodel, clock, c: int, best, offer,
                         class_limit) -> tuple[bool, int]:
    """Close class ``c`` on the hoisted relaxation (:func:`tiling_symmetry.hoisted_bound`):
    its bound of ``hoisted(pt)`` never exceeds the plain bound of ``pt``, so a class the
    relaxation rules out holds no better mapping.

    Two steps.  A minimising solve gives the class's lower bound and its least relaxed
    mapping, whose pre-image holds the likeliest improvement of the incumbent (a
    tighter limit shrinks what follows).  Then *one* search enumerates every other
    relaxed mapping under the class limit; each is evaluated, least bound first, and
    its pre-image closed, unless an improved incumbent has put it above the limit.
    If that enumeration is incomplete (budget or :data:`MAX_RELAXED`), the class stays
    open: the mappings it listed are only evaluated, and forbidden in ``model`` so that
    the plain lazy enumeration which takes over does not find them again.
    This replaces a minimise-forbid-resolve loop in which every step searched the
    class's whole tree again: res4a_branch2b's class from its best mapping took 2.7
    deterministic units of enumeration where the loop's solves after the first took
    4.5, and the layer is now proven within 60 s."""
    energy = hmodel.metric_vars["energy"]
    _, inc = best()
    limit = class_limit(c, inc)
    s, st = _solve_class(hmodel, energy, hmodel.cycles, clock, c, limit)
    if st == cp_model.INFEASIBLE:
        return True, limit + 1
    lb = min(limit + 1, int(math.floor(s.BestObjectiveBound())))
    done: set[tuple] = set()

    def close(h: TilePoint, e_units: int) -> bool:
        done.add(h.key())
        offer(h, e_units, c)
        return _close_preimage(model, clock, c, h, best, offer, class_limit)

    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or \
            not close(hmodel.decode(s), int(s.Value(energy))):
        return False, lb
    _, inc = best()
    limit = class_limit(c, inc)
    if limit < lb:
        return True, lb
    if clock.left() <= 0:
        return False, lb
    work = _class_work(hmodel, energy, hmodel.cycles, c)
    complete, found = _enumerate(clock, work, hmodel, energy, limit, MAX_RELAXED)
    for e_units, h in found.by_bound():
        if h.key() in done or e_units > class_limit(c, best()[1]):
            continue
        if not complete:
            # the class stays open; its relaxed mappings may still improve the incumbent
            offer(h, e_units, c)
        elif not close(h, e_units):
            return False, lb
    return complete, lb

