"""The mapper: search the mapspace of a :class:`~loomc.timeloop.spec.Spec` for the best mapping.

Settings follow Timeloop's ``mapper:`` section (hyphen or underscore spellings).
``algorithm: cp-sat`` (the default) runs the CP-SAT formulation of
:mod:`loomc.solvers.tiling` and proves optimality or reports a gap; Timeloop's
own algorithms (``exhaustive``, ``linear-pruned``, ``random``,
``random-pruned``, ``hybrid``) are provided as baselines over the same model
(:mod:`loomc.timeloop.mapper_search`).  Every candidate is scored by the
Timeloop-compatible evaluator (:mod:`loomc.timeloop.model`), so the reported
metrics are that evaluator's numbers.

Knobs and their meaning here:

* ``optimization-metrics`` — prioritized list of ``delay``, ``energy``, ``edp``,
  ``last-level-accesses``; compared lexicographically (exactly; Timeloop uses a
  0.1 % tolerance band).
* ``num-threads`` — CP-SAT workers (baselines are single-threaded).
* ``timeout`` — baselines: stop after this many consecutive invalid mappings
  (Timeloop's meaning; 0 stops at the first one).  CP-SAT never proposes
  invalid mappings.
* ``victory-condition`` — stop after this many consecutive valid mappings that
  do not improve the best (0 = off).  For CP-SAT: consecutive exact evaluations
  without improvement.
* ``search-size`` — stop after this many valid mappings (0 = unlimited); for
  CP-SAT the number of exact evaluations.
* ``sync-interval`` — accepted (one search thread: nothing to synchronise).
* ``max-permutations-per-if-visit`` — permutations tried per factorization by
  the ``*-pruned``/``hybrid`` baselines.
* ``log-stats`` / ``log-suboptimal`` — log lines of every improvement / every
  valid mapping; ``live-status`` — a one-line live view on a terminal;
  ``diagnostics`` — count and keep one example of each reason a candidate was
  invalid.
* loomc's own: ``seed`` (all algorithms reproducible), ``time-limit`` (seconds,
  default 60), ``deterministic`` (CP-SAT interleaved search with a
  deterministic time limit; default true).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from loomc.diagnostics import ExitCode, LoomcError, SourceLocation
from loomc.solvers.tiling import SolveOptions, TilingResult, optimize
from loomc.solvers.tiling_spec import (
    SPATIAL_X,
    SPATIAL_Y,
    TEMPORAL,
    LevelRules,
    LevelSpec,
    SpaceSpec,
    TilePoint,
    TilingSpec,
    spatial_rank,
)
from loomc.timeloop.mapping import LevelMapping, Mapping, MappingError, resolve_target
from loomc.timeloop.model import Evaluator, ModelResult
from loomc.timeloop.spec import Spec
from loomc.timeloop.yamlio import Node

ALGORITHMS = ("cp_sat", "exhaustive", "linear_pruned", "random", "random_pruned", "hybrid")
_METRIC_ALIASES = {"delay": "delay", "cycles": "delay", "energy": "energy", "edp": "edp",
                   "last_level_accesses": "last_level_accesses", "lla": "last_level_accesses"}
_BOOL_KNOBS = ("log_stats", "log_suboptimal", "live_status", "diagnostics", "log_oaves",
               "log_oaves_mappings", "penalize_consecutive_bypass_fails", "emit_whoop_nest",
               "filter_revisits", "deterministic")
_INT_KNOBS = ("num_threads", "timeout", "victory_condition", "search_size", "sync_interval",
              "max_permutations_per_if_visit", "log_interval", "seed",
              "max_temporal_loops_in_a_mapping")
_OTHER_KNOBS = ("version", "algorithm", "optimization_metric", "optimization_metrics",
                "out_prefix", "time_limit")


@dataclass(frozen=True)
class MapperOptions:
    """Mapper settings (Timeloop's knobs plus loomc's ``seed``/``time_limit``)."""

    algorithm: str = "cp_sat"
    metrics: tuple[str, ...] = ("edp",)
    num_threads: int = 1
    timeout: int = 1000
    victory_condition: int = 0
    search_size: int = 0
    sync_interval: int = 0
    max_permutations_per_if_visit: int = 16
    log_stats: bool = False
    log_suboptimal: bool = False
    live_status: bool = False
    diagnostics: bool = False
    seed: int = 0
    time_limit: float = 60.0
    deterministic: bool = True
    out_prefix: str = "timeloop-mapper"


def parse_mapper_options(node: Node | None) -> MapperOptions:
    """Read a ``mapper:`` section (keys already normalised to underscores)."""
    if node is None or node.value is None:
        return MapperOptions()
    node.check_keys(_BOOL_KNOBS + _INT_KNOBS + _OTHER_KNOBS)
    kw: dict[str, Any] = {}
    for key in node.mapping():
        sub = node.child(key)
        if sub.value is None or key in ("version",):
            continue
        if key in _BOOL_KNOBS:
            if key in MapperOptions.__dataclass_fields__:
                kw[key] = sub.as_bool()
            else:
                sub.as_bool()
        elif key in _INT_KNOBS:
            if key in MapperOptions.__dataclass_fields__:
                kw[key] = sub.as_int(minimum=0 if key != "seed" else None)
            else:
                sub.as_int()
        elif key == "algorithm":
            alg = sub.as_str().strip().lower().replace("-", "_")
            if alg == "cpsat":
                alg = "cp_sat"
            if alg not in ALGORITHMS:
                raise sub.error(f"unknown algorithm '{sub.value}' (expected one of "
                                f"{', '.join(a.replace('_', '-') for a in ALGORITHMS)})",
                                "TL_VALUE")
            kw["algorithm"] = alg
        elif key in ("optimization_metric", "optimization_metrics"):
            names = []
            for raw in sub.as_str_list():
                name = raw.strip().lower().replace("-", "_")
                if name not in _METRIC_ALIASES:
                    raise sub.error(f"unknown optimization metric '{raw}' (expected delay, "
                                    "energy, edp or last-level-accesses)", "TL_VALUE")
                names.append(_METRIC_ALIASES[name])
            if names:
                kw["metrics"] = tuple(dict.fromkeys(names))
        elif key == "time_limit":
            v = sub.as_float()
            if v <= 0:
                raise sub.error("time-limit must be > 0", "TL_VALUE")
            kw["time_limit"] = v
        elif key == "out_prefix":
            kw["out_prefix"] = sub.as_str()
    return MapperOptions(**kw)


# ----------------------------------------------------------------------------- translation

def build_tiling_spec(spec: Spec, metrics: tuple[str, ...]) -> TilingSpec:
    """The optimizer's view of ``spec``: levels with energies, and the mapspace rules."""
    prob, arch = spec.problem, spec.arch
    nd, nk = len(prob.dims), len(prob.data_spaces)
    keep: list[list[bool | None]] = [[None] * nk for _ in arch.storage]
    rules: list[dict[str, Any]] = [{"factors": {}, "permutation": (), "sx": None, "sy": None,
                                    "sperm": ()} for _ in arch.storage]
    for li, lvl in enumerate(arch.storage):
        if lvl.is_dummy:
            keep[li] = [False] * nk
    names = [ds.name for ds in prob.data_spaces]
    for c in spec.constraints:
        try:
            li = resolve_target(arch, c.target)
        except KeyError as exc:
            raise LoomcError(f"constraint target: {exc.args[0]}", code="TL_CONSTRAINT",
                             exit_code=ExitCode.BAD_INPUT) from None
        r = rules[li]
        if c.kind == "bypass":
            for want, lst in ((True, c.keep), (False, c.bypass)):
                for t in (names if "*" in lst else lst):
                    if t not in names:
                        raise LoomcError(f"constraint on {c.target} names unknown data space "
                                         f"'{t}'", code="TL_CONSTRAINT")
                    keep[li][names.index(t)] = want
            continue
        dims = {}
        for dname, f in c.factors:
            if dname not in prob.dims:
                raise LoomcError(f"constraint on {c.target} names unknown dimension '{dname}'",
                                 code="TL_CONSTRAINT")
            dims[prob.dim_index(dname)] = f
        perm = tuple(prob.dim_index(x) for x in c.permutation if x in prob.dims)
        if c.kind == "temporal":
            r["factors"].setdefault(TEMPORAL, {}).update(dims)
            if perm:
                r["permutation"] = perm
        else:
            if perm:
                r["sperm"] = perm
            if perm and c.split is not None:
                r["sx"] = frozenset(perm[:c.split]) | (frozenset(range(nd)) - frozenset(perm))
                r["sy"] = frozenset(perm[c.split:]) | (frozenset(range(nd)) - frozenset(perm))
            for d, f in dims.items():
                if f == 1:
                    r["factors"].setdefault(SPATIAL_X, {})[d] = 1
                    r["factors"].setdefault(SPATIAL_Y, {})[d] = 1
                elif f > 1:
                    only_y = r["sx"] is not None and d not in r["sx"]
                    r["factors"].setdefault(SPATIAL_Y if only_y else SPATIAL_X, {})[d] = f
                    r["factors"].setdefault(SPATIAL_X if only_y else SPATIAL_Y, {})[d] = 1
    levels = []
    for li, lvl in enumerate(arch.storage):
        fx, fy = arch.fanout_xy(li)
        e = spec.ert.get(lvl.name)
        levels.append(LevelSpec(
            name=lvl.name, instances=lvl.instances, capacity=lvl.size,
            block_size=max(1, lvl.block_size), fanout_x=fx, fanout_y=fy,
            read_energy=e.read if e else 0.0, fill_energy=e.fill if e else 0.0,
            update_energy=e.update if e else 0.0, leak_energy=e.leak if e else 0.0,
            multiple_buffering=lvl.multiple_buffering, keep=tuple(keep[li]),
            read_bandwidth=lvl.read_bandwidth, write_bandwidth=lvl.write_bandwidth,
            shared_bandwidth=lvl.shared_bandwidth))
    ce = spec.ert.get(arch.arithmetic.name)
    return TilingSpec(
        dim_names=tuple(prob.dims), bounds=tuple(prob.bounds),
        spaces=tuple(SpaceSpec(ds.name, ds.projection, ds.read_write)
                     for ds in prob.data_spaces),
        levels=tuple(levels),
        rules=tuple(LevelRules(factors=r["factors"], permutation=r["permutation"],
                               spatial_x=r["sx"], spatial_y=r["sy"],
                               spatial_permutation=r["sperm"]) for r in rules),
        compute_energy=ce.compute if ce else 0.0,
        compute_instances=arch.arithmetic.instances,
        metrics=metrics)


