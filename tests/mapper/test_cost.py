"""Cost families on a hand-built mapping with hand-computed values.

The mapping puts ``c = addi(a, b)`` of unit/addi on ``pe_0_0`` of the 3x3
addi fabric with routes written out by hand, so every number below is worked
out on paper from spec-mapper-cost.md and the normalizations documented in
``loomc.mapper.cost``.
"""

from __future__ import annotations

import pytest

from loomc.graph import model
from loomc.graph.load import adg_from_file, dfgs_from_file
from loomc.mapper.cost import (
    PROFILE_WEIGHTS,
    mapping_cost,
    perf_proxy,
    profile_weights,
    tile_classes,
)
from loomc.mapper.mapping import Mapping, PlacedNode, RoutedEdge, TemporalSlot


@pytest.fixture(scope="module")
def graphs(corpus):
    base = corpus / "loom" / "mapper" / "unit" / "addi"
    return dfgs_from_file(base / "single-addi.handshake.mlir")[0], adg_from_file(
        base / "addi.fabric.mlir")


def _hops(*ports: str) -> tuple[tuple[str, str], ...]:
    return tuple(zip(ports, ports[1:], strict=False))


def hand_mapping() -> Mapping:
    a = _hops("@in0:out0", "sw00:in0", "sw00:out2", "pe_0_0:in0")
    # b takes the long way: sw02 -> fifo -> sw01 -> fifo -> sw00 -> sw10 -> pe
    b = _hops("@in1:out0", "sw02:in0", "sw02:out0", "fifo_02_01:in0", "fifo_02_01:out0",
              "sw01:in1", "sw01:out0", "fifo_01_00:in0", "fifo_01_00:out0", "sw00:in1",
              "sw00:out1", "sw10:in0", "sw10:out3", "pe_0_0:in1")
    c = _hops("pe_0_0:out0", "sw11:in4", "sw11:out3", "sw21:in0", "sw21:out2", "sw22:in1",
              "sw22:out2", "@out0:in0")
    return Mapping(
        dfg_name="single_addi", adg_name="addi", status="success", profile="balanced", seed=0,
        placement=(PlacedNode("c", "pe_0_0", "pe_0_0", "arith.addi", None),),
        routes=(RoutedEdge("@in0:out0->c:in0", "@in0:out0", "c:in0", a),
                RoutedEdge("@in1:out0->c:in1", "@in1:out0", "c:in1", b),
                RoutedEdge("c:out0->@out0:in0", "c:out0", "@out0:in0", c)),
    )


def test_hand_computed_families(graphs):
    dfg, adg = graphs
    cost = mapping_cost(hand_mapping(), dfg, adg, "balanced")
    # one tile class (four identical addi PEs), one occupied: (1/4)^2 / 1 class
    assert cost.placementPressure == pytest.approx(0.0625)
    # wires: a = 1.0 + 0.5; b = 6 routing-node wires + 0.5; c = 3 + 0.5 -> 11.5 / 3 edges
    assert cost.routingCost == pytest.approx(11.5 / 3, abs=1e-6)
    assert cost.temporalCost == 0.0
    # ideal critical path in0 -1- c(1) -1- out0 = 3; mapped = 7 wires + 1 + 4 wires = 12;
    # (12 - 3) / 3 = 3; no wire or temporal PE shared (II = 1), no memory
    assert cost.perfProxy == pytest.approx(3.0)
    # seven of the nine switch words carry routes, fifos/PEs take no config
    assert cost.configFootprint == pytest.approx(7 / 9, abs=1e-6)
    expected = 1.0 * 0.0625 + 1.0 * 11.5 / 3 + 0.5 * 0 + 0.5 * 3.0 + 0.1 * 7 / 9
    assert cost.total == pytest.approx(expected, abs=1e-5)


