"""Closed-form access counts of one mapping — the formulas the CP-SAT model encodes.

Why a second copy of the counts: the CP-SAT model (:mod:`loomc.solvers.tiling_model`)
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
  their moves nearly free (even zero), so they are left out — unless a loop
  over another rank lies inside them (their move then has a negative
  component and reloads the whole tile) and Timeloop's link test provably
  fails at every spatial level above the tile (:func:`no_link_at`; else mesh
  neighbours could hand data over).  Where no link is possible, the loops left
  out still lengthen the first loop's sweep: each of their steps loads at least
  that loop's delta (:func:`refetch`'s ``sweep``).  That keeps
  the count a lower bound of the evaluator's, and exact for tensors without
  sliding windows.  The energy of each (level, tensor) is at least that of
  :func:`traffic_floor`.
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

from loomc.solvers.tiling_spec import (
    SPATIAL_X,
    SPATIAL_Y,
    TEMPORAL,
    SpaceSpec,
    TilePoint,
    TilingSpec,
    spatial_rank,
)


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


def refetch(spec: TilingSpec, pt: TilePoint, child: int, space: int,
            relax: bool = False) -> tuple[int, int, int, int, bool]:
    """``(first_dim, n, sweep, rest, slides)`` for the temporal loops above ``child``.

    ``first_dim`` is the dimension of the innermost non-unit loop that moves the
    tile (-1 if none), ``n`` its bound, ``rest`` the product of all loops outside
    it that reload the whole tile, ``slides`` whether consecutive tiles of that loop
    may overlap (Timeloop only re-uses an overlap on the innermost non-unit loop
    above the tile).  ``sweep`` is ``n`` times the sliding-window loops outside it
    that ``rest`` leaves out: when no link is possible, each of their steps still
    loads at least what a step of the first loop does (Timeloop's delta of a move
    equal to the first loop's is that loop's delta, any other move reloads the tile),
    so the first loop's union may run over ``sweep`` steps.
    ``relax``: the hoisted relaxation (:func:`loomc.solvers.tiling_symmetry.hoisted_bound`):
    a first loop over a sliding-window dimension counts as its least prime factor, and no
    sliding-window loop outside it is counted.
    """
    ds = spec.spaces[space]
    rel = ds.relevant()
    slide = ds.sliding()
    first, n, rest, seen_other = -1, 1, 1, False
    stretch = 1
    ranks: set[int | None] = set()  # ranks of the relevant loops seen so far
    # where mesh neighbours may hand data over (Timeloop's link transfers) the fills are
    # lower: the tighter counts are off then
    linked = not all(no_link_at(spec, pt, m, space)
                     for m in range(child + 1, len(spec.levels)))
    for m in range(child + 1, len(spec.levels)):
        for d in pt.order[m]:
            f = pt.factor(m, TEMPORAL, d)
            if f == 1:
                continue
            if first < 0:
                if d in rel:
                    first, n = d, (min(_primes(f)) if relax and d in slide else f)
                else:
                    seen_other = True
            elif d not in slide:
                rest *= f
            elif (not relax and not linked and rank_of(ds, d) is not None
                  and ranks - {rank_of(ds, d)}):
                # a loop of another rank inside this one leaves a negative component in the
                # representative move, which can then equal neither the innermost move
                # (non-negative) nor zero: a full reload
                rest *= f
            elif not relax and not linked:
                stretch *= f
            if d in rel:
                ranks.add(rank_of(ds, d))
    return first, n, n * stretch, rest, not seen_other


def no_link_at(spec: TilingSpec, pt: TilePoint, level: int, space: int) -> bool:
    """True when no child of spatial ``level`` can take tensor ``space`` from a mesh neighbour.

    Timeloop's link test (our :meth:`loomc.timeloop.nest.NestAnalyzer._link_candidate`)
    needs a temporal move ``t_j`` of the child tile to equal the projected offset
    between two neighbours; ``t_0`` is the move of the innermost non-unit temporal loop
    above the child (over ``d0``, stride ``s0``), ``t_j`` (``j > 0``) the move of an
    outer loop minus the strides of the loops inside it, and the test looks past
    ``t_0`` only when ``t_0`` reloads the whole tile.  The test fails when ``d0``
    ignores the tensor (``t_0 = 0``: nothing moves), or ``d0`` lies in one rank ``r0``
    and either

    * the margin ``c0 * s0 - sum c_e * S_e`` (``S_e``: the strides of the temporal loops
      over another dimension ``e`` of ``r0`` above the child, added up) exceeds the
      spread of the children on ``r0`` (``sum c_e * span_e * (split_e - 1)`` over the
      dimensions of ``r0`` split at ``level``; spans are the child tile's).  The strides
      of successive loops over one dimension at least double, so an outer loop over
      ``d0`` exceeds the ``d0`` strides it returns from by at least ``s0``, and one over
      ``e`` stays below ``c0 * s0`` plus what it returns from: every ``t_j`` then has an
      ``r0`` part of magnitude at least the margin, which no neighbour offset reaches; or
    * ``t_0`` (``c0 * s0`` on ``r0``, nothing elsewhere) overlaps the tile
      (``c0 * s0 < extent`` on ``r0``: a sliding window, so the test ends at ``t_0``)
      and is no neighbour offset: either no dimension of ``r0`` is split at ``level``
      (neighbours differ by nothing on ``r0``), or exactly one, ``e``, is and
      ``c0 * s0 < c_e * span_e`` — every neighbour offset's ``r0`` part is a multiple
      of ``c_e * span_e``, the stride of ``e``'s spatial loops here.
    """
    ds = spec.spaces[space]
    nl = len(spec.levels)
    here = spatial_between(spec, pt, level, level)  # each dimension's split at ``level``
    split = {d for d, n in enumerate(here) if n > 1}
    if not split:
        return True
    d0, lv0 = next(((d, m) for m in range(level, nl) for d in pt.order[m]
                    if pt.factor(m, TEMPORAL, d) > 1), (None, -1))
    if d0 is None or d0 not in ds.relevant():
        return True
    r0 = rank_of(ds, d0)
    if r0 is None:
        return False
    rank = [(d, c) for d, c in ds.projection[r0] if c]
    others = [(d, c) for d, c in rank if d != d0]
    c0 = sum(c for d, c in rank if d == d0)
    spans = spans_upto(spec, pt, level - 1)
    s0 = spans_upto(spec, pt, lv0 - 1)[d0] * spatial_between(spec, pt, lv0, lv0)[d0]
    margin = c0 * s0 - sum(
        c * spans_upto(spec, pt, m - 1)[d] * spatial_between(spec, pt, m, m)[d]
        for d, c in others for m in range(level, nl) if pt.factor(m, TEMPORAL, d) > 1)
    if margin > sum(c * spans[d] * (here[d] - 1) for d, c in rank):
        return True
    move = c0 * s0
    if move > sum(c * (spans[d] - 1) for d, c in rank):
        return False  # t_0 reloads the whole tile: the test goes on to the outer moves
    in_rank = [(d, c) for d, c in rank if d in split]
    if not in_rank:
        return True
    return len(in_rank) == 1 and move < in_rank[0][1] * spans[in_rank[0][0]]


def _primes(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out + ([n] if n > 1 else [])


def rank_of(ds: SpaceSpec, d: int) -> int | None:
    """The one rank of ``ds`` that dimension ``d`` projects onto (None: several or none)."""
    if any(c < 0 for rank in ds.projection for _, c in rank):
        return None  # the sign argument of refetch needs non-negative coefficients
    hits = [i for i, rank in enumerate(ds.projection) if any(e == d and c for e, c in rank)]
    return hits[0] if len(hits) == 1 else None


def tile_fills(spec: TilingSpec, pt: TilePoint, child: int, space: int,
               relax: bool = False) -> int:
    """Elements brought into one instance of ``child``'s tile over the run (``F``)."""
    ds = spec.spaces[space]
    first, n, sweep, rest, slides = refetch(spec, pt, child, space, relax)
    spans = spans_upto(spec, pt, child)
    if first < 0:
        return ds.size(tuple(spans))
    size = ds.size(tuple(spans))
    if not slides:
        fills = size * n * rest
    else:
        if rank_of(ds, first) is None:
            sweep = n  # a move over several ranks: the per-rank union is no single delta
        union = 1
        for rank in ds.projection:
            ext = sum(c * (spans[d] - 1) for d, c in rank) + 1
            shift = sum(c * spans[d] for d, c in rank if d == first)
            union *= ext + (sweep - 1) * min(shift, ext)
        fills = union * rest
    if relax:
        floor = relaxed_window_fills(spec, pt, child, space, first, slides)
        if floor is not None:
            return max(fills, floor)
    return fills


def relaxed_window_fills(spec: TilingSpec, pt: TilePoint, child: int, space: int,
                         first: int, slides: bool) -> int | None:
    """A fill count of ``child``'s tile of tensor ``space`` that holds for every mapping
    whose hoisted form is ``pt`` (pass-through levels empty,
    :func:`loomc.solvers.tiling_symmetry.hoisted`), or None when no such count is known
    beyond the relaxation's own.  ``first``: the first dimension above ``child`` that
    moves the tile (the same in every such mapping) and ``slides`` whether its
    consecutive tiles may overlap, both as :func:`refetch` gives them in relaxed mode.

    It needs every spatial level above to rule links out by its layout
    (:func:`_unlinked_by_layout`: spatial factors and the spans the chains cannot
    shrink).  Then a mapping whose first loop above moves the tile loads at least that
    loop's delta at every step of every loop (a move equal to the first loop's loads
    that delta, any other one the whole tile), whatever the loops' order and split:
    ``size + (steps - 1) * delta``.  A mapping whose first loops ignore the tensor
    (possible when a chain's upper level holds such a loop, which a mapping may put
    innermost) reloads the whole tile at every later step unless a move is zero; with
    zero moves ruled out (:func:`_no_zero_move`) that is the tile times every loop over
    a dimension the tensor uses."""
    from loomc.solvers.tiling_symmetry import transparent_levels

    ds = spec.spaces[space]
    rel = ds.relevant()
    nl, nd = len(spec.levels), len(spec.bounds)
    tops = {lv + 1 for lv in transparent_levels(spec) if lv + 1 > child}
    if not all(_unlinked_by_layout(spec, pt, lv, space, tops) for lv in range(child + 1, nl)):
        return None
    spans = spans_upto(spec, pt, child)
    size = ds.size(tuple(spans))
    above = range(child + 1, nl)
    slid = None
    r0 = rank_of(ds, first)
    if r0 is not None:
        rank = ds.projection[r0]
        ext = sum(c * (spans[d] - 1) for d, c in rank) + 1
        shift = sum(c * spans[d] for d, c in rank if d == first)
        steps = _prod(pt.factor(m, TEMPORAL, d) for m in above for d in range(nd))
        slid = size + (steps - 1) * (size // ext) * min(shift, ext)
    if slides and not any(pt.factor(t, TEMPORAL, d) > 1 for t in tops for d in range(nd)
                          if d not in rel):
        return slid
    if not _no_zero_move(spec, pt, child + 1, space, tops, None):
        return None
    full = size * _prod(pt.factor(m, TEMPORAL, d) for m in above for d in rel)
    return full if slid is None else min(slid, full)


def _unlinked_by_layout(spec: TilingSpec, pt: TilePoint, level: int, space: int,
                        tops: set[int]) -> bool:
    """No child of ``level`` can take tensor ``space`` from a neighbour, by the level's
    spatial layout alone (any temporal loops above that keep the first one relevant,
    any distribution of the loops of the pass-through chains ending at ``tops``).

    On a level that fans out along one axis the children form one row, so neighbours
    are consecutive.  Split dimensions the tensor ignores add nothing to an offset;
    below the innermost relevant split dimension ``e`` (spatial stride ``s_e``: the
    child span) they make pairs with a zero offset, every other pair changes ``e``'s
    digit by one step or a wrap: its offset on ``e``'s rank ``r`` is a non-zero
    multiple of ``c_e * s_e`` of magnitude at most ``c_e * s_e * (split_e - 1)``.  A
    temporal move's part from loops over ``e`` is zero or at least
    ``c_e * s_e * split_e`` (those loops sit outside the level's spatial ones and their
    strides at least double) and a multiple of ``c_e * s_e``.  So no move equals a
    non-zero offset when ``r`` is ``e`` alone, or when ``e`` is the only relevant split
    dimension, ``r`` has one other dimension ``f`` with at most one temporal loop at or
    above ``level`` (its factor there is 1 or a prime) and no spatial split there, and
    ``0 < c_f * span_f < c_e * s_e``: the move's ``f`` part is then zero or
    ``+-c_f * span_f``, which no multiple of ``c_e * s_e`` equals.  Zero offsets need
    :func:`_no_zero_move` as well."""
    ds = spec.spaces[space]
    here = spatial_between(spec, pt, level, level)
    split = [d for d, n in enumerate(here) if n > 1]
    if not split:
        return True
    lv = spec.levels[level]
    if min(lv.fanout_x, lv.fanout_y) > 1:
        return False
    rel = ds.relevant()
    split_rel = [d for d in split if d in rel]
    if not split_rel:
        return _no_zero_move(spec, pt, level, space, tops, None)
    e = min(split_rel, key=lambda d: spatial_rank(spec, level, d))
    r = rank_of(ds, e)
    if r is None:
        return False
    rank = [(d, c) for d, c in ds.projection[r] if c]
    if len(rank) != 1:
        if len(split_rel) > 1 or len(rank) != 2:
            return False
        (f, cf), = [(d, c) for d, c in rank if d != e]
        ce = sum(c for d, c in rank if d == e)
        if not _residue_apart(spec, pt, level, (f, cf), (e, ce), tops):
            return False
    zero_pairs = any(spatial_rank(spec, level, d) < spatial_rank(spec, level, e)
                     for d in split if d not in rel)
    return not zero_pairs or _no_zero_move(spec, pt, level, space, tops, r)


def _residue_apart(spec: TilingSpec, pt: TilePoint, level: int, f: tuple[int, int],
                   e: tuple[int, int], tops: set[int]) -> bool:
    """A move's part on the rank ``{f, e}`` (``(dim, coef)`` pairs) from loops at or above
    ``level`` is never a multiple of ``c_e * span_e`` (spans below ``level``) unless no
    loop over ``f`` lies inside it: ``f`` has at most one such loop (its factor there
    is 1 or a prime, in any distribution of the chains ending at ``tops``), with no
    spatial split of ``f`` at or above ``level`` its stride is ``span_f``, and
    ``0 < c_f * span_f < c_e * span_e`` while every stride of ``e`` is a multiple of
    ``span_e``."""
    (fd, cf), (ed, ce) = f, e
    nl = len(spec.levels)
    above = _prod(pt.factor(m, TEMPORAL, fd) for m in set(range(level, nl)) | tops)
    if len(_primes(above)) > 1:
        return False
    if any(pt.factor(m, s, fd) > 1 for m in range(level, nl) for s in (SPATIAL_X, SPATIAL_Y)):
        return False
    spans = spans_upto(spec, pt, level - 1)
    return cf * spans[fd] < ce * spans[ed]


def _no_zero_move(spec: TilingSpec, pt: TilePoint, level: int, space: int,
                  tops: set[int], skip: int | None) -> bool:
    """No temporal move of loops at or above ``level`` (other than the first, when that
    ignores the tensor) is zero on every rank of tensor ``space``: each rank but
    ``skip`` (known non-zero wherever a loop over it lies inside) is non-zero wherever
    a loop over it lies inside — the first loop that moves the tile lies inside every
    later one.  A rank qualifies when at most one of its dimensions has loops at or
    above ``level`` (in any distribution of the chains ending at ``tops``): a move over
    it exceeds the strides inside it, any other move is minus them; or when it has two
    dimensions and :func:`_residue_apart` holds one way round."""
    ds = spec.spaces[space]
    if any(c < 0 for rank in ds.projection for _, c in rank):
        return False
    nl = len(spec.levels)
    levels = set(range(level, nl)) | tops
    for ri, rank in enumerate(ds.projection):
        if ri == skip:
            continue
        terms = [(d, c) for d, c in rank if c]
        moving = [(d, c) for d, c in terms
                  if _prod(pt.factor(m, TEMPORAL, d) for m in levels) > 1]
        if len(moving) <= 1:
            continue
        if len(terms) == 2 and (_residue_apart(spec, pt, level, terms[0], terms[1], tops)
                                or _residue_apart(spec, pt, level, terms[1], terms[0], tops)):
            continue
        return False
    return True


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


def evaluate_closed_form(spec: TilingSpec, pt: TilePoint, hoisted: bool = False
                         ) -> CostBreakdown:
    """Counts, cycles and energy of ``pt`` under the closed-form model.

    ``hoisted``: the hoisted relaxation's counts (window fills of levels below a
    pass-through level relaxed, :func:`loomc.solvers.tiling_symmetry.hoisted_bound`)."""
    from loomc.solvers.tiling_symmetry import transparent_levels

    spec = spec.without_unit_dims()
    tlevels = transparent_levels(spec) if hoisted else ()
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
            relax = bool(ds.sliding()) and any(t > c for t in tlevels)
            cfill = tile_fills(spec, pt, c, k, relax)
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
            # never below the traffic every used element needs (traffic_floor)
            energy += max(inst[m] * (
                math.ceil(reads[m][k] / bs) * lv.read_energy
                + math.ceil(fills[m][k] / bs) * lv.fill_energy
                + math.ceil(updates[m][k] / bs) * lv.update_energy
            ), floor_energy(spec, m, k))
            row.append(LevelCounts(reads[m][k], fills[m][k], updates[m][k], inst[m]))
        # leakage scales with the instances that hold data (Timeloop: 1 if none does)
        energy += lv.leak_energy * cycles * (inst[m] if any(pt.keep[m]) else 1)
        counts.append(tuple(row))
    top = nl - 1
    lla = sum(inst[top] * (reads[top][k] + fills[top][k] + updates[top][k]) for k in range(nk))
    return CostBreakdown(cycles, energy, tuple(counts), tuple(tuple(t) for t in tiles), lla)


def touched(spec: TilingSpec, space: int) -> int | None:
    """Distinct elements of data space ``space`` the computes use (None: ranks share
    dimensions, so the per-rank counts do not multiply)."""
    ds = spec.spaces[space]
    seen: set[int] = set()
    n = 1
    for rank in ds.projection:
        dims = [(d, c) for d, c in rank if c != 0]
        if seen & {d for d, _ in dims}:
            return None
        seen.update(d for d, _ in dims)
        values = {0}
        for d, c in dims:
            values = {v + c * i for v in values for i in range(spec.bounds[d])}
        n *= len(values)
    return n


def traffic_floor(spec: TilingSpec, level: int, space: int) -> tuple[int, int]:
    """Words a level that keeps ``space`` must move over all its instances, at least:
    ``(reads or updates, fills)``.

    Every element the computes use must pass through each keeper.  Fills of a read-only
    tensor below the outermost level: each instance's ``F`` (Timeloop's delta sum) is at
    least the union of the tiles it visits, because every counted delta is at least the
    part of the new tile that no earlier tile covered; so the instances together fill
    every used element (with sliding windows only where no fan-out lies above the level:
    Timeloop's link transfers let mesh neighbours hand data over).  Reads and updates
    follow exactly from the counts for tensors without sliding windows; with windows only
    the outermost level's reads are claimed, and only when its child is one instance with
    no fan-out in between (no multicast or neighbour links can stand in for a read).
    ``spec`` must be the reduced spec (:meth:`TilingSpec.without_unit_dims`).
    """
    ds = spec.spaces[space]
    n = touched(spec, space)
    if n is None:
        return 0, 0
    top = len(spec.levels) - 1
    if ds.read_write:
        return (0 if ds.sliding() else n), 0
    if not ds.sliding():
        return n, (n if level < top else 0)
    # with windows, neighbours below a fan-out may hand data over instead of a fill
    fills = n if level < top and all(lv.fanout_x * lv.fanout_y == 1
                                     for lv in spec.levels[level + 1:]) else 0
    reads = 0
    if level == top:
        for c in range(top - 1, -1, -1):
            keep = spec.levels[c].keep
            if keep and keep[space] is True:
                if all(lv.fanout_x * lv.fanout_y == 1 for lv in spec.levels[c + 1:]):
                    reads = n
                break
    return reads, fills


def floor_energy(spec: TilingSpec, level: int, space: int) -> float:
    """Energy (pJ) of :func:`traffic_floor` at ``level`` in block-wide accesses."""
    lv = spec.levels[level]
    rw, fl = traffic_floor(spec, level, space)
    acc = lv.update_energy if spec.spaces[space].read_write else lv.read_energy
    return math.ceil(rw / lv.block_size) * acc + math.ceil(fl / lv.block_size) * lv.fill_energy


def _dup(spec: TilingSpec, pt: TilePoint, level: int, space: int) -> int:
    """How many instances of ``level`` hold copies of the same element (irrelevant spatial loops
    above it): each copy starts from nothing once."""
    rel = spec.spaces[space].relevant()
    sp = spatial_between(spec, pt, level + 1, len(spec.levels) - 1)
    return _prod(v for d, v in enumerate(sp) if d not in rel)