def point_to_mapping(tspec: TilingSpec, pt: TilePoint) -> Mapping:
    """The evaluator's :class:`Mapping` for an optimizer point."""
    nd = len(tspec.bounds)
    levels = []
    for li in range(len(tspec.levels)):
        t = tuple(pt.factor(li, TEMPORAL, d) for d in range(nd))
        fx = [pt.factor(li, SPATIAL_X, d) for d in range(nd)]
        fy = [pt.factor(li, SPATIAL_Y, d) for d in range(nd)]
        s = tuple(a * b for a, b in zip(fx, fy, strict=True))
        # within each axis, loops follow the spatial permutation constraint (if any)
        def rank(d: int, li: int = li) -> tuple[int, int]:
            return spatial_rank(tspec, li, d)

        xs = sorted((d for d in range(nd) if fx[d] > 1), key=rank)
        ys = sorted((d for d in range(nd) if fy[d] > 1 and d not in xs), key=rank)
        rest = [d for d in range(nd) if d not in xs and d not in ys]
        perm = tspec.rules[li].permutation
        levels.append(LevelMapping(
            temporal_factors=t, temporal_order=_full_order(pt.order[li], perm, nd),
            spatial_factors=s, spatial_order=tuple(xs + ys + rest), split=len(xs),
            keep=pt.keep[li]))
    return Mapping(tuple(levels))


