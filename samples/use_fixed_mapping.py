"""The fixed-mapping workflow with loomc's Timeloop API, on a bundled macro and layer.

Run from the project root::

    .venv/bin/python samples/use_fixed_mapping.py [--time SECONDS] [--out DIR] [--workers N]

1. Evaluate the hand-written ``samples/example_mapping.yaml`` (no search: the
   model only, like ``timeloop-model``).
2. Search for a mapping with the CP-SAT mapper (``run_layer``), save it
   (``save_best_mapping``) and re-evaluate the saved file
   (``run_layer_with_mapping``): the statistics are identical.
3. Sweep the global buffer size in parallel from the API: each worker gets an
   edited copy of the specification (specs pickle as plain data) and runs the
   mapper on it; the fixed mapping is re-evaluated on each size too (where its
   tiles no longer fit, the model says so).  joblib is used when installed,
   otherwise ``concurrent.futures.ProcessPoolExecutor``.

Exit status 0 when every step worked (the round trip matched).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loomc.timeloop.api import (
    Specification,
    call_mapper,
    layer_spec,
    run_layer,
    run_layer_with_mapping,
    run_with_mapping,
    save_best_mapping,
)
from loomc.timeloop.emit_stats import stats_text
from loomc.timeloop.mapping import MappingError

MACRO = "eyeriss_like"
LAYER = "dnn/resnet50/layers/res3a_branch2b"
HERE = Path(__file__).resolve().parent
EXAMPLE = HERE / "example_mapping.yaml"


def sweep_point(spec: Specification, depth: int, budget: float) -> tuple[int, str, float, str]:
    """One sweep point (runs in a worker): GlobalBuffer depth → mapper status, EDP, fixed map."""
    spec.architecture.find("GlobalBuffer").attributes.depth = depth
    run = call_mapper(spec, metrics=("edp",), time_limit=budget)
    edp = run.result.values[0] if run.result.values else float("nan")
    try:
        fixed = run_with_mapping(spec, EXAMPLE)
        fixed_text = f"{fixed.energy * fixed.cycles:.4g}"
    except MappingError as exc:
        fixed_text = f"invalid ({exc.code})"
    return depth, run.result.status, edp, fixed_text


def parallel_sweep(depths: list[int], budget: float, workers: int) -> list[tuple]:
    """Run :func:`sweep_point` for every depth in parallel worker processes."""
    base = layer_spec(MACRO, LAYER)
    jobs = [(base.copy(), d, budget) for d in depths]
    try:
        from joblib import Parallel, delayed
    except ImportError:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(sweep_point, *zip(*jobs, strict=True)))
    return Parallel(n_jobs=workers)(delayed(sweep_point)(*job) for job in jobs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--time", type=float, default=20.0, help="mapper budget per run (s)")
    ap.add_argument("--out", default="out/use_fixed_mapping", help="output directory")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--depths", default="13824,4096,1024",
                    help="GlobalBuffer depths (64-bit rows) to sweep")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    fixed = run_layer_with_mapping(MACRO, LAYER, EXAMPLE)
    print(f"[1] fixed mapping {EXAMPLE.name}: {fixed.cycles} cycles, "
          f"{fixed.energy / 1e6:.4g} uJ, utilization {fixed.utilization:.2f}, "
          f"EDP {fixed.energy * fixed.cycles:.4g}")

    run = run_layer(MACRO, LAYER, metrics=("edp",), time_limit=args.time)
    res = run.result
    print(f"[2] cp-sat mapper: {res.status}, EDP {res.values[0]:.4g}, gap "
          f"{res.gap:.1%}, {res.wall_time:.1f} s")
    saved = save_best_mapping(run, out / "best.map.yaml")
    again = run_layer_with_mapping(MACRO, LAYER, saved)
    same = stats_text(run.spec, again) == run.stats
    print(f"    saved {saved}; re-evaluated stats identical: {same}")

    depths = [int(x) for x in args.depths.split(",")]
    print(f"[3] GlobalBuffer sweep ({args.workers} workers):")
    print("    | depth | words | mapper status | mapper EDP | fixed mapping EDP |")
    for depth, status, edp, fixed_text in parallel_sweep(depths, args.time, args.workers):
        print(f"    | {depth} | {depth * 4} | {status} | {edp:.4g} | {fixed_text} |")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
