"""Loom-compatible command line: ``loomc --adg F.fabric.mlir [--dfgs ... -o OUT]``.

spec-cli.md "--adg": with ``--adg`` alone the fabric is parsed and verified;
exit 0 if it is valid, 1 if it breaks a rule, each broken rule printed to stderr
as ``file:line:col: error: [CODE] message``.  Unreadable or unparsable input is
a :class:`~loomc.diagnostics.LoomcError` (exit 3).

Mapping (``--adg`` with ``--dfgs`` and ``-o``, spec-cli.md "Stage C") runs the
CP-SAT mapper and writes its outputs (exit 0, or 1 with diagnostics when no
mapping exists); ADG generation (``--gen-adg``) writes a fabric sized for the
given DFGs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loomc.diagnostics import ExitCode, LoomcError, SourceLocation
from loomc.fabric_verify import Violation, precheck_text, verify_fabric
from loomc.mapper.pipeline import PROFILES
from loomc.mlir_io import ParsedModule, parse_mlir_text


@dataclass(frozen=True)
class AdgCheck:
    """The outcome of loading and verifying one fabric file."""

    path: str
    violations: tuple[Violation, ...]
    parsed: ParsedModule | None

    @property
    def ok(self) -> bool:
        return not self.violations


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loomc",
        description="Loom-compatible driver: verify a fabric (--adg), map DFGs onto it "
        "(--adg --dfgs -o), or generate a fabric (--gen-adg).",
    )
    parser.add_argument("--adg", metavar="FILE", help="fabric MLIR file (*.fabric.mlir)")
    parser.add_argument(
        "--dfgs", metavar="F1[,F2...]", help="comma-separated Handshake MLIR files to map"
    )
    parser.add_argument("-o", dest="output", metavar="PATH", help="output path")
    parser.add_argument("--gen-adg", action="store_true", help="generate a fabric from DFGs")
    parser.add_argument("--mapper-budget", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--mapper-seed", type=int, default=0)
    parser.add_argument("--mapper-profile", default="balanced")
    parser.add_argument("--mapper-verbose", action="store_true",
                        help="print CP-SAT's search log on stderr")
    parser.add_argument(
        "--mapper-best-effort", action="store_true",
        help="treat the budget as wall-clock seconds and search freely (faster, not "
        "reproducible); default: deterministic time, identical results per seed",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    parser.add_argument("--gen-topology", choices=("mesh", "cube"), default="mesh")
    parser.add_argument("--gen-track", type=int, default=None, metavar="N",
                        help="routing tracks per lattice link (default 3, as Loom's "
                        "stress flows use; 1 track rarely routes beyond tiny apps)")
    parser.add_argument("--gen-fifo-mode", choices=("none", "single", "dual"), default="none")
    parser.add_argument("--gen-fifo-depth", type=int, default=2, metavar="N")
    parser.add_argument("--gen-fifo-bypassable", action="store_true")
    parser.add_argument("--gen-temporal", action="store_true")
    return parser


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LoomcError("no such file", loc=SourceLocation(str(path))) from None
    except IsADirectoryError:
        raise LoomcError(
            "is a directory, not an MLIR file", loc=SourceLocation(str(path))
        ) from None
    except UnicodeDecodeError:
        raise LoomcError("not a UTF-8 text file", loc=SourceLocation(str(path))) from None
    except OSError as err:
        raise LoomcError(
            f"cannot read file: {err.strerror}", loc=SourceLocation(str(path))
        ) from None


def check_adg(path: str | Path) -> AdgCheck:
    """Load and verify a fabric file.

    Out-of-range ``bits``/``tagged`` widths are found on the text first: Loom
    rejects them while parsing a type (``bits width must be 1-4096``,
    ``CPL_TAG_WIDTH_RANGE``), and some of them cannot be built as IR at all.
    Any other parse failure is bad input (LoomcError, exit 3).
    """
    path = Path(path)
    text = _read_text(path)
    early = precheck_text(text, str(path))
    if early:  # Loom's parser stops at the first bad type
        return AdgCheck(str(path), tuple(early[:1]), None)
    parsed = parse_mlir_text(text, str(path))
    found = verify_fabric(parsed.module, parsed.source_map)
    return AdgCheck(str(path), tuple(found), parsed)


def run_mapping(args: argparse.Namespace, adg: AdgCheck) -> int:
    """Stage C (spec-cli.md "Stage C: Mapper Invocation"): map ``--dfgs`` onto the
    verified ADG and write the outputs under ``-o``."""
    from loomc.mapper.driver import MapRequest, run_map_request

    if args.mapper_profile not in PROFILES:
        raise LoomcError(
            f"unknown --mapper-profile '{args.mapper_profile}' (one of {', '.join(PROFILES)})",
            exit_code=ExitCode.USAGE,
        )
    if args.mapper_budget <= 0:
        raise LoomcError("--mapper-budget must be positive", exit_code=ExitCode.USAGE)
    request = MapRequest(
        adg=adg.parsed, dfg_paths=tuple(p for p in args.dfgs.split(",") if p),
        output=Path(args.output), budget=args.mapper_budget, seed=args.mapper_seed,
        profile=args.mapper_profile, reproducible=not args.mapper_best_effort,
        quiet=args.quiet, as_json=args.json, verbose=args.mapper_verbose,
    )
    return run_map_request(request)


def run_gen_adg(args: argparse.Namespace) -> int:
    """ADG generation (spec-cli.md "--gen-adg")."""
    from loomc.adg.cli import gen_adg_main

    return gen_adg_main(args)


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    if args.gen_adg:
        if args.adg:
            raise LoomcError("--gen-adg cannot be combined with --adg", exit_code=ExitCode.USAGE)
        return run_gen_adg(args)
    if not args.adg:
        raise LoomcError(
            "nothing to do: give --adg FILE (or --gen-adg --dfgs ... -o ...)",
            exit_code=ExitCode.USAGE,
        )
    result = check_adg(args.adg)
    for violation in result.violations:
        print(violation.one_line(), file=sys.stderr)
    if not result.ok:
        return int(ExitCode.RULE_VIOLATION)
    if args.dfgs:
        if not args.output:
            raise LoomcError("mapping with --dfgs needs -o OUTPUT", exit_code=ExitCode.USAGE)
        return run_mapping(args, result)
    return int(ExitCode.OK)
