"""Full-state validation of a place-and-route mapping against C1–C5.

This module re-derives every hard rule of spec-mapper-model.md "Constraint
Classes" from the two graphs and the mapping report alone.  It deliberately
shares no code with the mapper (no tech-mapper, no problem builder, no CP-SAT
model, no decoder): a bug there must not be able to hide here.  The graphs
(``loomc.graph``) are inputs, read as records; every compatibility decision is
made below from the spec text.

Checks, by class (each failure becomes one :class:`Violation`):

* **C1** every DFG operation placed on an existing placement target whose body
  runs it (spec-fabric-pe-ops.md); a ``fabric.pe`` runs exactly one complete
  operation group, matched against its body with operand positions and internal
  edges (spec "Operation Groups", "Subgraph Isomorphism"); memory kinds match
  (C1.4); sentinels are never placed.
* **C2** every external port bound, to a port of the placed hardware node, same
  direction, compatible category and width (FU tag relaxation only on temporal
  FUs); PE ports follow the body's operand/yield wiring; memory ports by role;
  sentinel ports onto distinct module ports of the same kind.
* **C3** every non-internal DFG edge routed; each hop a physical wire or an
  internal connection allowed by ``connectivity_table``; directed; contiguous
  from the bound source port to the bound sink port; no port visited twice;
  fan-out only at switch inputs (C3.6); internal group edges not routed.
* **C4** native ports carry one net; tagged ports carry distinct in-range tags
  (C4.1/C4.2); a switch output selects one input, a temporal switch holds at
  most ``num_route_table`` tags; memory element type, capacity, ld/st ports and
  regions (C4.3–C4.5).
* **C5** temporal entries for exactly the FU-placed ops; slots in range and
  distinct, at most ``num_instruction`` ops; tags in range and distinct; opcode
  = FU index; a route into a temporal PE carries the consumer's tag; register
  edges join two ops of the named temporal PE and are not routed, one writer
  per register, a value in at most one register and then not routed out,
  indices and the number of registers in use within ``num_register`` (C5.2).

Configuration bits (C6) are compared in :mod:`loomc.verify.config_check`.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from loomc.graph import model
from loomc.graph.irutil import memref_bytes
from loomc.graph.model import (
    Direction,
    NodeKind,
    NodeRecord,
    PortCategory,
    PortRecord,
    ResourceClass,
)
from loomc.verify.mapfile import MapDoc, Route
from loomc.verify.violation import Violation

#: routing nodes that forward a token unchanged (spec-mapper-model.md C2
#: "Pass-through routing node type relaxation")
_SWITCHES = frozenset({"fabric.switch", "fabric.temporal_sw"})
_ROUTING = _SWITCHES | {"fabric.fifo", "fabric.add_tag", "fabric.del_tag", "fabric.map_tag"}
#: C1.4 memory kind matching
_MEMORY_KIND = {"handshake.memory": "fabric.memory", "handshake.extmemory": "fabric.extmemory"}
#: spec-mapper-model.md "Runtime-Configurable Parameters": not compared
_RUNTIME_ATTRS = frozenset({"predicate", "cont_cond", "value"})


@dataclass(frozen=True)
class _Graphs:
    """Indexed views of the two graphs (built once per check)."""

    dfg_nodes: dict[str, NodeRecord]
    dfg_ports: dict[str, PortRecord]
    dfg_edges: dict[str, model.EdgeRecord]
    adg_nodes: dict[str, NodeRecord]
    adg_ports: dict[str, PortRecord]
    wires: frozenset[tuple[str, str]]


def _index(dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph) -> _Graphs:
    return _Graphs(
        dfg_nodes={n.id: n for n in model.nodes(dfg)},
        dfg_ports=dict(model.ports(dfg)),
        dfg_edges={e.id: e for e in model.edges(dfg)},
        adg_nodes={n.id: n for n in model.nodes(adg)},
        adg_ports=dict(model.ports(adg)),
        wires=frozenset((e.src_port, e.dst_port) for e in model.edges(adg)),
    )


# --------------------------------------------------------------------------- type rules


def _elem(memref: str) -> str:
    """Element type of ``memref<...xT>`` (``memref<?xi32>`` → ``i32``)."""
    m = re.match(r"memref<(.*)>", memref.strip())
    body = m.group(1) if m else memref
    return body.split("x")[-1].split(",")[0].strip()


def port_compatible(sw: PortRecord, hw: PortRecord, *, fu_relaxed: bool) -> str | None:
    """Why ``sw`` cannot bind to ``hw`` (spec-mapper-model.md C2), or None.

    Native ↔ native: same bit width (the hardware carries bits).  Tagged ↔
    tagged: value and tag widths both equal.  Native ↔ tagged only on temporal
    PE FUs, where tags are stripped at the FU boundary
    (spec-fabric-temporal_pe.md), comparing value widths.  ``none`` is a
    0-bit token (C3.5).  memref ports: same element type."""
    if sw.direction is not hw.direction:
        return f"direction {sw.direction.value} vs {hw.direction.value}"
    if sw.category is PortCategory.MEMREF or hw.category is PortCategory.MEMREF:
        if sw.category is not hw.category:
            other = hw if sw.category is PortCategory.MEMREF else sw
            return f"memref vs {other.category.value}"
        if _elem(sw.type) != _elem(hw.type):
            return f"memref element {_elem(sw.type)} vs {_elem(hw.type)}"
        return None
    sw_tagged, hw_tagged = sw.category is PortCategory.TAGGED, hw.category is PortCategory.TAGGED
    if sw_tagged and hw_tagged:
        if sw.tag_width != hw.tag_width:
            return f"tag width {sw.tag_width} vs {hw.tag_width}"
    elif sw_tagged != hw_tagged and not (hw_tagged and fu_relaxed):
        return f"{sw.category.value} type {sw.type} vs {hw.category.value} type {hw.type}"
    if (sw.width or 0) != (hw.width or 0):
        return f"width {sw.width or 0} vs {hw.width or 0} ({sw.type} vs {hw.type})"
    return None


# --------------------------------------------------------------------------- helpers


def _owner(hw: NodeRecord) -> str:
    """The node that owns a hardware node's ports (the temporal PE for an FU)."""
    return hw.parent_temporal_pe or hw.id


