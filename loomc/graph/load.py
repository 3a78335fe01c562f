"""Graphs straight from files: parse, select, flatten, build.

The one place that joins the loader (which op is the DFG / the ADG top) with
the graph builders, passing the source map along so node names and locations
come from the text the user wrote.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from loomc.graph.adg import build_adg
from loomc.graph.dfg import build_dfg
from loomc.graph.flatten import FLATTENED_ATTR, flatten_fabric
from loomc.graph.irutil import stamped, symbol_of
from loomc.loader import select_adg, select_dfgs
from loomc.mlir_io import ParsedModule, parse_mlir_file


def adg_from_parsed(parsed: ParsedModule) -> nx.MultiDiGraph:
    """Flatten the file's top ``fabric.module`` (in place) and build its ADG.

    Calling it again on the same parsed module rebuilds the same graph: the
    flattened top is marked and found again."""
    flattened = [
        op
        for op in parsed.module.ops
        if op.name == "fabric.module" and FLATTENED_ATTR in op.attributes
    ]
    top = flattened[0] if flattened else select_adg(parsed).op
    loc_of = stamped(parsed.loc)
    flat = flatten_fabric(
        parsed.module,
        top=symbol_of(top),
        names=parsed.value_name,
        loc_of=loc_of,
    )
    return build_adg(flat, names=parsed.value_name, loc_of=loc_of)


def dfgs_from_parsed(parsed: ParsedModule) -> list[nx.MultiDiGraph]:
    """One DFG per selected ``handshake.func`` (``loom.accel`` ones when marked)."""
    return [
        build_dfg(loaded.op, names=parsed.value_name, loc_of=parsed.loc)
        for loaded in select_dfgs(parsed)
    ]


def adg_from_file(path: str | Path) -> nx.MultiDiGraph:
    return adg_from_parsed(parse_mlir_file(path))


def dfgs_from_file(path: str | Path) -> list[nx.MultiDiGraph]:
    return dfgs_from_parsed(parse_mlir_file(path))


def has_fabric(parsed: ParsedModule) -> bool:
    return any(op.name == "fabric.module" for op in parsed.module.walk())


def has_handshake(parsed: ParsedModule) -> bool:
    return any(op.name == "handshake.func" for op in parsed.module.walk())
