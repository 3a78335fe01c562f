"""A complete model input: problem, architecture, energy/area tables, constraints, mapper knobs.

:func:`load_spec` turns merged Timeloop inputs (:class:`~loomc.timeloop.yamlio.Inputs`)
into a frozen :class:`Spec`; the mapping is parsed separately
(:func:`load_mapping`) because the optimizer evaluates many mappings per spec.

Energy tables: when the inputs carry no ``ERT`` section, :func:`find_tables`
looks for ``*ERT.yaml`` / ``*ART.yaml`` next to the input files (this is where
Timeloop/Accelergy write them).  Without an ERT, energies are reported as 0
and :attr:`Spec.ert_source` says so — counts and cycles do not need it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loomc.timeloop.arch import ArchConstraint, Architecture, parse_architecture, parse_constraint
from loomc.timeloop.ert import ActionEnergies, parse_art, parse_ert
from loomc.timeloop.mapping import Mapping, parse_mapping
from loomc.timeloop.problem import Problem, parse_problem
from loomc.timeloop.yamlio import Inputs, Node, SpecError, parse_yaml_text, section

#: every knob of Timeloop's mapper section (underscore spelling; hyphens are normalised)
MAPPER_KNOBS: dict[str, type | tuple[type, ...]] = {
    "version": (str, int, float),
    "out_prefix": str,
    "num_threads": int,
    "optimization_metric": (list, str),
    "optimization_metrics": (list, str),
    "search_size": (int, type(None)),
    "timeout": (int, type(None)),
    "victory_condition": (int, type(None)),
    "sync_interval": (int, type(None)),
    "log_interval": (int, type(None)),
    "log_oaves": bool,
    "log_oaves_mappings": bool,
    "log_stats": bool,
    "log_suboptimal": bool,
    "live_status": bool,
    "diagnostics": bool,
    "penalize_consecutive_bypass_fails": bool,
    "emit_whoop_nest": bool,
    "max_temporal_loops_in_a_mapping": int,
    "algorithm": str,
    "filter_revisits": bool,
    "max_permutations_per_if_visit": int,
}

_ALGORITHMS = ("random", "exhaustive", "linear_pruned", "random_pruned", "hybrid")
_METRICS = ("delay", "energy", "edp", "last_level_accesses", "lla", "cycles", "area")


@dataclass(frozen=True)
class MapperSettings:
    """Timeloop mapper knobs (defaults as Timeloop's front end fills them)."""

    algorithm: str = "hybrid"
    optimization_metrics: tuple[str, ...] = ("edp",)
    num_threads: int = 8
    search_size: int = 0
    timeout: int = 1000
    victory_condition: int = 0
    sync_interval: int = 0
    log_interval: int = 1
    max_permutations_per_if_visit: int = 16
    max_temporal_loops_in_a_mapping: int = -1
    filter_revisits: bool = False
    penalize_consecutive_bypass_fails: bool = False
    out_prefix: str = "timeloop-mapper"
    flags: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class Spec:
    """Everything but the mapping."""

    problem: Problem
    arch: Architecture
    ert: dict[str, ActionEnergies] = field(compare=False, hash=False)
    art: dict[str, float] = field(compare=False, hash=False)
    constraints: tuple[ArchConstraint, ...] = ()
    mapper: MapperSettings = MapperSettings()
    ert_source: str = "none"


def parse_mapper(node: Node) -> MapperSettings:
    """Validate a ``mapper:`` section against Timeloop's knob list."""
    if node.value is None:
        return MapperSettings()
    m = node.mapping()
    node.check_keys(MAPPER_KNOBS)
    kw: dict[str, Any] = {}
    flags = []
    for key, val in m.items():
        if key == "version":
            continue
        want = MAPPER_KNOBS[key]
        sub = node.child(key)
        if want is bool:
            flags.append((key, sub.as_bool()))
            continue
        if key in ("optimization_metric", "optimization_metrics"):
            metrics = tuple(sub.as_str_list())
            for x in metrics:
                if x not in _METRICS:
                    raise sub.error(f"unknown optimization metric '{x}' (expected one of "
                                    f"{', '.join(_METRICS)})", "TL_VALUE")
            if metrics:
                kw["optimization_metrics"] = metrics
            continue
        if key == "algorithm":
            alg = sub.as_str().replace("-", "_")
            if alg not in _ALGORITHMS:
                raise sub.error(f"unknown algorithm '{alg}' (expected one of "
                                f"{', '.join(_ALGORITHMS)})", "TL_VALUE")
            kw["algorithm"] = alg
            continue
        if key == "out_prefix":
            kw[key] = sub.as_str()
            continue
        if val is None:
            continue
        kw[key] = sub.as_int()
    return MapperSettings(**kw, flags=tuple(sorted(flags)))


def parse_constraint_list(node: Node) -> tuple[ArchConstraint, ...]:
    """``mapspace_constraints`` / ``architecture_constraints`` / ``mapspace``: ``targets`` list."""
    if node.value is None:
        return ()
    v = node.value
    if isinstance(v, dict):
        node.check_keys(("version", "targets", "template"))
        if not node.has("targets") or not node.child("targets").value:
            return ()
        items = node.child("targets").items()
    else:
        items = node.items()
    out = []
    for c in items:
        kind = c.child("type").as_str() if c.has("type") else ""
        if kind in ("datatype", "dataspace"):
            kind = "bypass"
        if kind not in ("temporal", "spatial", "bypass"):
            raise c.child("type").error(f"unknown constraint type '{kind}'", "TL_VALUE")
        out.append(parse_constraint(c, c.child("target").as_str(), kind))
    return tuple(out)


_KNOWN_TOP = ("architecture", "problem", "mapping", "mapper", "mapspace", "mapspace_constraints",
              "architecture_constraints", "ERT", "ART", "compound_components", "globals",
              "dumped_by_timeloop_front_end", "variables", "components", "sparse_optimizations",
              "ERT_summary", "ART_summary", "constraints")


def load_spec(inputs: Inputs, search_dirs: Iterable[Path] = ()) -> Spec:
    """Build a :class:`Spec` from merged inputs (architecture and problem are required)."""
    for key in inputs.data:
        if key not in _KNOWN_TOP:
            raise section(inputs, key).error(f"unknown top-level key '{key}'")
    if "sparse_optimizations" in inputs and inputs.get("sparse_optimizations"):
        raise SpecError("sparse optimizations are not supported: loomc models dense workloads "
                        "only", file=inputs.where("sparse_optimizations"),
                        path="sparse_optimizations", code="TL_SPARSE")
    for key in ("architecture", "problem"):
        if key not in inputs:
            raise SpecError(f"no '{key}' section in the inputs", file="<inputs>", path="",
                            code="TL_MISSING")
    problem = parse_problem(section(inputs, "problem"))
    arch, arch_cons = parse_architecture(section(inputs, "architecture"))
    cons = list(arch_cons)
    for key in ("architecture_constraints", "mapspace_constraints", "mapspace", "constraints"):
        if key in inputs:
            cons.extend(parse_constraint_list(section(inputs, key)))
    mapper = parse_mapper(section(inputs, "mapper")) if "mapper" in inputs else MapperSettings()
    ert_node = section(inputs, "ERT") if "ERT" in inputs else None
    art_node = section(inputs, "ART") if "ART" in inputs else None
    source = "inputs" if ert_node is not None else "none"
    if ert_node is None or art_node is None:
        found_ert, found_art = find_tables(search_dirs)
        if ert_node is None and found_ert is not None:
            ert_node, source = found_ert, f"found {found_ert.file}"
        if art_node is None:
            art_node = found_art
    ert = parse_ert(ert_node) if ert_node is not None else {}
    art = parse_art(art_node) if art_node is not None else {}
    return Spec(problem, arch, ert, art, tuple(cons), mapper, source)


def find_tables(dirs: Iterable[Path]) -> tuple[Node | None, Node | None]:
    """Look for ``*ERT.yaml`` and ``*ART.yaml`` in ``dirs`` (first match wins)."""
    ert = art = None
    for d in dirs:
        for pattern, which in (("*ERT.yaml", "ERT"), ("*ART.yaml", "ART")):
            if (ert if which == "ERT" else art) is not None:
                continue
            for p in sorted(Path(d).glob(pattern)):
                data, positions = parse_yaml_text(p.read_text(), str(p))
                if which in data:
                    node = Node(data[which], str(p), which, positions)
                    if which == "ERT":
                        ert = node
                    else:
                        art = node
                    break
    return ert, art


def load_mapping(inputs: Inputs, spec: Spec) -> Mapping:
    """Parse the ``mapping`` section of the inputs against ``spec``."""
    if "mapping" not in inputs or not inputs.get("mapping"):
        raise SpecError("no 'mapping' section in the inputs", file="<inputs>", path="mapping",
                        code="TL_MISSING")
    return parse_mapping(section(inputs, "mapping"), spec.problem, spec.arch)
