"""From graphs to the CP-SAT problem, and from its solution back to names.

:func:`build_problem` indexes the ADG's ports and routing arcs (spec-mapper-
model.md "Connectivity Matrix"), turns tech-mapping candidates into
:class:`~loomc.solvers.pnr.Match` records with their resource use, and groups
DFG edges by producer port into nets.  Module I/O sentinels are bound by the
same exclusive choice as placements (see :func:`sentinel_candidates`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from loomc.diagnostics import ExitCode, LoomcError
from loomc.graph import model
from loomc.graph.model import NodeKind, NodeRecord
from loomc.mapper.techmap import Candidate, TechMapper, ports_compatible
from loomc.mapper.tiles import tile_classes
from loomc.solvers.pnr import Arc, Endpoint, Match, Net, PnRProblem

#: objective units per unit of reported cost (the solver needs integers)
OBJECTIVE_SCALE = 10_000
#: suffix of the port that stands for a whole full-crossbar switch: its inputs
#: enter the hub and its outputs leave it (``|I| + |O|`` arcs instead of
#: ``|I| x |O|``).  Exact: a crossbar joins any input to any set of outputs, and
#: the hub carries as many nets as the switch has inputs; every wire still
#: carries one net (spec-fabric-switch.md, C4.1).
HUB = "hub"
ROUTING_OPS = frozenset({"fabric.switch", "fabric.temporal_sw", "fabric.fifo",
                         "fabric.add_tag", "fabric.map_tag", "fabric.del_tag"})


@dataclass(frozen=True)
class IndexedProblem:
    """The solver problem plus the tables that name its integers."""

    problem: PnRProblem
    port_ids: tuple[str, ...]
    sw_node_ids: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    #: per net: the DFG edge ids of its sinks, in sink order
    net_edges: tuple[tuple[str, ...], ...]
    #: ports standing for a whole full-crossbar switch (see :data:`HUB`)
    hub_ports: frozenset[int] = frozenset()
    #: ADG node id of each temporal PE, by the solver's temporal-PE index
    tpe_ids: tuple[str, ...] = ()

    def hops(self, path: tuple[int, ...]) -> tuple[tuple[str, str], ...]:
        """A route's hops as ADG port pairs; ``in -> hub -> out`` through a
        crossbar becomes the switch's own ``in -> out`` hop."""
        arcs = self.problem.arcs
        out: list[tuple[str, str]] = []
        pending: str | None = None
        for a in path:
            src, dst = arcs[a].src, arcs[a].dst
            if dst in self.hub_ports:
                pending = self.port_ids[src]
            elif src in self.hub_ports:
                out.append((pending or self.port_ids[src], self.port_ids[dst]))
                pending = None
            else:
                out.append((self.port_ids[src], self.port_ids[dst]))
        return tuple(out)


class MappingInfeasible(LoomcError):
    """No mapping can exist; ``code`` is a ``CPL_MAPPER_*`` rule."""

    def __init__(self, message: str, code: str, *, loc=None, unmapped=()):
        super().__init__(message, loc=loc, code=code, exit_code=ExitCode.NO_MAPPING)
        self.unmapped = tuple(unmapped)


def sentinel_candidates(dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph) -> tuple[Candidate, ...]:
    """Where each DFG module I/O sentinel may bind (spec "MapPort" on sentinels).

    The spec's convention is positional, but Loom's generated fabrics order
    their ports ``memref*, native*, tagged*`` by kind while a DFG keeps source
    order (the corpus has ``(memref, index, none)`` DFGs on ``(memref, none,
    bits<57>)`` fabrics), so every type-compatible (C2) fabric port is a
    candidate and the solver picks an exclusive binding; the positional one is
    preferred through the objective.  A sentinel with no compatible fabric port
    is ``CPL_MAPPER_SENTINEL_MISMATCH``."""
    sw_ports, hw_ports = model.ports(dfg), model.ports(adg)
    out: list[Candidate] = []
    for kind, attr in ((NodeKind.MODULE_INPUT, "output_ports"),
                       (NodeKind.MODULE_OUTPUT, "input_ports")):
        what = "input" if kind is NodeKind.MODULE_INPUT else "output"
        hws = [n for n in model.nodes(adg) if n.kind is kind]
        for sw in (n for n in model.nodes(dfg) if n.kind is kind):
            sp = getattr(sw, attr)[0]
            found = False
            for hw in hws:
                hp = getattr(hw, attr)[0]
                if ports_compatible(sw_ports[sp], hw_ports[hp], relax_tag=False):
                    found = True
                    binding = ((sp, hp),)
                    out.append(Candidate(
                        hw_node=hw.id, sw_nodes=(sw.id,),
                        inputs=binding if kind is NodeKind.MODULE_OUTPUT else (),
                        outputs=binding if kind is NodeKind.MODULE_INPUT else (),
                    ))
            if not found:
                raise MappingInfeasible(
                    f"DFG {what} {sw.index} '{sw.name}' ({sw_ports[sp].type}) has no "
                    f"type-compatible fabric {what}",
                    "CPL_MAPPER_SENTINEL_MISMATCH", unmapped=(sw.id,),
                )
    return tuple(out)


