"""Runtime configuration of the fabric, decided from a :class:`Mapping`.

Two steps, one job each:

1. :func:`derive_configuration` reads the mapping, the DFG and the ADG and
   returns one :mod:`loomc.configmem` config dataclass per configurable
   hardware node, in fabric definition order (spec-mapper-model.md
   "Configuration Emission Model").  Unused nodes get their reset value
   (switch routes off, tags 0, ``cont_cond_sel`` ``<``), except PE body
   predicates/constants, whose fabric-file value is the initial configuration
   (spec-fabric-pe.md "Runtime Configuration Parameters from PE Body").
2. :class:`ConfigureFabricPass` writes those values into the fabric IR as the
   attributes spec-mapper-output.md "Configured Fabric MLIR" lists.  The pass
   runs on the *unflattened* fabric as the user wrote it (a fresh parse of the
   file): configuration goes on inline ops of the top module and on the
   ``fabric.instance`` of named definitions (spec-fabric.md "Runtime
   Configuration Overrides"), so the printed file keeps the user's names and
   structure.  Which source op carries a hardware node's configuration is
   found through source locations: each flattened op knows where its origin
   starts in the text (:func:`config_locations`).

The same :class:`FabricConfiguration` feeds ``config_image`` (the bits), so the
configured file and ``.config.bin`` cannot disagree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO

import networkx as nx
from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    StringAttr,
    i64,
)
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.printer import Printer

from loomc.configmem import (
    CmpPredicate,
    ComputePEConfig,
    ConfigBits,
    ConstantPEConfig,
    FifoConfig,
    Instruction,
    LoadStorePEConfig,
    MapTagConfig,
    MapTagEntry,
    MemoryConfig,
    MemoryRegion,
    NodeConfig,
    Operand,
    Result,
    RouteSlot,
    StreamPEConfig,
    SwitchConfig,
    TagMode,
    TemporalPEConfig,
    TemporalPEShape,
    TemporalSwitchConfig,
    connected_positions,
    connectivity_from_flat,
    float_bits,
    format_instruction,
    format_route_slot,
    pack_fields,
)
from loomc.diagnostics import ExitCode, LoomcError
from loomc.dialects.fabric_syntax import i8_array
from loomc.graph import model
from loomc.graph.flatten import FLATTENED_ATTR
from loomc.graph.irutil import body_ops, stamped
from loomc.graph.load import adg_from_parsed
from loomc.graph.model import NodeKind, NodeRecord, PortRecord
from loomc.mapper.mapping import Mapping
from loomc.mlir_io import ParsedModule, SourceMap, parse_mlir_text


class ConfigurationError(LoomcError):
    """The mapping asks for a configuration the hardware cannot hold (e.g. two
    inputs routed to one static switch output).  A valid mapping never does;
    this is the emitter refusing to write wrong bits."""

    def __init__(self, message: str, code: str = "CPL_MAPPER_INVALID_CONFIG"):
        super().__init__(message, code=code, exit_code=ExitCode.RULE_VIOLATION)


@dataclass(frozen=True)
class NodeConfiguration:
    """One hardware node's runtime configuration.

    ``config`` is the configmem dataclass (it encodes the bits); ``in_image``
    says whether the node takes config_mem space (memories do not,
    spec-fabric-config_mem.md "CONFIG_WIDTH": ``fabric.memory`` 0).
    """

    hw_node: str
    op_name: str
    config: NodeConfig
    in_image: bool = True
    #: FU mnemonics of a temporal PE, for readable ``instruction_mem`` text
    fu_names: tuple[str, ...] = ()
    #: result type of a constant PE's body constant (``i32``, ``f32``…)
    constant_type: str | None = None


@dataclass(frozen=True)
class FabricConfiguration:
    """All configurable nodes, in fabric definition order."""

    nodes: tuple[NodeConfiguration, ...]
    #: configurations written although the hardware would flag them
    warnings: tuple[str, ...] = ()

    def get(self, hw_node: str) -> NodeConfiguration | None:
        for n in self.nodes:
            if n.hw_node == hw_node:
                return n
        return None


# --------------------------------------------------------------------------- derivation


_CONFIGURABLE = frozenset({
    "fabric.switch", "fabric.temporal_sw", "fabric.pe", "fabric.temporal_pe",
    "fabric.add_tag", "fabric.map_tag", "fabric.fifo", "fabric.memory", "fabric.extmemory",
})
_LEADING_INT = re.compile(r"^\s*(-?\d+)")
_LEADING_FLOAT = re.compile(r"^\s*(-?[\d.]+(?:[eE][-+]?\d+)?)\s*:\s*f(16|32|64)")
#: spec-fabric-pe.md "cont_cond_sel": DFG ``stop_cond`` spellings -> one-hot order name
_STOP_COND = {"slt": "<", "<": "<", "sle": "<=", "<=": "<=", "sgt": ">", ">": ">",
              "sge": ">=", ">=": ">=", "ne": "!=", "!=": "!="}


class _Routes:
    """Index of the mapping's hardware hops by the node they pass through."""

    def __init__(self, mapping: Mapping, hw_ports: dict[str, PortRecord]):
        #: node -> [(in port, out port, tag)] for hops inside a routing node
        self.inside: dict[str, list[tuple[PortRecord, PortRecord, int | None]]] = defaultdict(list)
        #: hw output port -> [(sw source port, tag)] of routes leaving it
        self.leaving: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
        for route in mapping.routes:
            if route.hw_path:
                self.leaving[route.hw_path[0][0]].append((route.src_sw_port, route.tag))
            for src, dst in route.hw_path:
                a, b = hw_ports[src], hw_ports[dst]
                if a.node == b.node:
                    self.inside[a.node].append((a, b, route.tag))

    def out_tag(self, port: str, sw_src_ports: set[str] | None = None) -> int | None:
        tags = {t for sp, t in self.leaving.get(port, ()) if sw_src_ports is None
                or sp in sw_src_ports}
        tags.discard(None)
        if len(tags) > 1:
            raise ConfigurationError(f"hardware port {port} emits tags {sorted(tags)} at once")
        return tags.pop() if tags else None