def _full_order(order: tuple[int, ...], perm: tuple[int, ...], nd: int) -> tuple[int, ...]:
    seq = list(order) + [d for d in range(nd) if d not in order]
    if perm:
        seq = list(perm) + [d for d in seq if d not in perm]
    return tuple(seq)


def mapping_to_point(tspec: TilingSpec, mapping: Mapping) -> TilePoint:
    """The optimizer point of an evaluator mapping (spatial loops by the mapping's split)."""
    nd = len(tspec.bounds)
    factors = []
    for li, lm in enumerate(mapping.levels):
        fs: dict[str, tuple[int, ...]] = {TEMPORAL: lm.temporal_factors}
        x = [1] * nd
        y = [1] * nd
        for pos, d in enumerate(lm.spatial_order):
            if pos < lm.split:
                x[d] = lm.spatial_factors[d]
            else:
                y[d] = lm.spatial_factors[d]
        slots = tspec.slots(li)
        if SPATIAL_X in slots:
            fs[SPATIAL_X] = tuple(x)
        if SPATIAL_Y in slots:
            fs[SPATIAL_Y] = tuple(y)
        factors.append(fs)
    return TilePoint(tuple(factors), tuple(lm.temporal_order for lm in mapping.levels),
                     tuple(lm.keep for lm in mapping.levels))