def build_candidates(dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph) -> tuple[Candidate, ...]:
    """All candidates; an op with none is ``CPL_MAPPER_NO_COMPATIBLE_HW``
    (spec-mapper-algorithm.md "Stage 1", reachability check)."""
    mapper = TechMapper(dfg, adg)
    cands: list[Candidate] = list(mapper.group_candidates())
    for sw in mapper.sw_nodes:
        own = mapper.candidates_for(sw)
        if not own and not any(sw.id in c.sw_nodes for c in cands):
            raise MappingInfeasible(
                f"no hardware node can execute '{sw.op_name}' (DFG node '{sw.name}')",
                "CPL_MAPPER_NO_COMPATIBLE_HW",
                unmapped=(sw.id,),
            )
        cands.extend(own)
    # sentinels last: a missing op kind (e.g. no memory at all) is the root cause
    # to report before the memref argument that would have fed it
    return tuple(sentinel_candidates(dfg, adg)) + tuple(cands)


def _sentinel_cost(sw: NodeRecord, hw: NodeRecord) -> int:
    """Prefer the spec's positional sentinel binding (argument i → input i)."""
    if not sw.is_sentinel:
        return 0
    return 0 if sw.index == hw.index else 1


def _resources(adg: nx.MultiDiGraph, cand: Candidate) -> tuple[tuple[str, int], ...]:
    """What a candidate consumes: a PE is exclusive; a temporal PE spends one
    instruction per op (C5.1); a memory is exclusive to one DFG memory."""
    if cand.temporal_pe is not None:
        return ((f"tpe:{cand.temporal_pe}", len(cand.sw_nodes)),)
    return ((f"hw:{cand.hw_node}", 1),)


