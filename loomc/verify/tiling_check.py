"""Validity of a Timeloop tiling mapping, every broken rule reported.

The inputs are read by :mod:`loomc.timeloop` (architecture, problem, mapping
records); the rules are re-stated here so that all violations are listed, not
only the first (Timeloop's mapping rules, as documented in the exercises):

* **T1** one mapping level per storage level; per dimension, the temporal and
  spatial factors over all levels multiply to the problem bound;
* **T2** the spatial factors of a level fit its fanout along X and along Y;
* **T3** the tiles a level keeps fit its effective capacity
  (size / multiple buffering), the tile of a level spanning all loops at and
  below it, its own spatial loops included;
* **T4** the loop orders are permutations of the problem's dimensions;
* **T5** the mapspace constraints given with the inputs (factors, permutations,
  bypass, spatial splits), as listed by :mod:`loomc.timeloop.constraints`.
"""

from __future__ import annotations

from dataclasses import dataclass

from loomc.timeloop.constraints import constraint_violations
from loomc.timeloop.mapping import Mapping
from loomc.timeloop.spec import Spec
from loomc.verify.violation import Violation


@dataclass(frozen=True)
class TilingResult:
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


def _tile_words(spec: Spec, keep: tuple[bool, ...], spans: list[int]) -> int:
    """Words of every kept data-space tile: per rank, the projection's extent
    ``sum(coef * (span - 1)) + 1`` (sliding-window index expressions)."""
    need = 0
    for j, ds in enumerate(spec.problem.data_spaces):
        if j < len(keep) and keep[j]:
            n = 1
            for terms in ds.projection:
                n *= sum(c * (spans[d] - 1) for d, c in terms) + 1
            need += n
    return need


def check_tiling(spec: Spec, mapping: Mapping) -> TilingResult:
    problem, arch = spec.problem, spec.arch
    dims, nd = problem.dims, len(problem.dims)
    out: list[Violation] = []
    if len(mapping.levels) != len(arch.storage):
        out.append(Violation("T1", "", "", f"mapping has {len(mapping.levels)} levels, the "
                             f"architecture {len(arch.storage)}"))
        return TilingResult(tuple(out))
    for d in range(nd):
        prod = 1
        for lm in mapping.levels:
            prod *= lm.temporal_factors[d] * lm.spatial_factors[d]
        if prod != problem.bounds[d]:
            out.append(Violation("T1", dims[d], "", f"factors multiply to {prod}, bound is "
                                 f"{problem.bounds[d]}"))
    spans = [1] * nd
    for i, lm in enumerate(mapping.levels):
        name = arch.storage[i].name
        for label, order in (("temporal", lm.temporal_order), ("spatial", lm.spatial_order)):
            if sorted(order) != list(range(nd)):
                out.append(Violation("T4", label, name, f"{label} order {order} is not a "
                                     f"permutation of {nd} dimensions"))
        fx, fy = arch.fanout_xy(i)
        ux = uy = 1
        for pos, d in enumerate(lm.spatial_order):
            if 0 <= d < nd:
                if pos < lm.split:
                    ux *= lm.spatial_factors[d]
                else:
                    uy *= lm.spatial_factors[d]
        for axis, used, avail in (("X", ux, fx), ("Y", uy, fy)):
            if used > avail:
                out.append(Violation("T2", axis, name, f"spatial factors use {used} along "
                                     f"{axis}, fanout is {avail}"))
        for d in range(nd):
            spans[d] *= lm.temporal_factors[d] * lm.spatial_factors[d]
        cap = arch.storage[i].effective_size
        if cap is not None:
            need = _tile_words(spec, lm.keep, spans)
            if need > cap:
                out.append(Violation("T3", "tiles", name, f"kept tiles need {need} words, "
                                     f"capacity is {cap}"))
    if not out:  # constraint checks assume a well-formed mapping
        for text in constraint_violations(spec, mapping):
            out.append(Violation("T5", "constraint", "", text))
    return TilingResult(tuple(out))


__all__ = ["TilingResult", "check_tiling"]
