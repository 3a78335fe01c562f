"""CP-SAT formulation of the tiling problem: :class:`TilingModel`.


Decision variables (CoSA-like, but exact integers instead of a log-domain guess):

* ``e[l, slot, d, p]`` — how many copies of prime ``p`` of dimension ``d`` go to
  level ``l``'s temporal / spatial-X / spatial-Y loop.  Every factor, tile span,
  instance count and cycle count is a product of prime powers, so each is an
  exponent sum plus a table lookup (``AddElement``) and, across primes, an exact
  ``AddMultiplicationEquality``.
* ``before[l, a, b]`` — loop ``a`` is inside loop ``b`` at level ``l`` (a total
  order; unit loops are pushed outermost in dimension order so every mapping
  has one canonical encoding).
* ``keep[l, k]`` — level ``l`` keeps data space ``k``.

Constraints: factors multiply to the bounds; kept tiles fit the capacity divided
by multiple buffering; spatial factors fit meshX/meshY; mapspace rules (fixed
factors, permutations, keep/bypass, spatial split).  Each rule group hangs on an
assumption literal, so an infeasible space is explained by the groups CP-SAT
names as conflicting.

The access counts of :mod:`loomc.solvers.tiling_cost` are encoded exactly
(innermost relevant loop per level via the order booleans, sliding windows via
rank extents, ``ceil`` to vector accesses, multicast groups), in two variants:

* the *bound* (``metric_vars``): never above the Timeloop-compatible evaluator
  (it leaves out bandwidth throttling, network and address-generation energy,
  and the re-use Timeloop's representative-iteration deltas may find on
  sliding-window loops); exact for tensors without sliding windows.  Each
  (level, tensor) energy is raised to the traffic every used element needs
  (:func:`loomc.solvers.tiling_cost.traffic_floor`), and dimensions of bound 1
  are dropped from projections first (a 1x1 convolution has no window);
* the *guide* (``guide_vars``): sliding-window loops counted like any other
  loop, plus "no bandwidth throttling" constraints — closer to the evaluator on
  typical mappings, used only to find good mappings.

The search that uses it (the lazy loop, its budget and its proof) is
:mod:`loomc.solvers.tiling`; the EDP proof by cycle classes is
:mod:`loomc.solvers.tiling_edp`.
"""


from __future__ import annotations

import math

from loomc.solvers.tiling_cost import rank_of, traffic_floor
from loomc.solvers.tiling_spec import (
    SPATIAL_X,
    SPATIAL_Y,
    TEMPORAL,
    TilePoint,
    TilingSpec,
    spatial_rank,
)
from loomc.solvers.tiling_symmetry import transparent_levels
from ortools.sat.python import cp_model

#: largest number of energy units per pJ (ERT energies have at most 6 decimals, so
#: this scale makes them exact integers; large problems get a coarser scale)
MAX_ENERGY_SCALE = 1_000_000
_INT_LIMIT = 1 << 60
_FIT = 1 << 58


def choose_energy_scale(spec: TilingSpec) -> int:
    """Units per pJ: the finest power of ten whose energy totals still fit in 64 bits."""
    cap = 4 * spec.computes + max(ds.size(spec.bounds) for ds in spec.spaces) + 8
    max_inst = 1
    for lv in spec.levels:
        max_inst *= lv.fanout_x * lv.fanout_y
    ub = spec.compute_energy * spec.computes + 1.0
    for lv in spec.levels:
        per = (lv.read_energy + lv.fill_energy + lv.update_energy) * (cap / lv.block_size + 1)
        ub += len(spec.spaces) * per * max_inst + lv.leak_energy * spec.computes * max_inst
    scale = MAX_ENERGY_SCALE
    while scale > 1 and ub * scale >= _FIT:
        scale //= 10
    return scale


def prime_factors(n: int) -> dict[int, int]:
    """``{prime: multiplicity}`` of ``n``."""
    out: dict[int, int] = {}
    p = 2
    while p * p <= n:
        while n % p == 0:
            out[p] = out.get(p, 0) + 1
            n //= p
        p += 1
    if n > 1:
        out[n] = out.get(n, 0) + 1
    return out



