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
so that its bound of ``hoisted(pt)`` never exceeds the exact energy of ``pt``.
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

from loomc.solvers.tiling_spec import TEMPORAL, TilePoint
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
                    log: Callable[[str], None] | None = None, hmodel=None,
                    hlite=None) -> EdpProof:
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
                                            class_limit, hlite)
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


def _chains(spec) -> tuple[dict[int, list[int]], set[int]]:
    """``({upper level: its pass-through chain}, every level of the chains and uppers)``."""
    from loomc.solvers.tiling_symmetry import transparent_levels

    chain = set(transparent_levels(spec))
    tops: dict[int, list[int]] = {}
    for lv in sorted(chain):
        top = lv + 1
        while top in chain:
            top += 1
        tops.setdefault(top, []).append(lv)
    return tops, {lv for lvs in tops.values() for lv in lvs} | set(tops)


def _preimage_columns(model, work, h: TilePoint) -> tuple[list, list[int]]:
    """The variables of ``work`` (a clone of ``model.m``) that pin a mapping's hoisted
    form, and their values for ``h``: every factor outside the chains and their upper
    levels, each chain's temporal exponents summed with its upper level's, the keep
    flags.  (Loop orders outside the chains are left out.)"""
    from loomc.solvers.tiling_model import prime_exponent

    tops, free = _chains(model.spec)
    cols, vals = [], []
    for (lv, s, d, p), v in model.e.items():
        if s == TEMPORAL and lv in free:
            continue
        cols.append(work.GetIntVarFromProtoIndex(v.Index()))
        vals.append(prime_exponent(h.factor(lv, s, d), p))
    for top, lvs in tops.items():
        for d in range(model.nd):
            for p in model.primes[d]:
                cols.append(sum(work.GetIntVarFromProtoIndex(model.e[lv, TEMPORAL, d, p].Index())
                                for lv in lvs + [top]))
                vals.append(prime_exponent(h.factor(top, TEMPORAL, d), p))
    for lv in range(model.nl):
        for k in range(model.nk):
            cols.append(work.GetBoolVarFromProtoIndex(model.keep[lv, k].Index()))
            vals.append(int(h.keep[lv][k]))
    return cols, vals


def _preimage(model, h: TilePoint):
    """Constraints (on a clone of ``model.m``) keeping only mappings ``pt`` with
    ``hoisted(pt) == h``, or a superset: every level outside the pass-through chains and
    their upper levels is ``h``'s, every spatial factor and keep flag is ``h``'s, and the
    temporal factors of each chain (with its upper level) multiply to ``h``'s."""
    _, free = _chains(model.spec)

    def extra(work) -> None:
        cols, vals = _preimage_columns(model, work, h)
        for col, val in zip(cols, vals, strict=True):
            work.Add(col == val)
        for lv in range(model.nl):
            if lv in free:
                continue
            pos = {d: i for i, d in enumerate(h.order[lv])}
            for a in range(model.nd):
                for b in range(a + 1, model.nd):
                    if h.factor(lv, TEMPORAL, a) > 1 and h.factor(lv, TEMPORAL, b) > 1:
                        before = work.GetBoolVarFromProtoIndex(model.before[lv, a, b].Index())
                        work.Add(before == int(pos[a] < pos[b]))
    return extra


def _preimages(model, hs: list[TilePoint]):
    """Constraints keeping only mappings in the pre-image of one of ``hs``, or a superset
    (:func:`_preimage`'s columns as one table, loop orders free)."""

    def extra(work) -> None:
        rows = []
        cols: list = []
        for h in hs:
            cols, vals = _preimage_columns(model, work, h)
            rows.append(vals)
        fixed = {i for i in range(len(cols)) if len({r[i] for r in rows}) == 1}
        for i in sorted(fixed):
            work.Add(cols[i] == rows[0][i])
        vary = [i for i in range(len(cols)) if i not in fixed]
        if not vary:
            return
        aux = []
        for i in vary:
            col = cols[i]
            if isinstance(col, cp_model.IntVar):
                aux.append(col)
                continue
            v = work.NewIntVar(0, max(r[i] for r in rows), "")
            work.Add(v == col)
            aux.append(v)
        work.AddAllowedAssignments(aux, sorted({tuple(r[i] for i in vary) for r in rows}))
    return extra


#: relaxed mappings whose pre-images one solve tries to rule out together (conv1's
#: final class: 16 pre-images ruled out in 0.16-0.43 deterministic units, one at a time
#: about 0.06 each)
PREIMAGE_BATCH = 16


