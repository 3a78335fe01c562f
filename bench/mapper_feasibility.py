"""Is an app mappable on a template at all?  Plain satisfiability search per seed.

Usage: python bench/mapper_feasibility.py APP TEMPLATE [--budget UNITS] [--seeds 0,1,2,3]

``APP`` is a path under ``$LOOMC_CORPUS/loom/apps`` without ``.handshake.mlir``
(e.g. ``domain-matrix/matvec``), ``TEMPLATE`` one of smoke/small/medium/large.
For each seed, :func:`loomc.solvers.pnr.solve_feasible` (the joint model without
its objective, one worker, no LP) runs for ``--budget`` deterministic units; a
mapping it finds is decoded, written out and checked by the independent
validator before it counts.  One markdown row per seed: status, deterministic
units, wall seconds, validator verdict.  Used for the apps the mapper leaves
UNKNOWN (bench/RESULTS.md §3): a found mapping shows the UNKNOWN is a search
limit, not infeasibility.
"""

from __future__ import annotations

import argparse

from loomc.solvers.pnr import SolveParams, solve_feasible
from mapper_apps import validate  # the same check as the app table

from loomc.corpus import corpus_root
from loomc.graph.load import adg_from_file, dfgs_from_file
from loomc.mapper.decode import decode
from loomc.mapper.mapping import Diagnostics
from loomc.mapper.pipeline import MapperOptions, prepare


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("app")
    ap.add_argument("template")
    ap.add_argument("--budget", type=float, default=120.0, help="deterministic units per seed")
    ap.add_argument("--seeds", default="0,1,2,3")
    args = ap.parse_args()
    root = corpus_root() / "loom"
    dfg_path = root / "apps" / f"{args.app}.handshake.mlir"
    adg_path = root / "templates" / f"loom_cgra_{args.template}.fabric.mlir"
    dfg, adg = dfgs_from_file(dfg_path)[0], adg_from_file(adg_path)
    ip = prepare(dfg, adg, MapperOptions())
    if isinstance(ip, Diagnostics):
        print(f"{args.app} on {args.template}: rejected before solving: {ip.message}")
        return 1
    print(f"{args.app} on {args.template}, budget {args.budget:g} deterministic units per seed\n")
    print("| seed | status | det units | wall s | validator |")
    print("|---:|---|---:|---:|---|")
    for seed in (int(s) for s in args.seeds.split(",")):
        params = SolveParams(seed=seed, deterministic_time=args.budget,
                             wall_time=10 * args.budget)
        found = solve_feasible(ip.problem, params)
        verdict = "-"
        if found.feasible:
            mapping = decode(ip, found, dfg, adg, profile="balanced", params=params)
            broken = validate(mapping, dfg, adg, adg_path, dfg_path)
            verdict = f"INVALID: {broken[0]}" if broken else "VALID (C1-C6)"
        print(f"| {seed} | {found.status} | {found.deterministic_time:.1f} "
              f"| {found.wall_time:.1f} | {verdict} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
