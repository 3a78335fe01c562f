"""Architecture / mapspace constraints checked against a mapping.

Timeloop constraints pin parts of the mapspace per level: ``factors``
(``D=N`` fixes dimension ``D``'s factor at that level; ``N=0`` leaves it to
the remainder), ``permutation`` (listed dimensions innermost first, inside any
unlisted ones), ``split`` (spatial X/Y division of the permutation) and
``keep``/``bypass`` (data-space residency; ``*`` means all).  Trivial loops
(factor 1) never break an order constraint.
"""

from __future__ import annotations

from loomc.timeloop.arch import ArchConstraint
from loomc.timeloop.mapping import Mapping, MappingError, resolve_target
from loomc.timeloop.spec import Spec


def constraint_violations(spec: Spec, mapping: Mapping) -> list[str]:
    """Every constraint the mapping breaks, one message each (empty: all honoured)."""
    prob, arch = spec.problem, spec.arch
    out: list[str] = []
    for c in spec.constraints:
        try:
            li = resolve_target(arch, c.target)
        except KeyError as exc:
            out.append(f"constraint target: {exc.args[0]}")
            continue
        lm = mapping.levels[li]
        name = arch.storage[li].name
        if c.kind == "bypass":
            out.extend(_bypass(spec, c, li, lm.keep, name))
            continue
        spatial = c.kind == "spatial"
        factors = lm.spatial_factors if spatial else lm.temporal_factors
        order = lm.spatial_order if spatial else lm.temporal_order
        for dname, f in c.factors:
            if dname not in prob.dims:
                out.append(f"{name} {c.kind} constraint: unknown dimension '{dname}'")
                continue
            d = prob.dim_index(dname)
            if f > 0 and factors[d] != f:
                out.append(f"{name} {c.kind} factor of {dname} is {factors[d]}, constraint "
                           f"requires {f}")
        if c.permutation:
            listed = [prob.dim_index(x) for x in c.permutation if x in prob.dims]
            used = [d for d in order if factors[d] > 1]
            seen_unlisted = False
            pos = -1
            for d in used:
                if d in listed:
                    if seen_unlisted or listed.index(d) < pos:
                        out.append(f"{name} {c.kind} loop order "
                                   f"{''.join(prob.dims[x] for x in used)} breaks permutation "
                                   f"constraint {''.join(c.permutation)}")
                        break
                    pos = listed.index(d)
                else:
                    seen_unlisted = True
        if spatial and c.split is not None:
            perm = [prob.dim_index(x) for x in c.permutation if x in prob.dims] or list(order)
            for d in range(len(prob.dims)):
                if factors[d] <= 1 or d not in perm:
                    continue
                want_x = perm.index(d) < c.split
                is_x = list(order).index(d) < lm.split
                if want_x != is_x:
                    out.append(f"{name} spatial loop {prob.dims[d]} runs along "
                               f"{'X' if is_x else 'Y'}, constraint split puts it on "
                               f"{'X' if want_x else 'Y'}")
    return out


def _bypass(spec: Spec, c: ArchConstraint, li: int, keep: tuple[bool, ...],
            name: str) -> list[str]:
    names = [ds.name for ds in spec.problem.data_spaces]
    out = []
    for want, lst in ((True, c.keep), (False, c.bypass)):
        targets = names if "*" in lst else list(lst)
        for t in targets:
            if t not in names:
                out.append(f"{name} constraint names unknown data space '{t}'")
                continue
            if keep[names.index(t)] != want:
                out.append(f"{name} {'bypasses' if want else 'keeps'} {t}, constraint says "
                           f"{'keep' if want else 'bypass'}")
    return out


def check_constraints(spec: Spec, mapping: Mapping, file: str = "<mapping>") -> None:
    """Raise :class:`MappingError` (``TL_MAP_CONSTRAINT``) if any constraint is broken."""
    bad = constraint_violations(spec, mapping)
    if bad:
        raise MappingError("; ".join(bad), "TL_MAP_CONSTRAINT", file)
