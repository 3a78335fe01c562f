"""Python API in the spirit of TimeloopFE: load, edit in Python, map, model.

::

    from loomc.timeloop.api import Specification, call_mapper, call_model
    spec = Specification.from_yaml_files("arch.yaml", "prob.yaml", "mapper.yaml", "ERT.yaml")
    spec.architecture.find("GlobalBuffer").attributes.depth = 4096
    result = call_mapper(spec, output_dir="out")          # best mapping, stats, solver record
    save_best_mapping(result, "best.map.yaml")
    again = run_with_mapping(spec, "best.map.yaml")        # same stats as result.stats

A :class:`Specification` is the merged YAML documents as plain Python data
behind attribute access (``spec.problem.instance.C = 64``); every call parses a
fresh copy, so a spec can be edited between calls and used from parallel
workers (it pickles as plain dicts).

``run_layer(macro, layer)`` / ``run_layer_with_mapping`` take a macro
(architecture, ERT/ART, optional constraints and mapper files) and a layer (a
``problem:``), each either a path (directory / YAML file) or the name of a
bundled one: ``run_layer("eyeriss_like", "dnn/resnet50/layers/conv1")``.
:func:`bundled_macros` and :func:`bundled_layers` list what ships in
``loomc/timeloop/library`` (see its ``make_layers.py`` for the layer shapes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loomc.timeloop.cmd_tile import split_mapper
from loomc.timeloop.emit_map import map_yaml
from loomc.timeloop.emit_stats import stats_text
from loomc.timeloop.mapper import MapperResult, parse_mapper_options, run_mapper
from loomc.timeloop.mapping import Mapping, check_mapping
from loomc.timeloop.model import ModelResult, evaluate
from loomc.timeloop.outputs import write_mapper, write_model
from loomc.timeloop.spec import Spec, load_mapping, load_spec
from loomc.timeloop.yamlio import Inputs, load_inputs


class Node:
    """Attribute access over one YAML mapping/list (edits write through to the data)."""

    __slots__ = ("_data",)

    def __init__(self, data: Any):
        object.__setattr__(self, "_data", data)

    def __getattr__(self, key: str) -> Any:
        data = object.__getattribute__(self, "_data")
        if isinstance(data, dict):
            for k in (key, key.replace("_", "-")):
                if k in data:
                    return _wrap(data[k])
        raise AttributeError(key)

    def __setattr__(self, key: str, value: Any) -> None:
        data = object.__getattribute__(self, "_data")
        if not isinstance(data, dict):
            raise AttributeError(key)
        data[key.replace("-", "_")] = value

    def __getitem__(self, key):
        return _wrap(object.__getattribute__(self, "_data")[key])

    def __setitem__(self, key, value) -> None:
        object.__getattribute__(self, "_data")[key] = value

    def __iter__(self) -> Iterator[Any]:
        data = object.__getattribute__(self, "_data")
        return iter(_wrap(x) for x in data) if isinstance(data, list) else iter(data)

    def __len__(self) -> int:
        return len(object.__getattribute__(self, "_data"))

    def data(self) -> Any:
        """The underlying dict/list."""
        return object.__getattribute__(self, "_data")

    def find(self, name: str) -> Node:
        """The first node (depth first) whose ``name`` is ``name`` or ``name[lo..hi]``."""
        hit = _find(object.__getattribute__(self, "_data"), name)
        if hit is None:
            raise KeyError(f"no node named '{name}'")
        return Node(hit)

    def __repr__(self) -> str:
        return f"Node({object.__getattribute__(self, '_data')!r})"


def _wrap(v: Any) -> Any:
    return Node(v) if isinstance(v, (dict, list)) else v


def _find(data: Any, name: str) -> Any:
    if isinstance(data, dict):
        n = data.get("name")
        if isinstance(n, str) and (n == name or n.split("[")[0] == name):
            return data
        for v in data.values():
            hit = _find(v, name)
            if hit is not None:
                return hit
    elif isinstance(data, list):
        for v in data:
            hit = _find(v, name)
            if hit is not None:
                return hit
    return None


@dataclass
class Specification:
    """Merged Timeloop inputs, editable in Python."""

    inputs: Inputs
    search_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_yaml_files(cls, *paths: str | Path) -> Specification:
        inputs = load_inputs(paths)
        dirs = tuple(dict.fromkeys(Path(p).resolve().parent for p in paths))
        return cls(inputs, dirs)

    def __getattr__(self, key: str) -> Any:
        if key in ("inputs", "search_dirs"):
            raise AttributeError(key)
        if key in self.inputs.data:
            return _wrap(self.inputs.data[key])
        raise AttributeError(key)

    def copy(self) -> Specification:
        return Specification(self.inputs.copy(deep=True), self.search_dirs)

    def parsed(self) -> tuple[Spec, Inputs, Any]:
        """The model's :class:`Spec`, the inputs without the mapper section, and that section."""
        inputs = self.inputs.copy(deep=True)
        rest, mapper_node = split_mapper(inputs)
        return load_spec(rest, search_dirs=self.search_dirs), rest, mapper_node


