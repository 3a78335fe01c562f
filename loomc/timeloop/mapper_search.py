"""Timeloop's mapper algorithms as baselines over loomc's model.

The mapspace has Timeloop's four dimensions: index factorization (each
dimension's factors over the levels' temporal / spatial-X / spatial-Y loops),
loop permutation per level, spatial split (fixed here by the X/Y slots) and
data-space bypass.  Algorithms (Timeloop's ``src/search``):

* ``exhaustive`` — every factorization × every permutation of all dimensions ×
  every bypass choice, in order (bypass innermost);
* ``linear-pruned`` — the same order, permutations only of the non-unit loops
  (Timeloop also skips the rest of a factorization once all bypass choices of a
  permutation failed; that only saves time and is not done here);
* ``random`` — independent uniform draws of every mapspace dimension;
* ``random-pruned`` — a random factorization, then up to
  ``max-permutations-per-if-visit`` random pruned permutations, each with a random
  bypass choice;
* ``hybrid`` — a random factorization, then its pruned permutations in order
  (at most ``max-permutations-per-if-visit``) with every bypass choice.

Termination as in Timeloop's mapper thread: ``timeout`` consecutive invalid
mappings (so 0 stops at the first invalid one), ``victory-condition``
consecutive non-improving valid mappings, ``search-size`` valid mappings, the
time limit, or the end of the space.  A seeded :class:`random.Random` makes
every run reproducible.  Candidates are compared lexicographically on the
evaluator's exact metrics.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator

from loomc.solvers.tiling_model import prime_factors
from loomc.solvers.tiling_polish import respects
from loomc.solvers.tiling_spec import SPATIAL_X, SPATIAL_Y, TEMPORAL, TilePoint, TilingSpec
from loomc.timeloop.mapper import (
    LiveStatus,
    MapperOptions,
    MapperResult,
    metric_values,
    point_to_mapping,
)
from loomc.timeloop.mapping import MappingError
from loomc.timeloop.model import Evaluator
from loomc.timeloop.spec import Spec

Factorization = tuple[dict[str, tuple[int, ...]], ...]


class Mapspace:
    """The choices of one :class:`TilingSpec`, honouring its rules."""

    def __init__(self, tspec: TilingSpec):
        self.t = tspec
        self.nl = len(tspec.levels)
        self.nd = len(tspec.bounds)
        self.nk = len(tspec.spaces)
        # per dim: fixed factor per slot, free slots, remaining bound
        self.fixed: list[dict[tuple[int, str], int]] = []
        self.free: list[list[tuple[int, str]]] = []
        self.remaining: list[int] = []
        self.empty = False
        for d in range(self.nd):
            fixed: dict[tuple[int, str], int] = {}
            free: list[tuple[int, str]] = []
            for lv in range(self.nl):
                rules = tspec.rules[lv]
                for slot in tspec.slots(lv):
                    allowed = {SPATIAL_X: rules.spatial_x, SPATIAL_Y: rules.spatial_y}.get(slot)
                    val = rules.factors.get(slot, {}).get(d)
                    if allowed is not None and d not in allowed:
                        val = 1
                    if val:
                        fixed[lv, slot] = val
                    else:
                        free.append((lv, slot))
            prod = 1
            for v in fixed.values():
                prod *= v
            if tspec.bounds[d] % prod or (not free and prod != tspec.bounds[d]):
                self.empty = True
            self.fixed.append(fixed)
            self.free.append(free)
            self.remaining.append(tspec.bounds[d] // prod if prod else 0)
        self.keep_choices = [
            [k for k in range(self.nk) if lv < self.nl - 1 and (
                not tspec.levels[lv].keep or tspec.levels[lv].keep[k] is None)]
            for lv in range(self.nl)]

    # ---------------------------------------------------------------- factorizations
    def _splits(self, n: int, parts: int) -> Iterator[tuple[int, ...]]:
        if parts == 0:
            if n == 1:
                yield ()
            return
        if parts == 1:
            yield (n,)
            return
        for f in range(1, n + 1):
            if n % f == 0:
                for rest in self._splits(n // f, parts - 1):
                    yield (f,) + rest

    def _assemble(self, per_dim: list[dict[tuple[int, str], int]]) -> Factorization:
        out = []
        for lv in range(self.nl):
            fs = {}
            for slot in self.t.slots(lv):
                fs[slot] = tuple(per_dim[d].get((lv, slot), 1) for d in range(self.nd))
            out.append(fs)
        return tuple(out)

    def _dim_options(self, d: int) -> list[dict[tuple[int, str], int]]:
        opts = []
        for split in self._splits(self.remaining[d], len(self.free[d])):
            a = dict(self.fixed[d])
            a.update(zip(self.free[d], split, strict=True))
            opts.append(a)
        return opts

    def factorizations(self) -> Iterator[Factorization]:
        """Every factorization, in a fixed order."""
        if self.empty:
            return
        options = [self._dim_options(d) for d in range(self.nd)]
        for combo in itertools.product(*options):
            yield self._assemble(list(combo))

    def random_factorization(self, rng: random.Random) -> Factorization | None:
        if self.empty:
            return None
        per_dim = []
        for d in range(self.nd):
            a = dict(self.fixed[d])
            for slot in self.free[d]:
                a.setdefault(slot, 1)
            for p, mult in prime_factors(self.remaining[d]).items():
                for _ in range(mult):
                    slot = rng.choice(self.free[d])
                    a[slot] *= p
            per_dim.append(a)
        return self._assemble(per_dim)

    # ---------------------------------------------------------------- permutations
    def _level_orders(self, fz: Factorization, lv: int, pruned: bool) -> list[tuple[int, ...]]:
        t = fz[lv][TEMPORAL]
        rule = self.t.rules[lv].permutation
        dims = [d for d in range(self.nd) if t[d] > 1] if pruned else list(range(self.nd))
        out = []
        for perm in itertools.permutations(dims):
            if rule and not respects(perm, rule, t):
                continue
            rest = [d for d in range(self.nd) if d not in perm]
            out.append(tuple(perm) + tuple(rest))
        return out or [tuple(range(self.nd))]

    def permutations(self, fz: Factorization, pruned: bool) -> Iterator[tuple]:
        per_level = [self._level_orders(fz, lv, pruned) for lv in range(self.nl)]
        yield from itertools.product(*per_level)

    def random_permutation(self, fz: Factorization, rng: random.Random, pruned: bool) -> tuple:
        return tuple(rng.choice(self._level_orders(fz, lv, pruned)) for lv in range(self.nl))

    # ---------------------------------------------------------------- bypass
    def _keep_from_bits(self, bits: tuple[bool, ...]) -> tuple[tuple[bool, ...], ...]:
        it = iter(bits)
        out = []
        for lv in range(self.nl):
            spec_keep = self.t.levels[lv].keep
            row = []
            for k in range(self.nk):
                if lv == self.nl - 1:
                    row.append(True)
                elif k in self.keep_choices[lv]:
                    row.append(next(it))
                else:
                    row.append(bool(spec_keep[k]) if spec_keep and spec_keep[k] is not None
                               else True)
            out.append(tuple(row))
        return tuple(out)

    def bypasses(self) -> Iterator[tuple[tuple[bool, ...], ...]]:
        n = sum(len(c) for c in self.keep_choices)
        for bits in itertools.product((False, True), repeat=n):
            yield self._keep_from_bits(bits)

    def random_bypass(self, rng: random.Random) -> tuple[tuple[bool, ...], ...]:
        n = sum(len(c) for c in self.keep_choices)
        return self._keep_from_bits(tuple(rng.random() < 0.5 for _ in range(n)))


def _candidates(space: Mapspace, opts: MapperOptions,
                rng: random.Random) -> Iterator[tuple[TilePoint, bool]]:
    """Mapping candidates in the algorithm's order; the flag marks a new factorization."""
    alg = opts.algorithm
    if alg in ("exhaustive", "linear_pruned"):
        pruned = alg == "linear_pruned"
        for fz in space.factorizations():
            first = True
            for orders in space.permutations(fz, pruned):
                for keep in space.bypasses():
                    yield TilePoint(fz, orders, keep), first
                    first = False
        return
    cap = max(1, opts.max_permutations_per_if_visit)
    while True:
        fz = space.random_factorization(rng)
        if fz is None:
            return
        if alg == "random":
            yield TilePoint(fz, space.random_permutation(fz, rng, False),
                            space.random_bypass(rng)), True
        elif alg == "random_pruned":
            for i in range(cap):
                yield TilePoint(fz, space.random_permutation(fz, rng, True),
                                space.random_bypass(rng)), i == 0
        else:  # hybrid
            first = True
            for orders in itertools.islice(space.permutations(fz, True), cap):
                for keep in space.bypasses():
                    yield TilePoint(fz, orders, keep), first
                    first = False


