"""Map every DFG/ADG pair of Loom's mapper corpus and tabulate the outcome.

Usage: python bench/mapper_corpus.py [--budget S] [--filter SUBSTR] [--json OUT]

Pairs: each folder of mapper/{unit,smoke} and stress/temporal-* maps every DFG in
it onto every ADG in it; a folder with ``.negative`` must fail; ``.xfail``
folders are reported either way; ``stress/*-noMem-negative`` maps the app its
``stress.cfg`` names onto ``noMem.fabric.mlir`` and must fail.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from loomc.corpus import mapper_cases
from loomc.diagnostics import LoomcError
from loomc.graph.load import adg_from_file, dfgs_from_file
from loomc.mapper.pipeline import MapperOptions, map_dfg


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=20.0)
    ap.add_argument("--filter", default="")
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    for case in mapper_cases():
        adg, dfg, negative, name = case.adg, case.dfg, case.negative, case.name
        if args.filter not in name:
            continue
        t0 = time.monotonic()
        try:
            m = map_dfg(
                dfgs_from_file(dfg)[0], adg_from_file(adg), MapperOptions(budget=args.budget)
            )
            status, code = m.status, m.diagnostics.code
            solver = m.solver
            sol = (solver.status, solver.objective, solver.bound, solver.gap) if solver else None
        except LoomcError as err:
            status, code, sol = "error", err.one_line(), None
        dt = time.monotonic() - t0
        ok = (code == case.expected_code) if negative else (status == "success")
        rows.append(
            dict(
                pair=name,
                expect="fail" if negative else "map",
                xfail=case.xfail,
                status=status,
                code=code,
                solver=sol,
                seconds=round(dt, 2),
                ok=ok,
            )
        )
        print(
            f"{'OK ' if ok else 'BAD'} {name:70s} {status:8s} {code or ''} {sol} {dt:.1f}s",
            flush=True,
        )
    good = sum(r["ok"] for r in rows)
    print(f"{good}/{len(rows)} as expected")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
