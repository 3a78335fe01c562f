"""A step-by-step re-enactment of Timeloop's legacy nest analysis, used only as a test oracle.

loomc's model (``loomc.timeloop.nest``) computes the counts in closed form.
This module instead *runs* the procedure Timeloop runs (our own Python, written
from reading nest-analysis.cpp, point-set-aahr.cpp and tiling.cpp at 6e081fc):
the recursive delta computation with two calls per temporal loop (iteration 0
and one representative iteration weighted by ``bound - 1``), box subtraction
with the reset-on-stride-change rule, spatial element 0 simulated and the
others translated, multicast grouping by equal deltas, inter-PE link transfers,
and the tile collapse with bypass masking.  It is slow (exponential in the
number of temporal loops) and meant for small random mappings in tests.
"""

from __future__ import annotations

import math
from collections import Counter

from loomc.timeloop.arch import Architecture
from loomc.timeloop.mapping import TEMPORAL, Mapping
from loomc.timeloop.problem import Problem

Box = tuple[tuple[int, int], ...] | None  # per rank [lo, hi); None = empty


def _cround(x: float) -> int:
    """C's std::round (halves away from zero), unlike Python's round-half-even."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def _size(b: Box) -> int:
    if b is None:
        return 0
    n = 1
    for lo, hi in b:
        n *= hi - lo
    return n


def _subtract(cur: Box, prev: Box) -> Box:
    """AAHR subtraction: partial only when the boxes differ along exactly one rank."""
    if cur is None or prev is None:
        return cur
    if cur == prev:
        return None
    for (clo, chi), (plo, phi) in zip(cur, prev, strict=True):
        if phi <= clo or plo >= chi:
            return cur
    diff = [r for r in range(len(cur)) if cur[r] != prev[r]]
    if len(diff) > 1:
        return cur
    r = diff[0]
    (clo, chi), (plo, phi) = cur[r], prev[r]
    if plo <= clo:
        if phi <= chi:
            lo, hi = phi, chi
        else:
            return None
    else:
        if phi < chi:
            return cur  # fracture: Timeloop keeps the operand
        lo, hi = clo, plo
    if lo >= hi:
        return None
    return cur[:r] + ((lo, hi),) + cur[r + 1:]


class _State:
    def __init__(self, nds: int):
        self.last: list[Box] = [None] * nds
        self.last_t: list[tuple[int, ...] | None] = [None] * nds
        self.acc: list[Counter[int]] = [Counter() for _ in range(nds)]
        self.link = [0] * nds
        self.max_size = [0] * nds
        self.prev_spatial: dict[int, list[Box]] | None = None


class TimeloopSim:
    """Run the legacy analysis for one mapping; :meth:`run` returns per-level tile stats."""

    def __init__(self, problem: Problem, arch: Architecture, mapping: Mapping,
                 link_transfers: bool = True):
        self.prob, self.arch, self.mapping = problem, arch, mapping
        self.link_transfers = link_transfers
        nd = len(problem.dims)
        loops = []  # (dim, bound, kind, level)
        for li, lm in enumerate(mapping.levels):
            for pos, d in enumerate(lm.spatial_order):
                if lm.spatial_factors[d] > 1:
                    loops.append((d, lm.spatial_factors[d], 1 if pos < lm.split else 2, li))
            n0 = len(loops)
            for d in lm.temporal_order:
                if lm.temporal_factors[d] > 1:
                    loops.append((d, lm.temporal_factors[d], TEMPORAL, li))
            if len(loops) == n0:
                loops.append((nd - 1, 1, TEMPORAL, li))
        self.loops = loops
        n = len(loops)
        self.boundary = [k == n - 1 or loops[k + 1][3] != loops[k][3] for k in range(n)]
        self.spatial = [lp[2] != TEMPORAL for lp in loops]
        self.master = [self.spatial[k] and (k == n - 1 or not self.spatial[k + 1])
                       for k in range(n)]
        self.vstride: list[list[int]] = []
        self.high: list[list[int]] = []
        scale = [1] * nd
        for d, b, _, _ in loops:
            self.vstride.append(list(scale))
            scale[d] *= b
            self.high.append([s - 1 for s in scale])
        self.transform = [0] * nd
        self.epochs = 1
        self.nds = len(problem.data_spaces)
        self.states = [_State(self.nds) for _ in loops]
        self.compute_accesses = 0

    # -- geometry --------------------------------------------------------------------------

    def _project(self, lo: list[int], hi: list[int]) -> list[Box]:
        out: list[Box] = []
        for ds in self.prob.data_spaces:
            ranks = []
            for terms in ds.projection:
                a = sum(c * lo[d] for d, c in terms)
                b = sum(c * hi[d] for d, c in terms)
                ranks.append((a, b + 1))
            out.append(tuple(ranks))
        return out

    def _working_set(self, k: int) -> list[Box]:
        lo = list(self.transform)
        hi = [t + h for t, h in zip(self.transform, self.high[k], strict=True)]
        return self._project(lo, hi)

    def _translate(self, boxes: list[Box], off: list[int]) -> list[Box]:
        out: list[Box] = []
        for ds, b in zip(self.prob.data_spaces, boxes, strict=True):
            if b is None:
                out.append(None)
                continue
            shift = [sum(c * off[d] for d, c in terms) for terms in ds.projection]
            out.append(tuple((lo + s, hi + s) for (lo, hi), s in zip(b, shift, strict=True)))
        return out

    # -- recursion ---------------------------------------------------------------------------

    def _deltas(self, k: int) -> list[Box]:
        st = self.states[k]
        if self.spatial[k]:
            self._spatial(k)
        else:
            self._temporal(k, st)
        ps = self._working_set(k)
        if self.boundary[k] or self.master[k]:
            for j in range(self.nds):
                st.max_size[j] = max(st.max_size[j], _size(ps[j]))
        out: list[Box] = []
        for j in range(self.nds):
            cur, prev = ps[j], st.last[j]
            trans = None
            if prev is not None:
                trans = tuple(c[0] - p[0] for c, p in zip(cur, prev, strict=True))
            if st.last_t[j] is None:
                out.append(_subtract(cur, prev))
                st.last[j] = cur
                st.last_t[j] = trans
            elif trans == st.last_t[j]:
                out.append(_subtract(cur, prev))
                st.last[j] = cur
            else:
                out.append(cur)
                st.last[j] = cur
                st.last_t[j] = None
        return out

    def _temporal(self, k: int, st: _State) -> None:
        d, n, _, _ = self.loops[k]
        if k == 0:
            for j in range(self.nds):
                st.acc[j][(1, 1)] += n * self.epochs
            self.compute_accesses += n * self.epochs
            return
        scale = self.vstride[k][d]
        saved = self.transform[d]
        got = [(self._deltas(k - 1), 1)]
        self.transform[d] += scale
        if n >= 2:
            ep = self.epochs
            self.epochs *= n - 1
            got.append((self._deltas(k - 1), n - 1))
            self.epochs = ep
        self.transform[d] = saved
        if self.boundary[k - 1]:
            for j in range(self.nds):
                st.acc[j][(1, 1)] += sum(_size(b[j]) * w for b, w in got) * self.epochs

    def _spatial(self, k: int) -> None:
        st = self.states[k]
        run = []
        m = k
        while m >= 0 and self.spatial[m]:
            run.append(m)
            m -= 1
        below = m  # temporal loop below the run, or -1 (compute)
        # element linear index: mixed radix, outermost loop most significant
        elems: list[tuple[int, list[int]]] = [(0, [0] * len(self.prob.dims))]
        for lk in run:
            d, b, _, _ = self.loops[lk]
            nxt = []
            for idx, off in elems:
                for i in range(b):
                    o = list(off)
                    o[d] += i * self.vstride[lk][d]
                    nxt.append((idx * b + i, o))
            elems = nxt
        deltas: dict[int, list[Box]] = {}
        if below >= 0:
            d0 = self._deltas(below)
            for idx, off in elems:
                deltas[idx] = self._translate(d0, off)
        else:
            for idx, off in elems:
                pt = [t + o for t, o in zip(self.transform, off, strict=True)]
                deltas[idx] = self._project(pt, pt)
                self.compute_accesses += self.epochs
        fx = fy = 1
        for lk in run:
            if self.loops[lk][2] == 1:
                fx *= self.loops[lk][1]
            else:
                fy *= self.loops[lk][1]
        pfx, pfy = self.arch.fanout_xy(self.loops[k][3])
        h, v = max(pfx, fx), max(pfy, fy)

        def multicast(skip: list[set[int]]) -> list[Counter]:
            acc = [Counter() for _ in range(self.nds)]
            for j in range(self.nds):
                groups: Counter = Counter(deltas[i][j] for i in deltas if i not in skip[j])
                per_mc: dict[int, list[int]] = {}
                for box, cnt in groups.items():
                    if _size(box) > 0:
                        per_mc.setdefault(cnt, []).append(_size(box) * self.epochs)
                for mc, sizes in per_mc.items():
                    acc[j][(mc, len(sizes))] += sum(sizes)
            return acc

        without = multicast([set() for _ in range(self.nds)])
        chosen = without
        prev = st.prev_spatial
        if prev is not None and self.link_transfers:
            reuse: list[set[int]] = [set() for _ in range(self.nds)]
            for i in deltas:
                hi_, vi = i % h, i // h
                for nh, nv in ((hi_, vi - 1), (hi_, vi + 1), (hi_ - 1, vi), (hi_ + 1, vi)):
                    if not (0 <= nh < h and 0 <= nv < v):
                        continue
                    nb = nv * h + nh
                    if nb not in prev:
                        continue
                    for j in range(self.nds):
                        if deltas[i][j] is not None and deltas[i][j] == prev[nb][j]:
                            reuse[j].add(i)
            links = [sum(_size(deltas[i][j]) for i in reuse[j]) * self.epochs
                     for j in range(self.nds)]
            with_links = multicast(reuse)
            chosen = []
            for j in range(self.nds):
                if sum(with_links[j].values()) < sum(without[j].values()):
                    st.link[j] += links[j]
                    chosen.append(with_links[j])
                else:
                    chosen.append(without[j])
        for j in range(self.nds):
            st.acc[j].update(chosen[j])
        st.prev_spatial = deltas

    # -- collapse (tiling.cpp) -------------------------------------------------------------

    def run(self) -> list[list[dict[str, int]]]:
        """Per storage level, per data space: size, partition, reads, fills, updates."""
        self._deltas(len(self.loops) - 1)
        nlev = len(self.mapping.levels)
        first = {}
        last = {}
        for k, lp in enumerate(self.loops):
            first.setdefault(lp[3], k)
            last[lp[3]] = k
        out = [[{} for _ in range(self.nds)] for _ in range(nlev)]
        for j in range(self.nds):
            tiles = []
            for lev in range(nlev):
                inner = first[lev]
                while self.spatial[inner] and not self.master[inner]:
                    inner += 1
                fan = 1
                if self.spatial[inner]:
                    m = inner
                    while m >= 0 and self.spatial[m]:
                        fan *= self.loops[m][1]
                        m -= 1
                acc = {k: float(v) for k, v in sorted(self.states[inner].acc[j].items())}
                tiles.append({
                    "size": self.states[last[lev]].max_size[j],
                    "inner_size": self.states[inner].max_size[j],
                    "inner_master": self.master[inner],
                    "acc": acc, "content": sum(acc.values()),
                    "link": float(self.states[inner].link[j]), "fanout": fan,
                    "rep": self._replication(last[lev]),
                    "peer_acc": 0.0, "peer_fill": 0.0, "share": 0.0,
                })
            part = tiles[-1]["size"]
            tiles[-1]["part"] = part
            for lev in range(nlev - 2, -1, -1):
                up = tiles[lev + 1]
                denom = up["inner_size"] if up["inner_master"] else tiles[lev]["size"]
                part = part * tiles[lev]["size"] // denom
                tiles[lev]["part"] = part
            for lev in range(nlev - 1):
                up = tiles[lev + 1]
                share = 0.0
                for (mc, _), a in up["acc"].items():
                    share += (a * mc) / up["fanout"]
                tiles[lev]["share"] = share
            keep = [lm.keep[j] for lm in self.mapping.levels]
            for lev in range(nlev - 1):
                if keep[lev]:
                    continue
                up = tiles[lev + 1]
                weighted = 0.0
                for (mc, _), a in up["acc"].items():
                    weighted += a * mc
                if weighted:
                    factor = (tiles[lev]["content"] * up["fanout"]) / weighted
                    for key in up["acc"]:
                        if up["acc"][key]:
                            up["acc"][key] *= factor
                            up["link"] = 0.0
                    up["content"] = sum(up["acc"].values())
                tiles[lev].update(size=0, part=0, content=0.0, share=0.0)
            top = max(lev for lev in range(nlev) if keep[lev])
            tiles[top]["share"] = 0
            for lev in range(nlev - 1, 0, -1):
                if tiles[lev]["link"]:
                    rep = tiles[lev - 1]["rep"]
                    tiles[lev - 1]["peer_acc"] += tiles[lev]["link"] / rep
                    tiles[lev - 1]["peer_fill"] += tiles[lev]["link"] / rep
            rw = self.prob.data_spaces[j].read_write
            for lev in range(nlev):
                t = tiles[lev]
                if not keep[lev]:
                    out[lev][j] = {"keep": False}
                    continue
                if rw:
                    reads = _cround(t["content"] + t["peer_acc"] - t["part"])
                    fills = _cround(t["share"] + t["peer_fill"]
                                    - (0 if lev == top else t["part"]))
                    upd = _cround(t["content"])
                else:
                    reads = _cround(t["content"] + t["peer_acc"])
                    fills = int(t["share"] + t["peer_fill"])  # stored to an integer
                    upd = 0
                out[lev][j] = {"keep": True, "size": t["size"], "partition_size": t["part"],
                               "reads": reads, "fills": fills, "updates": upd,
                               "link": t["link"]}
        return out

    def _replication(self, k: int) -> int:
        n = 1
        for m in range(k + 1, len(self.loops)):
            if self.spatial[m]:
                n *= self.loops[m][1]
        return n
