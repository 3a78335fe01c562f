"""The hardware graph (ADG) of a flattened ``fabric.module`` (spec-mapper-model.md).

:func:`build_adg` turns the top module, after :mod:`loomc.graph.flatten`, into a
:class:`networkx.MultiDiGraph` of :mod:`loomc.graph.model` records:

* boundary sentinels ``@in<i>`` / ``@out<j>`` for module arguments and yielded
  values (spec "ADG Module I/O Sentinels"), each with one port;
* one node per module-level op, classed functional / routing / memory (spec
  "ADG Resource Classes"), with one port per operand and per result;
* a temporal PE as a virtual node owning the ports plus one FU node per inner
  ``fabric.pe`` that references the same ports (spec "Temporal PE
  Representation");
* PE bodies (ops, operand sources, yields, internal edges) on PEs and FUs, for
  tech-mapping (spec "PE Body Internal Edges and Port Binding");
* ``routes`` on routing nodes: which input port can reach which output port
  (switch/temporal switch per ``connectivity_table``, all-ones by default;
  FIFO and tag ops pass through; spec "Connectivity Matrix");
* one edge per use of an SSA value (physical wire).  A value used twice gives
  two edges from one port: illegal hardware (CPL_FANOUT_*), kept visible so
  the verifier and ``summarize`` can report it.

Node ids: ``loomc.path`` (hierarchical, set by flattening) or ``sym_name``, else
the SSA name of the first result (numeric names become ``<kind>_<n>``), else
``<kind><position>``; ports are ``<node>:in<i>`` / ``<node>:out<i>``.
"""

from __future__ import annotations

import networkx as nx
from xdsl.ir import Attribute, Operation, SSAValue

from loomc.diagnostics import ExitCode, LoomcError
from loomc.dialects.dataflow_types import ADDR_BIT_WIDTH
from loomc.graph import model
from loomc.graph.common import IdAllocator, loc_text, make_port
from loomc.graph.irutil import (
    DEF_ATTR,
    PATH_ATTR,
    LocFn,
    NameFn,
    all_attrs,
    body_ops,
    get_attr,
    int_list,
    int_value,
    is_terminator,
    plain_value,
    short_kind,
    str_value,
    type_info,
)
from loomc.graph.model import (
    Direction,
    NodeKind,
    NodeRecord,
    PeBody,
    PortCategory,
    ResourceClass,
)
from loomc.graph.pebody import extract_body, load_store_roles

#: spec-mapper-model.md "ADG Resource Classes"
RESOURCE_CLASS: dict[str, ResourceClass] = {
    "fabric.pe": ResourceClass.FUNCTIONAL,
    "fabric.temporal_pe": ResourceClass.FUNCTIONAL,
    "fabric.switch": ResourceClass.ROUTING,
    "fabric.temporal_sw": ResourceClass.ROUTING,
    "fabric.add_tag": ResourceClass.ROUTING,
    "fabric.map_tag": ResourceClass.ROUTING,
    "fabric.del_tag": ResourceClass.ROUTING,
    "fabric.fifo": ResourceClass.ROUTING,
    "fabric.memory": ResourceClass.MEMORY,
    "fabric.extmemory": ResourceClass.MEMORY,
}
SWITCHES = frozenset({"fabric.switch", "fabric.temporal_sw"})
PASS_THROUGH = frozenset({"fabric.fifo", "fabric.add_tag", "fabric.map_tag", "fabric.del_tag"})
#: attributes that are names or syntax, not hardware parameters
_NOT_PARAMS = frozenset({"sym_name", "function_type", PATH_ATTR, DEF_ATTR, "memref_type"})


def _no_names(_value: SSAValue) -> str | None:
    return None


def op_base_name(op: Operation, position: int, names: NameFn) -> str:
    """Preferred node id for an op (see module docstring)."""
    for attr in (op.attributes.get(PATH_ATTR), get_attr(op, "sym_name")):
        text = str_value(attr)
        if text:
            return text
    if op.results:
        name = names(op.results[0]) or op.results[0].name_hint
        if name:
            name = name.split("#", 1)[0]
            return f"{short_kind(op.name)}_{name}" if name.isdigit() else name
    return f"{short_kind(op.name)}{position}"


def memory_roles(op: Operation) -> tuple[list[str | None], list[str | None]]:
    """Port roles of ``fabric.memory``/``extmemory``.

    Outputs follow spec-fabric-mem.md "Operand Ordering Convention":
    ``[memref] ld_data ld_done st_done`` (groups present per ldCount/stCount).
    Inputs are classified by type, as the mapper binds them (spec-mapper-model.md
    C2 "Memory operand reordering contract"): the corpus writes both the spec's
    ``ld_addr, st_addr, st_data`` and Loom's older ``st_data, st_addr``.  A
    ``bits<ADDR_BIT_WIDTH>`` port is an address (``ld_addr`` first when there are
    loads, then ``st_addr``), any other value port is ``st_data``, a memref is
    ``memref``."""
    ld = int_value(get_attr(op, "ldCount")) or 0
    st = int_value(get_attr(op, "stCount")) or 0
    ins: list[str | None] = []
    addr_roles = ["ld_addr"] * (ld > 0) + ["st_addr"] * (st > 0)
    for value in op.operands:
        category, width, _, _ = type_info(value.type)
        if category is PortCategory.MEMREF:
            ins.append("memref")
        elif width == ADDR_BIT_WIDTH and addr_roles:
            ins.append(addr_roles.pop(0))
        elif st > 0:
            ins.append("st_data")
        else:
            ins.append(None)
    outs: list[str | None] = []
    if op.name == "fabric.memory" and plain_value_or(get_attr(op, "is_private"), True) is False:
        outs.append("memref")
    outs += ["ld_data", "ld_done"] * (ld > 0) + ["st_done"] * (st > 0)
    if len(outs) != len(op.results):
        outs = [None] * len(op.results)
    return ins, outs


