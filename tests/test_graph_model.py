"""Graph extraction (ADG / DFG), flattening and ``loomc inspect`` against hand counts.

Every expected number below was counted by hand from the MLIR text of the corpus
file (the reasoning is in the comments next to it), not by running the code:

* nodes = input sentinels (module/function arguments) + output sentinels
  (yield/return operands) + one node per op (+ one FU node per ``fabric.pe``
  inside a temporal PE);
* edges = one per SSA use: the operand count of every op plus the yield/return
  operands;
* ports = one per operand and per result of every op, one per sentinel (FU
  nodes own no ports: they share the temporal PE's).
"""

from __future__ import annotations

import json

import networkx as nx
import pytest
from xdsl.context import Context

from loomc import cli
from loomc.cmd_inspect import main as inspect_main
from loomc.diagnostics import LoomcError
from loomc.graph import model
from loomc.graph.adg import build_adg, port_graph
from loomc.graph.flatten import FlattenFabricPass, flatten_fabric
from loomc.graph.load import adg_from_file, dfgs_from_file
from loomc.graph.model import NodeKind, PortCategory, ResourceClass
from loomc.mlir_io import parse_mlir_text

MAPPER = "loom/mapper"


def _adg(corpus, rel: str) -> nx.MultiDiGraph:
    return adg_from_file(corpus / rel)


def _dfg(corpus, rel: str) -> nx.MultiDiGraph:
    graphs = dfgs_from_file(corpus / rel)
    assert len(graphs) == 1
    return graphs[0]


def _counts(graph: nx.MultiDiGraph) -> tuple[int, int, int, int, int]:
    s = model.summarize(graph)
    return s.nodes, s.edges, s.ports, s.input_sentinels, s.output_sentinels


def _classes(graph: nx.MultiDiGraph) -> dict[str, int]:
    return dict(model.summarize(graph).by_class)


def _check_consistency(graph: nx.MultiDiGraph) -> None:
    """Structural invariants of the spec's Graph container (no counting)."""
    ports = model.ports(graph)
    for rec in model.nodes(graph):
        assert rec.input_ports or rec.output_ports  # spec "Node": no portless nodes
        for pid in rec.input_ports + rec.output_ports:
            owner = ports[pid].node
            # a port's parent is the node, or the temporal PE an FU belongs to
            assert owner in (rec.id, rec.parent_temporal_pe)
    for edge in model.edges(graph):
        assert ports[edge.src_port].direction is model.Direction.OUT
        assert ports[edge.dst_port].direction is model.Direction.IN


# --------------------------------------------------------------------------- ADG + DFG pairs


def test_unit_addi_pair(corpus):
    adg = _adg(corpus, f"{MAPPER}/unit/addi/addi.fabric.mlir")
    # Module args %in0..%in2 -> 3 input sentinels; yield %sw22#2, %sw12#3 -> 2 outputs.
    # Ops: 9 switches (sw00..sw22), 12 fifos, 4 fabric.instance @pe_addi -> 25.
    # Nodes 3 + 2 + 25 = 30.
    # Edges: switch operand counts sw00 3, sw01 3, sw02 3, sw10 3, sw11 5, sw12 4,
    # sw20 3, sw21 4, sw22 3 = 31; fifos 12 x 1; PEs 4 x 2 = 8; yield 2 -> 53.
    # Ports: sentinels 5; switch inputs 31, switch outputs 3+4+2+5+6+4+3+4+3 = 34;
    # fifos 12 x 2 = 24; PEs 4 x 3 = 12 -> 106.
    assert _counts(adg) == (30, 53, 106, 3, 2)
    assert _classes(adg) == {"boundary": 5, "functional": 4, "routing": 21}
    s = model.summarize(adg)
    assert dict(s.by_op) == {"fabric.fifo": 12, "fabric.pe": 4, "fabric.switch": 9}
    assert dict(s.body_ops) == {"arith.addi": 4}
    assert s.placeable == 4 and s.fanout_ports == 0
    # Internal routes: all-ones tables, in x out per switch:
    # 3x3 + 3x4 + 3x2 + 3x5 + 5x6 + 4x4 + 3x3 + 4x4 + 3x3 = 122, plus 12 FIFO pass-throughs.
    assert sum(len(r.routes) for r in model.nodes(adg)) == 134
    pe = model.node_record(adg, "pe_0_0")  # sym_name of the first instance
    assert pe.body_ops == ("arith.addi",) and pe.param("definition") == "pe_addi"
    assert pe.loc.endswith("addi.fabric.mlir:86")  # the fabric.instance line
    # %in0 -> sw00 input 0; sw00 output #2 -> pe_0_0 operand 0.
    path = nx.shortest_path(port_graph(adg), "@in0:out0", "pe_0_0:in0")
    assert path == ["@in0:out0", "sw00:in0", "sw00:out2", "pe_0_0:in0"]
    _check_consistency(adg)

    dfg = _dfg(corpus, f"{MAPPER}/unit/addi/single-addi.handshake.mlir")
    # args a, b -> 2 inputs; return %c -> 1 output; one arith.addi.
    # Edges: addi 2 operands + return 1 = 3.  Ports: 2 + (2 + 1) + 1 = 6.
    assert _counts(dfg) == (4, 3, 6, 2, 1)
    add = model.node_record(dfg, "c")
    ports = model.ports(dfg)
    assert add.op_name == "arith.addi"
    assert [ports[p].type for p in add.input_ports + add.output_ports] == ["i32"] * 3
    assert [ports[p].width for p in add.input_ports] == [32, 32]
    assert model.node_record(dfg, "@in0").name == "a"  # from argNames
    assert add.loc is not None and add.loc.endswith("single-addi.handshake.mlir:4")
    _check_consistency(dfg)


