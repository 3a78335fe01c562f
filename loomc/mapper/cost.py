"""The cost of a mapping, recomputed from the mapping itself (spec-mapper-cost.md).

The solver's objective guides the search; the number reported in ``map.json``
and ``map.txt`` is computed here, from placement, routes, temporal slots and
the configuration image, so it means the same thing whichever search produced
the mapping.  Each family is normalized to a size-independent scale before the
profile weights apply (spec "Normalization"):

* **placementPressure** — spec formula ``sum_tile (occ/cap)^2`` divided by the
  number of tile classes, so it lies in ``[0, 1]`` (1 = every class full).
  Tile classes: ``fabric.pe`` nodes with structurally identical bodies (same
  ops, attributes and internal wiring); temporal-PE FU nodes by the body
  pattern of their parent temporal PE; memories by op kind.
* **routingCost** — ``sum_hwedge hop_weight * usage`` over physical wires,
  divided by the number of DFG edges delivered by the mapping: routed ones and
  ones carried by a temporal register (zero wires), so putting an edge in a
  register never raises the average.
  ``hop_weight`` is 1.0 for a wire entering a routing node (switch, temporal
  switch, FIFO, tag op: a "switch hop") and 0.5 for the final wire into a PE,
  memory or module output (a "direct hop"), so direct < switch hop.
* **temporalCost** — ``(slot_util + reg_pressure + tag_pressure) / 3``:
  mean used/available instruction slots over the temporal PEs in use;
  registers used/available, averaged over the temporal PEs in use that have
  registers (one register per value, shared by its consumers); and
  mean over tagged hardware ports in use of distinct tags / ``2^TAG_WIDTH``.
* **perfProxy** — ``critical_path_est + ii_pressure + queue_pressure``:
  the routed critical path's stretch over an ideal one-wire-per-edge mapping,
  ``(mapped - ideal) / ideal`` with op latency from the PE's ``latency``
  (typical) and one unit per wire; ``(II - 1) / II`` where II is the largest
  number of ops time-sharing one temporal PE or software edges sharing one
  wire; and mean mapped/available load+store ports over memories in use.
* **configFootprint** — non-default config words / total config words of the
  config_mem image (0 for a fabric without config_mem).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, fields

import networkx as nx

from loomc.graph import model
from loomc.graph.dfs import dfs_edges
from loomc.graph.model import NodeRecord, ResourceClass
from loomc.mapper.config_image import footprint
from loomc.mapper.configure import FabricConfiguration, derive_configuration
from loomc.mapper.mapping import Mapping
from loomc.mapper.tiles import tile_classes

FAMILIES = ("placementPressure", "routingCost", "temporalCost", "perfProxy", "configFootprint")

#: spec-mapper-cost.md "Weight Profiles": [placement, routing, temporal, perf, config]
PROFILE_WEIGHTS: dict[str, tuple[float, float, float, float, float]] = {
    "balanced": (1.0, 1.0, 0.5, 0.5, 0.1),
    "cpsat_full": (1.0, 1.0, 0.5, 0.5, 0.1),
    "heuristic_only": (1.0, 1.0, 0.5, 0.5, 0.1),
    "throughput_first": (0.3, 0.5, 0.3, 2.0, 0.1),
    "area_power_first": (2.0, 0.5, 0.5, 0.2, 1.0),
    "deterministic_debug": (1.0, 1.0, 0.5, 0.0, 0.0),
}

#: hop weights (see module docstring)
SWITCH_HOP = 1.0
DIRECT_HOP = 0.5
_ROUTING_OPS = frozenset({"fabric.switch", "fabric.temporal_sw", "fabric.fifo",
                          "fabric.add_tag", "fabric.map_tag", "fabric.del_tag"})


@dataclass(frozen=True)
class CostBreakdown:
    """The five normalized families and their weighted sum (lower is better)."""

    total: float
    placementPressure: float  # noqa: N815 - map.json field names
    routingCost: float  # noqa: N815
    temporalCost: float  # noqa: N815
    perfProxy: float  # noqa: N815
    configFootprint: float  # noqa: N815

    def to_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def profile_weights(profile: str,
                    weights: MappingABC[str, float] | None = None) -> tuple[float, ...]:
    """The weight vector of ``profile`` with ``weights`` (family name -> value)
    overriding single entries.  Unknown names and negative weights are errors."""
    if profile not in PROFILE_WEIGHTS:
        raise ValueError(f"unknown mapper profile {profile!r} "
                         f"(known: {', '.join(PROFILE_WEIGHTS)})")
    vec = dict(zip(FAMILIES, PROFILE_WEIGHTS[profile], strict=True))
    for key, value in (weights or {}).items():
        if key not in vec:
            raise ValueError(f"unknown cost family {key!r} (known: {', '.join(FAMILIES)})")
        if value < 0:
            raise ValueError(f"cost weight {key} must be non-negative, got {value}")
        vec[key] = float(value)
    return tuple(vec[k] for k in FAMILIES)


# --------------------------------------------------------------------------- families


def placement_pressure(mapping: Mapping, adg: nx.MultiDiGraph) -> float:
    classes = tile_classes(adg)
    if not classes:
        return 0.0
    used = {p.hw_node for p in mapping.placement}
    total = sum((sum(n in used for n in members) / len(members)) ** 2
                for members in classes.values())
    return total / len(classes)


def _wires(mapping: Mapping, hw_ports) -> list[tuple[str, str, int | None, str]]:
    """Physical wire hops of all routes: (src port, dst port, tag, sw edge)."""
    out = []
    for r in mapping.routes:
        for src, dst in r.hw_path:
            if hw_ports[src].node != hw_ports[dst].node:
                out.append((src, dst, r.tag, r.sw_edge))
    return out


def routing_cost(mapping: Mapping, adg: nx.MultiDiGraph) -> float:
    if not mapping.routes:
        return 0.0
    hw_ports = model.ports(adg)
    total = 0.0
    for _src, dst, _tag, _edge in _wires(mapping, hw_ports):
        owner = model.node_record(adg, hw_ports[dst].node)
        total += SWITCH_HOP if owner.op_name in _ROUTING_OPS else DIRECT_HOP
    return total / (len(mapping.routes) + len(mapping.registers))


def register_pressure(mapping: Mapping, adg: nx.MultiDiGraph) -> float:
    """spec-mapper-cost.md "Temporal Cost", register usage pressure: registers
    used / ``num_register``, averaged over the temporal PEs in use (holding an
    instruction) that have registers; 0 when none has any."""
    used: dict[str, set[int]] = defaultdict(set)
    for r in mapping.registers:
        used[r.temporal_pe].add(r.register)
    ratios = []
    for tpe in sorted({t.temporal_pe for t in mapping.temporal} | set(used)):
        avail = int(model.node_record(adg, tpe).param("num_register", 0) or 0)
        if avail > 0:
            ratios.append(len(used.get(tpe, ())) / avail)
    return sum(ratios) / len(ratios) if ratios else 0.0


def temporal_cost(mapping: Mapping, adg: nx.MultiDiGraph) -> float:
    hw_ports = model.ports(adg)
    per_tpe: dict[str, int] = defaultdict(int)
    for t in mapping.temporal:
        per_tpe[t.temporal_pe] += 1
    slot_util = 0.0
    if per_tpe:
        slot_util = sum(n / max(1, int(model.node_record(adg, tpe).param("num_instruction", 1)
                                       or 1)) for tpe, n in per_tpe.items()) / len(per_tpe)
    reg_pressure = register_pressure(mapping, adg)
    tags: dict[str, set[int]] = defaultdict(set)
    for r in mapping.routes:
        for src, dst in r.hw_path:
            for port in (src, dst):
                if hw_ports[port].tag_width:
                    tags[port].add(r.tag or 0)
    tag_pressure = 0.0
    if tags:
        tag_pressure = sum(len(t) / 2 ** int(hw_ports[p].tag_width)
                           for p, t in tags.items()) / len(tags)
    return (slot_util + reg_pressure + tag_pressure) / 3


def _latency(rec: NodeRecord | None) -> float:
    if rec is None:
        return 0.0
    lat = rec.param("latency")
    if isinstance(lat, tuple | list) and len(lat) >= 2:
        return float(lat[1])
    return 1.0


def _acyclic(dfg: nx.MultiDiGraph) -> nx.DiGraph:
    """The DFG's node graph with back edges (found by DFS in source order)
    removed, so a longest path exists through loops (carry/gate cycles)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(dfg.nodes)
    succ: dict[str, list[str]] = defaultdict(list)
    for e in model.edges(dfg):
        succ[e.src_node].append(e.dst_node)
    for node, nxt, is_back, _ in dfs_edges(dfg.nodes, succ.__getitem__):
        if not is_back:
            graph.add_edge(node, nxt)
    return graph