@dataclass(frozen=True)
class MapperRun:
    """What :func:`call_mapper` returns: the parsed spec and the mapper's result."""

    spec: Spec
    result: MapperResult

    @property
    def mapping(self) -> Mapping | None:
        return self.result.mapping

    @property
    def stats(self) -> str:
        return stats_text(self.spec, self.result.result) if self.result.result else ""


def call_mapper(spec: Specification, output_dir: str | Path | None = None,
                **overrides: Any) -> MapperRun:
    """Search the mapspace (``mapper:`` settings; keyword overrides such as
    ``algorithm="cp_sat"``, ``time_limit=30``); writes the outputs if asked."""
    from dataclasses import replace

    parsed, _, mapper_node = spec.parsed()
    opts = parse_mapper_options(mapper_node)
    if overrides:
        opts = replace(opts, **overrides)
    res = run_mapper(parsed, opts)
    if output_dir is not None:
        write_mapper(parsed, res, Path(output_dir), opts.out_prefix)
    return MapperRun(parsed, res)


def call_model(spec: Specification, output_dir: str | Path | None = None) -> ModelResult:
    """Evaluate the spec's own ``mapping:`` (like ``timeloop-model``)."""
    parsed, rest, _ = spec.parsed()
    mapping = load_mapping(rest, parsed)
    check_mapping(parsed.problem, parsed.arch, mapping)
    result = evaluate(parsed, mapping, check=False)
    if output_dir is not None:
        write_model(parsed, mapping, result, Path(output_dir), "timeloop-model")
    return result


def save_best_mapping(run: MapperRun, path: str | Path) -> Path:
    """Write the best mapping as Timeloop mapping YAML."""
    if run.result.mapping is None:
        raise ValueError("the mapper found no mapping")
    path = Path(path)
    path.write_text(map_yaml(run.spec, run.result.mapping))
    return path


def run_with_mapping(spec: Specification, mapping_file: str | Path) -> ModelResult:
    """Evaluate ``spec`` with the mapping stored in ``mapping_file``."""
    with_map = spec.copy()
    extra = load_inputs([mapping_file])
    with_map.inputs.add({"mapping": extra.data["mapping"]}, str(mapping_file),
                        extra.positions.get(str(mapping_file)))
    return call_model(with_map)


#: the bundled macros and layers (package data)
LIBRARY = Path(__file__).resolve().parent / "library"


def bundled_macros() -> list[str]:
    """Names of the bundled macros (``library/macros/<name>/``)."""
    return sorted(p.parent.name for p in (LIBRARY / "macros").glob("*/arch.yaml"))


def bundled_layers(net: str | None = None) -> list[str]:
    """Names (``dnn/<net>/layers/<layer>``) of the bundled layers, of one net or all."""
    pattern = f"dnn/{net or '*'}/layers/*.yaml"
    return sorted(p.relative_to(LIBRARY).with_suffix("").as_posix()
                  for p in LIBRARY.glob(pattern))


def macro_dir(macro: str | Path) -> Path:
    """A macro directory: an existing path, else a bundled macro's name."""
    d = Path(macro)
    if d.is_dir():
        return d
    if isinstance(macro, str) and (LIBRARY / "macros" / macro).is_dir():
        return LIBRARY / "macros" / macro
    raise FileNotFoundError(f"macro '{macro}' is neither a directory nor a bundled macro "
                            f"({', '.join(bundled_macros())})")


def layer_file(layer: str | Path) -> Path:
    """A layer file: an existing path, else a bundled name such as ``dnn/resnet50/layers/conv1``."""
    p = Path(layer)
    if p.is_file():
        return p
    if isinstance(layer, str):
        name = layer.removesuffix(".yaml")
        for cand in (LIBRARY / f"{name}.yaml", LIBRARY / "dnn" / f"{name}.yaml"):
            if cand.is_file():
                return cand
    raise FileNotFoundError(f"layer '{layer}' is neither a file nor a bundled layer "
                            "(e.g. dnn/resnet50/layers/conv1; see bundled_layers())")


def _macro_files(macro: str | Path) -> list[Path]:
    return sorted(macro_dir(macro).rglob("*.yaml"))


def layer_spec(macro: str | Path, layer: str | Path) -> Specification:
    """The editable :class:`Specification` of ``layer`` on ``macro`` (e.g. for sweeps)."""
    return Specification.from_yaml_files(*_macro_files(macro), layer_file(layer))


def run_layer(macro: str | Path, layer: str | Path, **overrides: Any) -> MapperRun:
    """Map one layer onto a macro (paths or bundled names; keyword overrides as for
    :func:`call_mapper`)."""
    spec = layer_spec(macro, layer)
    return call_mapper(spec, **overrides)


def run_layer_with_mapping(macro: str | Path, layer: str | Path,
                           mapping_file: str | Path) -> ModelResult:
    """Evaluate one layer on a macro with a fixed mapping (paths or bundled names)."""
    spec = layer_spec(macro, layer)
    return run_with_mapping(spec, mapping_file)
