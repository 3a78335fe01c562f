"""``loomc tile FILE.yaml... -o DIR``: find the best mapping, like ``timeloop-mapper``.

Inputs are merged as for ``loomc model`` (a ``parsed-processed-input.yaml`` with
its ``mapper:`` section works as is; ERT/ART files next to the inputs are
found).  The ``mapper:`` section is read by :mod:`loomc.timeloop.mapper`
(``algorithm: cp-sat`` is the default; Timeloop's algorithms are baselines).

Writes ``DIR/<prefix>.map.yaml`` (the best mapping, accepted back by
``loomc model`` and Timeloop), ``.map.txt``, ``.stats.txt`` and
``.solver.json`` (status OPTIMAL/FEASIBLE, objective, bound, gap, evaluations),
all or nothing (:mod:`loomc.timeloop.outputs`).  The wall time is printed on
stdout (and in ``--json``), not written, so a seeded run's files are
byte-identical.  Progress is shown live on a terminal; ``-q`` silences
everything but errors; ``--json`` prints the record as JSON instead of the
summary.  When no valid mapping exists the exit code is ``ExitCode.NO_MAPPING``
and the message names the constraints that cannot all hold.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from loomc.diagnostics import ExitCode
from loomc.timeloop.mapper import (
    ALGORITHMS,
    MapperResult,
    no_mapping_error,
    parse_mapper_options,
    run_mapper,
)
from loomc.timeloop.outputs import write_mapper
from loomc.timeloop.spec import load_spec
from loomc.timeloop.yamlio import Inputs, load_inputs, section


def split_mapper(inputs: Inputs) -> tuple[Inputs, object]:
    """Inputs without the ``mapper`` section, and that section as a node.

    loomc's mapper knobs (``cp-sat``, ``seed``, ``time-limit``) go beyond
    Timeloop's list, so the section is parsed here rather than by the model's
    loader.
    """
    node = section(inputs, "mapper") if "mapper" in inputs else None
    rest = inputs.copy()
    rest.data.pop("mapper", None)
    rest.origin.pop("mapper", None)
    return rest, node


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="loomc tile",
                                 description="Search the mapspace for the best mapping "
                                             "(timeloop-mapper; CP-SAT by default).")
    ap.add_argument("inputs", nargs="+", help="Timeloop YAML files (merged in order)")
    ap.add_argument("-o", "--output-dir", default=".", help="directory for the outputs")
    ap.add_argument("--prefix", default=None, help="output file prefix (default: the mapper's "
                    "out-prefix, timeloop-mapper)")
    ap.add_argument("--algorithm", choices=[a.replace("_", "-") for a in ALGORITHMS],
                    help="override the mapper section's algorithm")
    ap.add_argument("--time-limit", type=float, help="seconds (default 60)")
    ap.add_argument("--seed", type=int, help="random seed (all algorithms)")
    ap.add_argument("--threads", type=int, help="CP-SAT workers (num-threads)")
    ap.add_argument("--best-effort", action="store_true",
                    help="CP-SAT on the wall clock (not reproducible; usually better mappings "
                         "in the same time)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    ap.add_argument("--json", action="store_true",
                    help="print the solver record with wall times and the files written as "
                         "JSON on stdout (no progress)")
    args = ap.parse_args(list(argv))
    quiet = args.quiet or args.json

    inputs = load_inputs(args.inputs)
    inputs, mapper_node = split_mapper(inputs)
    options = parse_mapper_options(mapper_node)
    if args.algorithm:
        options = replace(options, algorithm=args.algorithm.replace("-", "_"))
    if args.time_limit is not None:
        options = replace(options, time_limit=args.time_limit)
    if args.seed is not None:
        options = replace(options, seed=args.seed)
    if args.threads is not None:
        options = replace(options, num_threads=args.threads)
    if args.best_effort:
        options = replace(options, deterministic=False)
    if quiet:
        options = replace(options, live_status=False)
    elif sys.stderr.isatty():
        options = replace(options, live_status=True)
    dirs = list(dict.fromkeys(Path(p).resolve().parent for p in args.inputs))
    spec = load_spec(inputs, search_dirs=dirs)
    if spec.ert_source == "none" and not quiet:
        print("loomc: note: no ERT given or found next to the inputs; energies are 0",
              file=sys.stderr)
    log = None if quiet else (lambda line: print(line, file=sys.stderr))
    if not (options.log_stats or options.log_suboptimal or options.diagnostics):
        log = None
    res = run_mapper(spec, options, log=log)
    prefix = args.prefix or options.out_prefix
    written = write_mapper(spec, res, Path(args.output_dir), prefix)
    if args.json:
        print(json.dumps(summary(res, written), indent=1))
        return int(ExitCode.OK if res.mapping is not None else ExitCode.NO_MAPPING)
    if res.mapping is None:
        raise no_mapping_error(res, args.inputs[0])
    if not args.quiet:
        vals = " ".join(f"{m}={v:.6g}" for m, v in zip(res.metrics, res.values or (),
                                                           strict=False))
        gap = "" if res.gap is None else f" gap={res.gap:.3%}"
        print(f"Status: {res.status} ({res.algorithm.replace('_', '-')}, "
              f"{res.wall_time:.2f} s, {res.evaluated} evaluated){gap}")
        print(f"Objective: {vals}")
        print(f"Cycles: {res.result.cycles}")
        print(f"Energy: {res.result.energy / 1e6:.2f} uJ "
              f"({res.result.energy_per_compute:.2f} fJ/compute)")
    return int(ExitCode.OK)


def summary(res: MapperResult, written: Sequence[Path]) -> dict:
    """The ``--json`` summary: the solver record with its wall times, the best
    mapping's totals and the files written."""
    out = res.record(with_times=True)
    if res.result is not None:
        out["cycles"] = res.result.cycles
        out["energy_pJ"] = res.result.energy
        out["computes"] = res.result.computes
    out["files"] = [str(p) for p in written]
    return out
