"""xDSL's parser, lexer and printer, with the fixes and speed-ups loomc needs.

Each class fixes one thing and says in its docstring what xDSL 0.74 does wrong
and how the fix works, so it can be offered upstream:

* :class:`FastMLIRLexer` — one-regex fast path for common tokens; linear
  (not exponential) string-literal matching.
* :class:`LocationFixParser` — ``fused<metadata>[..]`` locations and location
  aliases used before their definition.
* :class:`CachingParser` — each distinct short type text parsed once per file;
  the dense-literal type constraint built once.
* :class:`SourceMappingParser` — records op offsets and source SSA names;
  reports unknown ops, undefined values and format failures at the right place.
* :class:`StableNamePrinter` — SSA names that survive print → parse → print.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

from xdsl.context import Context
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AnyFloat,
    CallSiteLoc,
    ComplexType,
    FileLineColLoc,
    FusedLoc,
    IndexType,
    IntegerType,
    ModuleOp,
    NameLoc,
    NoneAttr,
    RankedStructure,
    StringAttr,
    UnknownLoc,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import AttrConstraint, base
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import ParseError
from xdsl.utils.lexer import Span, Token
from xdsl.utils.mlir_lexer import MLIRLexer, MLIRToken, MLIRTokenKind

_PUNCTUATION = {
    ":": MLIRTokenKind.COLON,
    ",": MLIRTokenKind.COMMA,
    "(": MLIRTokenKind.L_PAREN,
    ")": MLIRTokenKind.R_PAREN,
    "}": MLIRTokenKind.R_BRACE,
    "[": MLIRTokenKind.L_SQUARE,
    "]": MLIRTokenKind.R_SQUARE,
    "<": MLIRTokenKind.LESS,
    ">": MLIRTokenKind.GREATER,
    "=": MLIRTokenKind.EQUAL,
    "+": MLIRTokenKind.PLUS,
    "*": MLIRTokenKind.STAR,
    "?": MLIRTokenKind.QUESTION,
    "|": MLIRTokenKind.VERTICAL_BAR,
    "->": MLIRTokenKind.ARROW,
}
_PREFIXED = {
    "%": MLIRTokenKind.PERCENT_IDENT,
    "#": MLIRTokenKind.HASH_IDENT,
    "!": MLIRTokenKind.EXCLAMATION_IDENT,
    "^": MLIRTokenKind.CARET_IDENT,
}
#: One of the common tokens whose lexing is unambiguous (after whitespace).
#: Anything else (strings, floats, hex, ``@``, ``...``, ``{``, ``-``, ``{-#``,
#: ``#-}``, non-ASCII) does not match and goes to xDSL's lexer.
_FAST_TOKEN = re.compile(
    r"(?:(?P<bare>[A-Za-z_][A-Za-z0-9_$.]*)"
    r"|(?P<prefixed>(?:[%!^]|#(?!-\}))(?:[0-9]+|[a-zA-Z$._-][a-zA-Z0-9$._-]*))"
    r"|(?P<punct>->|[:,()}\[\]<>=+*?|])"
    r"|(?P<int>(?:0(?!x[0-9a-fA-F])[0-9]*|[1-9][0-9]*)(?![.0-9])))",
    re.ASCII,
)


class FastMLIRLexer(MLIRLexer):
    """xDSL's MLIR lexer with a one-regex fast path for the common tokens (and
    without the exponential string-literal regex, see below).

    xDSL lexes token by token with several Python-level steps each (a quarter of
    a fabric file's parse time).  Identifiers, ``%``/``#``/``!``/``^`` names,
    punctuation and plain decimal integers are matched here by one compiled
    regex producing the very same tokens; every other case is delegated to the
    stock lexer (``tests/test_mlir_io.py`` checks token-stream equality on the
    corpus).
    """

    #: xDSL 0.74's string-literal pattern nests quantifiers, ``(?:[^"..]+|\\..)*"``,
    #: so an unterminated literal backtracks exponentially (a 40-character
    #: ``"abc...`` at a line end hangs the parser).  Same language, one character
    #: per repetition: linear.  (Upstreamable as is.)
    _unescaped_characters_regex = re.compile(r'"(?:[^"\\\n\v\f]|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*"')

    def lex(self) -> MLIRToken:
        # Whitespace first, on its own: inside one regex, the token alternatives
        # could make the comment pattern backtrack into a comment's text.
        content = self.input.content
        start = self._whitespace_regex.match(content, self.pos).end()
        match = _FAST_TOKEN.match(content, start)
        if match is None:
            self.pos = start
            return super().lex()
        group = match.lastgroup
        self.pos = end = match.end()
        if group == "bare":
            kind = MLIRTokenKind.BARE_IDENT
        elif group == "prefixed":
            kind = _PREFIXED[content[start]]
        elif group == "punct":
            kind = _PUNCTUATION[match.group(group)]
        else:
            kind = MLIRTokenKind.INTEGER_LIT
        return Token(kind, Span(start, end, self.input))


_DEFERRED_MARK = "\x00loomc.deferred-location-alias:"
_OP_NAME = re.compile(r'(?:%[^=]*=\s*)?"?([A-Za-z_][\w.$]*)')
_LOC_ALIAS = re.compile(r"loc\((#[A-Za-z_][\w$]*)\)")
LOCATION_TYPES = (UnknownLoc, FileLineColLoc, CallSiteLoc, NameLoc, FusedLoc)


class LocationFixParser(Parser):
    """xDSL's parser with MLIR's full location grammar.

    Two gaps in xDSL 0.74's ``AttrParser._parse_location`` (both upstreamable):

    1. ``fused<#meta>[loc, ..]`` — MLIR lets a fused location carry a metadata
       attribute between ``<`` ``>``; xDSL only accepts ``fused[..]`` and fails
       with "'[' expected".  Fix: parse the optional ``<attr>`` into
       ``FusedLoc.metadata`` (which xDSL already has and prints).
    2. Forward references to location aliases — MLIR defers resolving ``#alias``
       inside ``loc(..)`` until the end of the file (LLVM-derived modules put all
       ``#locN = loc(..)`` definitions after the module); xDSL reports
       "undefined symbol alias".  Fix: return a placeholder for an unknown alias
       and substitute the real location once the whole file is parsed
       (:meth:`resolve_deferred_locations`).
    """

    def __init__(self, ctx: Context, text: str, name: str) -> None:
        super().__init__(ctx, text, name)
        self.deferred_location_aliases: list[Span] = []

    def _parse_location(self):  # noqa: ANN202 - xDSL's own signature
        token = self._current_token
        if token.kind == MLIRTokenKind.BARE_IDENT and token.text == "fused":
            self._consume_token(MLIRTokenKind.BARE_IDENT)
            metadata: Attribute = NoneAttr()
            if self.parse_optional_punctuation("<") is not None:
                metadata = self.parse_attribute()
                self.parse_punctuation(">", " after fused location metadata")
            locations = self.parse_comma_separated_list(
                self.Delimiter.SQUARE, self._parse_location, " in fused location"
            )
            return FusedLoc(tuple(locations), metadata)
        if (
            token.kind == MLIRTokenKind.HASH_IDENT
            and "." not in token.text
            and token.text not in self.attribute_aliases
        ):
            self._consume_token(MLIRTokenKind.HASH_IDENT)
            return self._deferred_location(token.span)
        return super()._parse_location()

    def parse_optional_location(self):  # noqa: ANN202 - xDSL's own signature
        # Fast path for the most common form, ``loc(#alias)``: one regex instead of
        # four tokens.  Same result as the general path below.
        token = self._current_token
        if token.kind == MLIRTokenKind.BARE_IDENT and token.text == "loc":
            match = _LOC_ALIAS.match(self.lexer.input.content, token.span.start)
            if match is not None:
                alias = match.group(1)
                loc = self.attribute_aliases.get(alias)
                if loc is None:
                    loc = self._deferred_location(Span(*match.span(1), self.lexer.input))
                if isinstance(loc, LOCATION_TYPES):
                    self.lexer.pos = match.end()
                    self._parser_state.current_token = self.lexer.lex()
                    return loc
        return super().parse_optional_location()

    def _deferred_location(self, alias: Span) -> FusedLoc:
        """A placeholder for a location alias defined further down the file."""
        self.deferred_location_aliases.append(alias)
        return FusedLoc((), StringAttr(_DEFERRED_MARK + alias.text))

    def resolve_deferred_locations(self, module: Operation) -> None:
        """Replace deferred-alias placeholders in ``module`` by the aliased locations."""
        if not self.deferred_location_aliases:
            return
        for span in self.deferred_location_aliases:
            if span.text not in self.attribute_aliases:
                self.raise_error(f"undefined location alias '{span.text}'", span)
        memo: dict[Attribute, Attribute] = {}

        def resolve(loc: Attribute, depth: int = 0) -> Attribute:
            if depth > 64:  # an alias cycle; MLIR rejects it as well
                return loc
            if loc in memo:
                return memo[loc]
            new = loc
            if isinstance(loc, FusedLoc):
                meta = loc.metadata
                if isinstance(meta, StringAttr) and meta.data.startswith(_DEFERRED_MARK):
                    target = self.attribute_aliases[meta.data[len(_DEFERRED_MARK) :]]
                    new = resolve(target, depth + 1)
                else:
                    locs = tuple(resolve(x, depth + 1) for x in loc.locations)
                    if locs != tuple(loc.locations):
                        new = FusedLoc(locs, meta)
            elif isinstance(loc, CallSiteLoc):
                callee, caller = resolve(loc.callee, depth + 1), resolve(loc.caller, depth + 1)
                if (callee, caller) != (loc.callee, loc.caller):
                    new = CallSiteLoc(callee, caller)
            elif isinstance(loc, NameLoc):
                child = resolve(loc.location, depth + 1)
                if child != loc.location:
                    new = NameLoc(loc.desc, child)
            memo[loc] = new
            return new

        for op in module.walk():
            op.location = resolve(op.location)
            for region in op.regions:
                for block in region.blocks:
                    for arg in block.args:
                        arg.location = resolve(arg.location)


#: Builtin types with a ``name<...>`` body (xDSL's ``builtin_parsers`` table).
_BUILTIN_PARAMETRIZED = frozenset({"vector", "memref", "tensor", "complex", "tuple"})
#: A short type/attribute body: ``<...>`` with at most one nested ``<...>``, no
#: string literal and no ``-`` (so no ``->``); xDSL's balanced scan would end at
#: the same ``>``, which makes the text a safe cache key.
_SIMPLE_BODY = re.compile(r"<(?:[^<>\"\-]|<[^<>\"\-]*>)*>")


@functools.cache
def _dense_literal_type_constraint() -> AttrConstraint:
    return base(RankedStructure[IntegerType | IndexType | AnyFloat | ComplexType])


class CachingParser(LocationFixParser):
    """Parses each distinct short type/attribute text once per file, lexes fast.

    Fabric files spell the same few types (``!dataflow.bits<32>``) thousands of
    times and application files the same ``memref<?xf32, strided<[1], offset: ?>>``;
    re-lexing and re-building each costs more than the rest of the parse.
    Attributes are immutable, so a parsed ``!dialect.name<body>`` or
    ``memref<body>`` is reused whenever the same text comes again.
    """

    def __init__(self, ctx: Context, text: str, name: str) -> None:
        super().__init__(ctx, text, name)
        stock = self._parser_state.lexer
        fast = FastMLIRLexer(stock.input)
        fast.pos = stock.pos
        self._parser_state.lexer = fast
        self._text = text
        self._extended_cache: dict[tuple[str, str, str], Attribute] = {}

    def _parse_dense_literal_type(self):  # noqa: ANN202 - xDSL's own signature
        """xDSL rebuilds ``base(RankedStructure[...])`` on every ``dense<..> : T``
        (~20 ms each, the top cost of parsing an app's DLTI header); same checks
        with the constraint built once."""
        type_ = self.expect(self.parse_optional_type, "Dense attribute must be typed!")
        if not _dense_literal_type_constraint().verifies(type_):
            self.raise_error(
                "Expected memref, vector or tensor type of integer, index, float, or complex type"
            )
        if any(dim == DYNAMIC_INDEX for dim in type_.get_shape()):
            self.raise_error("Dense literal attribute should have a static shape.")
        return type_

    def _cached(self, key: tuple[str, str, str], end: int, parse: Callable[[], Attribute]):  # noqa: ANN202
        """``parse()`` once per key; on a hit, skip the text up to ``end`` instead."""
        cached = self._extended_cache.get(key)
        if cached is None:
            cached = parse()
            self._extended_cache[key] = cached
        else:
            self.lexer.pos = end
            self._parser_state.current_token = self.lexer.lex()
        return cached

    def _parse_extended_type_or_attribute(self, attr_or_dialect_name, is_type):  # noqa: ANN001, ANN202
        token = self._current_token
        match = None
        if "." in attr_or_dialect_name and token.kind == MLIRTokenKind.LESS:
            match = _SIMPLE_BODY.match(self._text, token.span.start)
        if match is None:
            return super()._parse_extended_type_or_attribute(attr_or_dialect_name, is_type)
        key = ("!" if is_type else "#", attr_or_dialect_name, match.group())
        return self._cached(
            key,
            match.end(),
            lambda: super(CachingParser, self)._parse_extended_type_or_attribute(
                attr_or_dialect_name, is_type
            ),
        )

    def _parse_optional_builtin_parametrized_type(self):  # noqa: ANN202
        token = self._current_token
        match = None
        if token.kind == MLIRTokenKind.BARE_IDENT and token.text in _BUILTIN_PARAMETRIZED:
            match = _SIMPLE_BODY.match(self._text, token.span.end)
        if match is None:
            return super()._parse_optional_builtin_parametrized_type()
        return self._cached(
            ("", token.text, match.group()),
            match.end(),
            super()._parse_optional_builtin_parametrized_type,
        )


class SourceMappingParser(CachingParser):
    """Records where each op starts and each SSA value's source name and position.

    Both hooks are a dict store per op/value, so the map costs next to nothing.
    """

    def __init__(self, ctx: Context, text: str, name: str) -> None:
        super().__init__(ctx, text, name)
        self.op_offsets: dict[Operation, int] = {}
        self.value_names: dict[SSAValue, str] = {}
        self.value_offsets: dict[SSAValue, int] = {}
        self._op_name_span: Span = self._current_token.span
        self._first_uses: dict[str, Span] = {}

    def _parse_op_result_list(self) -> list[tuple[Span, int]]:
        results = super()._parse_op_result_list()
        self._op_name_span = self._current_token.span
        return results

    def _get_op_by_name(self, name: str) -> type[Operation]:
        # xDSL reports an unknown op at the token after its name; point at the name.
        op_type = self.ctx.get_optional_op(name, dialect_stack=self._parser_state.dialect_stack)
        if op_type is None:
            self.raise_error(f"unknown operation '{name}'", self._op_name_span)
        return op_type

    def parse_operation(self) -> Operation:
        start = self._current_token.span.start
        try:
            op = super().parse_operation()
        except ParseError:
            raise
        except Exception as err:  # noqa: BLE001 - e.g. a VerifyException from a format
            # A custom/declarative parser failed outside the parser's error path;
            # report it at the innermost op being parsed rather than at the next token.
            span = Span(start, max(start, self.pos), self.lexer.input)
            name = _OP_NAME.match(self.lexer.input.content, start)
            what = f"'{name.group(1)}' op" if name else "operation"
            raise ParseError(span, f"invalid {what}: {one_line(str(err))}") from None
        self.op_offsets[op] = start
        return op

    def resolve_operand(self, operand, type):  # noqa: ANN001, ANN201 - xDSL's signature
        name = operand.operand_name
        if name not in self.ssa_values:
            self._first_uses.setdefault(name, operand.span)
        return super().resolve_operand(operand, type)

    def parse_module(self, allow_implicit_module: bool = True) -> ModuleOp:
        try:
            return super().parse_module(allow_implicit_module)
        except ParseError as err:
            # xDSL reports never-defined values at the end of the file; MLIR (and a
            # user) wants the first use.
            undefined = [n for n in self.forward_ssa_references if n in self._first_uses]
            if err.msg.startswith("values used but not defined") and undefined:
                first = min(undefined, key=lambda n: self._first_uses[n].start)
                raise ParseError(
                    self._first_uses[first], f"use of undefined value '%{first}'"
                ) from None
            raise

    def _register_ssa_definition(
        self, name: str, values: Sequence[SSAValue], span: Span
    ) -> None:
        super()._register_ssa_definition(name, values, span)
        if len(values) == 1:
            self.value_names[values[0]] = name
        else:
            for index, value in enumerate(values):
                self.value_names[value] = f"{name}#{index}"
        for value in values:
            self.value_offsets[value] = span.start


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def one_line(text: str) -> str:
    """The first non-blank line of ``text``, control characters escaped: error
    messages must be one printable line even when they quote binary input."""
    first = next((line.strip() for line in str(text).splitlines() if line.strip()), "")
    first = _CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", first)
    return first or "invalid input"


_NUMBER_SUFFIX = re.compile(r"(_[0-9]+)+$")


class StableNamePrinter(Printer):
    """xDSL's printer with SSA names that survive a print → parse → print cycle.

    xDSL (0.74) strips one ``_<digits>`` suffix from a name when it parses it
    (``%fifo_01_00`` gets the hint ``fifo_01``) and the printer then appends
    ``_<n>`` to disambiguate, so printing, re-parsing and printing again can
    rename values (``fifo_01`` → ``fifo``).  This printer strips *all* trailing
    ``_<digits>`` groups from a hint before using it, which makes the printed
    names a fixed point.  Upstream fix: make ``extract_valid_name`` and the
    printer agree (strip all groups, or none).
    """

    def print_ssa_value(self, value: SSAValue) -> str:
        if value not in self._ssa_values and value.name_hint:
            hint = _NUMBER_SUFFIX.sub("", value.name_hint)
            if not hint:
                name = self._get_new_valid_name_id()
            else:
                count = self.ssa_names.get(hint, 0)
                name = f"{hint}_{count}" if count else hint
                self.ssa_names[hint] = count + 1
            self._ssa_values[value] = name
        return super().print_ssa_value(value)
