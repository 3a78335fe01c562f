"""Single rules of the place-and-route checker, each broken on purpose.

The graphs are the inputs the checker trusts, so capacity rules are exercised
by editing a copy of a graph record (a bigger software memory, a smaller
instruction memory) rather than the mapping.
"""

from __future__ import annotations

import dataclasses

from loomc.graph import model
from loomc.graph.model import NodeKind
from loomc.verify.mapfile import Register
from loomc.verify.pnr_check import check_pnr, port_compatible


def _with_params(graph, node_id: str, **params):
    copy = graph.copy()
    rec = model.node_record(graph, node_id)
    merged = dict(rec.params) | params
    copy.nodes[node_id]["record"] = dataclasses.replace(rec, params=tuple(sorted(merged.items())))
    return copy


def _memory_op(case) -> str:
    return next(n.id for n in model.nodes(case.dfg)
                if n.op_name in ("handshake.memory", "handshake.extmemory"))


def _found(doc, dfg, adg) -> set[tuple[str, str]]:
    return {(v.constraint_class, v.sw_object) for v in check_pnr(doc, dfg, adg)}


def test_memory_larger_than_the_hardware_is_c4_3(mutation_cases):
    case = mutation_cases["mem_store"]
    mem = _memory_op(case)
    dfg = _with_params(case.dfg, mem, memref_type="memref<100000xi32>")
    assert ("C4.3", mem) in _found(case.doc, dfg, case.adg)


def test_memory_element_type_mismatch_is_c4_3(mutation_cases):
    case = mutation_cases["mem_store"]
    mem = _memory_op(case)
    dfg = _with_params(case.dfg, mem, memref_type="memref<256xf32>")
    found = check_pnr(case.doc, dfg, case.adg)
    assert any(v.constraint_class == "C4.3" and "element f32 vs i32" in v.reason for v in found)


def test_more_store_ports_than_the_hardware_is_c4_4(mutation_cases):
    case = mutation_cases["mem_store"]
    mem = _memory_op(case)
    found = check_pnr(case.doc, _with_params(case.dfg, mem, stCount=2), case.adg)
    assert any(v.constraint_class == "C4.4" and "stCount 2" in v.reason for v in found)


def test_more_ops_than_instruction_slots_is_c5_1(mutation_cases):
    case = mutation_cases["temporal_mac"]
    tpe = case.doc.temporal[0].temporal_pe
    adg = _with_params(case.adg, tpe, num_instruction=1)
    found = check_pnr(case.doc, case.dfg, adg)
    assert {v.constraint_class for v in found} >= {"C5.1"}
    assert any("exceed num_instruction 1" in v.reason for v in found)


def test_register_beyond_num_register_is_c5_2(mutation_cases):
    case = mutation_cases["temporal_mac"]
    tpe = case.doc.temporal[0].temporal_pe
    edge = next(e.id for e in model.edges(case.dfg)
                if not model.node_record(case.dfg, e.src_node).is_sentinel
                and not model.node_record(case.dfg, e.dst_node).is_sentinel)
    doc = dataclasses.replace(case.doc, registers=(Register(edge, tpe, 0),))
    found = check_pnr(doc, case.dfg, case.adg)
    assert any(v.constraint_class == "C5.2" and "num_register 0" in v.reason for v in found)


def test_wrong_opcode_is_c5(mutation_cases):
    case = mutation_cases["temporal"]
    t = case.doc.temporal[0]
    doc = dataclasses.replace(case.doc, temporal=(dataclasses.replace(t, opcode=t.opcode + 1),))
    assert ("C5", t.sw_node) in _found(doc, case.dfg, case.adg)


def test_missing_temporal_entry_is_c5(mutation_cases):
    case = mutation_cases["temporal"]
    doc = dataclasses.replace(case.doc, temporal=())
    assert ("C5", case.doc.temporal[0].sw_node) in _found(doc, case.dfg, case.adg)


def test_route_tag_must_match_the_consumer_instruction(mutation_cases):
    case = mutation_cases["temporal"]
    op = case.doc.temporal[0].sw_node
    k = next(i for i, r in enumerate(case.doc.routes) if r.dst_sw_port.startswith(op + ":"))
    routes = list(case.doc.routes)
    routes[k] = dataclasses.replace(routes[k], tag=(routes[k].tag or 0) + 1)
    doc = dataclasses.replace(case.doc, routes=tuple(routes))
    found = check_pnr(doc, case.dfg, case.adg)
    assert any(v.constraint_class == "C5" and "arrives with tag" in v.reason for v in found)