def test_temporal_pe_pair(corpus):
    adg = _adg(corpus, f"{MAPPER}/smoke/temporal-three-fu/temporal-three-fu.fabric.mlir")
    # Args %in0..%in3 -> 4 inputs; yield %fifo_out -> 1 output.
    # Ops: sn switch, 4 add_tag, 4 tagged switches (st00 st01 st10 st11), 4 fifos,
    # tpe instance (virtual node + 3 FU nodes fu_add/fu_mul/fu_sub), del_tag, fifo_out.
    # Nodes 5 + 1 + 4 + 4 + 4 + (1 + 3) + 1 + 1 = 24.
    # Edges: sn 4, add_tags 4, st00 4, st01 3, st10 3, st11 3, fifos 4, tpe 2, dt 1,
    # fifo_out 1, yield 1 = 30.
    # Ports: sentinels 5; sn 4+4; add_tags 4x2; st00 4+3, st01 3+2, st10 3+3, st11 3+3;
    # fifos 4x2; tpe 2+1; dt 2; fifo_out 2 = 5+8+8+24+8+3+2+2 = 60 (FUs own none).
    assert _counts(adg) == (24, 30, 60, 4, 1)
    assert _classes(adg) == {"boundary": 5, "functional": 4, "routing": 15}
    tpe = model.node_record(adg, "tpe_0")
    assert tpe.is_virtual and not tpe.is_placement_target
    assert tpe.param("num_instruction") == 4 and tpe.param("num_register") == 0
    assert tpe.fu_nodes == ("tpe_0/fu_add", "tpe_0/fu_mul", "tpe_0/fu_sub")
    bodies = [model.node_record(adg, fu).body_ops for fu in tpe.fu_nodes]
    assert bodies == [("arith.addi",), ("arith.muli",), ("arith.subi",)]
    for k, fu_id in enumerate(tpe.fu_nodes):
        fu = model.node_record(adg, fu_id)
        assert fu.is_placement_target and fu.parent_temporal_pe == "tpe_0"
        assert fu.param("fu_index") == k  # opcode = body order
        assert fu.input_ports == tpe.input_ports and fu.output_ports == tpe.output_ports
    # FU locations point into the temporal_pe definition ("fabric.pe @fu_mul" is line 33)
    assert model.node_record(adg, "tpe_0/fu_mul").loc.endswith("temporal-three-fu.fabric.mlir:33")
    port = model.ports(adg)[tpe.input_ports[0]]
    assert port.node == "tpe_0"  # the virtual node owns the shared ports
    assert (port.category, port.width, port.tag_width) == (PortCategory.TAGGED, 32, 4)
    _check_consistency(adg)

    dfg = _dfg(corpus, f"{MAPPER}/smoke/temporal-three-fu/add-mul-sub-chain.handshake.mlir")
    # args a b c d -> 4; return %2 -> 1; ops addi, muli, subi.
    # Edges 2 + 2 + 2 + 1 = 7; ports 4 + 3 x 3 + 1 = 14.
    assert _counts(dfg) == (8, 7, 14, 4, 1)
    assert dict(model.summarize(dfg).by_op) == {
        "arith.addi": 1,
        "arith.muli": 1,
        "arith.subi": 1,
    }