def _rule_out(model, clock, c: int, hs: list[TilePoint], limit: int) -> bool:
    """True when no mapping in the pre-images of ``hs`` has a plain bound under
    ``limit`` (one feasibility solve over their union)."""
    pen = model.metric_vars["energy"]
    work = _class_work(model, pen, model.cycles, c, _preimages(model, hs))
    work.Add(work.GetIntVarFromProtoIndex(pen.Index()) <= limit)
    work.ClearObjective()
    _, st = clock.solve(work, clock.left())
    return st == cp_model.INFEASIBLE


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
    # evaluated: kept out of this clone only (forbidding it in ``model`` would grow every
    # later clone of the class)
    offer(pt, int(s.Value(pen)), c, False)
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
                         class_limit, hlite=None) -> tuple[bool, int]:
    """Close class ``c`` on the hoisted relaxation (:func:`tiling_symmetry.hoisted_bound`):
    its bound of ``hoisted(pt)`` never exceeds the exact energy of ``pt``, so a class the
    relaxation rules out holds no better mapping.

    Two steps.  A minimising solve gives the class's lower bound and its least relaxed
    mapping, whose pre-image holds the likeliest improvement of the incumbent (a
    tighter limit shrinks what follows).  Given ``hlite``, the relaxation without the
    pre-image floor on window fills, that solve runs there instead (a weaker bound,
    found faster) and its mapping is only evaluated.
    Then *one* search enumerates every other relaxed mapping under the class limit;
    each is evaluated, least bound first, and its pre-image closed, unless an improved
    incumbent has put it above the limit.
    If that enumeration is incomplete (budget or :data:`MAX_RELAXED`), the mappings it
    listed are evaluated; when that improves the incumbent, the lower limit may leave
    few enough to list, so the enumeration runs again, else the class stays open.
    Nothing is forbidden in ``model`` itself: every pre-image clones it, and each
    forbidden mapping adds variables to every later clone (conv1: 256 of them made
    each pre-image solve several times slower).  The plain lazy enumeration that may
    take over can meet an evaluated mapping again; that costs one evaluation.
    This replaces a minimise-forbid-resolve loop in which every step searched the
    class's whole tree again: res4a_branch2b's class from its best mapping took 2.7
    deterministic units of enumeration where the loop's solves after the first took
    4.5, and the layer is now proven within 60 s."""
    energy = hmodel.metric_vars["energy"]
    first = hlite if hlite is not None else hmodel
    _, inc = best()
    limit = class_limit(c, inc)
    s, st = _solve_class(first, first.metric_vars["energy"], first.cycles, clock, c, limit)
    if st == cp_model.INFEASIBLE:
        return True, limit + 1
    lb = min(limit + 1, int(math.floor(s.BestObjectiveBound())))
    done: set[tuple] = set()  # pre-images closed
    offered: set[tuple] = set()  # relaxed mappings evaluated

    def close(h: TilePoint, e_units: int) -> bool:
        done.add(h.key())
        if h.key() not in offered:
            offered.add(h.key())
            offer(h, e_units, c, False)
        return _close_preimage(model, clock, c, h, best, offer, class_limit)

    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False, lb
    h0, e0 = first.decode(s), int(s.Value(first.metric_vars["energy"]))
    if first is hmodel:
        if not close(h0, e0):
            return False, lb
    else:
        # without the floor the least relaxed mapping may be one the floor lifts (conv1:
        # a pre-image of 752 members under the limit): evaluate it alone; the enumeration
        # below closes its pre-image if the floor leaves it under the limit
        offered.add(h0.key())
        offer(h0, e0, c, False)
    while True:
        _, inc = best()
        limit = class_limit(c, inc)
        if limit < lb:
            return True, lb
        if clock.left() <= 0:
            return False, lb
        work = _class_work(hmodel, energy, hmodel.cycles, c)
        complete, found = _enumerate(clock, work, hmodel, energy, limit, MAX_RELAXED)
        if complete:
            pending = [(e, h) for e, h in found.by_bound() if h.key() not in done]
            for i in range(0, len(pending), PREIMAGE_BATCH):
                batch = [(e, h) for e, h in pending[i:i + PREIMAGE_BATCH]
                         if e <= class_limit(c, best()[1])]
                if not batch:
                    continue
                if clock.left() <= 0:
                    return False, lb
                # most pre-images hold nothing under the limit: rule a batch out at once
                if len(batch) > 1 and _rule_out(model, clock, c, [h for _, h in batch],
                                                class_limit(c, best()[1])):
                    done.update(h.key() for _, h in batch)
                    continue
                for e_units, h in batch:
                    if e_units <= class_limit(c, best()[1]) and not close(h, e_units):
                        return False, lb
            return True, lb
        # too many (or the budget ended): evaluate what was listed; a better incumbent
        # lowers the limit, and the list under it may then be complete
        for e_units, h in found.by_bound():
            if h.key() in done or h.key() in offered or e_units > class_limit(c, best()[1]):
                continue
            offered.add(h.key())
            offer(h, e_units, c, False)
        if best()[1] >= inc:
            return False, lb

