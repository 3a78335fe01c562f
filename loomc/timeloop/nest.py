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

Link transfers.  Timeloop also lets a child take data from a mesh neighbour
when the neighbour needed exactly that box in the previous step (systolic
reuse); such children leave their multicast group, and if a whole group goes
the parent reads less while the children count peer reads/fills.  Consecutive
deltas of a child are ``t_0`` apart, or ``t_j`` apart for a full reload after
a stride change, so a cheap test against the neighbour offsets rules this out
in almost every mapping; when it does not, the per-transition accounting in
:meth:`NestAnalyzer._spatial_access` and tiling.cpp's double arithmetic are
followed exactly.

Reads, fills, updates (tiling.cpp, legacy RMW, first-read elision on):
read-only data: reads = content accesses, fills = ``F``; read-write data:
updates = content, reads = content - partition size, fills = ``F`` -
partition size; the outermost keeper is never filled.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from loomc.timeloop.arch import Architecture
from loomc.timeloop.mapping import TEMPORAL, Loop, Mapping
from loomc.timeloop.problem import Problem


class TileStats(NamedTuple):
    """Per storage level, per data space counts, per instance (as Timeloop reports them).

    An immutable record (a NamedTuple: as frozen as a frozen dataclass, but cheap to
    build — the optimizer creates thousands per second).
    """

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