def metric_values(result: ModelResult, metrics: tuple[str, ...]) -> tuple[float, ...]:
    """The evaluator's value of each metric (energy in pJ, delay in cycles)."""
    out = []
    for m in metrics:
        if m == "delay":
            out.append(float(result.cycles))
        elif m == "energy":
            out.append(result.energy)
        elif m == "edp":
            out.append(result.energy * result.cycles)
        else:
            top = result.levels[-1]
            out.append(float(sum((d.reads + d.fills + d.updates) * d.utilized_instances
                                 for d in top.data_spaces if d.keep)))
    return tuple(out)


# ----------------------------------------------------------------------------- running

@dataclass(frozen=True)
class MapperResult:
    """The outcome of a mapper run: best mapping, its evaluation, and the search record."""

    algorithm: str
    metrics: tuple[str, ...]
    status: str  # OPTIMAL / FEASIBLE / INFEASIBLE / UNKNOWN
    mapping: Mapping | None
    result: ModelResult | None
    values: tuple[float, ...] | None
    bound: tuple[float, ...] | None
    gap: float | None
    wall_time: float
    evaluated: int
    valid: int
    conflict: tuple[str, ...] = ()
    diagnostics: tuple[tuple[str, int, str], ...] = ()
    log: tuple[str, ...] = field(default=(), compare=False)
    #: improvements of the best mapping: (candidates evaluated so far, wall seconds, metrics)
    history: tuple[tuple[int, float, tuple[float, ...]], ...] = field(default=(),
                                                                compare=False)

    def record(self, with_times: bool = False) -> dict[str, Any]:
        """The solver record (JSON-ready).

        Without ``with_times`` it holds no wall-clock figure, so a reproducible run
        writes the same bytes every time (the ``.solver.json`` file); the times go to
        the terminal and to ``--json``."""
        rec = {
            "algorithm": self.algorithm.replace("_", "-"),
            "optimization_metrics": list(self.metrics),
            "status": self.status,
            "objective": dict(zip(self.metrics, self.values, strict=True)) if self.values
            else None,
            "bound": dict(zip(self.metrics, self.bound, strict=True)) if self.bound else None,
            "gap": self.gap,
            "evaluated": self.evaluated,
            "valid": self.valid,
            "infeasible_because": list(self.conflict),
            "invalid_reasons": [{"reason": r, "count": n, "example": ex}
                                for r, n, ex in self.diagnostics],
            "improvements": [{"evaluated": n, "objective": list(v)}
                             for n, _, v in self.history],
        }
        if with_times:
            rec["wall_time_s"] = round(self.wall_time, 3)
            for entry, (_, t, _) in zip(rec["improvements"], self.history, strict=True):
                entry["time_s"] = round(t, 3)
        return rec


