"""Reading Timeloop input files: YAML with Timeloop's tags, merged the way Timeloop merges them.

Timeloop takes any number of YAML files on its command line and treats them as
one document: the top-level keys of all files are gathered into one mapping
(a key given twice keeps the later file's value).  Keys may be spelled with
hyphens or underscores (``read-bandwidth`` ≡ ``read_bandwidth``); Timeloop
normalises them to underscores, and so do we.

The v0.4 architecture format tags list items with ``!Container``,
``!Component``, ``!Parallel``, ``!Hierarchical`` …; plain PyYAML refuses
unknown tags, so :class:`TimeloopLoader` turns a tagged mapping into a plain
dict with the tag name under the key ``"!"``.

Every error names the file and the key path (``architecture.nodes[2].attributes.depth``),
so :class:`Inputs` remembers which file each top-level key came from.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loomc.diagnostics import ExitCode, LoomcError, SourceLocation

#: key under which a YAML tag (``!Component`` …) is kept on the dict it tagged
TAG_KEY = "!"


class TimeloopLoader(yaml.SafeLoader):
    """A safe YAML loader that keeps Timeloop's ``!Tag`` annotations as data."""


def _construct_tagged(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
        value = dict(value)
        value[TAG_KEY] = tag_suffix
        return value
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


TimeloopLoader.add_multi_constructor("!", _construct_tagged)


def normalize_keys(value: Any) -> Any:
    """Return ``value`` with every mapping key's hyphens turned into underscores."""
    if isinstance(value, Mapping):
        return {
            (k.replace("-", "_") if isinstance(k, str) else k): normalize_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalize_keys(v) for v in value]
    return value


#: key path (``mapping[0].target``, keys normalised) -> (line, column), 1-based
Positions = Mapping[str, tuple[int, int]]


def _positions(node: yaml.Node, path: str, out: dict[str, tuple[int, int]]) -> None:
    """Record where every value of the composed YAML tree starts, by key path."""
    if path:
        out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                name = key.value.replace("-", "_")
                _positions(value, f"{path}.{name}" if path else name, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _positions(value, f"{path}[{i}]", out)


def parse_yaml_text(text: str, filename: str) -> tuple[dict[str, Any], Positions]:
    """Parse one YAML document (top level a mapping) and where each key path sits,
    so errors found later, on plain data, can still name ``file:line``."""
    loader = TimeloopLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = SourceLocation(filename, mark.line + 1, mark.column + 1) if mark else None
        raise LoomcError(
            f"YAML syntax error: {getattr(exc, 'problem', exc)}",
            loc=loc or SourceLocation(filename),
            code="TL_YAML",
        ) from None
    finally:
        loader.dispose()
    if data is None:
        return {}, {}
    if not isinstance(data, Mapping):
        raise LoomcError(
            "top level of a Timeloop input must be a mapping", loc=SourceLocation(filename),
            code="TL_YAML",
        )
    positions: dict[str, tuple[int, int]] = {}
    _positions(root, "", positions)
    return normalize_keys(data), positions


def load_yaml_text(text: str, filename: str) -> dict[str, Any]:
    """Parse one YAML document; the top level must be a mapping."""
    return parse_yaml_text(text, filename)[0]


def locate(file: str, path: str, positions: Positions | None) -> SourceLocation:
    """``file:line:col`` of key path ``path``, or of its nearest ancestor that has a
    position (a missing key is reported where its parent sits)."""
    while positions and path:
        if path in positions:
            line, col = positions[path]
            return SourceLocation(file, line, col)
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return SourceLocation(file)


@dataclass
class Inputs:
    """All top-level sections of a set of merged Timeloop input files.

    ``data`` maps a top-level key (``architecture``, ``problem``, ``mapping``,
    ``ERT`` …) to its value; ``origin`` maps the same key to the file it came from.
    """

    data: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    #: file name -> where its key paths sit (files read from disk only)
    positions: dict[str, Positions] = field(default_factory=dict)

    def add(self, section: Mapping[str, Any], filename: str,
            positions: Positions | None = None) -> None:
        """Merge one file's top-level keys (later files win, as in Timeloop)."""
        for key, value in section.items():
            self.data[key] = value
            self.origin[key] = filename
        if positions is not None:
            self.positions[filename] = positions

    def copy(self, deep: bool = False) -> Inputs:
        """Another :class:`Inputs` with the same sections, origins and positions; ``deep``
        also copies the section data (for callers that edit it)."""
        data = copy.deepcopy(self.data) if deep else dict(self.data)
        return Inputs(data, dict(self.origin), dict(self.positions))

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def where(self, key: str) -> str:
        """The file that supplied top-level ``key`` (or ``<input>``)."""
        return self.origin.get(key, "<input>")


def load_inputs(paths: Iterable[str | Path]) -> Inputs:
    """Read and merge Timeloop YAML files in command-line order."""
    inputs = Inputs()
    for path in paths:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise LoomcError(
                f"cannot read input: {exc.strerror}", loc=SourceLocation(str(path)),
                code="TL_IO",
            ) from None
        data, positions = parse_yaml_text(text, str(path))
        inputs.add(data, str(path), positions)
    return inputs


def inputs_from_dicts(sections: Sequence[tuple[Mapping[str, Any], str]]) -> Inputs:
    """Build :class:`Inputs` from already-parsed dicts (for tests and the Python API)."""
    inputs = Inputs()
    for section, name in sections:
        inputs.add(normalize_keys(dict(section)), name)
    return inputs


class SpecError(LoomcError):
    """A bad key or value in a Timeloop input, located by file and key path."""

    def __init__(self, message: str, *, file: str, path: str, code: str = "TL_SPEC",
                 loc: SourceLocation | None = None):
        where = f"{path}: " if path else ""
        super().__init__(
            f"{where}{message}", loc=loc or SourceLocation(file), code=code,
            exit_code=ExitCode.BAD_INPUT,
        )
        self.key_path = path


@dataclass(frozen=True)
class Node:
    """A value inside an input file together with where it sits (file + key path).

    Parsers walk the YAML through ``Node`` so any error can say exactly which
    key was wrong without threading file names through every function.
    """

    value: Any
    file: str
    path: str
    #: where the file's key paths sit (see :func:`parse_yaml_text`); None: not from disk
    positions: Positions | None = field(default=None, compare=False, repr=False)

    @property
    def loc(self) -> SourceLocation:
        """``file:line:col`` of this value (or of its nearest located ancestor)."""
        return locate(self.file, self.path, self.positions)

    def error(self, message: str, code: str = "TL_SPEC") -> SpecError:
        return SpecError(message, file=self.file, path=self.path, code=code, loc=self.loc)

    def child(self, key: str | int) -> Node:
        if isinstance(key, int):
            path = f"{self.path}[{key}]"
            return Node(self.value[key], self.file, path, self.positions)
        path = f"{self.path}.{key}" if self.path else key
        return Node(self.value.get(key) if isinstance(self.value, Mapping) else None,
                    self.file, path, self.positions)

    def has(self, key: str) -> bool:
        return isinstance(self.value, Mapping) and key in self.value

    def mapping(self) -> Mapping[str, Any]:
        if not isinstance(self.value, Mapping):
            raise self.error(f"expected a mapping, got {type(self.value).__name__}")
        return self.value

    def items(self) -> list[Node]:
        if not isinstance(self.value, list):
            raise self.error(f"expected a list, got {type(self.value).__name__}")
        return [self.child(i) for i in range(len(self.value))]

    def check_keys(self, allowed: Iterable[str]) -> None:
        """Refuse keys this format does not know (a typo should not pass silently)."""
        allowed = set(allowed) | {TAG_KEY}
        for key in self.mapping():
            if key not in allowed:
                sub = f"{self.path}.{key}" if self.path else str(key)
                expected = ", ".join(sorted(allowed - {TAG_KEY}))
                raise SpecError(
                    f"unknown key '{key}' (expected one of: {expected})",
                    file=self.file, path=sub, loc=locate(self.file, sub, self.positions),
                )

    def as_int(self, *, minimum: int | None = None) -> int:
        v = self.value
        if isinstance(v, bool):
            raise self.error(f"expected an integer, got {v!r}", "TL_VALUE")
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, str):
            try:
                v = int(v)
            except ValueError:
                raise self.error(f"expected an integer, got {v!r}", "TL_VALUE") from None
        if not isinstance(v, int):
            raise self.error(f"expected an integer, got {v!r}", "TL_VALUE")
        if minimum is not None and v < minimum:
            raise self.error(f"must be >= {minimum}, got {v}", "TL_VALUE")
        return v

    def as_float(self) -> float:
        v = self.value
        if isinstance(v, bool):
            raise self.error(f"expected a number, got {v!r}", "TL_VALUE")
        try:
            return float(v)
        except (TypeError, ValueError):
            raise self.error(f"expected a number, got {v!r}", "TL_VALUE") from None

    def as_bool(self) -> bool:
        v = self.value
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in ("true", "false"):
            return v.lower() == "true"
        if isinstance(v, int) and v in (0, 1):
            return bool(v)
        raise self.error(f"expected true/false, got {v!r}", "TL_VALUE")

    def as_str(self) -> str:
        if isinstance(self.value, (str, int, float)) and not isinstance(self.value, bool):
            return str(self.value)
        raise self.error(f"expected a string, got {self.value!r}", "TL_VALUE")

    def as_str_list(self) -> list[str]:
        v = self.value
        if v is None:
            return []
        if isinstance(v, str):
            return [v]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.error(f"expected a list of names, got {v!r}", "TL_VALUE")
        return list(v)


def section(inputs: Inputs, key: str) -> Node:
    """The top-level section ``key`` as a :class:`Node` (missing → ``value`` None)."""
    file = inputs.where(key)
    return Node(inputs.get(key), file, key, inputs.positions.get(file))
