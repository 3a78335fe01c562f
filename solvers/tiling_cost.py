"""Closed-form access counts of one mapping — the formulas the CP-SAT model encodes.

Why a second copy of the counts: the CP-SAT model (:mod:`loomc.solvers.tiling`)
states these formulas as constraints over decision variables; this module
computes them for a fixed :class:`TilePoint` in plain Python, so tests can check
that the solver's objective value for a solution equals this function's value
for the decoded mapping, and the optimizer can check that the formulas never
exceed the exact Timeloop-compatible evaluator (which is the truth; this is a
lower bound of it).

Counting rules (dense workloads; Timeloop's nest analysis, per data space k):

* A level's tile spans, per dimension, the product of all factors (temporal and
  spatial) at that level and below.  A rank's extent is ``sum(coef*(span-1))+1``.
* Fills of a keeping level ``c``: walk the temporal loops above ``c`` from the
  innermost out.  Loops before the first non-unit loop that moves k's tile cost
  nothing (the tile stays); the first such loop sweeps ``n`` tiles — their
  union when it is the innermost non-unit loop above the tile (a sliding window
  overlaps; Timeloop re-uses the overlap only there), else ``n`` whole tiles;
  every loop outside it repeats the sweep, except loops over a dimension of a
  sliding-window rank: Timeloop's representative-iteration deltas can make
  their moves nearly free (even zero), so they are left out.  That keeps the
  count a lower bound of the evaluator's, and exact for tensors without
  sliding windows.
* The next keeping ancestor ``p`` serves each distinct child tile once: spatial
  loops between c and p over dimensions the tile ignores are a multicast
  (read-only data) or a spatial reduction (outputs); spatial loops over two
  dimensions of one sliding-window rank are counted as ``|A| + |B| - 1``
  distinct offsets (a lower bound: sums can coincide).  The innermost keeper
  serves the compute units every cycle, again once per distinct tile.
* Outputs: the first write of an element needs no read (reads = updates -
  partition), and partial sums travel back down only after their first
  residency (fills = F - partition); the backing store is never filled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loomc.solvers.tiling_spec import SPATIAL_X, SPATIAL_Y, TEMPORAL, TilePoint, TilingSpec


@dataclass(frozen=True)
class LevelCounts:
    """Per-instance scalar counts of one (level, data space) and the utilized instances."""

    reads: int
    fills: int
    updates: int
    instances: int


@dataclass(frozen=True)
class CostBreakdown:
    """Counts and the resulting metrics of one mapping under the closed-form model."""

    cycles: int
    energy: float  # pJ
    counts: tuple[tuple[LevelCounts | None, ...], ...]  # [level][space]; None = bypassed
    tiles: tuple[tuple[int, ...], ...]  # [level][space] tile words (0 = bypassed)
    last_level_accesses: int

    def metric(self, name: str) -> float:
        if name == "delay":
            return float(self.cycles)
        if name == "energy":
            return self.energy
        if name == "edp":
            return self.energy * self.cycles
        if name == "last_level_accesses":
            return float(self.last_level_accesses)
        raise KeyError(name)


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def spans_upto(spec: TilingSpec, pt: TilePoint, level: int) -> list[int]:
    """Per-dimension span of one instance's tile at ``level`` (all loops at or below it)."""
    nd = len(spec.bounds)
    slots = (TEMPORAL, SPATIAL_X, SPATIAL_Y)
    return [_prod(pt.factor(m, s, d) for m in range(level + 1) for s in slots)
            for d in range(nd)]


def spatial_between(spec: TilingSpec, pt: TilePoint, lo: int, hi: int) -> list[int]:
    """Per-dimension product of spatial factors at levels ``lo..hi`` inclusive."""
    nd = len(spec.bounds)
    return [
        _prod(pt.factor(m, s, d) for m in range(lo, hi + 1) for s in (SPATIAL_X, SPATIAL_Y))
        for d in range(nd)
    ]


def instances_of(spec: TilingSpec, pt: TilePoint, level: int) -> int:
    """Utilized instances of ``level``: the spatial loops above it."""
    nl = len(spec.levels)
    return _prod(spatial_between(spec, pt, level + 1, nl - 1)) if level + 1 < nl else 1


def refetch(spec: TilingSpec, pt: TilePoint, child: int, space: int) -> tuple[int, int, int, bool]:
    """``(first_dim, n, rest, slides)`` for the temporal loops above ``child``.

    ``first_dim`` is the dimension of the innermost non-unit loop that moves the
    tile (-1 if none), ``n`` its bound, ``rest`` the product of all loops outside
    it, ``slides`` whether consecutive tiles of that loop may overlap (Timeloop
    only re-uses an overlap on the innermost non-unit loop above the tile).
    """
    rel = spec.spaces[space].relevant()
    slide = spec.spaces[space].sliding()
    first, n, rest, seen_other = -1, 1, 1, False
    for m in range(child + 1, len(spec.levels)):
        for d in pt.order[m]:
            f = pt.factor(m, TEMPORAL, d)
            if f == 1:
                continue
            if first < 0:
                if d in rel:
                    first, n = d, f
                else:
                    seen_other = True
            elif d not in slide:
                rest *= f
    return first, n, rest, not seen_other