def _round(x) -> int:
    """C's std::round: halves away from zero."""
    import math

    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


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
        self._ngroups_cache: dict[tuple, tuple[int, ...]] = {}
        self._elem_cache: dict[tuple, tuple] = {}
        # data spaces whose every rank is one dimension with coefficient 1: extents are spans
        self._simple = [
            tuple(terms[0][0] for terms in proj)
            if all(len(terms) == 1 and terms[0][1] == 1 for terms in proj) else ()
            for proj in self.proj]
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
        for idx in itertools.product(*[range(b) for _, b, _, _ in run]):
            off = [0] * nd
            for (d, _, st, _), i in zip(run, idx, strict=True):
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
                runs[lev] = runs[lev] + ((lp.dim, lp.bound, stride[k], lp.kind),)
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

        self._all_temporal = [(loops[k].dim, loops[k].bound, stride[k]) for k in temporal_idx]
        # A level without loops has its (trivial) boundary right above the levels below it.
        boundary = []
        top = -1
        for lev in range(nlev):
            top = max(top, last[lev])
            boundary.append(top)
        # Temporal loops above each level's tile (innermost first): (dim, bound, stride)
        all_t = self._all_temporal
        temporal_above = []
        pos = 0
        for lev in range(nlev):
            lim = boundary[lev]
            while pos < len(temporal_idx) and temporal_idx[pos] <= lim:
                pos += 1
            temporal_above.append(all_t[pos:])

        keeps = [lm.keep for lm in mapping.levels]
        groups_per_level = [self._run_groups(run) for run in runs]
        stats: list[list[TileStats]] = [[None] * nds for _ in range(nlev)]  # type: ignore[list-item]
        for ds in range(nds):
            proj = self.proj[ds]
            simple = self._simple[ds]
            size = [0] * nlev
            fills = [0] * nlev  # F(level): per-instance demand of the level's tile
            for lev in range(nlev):
                kept = keeps[lev][ds]
                # Sizes matter where the data space is kept and below a spatial fan-out
                # (partition sizes); F is only observable where it is kept (a bypassing
                # level's demand is replaced by its children's, see below).
                if not kept and not (lev < nlev - 1 and runs[lev + 1]):
                    continue
                sp = spans_at[lev]
                if simple:
                    ext = [sp[d] for d in simple]
                else:
                    ext = [sum(c * (sp[d] - 1) for d, c in terms) + 1 for terms in proj]
                sz = 1
                for e in ext:
                    sz *= e
                size[lev] = sz
                if kept and lev < nlev - 1:
                    fills[lev] = self._fills(ds, ext, sz, temporal_above[lev])
            ngroups = [g[ds] for g in groups_per_level]
            # partition sizes (top down)
            part = [0] * nlev
            part[nlev - 1] = size[nlev - 1]
            for lev in range(nlev - 2, -1, -1):
                if runs[lev + 1]:
                    # size of the union of the children's tiles at the master spatial loop:
                    # spans of the level's own loops up to and including its spatial run
                    sp = list(spans_at[lev])
                    for d, b, _, _ in runs[lev + 1]:
                        sp[d] *= b
                    denom = 1
                    for terms in proj:
                        denom *= sum(c * (sp[d] - 1) for d, c in terms) + 1
                    part[lev] = part[lev + 1] * size[lev] // denom
                else:
                    part[lev] = part[lev + 1]
            # content accesses; bypass passes demand up through levels that do not keep
            links = self._link_analysis(ds, runs, spans_at, temporal_above, fills, size,
                                        total_temporal, keeps, inst_x, inst_y)
            if links is None:
                eff: list = [ngroups[0] * total_temporal] + [ngroups[lev] * fills[lev - 1]
                                                             for lev in range(1, nlev)]
                for lev in range(nlev - 1):
                    if not keeps[lev][ds]:
                        eff[lev + 1] = ngroups[lev + 1] * eff[lev]
                peer = None
            else:
                eff, peer = links[0], links[1]
            outermost = max(lev for lev in range(nlev) if keeps[lev][ds])
            rw = self.rw[ds]
            for lev in range(nlev):
                ux, uy = inst_x[lev], inst_y[lev]
                if not keeps[lev][ds]:
                    stats[lev][ds] = TileStats(False, 0, 0, ux * uy, ux, uy, 0, 0, 0, 0)
                    continue
                f = 0 if lev == outermost else fills[lev]
                if peer is not None:
                    # link transfers make shares and peer traffic fractional (tiling.cpp)
                    share = links[2][lev]
                    if rw:
                        rd = _round(eff[lev] + peer[lev] - part[lev])
                        fl = _round(share + peer[lev] if lev == outermost
                                    else share + peer[lev] - part[lev])
                        stats[lev][ds] = TileStats(True, size[lev], part[lev], ux * uy, ux, uy,
                                                   rd, fl, _round(eff[lev]), rd)
                    else:
                        # read-only fills are stored to an integer without rounding
                        stats[lev][ds] = TileStats(True, size[lev], part[lev], ux * uy, ux, uy,
                                                   _round(eff[lev] + peer[lev]),
                                                   int(share + peer[lev]), 0, 0)
                    continue
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

    # -- inter-PE link transfers ----------------------------------------------------------

    def _link_analysis(self, ds, runs, spans_at, temporal_above, fills, size, total_temporal,
                       keeps, inst_x, inst_y):
        """Counts when a spatial level forwards data between neighbours (link transfers).

        Timeloop compares each child's delta with its mesh neighbours' deltas of the
        previous invocation; an equal one is a link transfer, used when it removes
        whole multicast groups.  Returns None when no level uses links (the common
        case, handled in closed form by the caller), else per level (content after
        bypass masking, peer accesses, parent share).  This path follows tiling.cpp's
        double-precision arithmetic step by step (access entries keyed by
        (multicast, scatter), rescaled by bypass), so rounding matches Timeloop.
        """
        nlev = len(runs)
        proj = self.proj[ds]
        simple = self._simple[ds]

        def tile(lev):
            sp = spans_at[lev]
            if simple:
                return [sp[d] for d in simple]
            return [sum(c * (sp[d] - 1) for d, c in terms) + 1 for terms in proj]

        spatial_levels = [lev for lev in range(nlev) if runs[lev]]

        results = {}
        any_link = False
        for lev in spatial_levels:
            if lev == 0:
                args = ([1] * len(proj), self._all_temporal, True)
            else:
                args = (tile(lev - 1), temporal_above[lev - 1], False)
            if not self._link_candidate(ds, lev, runs[lev], *args):
                continue
            res = self._spatial_access(ds, lev, runs[lev], *args)
            results[lev] = res
            any_link = any_link or res[1] > 0
        if not any_link:
            return None

        entries: list[dict[tuple[int, int], float]] = []
        link: list[float] = []
        fan: list[int] = []
        for lev in range(nlev):
            f = 1
            for _, b, _, _ in runs[lev]:
                f *= b
            fan.append(f)
            if lev in results:
                ent, lk = results[lev]
            else:
                if lev == 0:
                    child = total_temporal
                else:
                    child = fills[lev - 1]
                    if not child and lev - 1 < nlev - 1:
                        ext = tile(lev - 1)
                        sz = 1
                        for e in ext:
                            sz *= e
                        child = self._fills(ds, ext, sz, temporal_above[lev - 1])
                ent = self._static_entries(ds, runs[lev], lev, child)
                lk = 0
            entries.append({k: float(v) for k, v in sorted(ent.items())})
            link.append(float(lk))
        content = [sum(e.values()) for e in entries]
        share = [0.0] * nlev
        for lev in range(nlev - 1):
            acc = 0.0
            for (mc, _), a in entries[lev + 1].items():
                acc += (a * mc) / fan[lev + 1]
            share[lev] = acc
        for cur in range(nlev - 1):
            if keeps[cur][ds]:
                continue
            out = cur + 1
            weighted = 0.0
            for (mc, _), a in entries[out].items():
                weighted += a * mc
            if weighted:
                factor = (content[cur] * fan[out]) / weighted
                for key, a in entries[out].items():
                    if a == 0:
                        continue
                    entries[out][key] = a * factor
                    link[out] = 0.0
                content[out] = sum(entries[out].values())
            content[cur] = 0.0
            share[cur] = 0.0
        top = max(lev for lev in range(nlev) if keeps[lev][ds])
        share[top] = 0.0
        peer = [0.0] * nlev
        for lev in range(nlev - 1, 0, -1):
            if link[lev]:
                peer[lev - 1] += link[lev] / (inst_x[lev - 1] * inst_y[lev - 1])
        return content, peer, share

    def _link_candidate(self, ds, lev, run, ext, above, point) -> bool:
        """Cheap necessary condition for a link transfer at a spatial level.

        A link needs a child's new delta to equal a neighbour's previous delta, so the
        offset between consecutive deltas must be an offset between mesh neighbours.
        With ``A`` the delta after an innermost-loop step (move ``t_0``): consecutive
        deltas are ``t_0`` apart when ``A`` is non-empty, and a full reload after a
        stride change (move ``t_j != t_0``) sits ``t_j`` from a full ``A``.  So the
        candidates are ``t_0`` and, when ``A`` is a whole tile, every ``t_j``.
        """
        if not above:
            return False
        dset = self._neighbour_offsets(ds, run, lev)
        if not dset:
            return False
        dim_terms = self._dim_terms[ds]
        nr = len(ext)
        inner = [0] * nr
        t0 = None
        a_full = False
        for j, (d, _, st) in enumerate(above):
            t = [-x for x in inner]
            for r, c in dim_terms[d]:
                t[r] += c * st
                inner[r] += c * st
            if j == 0:
                t0 = t
                a = self._dbox(ext, t, True, point)
                if a is None:
                    return False
                if tuple(t) in dset:
                    return True
                a_full = a[1] == tuple(ext) and a[0] == tuple(t)
                if not a_full:
                    return False
            elif t != t0 and tuple(t) in dset:
                return True
        return False

    def _neighbour_offsets(self, ds, run, lev) -> frozenset:
        """Projected offsets ``p[neighbour] - p[element]`` over all mesh-neighbour pairs."""
        key = ("nb", ds, run, lev)
        hit = self._elem_cache.get(key)
        if hit is None:
            _, pts, nbrs = self._elements(ds, run, lev)
            hit = frozenset(tuple(a - b for a, b in zip(pts[j], pts[i], strict=True))
                            for i, lst in enumerate(nbrs) for j in lst)
            self._elem_cache[key] = hit
        return hit

    def _static_entries(self, ds, run, lev, child):
        """Access entries {(multicast, scatter): accesses} of a level without link use."""
        if not run:
            return {(1, 1): child}
        _, pts, _ = self._elements(ds, run, lev)
        mult = Counter(Counter(pts).values())
        return {(mc, sc): sc * child for mc, sc in mult.items()}

    def _num_groups_only(self, ds, run):
        return self._run_groups(run)[ds] if run else 1

    def _elements(self, ds, run, lev):
        """(count, projected offsets, neighbour index lists) of a spatial run's children."""
        key = (ds, run, lev)
        hit = self._elem_cache.get(key)
        if hit is not None:
            return hit
        nd = self.nd
        offs = [[0] * nd]
        for d, b, st, _ in reversed(run):  # outermost loop is the most significant digit
            nxt = []
            for off in offs:
                for i in range(b):
                    o = list(off)
                    o[d] += i * st
                    nxt.append(o)
            offs = nxt
        pts = [tuple(self._project(ds, o)) for o in offs]
        fx = fy = 1
        for _, b, _, kind in run:
            if kind == 1:
                fx *= b
            else:
                fy *= b
        pfx, pfy = self.arch.fanout_xy(lev)
        h, v = max(pfx, fx), max(pfy, fy)
        n = len(pts)
        nbrs = []
        for i in range(n):
            hi, vi = i % h, i // h
            lst = []
            for nh, nv in ((hi, vi - 1), (hi, vi + 1), (hi - 1, vi), (hi + 1, vi)):
                if 0 <= nh < h and 0 <= nv < v:
                    j = nv * h + nh
                    if j < n:
                        lst.append(j)
            nbrs.append(lst)
        res = (n, pts, nbrs)
        self._elem_cache[key] = res
        return res

    @staticmethod
    def _dbox(ext, t, allowed, point):
        """Delta box (lo, shape) of a tile moved by ``t`` from a tile at the origin."""
        if point:
            return tuple(t), tuple(ext)
        moved = [r for r, x in enumerate(t) if x]
        if not moved and allowed:
            return None  # the same tile again: nothing new
        if allowed and len(moved) == 1:
            r = moved[0]
            x = t[r]
            if abs(x) < ext[r]:
                lo = list(t)
                shape = list(ext)
                shape[r] = abs(x)
                lo[r] = ext[r] if x > 0 else x
                return tuple(lo), tuple(shape)
        return tuple(t), tuple(ext)

    def _spatial_access(self, ds, lev, run, ext, above, point):
        """({(multicast, scatter): accesses}, link transfers) of a spatial level."""
        n_el, pts, nbrs = self._elements(ds, run, lev)
        base = Counter(Counter(pts).values())  # multiplicity -> number of groups
        ent: Counter = Counter()
        full = 1
        for e in ext:
            full *= e
        for mc, sc in base.items():
            ent[(mc, sc)] += sc * full
        link = 0
        if not above:
            return ent, link
        dim_terms = self._dim_terms[ds]
        nr = len(ext)
        k = len(above)
        suffix = [1] * (k + 1)
        for j in range(k - 1, -1, -1):
            suffix[j] = suffix[j + 1] * above[j][1]
        ts = []
        inner = [0] * nr
        for d, _, st in above:
            t = [-x for x in inner]
            for r, c in dim_terms[d]:
                t[r] += c * st
                inner[r] += c * st
            ts.append(t)
        t0 = ts[0]
        boxes = [self._dbox(ext, t, j == 0 or t == t0, point) for j, t in enumerate(ts)]
        # each delta relative to the tile it was fetched after (the previous position)
        prevs = []
        for t, bx in zip(ts, boxes, strict=True):
            if bx is None:
                prevs.append(None)
            else:
                prevs.append((tuple(a - x for a, x in zip(bx[0], t, strict=True)), bx[1]))
        origin_full = (tuple([0] * nr), tuple(ext))
        cache: dict = {}

        def info(delta):
            hit = cache.get(delta)
            if hit is None:
                linked = {i for i in range(n_el)
                          if any(tuple(a - b for a, b in zip(pts[j], pts[i], strict=True))
                                 == delta for j in nbrs[i])}
                rest = Counter(Counter(pts[i] for i in range(n_el) if i not in linked).values())
                hit = cache[delta] = (len(linked), rest, sum(rest.values()))
            return hit

        groups = sum(base.values())

        def account(cur, prev, w):
            nonlocal link
            if cur is None or w == 0:
                return
            sz = 1
            for e in cur[1]:
                sz *= e
            if prev is not None and prev[1] == cur[1]:
                delta = tuple(a - b for a, b in zip(cur[0], prev[0], strict=True))
                nl, rest, g = info(delta)
                if nl and g < groups:
                    for mc, sc in rest.items():
                        ent[(mc, sc)] += sc * sz * w
                    link += nl * sz * w
                    return
            for mc, sc in base.items():
                ent[(mc, sc)] += sc * sz * w

        b0 = above[0][1]
        # into iteration 1 of the innermost loop right after the very first call
        account(boxes[0], origin_full, b0 - 1)
        for j in range(1, k):
            bj = above[j][1]
            # loop j advances right after an innermost-loop step
            account(boxes[j], prevs[0], (bj - 1) * suffix[j + 1])
            # the innermost loop steps right after loop j advanced
            account(boxes[0], prevs[j], (b0 - 1) * (bj - 1) * suffix[j + 1])
        return ent, link

    def _run_groups(self, run: tuple[tuple[int, int, int], ...]) -> tuple[int, ...]:
        """Per data space, the number of multicast groups (distinct child deltas) of a run."""
        hit = self._ngroups_cache.get(run)
        if hit is None:
            hit = tuple(sum(g for _, g in self._spatial_groups(ds, run)) if run else 1
                        for ds in range(len(self.proj)))
            self._ngroups_cache[run] = hit
        return hit

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