def test_multi_op_pe_pair(corpus):
    adg = _adg(corpus, f"{MAPPER}/smoke/simple-techmap/simple-techmap.fabric.mlir")
    # Args in0..in3 -> 4; yield %sw22#2, %sw12#3 -> 2.  9 switches, 4 PE instances.
    # Nodes 6 + 9 + 4 = 19.
    # Edges: switch operands sw00 3, sw01 3, sw02 3, sw10 3, sw11 5, sw12 4, sw20 3,
    # sw21 4, sw22 4 = 32; PEs addi 2 + add_mul 3 + mul_add 3 + muli 2 = 10; yield 2 -> 44.
    # Ports: 6 + switch in 32 + switch out (3+4+3+5+7+4+3+4+3 = 36) + PEs (3+4+4+3 = 14) = 88.
    assert _counts(adg) == (19, 44, 88, 4, 2)
    assert _classes(adg) == {"boundary": 6, "functional": 4, "routing": 9}
    add_mul = model.node_record(adg, "pe_0_1")
    body = add_mul.body
    # %0 = addi %arg0, %arg1 ; %1 = muli %0, %arg2 ; yield %1
    assert body.op_names == ("arith.addi", "arith.muli")
    assert body.edges == ((0, 1),)
    assert body.ops[0].operands == (model.BodyRef("arg", 0), model.BodyRef("arg", 1))
    assert body.ops[1].operands == (model.BodyRef("op", 0, 0), model.BodyRef("arg", 2))
    assert body.yields == (model.BodyRef("op", 1, 0),)
    assert body.arg_types == ("i32", "i32", "i32")
    mul_add = model.node_record(adg, "pe_1_0")
    assert mul_add.body.op_names == ("arith.muli", "arith.addi")
    assert dict(model.summarize(adg).body_ops) == {"arith.addi": 3, "arith.muli": 3}

    dfg = _dfg(corpus, f"{MAPPER}/smoke/simple-techmap/mul-add-square.handshake.mlir")
    # args a b c -> 3; return %out -> 1; ops: %0 = muli a,b ; %d = addi %0,c ; %out = muli d,d.
    # Edges 2 + 2 + 2 + 1 = 7; ports 3 + 3 x 3 + 1 = 13.
    # %d feeds both operands of %out: one output port, two edges (SSA fan-out).
    assert _counts(dfg) == (7, 7, 13, 3, 1)
    assert model.summarize(dfg).fanout_ports == 1
    uses = model.port_edges(dfg)["d:out0"]
    assert sorted(uses) == ["d:out0->out:in0", "d:out0->out:in1"]


