"""One canonical encoding for mappings that differ only in where a loop sits among
pass-through levels.

Why: architectures such as the Eyeriss-like macro have levels that keep nothing
(the spatial containers ``inter_PE_*``) yet own temporal loops.  Such a level's
temporal loops act only through their place in the sequence of loops between
the keeping levels below and above it: its tile holds nothing, it has one
instance's worth of leakage whatever its loops are, and every keeping level's
tile spans the same product of factors.  So a loop can move from a pass-through
level ``L`` to the innermost place of the level ``U = L + 1`` above without
changing the loop sequence, and the evaluator's counts stay the same.  The many
encodings of one sequence made the CP-SAT proofs hopeless (each encoding is a
separate solution to rule out); the canonical one pushes loops up:

* ``L``'s outermost non-unit loop must be over a dimension that already has a
  non-unit loop at ``U`` (otherwise it could move up), or, when some tensor has
  a sliding window, one that ``U`` splits spatially (``U``'s spatial loops lie
  between the two levels' temporal loops; crossing a spatial loop of its own
  dimension changes a loop's stride, and with it Timeloop's window deltas);
* when no tensor has a sliding window (``merge=True``), that loop must also not
  be ``U``'s innermost non-unit loop: two adjacent loops over one dimension
  count like one loop over their product (no overlap to re-use), so they are
  merged.  With sliding windows Timeloop's representative-iteration deltas can
  tell the split from the merged loop, so the split stays.

:func:`transparent_levels` says which levels qualify (no rules may pin their
temporal loops or the upper level's); :func:`canonical` maps any point to its
canonical twin (used by the tests, which check that the exact evaluator gives
both the same value).  The constraints themselves live in
:class:`loomc.solvers.tiling_model.TilingModel`.
"""

from __future__ import annotations

from loomc.solvers.tiling_spec import TEMPORAL, TilePoint, TilingSpec


def transparent_levels(spec: TilingSpec) -> tuple[int, ...]:
    """Levels whose temporal loops may move up one level without changing any count."""
    out = []
    nl = len(spec.levels)
    for lv in range(nl - 1):
        level = spec.levels[lv]
        # keeps nothing (its leakage then counts one instance, whatever its loops)
        if not level.keep or any(k is not False for k in level.keep):
            continue
        rules, urules = spec.rules[lv], spec.rules[lv + 1]
        if rules.permutation or urules.permutation:
            continue
        if any(v != 1 for v in rules.factors.get(TEMPORAL, {}).values()) or \
                urules.factors.get(TEMPORAL):
            continue
        out.append(lv)
    return tuple(out)


def merge_allowed(spec: TilingSpec) -> bool:
    """Adjacent loops over one dimension may be merged (no tensor has a sliding window)."""
    return not any(ds.sliding() for ds in spec.without_unit_dims().spaces)


def canonical(spec: TilingSpec, pt: TilePoint) -> TilePoint:
    """The canonical encoding of ``pt`` (module docstring); same loop sequence."""
    levels = transparent_levels(spec)
    merge = merge_allowed(spec)
    nd = len(spec.bounds)
    facs = [dict(f) for f in pt.factors]
    orders = [list(o) for o in pt.order]

    def temporal(lv: int) -> list[int]:
        return list(facs[lv].get(TEMPORAL, (1,) * nd))

    changed = True
    while changed:
        changed = False
        for lv in levels:
            t, tu = temporal(lv), temporal(lv + 1)
            nonunit = [d for d in orders[lv] if t[d] > 1]
            if not nonunit:
                continue
            d = nonunit[-1]
            unonunit = [x for x in orders[lv + 1] if tu[x] > 1]
            if tu[d] == 1 and (merge or not _spatial(spec, pt, lv + 1, d)):
                tu[d], t[d] = t[d], 1
                orders[lv + 1] = [d] + [x for x in orders[lv + 1] if x != d]
            elif merge and unonunit and unonunit[0] == d:
                tu[d], t[d] = tu[d] * t[d], 1
            else:
                continue
            facs[lv][TEMPORAL] = tuple(t)
            facs[lv + 1][TEMPORAL] = tuple(tu)
            changed = True
    # unit loops outermost in dimension order, as the model encodes them
    for lv in range(len(orders)):
        t = temporal(lv)
        orders[lv] = [d for d in orders[lv] if t[d] > 1] + sorted(
            d for d in orders[lv] if t[d] <= 1)
    return TilePoint(tuple(facs), tuple(tuple(o) for o in orders), pt.keep)