def plain_value_or(attr: Attribute | None, default: object) -> object:
    return default if attr is None else plain_value(attr)


# --------------------------------------------------------------------------- routing


def switch_routes(
    op: Operation, in_ports: list[str], out_ports: list[str]
) -> tuple[tuple[str, str], ...]:
    """(input port, output port) pairs a switch can connect: entry ``[o][i]`` of
    the row-major ``connectivity_table`` (spec-fabric-switch.md); all-ones when
    absent or malformed (the verifier reports a bad table)."""
    table = int_list(get_attr(op, "connectivity_table"))
    n_in, n_out = len(in_ports), len(out_ports)
    if table is None or len(table) != n_in * n_out:
        table = [1] * (n_in * n_out)
    return tuple(
        (in_ports[i], out_ports[o])
        for i in range(n_in)
        for o in range(n_out)
        if table[o * n_in + i]
    )


def hw_params(op: Operation) -> tuple[tuple[str, object], ...]:
    declared = getattr(type(op), "HW_PARAMS", None)
    attrs = all_attrs(op)
    keys = [k for k in attrs if k not in _NOT_PARAMS and not k.startswith("loomc.")]
    if declared:
        keys = [k for k in keys if k in declared]
    params = {k: plain_value(attrs[k]) for k in keys}
    memref = attrs.get("memref_type")
    if memref is not None:
        params["memref_type"] = str(memref)
    return tuple(sorted(params.items()))


# --------------------------------------------------------------------------- builder


