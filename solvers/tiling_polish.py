"""Local search on the exact model, started from the CP-SAT solution.

CP-SAT optimises the closed-form counts; where those are only a bound (sliding
windows, bandwidth) the exact evaluator may rank neighbours differently.  This
hill climber moves one prime factor between two loops, swaps two adjacent
loops, or flips one keep/bypass choice, and keeps a move only when the exact
evaluator says it is lexicographically better.  Every move honours the
mapspace rules (fixed factors, spatial split, permutation prefix, forced
keep/bypass); capacity and fanout are left to the evaluator (it rejects
invalid mappings).  A seeded generator and a budget counted in evaluations
make it reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from loomc.solvers.tiling_model import prime_factors
from loomc.solvers.tiling_spec import SPATIAL_X, SPATIAL_Y, TEMPORAL, TilePoint, TilingSpec


def free_slots(spec: TilingSpec) -> list[list[tuple[int, str]]]:
    """Per dimension, the (level, slot) loops whose factor the rules leave open."""
    out = []
    for d in range(len(spec.bounds)):
        slots = []
        for lv in range(len(spec.levels)):
            rules = spec.rules[lv]
            for slot in spec.slots(lv):
                allowed = {SPATIAL_X: rules.spatial_x, SPATIAL_Y: rules.spatial_y}.get(slot)
                if allowed is not None and d not in allowed:
                    continue
                if rules.factors.get(slot, {}).get(d):
                    continue
                slots.append((lv, slot))
        out.append(slots)
    return out


def respects(order: tuple[int, ...], rule: tuple[int, ...], t: tuple[int, ...]) -> bool:
    """Non-unit listed dims are innermost, in the listed order."""
    pos = -1
    seen_unlisted = False
    for d in order:
        if t[d] <= 1:
            continue
        if d in rule:
            if seen_unlisted or rule.index(d) < pos:
                return False
            pos = rule.index(d)
        else:
            seen_unlisted = True
    return True


def _with_factor(pt: TilePoint, d: int, src: tuple[int, str], dst: tuple[int, str],
                 p: int) -> TilePoint:
    facs = [dict(f) for f in pt.factors]
    for (lv, slot), mul in ((src, None), (dst, p)):
        vec = list(facs[lv][slot])
        vec[d] = vec[d] * p if mul else vec[d] // p
        facs[lv][slot] = tuple(vec)
    return TilePoint(tuple(facs), pt.order, pt.keep)


def _neighbour(spec: TilingSpec, pt: TilePoint, slots, rng: random.Random) -> TilePoint | None:
    kind = rng.random()
    nl, nd = len(spec.levels), len(spec.bounds)
    if kind < 0.6:
        d = rng.randrange(nd)
        cand = slots[d]
        if len(cand) < 2:
            return None
        src = rng.choice(cand)
        f = pt.factor(src[0], src[1], d)
        if f == 1:
            return None
        p = rng.choice(sorted(prime_factors(f)))
        dst = rng.choice([s for s in cand if s != src])
        return _with_factor(pt, d, src, dst, p)
    if kind < 0.85:
        lv = rng.randrange(nl)
        order = list(pt.order[lv])
        t = pt.factors[lv].get(TEMPORAL, (1,) * nd)
        nonunit = [i for i, d in enumerate(order) if t[d] > 1]
        if len(nonunit) < 2:
            return None
        j = rng.randrange(len(nonunit) - 1)
        a, b = nonunit[j], nonunit[j + 1]
        order[a], order[b] = order[b], order[a]
        if spec.rules[lv].permutation and not respects(tuple(order),
                                                       spec.rules[lv].permutation, t):
            return None
        orders = list(pt.order)
        orders[lv] = tuple(order)
        return TilePoint(pt.factors, tuple(orders), pt.keep)
    choices = [(lv, k) for lv in range(nl - 1) for k in range(len(spec.spaces))
               if not spec.levels[lv].keep or spec.levels[lv].keep[k] is None]
    if not choices:
        return None
    lv, k = rng.choice(choices)
    keep = [list(r) for r in pt.keep]
    keep[lv][k] = not keep[lv][k]
    return TilePoint(pt.factors, pt.order, tuple(tuple(r) for r in keep))


def polish(spec: TilingSpec, start: TilePoint, start_value: tuple[float, ...],
           evaluate: Callable[[TilePoint], tuple[float, ...] | None], *, seed: int = 0,
           max_evaluations: int = 2000, patience: int = 400,
           should_stop: Callable[[], bool] | None = None,
           ) -> tuple[TilePoint, tuple[float, ...], int]:
    """Hill-climb from ``start``; returns the best point, its exact metrics, evaluations used.

    Stops after ``max_evaluations`` exact evaluations, after ``patience``
    evaluations in a row without improvement, or when ``should_stop()`` says so.
    """
    rng = random.Random(seed)
    slots = free_slots(spec)
    best, best_v = start, tuple(start_value)
    seen = {start.key()}
    used = 0
    idle = 0
    tries = 0
    while used < max_evaluations and idle < patience and tries < 50 * max_evaluations:
        tries += 1
        if should_stop is not None and should_stop():
            break
        cand = _neighbour(spec, best, slots, rng)
        if cand is None:
            continue
        key = cand.key()
        if key in seen:
            continue
        seen.add(key)
        used += 1
        val = evaluate(cand)
        if val is not None and tuple(val) < best_v:
            best, best_v = cand, tuple(val)
            idle = 0
        else:
            idle += 1
    return best, best_v, used