def _tag_width(ports: dict[str, PortRecord], ids: tuple[str, ...]) -> int:
    for pid in ids:
        if ports[pid].tag_width:
            return int(ports[pid].tag_width)
    return 0


def _conn(rec: NodeRecord, n_in: int, n_out: int):
    flat = rec.param("connectivity_table")
    if flat is None or len(flat) != n_in * n_out:
        return None
    return connectivity_from_flat([int(x) for x in flat], n_in, n_out)


@dataclass(frozen=True)
class MergingSwitchConfig:
    """A ``fabric.switch`` whose route table enables several inputs for one
    output.  The hardware flags that as ``CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT``
    (spec-fabric-switch.md "Semantics"), yet Loom's mapper model lets tagged
    software edges with distinct tags share a hardware edge (spec-mapper-model.md
    C4.2) and Loom's config generator then writes exactly these bits.  Emitted
    only for tagged switches, always with a warning; same bit layout as
    :class:`SwitchConfig` (one bit per connected position)."""

    num_inputs: int
    num_outputs: int
    enabled: tuple[tuple[int, int], ...]  # (output, input)
    connectivity: tuple[tuple[bool, ...], ...] | None = None

    def conn(self):
        return SwitchConfig(self.num_inputs, self.num_outputs,
                            connectivity=self.connectivity).conn()

    def route_bits(self) -> list[int]:
        on = set(self.enabled)
        return [int(pos in on) for pos in connected_positions(self.conn())]

    def encode(self) -> ConfigBits:
        return pack_fields((f"route[o{o}<-i{i}]", 1, b) for (o, i), b in
                           zip(connected_positions(self.conn()), self.route_bits(), strict=True))

    def errors(self) -> tuple[str, ...]:
        return ("CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT",)


def _switch(rec: NodeRecord, routes: _Routes, ports,
            warnings: list[str]) -> SwitchConfig | MergingSwitchConfig:
    n_in, n_out = len(rec.input_ports), len(rec.output_ports)
    chosen: dict[int, set[int]] = defaultdict(set)
    for a, b, _tag in routes.inside.get(rec.id, ()):
        chosen[b.index].add(a.index)
    merged = {o: sorted(i) for o, i in chosen.items() if len(i) > 1}
    conn = _conn(rec, n_in, n_out)
    if not merged:
        return SwitchConfig(n_in, n_out, {o: min(i) for o, i in sorted(chosen.items())}, conn)
    o, ins = min(merged.items())
    if not _tag_width(ports, rec.output_ports):
        # spec-fabric-switch.md: one output takes at most one input
        raise ConfigurationError(
            f"switch {rec.name}: output {o} would take inputs {ins}",
            "CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT")
    warnings.append(
        f"switch {rec.name}: output {o} merges tagged inputs {ins}; the hardware reports "
        "CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT for this route_table (Loom emits it too)")
    return MergingSwitchConfig(n_in, n_out, tuple(sorted((o, i) for o, s in chosen.items()
                                                         for i in s)), conn)