class TilingModel:
    """The CP-SAT model of one :class:`TilingSpec` (build once, solve many times)."""

    def __init__(self, spec: TilingSpec, energy_scale: int | None = None, counts: bool = True,
                 hoisted: bool = False, window_floor: bool = True, sweep: bool = True,
                 guide: bool = True):
        # bound-1 dimensions dropped from projections (same counts, fewer "windows")
        spec = spec.without_unit_dims()
        self.spec = spec
        self.with_counts = counts
        #: the hoisted relaxation (tiling_symmetry.hoisted_bound): pass-through levels
        #: empty, window fills below them relaxed so that its bound of ``hoisted(pt)`` is
        #: never above the exact energy of ``pt``
        self.hoisted = hoisted
        #: the hoisted relaxation's pre-image floor on window fills
        #: (tiling_cost.relaxed_window_fills); ``floored`` says whether any was built
        self.window_floor = window_floor
        self.floored = False
        #: window loops lengthen the first loop's sweep (tiling_cost.refetch); off, the
        #: bound is weaker (never above the closed form) and the model smaller
        self.sweep = sweep
        #: build the guide counts (``guide_vars``) too; models used only for bounds and
        #: proofs leave them out (``guide_vars`` is then ``metric_vars``)
        self.guide = guide
        self.m = cp_model.CpModel()
        self.scale = energy_scale or choose_energy_scale(spec)
        self.nl = len(spec.levels)
        self.nd = len(spec.bounds)
        self.nk = len(spec.spaces)
        self.primes = [prime_factors(b) for b in spec.bounds]
        self.cap = 4 * spec.computes + max(ds.size(spec.bounds) for ds in spec.spaces) + 8
        self.groups: dict[str, cp_model.IntVar] = {}
        self._pow_cache: dict[tuple, cp_model.IntVar] = {}
        self._mul_cache: dict[tuple, object] = {}
        self._build()

    # ------------------------------------------------------------------ helpers
    def _group(self, name: str) -> cp_model.IntVar:
        """The assumption literal enabling one named rule group."""
        if name not in self.groups:
            self.groups[name] = self.m.NewBoolVar(f"rule:{name}")
        return self.groups[name]

    def _ub(self, v) -> int:
        if isinstance(v, int):
            return v
        dom = self.m.Proto().variables[v.Index()].domain
        return int(dom[len(dom) - 1])

    def _lb(self, v) -> int:
        if isinstance(v, int):
            return v
        return int(self.m.Proto().variables[v.Index()].domain[0])

    def _mul(self, terms: list, name: str, limit: int | None = None):
        """An exact product of integer variables/constants.

        Its domain is capped at ``limit`` (default: the largest count any mapping
        can produce, a few times the number of computes), which keeps every
        linear sum of counts inside CP-SAT's 64-bit overflow check.
        """
        const = 1
        vs = []
        for t in terms:
            if isinstance(t, int):
                const *= t
            else:
                vs.append(t)
        if not vs:
            return const
        cap = limit if limit is not None else self.cap
        # the same product twice is one variable (so CP-SAT sees the equality)
        key = (tuple(sorted(v.Index() for v in vs)), const, cap)
        if key in self._mul_cache:
            return self._mul_cache[key]
        self._mul_cache[key] = out = self._mul_new(vs, const, cap, name)
        return out

    def _mul_new(self, vs: list, const: int, cap: int, name: str):
        # fold into binary products, small operands first, so no product can overflow
        vs.sort(key=self._ub)
        acc = vs[0]
        for i, v in enumerate(vs[1:]):
            ub = min(self._ub(acc) * max(1, self._ub(v)), cap)
            lb = 1 if self._lb(acc) >= 1 and self._lb(v) >= 1 else 0
            out = self.m.NewIntVar(lb, max(lb, ub), name if i == len(vs) - 2 else f"{name}_{i}")
            self.m.AddMultiplicationEquality(out, [acc, v])
            acc = out
        if const == 1:
            return acc
        out = self.m.NewIntVar(0, min(self._ub(acc) * const, cap), name + "_c")
        self.m.Add(out == const * acc)
        return out

    def _value(self, d: int, expo: dict[int, list], name: str):
        """Integer value of dimension ``d``'s prime powers with exponent sums ``expo[p]``."""
        key = (d, tuple((p, tuple(sorted(map(str, expo[p])))) for p in sorted(expo)))
        if key in self._pow_cache:
            return self._pow_cache[key]
        parts = []
        for p, mult in self.primes[d].items():
            terms = expo.get(p, [])
            if not terms:
                continue
            ev = self.m.NewIntVar(0, mult, f"{name}_e{p}")
            self.m.Add(ev == sum(terms))
            pv = self.m.NewIntVar(1, p**mult, f"{name}_p{p}")
            self.m.AddElement(ev, [p**i for i in range(mult + 1)], pv)
            parts.append(pv)
        val = self._mul(parts, name) if parts else 1
        self._pow_cache[key] = val
        return val

    def _cond(self, lit, value, other, name: str):
        """``lit ? value : other`` as an integer variable."""
        if isinstance(value, int) and isinstance(other, int) and value == other:
            return value
        ub = max(self._ub(value), self._ub(other))
        out = self.m.NewIntVar(0, ub, name)
        self.m.Add(out == value).OnlyEnforceIf(lit)
        self.m.Add(out == other).OnlyEnforceIf(lit.Not())
        return out

    def _and(self, lits: list, name: str):
        out = self.m.NewBoolVar(name)
        if not lits:
            self.m.Add(out == 1)
            return out
        self.m.AddBoolAnd(lits).OnlyEnforceIf(out)
        self.m.AddBoolOr([x.Not() for x in lits] + [out])
        return out

    def _or(self, lits: list, name: str):
        out = self.m.NewBoolVar(name)
        if not lits:
            self.m.Add(out == 0)
            return out
        self.m.AddBoolOr(lits).OnlyEnforceIf(out)
        for x in lits:
            self.m.AddImplication(x, out)
        return out

    # ------------------------------------------------------------- variables
    def _build(self) -> None:
        spec, m = self.spec, self.m
        nl, nd, _nk = self.nl, self.nd, self.nk
        self.slots = [spec.slots(lv) for lv in range(nl)]
        # prime exponents
        self.e: dict[tuple[int, str, int, int], cp_model.IntVar] = {}
        for d in range(nd):
            for p, mult in self.primes[d].items():
                row = []
                for lv in range(nl):
                    for s in self.slots[lv]:
                        v = m.NewIntVar(0, mult, f"e_{lv}{s}_{d}_{p}")
                        self.e[lv, s, d, p] = v
                        row.append(v)
                m.Add(sum(row) == mult)
        self._rules_factors()
        # per-slot factor values
        self.f: dict[tuple[int, str, int], object] = {}
        for lv in range(nl):
            for s in self.slots[lv]:
                for d in range(nd):
                    ex = {p: [self.e[lv, s, d, p]] for p in self.primes[d]}
                    self.f[lv, s, d] = self._value(d, ex, f"f{lv}{s}{d}")
        # non-unit temporal loops
        self.u: dict[tuple[int, int], cp_model.IntVar] = {}
        for lv in range(nl):
            for d in range(nd):
                b = m.NewBoolVar(f"u{lv}_{d}")
                ex = [self.e[lv, TEMPORAL, d, p] for p in self.primes[d]]
                if ex:
                    m.Add(sum(ex) >= 1).OnlyEnforceIf(b)
                    m.Add(sum(ex) == 0).OnlyEnforceIf(b.Not())
                else:
                    m.Add(b == 0)
                self.u[lv, d] = b
        # non-unit spatial factors (either mesh axis), made when first asked for
        self._usp_cache: dict[tuple[int, int], object] = {}
        self._inner_cache: dict[tuple[int, int], object] = {}
        self._order()
        self._symmetry()
        self._keep()
        self._spatial_fanout()
        self._spans_and_capacity()
        # branch on the mapping's decisions; every count follows from them by propagation
        self.m.AddDecisionStrategy(list(self.e.values()), cp_model.CHOOSE_FIRST,
                                   cp_model.SELECT_MAX_VALUE)
        self.m.AddDecisionStrategy([self.keep[key] for key in sorted(self.keep)],
                                   cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE)
        self.m.AddDecisionStrategy([v for key, v in sorted(self.before.items())
                                    if key[1] < key[2]],
                                   cp_model.CHOOSE_FIRST, cp_model.SELECT_MIN_VALUE)
        if not self.with_counts:
            # feasibility and cycles only: a small model for the delay bound and a first hint
            self.metric_vars = {"delay": self.cycles}
            return
        self._counts()
        self._objectives()
        self._redundant()

    def _redundant(self) -> None:
        """An implied fact CP-SAT's relaxation does not see on its own (it cuts no mapping):
        cycles x instances of the innermost level x its own fan-out = computes (every loop
        is temporal or spatial), so fixing the cycle count fixes the instances."""
        spec, m = self.spec, self.m
        own = [self._value(d, self._expo(d, [0], (SPATIAL_X, SPATIAL_Y)), f"sp0_{d}")
               for d in range(self.nd)]
        terms = [t for t in [self.cycles, self.inst[0]] + own if not isinstance(t, int)]
        const = math.prod(t for t in [self.inst[0]] + own if isinstance(t, int))
        if terms and spec.computes % const == 0:
            if len(terms) == 1:
                m.Add(terms[0] == spec.computes // const)
            else:
                acc = terms[0]
                for i, t in enumerate(terms[1:-1]):
                    nxt = m.NewIntVar(1, spec.computes, f"red_acc{i}")
                    m.AddMultiplicationEquality(nxt, [acc, t])
                    acc = nxt
                m.AddMultiplicationEquality(spec.computes // const, [acc, terms[-1]])

    def _rules_factors(self) -> None:
        spec, m = self.spec, self.m
        for lv, rules in enumerate(spec.rules):
            g = self._group(f"factors at {spec.levels[lv].name}")
            for slot, fixed in rules.factors.items():
                for d, val in fixed.items():
                    if val == 0:
                        continue
                    if slot not in self.slots[lv]:
                        if val != 1:
                            m.AddBoolOr([g.Not()])
                        continue
                    fp = prime_factors(val)
                    if any(p not in self.primes[d] for p in fp):
                        m.AddBoolOr([g.Not()])
                        continue
                    for p in self.primes[d]:
                        m.Add(self.e[lv, slot, d, p] == fp.get(p, 0)).OnlyEnforceIf(g)
            gs = self._group(f"spatial split at {spec.levels[lv].name}")
            for slot, allowed in ((SPATIAL_X, rules.spatial_x), (SPATIAL_Y, rules.spatial_y)):
                if allowed is None or slot not in self.slots[lv]:
                    continue
                for d in range(self.nd):
                    if d not in allowed:
                        for p in self.primes[d]:
                            m.Add(self.e[lv, slot, d, p] == 0).OnlyEnforceIf(gs)

    def _order(self) -> None:
        spec, m, nd = self.spec, self.m, self.nd
        self.before: dict[tuple[int, int, int], object] = {}
        for lv in range(self.nl):
            for a in range(nd):
                for b in range(a + 1, nd):
                    v = m.NewBoolVar(f"bf{lv}_{a}_{b}")
                    self.before[lv, a, b] = v
                    self.before[lv, b, a] = v.Not()
            for a in range(nd):
                for b in range(nd):
                    for c in range(nd):
                        if len({a, b, c}) == 3:
                            m.AddBoolOr([self.before[lv, a, b].Not(), self.before[lv, b, c].Not(),
                                         self.before[lv, a, c]])
            # canonical form: non-unit loops inside unit loops, unit loops in dim order
            for a in range(nd):
                for b in range(nd):
                    if a == b:
                        continue
                    ua, ub = self.u[lv, a], self.u[lv, b]
                    m.AddImplication(ua, self.before[lv, a, b]).OnlyEnforceIf(ub.Not())
                    if a < b:
                        m.AddBoolOr([ua, ub, self.before[lv, a, b]])
            perm = spec.rules[lv].permutation
            if perm:
                g = self._group(f"permutation at {spec.levels[lv].name}")
                listed = list(perm)
                for i, a in enumerate(listed):
                    later = listed[i + 1:] + [d for d in range(nd) if d not in listed]
                    for b in later:
                        m.AddBoolOr([g.Not(), self.u[lv, a].Not(), self.u[lv, b].Not(),
                                     self.before[lv, a, b]])

    def _symmetry(self) -> None:
        """Only the canonical encoding of loops on pass-through levels (tiling_symmetry)."""
        from loomc.solvers.tiling_symmetry import merge_allowed, transparent_levels

        m, nd = self.m, self.nd
        merge = merge_allowed(self.spec)
        for lv in transparent_levels(self.spec):
            if merge or self.hoisted:
                # no sliding windows: hoisting dominates (tiling_symmetry.hoisted)
                for d in range(nd):
                    for p in self.primes[d]:
                        m.Add(self.e[lv, TEMPORAL, d, p] == 0)
                continue
            up = lv + 1
            for d in range(nd):
                if not self.primes[d]:
                    continue
                # d is lv's outermost non-unit loop
                lits = [self.u[lv, d]] + [
                    self._or([self.u[lv, e].Not(), self.before[lv, e, d]], f"sy{lv}_{d}_{e}")
                    for e in range(nd) if e != d and self.primes[e]]
                outer = self._and(lits, f"syo{lv}_{d}")
                # ... then up has a loop over d or splits d spatially (else it could move up)
                split = [self.e[up, s, d, p] for s in self.slots[up] if s != TEMPORAL
                         for p in self.primes[d]]
                sp = m.NewBoolVar(f"sys{lv}_{d}")
                if split:
                    m.Add(sum(split) >= 1).OnlyEnforceIf(sp)
                    m.Add(sum(split) == 0).OnlyEnforceIf(sp.Not())
                else:
                    m.Add(sp == 0)
                m.AddBoolOr([outer.Not(), self.u[up, d], sp])

    def _keep(self) -> None:
        spec, m = self.spec, self.m
        self.keep: dict[tuple[int, int], cp_model.IntVar] = {}
        for lv, level in enumerate(spec.levels):
            g = self._group(f"keep/bypass at {level.name}")
            for k in range(self.nk):
                b = m.NewBoolVar(f"keep{lv}_{k}")
                self.keep[lv, k] = b
                want = level.keep[k] if level.keep else None
                if lv == self.nl - 1:
                    m.Add(b == 1)
                elif want is True:
                    m.AddImplication(g, b)
                elif want is False:
                    m.AddImplication(g, b.Not())

    def _spatial_fanout(self) -> None:
        spec, m = self.spec, self.m
        for lv, level in enumerate(spec.levels):
            for slot, limit in ((SPATIAL_X, level.fanout_x), (SPATIAL_Y, level.fanout_y)):
                if slot not in self.slots[lv]:
                    continue
                g = self._group(f"fanout {slot} at {level.name} (mesh {limit})")
                prod = self._mul([self.f[lv, slot, d] for d in range(self.nd)], f"fan{lv}{slot}")
                m.Add(prod <= limit).OnlyEnforceIf(g)
            mu = spec.rules[lv].min_spatial_utilization
            total = level.fanout_x * level.fanout_y
            if mu > 0 and total > 1:
                g = self._group(f"spatial utilization at {level.name}")
                terms = [self.f[lv, s, d] for s in (SPATIAL_X, SPATIAL_Y) if s in self.slots[lv]
                         for d in range(self.nd)]
                prod = self._mul(terms, f"util{lv}")
                m.Add(prod >= math.ceil(mu * total)).OnlyEnforceIf(g)

    def _expo(self, d: int, levels, slots) -> dict[int, list]:
        return {
            p: [self.e[lv, s, d, p] for lv in levels for s in slots if s in self.slots[lv]]
            for p in self.primes[d]
        }

    def _spans_and_capacity(self) -> None:
        spec, m = self.spec, self.m
        nl, nd = self.nl, self.nd
        allslots = (TEMPORAL, SPATIAL_X, SPATIAL_Y)
        # A[l][d]: span of one instance's tile at level l
        self.A = [[self._value(d, self._expo(d, range(lv + 1), allslots), f"A{lv}_{d}")
                   for d in range(nd)] for lv in range(nl)]
        self.tile: dict[tuple[int, int], object] = {}
        for lv, level in enumerate(spec.levels):
            for k, ds in enumerate(spec.spaces):
                self.tile[lv, k] = self._size(ds, self.A[lv], f"tile{lv}_{k}")
            if level.capacity is None:
                continue
            g = self._group(f"capacity of {level.name} ({level.capacity} words)")
            eff = int(level.capacity // level.multiple_buffering)
            kept = [self._cond(self.keep[lv, k], self.tile[lv, k], 0, f"kt{lv}_{k}")
                    for k in range(self.nk)]
            m.Add(sum(kept) <= eff).OnlyEnforceIf(g)
        # instances of each level (spatial loops above it)
        self.inst = []
        for lv in range(nl):
            vals = [self._value(d, self._expo(d, range(lv + 1, nl), (SPATIAL_X, SPATIAL_Y)),
                                f"in{lv}_{d}") for d in range(nd)]
            self.inst.append(self._mul(vals, f"inst{lv}"))
        self.cycles = self._mul(
            [self._value(d, self._expo(d, range(nl), (TEMPORAL,)), f"cyc_{d}") for d in range(nd)],
            "cycles")

    def _ext(self, rank, spans: list, name: str):
        """Extent of one rank over spans (``sum(coef*(span-1))+1``)."""
        expr = 1 + sum(c * (spans[d] - 1) for d, c in rank if c)
        ub = 1 + sum(c * (self._ub(spans[d]) - 1) for d, c in rank if c)
        if all(isinstance(spans[d], int) for d, _ in rank):
            return int(expr) if not isinstance(expr, int) else expr
        if len(rank) == 1 and rank[0][1] == 1:
            return spans[rank[0][0]]
        v = self.m.NewIntVar(1, max(1, ub), name)
        self.m.Add(v == expr)
        return v

    def _least_prime(self, v, d: int, name: str):
        """Smallest prime factor of a factor ``v`` of dimension ``d`` (1 for 1)."""
        def lp(x: int) -> int:
            return min(prime_factors(x)) if x > 1 else 1
        if isinstance(v, int):
            return lp(v)
        from loomc.solvers.tiling_edp import divisors

        out = self.m.NewIntVar(1, self.spec.bounds[d], name)
        self.m.AddAllowedAssignments([v, out], [(x, lp(x))
                                                for x in divisors(self.spec.bounds[d])])
        return out

    def _lin(self, expr, ub: int, name: str):
        v = self.m.NewIntVar(0, max(0, ub), name)
        self.m.Add(v == expr)
        return v

    def _extend(self, ext, grow: list, name: str):
        """``ext + sum(grow)`` as a variable (``ext`` itself when nothing grows)."""
        if not grow:
            return ext
        e2 = self.m.NewIntVar(1, self._ub(ext) + sum(self._ub(x) for x in grow), name)
        self.m.Add(e2 == ext + sum(grow))
        return e2

    def _size(self, ds, spans: list, name: str):
        exts = [self._ext(r, spans, f"{name}_r{i}") for i, r in enumerate(ds.projection)]
        return self._mul(exts, name)

    def _groups(self, k: int, levels, name: str):
        """Distinct child tiles among the spatial loops of ``levels`` for data space ``k``."""
        ds = self.spec.spaces[k]
        rel, slide = ds.relevant(), ds.sliding()
        spatial = (SPATIAL_X, SPATIAL_Y)
        vals = [self._value(d, self._expo(d, levels, spatial), f"{name}_{d}")
                for d in range(self.nd) if d in rel and d not in slide]
        # sliding-window ranks: at least |A| + |B| - 1 distinct offsets per level
        for lv in levels:
            if not any(sl in self.slots[lv] for sl in spatial):
                continue
            for ri, rank in enumerate(ds.projection):
                dims = [d for d, c in rank if c != 0]
                if len(dims) < 2:
                    continue
                sp = [self._value(d, self._expo(d, [lv], spatial), f"{name}_s{lv}_{d}")
                      for d in dims]
                vals.append(self._lin(sum(sp) - len(dims) + 1,
                                      sum(self._ub(v) for v in sp), f"{name}_r{lv}_{ri}"))
        return self._mul(vals, name)

    def _usp(self, lv: int, d: int):
        """Literal: level ``lv`` splits ``d`` spatially (None: it cannot)."""
        key = (lv, d)
        if key not in self._usp_cache:
            ex = [self.e[lv, s, d, p] for s in self.slots[lv] if s != TEMPORAL
                  for p in self.primes[d]]
            b = None
            if ex:
                b = self.m.NewBoolVar(f"usp{lv}_{d}")
                self.m.Add(sum(ex) >= 1).OnlyEnforceIf(b)
                self.m.Add(sum(ex) == 0).OnlyEnforceIf(b.Not())
            self._usp_cache[key] = b
        return self._usp_cache[key]

    def _split_at(self, lv: int, dims, name: str):
        """True iff level ``lv`` splits some dimension of ``dims`` spatially."""
        return self._or([b for d in dims if (b := self._usp(lv, d)) is not None], name)

    def _inside(self, lv: int, d: int):
        """Span of ``d`` just inside level ``lv``'s temporal loops (every factor below, and
        ``lv``'s spatial ones): the stride of a temporal loop over ``d`` at ``lv``."""
        allslots = (TEMPORAL, SPATIAL_X, SPATIAL_Y)
        expo = {p: self._expo(d, range(lv), allslots)[p]
                + self._expo(d, [lv], (SPATIAL_X, SPATIAL_Y))[p] for p in self.primes[d]}
        return self._value(d, expo, f"ins{lv}_{d}")

    def _innermost(self, lv: int, d: int):
        """``(is, stride)``: whether the innermost non-unit temporal loop at levels ``>= lv``
        is over ``d``, and that loop's stride (meaningful when it is)."""
        key = (lv, d)
        hit = self._inner_cache.get(key)
        if hit is None:
            nd = self.nd
            # at lv itself: d non-unit and inside every other loop (unit loops sit outside)
            here = self._and([self.u[lv, d]] + [self.before[lv, d, o] for o in range(nd)
                                                 if o != d], f"inh{lv}_{d}")
            stride = self._inside(lv, d)
            if lv + 1 < self.nl:
                empty = self._inner_cache.get((lv, -1))
                if empty is None:
                    empty = self._inner_cache[lv, -1] = self._and(
                        [self.u[lv, o].Not() for o in range(nd)], f"ine{lv}")
                up, up_stride = self._innermost(lv + 1, d)
                later = self._and([empty, up], f"inl{lv}_{d}")
                stride = self._cond(here, stride, up_stride, f"ist{lv}_{d}")
                here = self._or([here, later], f"inn{lv}_{d}")
            hit = self._inner_cache[key] = (here, stride)
        return hit

    def _reified(self, expr, name: str):
        """A literal equivalent to ``expr >= 0`` (``expr`` linear)."""
        out = self.m.NewBoolVar(name)
        if isinstance(expr, int):
            self.m.Add(out == int(expr >= 0))
            return out
        self.m.Add(expr >= 0).OnlyEnforceIf(out)
        self.m.Add(expr <= -1).OnlyEnforceIf(out.Not())
        return out

    def _no_link(self, lv: int, k: int):
        """Literal: no child of spatial level ``lv`` can take tensor ``k`` from a mesh
        neighbour — exactly :func:`loomc.solvers.tiling_cost.no_link_at`, which says why."""
        ds = self.spec.spaces[k]
        nd, nl = self.nd, self.nl
        rel = ds.relevant()
        ways = [self._split_at(lv, range(nd), f"nl_any{lv}_{k}").Not()]
        firsts = {d: self._innermost(lv, d) for d in sorted(rel)}
        ways.append(self._or([f for f, _ in firsts.values()], f"nl_rel{lv}_{k}").Not())
        spans = self.A[lv - 1]
        for d, (first, stride) in firsts.items():
            r0 = rank_of(ds, d)
            if r0 is None:
                continue
            rank = [(e, c) for e, c in ds.projection[r0] if c]
            others = [(e, c) for e, c in rank if e != d]
            c0 = sum(c for e, c in rank if e == d)
            # (B) d's stride, less the strides of the loops over r0's other dimensions,
            # beats the children's spread on r0
            moved = [c * self._cond(self.u[mm, e], self._inside(mm, e), 0,
                                    f"nl_m{lv}_{k}_{d}_{e}_{mm}")
                     for e, c in others for mm in range(lv, nl)]
            spread = sum(c * (self._inside(lv, e) - spans[e]) for e, c in rank)
            wide = self._reified(c0 * stride - sum(moved) - spread - 1, f"nl_s{lv}_{k}_{d}")
            # (C) d's move overlaps the tile (a partial delta ends the link test) and is no
            # neighbour offset: r0 unsplit at lv, or split over one dimension e only whose
            # spatial stride (every r0 offset is a multiple of it) exceeds the move
            over = self._reified(sum(c * (spans[e] - 1) for e, c in rank) - c0 * stride,
                                 f"nl_ov{lv}_{k}_{d}")
            splits = {e: b for e, _ in rank if (b := self._usp(lv, e)) is not None}
            apart = [self._or(list(splits.values()), f"nl_r{lv}_{k}_{d}").Not()]
            for e, c in rank:
                if e not in splits:
                    continue
                apart.append(self._and(
                    [splits[e]] + [b.Not() for x, b in splits.items() if x != e]
                    + [self._reified(c * spans[e] - c0 * stride - 1, f"nl_g{lv}_{k}_{d}_{e}")],
                    f"nl_e{lv}_{k}_{d}_{e}"))
            slide = self._and([over, self._or(apart, f"nl_p{lv}_{k}_{d}")], f"nl_a{lv}_{k}_{d}")
            ways.append(self._and([first, self._or([wide, slide], f"nl_o{lv}_{k}_{d}")],
                                  f"nl_w{lv}_{k}_{d}"))
        return self._or(ways, f"nl{lv}_{k}")

    # -- the hoisted relaxation's window-fill floor (tiling_cost.relaxed_window_fills) -----
    def _moving(self, d: int, levels, name: str):
        """Literal: ``d`` has a non-unit temporal loop at one of ``levels``."""
        return self._or([self.u[lv, d] for lv in sorted(levels)], name)

    def _residue_apart(self, level: int, f: tuple[int, int], e: tuple[int, int], tops,
                       name: str):
        """Literal for :func:`loomc.solvers.tiling_cost._residue_apart`."""
        (fd, cf), (ed, ce) = f, e
        levels = sorted(set(range(level, self.nl)) | set(tops))
        expo = sum(self.e[lv, TEMPORAL, fd, p] for lv in levels for p in self.primes[fd])
        lits = [self._reified(1 - expo, f"{name}_pr")]
        lits += [b.Not() for m in range(level, self.nl) if (b := self._usp(m, fd)) is not None]
        spans = self.A[level - 1]
        lits.append(self._reified(ce * spans[ed] - cf * spans[fd] - 1, f"{name}_lt"))
        return self._and(lits, name)

    def _zero_free(self, level: int, k: int, skip, tops, name: str):
        """Literal for :func:`loomc.solvers.tiling_cost._no_zero_move`."""
        ds = self.spec.spaces[k]
        if any(c < 0 for rank in ds.projection for _, c in rank):
            return self._or([], name)  # false: no claim on negative coefficients
        levels = set(range(level, self.nl)) | set(tops)
        oks = []
        for ri, rank in enumerate(ds.projection):
            terms = [(d, c) for d, c in rank if c]
            if ri == skip or len(terms) <= 1:
                continue
            mv = [self._moving(d, levels, f"{name}_m{ri}_{d}") for d, _ in terms]
            if len(terms) == 2:
                a, b = terms
                oks.append(self._or([mv[0].Not(), mv[1].Not(),
                                     self._residue_apart(level, a, b, tops, f"{name}_ab{ri}"),
                                     self._residue_apart(level, b, a, tops, f"{name}_ba{ri}")],
                                    f"{name}_r{ri}"))
            else:
                oks.append(self._reified(1 - sum(mv), f"{name}_r{ri}"))
        return self._and(oks, name)

    def _layout_unlinked(self, level: int, k: int, tops):
        """Literal for :func:`loomc.solvers.tiling_cost._unlinked_by_layout`."""
        key = ("lay", level, k, tuple(sorted(tops)))
        if key in self._inner_cache:
            return self._inner_cache[key]
        ds, nd, name = self.spec.spaces[k], self.nd, f"lay{level}_{k}"
        rel = ds.relevant()
        ways = [self._split_at(level, range(nd), f"{name}_any").Not()]
        lvspec = self.spec.levels[level]
        if min(lvspec.fanout_x, lvspec.fanout_y) == 1:
            ways.append(self._and([self._split_at(level, sorted(rel), f"{name}_rel").Not(),
                                   self._zero_free(level, k, None, tops, f"{name}_z")],
                                  f"{name}_norel"))
            order = sorted(range(nd), key=lambda d: spatial_rank(self.spec, level, d))
            for e in sorted(rel):
                r = rank_of(ds, e)
                ue = self._usp(level, e)
                if r is None or ue is None:
                    continue
                rank = [(d, c) for d, c in ds.projection[r] if c]
                if len(rank) > 2:
                    continue
                below = order[:order.index(e)]
                lits = [ue] + [b.Not() for d in below if d in rel
                               if (b := self._usp(level, d)) is not None]
                if len(rank) == 2:
                    (f, cf), = [(d, c) for d, c in rank if d != e]
                    ce = sum(c for d, c in rank if d == e)
                    lits += [b.Not() for d in sorted(rel) if d != e
                             if (b := self._usp(level, d)) is not None]
                    lits.append(self._residue_apart(level, (f, cf), (e, ce), tops,
                                                    f"{name}_res{e}"))
                pairs = self._or([b for d in below if d not in rel
                                  if (b := self._usp(level, d)) is not None], f"{name}_zp{e}")
                lits.append(self._or([pairs.Not(),
                                      self._zero_free(level, k, r, tops, f"{name}_z{e}")],
                                     f"{name}_zo{e}"))
                ways.append(self._and(lits, f"{name}_e{e}"))
        out = self._inner_cache[key] = self._or(ways, name)
        return out

    def _window_floor(self, c: int, k: int, seld: dict, slides, tlevels):
        """The hoisted relaxation's floor on the fills of ``c``'s tile of ``k``
        (:func:`loomc.solvers.tiling_cost.relaxed_window_fills`), 0 where it does not
        hold."""
        spec, m, nl, nd = self.spec, self.m, self.nl, self.nd
        ds = spec.spaces[k]
        rel = ds.relevant()
        tops = {t + 1 for t in tlevels if t + 1 > c}
        name = f"wf{c}_{k}"
        spatial = [lv for lv in range(c + 1, nl) if set(self.slots[lv]) - {TEMPORAL}]
        unlinked = self._and([self._layout_unlinked(lv, k, tops) for lv in spatial],
                             f"{name}_ul")
        big = 1 << 40
        above = range(c + 1, nl)
        vals = {d: self._value(d, self._expo(d, above, (TEMPORAL,)), f"{name}_t{d}")
                for d in range(nd)}
        steps = self._mul(list(vals.values()), f"{name}_n", big)
        size = self.tile[c, k]
        exts = [self._ext(rank, self.A[c], f"{name}_x{ri}")
                for ri, rank in enumerate(ds.projection)]
        deltas, firsts = [], []
        for d, lit in seld.items():
            r0 = rank_of(ds, d)
            if r0 is None:
                continue
            c0 = sum(co for e, co in ds.projection[r0] if e == d)
            shift = self.A[c][d] if c0 == 1 else self._lin(
                c0 * self.A[c][d], c0 * self._ub(self.A[c][d]), f"{name}_sh{d}")
            step = shift
            if c0 != 1:
                step = m.NewIntVar(0, self._ub(shift), f"{name}_st{d}")
                m.AddMinEquality(step, [shift, exts[r0]])
            delta = self._mul([step] + [x for ri, x in enumerate(exts) if ri != r0],
                              f"{name}_d{d}", big)
            deltas.append(self._cond(lit, delta, 0, f"{name}_dc{d}"))
            firsts.append(lit)
        has_slid = self._or(firsts, f"{name}_hs")
        dsel = self._lin(sum(deltas), sum(self._ub(x) for x in deltas), f"{name}_ds")
        more = self._lin(steps - 1, self._ub(steps) - 1, f"{name}_nm")
        slid = self._lin(size + self._mul([more, dsel], f"{name}_sg", big),
                         self._ub(size) + big, f"{name}_sl")
        full = self._mul([size] + [vals[d] for d in sorted(rel)], f"{name}_fu", big)
        least = m.NewIntVar(0, max(self._ub(slid), self._ub(full)), f"{name}_mn")
        m.AddMinEquality(least, [slid, full])
        slides_all = self._and([slides] + [self.u[t, d].Not() for t in sorted(tops)
                                           for d in range(nd) if d not in rel],
                               f"{name}_sa")
        zero_free = self._zero_free(c + 1, k, None, tops, f"{name}_z")
        valid = self._and([unlinked, self._or([
            self._and([slides_all, has_slid], f"{name}_v1"),
            self._and([slides_all.Not(), zero_free], f"{name}_v2")], f"{name}_vo")],
            f"{name}_v")
        floor = self._cond(slides_all, slid,
                           self._cond(has_slid, least, full, f"{name}_f2"), f"{name}_f1")
        capped = m.NewIntVar(0, self.cap, f"{name}_cap")
        m.AddMinEquality(capped, [floor, self.cap])
        return self._cond(valid, capped, 0, name)

    def _counts(self) -> None:
        spec, m = self.spec, self.m
        nl, nd, _nk = self.nl, self.nd, self.nk
        allslots = (SPATIAL_X, SPATIAL_Y)
        self.counts: dict[str, dict] = {"lb": {}, "guide": {}}
        self.energy_terms: dict[str, list] = {"lb": [], "guide": []}
        #: energy of (level, space) over all instances, per variant
        self.level_energy: dict[str, dict] = {"lb": {}, "guide": {}}
        self.no_throttle = m.NewBoolVar("no_throttle")
        for k, ds in enumerate(spec.spaces):
            rel = ds.relevant()
            slide = ds.sliding()
            full = ds.size(spec.bounds)
            # levels that may keep k (a level the rules make bypass k never holds it)
            cand = [lv for lv in range(nl) if lv == nl - 1 or not (
                spec.levels[lv].keep and spec.levels[lv].keep[k] is False)]
            # first-ever elements per instance (outputs)
            first_ever = {}
            if ds.read_write:
                for lv in cand:
                    relsp = self._mul(
                        [self._value(d, self._expo(d, range(lv + 1, nl), allslots),
                                     f"rs{lv}_{k}_{d}") for d in range(nd) if d in rel],
                        f"relsp{lv}_{k}")
                    if isinstance(relsp, int):
                        first_ever[lv] = full // relsp
                    else:
                        fe = m.NewIntVar(0, full, f"fe{lv}_{k}")
                        m.AddDivisionEquality(fe, full, relsp)
                        first_ever[lv] = fe
            # has a relevant non-unit temporal loop at level lv
            hasrel = [self._or([self.u[lv, d] for d in rel], f"hr{lv}_{k}") for lv in range(nl)]
            # innermost relevant non-unit loop at level lv is d
            firstdim = {}
            for lv in range(nl):
                for d in rel:
                    others = [self.before[lv, d, o] for o in rel if o != d]
                    # d is first iff d non-unit and every other relevant non-unit loop is outside
                    lits = [self.u[lv, d]]
                    for o in rel:
                        if o == d:
                            continue
                        t = m.NewBoolVar(f"ob{lv}_{k}_{d}_{o}")
                        m.AddBoolOr([self.u[lv, o].Not(), self.before[lv, d, o]]).OnlyEnforceIf(t)
                        m.AddBoolOr([t, self.u[lv, o]])
                        m.AddBoolOr([t, self.before[lv, d, o].Not()])
                        lits.append(t)
                    del others
                    firstdim[lv, d] = self._and(lits, f"fd{lv}_{k}_{d}")
            # keeper structure
            below_keep = {}  # no keeper strictly below lv
            for lv in cand:
                below_keep[lv] = self._and([self.keep[j, k].Not() for j in cand if j < lv],
                                           f"nb{lv}_{k}")
            is_k0 = {lv: self._and([self.keep[lv, k], below_keep[lv]], f"k0{lv}_{k}")
                     for lv in cand}
            pair = {}
            for c in cand:
                for p in cand:
                    if p <= c:
                        continue
                    lits = [self.keep[c, k], self.keep[p, k]] + [
                        self.keep[j, k].Not() for j in cand if c < j < p]
                    pair[c, p] = self._and(lits, f"pr{c}_{p}_{k}")
            child_fill = {}
            parent_serve = {}
            # per child level: no link transfer possible at any spatial level above it
            # (then a window loop outside a loop of another rank reloads the tile)
            linked_off: dict[int, object] = {}
            for c in cand[:-1]:
                linked_off[c] = (self._and([self._no_link(lv, k) for lv in range(c + 1, nl)
                                            if set(self.slots[lv]) - {TEMPORAL}],
                                           f"nolink{c}_{k}") if slide else None)
            tlevels = transparent_levels(spec) if self.hoisted and slide else ()
            for c in cand[:-1]:
                # hoisted relaxation: below a pass-through level, window loops count nothing
                # (tiling_symmetry.hoisted_bound says why that keeps the bound sound)
                relax = any(t > c for t in tlevels)
                # refetch structure above c
                open_ = True
                rest_terms = []
                fsel = []  # (lit, level, dim)
                free_irr = []  # non-unit loops that do not move the tile, inside the first one
                slide_lits = []  # sliding-window loops outside the first one (guide only)

                def cnt_lit(fl, opened, lv, d, c=c, k=k):
                    closed = (self._or([opened.Not()], f"sc{c}_{lv}_{k}_{d}")
                              if opened is not True else None)
                    return self._or([fl] if closed is None else [fl, closed],
                                    f"sk{c}_{lv}_{k}_{d}")
                for lv in range(c + 1, nl):
                    opened = open_
                    fl = hasrel[lv] if opened is True else self._and(
                        [opened, hasrel[lv]], f"fl{c}_{lv}_{k}")
                    for d in range(nd):
                        t = self.f[lv, TEMPORAL, d]
                        if isinstance(t, int) and t == 1:
                            continue
                        if d in rel:
                            isfirst = self._and([fl, firstdim[lv, d]], f"is{c}_{lv}_{k}_{d}")
                            fsel.append((isfirst, lv, d))
                            if d in slide:
                                # counted in the bound only when a loop of another rank lies
                                # inside it (then no window overlap is possible, see
                                # tiling_cost.refetch); the guide always counts it
                                cnt = cnt_lit(fl, opened, lv, d)
                                rd = rank_of(ds, d) if linked_off[c] is not None else None
                                ins = [] if rd is None else [linked_off[c]]
                                inner = []
                                for e in rel:
                                    if rd is None or rank_of(ds, e) == rd:
                                        continue
                                    inner.extend(self.u[mm, e] for mm in range(c + 1, lv))
                                    inner.append(self._and([self.u[lv, e],
                                                            self.before[lv, e, d]],
                                                           f"xo{c}_{lv}_{k}_{d}_{e}"))
                                crossed = None
                                if inner:
                                    ins.append(self._or(inner, f"xi{c}_{lv}_{k}_{d}"))
                                    crossed = self._and(ins, f"xr{c}_{lv}_{k}_{d}")
                                if crossed is not None and not relax:
                                    take = self._and([cnt, isfirst.Not(), crossed],
                                                     f"xt{c}_{lv}_{k}_{d}")
                                    rest_terms.append(self._cond(take, t, 1,
                                                                 f"xg{c}_{lv}_{k}_{d}"))
                                slide_lits.append((cnt, isfirst, t, lv, d, crossed))
                                continue
                            # counted unless it is the first loop itself, or still open
                            closed = (self._or([opened.Not()], f"cl{c}_{lv}_{k}")
                                      if opened is not True else None)
                            lits = [fl] if closed is None else [fl, closed]
                            cnt = self._or(lits, f"ct{c}_{lv}_{k}_{d}")
                            take = self._and([cnt, isfirst.Not()], f"tk{c}_{lv}_{k}_{d}")
                        else:
                            outer = [self._and([firstdim[lv, y], self.before[lv, y, d]],
                                               f"of{c}_{lv}_{k}_{d}_{y}") for y in rel]
                            inlevel = self._and([fl, self._or(outer, f"oo{c}_{lv}_{k}_{d}")],
                                                f"il{c}_{lv}_{k}_{d}")
                            lits = [inlevel] if opened is True else [inlevel, opened.Not()]
                            take = self._or(lits, f"tk{c}_{lv}_{k}_{d}")
                            free_irr.append(self._and([self.u[lv, d], take.Not()],
                                                      f"fi{c}_{lv}_{k}_{d}"))
                        rest_terms.append(self._cond(take, t, 1, f"g{c}_{lv}_{k}_{d}"))
                    open_ = (self._and([hasrel[lv].Not()], f"op{c}_{lv}_{k}") if opened is True
                             else self._and([opened, hasrel[lv].Not()], f"op{c}_{lv}_{k}"))
                rest = self._mul(rest_terms, f"rest{c}_{k}")
                rest_guide = rest
                if slide_lits and self.guide:
                    extra = []
                    for cnt, isfirst, t, lv, d, crossed in slide_lits:
                        lits = [cnt, isfirst.Not()] + ([] if crossed is None
                                                       else [crossed.Not()])
                        take = self._and(lits, f"sg{c}_{lv}_{k}_{d}")
                        extra.append(self._cond(take, t, 1, f"sv{c}_{lv}_{k}_{d}"))
                    rest_guide = self._mul([rest] + extra, f"restg{c}_{k}")
                # n: bound of the first loop (1 if none)
                n = m.NewIntVar(1, spec.bounds and max(spec.bounds), f"n{c}_{k}")
                for lit, lv, d in fsel:
                    val = self.f[lv, TEMPORAL, d]
                    if relax and d in slide:
                        val = self._least_prime(val, d, f"lp{c}_{lv}_{k}_{d}")
                    m.Add(n == val).OnlyEnforceIf(lit)
                m.Add(n == 1).OnlyEnforceIf([x.Not() for x, _, _ in fsel])
                if len(fsel) > 1:
                    m.AddAtMostOne([x for x, _, _ in fsel])
                sel = {d: [x for x, _, dd in fsel if dd == d] for d in rel}
                seld = {d: self._or(v, f"sel{c}_{k}_{d}") for d, v in sel.items() if v}

                # union of the first loop's sweep, rank by rank:
                # ext + (n - 1) * min(shift, ext), shift = coef * span of the swept dim
                nm1 = m.NewIntVar(0, max(spec.bounds) - 1, f"nm{c}_{k}")
                m.Add(nm1 == n - 1)
                # with no link possible, the window loops outside the first one that rest
                # leaves out extend its sweep (tiling_cost.refetch: ``sweep``)
                stretch = []
                if not relax and linked_off[c] is not None and self.sweep:
                    for cnt, isfirst, t, lv, d, crossed in slide_lits:
                        lits = [cnt, isfirst.Not(), linked_off[c]] + (
                            [] if crossed is None else [crossed.Not()])
                        stretch.append(self._cond(self._and(lits, f"sw{c}_{lv}_{k}_{d}"), t, 1,
                                                  f"swv{c}_{lv}_{k}_{d}"))
                nm1_sweep = nm1
                if stretch:
                    sweep = self._mul([n] + stretch, f"sweep{c}_{k}")
                    nm1_sweep = self._lin(sweep - 1, self._ub(sweep) - 1, f"snm{c}_{k}")
                # exts: the union with the window sweep; exts_plain: without it (for the
                # guide, see below) — the same variable wherever no rank sweeps
                exts, exts_plain = [], []
                for ri, rank in enumerate(ds.projection):
                    ext = self._ext(rank, self.A[c], f"ce{c}_{k}_{ri}")
                    grow, grow_plain = [], []
                    for d, coef in rank:
                        if d not in seld or coef == 0:
                            continue
                        shift = self.A[c][d] if coef == 1 else self._lin(
                            coef * self.A[c][d], coef * self._ub(self.A[c][d]), f"sh{c}_{k}_{d}")
                        step = shift
                        if coef != 1:  # a stride can exceed the extent: min(shift, ext)
                            step = m.NewIntVar(0, self._ub(shift), f"st{c}_{k}_{ri}_{d}")
                            m.AddMinEquality(step, [shift, ext])
                        swept = rank_of(ds, d) is not None and nm1_sweep is not nm1
                        g = self._mul([step, nm1_sweep if swept else nm1], f"gr{c}_{k}_{ri}_{d}")
                        grow.append(self._cond(seld[d], g, 0, f"gc{c}_{k}_{ri}_{d}"))
                        if swept and rest_guide is not rest:  # the guide has a fill of its own
                            g = self._mul([step, nm1], f"grp{c}_{k}_{ri}_{d}")
                            grow_plain.append(self._cond(seld[d], g, 0, f"gp{c}_{k}_{ri}_{d}"))
                        else:
                            grow_plain.append(grow[-1])
                    exts.append(self._extend(ext, grow, f"cx{c}_{k}_{ri}"))
                    same = all(a is b for a, b in zip(grow, grow_plain, strict=True))
                    exts_plain.append(exts[-1] if same else
                                      self._extend(ext, grow_plain, f"cp{c}_{k}_{ri}"))
                tiled = self._mul([self.tile[c, k], n], f"ct{c}_{k}")
                slides = self._or(free_irr, f"ns{c}_{k}").Not()
                cunion = self._cond(slides, self._mul(exts, f"cu{c}_{k}"), tiled, f"cx{c}_{k}")
                # the guide counts every window loop outside the first one as a reload
                # (rest_guide), so its union must not sweep over them as well
                plain = all(a is b for a, b in zip(exts, exts_plain, strict=True))
                cunion_guide = cunion if plain else self._cond(
                    slides, self._mul(exts_plain, f"cug{c}_{k}"), tiled, f"cxg{c}_{k}")
                # the relaxation's floor over the whole pre-image (tiling_cost.tile_fills)
                floor = (self._window_floor(c, k, seld, slides, tlevels)
                         if relax and self.window_floor else None)
                self.floored = self.floored or floor is not None
                for variant, rr in (("lb", rest), ("guide", rest_guide)):
                    if variant == "guide" and rr is rest:
                        child_fill[variant, c] = child_fill["lb", c]
                        for p in cand:
                            if p > c:
                                parent_serve[variant, c, p] = parent_serve["lb", c, p]
                        continue
                    union = cunion if variant == "lb" else cunion_guide
                    fill = self._mul([union, rr], f"cf{variant}{c}_{k}")
                    if floor is not None and variant == "lb":
                        raised = m.NewIntVar(0, self.cap, f"cfm{c}_{k}")
                        m.AddMaxEquality(raised, [fill, floor])
                        fill = raised
                    child_fill[variant, c] = fill
                    for p in cand:
                        if p <= c:
                            continue
                        grp = self._groups(k, range(c + 1, p + 1), f"g{c}_{p}_{k}")
                        parent_serve[variant, c, p] = self._mul([child_fill[variant, c], grp],
                                                                f"pv{variant}{c}_{p}_{k}")
            # compute-side service at the innermost keeper
            served = {}
            for lv in cand:
                grp = self._groups(k, range(lv + 1), f"gs{lv}_{k}")
                served[lv] = self._mul([self.cycles, grp], f"srv{lv}_{k}")
            variants = ("lb", "guide") if slide and self.guide else ("lb",)
            for variant in variants:
                self._level_counts(k, variant, cand, pair, parent_serve, child_fill, served,
                                   is_k0, first_ever)
        for lv, level in enumerate(spec.levels):
            self._bandwidth(lv, level)
        for lv, level in enumerate(spec.levels):
            coef = int(math.floor(level.leak_energy * self.scale))
            if coef:
                # leakage scales with the instances that hold data (Timeloop: 1 if none does)
                holds = self._or([self.keep[lv, k] for k in range(self.nk)], f"holds{lv}")
                inst = self._cond(holds, self.inst[lv], 1, f"lkinst{lv}")
                term = self._mul([coef, self.cycles, inst], f"lk{lv}", _FIT)
                self.energy_terms["lb"].append(term)
                self.energy_terms["guide"].append(term)

    def _level_counts(self, k, variant, cand, pair, parent_serve, child_fill, served, is_k0,
                      first_ever) -> None:
        """Per-instance reads/fills/updates of data space ``k`` at every level, and their
        energy, for one variant of the fill counts (``lb``: the bound; ``guide``: sliding
        windows counted the way they usually behave)."""
        spec, m, nl, cap = self.spec, self.m, self.nl, self.cap
        ds = spec.spaces[k]
        targets = ["lb", "guide"] if variant == "lb" and not ds.sliding() else [variant]
        for lv in range(nl):
            if lv not in cand:
                for tgt in targets:
                    self.counts[tgt][lv, k] = (0, 0, 0)
        for lv in cand:
            parts_serve = [self._cond(pair[c, lv], parent_serve[variant, c, lv], 0,
                                      f"ps{variant}{c}_{lv}_{k}c") for c in cand if c < lv]
            k0part = self._cond(is_k0[lv], served[lv], 0, f"k0s{variant}{lv}_{k}")
            has_parent = self._or([pair[lv, p] for p in cand if p > lv],
                                  f"hp{variant}{lv}_{k}")
            fill = (self._cond(has_parent, child_fill[variant, lv], 0, f"fil{variant}{lv}_{k}")
                    if lv < nl - 1 else 0)
            r = m.NewIntVar(0, cap, f"R{variant}{lv}_{k}")
            fv = m.NewIntVar(0, cap, f"F{variant}{lv}_{k}")
            uv = m.NewIntVar(0, cap, f"U{variant}{lv}_{k}")
            if ds.read_write:
                m.Add(uv == k0part + sum(parts_serve))
                fe = first_ever[lv]
                m.Add(r == uv - fe).OnlyEnforceIf(self.keep[lv, k])
                m.Add(r == 0).OnlyEnforceIf(self.keep[lv, k].Not())
                m.Add(fv == fill - fe).OnlyEnforceIf(has_parent)
                m.Add(fv == 0).OnlyEnforceIf(has_parent.Not())
            else:
                m.Add(r == k0part + sum(parts_serve))
                m.Add(fv == fill)
                m.Add(uv == 0)
            for tgt in targets:
                self.counts[tgt][lv, k] = (r, fv, uv)
            level = spec.levels[lv]
            bs = level.block_size
            lin = 0
            for cnt, e_pj, tag in ((r, level.read_energy, "r"), (fv, level.fill_energy, "f"),
                                   (uv, level.update_energy, "u")):
                coef = int(math.floor(e_pj * self.scale))
                if coef == 0:
                    continue
                vec = m.NewIntVar(0, cap // bs + 1, f"v{tag}{variant}{lv}_{k}")
                m.AddDivisionEquality(vec, cnt + bs - 1, bs)
                lin += coef * vec
            if isinstance(lin, int):
                continue
            ub = sum(int(math.floor(e * self.scale)) for e in (
                level.read_energy, level.fill_energy, level.update_energy)) * (cap // bs + 1)
            lv_e = m.NewIntVar(0, min(ub, _INT_LIMIT), f"el{variant}{lv}_{k}")
            m.Add(lv_e == lin)
            term = self._mul([lv_e, self.inst[lv]], f"ei{variant}{lv}_{k}", _FIT)
            # never below the traffic every used element needs (tiling_cost.traffic_floor)
            rw, fl = traffic_floor(spec, lv, k)
            acc = level.update_energy if ds.read_write else level.read_energy
            need = (int(math.floor(acc * self.scale)) * -(-rw // bs)
                    + int(math.floor(level.fill_energy * self.scale)) * -(-fl // bs))
            if need:
                floored = m.NewIntVar(0, max(self._ub(term), need), f"eF{variant}{lv}_{k}")
                m.AddMaxEquality(floored, [term, self._cond(self.keep[lv, k], need, 0,
                                                            f"nF{variant}{lv}_{k}")])
                term = floored
            for tgt in targets:
                self.energy_terms[tgt].append(term)
                self.level_energy[tgt][lv, k] = term

    def _bandwidth(self, lv: int, level) -> None:
        """Guide-only: the level's bandwidth keeps up (no throttling), so delay = cycles."""
        if not self.guide:
            return
        m = self.m
        for limit, picks in ((level.read_bandwidth, (0,)), (level.write_bandwidth, (1, 2)),
                             (level.shared_bandwidth, (0, 1, 2))):
            if limit is None:
                continue
            total = []
            for k in range(self.nk):
                cnts = self.counts["guide"].get((lv, k))
                if cnts is None:
                    continue
                total.extend(cnts[i] for i in picks if not isinstance(cnts[i], int))
            if not total:
                continue
            num, den = _ratio(limit)
            # sum(counts) / cycles <= limit  <=>  den * sum <= num * cycles
            m.Add(den * sum(total) <= num * self.cycles).OnlyEnforceIf(self.no_throttle)

    def _objectives(self) -> None:
        spec, m = self.spec, self.m
        const = int(math.floor(spec.compute_energy * self.scale)) * spec.computes
        top = self.nl - 1
        self.edp_div = 1
        self.metric_vars = {}
        self.guide_vars = {}
        variants = ("lb", "guide") if self.guide else ("lb",)
        ubs = {v: min(_FIT, sum(self._ub(t) for t in self.energy_terms[v]) + const)
               for v in variants}
        if "edp" in spec.metrics:
            # energy x cycles must fit: drop low digits of energy (floor: still a bound)
            while max(ubs.values()) // self.edp_div * spec.computes >= _FIT:
                self.edp_div *= 10
        for variant, out in (("lb", self.metric_vars), ("guide", self.guide_vars)):
            if variant not in variants:
                out.update(self.metric_vars)
                continue
            terms = self.energy_terms[variant]
            ub = ubs[variant]
            energy = m.NewIntVar(0, ub, f"energy_{variant}")
            m.Add(energy == const + sum(terms))
            lla = m.NewIntVar(0, 3 * self.nk * self.cap, f"lla_{variant}")
            m.Add(lla == sum(sum(self.counts[variant][top, k]) for k in range(self.nk)))
            out.update({"delay": self.cycles, "energy": energy, "last_level_accesses": lla})
            if "edp" in spec.metrics:
                coarse = energy
                if self.edp_div > 1:
                    coarse = m.NewIntVar(0, ub // self.edp_div, f"energy_coarse_{variant}")
                    m.AddDivisionEquality(coarse, energy, self.edp_div)
                out["edp"] = self._mul([coarse, self.cycles], f"edp_{variant}", _FIT)
        self.energy = self.metric_vars["energy"]
        self.reads = {key: v[0] for key, v in self.counts["lb"].items()}
        self.fills = {key: v[1] for key, v in self.counts["lb"].items()}
        self.updates = {key: v[2] for key, v in self.counts["lb"].items()}

    # ------------------------------------------------------------- decoding
    def metric_scale(self, name: str) -> float:
        """Factor from model units to real units (pJ, cycles, accesses)."""
        if name == "energy":
            return 1.0 / self.scale
        if name == "edp":
            return self.edp_div / self.scale
        return 1.0

    def decode(self, solver: cp_model.CpSolver) -> TilePoint:
        spec = self.spec
        factors = []
        orders = []
        keeps = []
        for lv in range(self.nl):
            fs = {}
            for s in self.slots[lv]:
                fs[s] = tuple(int(solver.Value(self.f[lv, s, d])) if not isinstance(
                    self.f[lv, s, d], int) else self.f[lv, s, d] for d in range(self.nd))
            factors.append(fs)
            dims = list(range(self.nd))
            inner_count = {a: sum(1 for b in dims if b != a and solver.BooleanValue(
                self.before[lv, b, a])) for a in dims}
            order = sorted(dims, key=lambda a: inner_count[a])
            perm = spec.rules[lv].permutation
            if perm:
                order = list(perm) + [d for d in order if d not in perm]
            orders.append(tuple(order))
            keeps.append(tuple(bool(solver.BooleanValue(self.keep[lv, k]))
                               for k in range(self.nk)))
        return TilePoint(tuple(factors), tuple(orders), tuple(keeps))

    def forbid(self, pt: TilePoint, into: cp_model.CpModel | None = None) -> None:
        """Exclude one mapping (its canonical encoding) from further solutions — of
        this model, or of ``into``, a clone of it (variables matched by index)."""
        m = self.m if into is None else into

        def var(v):
            return v if into is None else into.GetIntVarFromProtoIndex(v.Index())

        def lit(v):
            return v if into is None else into.GetBoolVarFromProtoIndex(v.Index())

        lits = []
        for (lv, s, d, p), v in self.e.items():
            want = prime_exponent(pt.factor(lv, s, d), p)
            b = m.NewBoolVar("")
            m.Add(var(v) == want).OnlyEnforceIf(b)
            m.Add(var(v) != want).OnlyEnforceIf(b.Not())
            lits.append(b)
        for lv in range(self.nl):
            for k in range(self.nk):
                v = lit(self.keep[lv, k])
                lits.append(v if pt.keep[lv][k] else v.Not())
            pos = {d: i for i, d in enumerate(pt.order[lv])}
            for a in range(self.nd):
                for b in range(a + 1, self.nd):
                    if pt.factor(lv, TEMPORAL, a) > 1 and pt.factor(lv, TEMPORAL, b) > 1:
                        v = lit(self.before[lv, a, b])
                        lits.append(v if pos[a] < pos[b] else v.Not())
        m.AddBoolOr([x.Not() for x in lits])

    def fix(self, pt: TilePoint) -> list:
        """Literals/constraints pinning the model to one mapping (for tests/hints)."""
        for (lv, s, d, p), var in self.e.items():
            self.m.Add(var == prime_exponent(pt.factor(lv, s, d), p))
        for lv in range(self.nl):
            for k in range(self.nk):
                self.m.Add(self.keep[lv, k] == int(pt.keep[lv][k]))
            pos = {d: i for i, d in enumerate(pt.order[lv])}
            for a in range(self.nd):
                for b in range(a + 1, self.nd):
                    if pt.factor(lv, TEMPORAL, a) > 1 and pt.factor(lv, TEMPORAL, b) > 1:
                        self.m.Add(self.before[lv, a, b] == int(pos[a] < pos[b]))
        return []

    def hint(self, pt: TilePoint) -> None:
        """Suggest ``pt`` (factors, keep flags, loop order) as the solver's first guess."""
        self.m.ClearHints()
        for (lv, s, d, p), var in self.e.items():
            self.m.AddHint(var, prime_exponent(pt.factor(lv, s, d), p))
        for lv in range(self.nl):
            for k in range(self.nk):
                self.m.AddHint(self.keep[lv, k], int(pt.keep[lv][k]))
            pos = {d: i for i, d in enumerate(pt.order[lv])}
            for a in range(self.nd):
                for b in range(a + 1, self.nd):
                    fa, fb = pt.factor(lv, TEMPORAL, a) > 1, pt.factor(lv, TEMPORAL, b) > 1
                    if fa and fb:
                        inner = pos[a] < pos[b]
                    elif fa != fb:
                        inner = fa
                    else:
                        inner = a < b
                    self.m.AddHint(self.before[lv, a, b], int(inner))


def _ratio(x: float) -> tuple[int, int]:
    """``x`` as a fraction ``num/den`` (bandwidths are small decimals)."""
    from fractions import Fraction

    f = Fraction(x).limit_denominator(1000)
    return f.numerator, f.denominator


def prime_exponent(n: int, p: int) -> int:
    """How many times the prime ``p`` divides ``n`` (a factor's ``e[l, slot, d, p]``)."""
    e = 0
    while n % p == 0 and n > 1:
        n //= p
        e += 1
    return e