def test_profiles_and_overrides(graphs):
    dfg, adg = graphs
    m = hand_mapping()
    debug = mapping_cost(m, dfg, adg, "deterministic_debug")
    assert debug.total == pytest.approx(0.0625 + 11.5 / 3, abs=1e-5)  # perf/config weight 0
    only_routing = mapping_cost(m, dfg, adg, "balanced", {
        "placementPressure": 0, "temporalCost": 0, "perfProxy": 0, "configFootprint": 0})
    assert only_routing.total == pytest.approx(11.5 / 3, abs=1e-5)
    assert profile_weights("throughput_first") == PROFILE_WEIGHTS["throughput_first"]
    with pytest.raises(ValueError):
        profile_weights("fastest")
    with pytest.raises(ValueError):
        profile_weights("balanced", {"routingCost": -1})
    with pytest.raises(ValueError):
        profile_weights("balanced", {"hops": 1})


def test_shared_wire_raises_ii_pressure(graphs):
    """Two values over one wire: II = 2, so ii_pressure = 1/2; the path stretch
    stays 3 (b's 7-wire route is still the critical one)."""
    dfg, adg = graphs
    m = hand_mapping()
    base = perf_proxy(m, dfg, adg)
    # re-route a through the same sw00 -> sw10 wire b uses (a different value)
    a = _hops("@in0:out0", "sw00:in0", "sw00:out1", "sw10:in0", "sw10:out3", "pe_0_0:in1")
    shared = Mapping(**{**m.__dict__, "routes": (
        RoutedEdge("@in0:out0->c:in0", "@in0:out0", "c:in0", a),) + m.routes[1:]})
    # (the perf proxy alone: this sharing is not configurable on a static switch)
    assert perf_proxy(shared, dfg, adg) == pytest.approx(base + 0.5)


def test_failed_mapping_has_no_cost(graphs):
    dfg, adg = graphs
    with pytest.raises(ValueError):
        mapping_cost(Mapping("d", "a", "failed", "balanced", 0), dfg, adg, "balanced")


def test_tile_classes_group_identical_bodies(corpus):
    adg = adg_from_file(corpus / "loom" / "mapper" / "smoke" / "temporal-multislot"
                        / "temporal-multislot.fabric.mlir")
    classes = tile_classes(adg)
    fus = [n.id for n in model.nodes(adg) if n.parent_temporal_pe]
    # FU nodes of one temporal PE share its body pattern: one class with all of them
    assert sorted(next(v for k, v in classes.items() if k[0] == "temporal")) == sorted(fus)


def test_temporal_cost_slot_and_tag_pressure(corpus):
    """One of one instruction slot used (slot_util 1), every tagged port in use
    carries one tag of 2^4 (tag_pressure 1/16), no registers: (1 + 0 + 1/16) / 3."""
    base = corpus / "loom" / "mapper" / "smoke" / "temporal-single-slot"
    adg = adg_from_file(base / "temporal-single-slot.fabric.mlir")
    dfg = dfgs_from_file(base / "single-addi.handshake.mlir")[0]
    a = _hops("@in0:out0", "sn:in0", "sn:out0", "at0:in0", "at0:out0", "st00:in0", "st00:out2",
              "tpe_0:in0")
    b = _hops("@in1:out0", "sn:in1", "sn:out2", "at2:in0", "at2:out0", "st10:in2", "st10:out2",
              "tpe_0:in1")
    c = _hops("tpe_0:out0", "st11:in2", "st11:out2", "dt:in0", "dt:out0", "fifo_out:in0",
              "fifo_out:out0", "@out0:in0")
    m = Mapping(
        dfg_name="single_addi", adg_name="temporal_single_slot", status="success",
        profile="balanced", seed=0,
        placement=(PlacedNode("addi_0", "tpe_0/fu_add", "tpe_0/fu_add", "arith.addi", None),),
        routes=(RoutedEdge("@in0:out0->addi_0:in0", "@in0:out0", "addi_0:in0", a, 0),
                RoutedEdge("@in1:out0->addi_0:in1", "@in1:out0", "addi_0:in1", b, 0),
                RoutedEdge("addi_0:out0->@out0:in0", "addi_0:out0", "@out0:in0", c, 0)),
        temporal=(TemporalSlot("addi_0", "tpe_0", 0, 0, 0),),
    )
    cost = mapping_cost(m, dfg, adg, "balanced")
    assert cost.temporalCost == pytest.approx((1 + 0 + 1 / 16) / 3, abs=1e-6)
    # the single FU of the single temporal PE is occupied: pressure 1 over one class
    assert cost.placementPressure == pytest.approx(1.0)
