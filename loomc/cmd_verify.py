"""``loomc verify``: check a mapping from scratch (issue 7).

Two forms:

* place-and-route: ``loomc verify --adg A.fabric.mlir --dfgs D.handshake.mlir
  --mapping OUT/base.map.json [--config OUT/base.config.bin] [--addr-h
  OUT/base_addr.h] [--configured OUT/base.fabric.mlir]``;
* tiling: ``loomc verify ARCH PROB MAP.yaml [ERT ART]`` (Timeloop YAML, merged
  in order), which also prints the mapping's evaluation.

Each violation is printed on stdout as ``[CLASS] sw=… hw=…: reason`` (with
``--json``: one JSON object with the violations, the evaluation and the
optimality verdict); exit 1 if there is any, 0 otherwise.
``--prove-optimal [--budget S]`` then asks whether a cheaper mapping exists
(:mod:`loomc.verify.optimality`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from loomc.diagnostics import ExitCode, LoomcError


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="loomc verify",
                                 description="Verify a place-and-route or tiling mapping.")
    ap.add_argument("inputs", nargs="*", help="tiling form: ARCH PROB MAP.yaml [ERT ART]")
    ap.add_argument("--adg", help="fabric MLIR (place-and-route form)")
    ap.add_argument("--dfgs", help="Handshake MLIR holding the mapped DFG")
    ap.add_argument("--mapping", help="map.json to verify")
    ap.add_argument("--config", help="config.bin to compare bit for bit")
    ap.add_argument("--addr-h", dest="addr_h", help="_addr.h to compare")
    ap.add_argument("--configured", help="configured fabric MLIR to compare")
    ap.add_argument("--prove-optimal", action="store_true",
                    help="re-solve with the mapping's cost as the bar to beat")
    ap.add_argument("--budget", type=float, default=60.0, metavar="S",
                    help="solver budget for --prove-optimal (seconds)")
    ap.add_argument("-o", "--output", help="where --prove-optimal writes a better mapping")
    ap.add_argument("--json", action="store_true",
                    help="print the verdict (violations, evaluation, optimality) as JSON")
    return ap


def _report(args: argparse.Namespace, report: dict, lines: list[str]) -> None:
    """Print the verdict: ``lines`` for people, ``report`` as JSON with ``--json``."""
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print("\n".join(lines))


def _pnr(args: argparse.Namespace) -> int:
    from loomc.verify.pnr import verify_pnr_files

    if not (args.adg and args.dfgs and args.mapping):
        raise LoomcError("place-and-route verification needs --adg, --dfgs and --mapping",
                         exit_code=ExitCode.USAGE)
    result = verify_pnr_files(args.adg, args.dfgs, args.mapping, config_path=args.config,
                              addr_path=args.addr_h, configured_path=args.configured)
    lines = [v.one_line() for v in result.violations]
    lines.append(f"{'VALID' if result.ok else 'INVALID'}: {result.dfg_name} on "
                 f"{result.adg_name}, {len(result.violations)} violation(s), checked "
                 f"{' '.join(result.checked)}")
    report = {"form": "place-and-route", "valid": result.ok, "dfg": result.dfg_name,
              "adg": result.adg_name, "checked": list(result.checked),
              "violations": [v.as_dict() for v in result.violations]}
    if result.ok and args.prove_optimal:
        from loomc.verify.optimality import prove_pnr_files

        verdict = prove_pnr_files(args.adg, args.dfgs, args.mapping, budget=args.budget,
                                  output=Path(args.output) if args.output else None)
        lines.append(verdict.line())
        report["optimality"] = verdict.as_dict()
    _report(args, report, lines)
    return int(ExitCode.OK if result.ok else ExitCode.RULE_VIOLATION)


def _tiling(args: argparse.Namespace) -> int:
    from loomc.timeloop.cmd_tile import split_mapper
    from loomc.timeloop.mapper import parse_mapper_options
    from loomc.timeloop.model import evaluate
    from loomc.timeloop.spec import load_mapping, load_spec
    from loomc.timeloop.yamlio import load_inputs
    from loomc.verify.tiling_check import check_tiling

    inputs, mapper_node = split_mapper(load_inputs(args.inputs))
    dirs = list(dict.fromkeys(Path(p).resolve().parent for p in args.inputs))
    spec = load_spec(inputs, search_dirs=dirs)
    mapping = load_mapping(inputs, spec)
    result = check_tiling(spec, mapping)
    lines = [v.one_line() for v in result.violations]
    report = {"form": "tiling", "valid": result.ok,
              "violations": [v.as_dict() for v in result.violations]}
    if not result.ok:
        lines.append(f"INVALID: {len(result.violations)} violation(s)")
        _report(args, report, lines)
        return int(ExitCode.RULE_VIOLATION)
    ev = evaluate(spec, mapping, check=False)
    lines.append(f"VALID: Computes: {ev.computes}  Cycles: {ev.cycles}  "
                 f"Energy: {ev.energy / 1e6:.2f} uJ ({ev.energy_per_compute:.2f} fJ/compute)")
    report["evaluation"] = {"computes": ev.computes, "cycles": ev.cycles,
                            "energy_pJ": ev.energy}
    if args.prove_optimal:
        from loomc.verify.optimality import prove_tiling

        verdict = prove_tiling(spec, mapping, budget=args.budget,
                               options=parse_mapper_options(mapper_node),
                               output=Path(args.output) if args.output else None)
        lines.append(verdict.line())
        report["optimality"] = verdict.as_dict()
    _report(args, report, lines)
    return int(ExitCode.OK)


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    if args.mapping or args.adg:
        if args.inputs:
            raise LoomcError("give either --adg/--dfgs/--mapping or tiling YAML files, not both",
                             exit_code=ExitCode.USAGE)
        return _pnr(args)
    if len(args.inputs) < 3:
        raise LoomcError("nothing to verify: give --adg/--dfgs/--mapping, or ARCH PROB MAP.yaml",
                         exit_code=ExitCode.USAGE)
    return _tiling(args)
