"""Command-line glue for ``loomc --gen-adg`` (spec-cli.md "--gen-adg").

:func:`gen_adg_main` takes the parsed Loom-compatible options (the attribute
names ``cmd_loom``'s parser uses) and writes the generated fabric to ``-o``.
Options it does not find on the namespace take their defaults, so callers may
pass a partial :class:`argparse.Namespace`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loomc.adg.gen import GenOptions, GenResult, generate_for_files
from loomc.diagnostics import ExitCode, LoomcError, SourceLocation

_DEFAULTS = GenOptions()


def options_from_args(args: argparse.Namespace) -> GenOptions:
    """:class:`GenOptions` from ``args.gen_*`` (missing or ``None`` → default)."""

    def get(name: str, default):
        value = getattr(args, name, None)
        return default if value is None else value

    topology = get("gen_topology", _DEFAULTS.topology)
    if topology not in ("mesh", "cube"):
        raise LoomcError(
            f"--gen-topology must be mesh or cube, not '{topology}'", exit_code=ExitCode.USAGE
        )
    fifo_mode = get("gen_fifo_mode", _DEFAULTS.fifo_mode)
    if fifo_mode not in ("none", "single", "dual"):
        raise LoomcError(
            f"--gen-fifo-mode must be none, single or dual, not '{fifo_mode}'",
            exit_code=ExitCode.USAGE,
        )
    track = int(get("gen_track", _DEFAULTS.track))
    depth = int(get("gen_fifo_depth", _DEFAULTS.fifo_depth))
    if track < 1:
        raise LoomcError("--gen-track must be >= 1", exit_code=ExitCode.USAGE)
    if depth < 1:
        raise LoomcError("--gen-fifo-depth must be >= 1", exit_code=ExitCode.USAGE)
    return GenOptions(
        topology=topology,
        track=track,
        fifo_mode=fifo_mode,
        fifo_depth=depth,
        fifo_bypassable=bool(get("gen_fifo_bypassable", False)),
        temporal=bool(get("gen_temporal", False)),
    )


def gen_adg_main(args: argparse.Namespace) -> int:
    """Generate a fabric for ``args.dfgs`` and write it to ``args.output``."""
    dfgs = getattr(args, "dfgs", None)
    output = getattr(args, "output", None)
    if not dfgs:
        raise LoomcError("--gen-adg needs --dfgs F1[,F2...]", exit_code=ExitCode.USAGE)
    if not output:
        raise LoomcError("--gen-adg needs -o OUTPUT.fabric.mlir", exit_code=ExitCode.USAGE)
    options = options_from_args(args)
    paths = [p for p in (s.strip() for s in str(dfgs).split(",")) if p]
    result = generate_for_files(paths, options)
    write_result(result, Path(output))
    if not getattr(args, "quiet", False):
        print(summary_line(result), file=sys.stderr)
    return int(ExitCode.OK)


def write_result(result: GenResult, path: Path) -> None:
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(result.fabric.mlir, encoding="utf-8")
    except OSError as err:
        raise LoomcError(
            f"cannot write output: {err.strerror}",
            loc=SourceLocation(str(path)),
            exit_code=ExitCode.OUTPUT_ERROR,
        ) from None


def summary_line(result: GenResult) -> str:
    return (
        f"loomc: generated {result.fabric.name}: {result.pes} PEs, {result.switches} switches, "
        f"{result.fabric.count('fifo')} FIFOs for {result.dfg_ops} DFG ops "
        f"(PE/op {result.ratio:.2f}, {len(result.planes)} planes, track {result.options.track})"
    )