def _temporal_switch(rec: NodeRecord, routes: _Routes, ports) -> TemporalSwitchConfig:
    """One route-table slot per tag that passes (spec-fabric-temporal_sw.md), slots
    numbered in ascending tag order."""
    n_in, n_out = len(rec.input_ports), len(rec.output_ports)
    by_tag: dict[int, dict[int, int]] = defaultdict(dict)
    for a, b, tag in routes.inside.get(rec.id, ()):
        slot = by_tag[tag or 0]
        if slot.setdefault(b.index, a.index) != a.index:
            raise ConfigurationError(
                f"temporal_sw {rec.name}: tag {tag} routes inputs {slot[b.index]} and "
                f"{a.index} to output {b.index}",
                "CFG_TEMPORAL_SW_ROUTE_SAME_TAG_INPUTS_TO_SAME_OUTPUT")
    size = int(rec.param("num_route_table", 1) or 1)
    if len(by_tag) > size:
        raise ConfigurationError(
            f"temporal_sw {rec.name}: {len(by_tag)} tags need slots, num_route_table is {size}",
            "CPL_TEMPORAL_SW_TOO_MANY_SLOTS")
    slots = tuple(RouteSlot(t, tuple(by_tag[t].get(o) for o in range(n_out)))
                  for t in sorted(by_tag))
    return TemporalSwitchConfig(n_in, n_out, _tag_width(ports, rec.input_ports), size, slots,
                                _conn(rec, n_in, n_out))


def _body_default(op_attrs: tuple[tuple[str, str], ...], key: str) -> str | None:
    return dict(op_attrs).get(key)


def _int_of(text: str | None, default: int = 0) -> int:
    if text is None:
        return default
    text = text.strip().strip('"')
    if text in ("true", "false"):
        return int(text == "true")
    m = _LEADING_INT.match(text)
    return int(m.group(1)) if m and "." not in text.split(":")[0] else default


