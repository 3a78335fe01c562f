"""Map real application DFGs onto Loom's CGRA templates (the scale strategy).

Usage: python bench/mapper_apps.py [--budget S] [--template small] [APP ...]

For each app (default: a spread of sizes) the DFG is mapped onto the given
template with the default reproducible settings; prints a markdown row per app:
ops, template size, path taken (joint model or two-stage window), status,
objective/bound/gap, wall seconds.
"""

from __future__ import annotations

import argparse
import sys
import time

from loomc.corpus import corpus_root
from loomc.graph import model
from loomc.graph.load import adg_from_file, dfgs_from_file
from loomc.mapper.pipeline import MapperOptions, map_dfg
from loomc.mapper.problem import build_candidates, build_problem
from loomc.mapper.scale import JOINT_LIMIT, joint_size


def fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


DEFAULT_APPS = ("vecsum", "cumsum", "relu", "vecadd", "dotprod", "axpy")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--template", default="small")
    ap.add_argument("apps", nargs="*", default=list(DEFAULT_APPS))
    args = ap.parse_args()
    root = corpus_root() / "loom"
    adg = adg_from_file(root / "templates" / f"loom_cgra_{args.template}.fabric.mlir")
    targets = sum(1 for n in model.nodes(adg) if n.is_placement_target)
    print(f"template {args.template}: {targets} placement targets, budget {args.budget}")
    print("| app | ops | path | status | objective | bound | gap | seconds | code |")
    print("|---|---|---|---|---|---|---|---|---|")
    for app in args.apps:
        path = next(iter(sorted(root.glob(f"apps/*/{app}.handshake.mlir"))), None)
        if path is None:
            print(f"| {app} | - | - | missing | | | | | |")
            continue
        dfg = dfgs_from_file(path)[0]
        ops = sum(1 for n in model.nodes(dfg) if not n.is_sentinel)
        try:
            size = joint_size(build_problem(dfg, adg, build_candidates(dfg, adg)).problem)
            route = "joint" if size <= JOINT_LIMIT else "two-stage"
        except Exception:  # noqa: BLE001 - reported by map_dfg below
            route = "-"
        t0 = time.monotonic()
        m = map_dfg(dfg, adg, MapperOptions(budget=args.budget))
        dt = time.monotonic() - t0
        s = m.solver
        print(f"| {app} | {ops} | {route} | {m.status} ({s.status if s else '-'}) | "
              f"{fmt(s and s.objective)} | {fmt(s and s.bound)} | "
              f"{'' if not s or s.gap is None else f'{100 * s.gap:.1f}%'} | {dt:.0f} | "
              f"{m.diagnostics.code or ''} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
