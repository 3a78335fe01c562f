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
import tempfile
from pathlib import Path

from loomc.solvers.pnr import SolveParams, solve_feasible

from loomc.corpus import corpus_root
from loomc.graph.load import adg_from_file, dfgs_from_file
from loomc.mapper.decode import decode
from loomc.mapper.mapping import Diagnostics
from loomc.mapper.outputs import output_paths, write_outputs
from loomc.mapper.pipeline import MapperOptions, prepare
from loomc.mlir_io import parse_mlir_file
from loomc.verify import verify_pnr_files


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
            with tempfile.TemporaryDirectory() as tmp:
                base = Path(tmp) / "out"
                write_outputs(base, mapping, dfg, adg, parse_mlir_file(adg_path), "balanced")
                out = output_paths(base)
                result = verify_pnr_files(adg_path, dfg_path, out[".map.json"],
                                          config_path=out[".config.bin"],
                                          addr_path=out["_addr.h"],
                                          configured_path=out[".fabric.mlir"])
            verdict = ("VALID (" + " ".join(result.checked) + ")" if result.ok
                       else f"INVALID: {result.violations[0].one_line()}")
        print(f"| {seed} | {found.status} | {found.deterministic_time:.1f} "
              f"| {found.wall_time:.1f} | {verdict} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