def test_extmemory_pair(corpus):
    adg = _adg(corpus, f"{MAPPER}/unit/memory-load/mem-load.fabric.mlir")
    # Args %arg0 memref, %arg1 none, %arg2 bits<57> -> 3; yield %3#4, %7#4 -> 2.
    # Ops: 12 switches %0..%11, load PE instance %12, extmemory %13 -> 14; nodes 19.
    # Switch operand counts: %0 6, %1 4, %2 4, %3 4, %4 5, %5 4, %6 4, %7 5, %8 5, %9 4,
    # %10 4, %11 5 = 54; load PE 3; extmemory (%arg0, %11#4) 2; yield 2 -> edges 61.
    # Ports: 5 + switch in 54 + switch out (5+4+4+5+5+4+4+5+5+4+4+5 = 54) + PE 3+2
    # + extmemory 2+2 = 122.
    assert _counts(adg) == (19, 61, 122, 3, 2)
    assert _classes(adg) == {"boundary": 5, "functional": 1, "memory": 1, "routing": 12}
    ports = model.ports(adg)
    mem = model.node_record(adg, "extmemory_13")
    assert mem.resource_class is ResourceClass.MEMORY and mem.is_placement_target
    assert mem.param("ldCount") == 1 and mem.param("stCount") == 0
    assert [ports[p].role for p in mem.input_ports] == ["memref", "ld_addr"]
    assert [ports[p].role for p in mem.output_ports] == ["ld_data", "ld_done"]
    assert ports[mem.input_ports[0]].category is PortCategory.MEMREF
    assert "@in0:out0->extmemory_13:in0" in {e.id for e in model.edges(adg)}
    load = model.node_record(adg, "load_pe_r0_c0")
    # body: %dataResult, %addressResults = handshake.load [%arg0] %arg1, %arg2
    #       fabric.yield %dataResult, %addressResults
    assert [ports[p].role for p in load.input_ports] == [
        "addr_from_comp",
        "data_from_mem",
        "ctrl",
    ]
    assert [ports[p].role for p in load.output_ports] == ["data_to_comp", "addr_to_mem"]
    _check_consistency(adg)

    dfg = _dfg(corpus, f"{MAPPER}/unit/memory-load/mem-load.handshake.mlir")
    # args mem, addr, ctrl -> 3; return %ld_data, %mem_done -> 2; ops load (3 in, 2 out),
    # extmemory (%mem, %ld_addr: 2 in, 2 out).  Edges 3 + 2 + 2 = 7; ports 3 + 5 + 4 + 2 = 14.
    assert _counts(dfg) == (7, 7, 14, 3, 2)
    ext = model.node_record(dfg, "mem_data")
    dports = model.ports(dfg)
    assert ext.op_name == "handshake.extmemory"
    assert [dports[p].role for p in ext.input_ports] == ["memref", "ld_addr"]
    assert [dports[p].role for p in ext.output_ports] == ["ld_data", "ld_done"]
    assert ext.param("ldCount") == 1 and ext.param("stCount") == 0


def test_onchip_memory_pair(corpus):
    adg = _adg(corpus, f"{MAPPER}/unit/memory-store-onchip/mem-store-onchip.fabric.mlir")
    # Args none, bits<32>, bits<57> -> 3; yield %3#4 -> 1.  12 switches, store PE, memory.
    # Nodes 4 + 14 = 18.  Switch operands 6+4+4+4+5+4+4+5+5+4+4+5 = 54; PE 3;
    # memory (%7#4, %11#4) 2; yield 1 -> edges 60.
    # Ports 4 + 54 + 54 + PE 5 + memory 2+1 = 120.
    assert _counts(adg) == (18, 60, 120, 3, 1)
    assert _classes(adg) == {"boundary": 4, "functional": 1, "memory": 1, "routing": 12}
    ports = model.ports(adg)
    mem = model.node_record(adg, "memory_13")
    assert mem.op_name == "fabric.memory"
    # operands (%7#4 : bits<32>, %11#4 : bits<57>): data then address, classified by type
    assert [ports[p].role for p in mem.input_ports] == ["st_data", "st_addr"]
    assert [ports[p].role for p in mem.output_ports] == ["st_done"]

    dfg = _dfg(corpus, f"{MAPPER}/unit/memory-store-onchip/mem-store-onchip.handshake.mlir")
    # args addr, data, ctrl -> 3; return %st_done -> 1; ops store (3 in, 2 out),
    # memory (%st_data, %st_addr: 2 in, 1 out).  Edges 3 + 2 + 1 = 6; ports 3+5+3+1 = 12.
    assert _counts(dfg) == (6, 6, 12, 3, 1)
    mem_sw = model.node_record(dfg, "st_done")
    dports = model.ports(dfg)
    assert [dports[p].role for p in mem_sw.input_ports] == ["st_data", "st_addr"]
    assert [dports[p].role for p in mem_sw.output_ports] == ["st_done"]