def _spatial(spec: TilingSpec, pt: TilePoint, lv: int, d: int) -> bool:
    """Level ``lv`` splits dimension ``d`` spatially (a loop of ``d`` moved across that split
    changes its stride, which sliding-window deltas can see)."""
    return any(pt.factor(lv, s, d) > 1 for s in spec.slots(lv) if s != TEMPORAL)


def hoisted(spec: TilingSpec, pt: TilePoint) -> TilePoint:
    """``pt`` with every temporal loop of a chain of pass-through levels moved into the level
    above the chain, loops over one dimension merged at the innermost one's place.

    Without sliding windows this is never worse: a fill count is the tile times every loop
    from the first one that moves the tile outward, and merging a dimension's loops at the
    inner place only lengthens runs of loops that do not move a tile (the tests check it on
    the exact evaluator).  So the optimum has no loops on pass-through levels.
    """
    levels = set(transparent_levels(spec))
    nd = len(spec.bounds)
    facs = [dict(f) for f in pt.factors]
    orders = [list(o) for o in pt.order]
    lv = 0
    while lv < len(spec.levels):
        if lv not in levels:
            lv += 1
            continue
        chain = [lv]
        while chain[-1] + 1 in levels:
            chain.append(chain[-1] + 1)
        top = chain[-1] + 1
        seq: list[int] = []
        prod = [1] * nd
        for c in chain + [top]:
            t = facs[c].get(TEMPORAL, (1,) * nd)
            for d in orders[c]:
                if t[d] > 1:
                    if d not in seq:
                        seq.append(d)
                    prod[d] *= t[d]
            if c != top:
                facs[c][TEMPORAL] = (1,) * nd
        facs[top][TEMPORAL] = tuple(prod)
        orders[top] = seq + [d for d in range(nd) if d not in seq]
        lv = top + 1
    return TilePoint(tuple(facs), tuple(tuple(o) for o in orders), pt.keep)


def hoisted_bound(spec: TilingSpec, pt: TilePoint) -> float:
    """The hoisted relaxation's energy bound of ``pt``: the closed-form bound of
    ``hoisted(pt)`` with window fills below pass-through levels relaxed.  Never above the
    evaluator's energy of ``pt``, so the EDP proof may close a cycle class on mappings
    with empty pass-through levels (``tiling_edp``).

    Why it is sound, term by term (same cycles, spatial factors, keep flags and kept
    tiles: hoisting only moves temporal loops from pass-through levels, which keep
    nothing, into the level above the chain, whose tile spans the same product):

    * served reads, fills of levels above the chain and everything they imply do not see
      the moved loops, so they are equal;
    * a tensor without windows: fills are ``tile x`` every loop from the first one that
      moves the tile outward.  ``hoisted`` puts each dimension's loops at the place of its
      innermost one, so the first moving loop is the same dimension and a loop counted
      for ``hoisted(pt)`` had all of its factors counted for ``pt``: never more;
    * a tensor with windows, a level below the chain: the relaxed count is ``|tile|``
      (or the window union) for the first moving loop with the *least prime factor* of its
      bound (``pt``'s first loop is the same dimension with a divisor > 1 of that bound,
      and the union grows with the bound), times the loops without windows outside it
      (as above), and no window loop outside it (``pt``'s bound counts them or not) —
      raised to :func:`loomc.solvers.tiling_cost.relaxed_window_fills` where that floor
      holds: it is argued on Timeloop's counts for every mapping of the pre-image, so it
      stays under ``pt``'s exact fills, though it may exceed ``pt``'s plain bound;
    * the traffic floors and ``ceil`` to vector accesses are monotone.
    """
    from loomc.solvers.tiling_cost import evaluate_closed_form

    return evaluate_closed_form(spec, hoisted(spec, pt), hoisted=True).energy