def build_problem(
    dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph, candidates: tuple[Candidate, ...],
    strict_switches: bool = False, weights: tuple[float, ...] = (1.0, 1.0),
) -> IndexedProblem:
    """Index the graphs for the solver.

    ``strict_switches``: spec-fabric-switch.md lets a plain switch output select
    one input (a merge is CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT), yet Loom's
    temporal mapper tests expect tagged tokens of different values to merge at
    plain tagged switches (its config generator emits such route tables and its
    fabric-tdd greens contain them).  loomc follows Loom's practice by default
    and reports every such merge as a warning; ``strict_switches`` enforces the
    spec rule instead.  Native switches are exclusive either way (C4.1).

    ``weights``: the profile's (placement, routing[, temporal]) family weights;
    the temporal weight prices a temporal register (0 when absent)."""
    hw_ports = model.ports(adg)
    hw_recs = {n.id: n for n in model.nodes(adg)}
    hubs = {rec.id: f"{rec.id}:{HUB}" for rec in model.nodes(adg) if _is_crossbar(rec, hw_ports)}
    port_ids = tuple(hw_ports) + tuple(hubs.values())
    pidx = {p: i for i, p in enumerate(port_ids)}
    arcs: list[Arc] = []
    for edge in model.edges(adg):
        # spec-mapper-cost.md "Routing Cost": a switch hop costs more than the
        # direct hop into an endpoint (2 vs 1 here, 1.0 vs 0.5 in the report)
        into_routing = hw_recs[edge.dst_node].op_name in ROUTING_OPS
        arcs.append(Arc(pidx[edge.src_port], pidx[edge.dst_port], 2 if into_routing else 1))
    exclusive: list[tuple[int, ...]] = []
    for rec in model.nodes(adg):
        if rec.id in hubs:
            hub = pidx[hubs[rec.id]]
            arcs.extend(Arc(pidx[p], hub, 0) for p in rec.input_ports)
            arcs.extend(Arc(hub, pidx[p], 0) for p in rec.output_ports)
            continue
        into: dict[str, list[int]] = defaultdict(list)
        for src, dst in rec.routes:
            into[dst].append(len(arcs))
            arcs.append(Arc(pidx[src], pidx[dst], 0))
        if strict_switches and rec.op_name == "fabric.switch":
            exclusive.extend(tuple(g) for g in into.values() if len(g) > 1)
    routing_ports = {pidx[p] for rec in model.nodes(adg) if rec.op_name in ROUTING_OPS
                     for p in (*rec.input_ports, *rec.output_ports)}
    routing_ports.update(pidx[h] for h in hubs.values())

    # sentinels are "placed" on fabric I/O ports by the same exclusive choice
    sw_ops = list(model.nodes(dfg))
    hw_rec = {n.id: n for n in model.nodes(adg)}
    sw_index = {n.id: i for i, n in enumerate(sw_ops)}
    sw_ports = model.ports(dfg)
    tpe_index = {rec.id: i for i, rec in enumerate(n for n in model.nodes(adg) if n.is_virtual)}
    hw_index = {rec_id: i for i, rec_id in enumerate(hw_recs)}
    matches = []
    for cand in candidates:
        matches.append(Match(
            hw_node=hw_index[cand.hw_node],
            sw_nodes=tuple(sw_index[s] for s in cand.sw_nodes),
            inputs=tuple((sw_index[sw_ports[sp].node], sw_ports[sp].index, pidx[hp])
                         for sp, hp in cand.inputs),
            outputs=tuple((sw_index[sw_ports[sp].node], sw_ports[sp].index, pidx[hp])
                          for sp, hp in cand.outputs),
            uses=_resources(adg, cand),
            cost=_sentinel_cost(sw_ops[sw_index[cand.sw_nodes[0]]], hw_rec[cand.hw_node]),
            temporal_pe=None if cand.temporal_pe is None else tpe_index[cand.temporal_pe],
        ))
    capacity: dict[str, int] = {}
    tpe_bits: dict[int, int] = {}
    tpe_regs: dict[int, int] = {}
    for rec in model.nodes(adg):
        if rec.is_virtual:
            capacity[f"tpe:{rec.id}"] = int(rec.param("num_instruction", 1) or 1)
            tpe_regs[tpe_index[rec.id]] = int(rec.param("num_register", 0) or 0)
            first = hw_ports[rec.input_ports[0]] if rec.input_ports else None
            tpe_bits[tpe_index[rec.id]] = (first.tag_width or 0) if first else 0
        elif rec.is_placement_target or rec.is_sentinel:
            capacity[f"hw:{rec.id}"] = 1

    nets_by_src: dict[str, list] = defaultdict(list)
    for edge in model.edges(dfg):
        nets_by_src[edge.src_port].append(edge)
    nets, net_edges = [], []
    for src_port, edges in nets_by_src.items():
        src_rec = sw_ports[src_port]
        sinks = tuple(Endpoint(sw_index[sw_ports[e.dst_port].node], sw_ports[e.dst_port].index)
                      for e in edges)
        nets.append(Net(src_port, Endpoint(sw_index[src_rec.node], src_rec.index), sinks))
        net_edges.append(tuple(e.id for e in edges))

    # cost families 1-2 in integer units: routing is normalised by the number of
    # DFG edges and its arc weights are doubled; pressure by the number of tiles
    classes = list(tile_classes(adg).values())
    n_edges = max(1, sum(len(n.sinks) for n in nets))
    w_place, w_route = weights[0], weights[1]
    route_weight = max(0, round(OBJECTIVE_SCALE * w_route / (2 * n_edges)))
    tiles = tuple(
        (tuple(hw_index[h] for h in members),
         max(0, round(OBJECTIVE_SCALE * w_place / (len(members) ** 2 * len(classes)))))
        for members in classes
    )
    # cost family 3, register pressure (spec-mapper-cost.md "Temporal Cost",
    # loomc.mapper.cost.temporal_cost): used/num_register averaged over the
    # temporal PEs with registers, a third of the temporal family
    w_temp = weights[2] if len(weights) > 2 else 0.0
    with_regs = [t for t, n in tpe_regs.items() if n > 0]
    registers = tuple(
        (t, tpe_regs[t], max(0, round(OBJECTIVE_SCALE * w_temp
                                      / (3 * tpe_regs[t] * len(with_regs)))))
        for t in sorted(with_regs))
    problem = PnRProblem(
        num_ports=len(port_ids),
        port_tag_bits=tuple(hw_ports[p].tag_width or 0 if p in hw_ports else 0 for p in port_ids),
        port_capacity=tuple((pidx[h], len(hw_recs[r].input_ports)) for r, h in hubs.items()),
        net_arcs=_net_arcs(arcs, matches, nets, routing_ports, len(port_ids)),
        arcs=tuple(arcs),
        num_sw_nodes=len(sw_ops),
        matches=tuple(matches),
        nets=tuple(nets),
        resource_capacity=tuple(sorted(capacity.items())),
        temporal_tag_bits=tuple(sorted(tpe_bits.items())),
        exclusive_arc_groups=tuple(exclusive),
        route_weight=route_weight,
        tiles=tiles if w_place > 0 else (),
        temporal_registers=registers,
    )
    return IndexedProblem(
        problem=problem, port_ids=port_ids, sw_node_ids=tuple(n.id for n in sw_ops),
        candidates=candidates, net_edges=tuple(net_edges),
        hub_ports=frozenset(pidx[h] for h in hubs.values()),
        tpe_ids=tuple(sorted(tpe_index, key=tpe_index.__getitem__)),
    )