def _constant_bits(value: object, width: int) -> int:
    """A DFG/body constant as the bit pattern config_mem stores (two's
    complement for negative ints, IEEE bits for floats)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value % (1 << width) if width else 0
    if isinstance(value, float):
        return float_bits(value, width)
    text = str(value)
    m = _LEADING_FLOAT.match(text)
    if m and ("." in m.group(1) or "e" in m.group(1).lower()):
        return float_bits(float(m.group(1)), int(m.group(2)))
    return _int_of(text) % (1 << width) if width else 0


def _width_of(type_text: str) -> int:
    m = re.search(r"(?:i|f|bits<)(\d+)", type_text)
    if type_text.strip() == "index":
        return 57  # spec-fabric-mem.md ADDR_BIT_WIDTH
    return int(m.group(1)) if m else 32


def _pe(rec: NodeRecord, placed: list, sw_nodes: dict[str, NodeRecord], routes: _Routes,
        ports) -> NodeConfig:
    body = rec.body
    ops = body.ops if body else ()
    names = tuple(o.op_name for o in ops)
    tw = _tag_width(ports, rec.output_ports)
    out_tags = tuple(routes.out_tag(p) or 0 for p in rec.output_ports) if tw else ()
    sws = [sw_nodes[p.sw_node] for p in placed]
    if names == ("handshake.constant",):
        width = _width_of(ops[0].result_types[0]) if ops[0].result_types else 32
        sw = next((s for s in sws if s.op_name == "handshake.constant"), None)
        value = sw.param("value") if sw else _body_default(ops[0].attrs, "value")
        return ConstantPEConfig(width, _constant_bits(value, width), tw,
                                out_tags[0] if out_tags else 0)
    if names == ("dataflow.stream",):
        sw = next((s for s in sws if s.op_name == "dataflow.stream"), None)
        cond = str(sw.param("stop_cond", "<")) if sw else "<"
        cond = _STOP_COND.get(cond.strip('"'), "<")
        return StreamPEConfig(len(rec.output_ports), tw, out_tags, cond)
    if len(names) == 1 and names[0] in ("handshake.load", "handshake.store"):
        queued = rec.param("lqDepth") is not None or rec.param("sqDepth") is not None
        if queued or not tw:
            return LoadStorePEConfig(TagMode.TRANSPARENT if queued else TagMode.OVERWRITE)
        return LoadStorePEConfig(TagMode.OVERWRITE, tw, out_tags[0] if out_tags else 0)
    return ComputePEConfig(len(rec.output_ports), tw, out_tags, _predicates(ops, sws))


def _predicates(ops, sws: list[NodeRecord]) -> tuple[CmpPredicate, ...]:
    """One predicate per cmp op of the body, in body order.  Mapped DFG compares
    of the same kind are assigned to body compares in DFG order (a body has at
    most a few compares; the mapping does not record which body op each DFG op
    took, so equal-kind compares are matched in order)."""
    queue: dict[str, list[NodeRecord]] = defaultdict(list)
    for sw in sws:
        if sw.op_name in ("arith.cmpi", "arith.cmpf"):
            queue[sw.op_name].append(sw)
    preds = []
    for op in ops:
        if op.op_name not in ("arith.cmpi", "arith.cmpf"):
            continue
        kind = "cmpi" if op.op_name == "arith.cmpi" else "cmpf"
        if queue[op.op_name]:
            code = _int_of(str(queue[op.op_name].pop(0).param("predicate", 0)))
        else:
            code = _int_of(_body_default(op.attrs, "predicate"))
        preds.append(CmpPredicate(kind, code))
    return tuple(preds)


def _temporal_pe(rec: NodeRecord, adg: nx.MultiDiGraph, mapping: Mapping, dfg_ports,
                 sw_nodes, routes: _Routes, ports) -> NodeConfiguration:
    fus = [model.node_record(adg, f) for f in rec.fu_nodes]
    fu_index = {f.id: int(f.param("fu_index", k)) for k, f in enumerate(fus)}
    shape = TemporalPEShape(
        num_inputs=len(rec.input_ports), num_outputs=len(rec.output_ports),
        tag_width=_tag_width(ports, rec.input_ports + rec.output_ports),
        num_fu_types=len(fus), num_instructions=int(rec.param("num_instruction", 1) or 1),
        num_registers=int(rec.param("num_register", 0) or 0),
        fu_cmp_counts=tuple(sum(o.op_name in ("arith.cmpi", "arith.cmpf") for o in f.body.ops)
                            if f.body else 0 for f in fus),
    )
    hw_of = {p.sw_node: p.hw_node for p in mapping.placement}
    slots = sorted((t for t in mapping.temporal if t.temporal_pe == rec.id), key=lambda t: t.slot)
    bound = dict(mapping.port_binding)
    # temporal registers (spec-fabric-temporal_pe.md "Register Semantics"): the
    # producer's result goes to reg(k) instead of out(j) (tag 0: registers hold
    # values, not tags), each consumer reads reg(k) instead of in(i)
    writes: dict[str, int] = {}
    reads: dict[str, int] = {}
    for r in mapping.registers:
        if r.temporal_pe != rec.id:
            continue
        if r.register >= shape.num_registers:
            raise ConfigurationError(
                f"temporal_pe {rec.name}: register {r.register} >= num_register "
                f"{shape.num_registers}", "CFG_TEMPORAL_PE_ILLEGAL_REG")
        if writes.setdefault(r.src_sw_port, r.register) != r.register:
            raise ConfigurationError(f"temporal_pe {rec.name}: {r.src_sw_port} writes two "
                                     "registers")
        reads[r.dst_sw_port] = r.register
    insns: list[Instruction | None] = [None] * shape.num_instructions
    on_fu: dict[str, list[NodeRecord]] = defaultdict(list)
    for t in slots:
        if t.slot >= shape.num_instructions:
            raise ConfigurationError(
                f"temporal_pe {rec.name}: slot {t.slot} >= num_instruction "
                f"{shape.num_instructions}", "CPL_TEMPORAL_PE_TOO_MANY_SLOTS")
        fu = hw_of.get(t.sw_node)
        if fu not in fu_index:
            raise ConfigurationError(f"temporal op {t.sw_node} is not placed on an FU of {rec.id}")
        on_fu[fu].append(sw_nodes[t.sw_node])
        own = {p for p, r in dfg_ports.items() if r.node == t.sw_node}
        on_port = {bound[p]: p for p in own if p in bound}  # hw port -> sw port
        results = tuple(
            Result(reg=writes[on_port[p]]) if on_port.get(p) in writes
            else Result(tag=routes.out_tag(p, own)) for p in rec.output_ports)
        operands = tuple(Operand(reads.get(on_port.get(p, ""))) for p in rec.input_ports)
        if all(o.reg is None for o in operands):
            operands = ()  # all in(i): the short form, as before registers
        # spec-mapper-output.md: the opcode is the FU's position in the temporal
        # PE body, not the mapping's opcode field
        insns[t.slot] = Instruction(t.tag, fu_index[fu], operands, results)
    fu_compare = tuple(_predicates(f.body.ops if f.body else (), on_fu.get(f.id, []))
                       for f in fus)
    cfg = TemporalPEConfig(shape, tuple(insns), fu_compare)
    names = tuple(f.id.rsplit("/", 1)[-1] for f in fus)
    return NodeConfiguration(rec.id, rec.op_name, cfg, True, names)


def _add_tag(rec: NodeRecord, routes: _Routes, ports) -> NodeConfig:
    from loomc.configmem import AddTagConfig

    tags = {t for _a, _b, t in routes.inside.get(rec.id, ()) if t is not None}
    if len(tags) > 1:
        raise ConfigurationError(f"add_tag {rec.name} would need tags {sorted(tags)} at once")
    return AddTagConfig(_tag_width(ports, rec.output_ports), tags.pop() if tags else 0)


def _map_tag(rec: NodeRecord, routes: _Routes, ports) -> MapTagConfig:
    """The mapping gives each software edge one tag end to end, so a map_tag on a
    route maps that tag to itself (one valid entry per distinct tag)."""
    tags = sorted({t for _a, _b, t in routes.inside.get(rec.id, ()) if t is not None})
    size = int(rec.param("table_size", 1) or 1)
    if len(tags) > size:
        raise ConfigurationError(f"map_tag {rec.name}: {len(tags)} tags > table_size {size}")
    return MapTagConfig(_tag_width(ports, rec.input_ports), _tag_width(ports, rec.output_ports),
                        size, tuple(MapTagEntry(True, t, t) for t in tags))


def memref_bytes(memref_type: str) -> int:
    """Byte size of a static ``memref<AxBxT>`` (C4.6 region size); 0 when dynamic."""
    m = re.match(r"\s*memref<([^>]*)>", memref_type or "")
    if not m:
        return 0
    dims = m.group(1).split(",")[0].split("x")
    elem, shape = dims[-1], dims[:-1]
    if any(not d.isdigit() for d in shape):
        return 0
    count = 1
    for d in shape:
        count *= int(d)
    return count * max(1, -(-_width_of(elem) // 8))


def _memory(rec: NodeRecord, placed: list, sw_nodes, ports) -> MemoryConfig:
    """spec-mapper-model.md (C4.6): region i gets tags [i, i+1); on-chip bases
    pack the regions back to back, off-chip bases are 0 (host-provided)."""
    regions = []
    base = 0
    external = rec.op_name == "fabric.extmemory"
    for i, p in enumerate(placed):
        regions.append(MemoryRegion(i, i + 1, 0 if external else base))
        base += memref_bytes(str(sw_nodes[p.sw_node].param("memref_type", "")))
    num = int(rec.param("numRegion", 1) or 1)
    if len(regions) > num:
        raise ConfigurationError(f"memory {rec.name}: {len(regions)} regions > numRegion {num}",
                                 "CPL_MAPPER_MEMORY_REGIONS")
    tw = _tag_width(ports, rec.input_ports)
    return MemoryConfig(num, tw, regions=tuple(regions), external=external)


def derive_configuration(mapping: Mapping, dfg: nx.MultiDiGraph,
                         adg: nx.MultiDiGraph) -> FabricConfiguration:
    """Every configurable ADG node's configuration, in definition order."""
    if mapping.status != "success":
        raise ConfigurationError("cannot configure the fabric from a failed mapping")
    hw_ports = model.ports(adg)
    dfg_ports = model.ports(dfg)
    sw_nodes = {n.id: n for n in model.nodes(dfg)}
    routes = _Routes(mapping, hw_ports)
    placed: dict[str, list] = defaultdict(list)
    for p in mapping.placement:
        placed[p.hw_node].append(p)
    order = {n.id: i for i, n in enumerate(model.nodes(dfg))}
    out: list[NodeConfiguration] = []
    warnings: list[str] = []
    recs = [r for r in model.nodes(adg) if r.kind is NodeKind.OPERATION
            and r.parent_temporal_pe is None and r.op_name in _CONFIGURABLE]
    for rec in sorted(recs, key=lambda r: r.index):
        here = sorted(placed.get(rec.id, []), key=lambda p: order.get(p.sw_node, 0))
        op = rec.op_name
        if op == "fabric.switch":
            cfg: NodeConfig = _switch(rec, routes, hw_ports, warnings)
        elif op == "fabric.temporal_sw":
            cfg = _temporal_switch(rec, routes, hw_ports)
        elif op == "fabric.pe":
            cfg = _pe(rec, here, sw_nodes, routes, hw_ports)
            if isinstance(cfg, ConstantPEConfig) and rec.body and rec.body.ops[0].result_types:
                out.append(NodeConfiguration(rec.id, op, cfg,
                                             constant_type=rec.body.ops[0].result_types[0]))
                continue
        elif op == "fabric.temporal_pe":
            out.append(_temporal_pe(rec, adg, mapping, dfg_ports, sw_nodes, routes, hw_ports))
            continue
        elif op == "fabric.add_tag":
            cfg = _add_tag(rec, routes, hw_ports)
        elif op == "fabric.map_tag":
            cfg = _map_tag(rec, routes, hw_ports)
        elif op == "fabric.fifo":
            # FIFOs stay buffered: bypassing only removes a cycle of latency and
            # can close a combinational loop (spec-fabric-fifo.md)
            cfg = FifoConfig(bool(rec.param("bypassable", False)), False)
        else:
            out.append(NodeConfiguration(rec.id, op, _memory(rec, here, sw_nodes, hw_ports),
                                         in_image=False))
            continue
        out.append(NodeConfiguration(rec.id, op, cfg))
    return FabricConfiguration(tuple(out), tuple(warnings))