def tile_fills(spec: TilingSpec, pt: TilePoint, child: int, space: int) -> int:
    """Elements brought into one instance of ``child``'s tile over the run (``F``)."""
    ds = spec.spaces[space]
    first, n, rest, slides = refetch(spec, pt, child, space)
    spans = spans_upto(spec, pt, child)
    if first < 0:
        return ds.size(tuple(spans))
    size = ds.size(tuple(spans))
    if not slides:
        return size * n * rest
    union = 1
    for rank in ds.projection:
        ext = sum(c * (spans[d] - 1) for d, c in rank) + 1
        shift = sum(c * spans[d] for d, c in rank if d == first)
        union *= ext + (n - 1) * min(shift, ext)
    return union * rest


def groups(spec: TilingSpec, pt: TilePoint, lo: int, hi: int, space: int) -> int:
    """Distinct child tiles among the spatial loops of levels ``lo..hi`` (the others share one
    tile: multicast for read-only data, spatial reduction for outputs)."""
    ds = spec.spaces[space]
    rel, slide = ds.relevant(), ds.sliding()
    out = _prod(v for d, v in enumerate(spatial_between(spec, pt, lo, hi))
                if d in rel and d not in slide)
    # a sliding-window rank: children at offsets a + b share tiles when the sums
    # coincide; |A + B| >= |A| + |B| - 1 (per level, as the multicast analysis groups)
    for lv in range(lo, hi + 1):
        sp = spatial_between(spec, pt, lv, lv)
        for rank in ds.projection:
            dims = [d for d, c in rank if c != 0]
            if len(dims) > 1:
                out *= sum(sp[d] - 1 for d in dims) + 1
    return out


def evaluate_closed_form(spec: TilingSpec, pt: TilePoint) -> CostBreakdown:
    """Counts, cycles and energy of ``pt`` under the closed-form model."""
    nl, nk = len(spec.levels), len(spec.spaces)
    cycles = _prod(pt.factor(m, TEMPORAL, d) for m in range(nl) for d in range(len(spec.bounds)))
    inst = [instances_of(spec, pt, m) for m in range(nl)]
    reads = [[0] * nk for _ in range(nl)]
    fills = [[0] * nk for _ in range(nl)]
    updates = [[0] * nk for _ in range(nl)]
    tiles = [[0] * nk for _ in range(nl)]
    full = tuple(spec.bounds)
    for k, ds in enumerate(spec.spaces):
        keepers = [m for m in range(nl) if pt.keep[m][k]]
        for m in keepers:
            tiles[m][k] = ds.size(tuple(spans_upto(spec, pt, m)))
        k0 = keepers[0]
        served = cycles * groups(spec, pt, 0, k0, k)
        dup0 = _dup(spec, pt, k0, k)
        if ds.read_write:
            updates[k0][k] += served
            reads[k0][k] += served - ds.size(full) * dup0 // inst[k0]
        else:
            reads[k0][k] += served
        for c, p in zip(keepers, keepers[1:], strict=False):
            cfill = tile_fills(spec, pt, c, k)
            pserve = cfill * groups(spec, pt, c + 1, p, k)
            if ds.read_write:
                fills[c][k] += cfill - ds.size(full) * _dup(spec, pt, c, k) // inst[c]
                updates[p][k] += pserve
                reads[p][k] += pserve - ds.size(full) * _dup(spec, pt, p, k) // inst[p]
            else:
                fills[c][k] += cfill
                reads[p][k] += pserve
    energy = spec.compute_energy * spec.computes
    counts: list[tuple[LevelCounts | None, ...]] = []
    for m, lv in enumerate(spec.levels):
        row: list[LevelCounts | None] = []
        for k in range(nk):
            if not pt.keep[m][k]:
                row.append(None)
                continue
            bs = lv.block_size
            energy += inst[m] * (
                math.ceil(reads[m][k] / bs) * lv.read_energy
                + math.ceil(fills[m][k] / bs) * lv.fill_energy
                + math.ceil(updates[m][k] / bs) * lv.update_energy
            )
            row.append(LevelCounts(reads[m][k], fills[m][k], updates[m][k], inst[m]))
        # leakage scales with the instances that hold data (Timeloop: 1 if none does)
        energy += lv.leak_energy * cycles * (inst[m] if any(pt.keep[m]) else 1)
        counts.append(tuple(row))
    top = nl - 1
    lla = sum(inst[top] * (reads[top][k] + fills[top][k] + updates[top][k]) for k in range(nk))
    return CostBreakdown(cycles, energy, tuple(counts), tuple(tuple(t) for t in tiles), lla)


def _dup(spec: TilingSpec, pt: TilePoint, level: int, space: int) -> int:
    """How many instances of ``level`` hold copies of the same element (irrelevant spatial loops
    above it): each copy starts from nothing once."""
    rel = spec.spaces[space].relevant()
    sp = spatial_between(spec, pt, level + 1, len(spec.levels) - 1)
    return _prod(v for d, v in enumerate(sp) if d not in rel)
