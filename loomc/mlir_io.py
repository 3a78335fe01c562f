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
import importlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

from xdsl.context import Context
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AnyFloat,
    Builtin,
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
    UnregisteredAttr,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import AttrConstraint, base
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import ParseError
from xdsl.utils.lexer import Span
from xdsl.utils.mlir_lexer import MLIRTokenKind

from loomc.diagnostics import ExitCode, LoomcError, SourceLocation

# --------------------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------------------

#: Stock xDSL dialects, the same set Loom's driver registers before parsing a DFG
#: (tools/loom/loom.cpp: LLVM, DLTI, arith, cf, func, math, memref, scf, ub, hw, seq).
_STOCK_DIALECTS: tuple[tuple[str, str, str], ...] = (
    ("arith", "xdsl.dialects.arith", "Arith"),
    ("cf", "xdsl.dialects.cf", "Cf"),
    ("dlti", "xdsl.dialects.dlti", "DLTI"),
    ("func", "xdsl.dialects.func", "Func"),
    ("hw", "xdsl.dialects.hw", "HW"),
    ("llvm", "xdsl.dialects.llvm", "LLVM"),
    ("math", "xdsl.dialects.math", "Math"),
    ("memref", "xdsl.dialects.memref", "MemRef"),
    ("scf", "xdsl.dialects.scf", "Scf"),
    ("seq", "xdsl.dialects.seq", "Seq"),
    ("ub", "xdsl.dialects.ub", "UB"),
)

#: loomc's own dialects: (dialect name, module, exported Dialect).  They are
#: imported lazily so that a missing module only disables its dialect.
_PROJECT_DIALECTS: tuple[tuple[str, str, str], ...] = (
    ("dataflow", "loomc.dialects.dataflow", "Dataflow"),
    ("handshake", "loomc.dialects.handshake", "Handshake"),
    ("fabric", "loomc.dialects.fabric", "Fabric"),
    ("esi", "loomc.dialects.circt", "ESI"),
)


@dataclass
class LoomContext(Context):
    """An xDSL context that rejects unknown ops but carries named metadata opaquely.

    ``Context(allow_unregistered=True)`` would also accept misspelled ops, which
    loomc must report.  Here only attributes whose name starts with one of
    ``opaque_attr_prefixes`` (LLVM debug info, module flags) are accepted without
    a definition; they keep their text as an ``UnregisteredAttr``.
    """

    opaque_attr_prefixes: tuple[str, ...] = ()
    _opaque_attrs: dict[str, type[Attribute]] = field(default_factory=dict)

    def get_optional_attr(self, name: str) -> type[Attribute] | None:
        found = super().get_optional_attr(name)
        if found is not None or not name.startswith(self.opaque_attr_prefixes):
            return found
        if name not in self._opaque_attrs:
            self._opaque_attrs[name] = UnregisteredAttr.with_name_and_type(name, False)
        return self._opaque_attrs[name]