# --------------------------------------------------------------------------- IR writing


def config_locations(parsed: ParsedModule, adg: nx.MultiDiGraph) -> dict[str, str]:
    """ADG node id -> where the op that carries its configuration starts in the
    source text (``file:line:col``).

    ``parsed`` is the fabric the ADG was built from, flattened in place by the
    graph loader: a node's op is at block position ``rec.index`` of the
    flattened top module, and it either is the op as parsed (its own source
    map entry) or a copy that flattening stamped with its origin's location (an
    inlined named PE carries its ``fabric.instance``'s).  A module that is not
    flattened yet is flattened here first, as the loader would."""
    tops = [op for op in parsed.module.ops
            if op.name == "fabric.module" and FLATTENED_ATTR in op.attributes]
    if not tops:
        adg = adg_from_parsed(parsed)
        tops = [op for op in parsed.module.ops
                if op.name == "fabric.module" and FLATTENED_ATTR in op.attributes]
    loc_of = stamped(parsed.loc)
    block_ops = list(tops[0].regions[0].blocks[0].ops)
    out: dict[str, str] = {}
    for rec in model.nodes(adg):
        if rec.kind is NodeKind.OPERATION and rec.parent_temporal_pe is None:
            out[rec.id] = str(loc_of(block_ops[rec.index]))
    return out