def _connectivity(rec: NodeRecord) -> frozenset[tuple[str, str]]:
    """Internal in→out connections of a routing node, from its hardware
    parameters: ``connectivity_table[output][input]`` row-major, all ones when
    absent (spec-fabric-switch.md, spec-fabric-temporal_sw.md
    "connectivity_table"); one-in/one-out pass-through for FIFO and tag ops
    (spec-mapper-model.md "Connectivity Matrix")."""
    ins, outs = rec.input_ports, rec.output_ports
    if rec.op_name in _SWITCHES:
        table = rec.param("connectivity_table")
        table = tuple(table) if table else (1,) * (len(ins) * len(outs))
        return frozenset((ins[i], outs[o]) for o in range(len(outs)) for i in range(len(ins))
                         if o * len(ins) + i < len(table) and int(table[o * len(ins) + i]))
    return frozenset((i, o) for i in ins for o in outs)


def _tag_range(port: PortRecord) -> int:
    return 1 << (port.tag_width or 0)


# --------------------------------------------------------------------------- checker


class _Checker:
    """One validation run; collects violations in deterministic order."""

    def __init__(self, doc: MapDoc, g: _Graphs, strict_switches: bool = False) -> None:
        self.doc, self.g = doc, g
        self.strict_switches = strict_switches
        self.out: list[Violation] = []
        self.place: dict[str, str] = dict(doc.placement)
        self.bind: dict[str, str] = dict(doc.port_binding)
        self.on_hw: dict[str, list[str]] = defaultdict(list)
        for sw, hw in doc.placement:
            self.on_hw[hw].append(sw)
        # DFG edges internal to one fabric.pe operation group (not routed)
        self.internal: set[str] = set()
        self.register_edges = {r.sw_edge for r in doc.registers}
        self.port_edges: dict[str, list[str]] = defaultdict(list)
        for e in g.dfg_edges.values():
            self.port_edges[e.src_port].append(e.id)
            self.port_edges[e.dst_port].append(e.id)
        self._conn: dict[str, frozenset[tuple[str, str]]] = {}
        # PE / FU id -> matched groups (body op index -> DFG op)
        self._fu_groups: dict[str, list[dict[int, str]]] = {}

    def v(self, cls: str, sw: str, hw: str, reason: str) -> None:
        self.out.append(Violation(cls, sw, hw, reason))

    # ---------------------------------------------------------------- C1

    def check_placement(self) -> None:
        g = self.g
        for sw, hw in self.doc.placement:
            node = g.dfg_nodes.get(sw)
            if node is None:
                self.v("C1", sw, hw, "placed node is not in the DFG")
                continue
            if node.is_sentinel:
                self.v("C1", sw, hw, "module I/O sentinels are bound by port, never placed")
                continue
            rec = g.adg_nodes.get(hw)
            if rec is None:
                self.v("C1", sw, hw, "hardware node does not exist in the ADG")
                continue
            if rec.kind is not NodeKind.OPERATION or rec.is_virtual or rec.resource_class not in (
                    ResourceClass.FUNCTIONAL, ResourceClass.MEMORY):
                self.v("C1", sw, hw, f"{rec.op_name} is not a placement target "
                       "(only PEs, temporal-PE FUs and memories are)")
                continue
            if rec.resource_class is ResourceClass.MEMORY or node.op_name in _MEMORY_KIND:
                want = _MEMORY_KIND.get(node.op_name)
                if want != rec.op_name:
                    self.v("C1", sw, hw, f"{node.op_name} cannot map to {rec.op_name}")
            elif rec.parent_temporal_pe:
                if node.op_name not in rec.body_ops:
                    self.v("C1", sw, hw, f"{node.op_name} is not in the FU body {rec.body_ops}")
        for node in g.dfg_nodes.values():
            if node.kind is NodeKind.OPERATION and node.id not in self.place:
                self.v("C1", node.id, "", f"{node.op_name} is not placed")
        for hw, sws in sorted(self.on_hw.items()):
            rec = g.adg_nodes.get(hw)
            if rec is None or rec.op_name != "fabric.pe" or not rec.body:
                continue
            members = [s for s in sws if s in g.dfg_nodes and not g.dfg_nodes[s].is_sentinel]
            if rec.parent_temporal_pe:
                self._check_fu_groups(rec, members)
            else:
                self._check_group(rec, members)

    def _check_fu_groups(self, rec: NodeRecord, members: list[str]) -> None:
        """A temporal-PE FU time-shares its body: the ops on it must split into
        whole body matches (one per instruction group)."""
        size = len(rec.body.ops)
        groups = self._partition(rec, sorted(members), size)
        if groups is None:
            names = sorted(self.g.dfg_nodes[s].op_name for s in members)
            self.v("C1", ",".join(sorted(members)), rec.id,
                   f"ops {names} do not split into whole matches of the FU body "
                   f"{list(rec.body_ops)}")
            return
        for assign in groups:
            self._record_internal(rec, assign)
        self._fu_groups[rec.id] = groups

    def _partition(self, rec: NodeRecord, members: list[str],
                   size: int) -> list[dict[int, str]] | None:
        if not members:
            return []
        if len(members) % size:
            return None
        first, rest = members[0], members[1:]
        for others in itertools.combinations(rest, size - 1):
            assign = self._match_group(rec, [first, *others])
            if assign is None:
                continue
            tail = self._partition(rec, [m for m in rest if m not in others], size)
            if tail is not None:
                return [assign, *tail]
        return None

    def _record_internal(self, rec: NodeRecord, assign: dict[int, str]) -> None:
        g = self.g
        for op in rec.body.ops:
            sw = g.dfg_nodes[assign[op.index]]
            for j, ref in enumerate(op.operands):
                if ref.source == "op" and j < len(sw.input_ports):
                    prod = g.dfg_nodes[assign[ref.index]]
                    self.internal.add(f"{prod.output_ports[ref.result]}->{sw.input_ports[j]}")

    def _match_group(self, rec: NodeRecord, members: list[str]) -> dict[int, str] | None:
        """Assign DFG ops to body ops so names, attributes and internal edges agree
        (spec "Subgraph Isomorphism": names, connectivity, operand positions)."""
        body = rec.body
        assert body is not None
        if len(members) != len(body.ops):
            return None
        g = self.g
        for perm in itertools.permutations(members):
            assign = {op.index: sw for op, sw in zip(body.ops, perm, strict=True)}
            if any(g.dfg_nodes[sw].op_name != op.op_name for op, sw in
                   zip(body.ops, perm, strict=True)):
                continue
            if all(self._internal_ok(op, assign) for op in body.ops):
                return assign
        return None

    def _internal_ok(self, op, assign: dict[int, str]) -> bool:
        g = self.g
        node = g.dfg_nodes[assign[op.index]]
        for j, ref in enumerate(op.operands):
            if ref.source != "op":
                continue
            if j >= len(node.input_ports):
                return False
            producer = g.dfg_nodes[assign[ref.index]]
            if ref.result >= len(producer.output_ports):
                return False
            edge = f"{producer.output_ports[ref.result]}->{node.input_ports[j]}"
            if edge not in g.dfg_edges:
                return False
        return True

    def _check_group(self, rec: NodeRecord, members: list[str]) -> None:
        g = self.g
        if not members:
            return
        names = sorted(g.dfg_nodes[s].op_name for s in members)
        if len(members) > len(rec.body.ops):
            self.v("C1", ",".join(sorted(members)), rec.id,
                   f"{len(members)} ops {names} on one PE whose body has "
                   f"{len(rec.body.ops)} op(s): a fabric.pe runs one operation group")
            return
        assign = self._match_group(rec, members)
        if assign is None:
            self.v("C1", ",".join(sorted(members)), rec.id,
                   f"ops {names} do not match the PE body {list(rec.body_ops)} "
                   "(whole group, same ops and internal wiring required)")
            return
        for op in rec.body.ops:
            sw = g.dfg_nodes[assign[op.index]]
            for key, value in op.attrs:
                if key in _RUNTIME_ATTRS or key == "overflowFlags":
                    continue
                have = sw.param(key)
                if key == "step_op" and have is not None and str(have) not in str(value):
                    self.v("C1", sw.id, rec.id, f"step_op {have} vs hardware {value}")
        self._record_internal(rec, assign)
        self._fu_groups[rec.id] = [assign]

    # ---------------------------------------------------------------- C2

    def _expected_pe_ports(self, rec: NodeRecord, assign: dict[int, str]) -> dict[str, str]:
        """sw port → the hw port the body wiring puts it on: operand ``j`` of body
        op ``k`` reads PE input ``arg i``; yield ``i`` is result ``r`` of op ``k``
        (spec "PE Body Internal Edges and Port Binding", positional binding)."""
        g = self.g
        owner = g.adg_nodes[_owner(rec)]
        want: dict[str, str] = {}
        for op in rec.body.ops:
            sw = g.dfg_nodes[assign[op.index]]
            for j, ref in enumerate(op.operands):
                if ref.source == "arg" and j < len(sw.input_ports) and ref.index < len(
                        owner.input_ports):
                    want[sw.input_ports[j]] = owner.input_ports[ref.index]
        for i, ref in enumerate(rec.body.yields):
            if ref.source == "op" and ref.index in assign and i < len(owner.output_ports):
                sw = g.dfg_nodes[assign[ref.index]]
                if ref.result < len(sw.output_ports):
                    want[sw.output_ports[ref.result]] = owner.output_ports[i]
        return want

    def _external(self, port: PortRecord) -> bool:
        """Does the port carry an edge that leaves its operation group?"""
        edges = self.port_edges.get(port.id, ())
        return not edges or any(e not in self.internal for e in edges)

    def check_binding(self) -> None:
        g = self.g
        for sw_port, hw_port in sorted(self.bind.items()):
            sp = g.dfg_ports.get(sw_port)
            if sp is None:
                self.v("C2", sw_port, hw_port, "bound port is not in the DFG")
                continue
            hp = g.adg_ports.get(hw_port)
            if hp is None:
                self.v("C2", sw_port, hw_port, "hardware port does not exist in the ADG")
                continue
            node = g.dfg_nodes[sp.node]
            if node.is_sentinel:
                hw_node = g.adg_nodes[hp.node]
                if hw_node.kind is not node.kind:
                    self.v("C2", sw_port, hw_port, f"{node.kind.value} sentinel bound to a port "
                           f"of {hw_node.op_name}")
                    continue
                why = port_compatible(sp, hp, fu_relaxed=False)
            else:
                hw = self.place.get(node.id)
                rec = g.adg_nodes.get(hw or "")
                if rec is None:
                    continue  # placement problem, reported under C1
                if hp.node != _owner(rec):
                    self.v("C2", sw_port, hw_port, f"port belongs to {hp.node}, but {node.id} is "
                           f"placed on {rec.id}")
                    continue
                # tags are stripped at the FU boundary (spec-mapper-model.md C2) and
                # hidden from the body of a tagged fabric.pe (spec-fabric-pe.md "Tag
                # Visibility and Block Arguments"): compare value widths there
                why = port_compatible(sp, hp, fu_relaxed=rec.op_name == "fabric.pe")
                if why is None and rec.resource_class is ResourceClass.MEMORY and sp.role and (
                        hp.role and sp.role != hp.role):
                    why = f"memory port role {sp.role} bound to {hp.role}"
            if why:
                self.v("C2", sw_port, hw_port, why)
        # every external port of a placed op / every sentinel port is bound
        for port in g.dfg_ports.values():
            if port.id in self.bind:
                continue
            node = g.dfg_nodes[port.node]
            if node.kind is NodeKind.OPERATION and node.id not in self.place:
                continue
            if self.port_edges.get(port.id) and self._external(port):
                self.v("C2", port.id, "", "port of a mapped node is not bound")
        # positional/body wiring for PEs and FUs
        for hw in sorted(self.on_hw):
            rec = g.adg_nodes.get(hw)
            if rec is None or rec.op_name != "fabric.pe" or not rec.body:
                continue
            for assign in self._fu_groups.get(hw, ()):
                for sw_port, want in sorted(self._expected_pe_ports(rec, assign).items()):
                    have = self.bind.get(sw_port)
                    if have is not None and have != want:
                        self.v("C2", sw_port, have, f"PE binding is positional through the body: "
                               f"expected {want}")
        # distinct hardware ports (shared only by ops time-sharing a temporal PE)
        users: dict[str, list[str]] = defaultdict(list)
        for sw_port, hw_port in self.bind.items():
            users[hw_port].append(sw_port)
        for hw_port, sps in sorted(users.items()):
            hp = g.adg_ports.get(hw_port)
            if len(sps) < 2 or hp is None:
                continue
            owner = g.adg_nodes.get(hp.node)
            if owner is not None and owner.is_virtual:
                continue
            self.v("C2", ",".join(sorted(sps)), hw_port,
                   f"{len(sps)} software ports bound to one hardware port")

    # ---------------------------------------------------------------- C3

    def check_routes(self) -> None:
        g = self.g
        routes = {r.sw_edge: r for r in self.doc.routes}
        for edge in g.dfg_edges.values():
            if edge.id in self.internal:
                if edge.id in routes:
                    self.v("C3", edge.id, "", "edge inside one PE operation group must not be "
                           "routed through the fabric")
                continue
            if edge.id in self.register_edges:
                continue
            if edge.id not in routes:
                self.v("C3", edge.id, "", "DFG edge is not routed")
        for r in self.doc.routes:
            edge = g.dfg_edges.get(r.sw_edge)
            if edge is None:
                self.v("C3", r.sw_edge, "", "routed edge is not in the DFG")
                continue
            if (r.src_sw_port, r.dst_sw_port) != (edge.src_port, edge.dst_port):
                self.v("C3.4", r.sw_edge, "", "route endpoints name other software ports "
                       f"({r.src_sw_port} -> {r.dst_sw_port})")
            if edge.id not in self.internal:
                self._check_path(r, edge)

    def _hop_ok(self, a: str, b: str) -> str | None:
        g = self.g
        pa, pb = g.adg_ports.get(a), g.adg_ports.get(b)
        if pa is None or pb is None:
            return f"port {a if pa is None else b} does not exist"
        if (a, b) in g.wires:
            return None
        if (b, a) in g.wires:
            return "hop runs against the wire direction"
        if pa.node == pb.node:
            rec = g.adg_nodes[pa.node]
            if rec.op_name not in _ROUTING:
                return f"cannot route through {rec.op_name} {rec.id}"
            if pa.direction is not Direction.IN or pb.direction is not Direction.OUT:
                return "internal hop must go from an input to an output"
            if rec.id not in self._conn:
                self._conn[rec.id] = _connectivity(rec)
            if (a, b) not in self._conn[rec.id]:
                return f"{rec.id} has no connection {a} -> {b} (connectivity_table)"
            return None
        return "no physical wire between these ports"

    def _check_path(self, r: Route, edge: model.EdgeRecord) -> None:
        if not r.hops:
            self.v("C3", r.sw_edge, "", "route has no hops")
            return
        src, dst = self.bind.get(edge.src_port), self.bind.get(edge.dst_port)
        if src is not None and r.hops[0][0] != src:
            self.v("C3.4", r.sw_edge, r.hops[0][0], f"route starts at {r.hops[0][0]}, not at "
                   f"the bound source port {src}")
        if dst is not None and r.hops[-1][1] != dst:
            self.v("C3.4", r.sw_edge, r.hops[-1][1], f"route ends at {r.hops[-1][1]}, not at "
                   f"the bound sink port {dst}")
        seen: set[str] = set()
        for k, (a, b) in enumerate(r.hops):
            if k and r.hops[k - 1][1] != a:
                self.v("C3", r.sw_edge, a, f"path is not contiguous: hop {k} starts at {a} "
                       f"after {r.hops[k - 1][1]}")
            why = self._hop_ok(a, b)
            if why:
                self.v("C3.1", r.sw_edge, f"{a}->{b}", why)
            for p in (a, b) if k == 0 else (b,):
                if p in seen:
                    self.v("C3", r.sw_edge, p, "route visits a port twice")
                seen.add(p)

    def check_fanout(self) -> None:
        """C3.6: one net may split only at a switch input (broadcast)."""
        g = self.g
        succ: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in self.doc.routes:
            for a, b in r.hops:
                succ[(r.src_sw_port, a)].add(b)
        for (net, port), nexts in sorted(succ.items()):
            if len(nexts) < 2:
                continue
            p = g.adg_ports.get(port)
            rec = g.adg_nodes.get(p.node) if p else None
            ok = p is not None and rec is not None and rec.op_name in _SWITCHES and \
                p.direction is Direction.IN and all(g.adg_ports.get(n) is not None and
                                                    g.adg_ports[n].node == rec.id for n in nexts)
            if not ok:
                self.v("C3.6", net, port, f"value fans out to {sorted(nexts)} without a switch "
                       "broadcast (implicit hardware fan-out)")

    # ---------------------------------------------------------------- C4

    def _entry_tags(self, r: Route) -> dict[str, int | None]:
        """Tag the net carries at each tagged port of its path: the route's tag,
        unknown (None) after a ``fabric.map_tag`` rewrote it."""
        g = self.g
        tags: dict[str, int | None] = {}
        tag: int | None = r.tag
        rewritten = False
        for a, b in r.hops:
            for p in (a, b):
                port = g.adg_ports.get(p)
                if port is None:
                    continue
                if port.node in g.adg_nodes and g.adg_nodes[port.node].op_name == \
                        "fabric.map_tag" and port.direction is Direction.OUT:
                    rewritten = True
                if port.is_tagged:
                    tags[p] = None if rewritten else tag
        return tags

    def check_capacity(self) -> None:
        g = self.g
        nets_at: dict[str, dict[str, int | None]] = defaultdict(dict)
        for r in self.doc.routes:
            tags = self._entry_tags(r)
            for a, b in r.hops:
                for p in (a, b):
                    if p in g.adg_ports:
                        nets_at[p].setdefault(r.src_sw_port, tags.get(p, r.tag))
        for port_id, nets in sorted(nets_at.items()):
            port = g.adg_ports[port_id]
            if len(nets) < 2 and not port.is_tagged:
                continue
            if not port.is_tagged:
                self.v("C4.1", ",".join(sorted(nets)), port_id,
                       f"native hardware port carries {len(nets)} software nets")
                continue
            limit = _tag_range(port)
            for net, tag in sorted(nets.items()):
                if tag is not None and not 0 <= tag < limit:
                    self.v("C4.2", net, port_id, f"tag {tag} does not fit i{port.tag_width}")
            if len(nets) < 2:
                continue
            by_tag: dict[int | None, list[str]] = defaultdict(list)
            for net, tag in nets.items():
                by_tag[tag].append(net)
            for tag, same in sorted(by_tag.items(), key=lambda kv: str(kv[0])):
                if len(same) > 1:
                    self.v("C4.2", ",".join(sorted(same)), port_id,
                           f"shared tagged port: nets reuse tag {tag}")
            if len(nets) > limit:
                self.v("C4.2", ",".join(sorted(nets)), port_id,
                       f"{len(nets)} nets exceed 2^{port.tag_width} tags")
        self._check_switch_inputs()
        self._check_memories()

    def _check_switch_inputs(self) -> None:
        """spec-fabric-switch.md: each output selects at most one routed input;
        spec-fabric-temporal_sw.md: at most ``num_route_table`` tag slots."""
        g = self.g
        feeds: dict[str, set[str]] = defaultdict(set)
        tsw_tags: dict[str, set[int | None]] = defaultdict(set)
        for r in self.doc.routes:
            tags = self._entry_tags(r)
            for a, b in r.hops:
                pa, pb = g.adg_ports.get(a), g.adg_ports.get(b)
                if pa is None or pb is None or pa.node != pb.node:
                    continue
                rec = g.adg_nodes[pa.node]
                if rec.op_name == "fabric.switch":
                    feeds[b].add(a)
                elif rec.op_name == "fabric.temporal_sw":
                    tsw_tags[rec.id].add(tags.get(a, r.tag))
        for out, ins in sorted(feeds.items()):
            # Tagged tokens of different values merging at a plain switch output
            # break spec-fabric-switch.md but are Loom's practice (its temporal
            # mapper tests and config generator rely on them); loomc accepts them
            # as the mapper does (loomc.mapper.problem.build_problem) unless the
            # strict rule is asked for.  Untagged merges are always illegal.
            port = g.adg_ports.get(out)
            tagged = port is not None and port.tag_width is not None
            if len(ins) > 1 and (self.strict_switches or not tagged):
                self.v("C4", "", out, f"switch output selects {len(ins)} inputs {sorted(ins)} "
                       "(one routed input per output)")
        for node, tags in sorted(tsw_tags.items()):
            limit = int(self.g.adg_nodes[node].param("num_route_table", 0) or 0)
            if limit and len(tags) > limit:
                self.v("C4", "", node, f"{len(tags)} route slots used, num_route_table {limit}")

    def _check_memories(self) -> None:
        g = self.g
        for hw, sws in sorted(self.on_hw.items()):
            rec = g.adg_nodes.get(hw)
            if rec is None or rec.resource_class is not ResourceClass.MEMORY:
                continue
            mems = [g.dfg_nodes[s] for s in sws if s in g.dfg_nodes
                    and g.dfg_nodes[s].op_name in _MEMORY_KIND]
            hw_type = str(rec.param("memref_type", "") or "")
            for m in mems:
                sw_type = str(m.param("memref_type", "") or "")
                if hw_type and sw_type and _elem(hw_type) != _elem(sw_type):
                    self.v("C4.3", m.id, hw, f"memref element {_elem(sw_type)} vs "
                           f"{_elem(hw_type)}")
            if rec.op_name == "fabric.memory" and hw_type:
                cap = memref_bytes(hw_type)
                need = [memref_bytes(str(m.param("memref_type", "") or "")) for m in mems]
                if cap is not None and all(n is not None for n in need) and sum(need) > cap:
                    self.v("C4.3", ",".join(m.id for m in mems), hw,
                           f"{sum(need)} bytes of software memory exceed {cap} bytes")
            for key in ("ldCount", "stCount"):
                have = int(rec.param(key, 0) or 0)
                need = sum(int(m.param(key, 0) or 0) for m in mems)
                if need > have:
                    self.v("C4.4", ",".join(m.id for m in mems), hw,
                           f"{key} {need} exceeds hardware {key} {have}")
            regions = int(rec.param("numRegion", 1) or 1)
            if len(mems) > regions:
                self.v("C4.5", ",".join(m.id for m in mems), hw,
                       f"{len(mems)} software memories exceed numRegion {regions}")

    # ---------------------------------------------------------------- C5

    def check_temporal(self) -> None:
        g = self.g
        entries = {t.sw_node: t for t in self.doc.temporal}
        per_tpe: dict[str, list] = defaultdict(list)
        for sw, hw in self.doc.placement:
            rec = g.adg_nodes.get(hw)
            on_fu = rec is not None and rec.parent_temporal_pe is not None
            t = entries.get(sw)
            if on_fu and t is None:
                self.v("C5", sw, hw, "op on a temporal-PE FU has no slot/tag assignment")
            elif t is not None and not on_fu:
                self.v("C5", sw, t.temporal_pe, "temporal assignment for an op not on an FU")
            elif t is not None:
                if t.temporal_pe != rec.parent_temporal_pe:
                    self.v("C5", sw, t.temporal_pe, f"assigned to temporal PE {t.temporal_pe} "
                           f"but placed on an FU of {rec.parent_temporal_pe}")
                want = int(rec.param("fu_index", -1))
                if want >= 0 and t.opcode != want:
                    self.v("C5", sw, hw, f"opcode {t.opcode} does not select FU {rec.id} "
                           f"(index {want})")
                per_tpe[rec.parent_temporal_pe].append(t)
        for t in self.doc.temporal:
            if t.sw_node not in self.place:
                self.v("C5", t.sw_node, t.temporal_pe, "temporal assignment for an unplaced op")
        for tpe, ts in sorted(per_tpe.items()):
            rec = g.adg_nodes[tpe]
            num = int(rec.param("num_instruction", 0) or 0)
            if len(ts) > num:
                self.v("C5.1", ",".join(sorted(t.sw_node for t in ts)), tpe,
                       f"{len(ts)} ops exceed num_instruction {num}")
            tw = max((g.adg_ports[p].tag_width or 0 for p in rec.input_ports + rec.output_ports
                      if p in g.adg_ports), default=0)
            for t in ts:
                if not 0 <= t.slot < max(num, 1):
                    self.v("C5.1", t.sw_node, tpe, f"slot {t.slot} outside 0..{num - 1}")
                if not 0 <= t.tag < (1 << tw):
                    self.v("C5.3", t.sw_node, tpe, f"tag {t.tag} does not fit i{tw}")
            for key, cls in (("slot", "C5.1"), ("tag", "C5.4")):
                groups: dict[int, list[str]] = defaultdict(list)
                for t in ts:
                    groups[getattr(t, key)].append(t.sw_node)
                for value, same in sorted(groups.items()):
                    if len(same) > 1:
                        self.v(cls, ",".join(sorted(same)), tpe,
                               f"{key} {value} used by {len(same)} ops in one temporal PE")
        self._check_entry_tags(entries)
        self._check_registers()

    def _check_entry_tags(self, entries) -> None:
        """The tag a route delivers into a temporal PE selects the consumer's
        instruction (spec-fabric-temporal_pe.md "instruction matching"), so it
        must be the consumer's tag."""
        g = self.g
        for r in self.doc.routes:
            edge = g.dfg_edges.get(r.sw_edge)
            t = entries.get(edge.dst_node) if edge else None
            if t is None or not r.hops:
                continue
            tags = self._entry_tags(r)
            last = r.hops[-1][1]
            if last in tags and tags[last] is not None and tags[last] != t.tag:
                self.v("C5", r.sw_edge, last, f"route arrives with tag {tags[last]} but "
                       f"{edge.dst_node} matches tag {t.tag}")

    def _check_registers(self) -> None:
        """C5.2 and spec-fabric-temporal_pe.md "Register Semantics": a register
        edge joins two ops on FUs of the named temporal PE and is not routed;
        a register has one writer (one producer result) and any number of
        readers; a result goes either to one register or to an output port
        (``res_is_reg``), so a value in a register is neither routed nor in a
        second register; indices lie in ``0..num_register-1``; the registers
        in use (one per value — edges of one value share it) number at most
        ``num_register``."""
        g = self.g
        routed_values = {r.src_sw_port for r in self.doc.routes}
        routed_edges = {r.sw_edge for r in self.doc.routes}
        per: dict[str, list] = defaultdict(list)
        writers: dict[tuple[str, int], set[str]] = defaultdict(set)
        homes: dict[str, set[tuple[str, int]]] = defaultdict(set)
        for reg in self.doc.registers:
            per[reg.temporal_pe].append(reg)
            edge = g.dfg_edges.get(reg.sw_edge)
            if edge is None:
                self.v("C5.2", reg.sw_edge, reg.temporal_pe, "register edge is not in the DFG")
                continue
            writers[reg.temporal_pe, reg.index].add(edge.src_port)
            homes[edge.src_port].add((reg.temporal_pe, reg.index))
            for end in (edge.src_node, edge.dst_node):
                rec = g.adg_nodes.get(self.place.get(end, ""))
                if rec is None or rec.parent_temporal_pe != reg.temporal_pe:
                    self.v("C5.2", reg.sw_edge, reg.temporal_pe,
                           f"register edge end {end} is not on an FU of this temporal PE")
            if reg.sw_edge in routed_edges:
                self.v("C5.2", reg.sw_edge, reg.temporal_pe,
                       "edge is both in a register and routed through the fabric")
            elif edge.src_port in routed_values:
                self.v("C5.2", reg.sw_edge, reg.temporal_pe,
                       f"value {edge.src_port} is routed out and also written to a register "
                       "(a result goes to one register or one output)")
        for (tpe, index), srcs in sorted(writers.items()):
            if len(srcs) > 1:
                self.v("C5.2", ",".join(sorted(srcs)), tpe,
                       f"register {index} has {len(srcs)} writers (one allowed)")
        for src, where in sorted(homes.items()):
            if len(where) > 1:
                self.v("C5.2", src, ",".join(sorted(t for t, _ in where)),
                       f"value written to {len(where)} registers {sorted(where)}")
        for tpe, regs in sorted(per.items()):
            rec = g.adg_nodes.get(tpe)
            num = int(rec.param("num_register", 0) or 0) if rec else 0
            if rec is None or not rec.is_virtual:
                self.v("C5.2", ",".join(r.sw_edge for r in regs), tpe,
                       "register assignment names no temporal PE")
            held = {r.index for r in regs}
            if len(held) > num:
                self.v("C5.2", ",".join(r.sw_edge for r in regs), tpe,
                       f"{len(held)} registers ({len(regs)} register edges) exceed "
                       f"num_register {num}")
            for reg in regs:
                if not 0 <= reg.index < num:
                    self.v("C5.2", reg.sw_edge, tpe, f"register {reg.index} outside 0..{num - 1}")


def check_pnr(doc: MapDoc, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph,
              strict_switches: bool = False) -> tuple[Violation, ...]:
    """All C1–C5 violations of ``doc`` on the two graphs, sorted and unique.

    ``strict_switches`` also rejects tagged merges at plain switch outputs (see
    ``_check_switch_inputs``)."""
    c = _Checker(doc, _index(dfg, adg), strict_switches)
    if doc.status != "success":
        return (Violation("C1", "", "", f"mapping status is {doc.status!r}, not 'success'"),)
    c.check_placement()
    c.check_binding()
    c.check_routes()
    c.check_fanout()
    c.check_capacity()
    c.check_temporal()
    return tuple(sorted(set(c.out)))


__all__ = ["check_pnr", "port_compatible"]
