"""Mapping emitters: ``map.txt`` (Timeloop's loop-nest picture) and ``map.yaml``.

``map.txt`` follows Timeloop's ``Nest::PrettyPrint`` (src/mapping/nest.cpp):
levels from the backing store down, each announced by ``name [ DS:size (size) … ]``
listing the data spaces it keeps; the level's non-trivial loops follow, outermost
first, each one indented two more spaces; a dashed rule (as long as the header
without its trailing blank) precedes a level's first loop; a blank line
separates a level that printed loops from the next header.

``map.yaml`` is a mapping Timeloop accepts back: one ``datatype`` directive per
level (keep/bypass), then per level a ``spatial`` directive (levels with a
fanout) and a ``temporal`` directive with all factors and a full permutation.
"""

from __future__ import annotations

from typing import Any

import yaml

from loomc.timeloop.mapping import SPATIAL_X, TEMPORAL, Mapping
from loomc.timeloop.model import ModelResult
from loomc.timeloop.spec import Spec


def _loop_text(spec: Spec, dim: int, bound: int, kind: int) -> str:
    text = f"for {spec.problem.dims[dim]} in [0:{bound})"
    if kind != TEMPORAL:
        text += " (Spatial-X)" if kind == SPATIAL_X else " (Spatial-Y)"
    return text


def map_text(spec: Spec, result: ModelResult) -> str:
    """The ``map.txt`` text of an evaluated mapping."""
    out: list[str] = []
    indent = "| "
    dashes = ""
    blank = ""
    for lv in reversed(result.levels):
        out.append(blank)
        blank = ""
        header = lv.name + " [ "
        for d in lv.data_spaces:
            if d.keep:
                header += f"{d.name}:{d.utilized_capacity} ({d.utilized_capacity}) "
        header += "] "
        out.append(header + "\n")
        dashes = "-" * (len(header) - 1) + "\n"
        for lp in reversed(lv.loops):
            out.append(dashes)
            dashes = ""
            out.append(indent + _loop_text(spec, lp.dim, lp.bound, lp.kind) + "\n")
            indent += "  "
            blank = "\n"
    out.append(dashes + indent + "<< Compute >>\n")
    return "".join(out)


def _dim_string(names: list[str]) -> str:
    if all(len(n) == 1 for n in names):
        return "".join(names)
    return " ".join(names)


def map_yaml_data(spec: Spec, mapping: Mapping) -> dict[str, Any]:
    """The mapping as Timeloop's ``mapping:`` list (data, ready for YAML)."""
    prob, arch = spec.problem, spec.arch
    items: list[dict[str, Any]] = []
    for i, lm in enumerate(mapping.levels):
        items.append({
            "target": arch.storage[i].name,
            "type": "datatype",
            "keep": [ds.name for j, ds in enumerate(prob.data_spaces) if lm.keep[j]],
            "bypass": [ds.name for j, ds in enumerate(prob.data_spaces) if not lm.keep[j]],
        })
    for i, lm in enumerate(mapping.levels):
        name = arch.storage[i].name
        if arch.fanout(i) > 1:
            items.append({
                "target": name,
                "type": "spatial",
                "factors": " ".join(f"{d}{lm.spatial_factors[k]}"
                                    for k, d in enumerate(prob.dims)),
                "permutation": _dim_string([prob.dims[d] for d in lm.spatial_order]),
                "split": lm.split,
            })
        items.append({
            "target": name,
            "type": "temporal",
            "factors": " ".join(f"{d}{lm.temporal_factors[k]}" for k, d in enumerate(prob.dims)),
            "permutation": _dim_string([prob.dims[d] for d in lm.temporal_order]),
        })
    return {"mapping": items}


def map_yaml(spec: Spec, mapping: Mapping) -> str:
    """``map.yaml`` text."""
    return yaml.safe_dump(map_yaml_data(spec, mapping), sort_keys=False,
                          default_flow_style=False)