def _int_attr(value: int, width: int) -> IntegerAttr:
    return IntegerAttr(value, IntegerType(max(1, width)))


def _attributes(node: NodeConfiguration, target: Operation) -> dict[str, object]:
    """The configuration attributes of one node, as the fabric syntax spells them."""
    cfg = node.config
    attrs: dict[str, object] = {}
    if isinstance(cfg, MergingSwitchConfig):
        attrs["route_table"] = i8_array(cfg.route_bits())
    elif isinstance(cfg, SwitchConfig):
        routes = cfg.routes or (None,) * cfg.num_outputs
        attrs["route_table"] = i8_array(
            [int(routes[o] == i) for o, i in connected_positions(cfg.conn())])
    elif isinstance(cfg, TemporalSwitchConfig):
        attrs["route_table"] = ArrayAttr(
            [StringAttr(format_route_slot(k, s)) for k, s in enumerate(cfg.slots)])
    elif isinstance(cfg, TemporalPEConfig):
        s = cfg.shape
        used = [i for i in cfg.instructions if i is not None]
        attrs["instruction_mem"] = ArrayAttr([
            StringAttr(format_instruction(k, i, node.fu_names, s.num_inputs, s.num_outputs))
            for k, i in enumerate(cfg.instructions[: len(used)])])
    elif isinstance(cfg, ComputePEConfig | StreamPEConfig):
        if cfg.tag_width:
            tags = cfg.output_tags or (0,) * cfg.num_outputs
            attrs["output_tag"] = ArrayAttr([_int_attr(t, cfg.tag_width) for t in tags])
        if isinstance(cfg, StreamPEConfig):
            # spec-fabric-pe.md "cont_cond_sel": one-hot, on the PE or its instance
            attrs["cont_cond_sel"] = IntegerAttr(cfg.cont_cond_sel, i64)
        if isinstance(cfg, ComputePEConfig) and target.name == "fabric.pe":
            _set_predicates(target, cfg.compare)
    elif isinstance(cfg, ConstantPEConfig):
        if cfg.tag_width:
            attrs["output_tag"] = ArrayAttr([_int_attr(cfg.output_tag, cfg.tag_width)])
        if target.name == "fabric.pe":
            _set_constant(target, cfg)
        value = _constant_attr(node.constant_type, cfg)
        if value is not None:
            attrs["constant_value"] = value
    elif isinstance(cfg, LoadStorePEConfig):
        if cfg.mode is TagMode.OVERWRITE and cfg.tag_width:
            attrs["output_tag"] = ArrayAttr([_int_attr(cfg.output_tag, cfg.tag_width)])
    elif isinstance(cfg, FifoConfig):
        if cfg.bypassable:
            attrs["bypassed"] = IntegerAttr.from_bool(cfg.bypassed)
    elif isinstance(cfg, MapTagConfig):
        attrs["table"] = ArrayAttr([
            ArrayAttr([IntegerAttr(int(e.valid), i64), IntegerAttr(e.src_tag, i64),
                       IntegerAttr(e.dst_tag, i64)]) for e in cfg.table])
    elif isinstance(cfg, MemoryConfig):
        if cfg.regions:
            flat: list[int] = []
            rows = cfg.regions + (None,) * (cfg.num_region - len(cfg.regions))
            for r in rows:
                flat += [1, r.start_tag, r.end_tag, r.addr_offset] if r else [0, 0, 0, 0]
            attrs["addrOffsetTable"] = DenseArrayBase.from_list(i64, flat)
    else:  # AddTagConfig
        attrs["tag"] = _int_attr(cfg.tag, cfg.tag_width)
    return attrs