class _AdgBuilder:
    def __init__(self, top: Operation, names: NameFn, loc_of: LocFn | None):
        self.top = top
        self.names = names
        self.loc_of = loc_of
        self.graph = model.new_graph("adg", str_value(get_attr(top, "sym_name")) or "")
        self.ids = IdAllocator()
        self.producer: dict[SSAValue, str] = {}

    def loc(self, op: Operation) -> str | None:
        return loc_text(self.loc_of(op)) if self.loc_of else None

    def fail(self, msg: str, op: Operation, code: str | None = None) -> LoomcError:
        loc = self.loc_of(op) if self.loc_of else None
        return LoomcError(msg, loc=loc, code=code, exit_code=ExitCode.BAD_INPUT)

    def build(self) -> nx.MultiDiGraph:
        block = self.top.regions[0].blocks[0]
        for i, arg in enumerate(block.args):
            self.add_input_sentinel(i, arg)
        pending: list[tuple[Operation, str]] = []
        term: Operation | None = None
        for position, op in enumerate(block.ops):
            if is_terminator(op):
                term = op
                continue
            pending.append((op, self.add_op(op, position)))
        for op, node_id in pending:
            record = model.node_record(self.graph, node_id)
            for i, value in enumerate(op.operands):
                self.connect(value, record.input_ports[i], op)
        if term is not None:
            for j, value in enumerate(term.operands):
                port = self.add_output_sentinel(j, value)
                self.connect(value, port, term)
        return self.graph

    def connect(self, value: SSAValue, dst_port: str, user: Operation) -> None:
        src = self.producer.get(value)
        if src is None:
            raise self.fail(f"'{user.name}' uses a value not defined in the module", user)
        model.add_edge(self.graph, src, dst_port)

    def add_input_sentinel(self, i: int, arg: SSAValue) -> None:
        node = self.ids.take(f"@in{i}")
        port = make_port(node, Direction.OUT, 0, arg.type)
        rec = NodeRecord(
            id=node,
            kind=NodeKind.MODULE_INPUT,
            op_name="module_input",
            name=self.names(arg) or f"in{i}",
            input_ports=(),
            output_ports=(port.id,),
            index=i,
            resource_class=ResourceClass.BOUNDARY,
            loc=self.loc(self.top),
        )
        model.add_node(self.graph, rec, [port])
        self.producer[arg] = port.id

    def add_output_sentinel(self, j: int, value: SSAValue) -> str:
        node = self.ids.take(f"@out{j}")
        port = make_port(node, Direction.IN, 0, value.type)
        rec = NodeRecord(
            id=node,
            kind=NodeKind.MODULE_OUTPUT,
            op_name="module_output",
            name=f"out{j}",
            input_ports=(port.id,),
            output_ports=(),
            index=j,
            resource_class=ResourceClass.BOUNDARY,
            loc=self.loc(self.top),
        )
        model.add_node(self.graph, rec, [port])
        return port.id

    def add_op(self, op: Operation, position: int) -> str:
        resource = RESOURCE_CLASS.get(op.name)
        if resource is None:
            code = "CPL_INSTANCE_UNRESOLVED" if op.name == "fabric.instance" else None
            raise self.fail(f"'{op.name}' cannot appear in a flattened fabric.module", op, code)
        node = self.ids.take(op_base_name(op, position, self.names))
        in_roles: list[str | None] = [None] * len(op.operands)
        out_roles: list[str | None] = [None] * len(op.results)
        body: PeBody | None = None
        if op.name == "fabric.pe":
            body = extract_body(op)
            ins, outs = load_store_roles(body)
            in_roles = [ins.get(i) for i in range(len(op.operands))]
            out_roles = [outs.get(i) for i in range(len(op.results))]
        elif resource is ResourceClass.MEMORY:
            in_roles, out_roles = memory_roles(op)
        in_ports = [
            make_port(node, Direction.IN, i, v.type, in_roles[i]) for i, v in enumerate(op.operands)
        ]
        out_ports = [
            make_port(node, Direction.OUT, i, v.type, out_roles[i])
            for i, v in enumerate(op.results)
        ]
        in_ids = [p.id for p in in_ports]
        out_ids = [p.id for p in out_ports]
        routes: tuple[tuple[str, str], ...] = ()
        if op.name in SWITCHES:
            routes = switch_routes(op, in_ids, out_ids)
        elif op.name in PASS_THROUGH:
            routes = tuple((i, o) for i in in_ids for o in out_ids)
        fu_records: list[NodeRecord] = []
        if op.name == "fabric.temporal_pe":
            fu_records = self.fu_nodes(op, node, in_ids, out_ids)
        name = str_value(op.attributes.get(PATH_ATTR)) or node
        params = hw_params(op)
        definition = str_value(op.attributes.get(DEF_ATTR))
        if definition:
            params = tuple(sorted(params + (("definition", definition),)))
        rec = NodeRecord(
            id=node,
            kind=NodeKind.OPERATION,
            op_name=op.name,
            name=name,
            input_ports=tuple(in_ids),
            output_ports=tuple(out_ids),
            index=position,
            resource_class=resource,
            loc=self.loc(op),
            params=params,
            body=body,
            fu_nodes=tuple(r.id for r in fu_records),
            is_virtual=op.name == "fabric.temporal_pe",
            routes=routes,
        )
        model.add_node(self.graph, rec, in_ports + out_ports)
        for fu in fu_records:
            model.add_node(self.graph, fu, [])
        for value, port in zip(op.results, out_ids, strict=True):
            self.producer[value] = port
        return node

    def fu_nodes(
        self, tpe: Operation, node: str, in_ids: list[str], out_ids: list[str]
    ) -> list[NodeRecord]:
        """One placement target per FU ``fabric.pe`` of a temporal PE; ``fu_index``
        is the FU's position in the body (its opcode, spec-fabric-temporal_pe.md)."""
        out: list[NodeRecord] = []
        fus = [o for o in body_ops(tpe) if o.name == "fabric.pe"]
        for k, fu in enumerate(fus):
            fu_id = self.ids.take(f"{node}/{str_value(get_attr(fu, 'sym_name')) or f'fu{k}'}")
            out.append(
                NodeRecord(
                    id=fu_id,
                    kind=NodeKind.OPERATION,
                    op_name="fabric.pe",
                    name=fu_id,
                    input_ports=tuple(in_ids),
                    output_ports=tuple(out_ids),
                    index=k,
                    resource_class=ResourceClass.FUNCTIONAL,
                    loc=self.loc(fu),
                    params=tuple(sorted(hw_params(fu) + (("fu_index", k),))),
                    body=extract_body(fu),
                    parent_temporal_pe=node,
                )
            )
        return out


def build_adg(
    top: Operation,
    names: NameFn | None = None,
    loc_of: LocFn | None = None,
) -> nx.MultiDiGraph:
    """The ADG of a flattened ``fabric.module`` op (see module docstring).

    ``names`` gives source SSA names (``ParsedModule.value_name``), ``loc_of``
    source locations (``ParsedModule.loc``); both optional."""
    if top.name != "fabric.module":
        raise LoomcError(f"expected a fabric.module, got '{top.name}'")
    return _AdgBuilder(top, names or _no_names, loc_of).build()


def port_graph(adg: nx.MultiDiGraph) -> nx.DiGraph:
    """Port-level reachability graph (spec "Connectivity Matrix"): an arc for
    every physical edge (output→input) and every internal route of a routing
    node (input→output).  Routing queries are paths in this graph."""
    graph = nx.DiGraph()
    graph.add_nodes_from(model.ports(adg))
    for edge in model.edges(adg):
        graph.add_edge(edge.src_port, edge.dst_port, kind="wire", edge=edge.id)
    for rec in model.nodes(adg):
        for src, dst in rec.routes:
            graph.add_edge(src, dst, kind="route", node=rec.id)
    return graph
