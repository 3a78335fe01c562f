"""``--prove-optimal``: is there a cheaper mapping than the one given?

Unlike the checkers, this module *does* use the solvers — it re-solves the
same problem and compares.  Answers (spec of issue 7):

* ``optimal (proved)`` — the solver proved its optimum and that optimum costs
  no less than the given mapping;
* ``improvable: found COST < GIVEN`` — a cheaper valid mapping was found (and
  written when an output path is given);
* ``unknown within budget: bound B, gap G%`` — neither.

Place-and-route cost is :func:`loomc.mapper.cost.mapping_cost` (the number in
``map.json``); the CP-SAT objective is a different, integer proxy, so a proof
holds only when the solver's proved-optimal mapping also has the lowest
``mapping_cost`` we know of — otherwise the answer stays ``unknown``.  Tiling
cost is the mapper's first optimisation metric, evaluated by the Timeloop model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from loomc.verify.violation import Violation

_EPS = 1e-9


@dataclass(frozen=True)
class Verdict:
    kind: str  # "optimal" / "improvable" / "unknown"
    given: float
    found: float | None
    bound: float | None
    gap: float | None
    written: str | None = None
    check: tuple[Violation, ...] = ()
    metrics: tuple[str, ...] = ()
    given_all: tuple[float, ...] = ()
    found_all: tuple[float, ...] = ()

    def as_dict(self) -> dict:
        """JSON form (``loomc verify --json``): the verdict and its numbers."""
        out = {"verdict": self.kind, "given": self.given, "found": self.found,
               "bound": self.bound, "gap": self.gap, "written": self.written}
        if self.metrics:
            out["metrics"] = list(self.metrics)
            out["given_all"] = list(self.given_all)
            out["found_all"] = list(self.found_all)
        if self.check:
            out["solver_mapping_violations"] = [v.as_dict() for v in self.check]
        return out

    def line(self) -> str:
        if self.kind == "optimal":
            return "optimal (proved)"
        if self.kind == "improvable":
            where = f" (written to {self.written})" if self.written else ""
            if self.metrics:
                found = ", ".join(f"{m}={v:.6g}" for m, v in zip(self.metrics, self.found_all,
                                                                   strict=False))
                given = ", ".join(f"{m}={v:.6g}" for m, v in zip(self.metrics, self.given_all,
                                                                   strict=False))
                return f"improvable: found {found} < {given}{where}"
            return f"improvable: found {self.found:.6g} < {self.given:.6g}{where}"
        b = "-" if self.bound is None else f"{self.bound:.6g}"
        g = "-" if self.gap is None else f"{100 * self.gap:.2f}"
        why = f" (the solver's mapping is invalid: {self.check[0].one_line()})" \
            if self.check else ""
        return f"unknown within budget: bound {b}, gap {g}%{why}"


def _relative_gap(best: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    return max(0.0, best - bound) / max(abs(best), _EPS)


def prove_pnr(doc, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph, *, budget: float = 60.0,
              seed: int = 0, output: Path | None = None, fabric=None) -> Verdict:
    """Re-map ``dfg`` on ``adg`` and compare with the given mapping ``doc``."""
    from loomc.mapper.cost import mapping_cost
    from loomc.mapper.pipeline import MapperOptions, map_dfg
    from loomc.verify.pnr_check import check_pnr

    profile = doc.profile or "balanced"
    given = mapping_cost(doc.to_mapping(), dfg, adg, profile).total
    new = map_dfg(dfg, adg, MapperOptions(budget=budget, seed=seed, profile=profile))
    if new.status != "success":
        return Verdict("unknown", given, None, None, None)
    from loomc.verify.mapfile import doc_from_mapping

    # the new mapping is held to the same standard as any other
    problems = check_pnr(doc_from_mapping(new), dfg, adg)
    found = mapping_cost(new, dfg, adg, profile).total
    solver = new.solver
    if not problems and found < given - 1e-6:
        written = None
        if output is not None and fabric is not None:
            from loomc.mapper.outputs import write_outputs

            write_outputs(output, new, dfg, adg, fabric, profile)
            written = str(output) + ".map.json"
        return Verdict("improvable", given, found, None, None, written)
    if solver is not None and solver.status == "OPTIMAL" and not problems and \
            found >= given - 1e-6:
        return Verdict("optimal", given, found, solver.bound, 0.0)
    bound = solver.bound if solver else None
    return Verdict("unknown", given, found, bound,
                   solver.gap if solver and solver.gap is not None else None, check=problems)


def prove_pnr_files(adg_path, dfgs_path, map_path, *, budget: float = 60.0,
                    output: Path | None = None) -> Verdict:
    from loomc.graph.load import adg_from_parsed, dfgs_from_file
    from loomc.mlir_io import parse_mlir_file
    from loomc.verify.mapfile import read_map_json
    from loomc.verify.pnr import select_dfg

    doc = read_map_json(map_path)
    fabric = parse_mlir_file(adg_path)
    adg = adg_from_parsed(fabric)
    dfg = select_dfg(dfgs_from_file(dfgs_path), doc.dfg_name, str(dfgs_path))
    return prove_pnr(doc, dfg, adg, budget=budget, output=output, fabric=fabric)


def prove_tiling(spec, mapping, *, budget: float = 60.0, options=None,
                 output: Path | None = None) -> Verdict:
    """Run the CP-SAT tiling optimizer on the same spec (its mapspace constraints
    included) and compare metric vectors lexicographically, in the mapper
    section's ``optimization_metrics`` order (Timeloop's comparison)."""
    from dataclasses import replace

    from loomc.timeloop.mapper import MapperOptions, metric_values, run_mapper
    from loomc.timeloop.model import evaluate

    options = replace(options or MapperOptions(), algorithm="cp_sat", time_limit=budget,
                      live_status=False)
    metrics = options.metrics
    given_v = metric_values(evaluate(spec, mapping, check=False), metrics)
    res = run_mapper(spec, options)
    if res.mapping is None or not res.values:
        bound = res.bound[0] if res.bound else None
        return Verdict("unknown", given_v[0], None, bound, _relative_gap(given_v[0], bound))
    found_v = tuple(res.values)
    from loomc.verify.tiling_check import check_tiling

    problems = check_tiling(spec, res.mapping).violations
    if problems:  # held to the same standard as the given mapping
        return Verdict("unknown", given_v[0], found_v[0], None, None, check=problems)
    if _lex_less(found_v, given_v):
        written = None
        if output is not None:
            from loomc.timeloop.emit_map import map_yaml

            output.write_text(map_yaml(spec, res.mapping))
            written = str(output)
        return Verdict("improvable", given_v[0], found_v[0], None, None, written,
                       metrics=metrics, given_all=given_v, found_all=found_v)
    if res.status == "OPTIMAL":
        return Verdict("optimal", given_v[0], found_v[0], res.bound[0] if res.bound else None,
                       0.0, metrics=metrics, given_all=given_v, found_all=found_v)
    bound = res.bound[0] if res.bound else None
    return Verdict("unknown", given_v[0], found_v[0], bound, _relative_gap(given_v[0], bound),
                   metrics=metrics, given_all=given_v, found_all=found_v)


def _lex_less(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """``a`` better than ``b`` by more than rounding, first differing metric decides."""
    for x, y in zip(a, b, strict=False):
        if x < y * (1 - 1e-9) - _EPS:
            return True
        if x > y * (1 + 1e-9) + _EPS:
            return False
    return False


__all__ = ["Verdict", "prove_pnr", "prove_pnr_files", "prove_tiling"]