def test_temporal_switch_fabric(corpus):
    adg = _adg(corpus, f"{MAPPER}/smoke/temporal-sw-converge/temporal-sw-converge.fabric.mlir")
    # Args in0..in3 -> 4; yield %fifo0, %fifo1 -> 2.  Ops: sn, 4 add_tag, tsw, s_merge, st,
    # tpe (+1 FU fu_add), s_out, 2 del_tag, 2 fifo -> nodes 6 + 1+4+1+1+1+2+1+2+2 = 21.
    # Edges: sn 4, add_tags 4, tsw 2, s_merge 2, st 2, tpe 2, s_out 1, del_tags 2, fifos 2,
    # yield 2 = 23.  Ports: 6 + 8 + 8 + 3 + 3 + 4 + 3 + 3 + 4 + 4 = 46.
    assert _counts(adg) == (21, 23, 46, 4, 2)
    assert _classes(adg) == {"boundary": 6, "functional": 2, "routing": 13}
    tsw = model.node_record(adg, "tsw")
    # connectivity_table = [1, 1]: one output, both inputs reach it
    assert tsw.op_name == "fabric.temporal_sw"
    assert tsw.routes == (("tsw:in0", "tsw:out0"), ("tsw:in1", "tsw:out0"))
    assert tsw.param("num_route_table") == 2


def test_full_app_dfg(corpus):
    dfg = _dfg(corpus, "loom/apps/S1-streaming-vecsum/vecsum.handshake.mlir")
    # The loader keeps @_Z10vecsum_dsaPKjjj and drops its _esi wrapper.
    # Args %arg0..%arg3 -> 4 inputs; return %12, %15 -> 2 outputs.
    # 24 ops: join 1, constant 5 (%1 %2 %4 %9 %10), cmpi 1, cond_br 3, index_cast 2,
    # stream 1, gate 2, carry 2, sink 1, load 1, addi 1, select 1, mux 2, extmemory 1.
    # Nodes 4 + 24 + 2 = 30.
    # Operands in op order: 1,1,1,2,2,1,1,1,3,2,3,2,1,2,3,2,1,1,3,3,2,3,2,3 = 46,
    # + 2 return operands -> 48 edges.
    # Results: 1,1,1,1,2,1,1,1,2,2,1,2,0,2,2,1,1,1,1,1,2,1,2,1 = 31 output ports;
    # ports 4 + 2 + 46 + 31 = 83.
    assert model.summarize(dfg).name == "_Z10vecsum_dsaPKjjj"
    assert _counts(dfg) == (30, 48, 83, 4, 2)
    assert dict(model.summarize(dfg).by_op) == {
        "arith.addi": 1,
        "arith.cmpi": 1,
        "arith.index_cast": 2,
        "arith.select": 1,
        "dataflow.carry": 2,
        "dataflow.gate": 2,
        "dataflow.stream": 1,
        "handshake.cond_br": 3,
        "handshake.constant": 5,
        "handshake.extmemory": 1,
        "handshake.join": 1,
        "handshake.load": 1,
        "handshake.mux": 2,
        "handshake.sink": 1,
    }
    # Values used more than once: %0 (5 uses), %arg1, %arg2, %3, %falseResult,
    # %willContinue, %7, %11 -> 8 fan-out ports.
    assert model.summarize(dfg).fanout_ports == 8
    stream = model.node_record(dfg, "index")
    assert stream.op_name == "dataflow.stream"
    assert stream.param("step_op") == "+=" and stream.param("stop_cond") == "!="
    # loc(#loc31) -> fused<...>[#loc10] -> "tests/app/vecsum/vecsum.cpp":32:0
    assert stream.param("src_loc") == "vecsum.cpp:32"
    assert stream.loc is not None and ".handshake.mlir:" in stream.loc
    _check_consistency(dfg)


def test_graphs_are_deterministic(corpus):
    rel = f"{MAPPER}/smoke/temporal-three-fu/temporal-three-fu.fabric.mlir"
    first, second = _adg(corpus, rel), _adg(corpus, rel)
    assert list(first.nodes) == list(second.nodes)
    assert [e.id for e in model.edges(first)] == [e.id for e in model.edges(second)]
    assert model.nodes(first) == model.nodes(second)


# --------------------------------------------------------------------------- flattening

