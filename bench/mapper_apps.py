"""Map every real application DFG onto Loom's CGRA templates, smallest first.

Usage: python bench/mapper_apps.py [--budget S] [--templates smoke,small,medium,large]
                                   [--apps SUBSTRING] [--check-only]

For each ``$LOOMC_CORPUS/loom/apps/*/*.handshake.mlir`` and each template in
order: a resource check (tech-mapping, reachability pruning, placement
constraints without routing — :func:`loomc.mapper.pipeline.check_resources`)
rejects a template that cannot hold the app, naming the shortage.  On the first
template that fits, the app is mapped with the given budget (deterministic
seconds; reproducible settings); if that mapping fails, the next fitting
template is tried.  Every mapping is written out and checked by the
independent validator (:mod:`loomc.verify`) before it counts.  One markdown
row per app: ops, where it was rejected and why, where it mapped, solver
status, objective, bound, gap, wall seconds.  The summary counts apps that
fit some template and how many of those mapped.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from loomc.corpus import corpus_root
from loomc.graph import model
from loomc.graph.load import adg_from_file, dfgs_from_file
from loomc.mapper.outputs import output_paths, write_outputs
from loomc.mapper.pipeline import MapperOptions, check_resources, map_dfg
from loomc.mlir_io import parse_mlir_file
from loomc.verify import verify_pnr_files


def _short(message: str, limit: int = 110) -> str:
    message = message.replace("|", "/")
    return message if len(message) <= limit else message[: limit - 3] + "..."


def validate(mapping, dfg, adg, adg_path: Path, dfg_path: Path) -> list[str]:
    """Write every output and check the mapping with the independent validator."""
    with tempfile.TemporaryDirectory() as tmp:
        write_outputs(Path(tmp) / "out", mapping, dfg, adg, parse_mlir_file(adg_path),
                      "balanced")
        out = output_paths(Path(tmp) / "out")
        result = verify_pnr_files(adg_path, dfg_path, out[".map.json"],
                                  config_path=out[".config.bin"], addr_path=out["_addr.h"],
                                  configured_path=out[".fabric.mlir"])
    return [v.one_line() for v in result.violations]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--templates", default="smoke,small,medium,large")
    ap.add_argument("--apps", default="", help="substring filter on folder/file")
    ap.add_argument("--check-only", action="store_true", help="resource checks only")
    args = ap.parse_args()
    root = corpus_root() / "loom"
    paths = {t: root / "templates" / f"loom_cgra_{t}.fabric.mlir"
             for t in args.templates.split(",")}
    templates = [(t, adg_from_file(p)) for t, p in paths.items()]
    print(f"budget {args.budget:g} s per mapping; templates {args.templates}")
    print("| app | ops | rejected (shortage) | mapped on | status | objective | bound | gap "
          "| map s | note |")
    print("|---|---:|---|---|---|---:|---:|---:|---:|---|")
    fits = mapped = total = 0
    for path in sorted(root.glob("apps/*/*.handshake.mlir")):
        name = f"{path.parent.name}/{path.name.removesuffix('.handshake.mlir')}"
        if args.apps and args.apps not in name:
            continue
        total += 1
        dfg = dfgs_from_file(path)[0]
        ops = sum(1 for n in model.nodes(dfg) if not n.is_sentinel)
        rejected, tried, row = [], [], None
        for tname, adg in templates:
            t0 = time.monotonic()
            short = check_resources(dfg, adg)
            if short is not None:
                rejected.append(f"{tname} ({time.monotonic() - t0:.1f}s): {short.code}: "
                                f"{_short(short.message)}")
                continue
            if args.check_only:
                row = (tname, "fits", "", "", "", "", "")
                break
            t0 = time.monotonic()
            m = map_dfg(dfg, adg, MapperOptions(budget=args.budget))
            dt = time.monotonic() - t0
            s = m.solver
            gap = "" if s is None or s.gap is None else f"{s.gap:.1%}"
            if m.status == "success":
                problems = validate(m, dfg, adg, paths[tname], path)
                if problems:
                    tried.append(f"{tname}: INVALID MAPPING {problems[0]}")
                    continue
                row = (tname, s.status, f"{s.objective:g}",
                       "" if s.bound is None else f"{s.bound:g}", gap, f"{dt:.0f}",
                       "; ".join(tried))
                break
            tried.append(f"{tname}: {m.diagnostics.code} ({s.status if s else '-'}, {dt:.0f}s)")
        if row is not None or tried:
            fits += 1
        if row is not None and row[1] != "fits":
            mapped += 1
        where, status, obj, bound, gap, secs, note = row or ("-", "failed", "", "", "", "",
                                                           "; ".join(tried))
        print(f"| {name} | {ops} | {'<br>'.join(rejected)} | {where} | {status} | {obj} | "
              f"{bound} | {gap} | {secs} | {note} |", flush=True)
    print(f"\napps: {total}; fit some template by resources: {fits}; "
          f"mapped: {mapped}/{fits}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
