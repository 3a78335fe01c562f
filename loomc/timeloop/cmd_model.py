"""``loomc model FILE.yaml... -o DIR``: evaluate one fixed mapping like ``timeloop-model``.

The input files are merged the way Timeloop merges them (top-level keys, later
files win), so either ``parsed-processed-input.yaml ERT.yaml ART.yaml`` or
separate ``arch prob map`` files work.  Energy comes from an ``ERT`` section;
when none is given, ``*ERT.yaml`` / ``*ART.yaml`` next to the input files are
used, and without any ERT energies are 0 (a note says so on stderr).

Writes ``DIR/<prefix>.stats.txt``, ``.map.txt`` and ``.map.yaml`` (all or
nothing) and prints the summary (computes, cycles, energy) on stdout, or with
``--json`` the same totals and the files written as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from loomc.diagnostics import ExitCode
from loomc.timeloop.constraints import check_constraints
from loomc.timeloop.mapping import check_mapping
from loomc.timeloop.model import evaluate
from loomc.timeloop.outputs import write_model
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
    ap.add_argument("--json", action="store_true",
                    help="print the totals and the files written as JSON on stdout")
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

    written = write_model(spec, mapping, result, Path(args.output_dir), args.prefix)
    if args.json:
        print(json.dumps({"computes": result.computes, "cycles": result.cycles,
                          "energy_pJ": result.energy,
                          "energy_per_compute_fJ": result.energy_per_compute,
                          "files": [str(p) for p in written]}, indent=1))
        return int(ExitCode.OK)
    print(f"Computes: {result.computes}")
    print(f"Cycles: {result.cycles}")
    print(f"Energy: {result.energy / 1e6:.2f} uJ ({result.energy_per_compute:.2f} fJ/compute)")
    return int(ExitCode.OK)
