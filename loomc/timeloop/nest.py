"""Nest analysis: how many elements move between levels, computed in closed form.

This reproduces the counts of Timeloop's (legacy, dense, perfectly factorised)
nest analysis without simulating the loop nest.  The rules below are what
Timeloop's recursive delta computation amounts to (src/loop-analysis/
nest-analysis.cpp, tiling.cpp at 6e081fc); we derived them and verified them
against the reference runs.

Tiles.  Loops are numbered innermost first.  Storage level ``i``'s tile is the
box of operation space spanned by every loop up to its outermost loop; a data
space's tile is the projection of that box, kept as an axis-aligned box
(per rank ``sum(coef*(span-1)) + 1`` elements wide).

Fills of a tile (``F``).  Timeloop does not walk every iteration: each
temporal loop above the tile runs iteration 0 and one representative
iteration (weighted by ``bound - 1``).  With ``step_j`` the operation-space
stride of loop ``j`` and the loops above the tile numbered ``0..k-1``, the
tile moves by ``T_0 = step_0`` on the innermost loop and by
``T_j = step_j - sum(step_i for i < j)`` when loop ``j`` advances (inner
loops return from their representative iteration).  A move re-uses the
overlap with the previous tile only if it is the innermost loop's move or
equals it (Timeloop resets reuse when the stride changes); the overlap
counts only when the boxes differ along exactly one rank.  So::

    F = |tile| + sum_j (n_j - 1) * prod_{i>j} n_i * delta_j

with ``delta_j = |tile| - overlap(T_j)`` when ``j == 0`` or ``T_j == T_0``,
else ``|tile|``.  Spatial loops above the tile do not move it (Timeloop
analyses spatial element 0 and translates the rest).

Spatial fan-out.  A level whose innermost loops are spatial serves its
children; children whose deltas are the same box (same projected offset)
form one multicast group.  The parent's accesses for multicast factor ``m`` are
``G_m * F(child)`` where ``G_m`` counts groups of size ``m``.

Bypass.  A level that does not keep a data space passes its children's demand
up: the next level's accesses are rescaled so that its multicast-weighted
accesses equal the bypassed level's accesses times the fan-out (tiling.cpp
MaskTiles), which amounts to ``accesses_parent[m] = G_m(parent) *
content(bypassed)``.

Reads, fills, updates (tiling.cpp, legacy RMW, first-read elision on):
read-only data: reads = content accesses, fills = ``F``; read-write data:
updates = content, reads = content - partition size, fills = ``F`` -
partition size; the outermost keeper is never filled.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from loomc.timeloop.arch import Architecture
from loomc.timeloop.mapping import TEMPORAL, Loop, Mapping
from loomc.timeloop.problem import Problem


@dataclass(frozen=True)
class TileStats:
    """Per storage level, per data space counts, per instance (as Timeloop reports them)."""

    keep: bool
    size: int  # utilized capacity (tile size)
    partition_size: int
    utilized_instances: int
    utilized_x: int
    utilized_y: int
    reads: int
    fills: int
    updates: int
    temporal_reductions: int


@dataclass(frozen=True)
class NestResult:
    """Everything the nest analysis derives from one mapping."""

    loops: tuple[Loop, ...]
    #: index in ``loops`` of each storage level's outermost loop (-1: level has no loops)
    boundaries: tuple[int, ...]
    #: stats[level][data space]
    stats: tuple[tuple[TileStats, ...], ...]
    #: temporal iterations of the whole nest (cycles of one compute unit)
    compute_cycles: int
    #: number of compute units used
    compute_instances: int
    compute_x: int
    compute_y: int


def _groups(points: list[tuple[int, ...]]) -> Counter[int]:
    """Multicast groups: how many distinct points occur with each multiplicity."""
    mult = Counter(points)
    return Counter(mult.values())


class NestAnalyzer:
    """Precomputed per-(problem, architecture) data; :meth:`analyze` runs per mapping."""

    def __init__(self, problem: Problem, arch: Architecture):
        self.problem = problem
        self.arch = arch
        self.nd = len(problem.dims)
        self.proj = [ds.projection for ds in problem.data_spaces]
        self.rw = [ds.read_write for ds in problem.data_spaces]
        self._group_cache: dict[tuple, tuple[tuple[int, int], ...]] = {}
        # per data space, per dimension: the (rank, coefficient) pairs it appears in
        self._dim_terms = [
            [[(r, c) for r, terms in enumerate(proj) for dd, c in terms if dd == d and c]
             for d in range(self.nd)]
            for proj in self.proj]

    # -- helpers -------------------------------------------------------------------------

    def _extent(self, ds: int, spans: list[int]) -> list[int]:
        return [sum(c * (spans[d] - 1) for d, c in terms) + 1 for terms in self.proj[ds]]

    def _project(self, ds: int, vec: list[int]) -> list[int]:
        return [sum(c * vec[d] for d, c in terms) for terms in self.proj[ds]]

    def _spatial_groups(self, ds: int, run: tuple[tuple[int, int, int], ...]
                        ) -> tuple[tuple[int, int], ...]:
        """(multiplicity, number of groups) for a run of spatial loops ``(dim, bound, stride)``."""
        key = (ds, run)
        hit = self._group_cache.get(key)
        if hit is not None:
            return hit
        nd = self.nd
        pts = []
        for idx in itertools.product(*[range(b) for _, b, _ in run]):
            off = [0] * nd
            for (d, _, st), i in zip(run, idx, strict=True):
                off[d] += i * st
            pts.append(tuple(self._project(ds, off)))
        res = tuple(sorted(_groups(pts).items()))
        self._group_cache[key] = res
        return res

    # -- main ----------------------------------------------------------------------------

    def analyze(self, mapping: Mapping) -> NestResult:
        nd = self.nd
        nds = len(self.proj)
        nlev = len(mapping.levels)
        loops = mapping.nest()
        nloops = len(loops)

        # Per-loop stride (product of bounds of same-dim loops below), level ranges, spans.
        stride = [0] * nloops
        acc = [1] * nd
        last = [-1] * nlev
        spans_at: list[list[int]] = []
        lev_of = [lp.level for lp in loops]
        k = 0
        for lev in range(nlev):
            while k < nloops and lev_of[k] == lev:
                lp = loops[k]
                stride[k] = acc[lp.dim]
                acc[lp.dim] *= lp.bound
                last[lev] = k
                k += 1
            spans_at.append(list(acc))

        total_temporal = 1
        temporal_idx = []
        for k, lp in enumerate(loops):
            if lp.kind == TEMPORAL:
                total_temporal *= lp.bound
                temporal_idx.append(k)

        # Spatial run (innermost spatial loops) of each level, and X/Y use
        runs: list[tuple[tuple[int, int, int], ...]] = [()] * nlev
        xs = [1] * nlev
        ys = [1] * nlev
        for k, lp in enumerate(loops):
            if lp.kind != TEMPORAL:
                lev = lp.level
                runs[lev] = runs[lev] + ((lp.dim, lp.bound, stride[k]),)
                if lp.kind == 1:
                    xs[lev] *= lp.bound
                else:
                    ys[lev] *= lp.bound
        # instances of level i used = product of spatial loops of levels above i
        inst_x = [1] * nlev
        inst_y = [1] * nlev
        for lev in range(nlev - 2, -1, -1):
            inst_x[lev] = inst_x[lev + 1] * xs[lev + 1]
            inst_y[lev] = inst_y[lev + 1] * ys[lev + 1]
        comp_x = inst_x[0] * xs[0]
        comp_y = inst_y[0] * ys[0]

        # A level without loops has its (trivial) boundary right above the levels below it.
        boundary = []
        top = -1
        for lev in range(nlev):
            top = max(top, last[lev])
            boundary.append(top)
        # Temporal loops above each level's tile (innermost first): (dim, bound, stride)
        temporal_above = []
        for lev in range(nlev):
            lim = boundary[lev]
            temporal_above.append([(loops[k].dim, loops[k].bound, stride[k])
                                   for k in temporal_idx if k > lim])

        keeps = [lm.keep for lm in mapping.levels]
        stats: list[list[TileStats]] = [[None] * nds for _ in range(nlev)]  # type: ignore[list-item]
        for ds in range(nds):
            proj = self.proj[ds]
            size = [0] * nlev
            fills = [0] * nlev  # F(level): per-instance demand of the level's tile
            for lev in range(nlev):
                sp = spans_at[lev]
                ext = [sum(c * (sp[d] - 1) for d, c in terms) + 1 for terms in proj]
                sz = 1
                for e in ext:
                    sz *= e
                size[lev] = sz
                # F is only observable at levels that keep the data space (a bypassing
                # level's demand is replaced by its children's, see below).
                if keeps[lev][ds] and lev < nlev - 1:
                    fills[lev] = self._fills(ds, ext, sz, temporal_above[lev])
            ngroups = [self._num_groups(ds, runs[lev]) for lev in range(nlev)]
            # partition sizes (top down)
            part = [0] * nlev
            part[nlev - 1] = size[nlev - 1]
            for lev in range(nlev - 2, -1, -1):
                if runs[lev + 1]:
                    # size of the union of the children's tiles at the master spatial loop:
                    # spans of the level's own loops up to and including its spatial run
                    sp = list(spans_at[lev])
                    for d, b, _ in runs[lev + 1]:
                        sp[d] *= b
                    denom = 1
                    for terms in proj:
                        denom *= sum(c * (sp[d] - 1) for d, c in terms) + 1
                else:
                    denom = size[lev]
                part[lev] = part[lev + 1] * size[lev] // denom
            # content accesses; bypass passes demand up through levels that do not keep
            eff = [ngroups[0] * total_temporal] + [ngroups[lev] * fills[lev - 1]
                                                   for lev in range(1, nlev)]
            for lev in range(nlev - 1):
                if not keeps[lev][ds]:
                    eff[lev + 1] = ngroups[lev + 1] * eff[lev]
            outermost = max(lev for lev in range(nlev) if keeps[lev][ds])
            rw = self.rw[ds]
            for lev in range(nlev):
                ux, uy = inst_x[lev], inst_y[lev]
                if not keeps[lev][ds]:
                    stats[lev][ds] = TileStats(False, 0, 0, ux * uy, ux, uy, 0, 0, 0, 0)
                    continue
                f = 0 if lev == outermost else fills[lev]
                if rw:
                    rd = eff[lev] - part[lev]
                    fl = f if lev == outermost else f - part[lev]
                    stats[lev][ds] = TileStats(True, size[lev], part[lev], ux * uy, ux, uy,
                                               rd, fl, eff[lev], rd)
                else:
                    stats[lev][ds] = TileStats(True, size[lev], part[lev], ux * uy, ux, uy,
                                               eff[lev], f, 0, 0)
        return NestResult(loops, tuple(boundary), tuple(tuple(s) for s in stats), total_temporal,
                          comp_x * comp_y, comp_x, comp_y)

    def _num_groups(self, ds: int, run: tuple[tuple[int, int, int], ...]) -> int:
        """Number of multicast groups (distinct child deltas) of a spatial run."""
        if not run:
            return 1
        return sum(g for _, g in self._spatial_groups(ds, run))

    def _fills(self, ds: int, ext: list[int], size: int,
               above: list[tuple[int, int, int]]) -> int:
        """Total elements brought into one instance of a tile over the whole run (``F``)."""
        if not above:
            return size
        dim_terms = self._dim_terms[ds]
        nranks = len(ext)
        n = len(above)
        # suffix products of bounds
        suffix = [1] * (n + 1)
        for j in range(n - 1, -1, -1):
            suffix[j] = suffix[j + 1] * above[j][1]
        inner = [0] * nranks
        total = size
        t0: list[int] | None = None
        for j in range(n):
            d, b, st = above[j]
            t = [-v for v in inner]
            for r, c in dim_terms[d]:
                t[r] += c * st
                inner[r] += c * st
            if j == 0:
                t0 = t
                delta = self._delta(ext, size, t)
            elif t == t0:
                delta = self._delta(ext, size, t)
            else:
                delta = size
            total += (b - 1) * suffix[j + 1] * delta
        return total

    @staticmethod
    def _delta(ext: list[int], size: int, t: list[int]) -> int:
        """Elements of a box not covered by the same box shifted back by ``t`` (Timeloop's
        AAHR subtraction: overlap only counts when the boxes differ along one rank)."""
        moved = [r for r, v in enumerate(t) if v != 0]
        if not moved:
            return 0
        if len(moved) > 1:
            return size
        r = moved[0]
        shift = abs(t[r])
        if shift >= ext[r]:
            return size
        return size // ext[r] * shift