def _is_crossbar(rec: NodeRecord, hw_ports) -> bool:
    """A plain native switch whose every input reaches every output."""
    if rec.op_name != "fabric.switch" or not rec.input_ports or not rec.output_ports:
        return False
    if any(hw_ports[p].tag_width for p in (*rec.input_ports, *rec.output_ports)):
        return False
    return len(set(rec.routes)) == len(rec.input_ports) * len(rec.output_ports)


def _net_arcs(arcs: list[Arc], matches: list[Match], nets: list[Net],
              routing_ports: set[int], num_ports: int) -> tuple[tuple[int, ...], ...]:
    """Per net, the arcs its flows can use at all: a flow runs from a port its
    source can bind, through routing-node ports, to a port one of its sinks
    can bind — so an arc is kept only if it lies on such a path (reachable
    forward from the source's ports and backward from the sinks').  Pure
    pruning: no mapping is lost.  Without it every net would carry every
    routing arc of the fabric, all width classes included."""
    outs: dict[tuple[int, int], set[int]] = defaultdict(set)
    ins: dict[tuple[int, int], set[int]] = defaultdict(set)
    for m in matches:
        for sw, idx, port in m.outputs:
            outs[sw, idx].add(port)
        for sw, idx, port in m.inputs:
            ins[sw, idx].add(port)
    src_of = np.array([a.src for a in arcs], dtype=np.int64)
    dst_of = np.array([a.dst for a in arcs], dtype=np.int64)
    is_routing = np.zeros(num_ports, dtype=bool)
    is_routing[sorted(routing_ports)] = True
    inner = is_routing[src_of] & is_routing[dst_of]
    graph = csr_matrix((np.ones(int(inner.sum())), (src_of[inner], dst_of[inner])),
                       shape=(num_ports, num_ports))
    result = []
    for net in nets:
        src = np.zeros(num_ports, dtype=bool)
        src[sorted({net.source.hw_port} if net.source.is_fixed
                   else outs.get((net.source.sw_node, net.source.index), set()))] = True
        dst = np.zeros(num_ports, dtype=bool)
        for sink in net.sinks:
            dst[sorted({sink.hw_port} if sink.is_fixed
                       else ins.get((sink.sw_node, sink.index), set()))] = True
        # routing ports a flow can stand on: entered from the source's ports
        # (forward) and leading to a sink's port (backward)
        fwd = _reachable(graph, np.unique(dst_of[src[src_of] & is_routing[dst_of]]))
        bwd = _reachable(graph.T.tocsr(), np.unique(src_of[dst[dst_of] & is_routing[src_of]]))
        keep = (src[src_of] | fwd[src_of]) & (dst[dst_of] | bwd[dst_of])
        result.append(tuple(int(a) for a in np.nonzero(keep)[0]))
    return tuple(result)


def _reachable(graph: csr_matrix, start: np.ndarray) -> np.ndarray:
    """Ports reachable from ``start`` (included) along ``graph``, as a mask."""
    seen = np.zeros(graph.shape[0], dtype=bool)
    if start.size:
        dist = dijkstra(graph, directed=True, indices=start, min_only=True, unweighted=True)
        seen[np.isfinite(dist)] = True
    return seen