def _longest(graph: nx.DiGraph, node_w: dict[str, float],
             edge_w: dict[tuple[str, str], float]) -> float:
    best: dict[str, float] = {}
    for n in nx.topological_sort(graph):
        start = max((best[p] + edge_w.get((p, n), 1.0) for p in graph.predecessors(n)),
                    default=0.0)
        best[n] = start + node_w.get(n, 0.0)
    return max(best.values(), default=0.0)


def perf_proxy(mapping: Mapping, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph) -> float:
    hw_ports = model.ports(adg)
    dag = _acyclic(dfg)
    hw = {p.sw_node: p.hw_node for p in mapping.placement}
    node_w = {n: _latency(model.node_record(adg, hw[n]) if n in hw else None) for n in dfg.nodes}
    hops: dict[tuple[str, str], float] = {}
    dfg_ports = model.ports(dfg)
    for r in mapping.routes:
        wires = sum(1 for s, d in r.hw_path if hw_ports[s].node != hw_ports[d].node)
        key = (dfg_ports[r.src_sw_port].node, dfg_ports[r.dst_sw_port].node)
        hops[key] = max(hops.get(key, 0.0), float(wires))
    ideal = _longest(dag, node_w, {})
    mapped = _longest(dag, node_w, hops)
    critical = (mapped - ideal) / ideal if ideal > 0 else 0.0

    share: dict[tuple[str, str], set[str]] = defaultdict(set)
    for src, dst, _tag, edge in _wires(mapping, hw_ports):
        share[(src, dst)].add(edge.split("->")[0])  # one value = one token stream
    per_tpe: dict[str, int] = defaultdict(int)
    for t in mapping.temporal:
        per_tpe[t.temporal_pe] += 1
    ii = max([1, *per_tpe.values(), *(len(v) for v in share.values())])
    ii_pressure = (ii - 1) / ii

    mem_use: dict[str, int] = defaultdict(int)
    sw = {n.id: n for n in model.nodes(dfg)}
    for p in mapping.placement:
        rec = model.node_record(adg, p.hw_node)
        if rec.resource_class is ResourceClass.MEMORY:
            node = sw[p.sw_node]
            mem_use[p.hw_node] += int(node.param("ldCount", 0) or 0) + int(
                node.param("stCount", 0) or 0)
    queue = 0.0
    if mem_use:
        ratios = []
        for hw_node, used in mem_use.items():
            rec = model.node_record(adg, hw_node)
            avail = int(rec.param("ldCount", 0) or 0) + int(rec.param("stCount", 0) or 0)
            ratios.append(used / avail if avail else 1.0)
        queue = sum(ratios) / len(ratios)
    return critical + ii_pressure + queue


