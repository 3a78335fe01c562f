"""Mutation test: corrupt valid mappings at random, every corruption must be caught.

Start from valid mappings of corpus pairs (made by the mapper, checked clean
first), apply one random corruption and require the verifier to report the
constraint class that corruption breaks.  Counts of mutants tried and caught
per kind are printed by the last test (run with ``-s`` to see them).  The
default run is derandomized (500 examples); ``LOOMC_MUTANTS=N`` runs N random
examples for a larger campaign.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loomc.graph import model
from loomc.graph.model import NodeKind, ResourceClass
from loomc.verify import verify_pnr
from loomc.verify.config_check import compare_config_bin, expected_image
from loomc.verify.mapfile import MapDoc, Route
from loomc.verify.pnr_check import check_pnr, port_compatible
from loomc.verify.violation import classes

TRIED: Counter[str] = Counter()
CAUGHT: Counter[str] = Counter()
DISTINCT: set = set()


def _replace_route(doc: MapDoc, index: int, route: Route) -> MapDoc:
    routes = list(doc.routes)
    routes[index] = route
    return dataclasses.replace(doc, routes=tuple(routes))


def _move(doc: MapDoc, sw: str, hw: str) -> MapDoc:
    return dataclasses.replace(doc, placement=tuple(
        (s, hw if s == sw else h) for s, h in doc.placement))


def _targets(case) -> list[model.NodeRecord]:
    return [n for n in model.nodes(case.adg) if n.is_placement_target]


def _runs(op: str, hw: model.NodeRecord) -> bool:
    if hw.resource_class is ResourceClass.MEMORY:
        return {"handshake.memory": "fabric.memory",
                "handshake.extmemory": "fabric.extmemory"}.get(op) == hw.op_name
    return op in hw.body_ops


# --------------------------------------------------------------------------- mutators
# each returns (mutated doc, expected class) or None when it does not apply


def move_incompatible(case, data):
    sw, _ = data.draw(st.sampled_from(case.doc.placement))
    op = model.node_record(case.dfg, sw).op_name
    bad = [n.id for n in _targets(case) if not _runs(op, n)]
    if not bad:
        return None
    return _move(case.doc, sw, data.draw(st.sampled_from(bad))), "C1"


def move_occupied(case, data):
    pairs = [(a, hb) for a, ha in case.doc.placement for b, hb in case.doc.placement
             if ha != hb and a != b]
    if not pairs:
        return None
    a, hw = data.draw(st.sampled_from(pairs))
    rec = model.node_record(case.adg, hw)
    op = model.node_record(case.dfg, a).op_name
    # a fabric.pe runs one whole group; an FU time-shares but needs a slot/tag
    expected = "C5" if rec.parent_temporal_pe and _runs(op, rec) and len(rec.body_ops) == 1 \
        else "C1"
    return _move(case.doc, a, hw), expected


def drop_hop(case, data):
    k = data.draw(st.integers(0, len(case.doc.routes) - 1))
    r = case.doc.routes[k]
    j = data.draw(st.integers(0, len(r.hops) - 1))
    return _replace_route(case.doc, k, dataclasses.replace(
        r, hops=r.hops[:j] + r.hops[j + 1:])), "C3"


def reroute_hop(case, data):
    k = data.draw(st.integers(0, len(case.doc.routes) - 1))
    r = case.doc.routes[k]
    j = data.draw(st.integers(0, len(r.hops) - 1))
    a, b = r.hops[j]
    ports = sorted(p for p in model.ports(case.adg) if p != b)
    new = data.draw(st.sampled_from(ports))
    hops = list(r.hops)
    hops[j] = (a, new)
    return _replace_route(case.doc, k, dataclasses.replace(r, hops=tuple(hops))), "C3"


def drop_route(case, data):
    k = data.draw(st.integers(0, len(case.doc.routes) - 1))
    routes = case.doc.routes[:k] + case.doc.routes[k + 1:]
    return dataclasses.replace(case.doc, routes=routes), "C3"


def _shared_tagged(case) -> list[tuple[int, int]]:
    """Pairs of routes of different nets that share a tagged hardware port."""
    ports = model.ports(case.adg)
    uses: dict[str, set[int]] = {}
    for k, r in enumerate(case.doc.routes):
        for hop in r.hops:
            for p in hop:
                if ports[p].is_tagged:
                    uses.setdefault(p, set()).add(k)
    routes = case.doc.routes
    return sorted({(a, b) for ks in uses.values() for a in ks for b in ks
                   if a < b and routes[a].src_sw_port != routes[b].src_sw_port})


def reuse_tag(case, data):
    """Two ops of one temporal PE with one tag (C5.4), or two nets on one tagged
    wire with one tag (C4.2)."""
    by_tpe: dict[str, list] = {}
    for t in case.doc.temporal:
        by_tpe.setdefault(t.temporal_pe, []).append(t)
    multi = [ts for ts in by_tpe.values() if len(ts) > 1]
    shared = _shared_tagged(case)
    if not multi and not shared:
        return None
    if shared and (not multi or data.draw(st.booleans())):
        a, b = data.draw(st.sampled_from(shared))
        return _replace_route(case.doc, a, dataclasses.replace(
            case.doc.routes[a], tag=case.doc.routes[b].tag)), "C4"
    ts = data.draw(st.sampled_from(multi))
    a, b = ts[0], ts[1]
    temporal = tuple(dataclasses.replace(t, tag=b.tag) if t == a else t
                     for t in case.doc.temporal)
    return dataclasses.replace(case.doc, temporal=temporal), "C5"


def steal_path(case, data):
    """Send another net down a net's path: native wires carry two nets (C4.1),
    tagged ones two nets with the same tag (C4.2)."""
    nets = sorted({r.src_sw_port for r in case.doc.routes})
    if len(nets) < 2:
        return None
    i = data.draw(st.integers(0, len(case.doc.routes) - 1))
    others = [k for k, r in enumerate(case.doc.routes)
              if r.src_sw_port != case.doc.routes[i].src_sw_port]
    k = data.draw(st.sampled_from(others))
    donor = case.doc.routes[i]
    return _replace_route(case.doc, k, dataclasses.replace(
        case.doc.routes[k], hops=donor.hops, tag=donor.tag)), "C4"


def tag_overflow(case, data):
    ports = model.ports(case.adg)
    tagged = [k for k, r in enumerate(case.doc.routes)
              if any(p in ports and ports[p].is_tagged for hop in r.hops for p in hop)]
    if not tagged:
        return None
    k = data.draw(st.sampled_from(tagged))
    r = case.doc.routes[k]
    widths = [ports[p].tag_width for hop in r.hops for p in hop if ports[p].is_tagged]
    return _replace_route(case.doc, k, dataclasses.replace(r, tag=1 << max(widths))), "C4"


def unbind_port(case, data):
    ops = {n.id for n in model.nodes(case.dfg) if n.kind is NodeKind.OPERATION}
    bound = [(s, h) for s, h in case.doc.port_binding if s.split(":")[0] in ops]
    s, _ = data.draw(st.sampled_from(bound))
    return dataclasses.replace(case.doc, port_binding=tuple(
        b for b in case.doc.port_binding if b[0] != s)), "C2"


def rebind_port(case, data):
    bound = list(case.doc.port_binding)
    s, h = data.draw(st.sampled_from(bound))
    ports = sorted(p for p in model.ports(case.adg) if p != h)
    new = data.draw(st.sampled_from(ports))
    doc = dataclasses.replace(case.doc, port_binding=tuple(
        (a, new if a == s else b) for a, b in case.doc.port_binding))
    sw_port, hw_port = model.ports(case.dfg)[s], model.ports(case.adg)[new]
    sw_node = model.node_record(case.dfg, sw_port.node)
    free = new not in {b for _, b in case.doc.port_binding}
    if sw_node.is_sentinel and free and port_compatible(sw_port, hw_port, fu_relaxed=False) \
            is None and model.node_record(case.adg, hw_port.node).kind is sw_node.kind:
        return doc, "C3"  # a legal binding: the routes no longer start/end there
    return doc, "C2"


MUTATORS = {f.__name__: f for f in (
    move_incompatible, move_occupied, drop_hop, reroute_hop, drop_route, reuse_tag,
    steal_path, tag_overflow, unbind_port, rebind_port)}


def test_starting_mappings_are_valid(mutation_cases):
    for case in mutation_cases.values():
        result = verify_pnr(case.doc, case.dfg, case.adg, config_bin=case.config)
        assert result.ok, (case.name, result.violations)


@settings(max_examples=int(os.environ.get("LOOMC_MUTANTS", "500")), deadline=None,
          derandomize=not os.environ.get("LOOMC_MUTANTS"),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_corruptions_are_caught(mutation_cases, data):
    kind = data.draw(st.sampled_from(sorted(MUTATORS)))
    # the first case (in a random order) the corruption applies to
    for name in data.draw(st.permutations(sorted(mutation_cases))):
        case = mutation_cases[name]
        mutated = MUTATORS[kind](case, data)
        if mutated is not None and mutated[0] != case.doc:
            break
    else:
        return
    doc, expected = mutated
    TRIED[kind] += 1
    DISTINCT.add((case.name, kind, doc))
    found = check_pnr(doc, case.dfg, case.adg)
    assert expected in classes(found), (case.name, kind, expected, found)
    CAUGHT[kind] += 1


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_flipped_config_bits_are_caught(mutation_cases, data):
    with_bits = sorted(n for n, c in mutation_cases.items() if c.config)
    case = mutation_cases[data.draw(st.sampled_from(with_bits))]
    bit = data.draw(st.integers(0, 8 * len(case.config) - 1))
    flipped = bytearray(case.config)
    flipped[bit // 8] ^= 1 << (bit % 8)
    TRIED["flip_config_bit"] += 1
    image, _ = expected_image(case.doc, case.dfg, case.adg)
    found = compare_config_bin(image, bytes(flipped))
    assert [v.constraint_class for v in found] == ["C6"]
    assert f"word {bit // 32}:" in found[0].reason
    CAUGHT["flip_config_bit"] += 1


def test_mutation_counts():
    """Every kind was exercised and every mutant caught (the numbers of the report)."""
    if not TRIED:
        pytest.skip("mutation tests did not run in this session")
    print("\nmutants tried/caught:", {k: (TRIED[k], CAUGHT[k]) for k in sorted(TRIED)},
          "total", sum(TRIED.values()), sum(CAUGHT.values()),
          "distinct (non-config)", len(DISTINCT))
    assert TRIED == CAUGHT
    assert set(TRIED) == set(MUTATORS) | {"flip_config_bit"}