def test_swapped_pe_operands_break_positional_binding(mutation_cases):
    case = mutation_cases["addi"]
    binding = dict(case.doc.port_binding)
    op = next(n for n in model.nodes(case.dfg) if n.kind is NodeKind.OPERATION)
    a, b = op.input_ports[:2]
    binding[a], binding[b] = binding[b], binding[a]
    doc = dataclasses.replace(case.doc, port_binding=tuple(sorted(binding.items())))
    found = check_pnr(doc, case.dfg, case.adg)
    assert any(v.constraint_class == "C2" and "positional" in v.reason for v in found)


def test_implicit_fanout_outside_a_switch_is_c3_6(mutation_cases):
    """Make one branch of a fanned-out net leave from a wire end instead of a switch."""
    case = mutation_cases["diamond"]
    by_net: dict[str, list[int]] = {}
    for k, r in enumerate(case.doc.routes):
        by_net.setdefault(r.src_sw_port, []).append(k)
    net, ks = next((n, ks) for n, ks in sorted(by_net.items()) if len(ks) > 1)
    first, second = case.doc.routes[ks[0]], case.doc.routes[ks[1]]
    start = first.hops[0][0]
    routes = list(case.doc.routes)
    other = second.hops[-1][1]
    assert other != first.hops[0][1]
    routes[ks[1]] = dataclasses.replace(second, hops=((start, other),))
    doc = dataclasses.replace(case.doc, routes=tuple(routes))
    found = check_pnr(doc, case.dfg, case.adg)
    assert any(v.constraint_class == "C3.6" and v.sw_object == net and v.hw_object == start
               for v in found)


def test_multi_op_group_edges_are_internal(mutation_cases):
    """The techmap pair places a two-op group on one PE: its internal edge is not
    routed, and routing it anyway is a C3 violation."""
    case = mutation_cases["techmap"]
    routed = {r.sw_edge for r in case.doc.routes}
    internal = [e.id for e in model.edges(case.dfg) if e.id not in routed]
    assert internal, "expected a multi-op group with an internal edge"
    edge = model.edges(case.dfg)[[e.id for e in model.edges(case.dfg)].index(internal[0])]
    fake = dataclasses.replace(case.doc.routes[0], sw_edge=edge.id, src_sw_port=edge.src_port,
                               dst_sw_port=edge.dst_port)
    doc = dataclasses.replace(case.doc, routes=(*case.doc.routes, fake))
    assert ("C3", edge.id) in _found(doc, case.dfg, case.adg)


def test_port_compatibility_rules(mutation_cases):
    """Native widths must match; native↔tagged only where tags are stripped."""
    case = mutation_cases["tagged"]
    sw = model.ports(case.dfg)
    hw = model.ports(case.adg)
    sw_in = next(p for p in sw.values() if p.direction.value == "in" and p.width == 32)
    tagged_in = next(p for p in hw.values() if p.direction.value == "in" and p.is_tagged)
    assert port_compatible(sw_in, tagged_in, fu_relaxed=True) is None
    assert "native type" in port_compatible(sw_in, tagged_in, fu_relaxed=False)
    narrow = dataclasses.replace(tagged_in, width=16)
    assert "width 32 vs 16" in port_compatible(sw_in, narrow, fu_relaxed=True)
    out = dataclasses.replace(tagged_in, direction=model.Direction.OUT)
    assert port_compatible(sw_in, out, fu_relaxed=True).startswith("direction")


def test_connectivity_agrees_with_the_graph_builder(mutation_cases):
    """Two derivations of the routing nodes' internal connections (the verifier's,
    from ``connectivity_table``; the graph builder's ``routes``) must agree."""
    from loomc.verify.pnr_check import _connectivity

    compared = 0
    for case in mutation_cases.values():
        for rec in model.nodes(case.adg):
            if rec.resource_class is not None and rec.resource_class.value == "routing":
                assert _connectivity(rec) == frozenset(rec.routes), rec.id
                compared += 1
    assert compared > 50