NESTED = """
fabric.pe @adder(%a: !dataflow.bits<32>, %b: !dataflow.bits<32>) -> (!dataflow.bits<32>) {
^bb0(%x: i32, %y: i32):
  %s = arith.addi %x, %y : i32
  fabric.yield %s : i32
}
fabric.module @cell(%a: !dataflow.bits<32>, %b: !dataflow.bits<32>) -> (!dataflow.bits<32>) {
  %sw:2 = fabric.switch [connectivity_table = [1, 1, 1, 1]] %a, %b
      : !dataflow.bits<32> -> !dataflow.bits<32>, !dataflow.bits<32>
  %r = fabric.instance @adder(%sw#0, %sw#1) {sym_name = "add"}
      : (!dataflow.bits<32>, !dataflow.bits<32>) -> (!dataflow.bits<32>)
  fabric.yield %r : !dataflow.bits<32>
}
fabric.module @top(%x: !dataflow.bits<32>, %y: !dataflow.bits<32>, %z: !dataflow.bits<32>)
    -> (!dataflow.bits<32>) {
  %c0 = fabric.instance @cell(%x, %y) {sym_name = "c0"}
      : (!dataflow.bits<32>, !dataflow.bits<32>) -> (!dataflow.bits<32>)
  %c1 = fabric.instance @cell(%c0, %z) {sym_name = "c1"}
      : (!dataflow.bits<32>, !dataflow.bits<32>) -> (!dataflow.bits<32>)
  fabric.yield %c1 : !dataflow.bits<32>
}
"""


def _top(module, name: str):
    return next(
        op
        for op in module.ops
        if op.name == "fabric.module" and op.attributes["sym_name"].data == name
    )


def test_flatten_inlines_nested_modules_with_hierarchical_names():
    parsed = parse_mlir_text(NESTED, "nested.fabric.mlir")
    FlattenFabricPass().apply(Context(), parsed.module)
    top = _top(parsed.module, "top")
    ops = list(top.regions[0].blocks[0].ops)
    assert [op.name for op in ops] == [
        "fabric.switch",
        "fabric.pe",
        "fabric.switch",
        "fabric.pe",
        "fabric.yield",
    ]
    assert [op.attributes["loomc.path"].data for op in ops[:-1]] == [
        "c0/sw",
        "c0/add",
        "c1/sw",
        "c1/add",
    ]
    top.verify()
    adg = build_adg(top, names=parsed.value_name)
    # 3 inputs + 1 output + 4 ops = 8 nodes; edges: 2 per switch, 2 per PE, 1 yield = 9
    assert _counts(adg)[:2] == (8, 9)
    edges = {e.id for e in model.edges(adg)}
    # c0's result (its adder) feeds c1's switch input 0; c1's adder is the module output
    assert "c0/add:out0->c1/sw:in0" in edges and "c1/add:out0->@out0:in0" in edges
    assert model.node_record(adg, "c1/add").body_ops == ("arith.addi",)


def test_flatten_resolves_forward_references(corpus):
    path = corpus / "loom/fabric-tdd/CFG_ADG_COMBINATIONAL_LOOP/green_mixed_module.fabric.mlir"
    adg = adg_from_file(path)
    # top: %x -> bcast switch; %u = @mixed(%bcast#0, %v#1); %v = @mixed(%bcast#1, %u#1);
    # @mixed = switch %sw (2 in, 2 out) + fifo %seq on %sw#1, yields (%sw#0, %seq).
    # Nodes: 1 in + 1 out + bcast + u/sw u/seq v/sw v/seq = 7.
    # Edges: bcast 1 + 2 x (sw 2 + seq 1) + yield 1 = 8.
    assert _counts(adg)[:2] == (7, 8)
    edges = {e.id for e in model.edges(adg)}
    # %u's second operand is %v#1 = v's %seq, defined after %u in the text
    assert "v/seq:out0->u/sw:in1" in edges
    assert "u/seq:out0->v/sw:in1" in edges


def test_flatten_splices_pe_instances_inside_pe_bodies(corpus):
    adg = adg_from_file(corpus / "loom/fabric-tdd/CPL_PE_INSTANCE_ONLY_BODY/green.fabric.mlir")
    # body: %t = fabric.instance @inner_add(%x, %y) ; %s = arith.addi %t, %x
    # @inner_add's body is one arith.addi -> flat body [addi, addi], edge 0 -> 1
    pe = next(r for r in model.nodes(adg) if r.op_name == "fabric.pe")
    assert pe.body.op_names == ("arith.addi", "arith.addi")
    assert pe.body.edges == ((0, 1),)
    assert pe.body.ops[1].operands == (model.BodyRef("op", 0, 0), model.BodyRef("arg", 0))


