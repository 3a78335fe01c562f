"""Shared parse/print helpers for the ``fabric`` dialect's custom syntax.

Loom writes fabric operations with a bracket convention (spec-fabric.md,
"Operation Syntax Conventions"): ``[key = value, flag]`` holds hardware
parameters and ``{key = value}`` holds runtime configuration.  Every fabric op
parses those lists the same way, so the machinery lives here: a keyword list
parser driven by per-key value parsers, matching printers, the fast reader for
large 0/1 tables, and the block-label lookahead that PE bodies need.

Nothing here knows about individual ops; the op modules pass in the keys they
accept, so an unknown key is a parse error reported at the key's position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

import numpy as np
from loomc.dialects.dataflow_types import BitsType, TaggedType
from xdsl.dialects.builtin import (
    ArrayAttr,
    BoolAttr,
    BytesAttr,
    DenseArrayBase,
    FunctionType,
    IntegerAttr,
    IntegerType,
    StringAttr,
    UnitAttr,
    i8,
    i64,
)
from xdsl.ir import Attribute
from xdsl.parser import Parser
from xdsl.parser.core import UnresolvedOperand
from xdsl.printer import Printer
from xdsl.utils.lexer import Span
from xdsl.utils.mlir_lexer import MLIRTokenKind

_T = TypeVar("_T")

ValueParser = Callable[[Parser], Attribute]
"""Parses the value after ``key =`` and returns the attribute to store."""

KeywordEntry = tuple[str, Callable[[], None] | None]
"""One ``key = value`` entry for ``print_keyword_list``; a ``None`` printer is a bare flag."""

# A flat list of (optionally negative) decimal integers up to the closing bracket.
_FLAT_INTS = re.compile(r"[\s\d,+-]*")


# --------------------------------------------------------------------------- values


def parse_int_value(parser: Parser) -> IntegerAttr:
    """``N`` or ``N : iK``; a bare integer becomes ``i64`` as in Loom's parser."""
    pos = parser.pos
    value = parser.parse_optional_integer(allow_boolean=False, allow_negative=True)
    if value is None:
        parser.raise_error("expected integer value", pos, parser.pos)
    type_: Attribute = i64
    if parser.parse_optional_punctuation(":") is not None:
        tpos = parser.pos
        type_ = parser.parse_type()
        if not isinstance(type_, IntegerType):
            parser.raise_error("expected integer type", tpos, parser.pos)
    return IntegerAttr(value, type_)


def parse_bool_value(parser: Parser) -> IntegerAttr:
    """``true`` / ``false``."""
    pos = parser.pos
    value = parser.parse_optional_boolean()
    if value is None:
        parser.raise_error("expected 'true' or 'false'", pos, parser.pos)
    return BoolAttr.from_bool(value)


_TYPED_INT_ARRAY = re.compile(r"\[\s*(?:-?\d+\s*:\s*i\d+\s*(?:,\s*-?\d+\s*:\s*i\d+\s*)*)?\]")
_TYPED_INT = re.compile(r"(-?\d+)\s*:\s*i(\d+)")


def parse_array_value(parser: Parser) -> ArrayAttr:
    """Any ``[...]`` array attribute (``[1 : i16, ...]``, strings, nested arrays).

    ``[1 : i16, 1 : i16, 1 : i16]`` (every PE's latency and interval) takes a
    few milliseconds through xDSL's attribute parser, so that shape is read from
    the text and shared through a per-parser cache."""
    content = parser.lexer.input.content
    pos = parser.pos
    if isinstance(content, str):
        m = _TYPED_INT_ARRAY.match(content, pos)
        if m is not None:
            cache = _attr_cache(parser)
            text = m.group(0)
            attr = cache.get(text)
            if attr is None:
                attr = ArrayAttr([IntegerAttr(int(v), int(w)) for v, w in _TYPED_INT.findall(text)])
                cache[text] = attr
            parser._resume_from(m.end())  # pyright: ignore[reportPrivateUsage]
            return attr
    attr = parser.parse_attribute()
    if not isinstance(attr, ArrayAttr):
        parser.raise_error("expected array attribute '[...]'", pos, parser.pos)
    return attr


def parse_any_value(parser: Parser) -> Attribute:
    return parser.parse_attribute()


