"""Mappings: per storage level, the loop factors, loop order, spatial split and bypass.

A Timeloop mapping assigns every problem dimension a factor at every storage
level, temporally (loops over time at that level) and spatially (loops over
the level's fanout to its children).  ``permutation`` lists the dimensions of
a level from the innermost loop outward; dimensions left out go outermost in
problem order.  For spatial loops the first ``split`` dimensions of the
permutation run along the mesh's X axis, the rest along Y.  ``keep`` /
``bypass`` choose which data spaces a level stores; a level not mentioned
keeps everything, except the dummy ``inter_*_spatial`` levels, which keep
nothing, and the backing store, which keeps everything.

:class:`Mapping` is the checked, index-based form the model evaluates;
:func:`parse_mapping` builds it from YAML and :func:`make_mapping` from Python
values (used by the tiling optimizer).  :func:`check_mapping` reports every
rule a mapping breaks with the level, dimension and numbers involved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as AbcMapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from loomc.diagnostics import ExitCode, LoomcError, SourceLocation
from loomc.timeloop.arch import Architecture
from loomc.timeloop.problem import Problem
from loomc.timeloop.yamlio import Node

#: loop kinds in a nest
TEMPORAL, SPATIAL_X, SPATIAL_Y = 0, 1, 2


class MappingError(LoomcError):
    """A mapping that breaks a rule (bad factors, capacity, fanout, unknown level …)."""

    def __init__(self, message: str, code: str, file: str | SourceLocation = "<mapping>"):
        loc = file if isinstance(file, SourceLocation) else SourceLocation(file)
        super().__init__(message, loc=loc, code=code, exit_code=ExitCode.RULE_VIOLATION)


@dataclass(frozen=True)
class LevelMapping:
    """The mapping of one storage level (indices refer to the problem's dims / data spaces).

    ``temporal_order`` / ``spatial_order`` are full permutations of dimension
    indices, innermost first.  ``split``: positions ``< split`` of the spatial
    order are X loops, the rest Y loops.
    """

    temporal_factors: tuple[int, ...]
    temporal_order: tuple[int, ...]
    spatial_factors: tuple[int, ...]
    spatial_order: tuple[int, ...]
    split: int
    keep: tuple[bool, ...]


class Loop(NamedTuple):
    """One loop of the flattened nest (immutable record)."""

    dim: int
    bound: int
    kind: int  # TEMPORAL, SPATIAL_X or SPATIAL_Y
    level: int  # storage level index (innermost = 0)


@dataclass(frozen=True)
class Mapping:
    """A complete mapping, one :class:`LevelMapping` per storage level (innermost first)."""

    levels: tuple[LevelMapping, ...]

    def nest(self) -> tuple[Loop, ...]:
        """Loops innermost first, trivial (bound 1) loops dropped.

        Within a level, spatial loops sit inside the level's temporal loops,
        as in Timeloop's nest.
        """
        loops: list[Loop] = []
        for li, lm in enumerate(self.levels):
            for pos, d in enumerate(lm.spatial_order):
                f = lm.spatial_factors[d]
                if f > 1:
                    loops.append(Loop(d, f, SPATIAL_X if pos < lm.split else SPATIAL_Y, li))
            for d in lm.temporal_order:
                f = lm.temporal_factors[d]
                if f > 1:
                    loops.append(Loop(d, f, TEMPORAL, li))
        return tuple(loops)


# ----------------------------------------------------------------------------- text forms

_FACTOR_TOKEN = re.compile(r"^([A-Za-z_][A-Za-z_0-9]*?)\s*=?\s*(\d+)$")


def parse_factor_text(node: Node) -> list[tuple[str, int]]:
    """``"R=3 P=16"``, ``"C1 M8"``, ``"R=3,P=16"`` or a list of such tokens → [(dim, n)]."""
    v = node.value
    if isinstance(v, list):
        tokens = [str(t) for t in v]
    elif isinstance(v, str):
        tokens = [t for t in re.split(r"[\s,]+", v.strip()) if t]
    else:
        raise node.error(f"factors must be a string or list, got {v!r}", "TL_VALUE")
    out = []
    for t in tokens:
        m = _FACTOR_TOKEN.match(t.strip())
        if not m:
            raise node.error(f"bad factor '{t}' (expected DIM=N or DIMN)", "TL_VALUE")
        out.append((m.group(1), int(m.group(2))))
    return out


def parse_permutation_text(node: Node, dims: Sequence[str] | None = None) -> list[str]:
    """``"RP"`` (one letter per dim), ``"R P"``, ``"R,P"`` or a list → names, innermost first."""
    v = node.value
    if isinstance(v, list):
        return [str(x) for x in v]
    if not isinstance(v, str):
        raise node.error(f"permutation must be a string or list, got {v!r}", "TL_VALUE")
    s = v.strip()
    if re.search(r"[\s,]", s):
        return [t for t in re.split(r"[\s,]+", s) if t]
    if dims is not None and s in dims:
        return [s]
    return list(s)


# ----------------------------------------------------------------------------- building

def resolve_target(arch: Architecture, name: str) -> int:
    """Storage index of a mapping target; a container name means its ``inter_*_spatial`` level."""
    for cand in (name, f"inter_{name}_spatial"):
        try:
            return arch.level_index(cand)
        except KeyError:
            continue
    known = ", ".join(lvl.name for lvl in reversed(arch.storage))
    raise KeyError(f"unknown level '{name}' (levels: {known})")


def make_mapping(
    problem: Problem,
    arch: Architecture,
    temporal: Sequence[AbcMapping[str, int]],
    permutation: Sequence[Sequence[str]] | None = None,
    spatial: Sequence[AbcMapping[str, int]] | None = None,
    spatial_permutation: Sequence[Sequence[str]] | None = None,
    split: Sequence[int] | None = None,
    keep: Sequence[Sequence[str] | None] | None = None,
) -> Mapping:
    """Build a :class:`Mapping` from per-level Python values (innermost level first).

    Every sequence has one entry per storage level.  ``temporal[i]`` /
    ``spatial[i]`` map dimension names to factors (missing → 1);
    ``permutation[i]`` lists dimension names innermost first (missing dims go
    outermost); ``keep[i]`` names the data spaces level ``i`` stores (None →
    the default: everything, or nothing for dummy levels).
    """
    n = len(arch.storage)
    nd = len(problem.dims)
    levels = []
    for i in range(n):
        def vec(m: AbcMapping[str, int] | None) -> tuple[int, ...]:
            out = [1] * nd
            for k, f in (m or {}).items():
                out[problem.dim_index(k)] = int(f)
            return tuple(out)

        def order(p: Sequence[str] | None) -> tuple[int, ...]:
            seq = [problem.dim_index(d) for d in (p or ())]
            return tuple(seq + [d for d in range(nd) if d not in seq])

        t = vec(temporal[i] if i < len(temporal) else None)
        s = vec(spatial[i] if spatial and i < len(spatial) else None)
        tord = order(permutation[i] if permutation and i < len(permutation) else None)
        sord = order(spatial_permutation[i]
                     if spatial_permutation and i < len(spatial_permutation) else None)
        sp = split[i] if split and i < len(split) and split[i] is not None else nd
        k = keep[i] if keep and i < len(keep) else None
        levels.append(LevelMapping(t, tord, s, sord, sp, _keep_vector(problem, arch, i, k)))
    return Mapping(tuple(levels))


def _keep_vector(problem: Problem, arch: Architecture, i: int,
                 keep: Sequence[str] | None) -> tuple[bool, ...]:
    if i == len(arch.storage) - 1:
        return (True,) * len(problem.data_spaces)
    if keep is None:
        return (not arch.storage[i].is_dummy,) * len(problem.data_spaces)
    return tuple(ds.name in keep for ds in problem.data_spaces)


def parse_mapping(node: Node, problem: Problem, arch: Architecture) -> Mapping:
    """Parse a ``mapping:`` list (or ``{mapping: [...]}``) against a problem and architecture."""
    value = node.value
    if isinstance(value, dict) and "mapping" in value:
        node = node.child("mapping")
    nd = len(problem.dims)
    n = len(arch.storage)
    tf: list[dict[int, int]] = [{} for _ in range(n)]
    sf: list[dict[int, int]] = [{} for _ in range(n)]
    tp: list[list[int]] = [[] for _ in range(n)]
    sp: list[list[int]] = [[] for _ in range(n)]
    splits: list[int] = [nd] * n
    keep: list[list[bool] | None] = [None] * n
    for d in node.items():
        d.check_keys(("target", "type", "factors", "permutation", "split", "keep", "bypass",
                      "no_reuse", "no_link_transfer", "no_temporal_reuse", "rmw_first_update",
                      "no_coalesce"))
        for key in ("no_reuse", "no_link_transfer", "no_temporal_reuse", "rmw_first_update",
                    "no_coalesce"):
            if d.has(key) and d.child(key).value:
                raise d.child(key).error(f"'{key}' is not supported by loomc's model",
                                         "TL_UNSUPPORTED")
        if not d.has("target"):
            raise d.error("missing 'target'")
        if not d.has("type"):
            raise d.error("missing 'type'")
        target = d.child("target").as_str()
        kind = d.child("type").as_str()
        try:
            li = resolve_target(arch, target)
        except KeyError as exc:
            raise MappingError(f"{d.path}.target: {exc.args[0]}", "TL_MAP_LEVEL",
                               d.child("target").loc) from None
        if kind in ("temporal", "spatial"):
            if kind == "spatial" and d.has("split"):
                splits[li] = d.child("split").as_int(minimum=0)
                if splits[li] > nd:
                    raise MappingError(
                        f"{d.path}.split: split {splits[li]} exceeds the number of "
                        f"dimensions {nd} at level '{arch.storage[li].name}'", "TL_MAP_SPLIT",
                        d.child("split").loc)
            store = tf[li] if kind == "temporal" else sf[li]
            if d.has("factors") and d.child("factors").value is not None:
                for name, f in parse_factor_text(d.child("factors")):
                    if name not in problem.dims:
                        raise MappingError(
                            f"{d.path}.factors: unknown dimension '{name}' at level "
                            f"'{arch.storage[li].name}' (dimensions: {' '.join(problem.dims)})",
                            "TL_MAP_DIM", d.child("factors").loc)
                    if f < 1:
                        raise MappingError(
                            f"{d.path}.factors: factor of '{name}' must be >= 1, got {f}",
                            "TL_MAP_FACTORS", d.child("factors").loc)
                    store[problem.dim_index(name)] = f
            if d.has("permutation") and d.child("permutation").value is not None:
                names = parse_permutation_text(d.child("permutation"), problem.dims)
                order = []
                for name in names:
                    if name not in problem.dims:
                        raise MappingError(
                            f"{d.path}.permutation: unknown dimension '{name}'",
                            "TL_MAP_DIM", d.child("permutation").loc)
                    order.append(problem.dim_index(name))
                (tp if kind == "temporal" else sp)[li] = order
        elif kind in ("bypass", "datatype", "dataspace"):
            cur = keep[li] if keep[li] is not None else list(
                _keep_vector(problem, arch, li, None))
            for key, val in (("keep", True), ("bypass", False)):
                if d.has(key):
                    for name in d.child(key).as_str_list():
                        try:
                            cur[problem.data_space_index(name)] = val
                        except KeyError:
                            raise MappingError(
                                f"{d.path}.{key}: unknown data space '{name}'",
                                "TL_MAP_DATASPACE", d.child(key).loc) from None
            keep[li] = cur
        elif kind == "skew":
            raise d.child("type").error("skewed mappings are not supported", "TL_UNSUPPORTED")
        else:
            raise d.child("type").error(
                f"unknown mapping directive type '{kind}' (expected temporal, spatial, "
                f"bypass/datatype)", "TL_VALUE")
    levels = []
    for i in range(n):
        def vec(m: dict[int, int]) -> tuple[int, ...]:
            return tuple(m.get(d, 1) for d in range(nd))

        def order(p: list[int]) -> tuple[int, ...]:
            return tuple(p + [d for d in range(nd) if d not in p])

        k = keep[i]
        kv = tuple(k) if k is not None else _keep_vector(problem, arch, i, None)
        if i == n - 1 and not all(kv):
            bad = [problem.data_spaces[j].name for j, x in enumerate(kv) if not x]
            raise MappingError(
                f"the backing store '{arch.storage[i].name}' must keep every data space; "
                f"it bypasses {', '.join(bad)}", "TL_MAP_BYPASS", node.file)
        levels.append(LevelMapping(vec(tf[i]), order(tp[i]), vec(sf[i]), order(sp[i]),
                                   splits[i], kv))
    return Mapping(tuple(levels))


# ----------------------------------------------------------------------------- validity

def tile_spans(problem: Problem, mapping: Mapping) -> list[tuple[int, ...]]:
    """Operation-space span per dimension of each level's tile (temporal and spatial loops
    at and below the level)."""
    nd = len(problem.dims)
    cur = [1] * nd
    out = []
    for lm in mapping.levels:
        for d in range(nd):
            cur[d] *= lm.temporal_factors[d] * lm.spatial_factors[d]
        out.append(tuple(cur))
    return out


def check_mapping(problem: Problem, arch: Architecture, mapping: Mapping,
                  file: str = "<mapping>") -> None:
    """Raise :class:`MappingError` for the first broken rule.

    Rules (Timeloop's): factors of each dimension multiply to its bound; spatial
    factors fit the fanout along X and Y; kept tiles fit each buffer's
    effective capacity (size / multiple buffering).
    """
    nd = len(problem.dims)
    if len(mapping.levels) != len(arch.storage):
        raise MappingError(f"mapping has {len(mapping.levels)} levels, architecture has "
                           f"{len(arch.storage)}", "TL_MAP_LEVEL", file)
    for d in range(nd):
        prod = 1
        for lm in mapping.levels:
            prod *= lm.temporal_factors[d] * lm.spatial_factors[d]
        if prod != problem.bounds[d]:
            parts = " * ".join(
                f"{arch.storage[i].name}:{lm.temporal_factors[d] * lm.spatial_factors[d]}"
                for i, lm in reversed(list(enumerate(mapping.levels))))
            raise MappingError(
                f"factors of dimension {problem.dims[d]} multiply to {prod} ({parts}), "
                f"but the problem bound is {problem.bounds[d]}", "TL_MAP_FACTORS", file)
    for i, lm in enumerate(mapping.levels):
        if not 0 <= lm.split <= nd:
            raise MappingError(f"level '{arch.storage[i].name}': split {lm.split} outside "
                               f"0..{nd}", "TL_MAP_SPLIT", file)
        if max(lm.spatial_factors) == 1:
            continue
        fx, fy = arch.fanout_xy(i)
        ux = uy = 1
        for pos, d in enumerate(lm.spatial_order):
            if pos < lm.split:
                ux *= lm.spatial_factors[d]
            else:
                uy *= lm.spatial_factors[d]
        if ux > fx or uy > fy:
            axis, used, avail = ("X", ux, fx) if ux > fx else ("Y", uy, fy)
            dims = " ".join(f"{problem.dims[d]}{lm.spatial_factors[d]}"
                            for d in lm.spatial_order if lm.spatial_factors[d] > 1)
            raise MappingError(
                f"level '{arch.storage[i].name}': spatial factors ({dims}) use {used} along "
                f"{axis}, but the fanout along {axis} is {avail}", "TL_MAP_FANOUT", file)
    spans = [1] * nd
    for i, lm in enumerate(mapping.levels):
        tf, sf = lm.temporal_factors, lm.spatial_factors
        for d in range(nd):
            spans[d] *= tf[d] * sf[d]
        lvl = arch.storage[i]
        cap = lvl.effective_size
        if cap is None:
            continue
        # A level's tile includes its own spatial loops: it holds what all its
        # children need (Timeloop's storage boundary sits above them).
        need = 0
        for j, ds in enumerate(problem.data_spaces):
            if lm.keep[j]:
                n = 1
                for terms in ds.projection:
                    n *= sum(c * (spans[d] - 1) for d, c in terms) + 1
                need += n
        if need > cap:
            parts = " ".join(f"{ds.name}:{ds.size(tuple(spans))}"
                             for j, ds in enumerate(problem.data_spaces) if lm.keep[j])
            mb = f" (size {lvl.size} / multiple buffering {lvl.multiple_buffering:g})" \
                if lvl.multiple_buffering != 1 else ""
            raise MappingError(
                f"level '{lvl.name}': tiles need {need} words ({parts}), but the "
                f"capacity is {cap}{mb}", "TL_MAP_CAPACITY", file)