def _import_dialect(module: str, export: str) -> Dialect | None:
    """The ``Dialect`` object ``module.export``, or None while that module does not exist."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
        return None
    return getattr(mod, export, None)


def _merged(name: str, base: Dialect | None, extra: Sequence[type[Operation]]) -> Dialect:
    """``base`` with the ``extra`` ops added; an extra op replaces a same-named one."""
    ops: dict[str, type[Operation]] = {}
    attrs: list[type[Attribute]] = []
    if base is not None:
        ops.update((op.name, op) for op in base.operations)
        attrs.extend(base.attributes)
    for op in extra:
        ops[op.name] = op
    return Dialect(name, list(ops.values()), attrs)


def _dialect_factories() -> dict[str, Callable[[], Dialect]]:
    """Lazy factories for every dialect loomc reads, extras merged in."""
    from loomc.dialects import circt, extras

    extra_ops: dict[str, list[type[Operation]]] = {}
    for table in (extras.EXTRA_OPS, circt.EXTRA_OPS):
        for dialect, ops in table.items():
            extra_ops.setdefault(dialect, []).extend(ops)

    factories: dict[str, Callable[[], Dialect]] = {}
    for name, module, export in _STOCK_DIALECTS + _PROJECT_DIALECTS:

        def factory(name=name, module=module, export=export) -> Dialect:
            base = _import_dialect(module, export)
            own = {op.name for op in base.operations} if base is not None else set()
            # Project dialects win over our fallbacks (e.g. handshake.esi_instance);
            # for stock dialects our extras replace xDSL's generic-only ops.
            stock = module.startswith("xdsl.")
            extra = [op for op in extra_ops.get(name, ()) if stock or op.name not in own]
            return _merged(name, base, extra)

        factories[name] = factory
    return factories


def make_context() -> Context:
    """A fresh context with builtin, the stock dialects, loomc's dialects and extras.

    Dialects load lazily (on first use of one of their ops or types), so a
    context is cheap to make.  Unknown ops are rejected.
    """
    from loomc.dialects import extras

    ctx = LoomContext(opaque_attr_prefixes=extras.OPAQUE_ATTRIBUTE_PREFIXES)
    ctx.load_dialect(Builtin)
    for name, factory in _dialect_factories().items():
        ctx.register_dialect(name, factory)
    return ctx


# --------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------

_DEFERRED_MARK = "\x00loomc.deferred-location-alias:"
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
            self.deferred_location_aliases.append(token.span)
            return FusedLoc((), StringAttr(_DEFERRED_MARK + token.text))
        return super()._parse_location()

    def parse_optional_location(self):  # noqa: ANN202 - xDSL's own signature
        # Fast path for the most common form, ``loc(#alias)``: one regex instead of
        # four tokens.  Same result as the general path below.
        token = self._current_token
        if token.kind == MLIRTokenKind.BARE_IDENT and token.text == "loc":
            match = _LOC_ALIAS.match(self.lexer.input.content, token.span.start)
            if match is not None:
                alias = match.group(1)
                if alias in self.attribute_aliases:
                    loc = self.attribute_aliases[alias]
                    if isinstance(loc, LOCATION_TYPES):
                        self.lexer.pos = match.end()
                        self._parser_state.current_token = self.lexer.lex()
                        return loc
        return super().parse_optional_location()

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


#: A short dialect type/attribute body: ``<...>`` with at most one nested ``<...>``,
#: no string literal and no ``-`` (so no ``->``); xDSL's balanced scan would end at
#: the same ``>``, which makes the text a safe cache key.
_BUILTIN_PARAMETRIZED = frozenset({"vector", "memref", "tensor", "complex", "tuple"})
_SIMPLE_BODY = re.compile(r"<(?:[^<>\"\-]|<[^<>\"\-]*>)*>")


@functools.cache
def _dense_literal_type_constraint() -> AttrConstraint:
    return base(RankedStructure[IntegerType | IndexType | AnyFloat | ComplexType])


class CachingParser(LocationFixParser):
    """Parses each distinct short type/attribute text once per file.

    Fabric files spell the same few types (``!dataflow.bits<32>``) thousands of
    times and application files the same ``memref<?xf32, strided<[1], offset: ?>>``;
    re-lexing and re-building each costs more than the rest of the parse.
    Attributes are immutable, so a parsed ``!dialect.name<body>`` or
    ``memref<body>`` is reused whenever the same text comes again.
    """

    def __init__(self, ctx: Context, text: str, name: str) -> None:
        super().__init__(ctx, text, name)
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
    """Records where each op starts and each SSA value's source name, while parsing.

    Both hooks are a dict store per op/value, so the map costs next to nothing.
    """

    def __init__(self, ctx: Context, text: str, name: str) -> None:
        super().__init__(ctx, text, name)
        self.op_offsets: dict[Operation, int] = {}
        self.value_names: dict[SSAValue, str] = {}

    def parse_operation(self) -> Operation:
        start = self._current_token.span.start
        op = super().parse_operation()
        self.op_offsets[op] = start
        return op

    def _register_ssa_definition(
        self, name: str, values: Sequence[SSAValue], span: Span
    ) -> None:
        super()._register_ssa_definition(name, values, span)
        if len(values) == 1:
            self.value_names[values[0]] = name
        else:
            for index, value in enumerate(values):
                self.value_names[value] = f"{name}#{index}"


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SourceMap:
    """Where each op of a parsed file starts, and the source names of its values."""

    file: str
    text: str = field(repr=False)
    op_offsets: Mapping[Operation, int] = field(repr=False)
    value_names: Mapping[SSAValue, str] = field(repr=False)

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

    def value_name(self, value: SSAValue) -> str | None:
        """The source name of ``value`` (without ``%``), or None if it had none."""
        return self.source_map.name_of(value)

    def ops(self) -> Iterator[Operation]:
        """All ops of the module, pre-order (the module itself first)."""
        return self.module.walk()


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _shared_context() -> Context:
    return make_context()


def _one_line(text: str) -> str:
    first = next((line.strip() for line in str(text).splitlines() if line.strip()), "")
    return first or "invalid input"


def parse_mlir_text(text: str, filename: str, ctx: Context | None = None) -> ParsedModule:
    """Parse and verify MLIR ``text``; ``filename`` is used in locations.

    Raises LoomcError (BAD_INPUT) with ``filename:line:col`` on any failure.
    """
    context = ctx if ctx is not None else _shared_context()
    parser = SourceMappingParser(context, text, filename)
    source_map = SourceMap(filename, text, parser.op_offsets, parser.value_names)
    try:
        module = parser.parse_module()
        parser.resolve_deferred_locations(module)
    except ParseError as err:
        raise LoomcError(
            _one_line(err.msg), loc=source_map.loc_at(err.span.start)
        ) from None
    except Exception as err:  # a dialect's custom parser failed in an unplanned way
        offset = parser._current_token.span.start
        raise LoomcError(
            f"cannot parse: {_one_line(str(err)) or type(err).__name__}",
            loc=source_map.loc_at(offset),
        ) from None
    _verify(module, source_map)
    return ParsedModule(filename, module, source_map)


def _verify(module: ModuleOp, source_map: SourceMap) -> None:
    """Run xDSL's verifiers; report the innermost-first failing op at its location."""
    try:
        module.verify()
        return
    except Exception as err:  # noqa: BLE001 - every verifier failure becomes BAD_INPUT
        whole_module_error = err
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except Exception as err:  # noqa: BLE001
            message = _one_line(str(err)).removeprefix("Operation does not verify: ")
            raise LoomcError(f"'{op.name}' op {message}", loc=source_map.loc_of(op)) from None
    message = _one_line(str(whole_module_error)).removeprefix("Operation does not verify: ")
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
        prefix = data[: err.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
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
    "ExitCode",
    "LocationFixParser",
    "LoomContext",
    "ParsedModule",
    "SourceMap",
    "make_context",
    "parse_mlir_file",
    "parse_mlir_text",
    "print_module",
]