def parse_i64_array_value(parser: Parser) -> DenseArrayBase:
    """``array<i64: ...>`` (Loom's DenseI64ArrayAttr, e.g. addr_offset_table)."""
    pos = parser.pos
    attr = parser.parse_attribute()
    if not (isinstance(attr, DenseArrayBase) and attr.elt_type == i64):
        parser.raise_error("expected array<i64: ...>", pos, parser.pos)
    return attr


def _flat_int_fast_path(parser: Parser) -> list[int] | None:
    """Read ``[i, j, ...]`` straight from the source text when it holds only
    integers, commas and whitespace.  Big connectivity tables have tens of
    thousands of entries; going token by token through the lexer costs ~50 µs
    each (shared/notes/findings.md), slicing the text costs well under 1 µs."""
    content = parser.lexer.input.content
    start = parser.pos
    if not isinstance(content, str) or content[start : start + 1] != "[":
        return None
    match = _FLAT_INTS.match(content, start + 1)
    end = match.end()
    if end >= len(content) or content[end] != "]":
        return None
    body = content[start + 1 : end].strip()
    if not body:
        values: list[int] = []
    else:
        parts = body.split(",")
        try:
            values = [int(p) for p in parts]
        except ValueError:
            return None  # e.g. trailing comma: let the token parser report it
    parser._resume_from(end + 1)  # pyright: ignore[reportPrivateUsage]
    return values


def parse_bit_table(parser: Parser) -> list[int]:
    """A 0/1 table in either of Loom's spellings (spec-fabric-switch.md
    ``connectivity_table``; FabricSwitchOps parse): per-output-row binary strings
    ``["0110", "1010"]`` or a flat integer list ``[0, 1, 1, 0, ...]``.  Values are
    returned flat in row-major (output, input) order; range checks beyond int8
    are left to the verifier."""
    pos = parser.pos
    fast = _flat_int_fast_path(parser)
    if fast is not None:
        values = fast
    else:
        parser.parse_punctuation("[")
        values = []
        if parser.parse_optional_punctuation("]") is None:
            if parser._current_token.kind == MLIRTokenKind.STRING_LIT:  # pyright: ignore[reportPrivateUsage]
                while True:
                    spos = parser.pos
                    row = parser.parse_str_literal()
                    if any(c not in "01" for c in row):
                        parser.raise_error("invalid character in binary string", spos, parser.pos)
                    values.extend(1 if c == "1" else 0 for c in row)
                    if parser.parse_optional_punctuation(",") is None:
                        break
            else:
                while True:
                    values.append(parser.parse_integer(allow_boolean=False))
                    if parser.parse_optional_punctuation(",") is None:
                        break
            parser.parse_punctuation("]")
    if values and (min(values) < -128 or max(values) > 127):
        parser.raise_error("table entry does not fit in i8", pos, parser.pos)
    return values


def i8_array(values: Sequence[int] | np.ndarray) -> DenseArrayBase:
    """Build an ``array<i8: ...>`` without per-element normalisation (fast)."""
    data = np.asarray(values, dtype=np.int8).tobytes()
    return DenseArrayBase(i8, BytesAttr(data))


def parse_i8_table_value(parser: Parser) -> DenseArrayBase:
    return i8_array(parse_bit_table(parser))


def dense_values(attr: DenseArrayBase) -> np.ndarray:
    """Values of an integer dense array as a read-only numpy array."""
    width = attr.elt_type.width.data  # pyright: ignore[reportAttributeAccessIssue]
    dtype = {8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}[width]
    return np.frombuffer(attr.data.data, dtype=np.dtype(dtype).newbyteorder("<"))


# --------------------------------------------------------------------- keyword lists


