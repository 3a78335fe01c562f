"""One error type for every user-facing failure, and the exit codes that go with it.

Every bad input — a missing file, malformed MLIR or YAML, an unknown op, a
fabric that breaks a rule, a DFG that cannot be mapped — ends as a
:class:`LoomcError`.  The CLI prints it as one line,
``file:line:col: error: [CODE] message``, and exits with the code of its
category; nothing else reaches the user as a traceback.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Documented exit codes of the ``loomc`` command (see README)."""

    OK = 0
    #: The input is well formed but breaks a rule: fabric verification
    #: (``CPL_*``), mapping validation, an invalid Timeloop mapping.
    RULE_VIOLATION = 1
    #: Command-line usage error (argparse uses 2 as well).
    USAGE = 2
    #: An input could not be read or parsed: missing file, syntax error, unknown op.
    BAD_INPUT = 3
    #: An output could not be written.
    OUTPUT_ERROR = 4
    #: No mapping exists or none was found within the budget (``CPL_MAPPER_*``).
    #: Loom's CLI reports a failed mapping with exit 1 (spec-cli.md "Stage C"),
    #: so this is an alias of RULE_VIOLATION for build-script compatibility.
    NO_MAPPING = 1


@dataclass(frozen=True)
class SourceLocation:
    """A point in a source file; line and column are 1-based, 0 means unknown."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.file}:{self.line}:{self.col}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


class LoomcError(Exception):
    """A user-facing error: where, which rule (``code``), and why."""

    def __init__(
        self,
        message: str,
        *,
        loc: SourceLocation | None = None,
        code: str | None = None,
        exit_code: ExitCode = ExitCode.BAD_INPUT,
    ):
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.code = code
        self.exit_code = exit_code

    def one_line(self) -> str:
        """The error as a single line, ``file:line:col: error: [CODE] message``."""
        where = f"{self.loc}: " if self.loc else ""
        code = f"[{self.code}] " if self.code else ""
        text = " ".join(self.message.split())
        return f"{where}error: {code}{text}"

    def __str__(self) -> str:
        return self.one_line()


def offset_to_line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col