CYCLIC = """
fabric.module @a(%x: !dataflow.bits<32>) -> (!dataflow.bits<32>) {
  %o = fabric.instance @b(%x) : (!dataflow.bits<32>) -> (!dataflow.bits<32>)
  fabric.yield %o : !dataflow.bits<32>
}
fabric.module @b(%x: !dataflow.bits<32>) -> (!dataflow.bits<32>) {
  %o = fabric.instance @c(%x) : (!dataflow.bits<32>) -> (!dataflow.bits<32>)
  fabric.yield %o : !dataflow.bits<32>
}
fabric.module @c(%x: !dataflow.bits<32>) -> (!dataflow.bits<32>) {
  %o = fabric.instance @b(%x) : (!dataflow.bits<32>) -> (!dataflow.bits<32>)
  fabric.yield %o : !dataflow.bits<32>
}
"""


def test_flatten_rejects_cycles():
    parsed = parse_mlir_text(CYCLIC, "cyclic.fabric.mlir")
    with pytest.raises(LoomcError) as info:
        flatten_fabric(parsed.module, top="a", loc_of=parsed.loc)
    assert info.value.code == "CPL_INSTANCE_CYCLIC_REFERENCE"
    assert "@b -> @c -> @b" in info.value.message
    assert info.value.loc is not None and info.value.loc.line > 0


def test_flatten_rejects_unknown_target(corpus):
    with pytest.raises(LoomcError) as info:
        adg_from_file(corpus / "loom/fabric-tdd/CPL_INSTANCE_UNRESOLVED/red.fabric.mlir")
    assert info.value.code == "CPL_INSTANCE_UNRESOLVED"


@pytest.mark.parametrize("case", ["red_switch", "red_fifo", "red_memory", "red_extmemory"])
def test_named_routing_and_memory_are_not_instance_targets(corpus, case):
    # spec-fabric.md: switch/FIFO/memory/extmemory must be used inline
    path = corpus / f"loom/fabric-tdd/CPL_INSTANCE_ILLEGAL_TARGET/{case}.fabric.mlir"
    with pytest.raises(LoomcError) as info:
        adg_from_file(path)
    assert info.value.code == "CPL_INSTANCE_ILLEGAL_TARGET"
    assert info.value.loc is not None and info.value.loc.line > 1


def test_instance_config_comes_from_the_instance():
    # spec-fabric.md "Runtime Configuration Overrides": the definition's
    # output_tag is cleared, the instance's own one is kept.
    text = """
fabric.pe @tagged_add(%a: !dataflow.tagged<!dataflow.bits<32>, i2>)
    {output_tag = [3 : i2]} -> (!dataflow.tagged<!dataflow.bits<32>, i2>) {
^bb0(%x: i32):
  %s = arith.addi %x, %x : i32
  fabric.yield %s : i32
}
fabric.module @top(%a: !dataflow.tagged<!dataflow.bits<32>, i2>,
                   %b: !dataflow.tagged<!dataflow.bits<32>, i2>)
    -> (!dataflow.tagged<!dataflow.bits<32>, i2>, !dataflow.tagged<!dataflow.bits<32>, i2>) {
  %p = fabric.instance @tagged_add(%a) {sym_name = "p"}
      : (!dataflow.tagged<!dataflow.bits<32>, i2>) -> (!dataflow.tagged<!dataflow.bits<32>, i2>)
  %q = fabric.instance @tagged_add(%b) {sym_name = "q", output_tag = [1 : i2]}
      : (!dataflow.tagged<!dataflow.bits<32>, i2>) -> (!dataflow.tagged<!dataflow.bits<32>, i2>)
  fabric.yield %p, %q
      : !dataflow.tagged<!dataflow.bits<32>, i2>, !dataflow.tagged<!dataflow.bits<32>, i2>
}
"""
    parsed = parse_mlir_text(text, "config.fabric.mlir")
    top = flatten_fabric(parsed.module)
    top.verify()
    p, q = [op for op in top.regions[0].blocks[0].ops if op.name == "fabric.pe"]
    assert "output_tag" not in p.attributes
    assert [a.value.data for a in q.attributes["output_tag"].data] == [1]
    assert p.attributes["loomc.def"].data == "tagged_add"