class LiveStatus:
    """A one-line live view on a terminal (Timeloop's ``live-status``), silent elsewhere."""

    def __init__(self, enabled: bool, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.monotonic()

    def update(self, text: str) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.t0
            self.stream.write(f"\r\x1b[2K[{elapsed:7.1f}s] {text}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _fmt(metrics: tuple[str, ...], values: tuple[float, ...] | None) -> str:
    if not values:
        return "-"
    return " ".join(f"{m}={v:.6g}" for m, v in zip(metrics, values, strict=True))


def run_mapper(spec: Spec, options: MapperOptions,
               log: Callable[[str], None] | None = None) -> MapperResult:
    """Search the mapspace of ``spec`` with ``options``; never raises for a bad mapspace."""
    metrics = options.metrics
    tspec = build_tiling_spec(spec, metrics)
    evaluator = Evaluator(spec)
    live = LiveStatus(options.live_status)
    lines: list[str] = []

    def emit(line: str) -> None:
        lines.append(line)
        if log:
            log(line)

    if options.algorithm != "cp_sat":
        from loomc.timeloop.mapper_search import run_baseline

        try:
            return run_baseline(spec, tspec, evaluator, options, live, emit)
        finally:
            live.close()

    valid = 0
    reasons: dict[str, list] = {}

    def exact(pt: TilePoint) -> tuple[float, ...] | None:
        nonlocal valid
        try:
            res = evaluator.evaluate(point_to_mapping(tspec, pt))
        except MappingError as exc:
            # local-search candidates may break capacity or fanout; the evaluator says why
            if options.diagnostics:
                entry = reasons.setdefault(exc.code or "?", [0, exc.message])
                entry[0] += 1
            return None
        valid += 1
        return metric_values(res, metrics)

    def progress(cand, best) -> None:
        if options.log_suboptimal:
            emit(f"evaluated: bound {_fmt(metrics, cand.bound)} exact {_fmt(metrics, cand.exact)}")
        if options.log_stats and cand.exact is not None and best == cand.exact:
            emit(f"improved: {_fmt(metrics, best)}")
        live.update(f"cp-sat: evaluated {valid}  best {_fmt(metrics, best)}")

    opts = SolveOptions(
        time_limit=options.time_limit, num_workers=max(1, options.num_threads),
        seed=options.seed, deterministic=options.deterministic,
        max_iterations=options.search_size or 10_000,
        stall_limit=options.victory_condition or 0, log=emit)
    try:
        res: TilingResult = optimize(tspec, exact, opts, progress)
    finally:
        live.close()
    mapping = point_to_mapping(tspec, res.best) if res.best is not None else None
    result = evaluator.evaluate(mapping) if mapping is not None else None
    diag = tuple((code, n, ex) for code, (n, ex) in sorted(reasons.items()))
    return MapperResult("cp_sat", metrics, res.status, mapping, result, res.best_metrics,
                        res.bound, res.gap, res.wall_time, res.evaluated, valid, res.conflict,
                        diag, tuple(lines), res.history)


def no_mapping_error(res: MapperResult, where: str) -> LoomcError:
    """The error for a run that found no valid mapping, naming the blocking rules."""
    if res.conflict:
        why = "; ".join(res.conflict)
        msg = f"no valid mapping exists: these constraints cannot all hold: {why}"
    else:
        msg = "no valid mapping found within the search budget"
    return LoomcError(msg, loc=SourceLocation(where), code="TL_NO_MAPPING",
                      exit_code=ExitCode.NO_MAPPING)


def with_metrics(options: MapperOptions, metrics: tuple[str, ...]) -> MapperOptions:
    """``options`` with another metric list (helper for the API)."""
    return replace(options, metrics=metrics)


def energy_pj_to_uj(x: float) -> float:
    return x / 1e6 if math.isfinite(x) else x