def parse_keyword_list(
    parser: Parser,
    open_: str,
    close: str,
    values: Mapping[str, ValueParser],
    flags: Iterable[str] = (),
    what: str = "parameters",
) -> dict[str, Attribute]:
    """Parse ``open_ (key = value | flag) (, ...)* close`` (the opening bracket is
    already known to be next).  ``values`` maps each accepted key to its value
    parser; ``flags`` are bare keywords stored as ``UnitAttr``.  Unknown or
    repeated keys are parse errors, as in Loom's parsers."""
    flag_set = frozenset(flags)
    result: dict[str, Attribute] = {}
    parser.parse_punctuation(open_)  # type: ignore[arg-type]
    if parser.parse_optional_punctuation(close) is not None:  # type: ignore[arg-type]
        return result
    while True:
        kpos = parser.pos
        key = parser.parse_optional_identifier()
        if key is None:
            parser.raise_error(f"expected keyword in {what}", kpos, parser.pos)
        if key in result:
            parser.raise_error(f"duplicate keyword '{key}' in {what}", kpos, parser.pos)
        if key in flag_set:
            result[key] = UnitAttr()
        elif key in values:
            parser.parse_punctuation("=")
            result[key] = values[key](parser)
        else:
            parser.raise_error(f"unexpected keyword '{key}' in {what}", kpos, parser.pos)
        if parser.parse_optional_punctuation(",") is None:
            break
    parser.parse_punctuation(close)  # type: ignore[arg-type]
    return result


def print_keyword_list(
    printer: Printer,
    open_: str,
    close: str,
    entries: Sequence[KeywordEntry],
) -> None:
    """Print `` open_ key = value, flag close``; nothing when ``entries`` is empty.
    An entry whose printer is ``None`` is a bare flag."""
    if not entries:
        return
    printer.print_string(f" {open_}")
    for i, (key, print_value) in enumerate(entries):
        if i:
            printer.print_string(", ")
        printer.print_string(key)
        if print_value is not None:
            printer.print_string(" = ")
            print_value()
    printer.print_string(close)


def int_printer(printer: Printer, attr: Attribute) -> Callable[[], None]:
    """Print an integer parameter the way Loom does: bare for i64, ``N : iK``
    otherwise; booleans as ``true``/``false``."""

    def emit() -> None:
        if isinstance(attr, IntegerAttr) and isinstance(attr.type, IntegerType):
            width = attr.type.width.data
            if width == 1:
                printer.print_string("true" if attr.value.data else "false")
            elif width == 64:
                printer.print_int(attr.value.data)
            else:
                printer.print_attribute(attr)
        else:
            printer.print_attribute(attr)

    return emit


def attr_printer(printer: Printer, attr: Attribute) -> Callable[[], None]:
    return lambda: printer.print_attribute(attr)


def print_bit_table(printer: Printer, values: Sequence[int], row_lengths: Sequence[int]) -> None:
    """Print a 0/1 table as per-row binary strings (Loom's printer format) when
    ``row_lengths`` partition it and all entries are 0/1; otherwise flat."""
    if (
        row_lengths
        and sum(row_lengths) == len(values)
        and all(v in (0, 1) for v in values)
        and all(n > 0 for n in row_lengths)
    ):
        printer.print_string("[")
        idx = 0
        for r, n in enumerate(row_lengths):
            if r:
                printer.print_string(", ")
            row = "".join("1" if values[idx + k] else "0" for k in range(n))
            printer.print_string(f'"{row}"')
            idx += n
        printer.print_string("]")
    else:
        printer.print_string("[" + ", ".join(str(v) for v in values) + "]")


# ----------------------------------------------------------------------- signatures

# Types that fill fabric signatures by the thousand.  Matching their text and
# reusing the attribute parsed at the first occurrence skips the per-token lexing
# of ``!dataflow.tagged<!dataflow.bits<32>, i4>`` (about 0.1 ms each in xDSL);
# the large template has ~9,000 of them.
_SIMPLE_TYPE = re.compile(
    r"!dataflow\.bits<\s*\d+\s*>"
    r"|!dataflow\.tagged<\s*(?:!dataflow\.bits<\s*\d+\s*>|none|[if]\d+|index|bf16)"
    r"\s*,\s*i\d+\s*>"
    r"|(?:none|index|bf16|[if]\d+)(?![\w.$-])"
)


def _parser_memo(parser: Parser, slot: str) -> dict[str, Attribute]:
    """A text -> attribute memo kept on the parser object, so it lives exactly as
    long as one parse (``slot`` names it)."""
    cache: dict[str, Attribute] | None = getattr(parser, slot, None)
    if cache is None:
        cache = {}
        setattr(parser, slot, cache)
    return cache


def _attr_cache(parser: Parser) -> dict[str, Attribute]:
    return _parser_memo(parser, "_loomc_attr_cache")


