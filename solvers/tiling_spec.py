"""Plain data for the tiling optimizer: what may be chosen, and one chosen point.

The CP-SAT formulation (:mod:`loomc.solvers.tiling_model`) and the closed-form cost
model (:mod:`loomc.solvers.tiling_cost`) work on these objects only; they never
read YAML.  ``loomc.timeloop.mapper`` builds a :class:`TilingSpec` from the
parsed Timeloop problem, architecture, ERT and constraints, and turns a
:class:`TilePoint` back into a Timeloop mapping.

Conventions (Timeloop's, see its mapping docs): storage levels are listed
innermost first; each level owns temporal loops (outer part of its nest) and
spatial loops (inner part, the fanout to the level below).  Permutations are
listed innermost loop first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

#: the three loop slots a level owns
TEMPORAL, SPATIAL_X, SPATIAL_Y = "T", "X", "Y"
SLOTS = (TEMPORAL, SPATIAL_X, SPATIAL_Y)

#: metrics understood by ``optimization-metrics``
METRICS = ("delay", "energy", "edp", "last_level_accesses")


@dataclass(frozen=True)
class SpaceSpec:
    """One tensor: per-rank projection terms ``(dim index, coefficient)``."""

    name: str
    projection: tuple[tuple[tuple[int, int], ...], ...]
    read_write: bool = False

    def relevant(self) -> frozenset[int]:
        """Dimensions whose loops move this tensor's tile (others are reuse loops)."""
        return frozenset(d for rank in self.projection for d, c in rank if c != 0)

    def sliding(self) -> frozenset[int]:
        """Dimensions that share a rank with another dimension (convolution windows)."""
        out: set[int] = set()
        for rank in self.projection:
            dims = [d for d, c in rank if c != 0]
            if len(dims) > 1:
                out.update(dims)
        return frozenset(out)

    def size(self, spans: tuple[int, ...]) -> int:
        """Elements of the box touched by an operation box with the given spans."""
        n = 1
        for rank in self.projection:
            n *= sum(c * (spans[d] - 1) for d, c in rank) + 1
        return n


@dataclass(frozen=True)
class LevelSpec:
    """One storage level as the optimizer needs it.

    Energies are picojoules per *vector* access (``block_size`` words), as in
    the ERT; ``leak_energy`` is per instance per cycle.  ``keep[k]`` is True
    (must keep data space k), False (must bypass) or None (free choice).
    """

    name: str
    instances: int
    capacity: int | None
    block_size: int = 1
    fanout_x: int = 1
    fanout_y: int = 1
    read_energy: float = 0.0
    fill_energy: float = 0.0
    update_energy: float = 0.0
    leak_energy: float = 0.0
    multiple_buffering: float = 1.0
    keep: tuple[bool | None, ...] = ()
    #: words per cycle per instance (None = unlimited)
    read_bandwidth: float | None = None
    write_bandwidth: float | None = None
    shared_bandwidth: float | None = None


@dataclass(frozen=True)
class LevelRules:
    """Mapspace constraints on one level (Timeloop ``mapspace_constraints``).

    ``factors[slot][dim]`` fixes a factor (0 = whatever remains, Timeloop's
    residual); ``permutation`` lists dims innermost first (a prefix: the rest
    are outer, in any order); ``spatial_x``/``spatial_y`` restrict which dims
    may use each spatial axis (None = any); ``spatial_permutation`` is the
    constraint's spatial loop order (listed dims innermost first), which the
    emitted mapping follows within each axis.
    """

    factors: dict[str, dict[int, int]] = field(default_factory=dict)
    permutation: tuple[int, ...] = ()
    spatial_x: frozenset[int] | None = None
    spatial_y: frozenset[int] | None = None
    spatial_permutation: tuple[int, ...] = ()
    min_spatial_utilization: float = 0.0


@dataclass(frozen=True)
class TilingSpec:
    """Everything the optimizer chooses over: workload, levels, rules, metrics."""

    dim_names: tuple[str, ...]
    bounds: tuple[int, ...]
    spaces: tuple[SpaceSpec, ...]
    levels: tuple[LevelSpec, ...]
    rules: tuple[LevelRules, ...]
    compute_energy: float = 0.0
    compute_instances: int = 1
    metrics: tuple[str, ...] = ("energy",)

    @property
    def computes(self) -> int:
        n = 1
        for b in self.bounds:
            n *= b
        return n

    def without_unit_dims(self) -> TilingSpec:
        """This spec with projection terms of bound-1 dimensions dropped.

        A dimension of bound 1 never has a non-unit loop and adds ``coef * 0`` to
        every extent, so tile sizes and the evaluator's deltas are unchanged; but
        a rank such as ``R + P`` of a 1x1 convolution stops looking like a sliding
        window, which lets the counts treat it exactly instead of as a bound.
        """
        spaces = tuple(
            replace(ds, projection=tuple(tuple((d, c) for d, c in rank if self.bounds[d] > 1)
                                         for rank in ds.projection))
            for ds in self.spaces)
        return self if spaces == self.spaces else replace(self, spaces=spaces)

    def slots(self, level: int) -> tuple[str, ...]:
        """The loop slots usable at ``level`` (spatial only where there is fanout)."""
        lv = self.levels[level]
        out = [TEMPORAL]
        if lv.fanout_x > 1:
            out.append(SPATIAL_X)
        if lv.fanout_y > 1:
            out.append(SPATIAL_Y)
        return tuple(out)


@dataclass(frozen=True)
class TilePoint:
    """One mapping: factors per (level, slot, dim), temporal order, keep flags.

    ``factors[l][slot]`` is a tuple of one factor per dimension;
    ``order[l]`` lists the dims innermost first (all dims); ``keep[l][k]`` says
    whether level ``l`` keeps data space ``k``.  Spatial loops have no order
    here: the level's spatial permutation rule fixes it (:func:`spatial_rank`),
    and the link rules of :mod:`loomc.solvers.tiling_cost` read it from there.
    """

    factors: tuple[dict[str, tuple[int, ...]], ...]
    order: tuple[tuple[int, ...], ...]
    keep: tuple[tuple[bool, ...], ...]

    def factor(self, level: int, slot: str, dim: int) -> int:
        f = self.factors[level].get(slot)
        return 1 if f is None else f[dim]

    def key(self) -> tuple:
        """A hashable identity that ignores the order of unit loops (they do nothing)."""
        parts = []
        for lv, fs in enumerate(self.factors):
            t = fs.get(TEMPORAL, ())
            nonunit = tuple(d for d in self.order[lv] if t and t[d] > 1)
            parts.append((tuple(sorted((s, v) for s, v in fs.items())), nonunit, self.keep[lv]))
        return tuple(parts)


def spatial_rank(spec: TilingSpec, level: int, d: int) -> tuple[int, int]:
    """Sort key of dimension ``d`` among ``level``'s spatial loops, innermost first: the
    level's spatial permutation rule, then dimension order."""
    perm = spec.rules[level].spatial_permutation
    return (perm.index(d), d) if d in perm else (len(spec.bounds), d)
