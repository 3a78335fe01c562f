"""``loomc --adg A --dfgs D -o OUT``: load, map, report, write.

Kept apart from the argument parsing so build scripts and tests can run a
mapping from Python with the same behaviour as the command.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from loomc.diagnostics import ExitCode
from loomc.graph.load import adg_from_parsed, dfgs_from_parsed
from loomc.graph.merge import merge_dfgs
from loomc.mapper.mapping import Mapping
from loomc.mapper.outputs import cost_of, write_failure, write_outputs
from loomc.mapper.pipeline import MapperOptions, map_dfg
from loomc.mlir_io import ParsedModule, parse_mlir_file


@dataclass(frozen=True)
class MapRequest:
    adg: ParsedModule
    dfg_paths: tuple[str, ...]
    output: Path
    budget: float = 60.0
    seed: int = 0
    profile: str = "balanced"
    reproducible: bool = True
    quiet: bool = False
    as_json: bool = False
    verbose: bool = False


class _LiveStatus:
    """One self-overwriting status line on a terminal, plain lines otherwise
    (Timeloop's ``live-status`` in spirit)."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()

    def __call__(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + "loomc: " + text)
        else:
            self.stream.write("loomc: " + text + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _summary(mapping: Mapping, paths: list[Path], cost) -> dict:
    solver = mapping.solver
    return {
        "status": mapping.status,
        "dfg": mapping.dfg_name,
        "adg": mapping.adg_name,
        "placed": len(mapping.placement),
        "routed_edges": len(mapping.routes),
        "register_edges": len(mapping.registers),
        "solver": None if solver is None else {
            "status": solver.status, "objective": solver.objective, "bound": solver.bound,
            "gap": solver.gap, "seconds": solver.wall_time,
        },
        "cost": None if cost is None else cost.total,
        "code": mapping.diagnostics.code,
        "message": mapping.diagnostics.message,
        "outputs": [str(p) for p in paths],
    }


def _stderr_line(text: str) -> None:
    print(text, file=sys.stderr)


def run_map_request(req: MapRequest) -> int:
    dfgs = [g for path in req.dfg_paths for g in dfgs_from_parsed(parse_mlir_file(path))]
    dfg = merge_dfgs(dfgs)
    adg = adg_from_parsed(req.adg)
    status = None if req.quiet or req.as_json else _LiveStatus()
    mapping = map_dfg(dfg, adg, MapperOptions(
        budget=req.budget, seed=req.seed, profile=req.profile,
        reproducible=req.reproducible, progress=status,
        search_log=_stderr_line if req.verbose else None,
    ))
    if status:
        status.done()
    req.output.parent.mkdir(parents=True, exist_ok=True)
    if mapping.status != "success":
        paths = write_failure(req.output, mapping, dfg, adg)
        d = mapping.diagnostics
        if req.as_json:
            print(json.dumps(_summary(mapping, paths, None), indent=1))
        else:
            print(f"loomc: error: [{d.code}] {d.message}", file=sys.stderr)
            for node in d.unmapped_nodes[:20]:
                rec = dfg.nodes[node]["record"] if node in dfg else None
                where = f"{rec.loc}: " if rec is not None and rec.loc else ""
                print(f"loomc:   {where}note: conflicting DFG node '{node}'"
                      + (f" ({rec.op_name})" if rec else ""), file=sys.stderr)
            print(f"loomc: diagnostics written to {paths[0]}", file=sys.stderr)
        return int(ExitCode.NO_MAPPING)
    paths = write_outputs(req.output, mapping, dfg, adg, req.adg, req.profile)
    cost = cost_of(mapping, dfg, adg, req.profile)
    if req.as_json:
        print(json.dumps(_summary(mapping, paths, cost), indent=1))
    elif not req.quiet:
        s = mapping.solver
        gap = "" if s.gap is None else f", gap {100 * s.gap:.1f}%"
        bound = "no proven bound" if s.bound is None else f"bound {s.bound:g}"
        regs = f" (+{len(mapping.registers)} in temporal registers)" if mapping.registers else ""
        print(f"loomc: mapped {len(mapping.placement)} ops, {len(mapping.routes)} edges{regs}: "
              f"{s.status} (objective {s.objective:g}, {bound}{gap}), "
              f"cost {cost.total:.4f}, {s.wall_time:.1f}s")
        for p in paths:
            print(f"loomc: wrote {p}")
    return int(ExitCode.OK)
