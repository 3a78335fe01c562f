"""Records of the mapper's graph model: ports, nodes and edges (spec-mapper-model.md).

Both the software graph (DFG) and the hardware graph (ADG) use the same three
records, stored as data on a :class:`networkx.MultiDiGraph`:

* graph nodes are node ids; ``G.nodes[id]["record"]`` is a :class:`NodeRecord`;
* graph edges go from the owning node of the source port to the owning node of
  the destination port, keyed by edge id; ``G.edges[u, v, key]["record"]`` is an
  :class:`EdgeRecord` (one per port→port connection, spec "Edge");
* ports live in ``G.graph["ports"]`` (id → :class:`PortRecord`), because the spec
  makes ports first-class: a temporal PE's FU nodes share ports owned by the
  virtual node (spec "Temporal PE Representation"), which a plain node-level
  graph cannot express.

Ids are strings built from names in the source (sym_name paths, SSA names,
argument positions), so they are stable across runs and readable in reports.
Records are frozen: the graphs are read-only inputs of the mapper (spec "DFG
Immutability", "ADG Immutability").
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from typing import Any

import networkx as nx


class NodeKind(str, enum.Enum):
    """Spec "Node": an operation/resource, or a module I/O sentinel."""

    OPERATION = "operation"
    MODULE_INPUT = "module_input"
    MODULE_OUTPUT = "module_output"


class ResourceClass(str, enum.Enum):
    """spec-mapper-model.md "ADG Resource Classes" (DFG nodes carry none)."""

    FUNCTIONAL = "functional"
    ROUTING = "routing"
    MEMORY = "memory"
    BOUNDARY = "boundary"


class Direction(str, enum.Enum):
    IN = "in"
    OUT = "out"


class PortCategory(str, enum.Enum):
    """spec-mapper-model.md "Port Type Classification", plus memref/none."""

    NATIVE = "native"
    TAGGED = "tagged"
    NONE = "none"
    MEMREF = "memref"


@dataclass(frozen=True)
class PortRecord:
    """One connector of a node.

    ``width`` is the payload (value) width in bits (``none`` → 0, memref → None);
    ``tag_width`` is set only for ``!dataflow.tagged`` ports.  ``role`` names the
    port's job where the op defines one (memory ``ld_addr``/``st_data``…, load/store
    PE ``addr_from_comp``…), else None.
    """

    id: str
    node: str
    direction: Direction
    index: int
    type: str
    category: PortCategory
    width: int | None
    tag_width: int | None = None
    value_type: str = ""
    role: str | None = None

    @property
    def is_tagged(self) -> bool:
        return self.tag_width is not None


@dataclass(frozen=True)
class EdgeRecord:
    """A port→port connection: a physical wire (ADG) or an SSA use (DFG)."""

    id: str
    src_port: str
    dst_port: str
    src_node: str
    dst_node: str


@dataclass(frozen=True)
class BodyRef:
    """Where a PE-body operand comes from: PE input ``arg`` i, or result ``result``
    of body op ``index`` (source ``"op"``)."""

    source: str
    index: int
    result: int = 0


@dataclass(frozen=True)
class BodyOp:
    """One operation of a PE body, with its operand sources (for tech-mapping)."""

    index: int
    op_name: str
    operands: tuple[BodyRef, ...]
    operand_types: tuple[str, ...]
    result_types: tuple[str, ...]
    attrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PeBody:
    """A flattened ``fabric.pe`` body: its ops, the native types of its block
    arguments, what it yields, and the internal producer→consumer edges
    (spec-mapper-model.md "PE Body Internal Edges and Port Binding")."""

    ops: tuple[BodyOp, ...]
    arg_types: tuple[str, ...]
    yields: tuple[BodyRef, ...]
    edges: tuple[tuple[int, int], ...]

    @property
    def op_names(self) -> tuple[str, ...]:
        return tuple(op.op_name for op in self.ops)


@dataclass(frozen=True)
class NodeRecord:
    """A graph node (spec "Node") with the attributes the mapper needs.

    Common: ``id``, ``kind``, ``op_name`` (``fabric.switch``, ``arith.addi``,
    ``module_input``…), display ``name`` (hierarchical sym_name path or SSA name),
    port id lists, ``index`` (argument/result position for sentinels, block
    position for ops), ``loc`` (``file:line`` when known), ``params`` (hardware
    parameters for ADG nodes, op attributes for DFG nodes, as sorted pairs).

    ADG only: ``resource_class``; ``body`` for PEs and temporal-PE FUs;
    ``parent_temporal_pe`` on FU nodes; ``fu_nodes``/``is_virtual`` on the
    temporal-PE container; ``routes`` (input port → output port pairs a routing
    node can connect internally, spec "Connectivity Matrix").
    """

    id: str
    kind: NodeKind
    op_name: str
    name: str
    input_ports: tuple[str, ...]
    output_ports: tuple[str, ...]
    index: int = 0
    resource_class: ResourceClass | None = None
    loc: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    body: PeBody | None = None
    parent_temporal_pe: str | None = None
    fu_nodes: tuple[str, ...] = ()
    is_virtual: bool = False
    routes: tuple[tuple[str, str], ...] = ()

    def param(self, key: str, default: Any = None) -> Any:
        for name, value in self.params:
            if name == key:
                return value
        return default

    @property
    def body_ops(self) -> tuple[str, ...]:
        """Op names the node can run (PE / FU body), in body order."""
        return self.body.op_names if self.body else ()

    @property
    def is_sentinel(self) -> bool:
        return self.kind is not NodeKind.OPERATION

    @property
    def is_placement_target(self) -> bool:
        """Functional (not the temporal-PE container) and memory nodes only
        (spec "ADG Resource Classes", "Temporal PE Representation")."""
        return (
            self.kind is NodeKind.OPERATION
            and self.resource_class in (ResourceClass.FUNCTIONAL, ResourceClass.MEMORY)
            and not self.is_virtual
        )


# --------------------------------------------------------------------------- access


def node_record(graph: nx.MultiDiGraph, node_id: str) -> NodeRecord:
    return graph.nodes[node_id]["record"]


def nodes(graph: nx.MultiDiGraph) -> list[NodeRecord]:
    """All node records in insertion (= deterministic source) order."""
    return [data["record"] for _, data in graph.nodes(data=True)]


def edges(graph: nx.MultiDiGraph) -> list[EdgeRecord]:
    return [data["record"] for _, _, data in graph.edges(data=True)]


def ports(graph: nx.MultiDiGraph) -> dict[str, PortRecord]:
    return graph.graph["ports"]


def port_edges(graph: nx.MultiDiGraph) -> dict[str, list[str]]:
    """Port id → ids of the edges connected to it (spec "Port.connectedEdges")."""
    out: dict[str, list[str]] = {pid: [] for pid in ports(graph)}
    for edge in edges(graph):
        out[edge.src_port].append(edge.id)
        out[edge.dst_port].append(edge.id)
    return out


def new_graph(kind: str, name: str) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph(kind=kind, name=name)
    graph.graph["ports"] = {}
    return graph


def add_node(graph: nx.MultiDiGraph, record: NodeRecord, ports_: list[PortRecord]) -> None:
    """Add a node and the ports it owns; ids must be new."""
    if record.id in graph:
        raise ValueError(f"duplicate node id {record.id!r}")
    graph.add_node(record.id, record=record)
    table = graph.graph["ports"]
    for port in ports_:
        if port.id in table:
            raise ValueError(f"duplicate port id {port.id!r}")
        table[port.id] = port


def add_edge(graph: nx.MultiDiGraph, src_port: str, dst_port: str) -> EdgeRecord:
    table = graph.graph["ports"]
    src, dst = table[src_port], table[dst_port]
    record = EdgeRecord(
        id=f"{src_port}->{dst_port}",
        src_port=src_port,
        dst_port=dst_port,
        src_node=src.node,
        dst_node=dst.node,
    )
    graph.add_edge(src.node, dst.node, key=record.id, record=record)
    return record


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class GraphSummary:
    """Counts that describe a graph at a glance (``loomc inspect``)."""

    kind: str
    name: str
    nodes: int
    edges: int
    ports: int
    input_sentinels: int
    output_sentinels: int
    by_class: tuple[tuple[str, int], ...]
    by_op: tuple[tuple[str, int], ...]
    placeable: int
    fanout_ports: int
    temporal_pes: int = 0
    fu_nodes: int = 0
    body_ops: tuple[tuple[str, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "nodes": self.nodes,
            "edges": self.edges,
            "ports": self.ports,
            "sentinels": {"inputs": self.input_sentinels, "outputs": self.output_sentinels},
            "node_classes": dict(self.by_class),
            "ops": dict(self.by_op),
            "placeable": self.placeable,
            "fanout_ports": self.fanout_ports,
            "temporal_pes": self.temporal_pes,
            "fu_nodes": self.fu_nodes,
            "pe_body_ops": dict(self.body_ops),
        }


def summarize(graph: nx.MultiDiGraph) -> GraphSummary:
    """Count nodes, edges, sentinels, classes and op kinds of a DFG or ADG.

    Node classes: the ADG resource class, or for DFG nodes the node kind
    (operation / module_input / module_output).  Ops: op names of operation
    nodes; a temporal PE container counts as ``fabric.temporal_pe`` and each FU
    as ``fabric.temporal_pe.fu``.  A fan-out port is an output port with more
    than one edge (legal in a DFG, spec "SSA fan-out"; illegal in an ADG,
    spec-fabric.md "Port Connection Invariants").  ``placeable``: ADG nodes that
    can receive software ops; DFG operation nodes that need a place.
    ``body_ops``: op names over all PE and FU bodies (what the ADG can compute).
    """
    records = nodes(graph)
    by_class: Counter[str] = Counter()
    by_op: Counter[str] = Counter()
    for rec in records:
        cls = rec.resource_class.value if rec.resource_class else rec.kind.value
        by_class[cls] += 1
        if rec.kind is NodeKind.OPERATION:
            by_op["fabric.temporal_pe.fu" if rec.parent_temporal_pe else rec.op_name] += 1
    body: Counter[str] = Counter(name for rec in records for name in rec.body_ops)
    out_count: Counter[str] = Counter(e.src_port for e in edges(graph))
    return GraphSummary(
        kind=graph.graph.get("kind", ""),
        name=graph.graph.get("name", ""),
        nodes=len(records),
        edges=graph.number_of_edges(),
        ports=len(ports(graph)),
        input_sentinels=sum(r.kind is NodeKind.MODULE_INPUT for r in records),
        output_sentinels=sum(r.kind is NodeKind.MODULE_OUTPUT for r in records),
        by_class=tuple(sorted(by_class.items())),
        by_op=tuple(sorted(by_op.items())),
        placeable=sum(
            r.is_placement_target
            if graph.graph.get("kind") == "adg"
            else r.kind is NodeKind.OPERATION
            for r in records
        ),
        fanout_ports=sum(1 for n in out_count.values() if n > 1),
        temporal_pes=sum(r.is_virtual for r in records),
        fu_nodes=sum(r.parent_temporal_pe is not None for r in records),
        body_ops=tuple(sorted(body.items())),
    )