def _type_cache(parser: Parser) -> dict[str, Attribute]:
    return _parser_memo(parser, "_loomc_type_cache")


def parse_type_fast(parser: Parser) -> Attribute:
    """``parser.parse_type()`` with a per-parser cache for the common fabric
    port types; anything else goes through xDSL unchanged."""
    content = parser.lexer.input.content
    start = parser.pos
    match = _SIMPLE_TYPE.match(content, start) if isinstance(content, str) else None
    if match is None:
        return parser.parse_type()
    cache = _type_cache(parser)
    text = match.group(0)
    hit = cache.get(text)
    if hit is None:
        hit = parser.parse_type()
        if parser.pos != match.end() and content[match.end() : parser.pos].strip():
            return hit  # parsed something longer than the regex saw: do not cache
        cache[text] = hit
        return hit
    parser._resume_from(match.end())  # pyright: ignore[reportPrivateUsage]
    return hit


_VALUE_USE = re.compile(r"%([0-9]+|[A-Za-z$._-][A-Za-z0-9$._-]*)(?:#([0-9]+))?")
_COMMA = re.compile(r"\s*,\s*")


def parse_operand_list_until(parser: Parser) -> list[UnresolvedOperand]:
    """Comma-separated SSA uses (``%a, %b#1``), possibly empty.

    Scans the source text directly (module-level switches list up to 32 uses);
    stops at anything unusual (comments, line continuations the regex does not
    know) and lets xDSL's lexer take over from there."""
    content = parser.lexer.input.content
    operands: list[UnresolvedOperand] = []
    if isinstance(content, str):
        pos = parser.pos
        end_ok = None
        while True:
            m = _VALUE_USE.match(content, pos)
            if m is None:
                break
            name_end = m.end(1)
            span = Span(m.start(), name_end, parser.lexer.input)
            operands.append(UnresolvedOperand(span, int(m.group(2)) if m.group(2) else 0))
            end_ok = m.end()
            c = _COMMA.match(content, end_ok)
            if c is None or content[c.end() : c.end() + 1] != "%":
                break
            pos = c.end()
        if end_ok is not None:
            parser._resume_from(end_ok)  # pyright: ignore[reportPrivateUsage]
            if parser.parse_optional_punctuation(",") is None:
                return operands
            operands.append(parser.parse_unresolved_operand())
    else:
        first = parser.parse_optional_unresolved_operand()
        if first is None:
            return operands
        operands.append(first)
    while parser.parse_optional_punctuation(",") is not None:
        operands.append(parser.parse_unresolved_operand())
    return operands


def _fast_run(
    parser: Parser, out: list[_T], match_one: Callable[[str, int], tuple[_T, int] | None]
) -> bool:
    """Append a comma-separated run of entries read straight from the source text.

    ``match_one(text, pos)`` gives the entry at ``pos`` and where it ends, or None
    where the fast path must hand over to xDSL.  Returns True if the list continues
    (a comma was consumed after the run)."""
    content = parser.lexer.input.content
    if not isinstance(content, str):
        return False
    pos = parser.pos
    last_end = None
    while True:
        hit = match_one(content, pos)
        if hit is None:
            break
        item, last_end = hit
        out.append(item)
        c = _COMMA.match(content, last_end)
        if c is None:
            break
        pos = c.end()
    if last_end is None:
        return False
    parser._resume_from(last_end)  # pyright: ignore[reportPrivateUsage]
    return parser.parse_optional_punctuation(",") is not None


def _fast_type_run(parser: Parser, types: list[Attribute]) -> bool:
    """Append a run of already-seen simple types read straight from the text."""
    cache = _type_cache(parser)

    def one(content: str, pos: int) -> tuple[Attribute, int] | None:
        m = _SIMPLE_TYPE.match(content, pos)
        if m is None or m.group(0) not in cache:
            return None
        return cache[m.group(0)], m.end()

    return _fast_run(parser, types, one)


def parse_type_list(parser: Parser) -> list[Attribute]:
    """``T (, T)*`` without delimiters (at least one type).  Runs of the common
    fabric port types are read from the text in one go."""
    types: list[Attribute] = []
    while True:
        before = len(types)
        if _fast_type_run(parser, types):
            continue
        if len(types) > before:
            return types
        types.append(parse_type_fast(parser))
        if parser.parse_optional_punctuation(",") is None:
            return types


