"""``loomc model FILE.yaml... -o DIR``: evaluate one fixed mapping like ``timeloop-model``.

The input files are merged the way Timeloop merges them (top-level keys, later
files win), so either ``parsed-processed-input.yaml ERT.yaml ART.yaml`` or
separate ``arch prob map`` files work.  Energy comes from an ``ERT`` section;
when none is given, ``*ERT.yaml`` / ``*ART.yaml`` next to the input files are
used, and without any ERT energies are 0 (a note says so on stderr).

Writes ``DIR/<prefix>.stats.txt``, ``.map.txt`` and ``.map.yaml`` and prints
the summary (computes, cycles, energy) on stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from loomc.diagnostics import ExitCode, LoomcError, SourceLocation
from loomc.timeloop.constraints import check_constraints
from loomc.timeloop.emit_map import map_text, map_yaml
from loomc.timeloop.emit_stats import stats_text
from loomc.timeloop.mapping import check_mapping
from loomc.timeloop.model import evaluate
from loomc.timeloop.spec import load_mapping, load_spec
from loomc.timeloop.yamlio import load_inputs


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="loomc model",
                                 description="Evaluate a Timeloop mapping (timeloop-model).")
    ap.add_argument("inputs", nargs="+", help="Timeloop YAML files (merged in order)")
    ap.add_argument("-o", "--output-dir", default=".", help="directory for the outputs")
    ap.add_argument("--prefix", default="timeloop-model", help="output file prefix")
    ap.add_argument("--check-constraints", action="store_true",
                    help="also refuse mappings that break architecture/mapspace constraints")
    args = ap.parse_args(list(argv))

    inputs = load_inputs(args.inputs)
    dirs = list(dict.fromkeys(Path(p).resolve().parent for p in args.inputs))
    spec = load_spec(inputs, search_dirs=dirs)
    mapping = load_mapping(inputs, spec)
    where = inputs.where("mapping")
    check_mapping(spec.problem, spec.arch, mapping, file=where)
    if args.check_constraints:
        check_constraints(spec, mapping, file=where)
    if spec.ert_source == "none":
        print("loomc: note: no ERT given or found next to the inputs; energies are 0",
              file=sys.stderr)
    result = evaluate(spec, mapping, check=False)

    out = Path(args.output_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{args.prefix}.stats.txt").write_text(stats_text(spec, result))
        (out / f"{args.prefix}.map.txt").write_text(map_text(spec, result))
        (out / f"{args.prefix}.map.yaml").write_text(map_yaml(spec, mapping))
    except OSError as exc:
        raise LoomcError(f"cannot write outputs: {exc.strerror}",
                         loc=SourceLocation(str(out)), code="TL_IO",
                         exit_code=ExitCode.OUTPUT_ERROR) from None
    print(f"Computes: {result.computes}")
    print(f"Cycles: {result.cycles}")
    print(f"Energy: {result.energy / 1e6:.2f} uJ ({result.energy_per_compute:.2f} fJ/compute)")
    return int(ExitCode.OK)
