"""Write every mapper output of one mapping, all or nothing.

spec-mapper-output.md "Output Files": ``<base>.config.bin``, ``<base>_addr.h``,
``<base>.map.json``, ``<base>.map.txt``, ``<base>.fabric.mlir`` and
``<base>.viz.html``.  Everything is rendered in memory first (a mapping the
fabric cannot hold fails here, before any file exists), then written all or
nothing by :func:`loomc.files.commit_files`, so a failed run never leaves a
mix of new and old files.  A failed mapping writes only the diagnostic
``map.json`` and removes stale outputs of the same base.

All files are deterministic: no timestamps, no wall times (those belong on
stdout), sorted ids.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from pathlib import Path

import networkx as nx

from loomc.configmem import describe_image
from loomc.files import commit_files, write_error
from loomc.mapper.config_image import addr_header, config_bin, config_image, footprint
from loomc.mapper.configure import (
    configure_parsed,
    derive_configuration,
    print_with_source_names,
)
from loomc.mapper.cost import CostBreakdown, mapping_cost
from loomc.mapper.emit_json import render_json
from loomc.mapper.emit_txt import render_text
from loomc.mapper.emit_viz import render_viz
from loomc.mapper.mapping import Mapping
from loomc.mlir_io import ParsedModule

SUFFIXES = (".config.bin", "_addr.h", ".map.json", ".map.txt", ".fabric.mlir", ".viz.html")


def output_paths(base: Path) -> dict[str, Path]:
    """Suffix -> path of each output of ``base`` (``OUT/k`` -> ``OUT/k.map.json``…)."""
    base = Path(base)
    return {s: base.with_name(base.name + s) for s in SUFFIXES}


def _commit(base: Path, contents: dict[str, bytes]) -> list[Path]:
    """Write ``contents`` (suffix -> bytes) all or nothing next to ``base``."""
    targets = output_paths(base)
    return commit_files({targets[s]: contents[s] for s in SUFFIXES if s in contents})


def render_outputs(base: Path, mapping: Mapping, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph,
                   parsed_fabric: ParsedModule, profile: str,
                   weights: MappingABC[str, float] | None = None) -> dict[str, bytes]:
    """All six outputs of a successful mapping, in memory (suffix -> bytes)."""
    configuration = derive_configuration(mapping, dfg, adg)
    image = config_image(configuration)
    cost = mapping_cost(mapping, dfg, adg, profile, weights, configuration)
    configured = print_with_source_names(configure_parsed(parsed_fabric, adg, configuration))
    used, _total = footprint(configuration)
    config_lines = [f"config_mem: {image.depth} words, {used} not at reset value"]
    for line in describe_image(image)[1:]:
        if not line.startswith("  "):
            config_lines.append(line)
    name = Path(base).name
    return {
        ".config.bin": config_bin(image),
        "_addr.h": addr_header(image, name).encode(),
        ".map.json": render_json(mapping, cost, dfg, configuration.warnings).encode(),
        ".map.txt": render_text(mapping, cost, dfg, adg, config_lines,
                                configuration.warnings).encode(),
        ".fabric.mlir": configured.encode(),
        ".viz.html": render_viz(mapping, dfg, adg).encode(),
    }


def write_outputs(base: Path, mapping: Mapping, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph,
                  parsed_fabric: ParsedModule, profile: str,
                  weights: MappingABC[str, float] | None = None) -> list[Path]:
    """Render and write the outputs of a successful mapping; returns the paths
    written.  Raises LoomcError (exit OUTPUT_ERROR) when a file cannot be
    written, leaving no new file behind."""
    if mapping.status != "success":
        raise ValueError("write_outputs needs a successful mapping; use write_failure")
    contents = render_outputs(base, mapping, dfg, adg, parsed_fabric, profile, weights)
    return _commit(Path(base), contents)


def write_failure(base: Path, mapping: Mapping, dfg: nx.MultiDiGraph | None = None,
                  adg: nx.MultiDiGraph | None = None) -> list[Path]:
    """Write only the diagnostic ``<base>.map.json`` of a failed mapping and
    remove stale outputs of the same base (a previous successful run)."""
    targets = output_paths(Path(base))
    written = _commit(Path(base), {".map.json": render_json(mapping, None, dfg).encode()})
    for suffix, path in targets.items():
        if suffix == ".map.json":
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError as err:
            raise write_error(path, err) from None
    del adg
    return written


def cost_of(mapping: Mapping, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph,
            profile: str) -> CostBreakdown | None:
    """The cost for stdout/--json summaries (None for a failed mapping)."""
    return mapping_cost(mapping, dfg, adg, profile) if mapping.status == "success" else None


__all__ = ["SUFFIXES", "cost_of", "output_paths", "render_outputs", "write_failure",
           "write_outputs"]