def config_footprint(mapping: Mapping, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph,
                     configuration: FabricConfiguration | None = None) -> float:
    used, total = footprint(configuration or derive_configuration(mapping, dfg, adg))
    return used / total if total else 0.0


def mapping_cost(mapping: Mapping, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph,
                 profile: str, weights: MappingABC[str, float] | None = None,
                 configuration: FabricConfiguration | None = None) -> CostBreakdown:
    """The cost of a successful mapping under ``profile`` (optionally with some
    weights overridden).  ``configuration`` is the mapping's derived fabric
    configuration when the caller already has it (else derived here).  A
    failed mapping has no cost (spec "Invalid Mapping Penalty": hard reject)
    and raises ValueError."""
    if mapping.status != "success":
        raise ValueError("a failed mapping has no cost")
    w = profile_weights(profile, weights)
    values = (
        placement_pressure(mapping, adg),
        routing_cost(mapping, adg),
        temporal_cost(mapping, adg),
        perf_proxy(mapping, dfg, adg),
        config_footprint(mapping, dfg, adg, configuration),
    )
    values = tuple(round(v, 6) for v in values)
    total = round(sum(a * b for a, b in zip(w, values, strict=True)), 6)
    return CostBreakdown(total, *values)


__all__ = [
    "FAMILIES",
    "PROFILE_WEIGHTS",
    "CostBreakdown",
    "mapping_cost",
    "config_footprint",
    "perf_proxy",
    "placement_pressure",
    "profile_weights",
    "register_pressure",
    "routing_cost",
    "temporal_cost",
    "tile_classes",
]