def run_baseline(spec: Spec, tspec: TilingSpec, evaluator: Evaluator, opts: MapperOptions,
                 live: LiveStatus, emit: Callable[[str], None]) -> MapperResult:
    """Run one of Timeloop's algorithms over loomc's model."""
    metrics = opts.metrics
    rng = random.Random(opts.seed)
    space = Mapspace(tspec)
    t0 = time.monotonic()
    best = best_vals = best_res = None
    total = valid = 0
    invalid_run = 0
    since_best = 0
    reasons: Counter[str] = Counter()
    examples: dict[str, str] = {}
    history = []
    exhausted = True
    for pt, _new_if in _candidates(space, opts, rng):
        if opts.timeout >= 0 and invalid_run > 0 and invalid_run >= opts.timeout:
            exhausted = False
            emit(f"{invalid_run} invalid mappings in a row: stopping (timeout {opts.timeout})")
            break
        if opts.victory_condition and since_best >= opts.victory_condition:
            exhausted = False
            emit(f"{since_best} mappings without improvement: stopping (victory condition)")
            break
        if opts.search_size and valid >= opts.search_size:
            exhausted = False
            break
        if time.monotonic() - t0 >= opts.time_limit:
            exhausted = False
            emit("time limit reached")
            break
        total += 1
        mapping = point_to_mapping(tspec, pt)
        try:
            res = evaluator.evaluate(mapping)
        except MappingError as exc:
            invalid_run += 1
            if opts.diagnostics:
                reasons[exc.code or "?"] += 1
                examples.setdefault(exc.code or "?", exc.message)
            continue
        valid += 1
        invalid_run = 0
        vals = metric_values(res, metrics)
        if best_vals is None or vals < best_vals:
            best, best_vals, best_res = mapping, vals, res
            since_best = 0
            history.append((total, time.monotonic() - t0, vals))
            if opts.log_stats:
                emit(f"[{valid}] improved: " + " ".join(
                    f"{m}={v:.6g}" for m, v in zip(metrics, vals, strict=True)))
        else:
            since_best += 1
        if opts.log_suboptimal:
            emit(f"[{valid}] valid: " + " ".join(
                f"{m}={v:.6g}" for m, v in zip(metrics, vals, strict=True)))
        live.update(f"{opts.algorithm}: {total} tried, {valid} valid, best "
                    + (" ".join(f"{v:.4g}" for v in best_vals) if best_vals else "-"))
    status = "UNKNOWN"
    if best is not None:
        full_space = opts.algorithm in ("exhaustive", "linear_pruned") and exhausted
        status = "OPTIMAL" if full_space else "FEASIBLE"
    elif exhausted and opts.algorithm in ("exhaustive", "linear_pruned"):
        status = "INFEASIBLE"
    diag = tuple((code, n, examples[code]) for code, n in sorted(reasons.items()))
    return MapperResult(opts.algorithm, metrics, status, best, best_res, best_vals,
                        best_vals if status == "OPTIMAL" else None,
                        0.0 if status == "OPTIMAL" else None, time.monotonic() - t0, total,
                        valid, (), diag, (), tuple(history))