def _constant_attr(type_text: str | None, cfg: ConstantPEConfig) -> IntegerAttr | None:
    """``constant_value`` typed like the body constant (integer constants only;
    a float constant's bits are in config.bin, its text stays as written)."""
    if not type_text or not type_text.startswith("i"):
        return None
    width = cfg.value_width
    value = cfg.value - (1 << width) if width > 1 and cfg.value >= 1 << (width - 1) else cfg.value
    return IntegerAttr(value, IntegerType(width))


def _body_ops_named(pe: Operation, name: str) -> list[Operation]:
    return [op for op in body_ops(pe) if op.name == name]


def _set_predicates(pe: Operation, preds: tuple[CmpPredicate, ...]) -> None:
    """Body compare predicates (spec-fabric-pe.md: they live on the body ops)."""
    cmps = [op for op in body_ops(pe) if op.name in ("arith.cmpi", "arith.cmpf")]
    for op, pred in zip(cmps, preds, strict=False):
        key = "predicate"
        store = op.properties if key in op.properties else op.attributes
        old = store.get(key)
        typ = old.type if isinstance(old, IntegerAttr) else i64
        store[key] = IntegerAttr(pred.code, typ)


def _set_constant(pe: Operation, cfg: ConstantPEConfig) -> None:
    for op in _body_ops_named(pe, "handshake.constant"):
        store = op.properties if "value" in op.properties else op.attributes
        old = store.get("value")
        if isinstance(old, IntegerAttr) and isinstance(old.type, IntegerType):
            value = cfg.value
            if value >= 1 << (cfg.value_width - 1) and cfg.value_width > 1:
                value -= 1 << cfg.value_width  # print the signed form MLIR expects
            store["value"] = IntegerAttr(value, old.type)


