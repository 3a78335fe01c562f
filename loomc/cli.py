"""The ``loomc`` command.

Two shapes of command line, as users of Loom expect:

* Loom-compatible flags with no sub-command (spec-cli.md):
  ``loomc --adg A.fabric.mlir`` verifies a fabric,
  ``loomc --adg A.fabric.mlir --dfgs D.handshake.mlir -o OUT/base`` maps.
* Sub-commands for loomc's own jobs: ``inspect``, ``model``, ``tile``, ``verify``.

Each sub-command lives in its own module exposing ``main(argv) -> int``; this
module only dispatches and turns a :class:`~loomc.diagnostics.LoomcError` into
one line on stderr and its exit code.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from loomc.diagnostics import LoomcError

#: sub-command name → module implementing ``main(argv) -> int``
SUBCOMMANDS: dict[str, str] = {
    "inspect": "loomc.cmd_inspect",
    "model": "loomc.timeloop.cmd_model",
    "tile": "loomc.timeloop.cmd_tile",
    "verify": "loomc.cmd_verify",
}

#: module for the Loom-compatible flag form (``--adg`` …)
LOOM_COMPAT = "loomc.cmd_loom"


def run(argv: Sequence[str]) -> int:
    """Run one command line and return its exit code; never raises LoomcError."""
    argv = list(argv)
    if argv and argv[0] in SUBCOMMANDS:
        module_name, rest = SUBCOMMANDS[argv[0]], argv[1:]
    else:
        module_name, rest = LOOM_COMPAT, argv
    try:
        module = importlib.import_module(module_name)
        return int(module.main(rest))
    except LoomcError as err:
        print(f"loomc: {err.one_line()}", file=sys.stderr)
        return int(err.exit_code)
    except KeyboardInterrupt:
        print("loomc: interrupted", file=sys.stderr)
        return 130


def main() -> None:
    """Console-script entry point."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":  # pragma: no cover
    main()
