"""The one front door for MLIR text: parse into xDSL IR, keep a source map, print.

Every MLIR file loomc reads — fabric ADGs, mapper-test DFGs, and the full
application modules Loom's front end emits (host code, ESI glue, LLVM debug
metadata and the ``loom.accel`` ``handshake.func``) — goes through
:func:`parse_mlir_file` / :func:`parse_mlir_text`.  They return a
:class:`ParsedModule` that remembers, for every op, where its text starts
(``file:line:col``) and, for every SSA value, the name it had in the source
(xDSL's printer renames ``%sw:3`` results, so reports must not rely on it).

Any failure — unreadable file, bad UTF-8, syntax error, unknown op, wrong type,
verifier failure, or an unexpected exception inside a dialect's custom parser —
becomes a :class:`~loomc.diagnostics.LoomcError` with a ``file:line:col``
location and exit code ``BAD_INPUT``; nothing else escapes.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.utils.exceptions import ParseError

from loomc.diagnostics import LoomcError, SourceLocation
from loomc.mlir_context import LoomContext, make_context
from loomc.mlir_parser import SourceMappingParser, StableNamePrinter, one_line


@dataclass(frozen=True, eq=False)
class SourceMap:
    """Where each op of a parsed file starts, and the source names of its values."""

    file: str
    text: str = field(repr=False)
    op_offsets: Mapping[Operation, int] = field(repr=False)
    value_names: Mapping[SSAValue, str] = field(repr=False)
    value_offsets: Mapping[SSAValue, int] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def _line_starts(self) -> list[int]:
        return [0] + [m.end() for m in re.finditer("\n", self.text)]

    def loc_at(self, offset: int) -> SourceLocation:
        """The 1-based ``file:line:col`` of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset)
        return SourceLocation(self.file, line, offset - self._line_starts[line - 1] + 1)

    def loc_of(self, op: Operation) -> SourceLocation:
        """Where ``op``'s text starts; an op without text (e.g. an implicit module)
        gets its nearest parsed ancestor's location, or the file start."""
        current: Operation | None = op
        while current is not None:
            if (offset := self.op_offsets.get(current)) is not None:
                return self.loc_at(offset)
            current = current.parent_op()
        return SourceLocation(self.file, 1, 1)

    def loc_of_value(self, value: SSAValue) -> SourceLocation | None:
        """Where ``value``'s name is defined (``%x`` of a result or block argument)."""
        offset = self.value_offsets.get(value)
        return None if offset is None else self.loc_at(offset)

    def name_of(self, value: SSAValue) -> str | None:
        """The value's name in the source (``"sw00#1"`` for result 1 of ``%sw00:3``)."""
        return self.value_names.get(value)


@dataclass(frozen=True, eq=False)
class ParsedModule:
    """A parsed, verified MLIR file with its source map."""

    path: str
    module: ModuleOp
    source_map: SourceMap

    def loc(self, op: Operation) -> SourceLocation:
        """``file:line:col`` where ``op``'s text starts."""
        return self.source_map.loc_of(op)

    def value_loc(self, value: SSAValue) -> SourceLocation | None:
        """``file:line:col`` of the ``%name`` that defines ``value`` (None if unnamed)."""
        return self.source_map.loc_of_value(value)

    def value_name(self, value: SSAValue) -> str | None:
        """The source name of ``value`` (without ``%``), or None if it had none."""
        return self.source_map.name_of(value)

    def ops(self) -> Iterator[Operation]:
        """All ops of the module, pre-order (the module itself first)."""
        return self.module.walk()


@functools.lru_cache(maxsize=1)
def _shared_context() -> Context:
    return make_context()


def parse_mlir_text(text: str, filename: str, ctx: Context | None = None) -> ParsedModule:
    """Parse and verify MLIR ``text``; ``filename`` is used in locations.

    Raises LoomcError (BAD_INPUT) with ``filename:line:col`` on any failure.
    """
    context = ctx if ctx is not None else _shared_context()
    where = SourceMap(filename, text, {}, {}).loc_at
    parser: SourceMappingParser | None = None
    try:
        parser = SourceMappingParser(context, text, filename)  # lexes the first token
        module = parser.parse_module()
        parser.resolve_deferred_locations(module)
    except ParseError as err:
        raise LoomcError(one_line(err.msg), loc=where(err.span.start)) from None
    except Exception as err:  # a dialect's custom parser failed in an unplanned way
        offset = parser.pos if parser is not None else 0
        raise LoomcError(
            f"cannot parse: {one_line(str(err)) or type(err).__name__}", loc=where(offset)
        ) from None
    source_map = SourceMap(
        filename, text, parser.op_offsets, parser.value_names, parser.value_offsets
    )
    _verify(module, source_map)
    return ParsedModule(filename, module, source_map)


def _verify(module: ModuleOp, source_map: SourceMap) -> None:
    """Run xDSL's verifiers; on failure, report the first op (pre-order) whose own
    verification fails, at its location, rather than xDSL's whole-module dump."""
    try:
        module.verify()
        return
    except Exception as err:  # noqa: BLE001 - every verifier failure becomes BAD_INPUT
        whole_module_error = err
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except Exception as err:  # noqa: BLE001
            message = one_line(str(err)).removeprefix("Operation does not verify: ")
            raise LoomcError(f"'{op.name}' op {message}", loc=source_map.loc_of(op)) from None
    message = one_line(str(whole_module_error)).removeprefix("Operation does not verify: ")
    raise LoomcError(message, loc=source_map.loc_of(module)) from None


def _read_text(path: Path) -> str:
    """The file's text; unreadable or non-UTF-8 content is a BAD_INPUT error."""
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoomcError("no such file", loc=SourceLocation(name)) from None
    except IsADirectoryError:
        raise LoomcError("is a directory, not an MLIR file", loc=SourceLocation(name)) from None
    except OSError as err:
        raise LoomcError(f"cannot read file: {err.strerror}", loc=SourceLocation(name)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line_start = data.rfind(b"\n", 0, err.start) + 1
        line = data.count(b"\n", 0, err.start) + 1
        col = len(data[line_start : err.start].decode("utf-8", errors="replace")) + 1
        raise LoomcError(
            f"not a UTF-8 text file (byte 0x{data[err.start]:02x})",
            loc=SourceLocation(name, line, col),
        ) from None
    if (nul := text.find("\0")) >= 0:
        line = text.count("\n", 0, nul) + 1
        col = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise LoomcError("NUL byte in text file", loc=SourceLocation(name, line, col))
    return text


def parse_mlir_file(path: str | Path, ctx: Context | None = None) -> ParsedModule:
    """Read, parse and verify an MLIR file (see :func:`parse_mlir_text`)."""
    path = Path(path)
    return parse_mlir_text(_read_text(path), str(path), ctx)


def print_module(module: Operation) -> str:
    """The module in xDSL's custom textual form (no locations), ending in a newline.

    Printing is deterministic and idempotent: parsing the text and printing it
    again gives the same text (see :class:`StableNamePrinter`).
    """
    stream = StringIO()
    StableNamePrinter(stream=stream).print_op(module)
    stream.write("\n")
    return stream.getvalue()


__all__ = [
    "LoomContext",
    "ParsedModule",
    "SourceMap",
    "make_context",
    "parse_mlir_file",
    "parse_mlir_text",
    "print_module",
]
