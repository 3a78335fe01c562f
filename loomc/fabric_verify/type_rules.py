"""Type-level rules: ``!dataflow.bits<N>`` widths and ``!dataflow.tagged`` tag widths.

Loom rejects these while *parsing* a type (spec-fabric.md "Type Conventions";
spec-fabric-tag.md: tag types are ``i1`` to ``i16``, ``CPL_TAG_WIDTH_RANGE``;
``bits`` widths are 1 to 4096).  loomc checks them twice:

* on the source text, before parsing (:func:`precheck_text`), because some
  out-of-range types (``bits<0>``) cannot even be built as IR, and a parse
  failure must still come out under Loom's rule code, at the type's position;
* on the IR (:func:`check_types`), for IR built in memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from xdsl.dialects.builtin import ArrayAttr, FunctionType, MemRefType
from xdsl.ir import Attribute, Operation

from loomc.diagnostics import SourceLocation, offset_to_line_col
from loomc.dialects.dataflow_types import BitsType, TaggedType
from loomc.fabric_verify.context import VerifyContext, Violation
from loomc.fabric_verify.ir_access import body_block, raw_attr

MIN_BITS, MAX_BITS = 1, 4096
MIN_TAG, MAX_TAG = 1, 16

BITS_CODE = "CPL_BITS_TYPE"
TAG_CODE = "CPL_TAG_WIDTH_RANGE"

_BITS = re.compile(r"!dataflow\.bits<\s*(-?\d+)\s*>")
_TAGGED = "!dataflow.tagged<"
_TAG_SUFFIX = re.compile(r",\s*i(\d+)\s*$")


def bits_message(width: int) -> str:
    return f"bits width must be {MIN_BITS}-{MAX_BITS}; got {width}"


def tag_message(width: int) -> str:
    return f"tag type width must be in [{MIN_TAG}, {MAX_TAG}]; got i{width}"


def _strip_comments(text: str) -> str:
    """Blank out ``//`` comments (keeping offsets) so commented types are ignored."""
    out = []
    for line in text.splitlines(keepends=True):
        cut = _comment_start(line)
        if cut is None:
            out.append(line)
        else:
            tail = line[cut:]
            newline = "\n" if tail.endswith("\n") else ""
            out.append(line[:cut] + " " * (len(tail) - len(newline)) + newline)
    return "".join(out)


def _comment_start(line: str) -> int | None:
    in_string = False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            in_string = not in_string
        elif not in_string and line.startswith("//", i):
            return i
    return None


def precheck_text(text: str, path: str) -> list[Violation]:
    """Out-of-range ``bits``/``tagged`` widths in MLIR source text, with positions."""
    clean = _strip_comments(text)
    found: list[Violation] = []
    for m in _BITS.finditer(clean):
        width = int(m.group(1))
        if not MIN_BITS <= width <= MAX_BITS:
            line, col = offset_to_line_col(text, m.start())
            found.append(Violation(BITS_CODE, bits_message(width), SourceLocation(path, line, col)))
    start = clean.find(_TAGGED)
    while start >= 0:
        inner = _bracket_body(clean, start + len(_TAGGED))
        if inner is not None:
            m = _TAG_SUFFIX.search(inner)
            if m and not MIN_TAG <= int(m.group(1)) <= MAX_TAG:
                line, col = offset_to_line_col(text, start)
                found.append(
                    Violation(
                        TAG_CODE, tag_message(int(m.group(1))), SourceLocation(path, line, col)
                    )
                )
        start = clean.find(_TAGGED, start + 1)
    found.sort(key=lambda v: (v.loc.line, v.loc.col) if v.loc else (0, 0))
    return found


def _bracket_body(text: str, pos: int) -> str | None:
    depth = 1
    for i in range(pos, min(len(text), pos + 4000)):
        ch = text[i]
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
            if depth == 0:
                return text[pos:i]
    return None


def _types_in(attr: Attribute) -> Iterator[Attribute]:
    yield attr
    if isinstance(attr, TaggedType):
        yield from _types_in(attr.value_type)
    elif isinstance(attr, FunctionType):
        for t in (*attr.inputs.data, *attr.outputs.data):
            yield from _types_in(t)
    elif isinstance(attr, ArrayAttr):
        for t in attr.data:
            yield from _types_in(t)
    elif isinstance(attr, MemRefType):
        yield from _types_in(attr.element_type)


def op_types(op: Operation) -> Iterator[Attribute]:
    for v in op.operands:
        yield from _types_in(v.type)
    for r in op.results:
        yield from _types_in(r.type)
    block = body_block(op)
    if block is not None:
        for a in block.args:
            yield from _types_in(a.type)
    fn = raw_attr(op, "function_type")
    if fn is not None:
        yield from _types_in(fn)


def check_types(op: Operation, ctx: VerifyContext) -> Violation | None:
    """The first out-of-range ``bits``/``tagged`` type an op mentions."""
    for t in op_types(op):
        if isinstance(t, BitsType) and not MIN_BITS <= t.width.data <= MAX_BITS:
            return ctx.violation(op, BITS_CODE, bits_message(t.width.data))
        if isinstance(t, TaggedType) and not MIN_TAG <= t.tag_width <= MAX_TAG:
            return ctx.violation(op, TAG_CODE, tag_message(t.tag_width))
    return None
