"""Loom-compatible command line: ``loomc --adg F.fabric.mlir [--dfgs ... -o OUT]``.

spec-cli.md "--adg": with ``--adg`` alone the fabric is parsed and verified;
exit 0 if it is valid, 1 if it breaks a rule, each broken rule printed to stderr
as ``file:line:col: error: [CODE] message``.  Unreadable or unparsable input is
a :class:`~loomc.diagnostics.LoomcError` (exit 3).

Mapping (``--adg`` with ``--dfgs`` and ``-o``, spec-cli.md "Stage C") and ADG
generation (``--gen-adg``) are recognised here and routed to :func:`run_mapping`
and :func:`run_gen_adg`, which other stages will fill in.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loomc.diagnostics import ExitCode, LoomcError, SourceLocation
from loomc.fabric_verify import Violation, precheck_text, verify_fabric
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
    parser.add_argument("--mapper-verbose", action="store_true")
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
    verified ADG and write ``-o``.  Not implemented yet."""
    raise LoomcError(
        "mapping (--adg with --dfgs and -o) is not implemented yet", exit_code=ExitCode.USAGE
    )


def run_gen_adg(args: argparse.Namespace) -> int:
    """ADG generation (spec-cli.md "--gen-adg").  Not implemented yet."""
    raise LoomcError("--gen-adg is not implemented yet", exit_code=ExitCode.USAGE)


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
