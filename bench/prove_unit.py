"""``--prove-optimal`` on every positive pair of Loom's ``mapper/unit`` suite.

Usage: python bench/prove_unit.py [--budget S] [--filter SUBSTR]

Each pair is mapped (budget 20), its ``map.json`` written, then handed to
``loomc.verify.optimality.prove_pnr_files`` as if it came from elsewhere.
Prints one markdown row per pair: verdict and wall seconds of the proof.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from loomc.corpus import mapper_cases
from loomc.graph.load import adg_from_parsed, dfgs_from_file
from loomc.mapper.outputs import output_paths, write_outputs
from loomc.mapper.pipeline import MapperOptions, map_dfg
from loomc.mlir_io import parse_mlir_file
from loomc.verify.optimality import prove_pnr_files


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--filter", default="")
    args = ap.parse_args()
    proved = total = 0
    slowest = 0.0
    print("| pair | verdict | proof s |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for case in mapper_cases():
            if case.negative or "unit/" not in case.name or args.filter not in case.name:
                continue
            parsed = parse_mlir_file(case.adg)
            adg = adg_from_parsed(parsed)
            dfg = dfgs_from_file(case.dfg)[0]
            mapping = map_dfg(dfg, adg, MapperOptions(budget=20))
            if mapping.status != "success":
                print(f"| {case.name} | not mapped: {mapping.diagnostics.code} | |")
                continue
            base = Path(tmp) / case.folder.name
            write_outputs(base, mapping, dfg, adg, parsed, "balanced")
            t0 = time.monotonic()
            verdict = prove_pnr_files(case.adg, case.dfg, output_paths(base)[".map.json"],
                                      budget=args.budget)
            dt = time.monotonic() - t0
            total += 1
            proved += verdict.line().startswith("optimal")
            slowest = max(slowest, dt)
            print(f"| {case.name} | {verdict.line()} | {dt:.1f} |", flush=True)
    print(f"\n{proved}/{total} proved optimal; slowest proof {slowest:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