# --------------------------------------------------------------------------- inspect


def test_inspect_json_on_adg_and_dfg(corpus, capsys):
    path = corpus / f"{MAPPER}/unit/addi/addi.fabric.mlir"
    assert inspect_main([str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (graph,) = data["graphs"]
    assert graph["kind"] == "adg" and graph["name"] == "addi"
    # hand counts of test_unit_addi_pair
    assert (graph["nodes"], graph["edges"]) == (30, 53)
    assert graph["sentinels"] == {"inputs": 3, "outputs": 2}
    assert graph["node_classes"] == {"boundary": 5, "functional": 4, "routing": 21}

    path = corpus / f"{MAPPER}/smoke/simple-techmap/mul-add-square.handshake.mlir"
    assert inspect_main([str(path), "--json", "--nodes"]) == 0
    data = json.loads(capsys.readouterr().out)
    (graph,) = data["graphs"]
    assert graph["kind"] == "dfg" and graph["ops"] == {"arith.addi": 1, "arith.muli": 2}
    ids = [n["id"] for n in graph["node_list"]]
    assert ids == ["@in0", "@in1", "@in2", "muli_0", "d", "out", "@out0"]


def test_inspect_text_and_errors(corpus, capsys):
    path = corpus / f"{MAPPER}/smoke/temporal-three-fu/temporal-three-fu.fabric.mlir"
    assert cli.run(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ADG fabric.module @temporal_three_fu" in out
    assert "nodes 24  edges 30  ports 60" in out
    assert "temporal PEs 1 (FU nodes 3)" in out
    assert cli.run(["inspect", str(corpus / "no-such-file.mlir")]) == 3
    assert "no such file" in capsys.readouterr().err


def test_sentinel_kinds(corpus):
    dfg = _dfg(corpus, f"{MAPPER}/unit/addi/single-addi.handshake.mlir")
    kinds = [r.kind for r in model.nodes(dfg)]
    assert kinds.count(NodeKind.MODULE_INPUT) == 2 and kinds.count(NodeKind.MODULE_OUTPUT) == 1


# --------------------------------------------------------------------------- corpus-wide


def _mapper_files(corpus) -> list:
    root = corpus / MAPPER
    return sorted(root.glob("unit/*/*.mlir")) + sorted(root.glob("smoke/*/*.mlir"))


def test_every_mapper_corpus_file_builds(corpus):
    """Every mapper unit/smoke file yields graphs that keep the spec's invariants;
    the corpus fabrics are legal hardware, so no ADG output port fans out
    (spec-fabric.md "Port Connection Invariants")."""
    files = _mapper_files(corpus)
    assert len(files) > 100
    for path in files:
        if path.name.endswith(".fabric.mlir"):
            graphs = [adg_from_file(path)]
            assert model.summarize(graphs[0]).fanout_ports == 0, path
        else:
            graphs = dfgs_from_file(path)
        for graph in graphs:
            _check_consistency(graph)
            for rec in model.nodes(graph):
                if rec.kind is NodeKind.MODULE_INPUT:
                    assert rec.output_ports and not rec.input_ports
                if rec.kind is NodeKind.MODULE_OUTPUT:
                    # spec: an output sentinel has exactly one incoming edge
                    assert len(graph.in_edges(rec.id)) == 1, (path, rec.id)


def test_building_twice_from_one_parse_gives_the_same_adg():
    from loomc.graph.load import adg_from_parsed

    # @top comes first in the text: after flattening, @cell is no longer
    # instantiated by anything, yet the flattened @top must still be chosen.
    text = NESTED.replace("fabric.module @top", "fabric.module @top_first")
    parsed = parse_mlir_text(text, "twice.fabric.mlir")
    first = adg_from_parsed(parsed)
    second = adg_from_parsed(parsed)
    assert first.graph["name"] == second.graph["name"] == "top_first"
    assert model.nodes(first) == model.nodes(second)
