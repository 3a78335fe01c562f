"""Tier 3: generate a fabric for each corpus app, then map the app back onto it.

For every ``$LOOMC_CORPUS/loom/apps/*/*.mlir``: ``--gen-adg`` on that app, then
``loomc --adg GEN --dfgs APP -o OUT --mapper-budget B`` through
:func:`loomc.cli.run`.  Per app it reports fabric size (PEs, switches), DFG ops,
PE/op ratio, generation and mapping time, and the mapper's status and cost from
``OUT.map.json`` (spec-mapper-output.md) with the solver status and gap — or
the mapper's error line when it failed.  Every mapping is checked by the
independent validator (:mod:`loomc.verify`); one that fails counts as INVALID.
Per ``domain-*`` folder it also generates one fabric from all of the folder's
apps and maps each app onto it.

Usage::

    python bench/gen_adg_tier3.py [--budget 60] [--apps PATTERN] [--no-map]
                                  [--track N] [--topology mesh|cube] [--out DIR]

Prints a markdown table on stdout (progress on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from loomc.adg.analysis import analyze_files
from loomc.adg.gen import GenOptions, GenResult, generate
from loomc.diagnostics import LoomcError

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Row:
    scope: str
    app: str
    dfg_ops: int
    pes: int
    switches: int
    ratio: float
    gen_s: float
    map_s: float | None
    status: str
    cost: str
    note: str


def _map(fabric: Path, app: Path, out: Path, budget: float) -> tuple[float, str, str, str]:
    """Run the mapper through the CLI; (seconds, status, cost, note)."""
    from loomc.cli import run

    err = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = run([
                "--adg", str(fabric), "--dfgs", str(app), "-o", str(out),
                "--mapper-budget", str(budget),
            ])
        except Exception as exc:  # the bench must survive a crashing mapper
            code, msg = -1, f"{type(exc).__name__}: {exc}"
            err.write(msg)
    seconds = time.perf_counter() - start
    report = Path(str(out) + ".map.json")
    status, cost = ("ok" if code == 0 else f"exit {code}"), "-"
    if report.is_file():
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
            status = str(data.get("status", status))
            total = (data.get("cost") or {}).get("total")
            cost = f"{total:.3g}" if isinstance(total, int | float) else "-"
            solver = data.get("solver") or {}
            if solver.get("status"):
                gap = solver.get("gap")
                status += f" ({solver['status']}" + (
                    f", gap {gap:.1%})" if isinstance(gap, int | float) else ")")
        except (OSError, ValueError) as exc:
            status = f"bad map.json ({exc})"
    if code == 0:
        bad = _validate(fabric, app, out)
        if bad:
            status, err = "INVALID", io.StringIO(bad[0])
    lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
    note = lines[-1][:120] if lines and code != 0 else ""
    return seconds, status, cost, note


def _validate(fabric: Path, app: Path, out: Path) -> list[str]:
    """The independent validator (loomc.verify) on every output of a mapping."""
    from loomc.mapper.outputs import output_paths
    from loomc.verify import verify_pnr_files

    paths = output_paths(out)
    result = verify_pnr_files(fabric, app, paths[".map.json"], config_path=paths[".config.bin"],
                              addr_path=paths["_addr.h"], configured_path=paths[".fabric.mlir"])
    return [v.one_line() for v in result.violations]


def _row(scope: str, app: Path, result: GenResult, gen_s: float, fabric: Path, out: Path,
         args: argparse.Namespace, dfg_ops: int) -> Row:
    if args.no_map:
        map_s, status, cost, note = None, "gen-only", "-", ""
    else:
        map_s, status, cost, note = _map(fabric, app, out, args.budget)
    return Row(scope, f"{app.parent.name}/{app.stem}", dfg_ops, result.pes, result.switches,
               result.pes / dfg_ops if dfg_ops else 0.0, gen_s, map_s, status, cost, note)


def _gen(files: list[Path], options: GenOptions, dest: Path) -> tuple[GenResult, float, list]:
    start = time.perf_counter()
    analyses = analyze_files([str(f) for f in files])
    result = generate(analyses, options)
    dest.write_text(result.fabric.mlir, encoding="utf-8")
    return result, time.perf_counter() - start, analyses


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.environ.get(
        "LOOMC_CORPUS", str(ROOT.parent / "shared" / "corpus")))
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--apps", default="", help="substring filter on folder/file")
    parser.add_argument("--no-map", action="store_true", help="generation only")
    parser.add_argument("--no-domains", action="store_true")
    parser.add_argument("--track", type=int, default=GenOptions().track)
    parser.add_argument("--topology", default="mesh", choices=["mesh", "cube"])
    parser.add_argument("--switchbox", default=GenOptions().switchbox,
                        choices=["full", "no_u_turn", "disjoint"])
    parser.add_argument("--out", default="", help="keep fabrics and mapper outputs here")
    args = parser.parse_args(argv)
    apps_root = Path(args.corpus) / "loom" / "apps"
    apps = sorted(p for p in apps_root.glob("*/*.mlir") if args.apps in str(p))
    options = GenOptions(topology=args.topology, track=args.track, switchbox=args.switchbox)
    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="tier3_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    for app in apps:
        tag = f"{app.parent.name}__{app.stem}"
        fabric = out_dir / f"{tag}.fabric.mlir"
        try:
            result, gen_s, analyses = _gen([app], options, fabric)
        except LoomcError as err:
            rows.append(Row("app", f"{app.parent.name}/{app.stem}", 0, 0, 0, 0.0, 0.0, None,
                            "gen-failed", "-", err.one_line()[:120]))
            continue
        ops = max(a.n_ops for a in analyses)
        rows.append(_row("app", app, result, gen_s, fabric, out_dir / tag, args, ops))
        print(f"{rows[-1]}", file=sys.stderr, flush=True)
    if not args.no_domains:
        for folder in sorted(p for p in apps_root.glob("domain-*") if p.is_dir()):
            files = sorted(f for f in folder.glob("*.mlir") if args.apps in str(f))
            if not files:
                continue
            fabric = out_dir / f"{folder.name}.fabric.mlir"
            try:
                result, gen_s, analyses = _gen(files, options, fabric)
            except LoomcError as err:
                rows.append(Row(folder.name, "(all)", 0, 0, 0, 0.0, 0.0, None, "gen-failed",
                                "-", err.one_line()[:120]))
                continue
            for f, a in zip(files, analyses, strict=False):
                tag = f"{folder.name}__dom__{f.stem}"
                rows.append(_row(folder.name, f, result, gen_s, fabric, out_dir / tag, args,
                                 a.n_ops))
                print(f"{rows[-1]}", file=sys.stderr, flush=True)
    print(render(rows, args, out_dir))
    return 0


def render(rows: list[Row], args: argparse.Namespace, out_dir: Path) -> str:
    lines = [
        f"Tier 3 (gen-adg then map back): topology {args.topology}, track {args.track}, "
        f"switchbox {args.switchbox}, "
        f"budget {args.budget:g} s, outputs in {out_dir}",
        "",
        "| scope | app | DFG ops | PEs | switches | PE/op | gen s | map s | status | cost | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        map_s = "-" if r.map_s is None else f"{r.map_s:.1f}"
        lines.append(
            f"| {r.scope} | {r.app} | {r.dfg_ops} | {r.pes} | {r.switches} | {r.ratio:.2f} | "
            f"{r.gen_s:.1f} | {map_s} | {r.status} | {r.cost} | {r.note.replace('|', '/')} |"
        )
    apps = [r for r in rows if r.scope == "app" and r.dfg_ops]
    if apps:
        mean = sum(r.ratio for r in apps) / len(apps)
        mapped = sum(1 for r in rows if r.status.startswith(("success", "ok")))
        lines += [
            "",
            f"apps: {len(apps)}, mean PE/op {mean:.3f}, max {max(r.ratio for r in apps):.3f}; "
            f"mapped {mapped}/{len(rows)} runs",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