def parse_paren_type_list(parser: Parser) -> list[Attribute]:
    """``( T, ... )`` possibly empty."""
    parser.parse_punctuation("(")
    if parser.parse_optional_punctuation(")") is not None:
        return []
    types = parse_type_list(parser)
    parser.parse_punctuation(")")
    return types


def parse_function_type_fast(parser: Parser) -> FunctionType:
    """``(I, ...) -> (O, ...)`` or ``(I, ...) -> O``."""
    ins = parse_paren_type_list(parser)
    parser.parse_punctuation("->")
    if peek_punctuation(parser, "("):
        outs = parse_paren_type_list(parser)
    else:
        outs = [parse_type_fast(parser)]
    return FunctionType.from_lists(ins, outs)


_ARG_HEAD = re.compile(r"%([0-9]+|[A-Za-z$._-][A-Za-z0-9$._-]*)\s*:\s*")


def _fast_arg_run(parser: Parser, args: list[Parser.Argument]) -> bool:
    """Like :func:`_fast_type_run` for ``%name: T`` header entries."""
    cache = _type_cache(parser)
    source = parser.lexer.input

    def one(content: str, pos: int) -> tuple[Parser.Argument, int] | None:
        h = _ARG_HEAD.match(content, pos)
        if h is None:
            return None
        t = _SIMPLE_TYPE.match(content, h.end())
        if t is None or t.group(0) not in cache:
            return None
        span = Span(h.start(), h.end(1), source)
        return Parser.Argument(span, cache[t.group(0)]), t.end()

    return _fast_run(parser, args, one)


def parse_typed_arguments(parser: Parser) -> list[Parser.Argument]:
    """``(%a: T, ...)`` header of named PEs, temporal PEs and modules (the large
    template's module has ~1,700 of them, so common shapes are read from text)."""
    parser.parse_punctuation("(")
    args: list[Parser.Argument] = []
    if parser.parse_optional_punctuation(")") is not None:
        return args
    while True:
        before = len(args)
        if _fast_arg_run(parser, args):
            continue
        if len(args) == before:
            token = parser._parse_token(MLIRTokenKind.PERCENT_IDENT, "expected argument name")  # pyright: ignore[reportPrivateUsage]
            parser.parse_punctuation(":")
            args.append(Parser.Argument(token.span, parse_type_fast(parser)))
            if parser.parse_optional_punctuation(",") is not None:
                continue
        parser.parse_punctuation(")")
        return args


_SYM_NAME_DICT = re.compile(r'\{\s*sym_name\s*=\s*"([A-Za-z0-9_.$-]*)"\s*\}')


def parse_optional_attr_dict_fast(parser: Parser) -> dict[str, Attribute]:
    """``parser.parse_optional_attr_dict()`` with a shortcut for the
    ``{sym_name = "name"}`` dictionary every instance carries."""
    content = parser.lexer.input.content
    if isinstance(content, str):
        m = _SYM_NAME_DICT.match(content, parser.pos)
        if m is not None:
            parser._resume_from(m.end())  # pyright: ignore[reportPrivateUsage]
            return {"sym_name": StringAttr(m.group(1))}
    return parser.parse_optional_attr_dict()


def print_paren_types(printer: Printer, types: Iterable[Attribute]) -> None:
    printer.print_string("(")
    printer.print_list(types, printer.print_attribute)
    printer.print_string(")")


def print_signature_arrow(
    printer: Printer, inputs: Sequence[Attribute], outputs: Sequence[Attribute]
) -> None:
    """``(I...) -> (O...)`` with parentheses always (Loom's named-form style)."""
    print_paren_types(printer, inputs)
    printer.print_string(" -> ")
    print_paren_types(printer, outputs)


def resolve_operands(
    parser: Parser, operands: Sequence, types: Sequence[Attribute], pos: int
) -> list:
    if len(operands) != len(types):
        parser.raise_error(
            f"expected {len(operands)} operand types, got {len(types)}", pos, parser.pos
        )
    return [parser.resolve_operand(o, t) for o, t in zip(operands, types, strict=True)]


# ----------------------------------------------------------------- regions and types