@dataclass(frozen=True)
class ConfigureFabricPass(ModulePass):
    """``configure-fabric``: write a mapping's runtime configuration into a
    parsed, unflattened fabric module (a fresh parse of the fabric file).

    ``locations`` says where in the source each hardware node's configurable
    op starts (:func:`config_locations`); ``source_map`` is the map of the
    parse that produced the module being configured, which finds those ops.
    """

    name = "configure-fabric"

    configuration: FabricConfiguration
    locations: tuple[tuple[str, str], ...]
    source_map: SourceMap

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        by_loc = {str(self.source_map.loc_of(o)): o for o in op.walk()
                  if o.name.startswith("fabric.")}
        where = {node: by_loc.get(loc) for node, loc in self.locations}
        written: dict[Operation, tuple[str, dict]] = {}
        for node in self.configuration.nodes:
            target = where.get(node.hw_node)
            if target is None:
                raise ConfigurationError(f"no fabric op found for hardware node {node.hw_node}")
            attrs = _attributes(node, target)
            if target in written and written[target][1] != attrs and attrs:
                raise ConfigurationError(
                    f"hardware nodes {written[target][0]} and {node.hw_node} share one "
                    "definition in the fabric file but need different configurations; "
                    "instantiate the module once per use to configure it",
                    "CPL_MAPPER_SHARED_DEFINITION")
            written[target] = (node.hw_node, attrs)
            for key, value in attrs.items():
                target.attributes[key] = value


def configure_parsed(parsed: ParsedModule, adg: nx.MultiDiGraph,
                     configuration: FabricConfiguration) -> ParsedModule:
    """A configured copy of the fabric file ``parsed`` came from: a fresh parse
    of its text (``parsed`` itself is flattened by the graph loader), returned
    with its source map so it can be printed with the source names."""
    locations = tuple(sorted(config_locations(parsed, adg).items()))
    fresh = parse_mlir_text(parsed.source_map.text, parsed.path)
    ConfigureFabricPass(configuration, locations, fresh.source_map).apply(Context(), fresh.module)
    return fresh


def configure_module(parsed: ParsedModule, adg: nx.MultiDiGraph,
                     configuration: FabricConfiguration) -> ModuleOp:
    """:func:`configure_parsed`, module only."""
    return configure_parsed(parsed, adg, configuration).module


_VALID_NAME = re.compile(r"^(?:[A-Za-z_$.-][\w$.-]*|\d+)$")
_NUMBER_SUFFIX = re.compile(r"(?:_\d+)+$")


@dataclass(eq=False, repr=False)
class SourceNamePrinter(Printer):
    """xDSL's printer, naming each SSA value as the source file did.

    The configured fabric must keep the names the user wrote: ADG node ids
    (and so every id in ``map.json``) come from them, and xDSL's own naming
    rewrites ``%fifo_01_00`` as ``%fifo``.  A result ``k > 0`` of a grouped
    ``%sw:3`` prints as ``%sw_k`` (xDSL prints results one by one); values
    without a source name, and clashes, get a fresh suffix."""

    source_names: Callable[[SSAValue], str | None] | None = None
    _taken: set[str] = field(default_factory=set, init=False)
    _next: dict[str, int] = field(default_factory=dict, init=False)

    def _fresh(self, candidate: str) -> str:
        if not _VALID_NAME.match(candidate):
            candidate = "v"
        name = candidate
        stem = "n" + candidate if candidate.isdigit() else candidate
        while name in self._taken:
            self._next[stem] = self._next.get(stem, 0) + 1
            name = f"{stem}_{self._next[stem]}"
        self._taken.add(name)
        return name

    def print_ssa_value(self, value: SSAValue) -> str:
        if value not in self._ssa_values:
            source = self.source_names(value) if self.source_names else None
            if source:
                base, sep, index = source.partition("#")
                candidate = base if not sep or index == "0" else f"{base}_{index}"
            else:
                candidate = _NUMBER_SUFFIX.sub("", value.name_hint or "") or "v"
            self._ssa_values[value] = self._fresh(candidate)
        return super().print_ssa_value(value)


def print_with_source_names(parsed: ParsedModule) -> str:
    """The module of ``parsed`` as text, values named as in its source."""
    stream = StringIO()
    SourceNamePrinter(stream=stream, source_names=parsed.value_name).print_op(parsed.module)
    stream.write("\n")
    return stream.getvalue()


__all__ = [
    "ConfigurationError",
    "ConfigureFabricPass",
    "config_locations",
    "FabricConfiguration",
    "MergingSwitchConfig",
    "NodeConfiguration",
    "configure_module",
    "configure_parsed",
    "print_with_source_names",
    "derive_configuration",
    "memref_bytes",
]