def peek_punctuation(parser: Parser, punct: str) -> bool:
    """Whether the next token is ``punct`` (without consuming it)."""
    return parser._current_token.text == punct  # pyright: ignore[reportPrivateUsage]


def parse_optional_sym(parser: Parser) -> dict[str, Attribute]:
    """The optional ``@name`` that opens a fabric op's named form, as the start of
    its attribute dictionary (empty for the inline form)."""
    attrs: dict[str, Attribute] = {}
    sym = parser.parse_optional_symbol_name()
    if sym is not None:
        attrs["sym_name"] = sym
    return attrs


def print_optional_sym(printer: Printer, sym_name: StringAttr | None) -> None:
    """Print `` @name`` for the named form; nothing for the inline form."""
    if sym_name is not None:
        printer.print_string(" ")
        printer.print_symbol_name(sym_name.data)


def parse_param_lists(
    parser: Parser,
    hw: Mapping[str, ValueParser],
    config: Mapping[str, ValueParser],
    what: str,
    flags: Iterable[str] = (),
) -> dict[str, Attribute]:
    """Optional ``[hardware parameters]`` then optional ``{runtime configuration}``,
    the layout fabric ops share (spec-fabric.md "Hardware Parameters vs Runtime
    Configuration")."""
    attrs: dict[str, Attribute] = {}
    if peek_punctuation(parser, "["):
        attrs.update(
            parse_keyword_list(
                parser, "[", "]", hw, flags=flags, what=f"{what} hardware parameters"
            )
        )
    if peek_punctuation(parser, "{"):
        attrs.update(
            parse_keyword_list(parser, "{", "}", config, what=f"{what} runtime configuration")
        )
    return attrs


def next_is_block_label(parser: Parser) -> bool:
    """True when the region starting at the current ``{`` opens with ``^bb``.

    Named ``fabric.pe`` bodies whose interface uses ``!dataflow.bits<N>`` re-declare
    their entry block with native types (``^bb0(%a: f32)``), while native-typed
    named PEs take the header arguments as the entry block.  Loom decides by the
    interface types; we look one token ahead so both spellings parse."""
    saved_pos = parser.pos
    parser.parse_punctuation("{")
    is_label = parser._current_token.kind == MLIRTokenKind.CARET_IDENT  # pyright: ignore[reportPrivateUsage]
    parser._resume_from(saved_pos)  # pyright: ignore[reportPrivateUsage]
    return is_label


def strip_tag(type_: Attribute) -> Attribute:
    """Value type seen inside a PE body: tags are dropped at the boundary
    (spec-fabric-pe.md "Tag Visibility and Block Arguments")."""
    return type_.value_type if isinstance(type_, TaggedType) else type_


def uses_bits(types: Iterable[Attribute]) -> bool:
    """Whether any port is ``bits<N>`` or ``tagged<bits<N>, iK>`` (Loom's
    "bits interface", which makes a named PE spell out its ``^bb0`` types)."""
    return any(isinstance(strip_tag(t), BitsType) for t in types)


def string_list(attr: ArrayAttr | None) -> tuple[str, ...]:
    """Entries of an array of strings (instruction_mem, temporal route_table)."""
    if attr is None:
        return ()
    return tuple(a.data if isinstance(a, StringAttr) else str(a) for a in attr.data)


def unsigned_value(attr: IntegerAttr) -> int:
    """Value of an integer attribute read as unsigned.  xDSL (like MLIR) keeps
    signless values in two's complement, so ``8 : i4`` is stored as -8; tags are
    unsigned (spec-fabric-tag.md)."""
    value = attr.value.data
    type_ = attr.type
    if value < 0 and isinstance(type_, IntegerType):
        value += 1 << type_.width.data
    return value


def int_list(attr: ArrayAttr | None, unsigned: bool = False) -> tuple[int, ...] | None:
    """Integers of ``[1 : i16, 2 : i16]``-style arrays; ``None`` when absent or
    when an entry is not an integer (left for the verifier to report).  With
    ``unsigned`` the values are read as unsigned (tag values)."""
    if attr is None:
        return None
    out: list[int] = []
    for a in attr.data:
        if not isinstance(a, IntegerAttr):
            return None
        out.append(unsigned_value(a) if unsigned else a.value.data)
    return tuple(out)
