"""Mapper outputs on real corpus pairs: map, write, then read the files back.

Every check reads what was written with code other than the emitter that
wrote it where possible: the configured fabric goes through the fabric
verifier and the dialect's own ``route_table`` decoding, ``config.bin`` is
sliced with the offsets printed in ``_addr.h``, ``instruction_mem`` is parsed
with the text parser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from loomc.cmd_loom import check_adg
from loomc.configmem import TemporalPEShape, image_from_bytes, parse_instruction_mem
from loomc.diagnostics import ExitCode, LoomcError
from loomc.graph import model
from loomc.graph.load import adg_from_parsed, dfgs_from_file
from loomc.mapper.configure import (
    ConfigurationError,
    configure_module,
    derive_configuration,
    print_with_source_names,
)
from loomc.mapper.mapping import Mapping, PlacedNode, RoutedEdge
from loomc.mapper.outputs import SUFFIXES, output_paths, write_failure, write_outputs
from loomc.mapper.pipeline import MapperOptions, map_dfg
from loomc.mlir_io import parse_mlir_file

PAIRS = {
    "addi": ("unit/addi/addi.fabric.mlir", "unit/addi/single-addi.handshake.mlir"),
    "constant": ("unit/constant/constant.fabric.mlir",
                 "unit/constant/single-constant.handshake.mlir"),
    "cmpi": ("unit/cmpi/cmpi.fabric.mlir", "unit/cmpi/single-cmpi-sgt.handshake.mlir"),
    "tagged": ("unit/tagged-pe-output-tag/tagged-addi.fabric.mlir",
               "unit/tagged-pe-output-tag/single-addi.handshake.mlir"),
    "temporal": ("smoke/temporal-single-slot/temporal-single-slot.fabric.mlir",
                 "smoke/temporal-single-slot/single-addi.handshake.mlir"),
    "multislot": ("smoke/temporal-multislot/temporal-multislot.fabric.mlir",
                  "smoke/temporal-multislot/dual-addi.handshake.mlir"),
}
NEGATIVE = ("unit/insufficient-resources-negative/two-pe.fabric.mlir",
            "unit/insufficient-resources-negative/triple-addi.handshake.mlir")
BUDGET = 5.0


def _load(corpus: Path, pair: tuple[str, str]):
    base = corpus / "loom" / "mapper"
    parsed = parse_mlir_file(base / pair[0])
    adg = adg_from_parsed(parsed)
    dfg = dfgs_from_file(base / pair[1])[0]
    return parsed, adg, dfg


def _map_and_write(corpus: Path, pair, out: Path):
    parsed, adg, dfg = _load(corpus, pair)
    mapping = map_dfg(dfg, adg, MapperOptions(budget=BUDGET, seed=0))
    assert mapping.status == "success", mapping.diagnostics
    paths = write_outputs(out, mapping, dfg, adg, parsed, "balanced")
    return mapping, dfg, adg, paths


@pytest.fixture(scope="module")
def runs(corpus, tmp_path_factory):
    """Map and write each pair once per module (name -> outputs)."""
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            out = tmp_path_factory.mktemp(name) / name
            mapping, dfg, adg, paths = _map_and_write(corpus, PAIRS[name], out)
            cache[name] = (name, out, mapping, dfg, adg, paths)
        return cache[name]

    return get


@pytest.fixture(params=sorted(PAIRS))
def written(request, runs):
    return runs(request.param)


def _header(text: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"#define (\w+) (\d+)", text)}


def test_all_six_files_written(written):
    _name, out, _m, _d, _a, paths = written
    assert paths == [output_paths(out)[s] for s in SUFFIXES]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp dir left


def test_configured_fabric_reverifies_and_keeps_the_graph(written):
    _name, out, _m, _d, adg, _p = written
    path = output_paths(out)[".fabric.mlir"]
    check = check_adg(path)
    assert check.ok, [v.one_line() for v in check.violations]
    again = adg_from_parsed(parse_mlir_file(path))
    assert [n.id for n in model.nodes(again)] == [n.id for n in model.nodes(adg)]
    # printing the re-parsed file is a fixed point
    assert print_with_source_names(parse_mlir_file(path)) == path.read_text()


def _switch_routes_in_file(path: Path) -> set[tuple[str, int, int]]:
    """(switch name, output, input) enabled in the configured file, decoded by the
    dialect (SwitchOp.routes), named by the switch's first result."""
    parsed = parse_mlir_file(path)
    found = set()
    for op in parsed.module.walk():
        if op.name == "fabric.switch" and op.results:
            routes = op.routes
            assert routes is not None, "every switch gets a route_table"
            name = parsed.value_name(op.results[0]).split("#")[0]
            found |= {(name, int(o), int(i)) for o, i in zip(*routes.nonzero(), strict=True)}
    return found


def test_route_table_matches_mapping(written):
    _name, out, mapping, _d, adg, _p = written
    ports = model.ports(adg)
    expected = set()
    for r in mapping.routes:
        for src, dst in r.hw_path:
            a, b = ports[src], ports[dst]
            if a.node == b.node and model.node_record(adg, a.node).op_name == "fabric.switch":
                expected.add((a.node, b.index, a.index))
    assert expected  # every pair routes through at least one switch
    assert _switch_routes_in_file(output_paths(out)[".fabric.mlir"]) == expected


def test_config_bin_matches_header_and_fabric(written):
    _name, out, _m, _d, _a, _p = written
    paths = output_paths(out)
    header = _header(paths["_addr.h"].read_text())
    data = paths[".config.bin"].read_bytes()
    assert header["LOOM_CONFIG_WIDTH"] == 32
    assert len(data) == header["LOOM_CONFIG_DEPTH"] * 4
    words = image_from_bytes(data)
    sizes = {k[len("LOOM_SIZE_"):]: v for k, v in header.items() if k.startswith("LOOM_SIZE_")}
    addrs = {k[len("LOOM_ADDR_"):]: v for k, v in header.items() if k.startswith("LOOM_ADDR_")}
    assert set(sizes) == set(addrs)
    assert sum(sizes.values()) == header["LOOM_CONFIG_DEPTH"]
    # every switch word equals its route_table bits in the configured fabric
    parsed = parse_mlir_file(paths[".fabric.mlir"])
    checked = 0
    for op in parsed.module.walk():
        if op.name == "fabric.switch" and op.results:
            key = parsed.value_name(op.results[0]).split("#")[0].upper()
            bits = [int(b) for b in op.route_table]
            value = sum(b << k for k, b in enumerate(bits))
            assert words[addrs[key]] == value
            checked += 1
    assert checked


def test_map_json_shape(written):
    _name, out, mapping, _d, _a, _p = written
    doc = json.loads(output_paths(out)[".map.json"].read_text())
    assert list(doc)[:4] == ["version", "status", "profile", "seed"]
    assert doc["version"] == 1 and doc["status"] == "success" and doc["profile"] == "balanced"
    assert set(doc["placement"]) == {p.sw_node for p in mapping.placement}
    for entry in doc["placement"].values():
        assert set(entry) == {"hwNode", "hwNodeName", "swOp", "swLoc"}
        assert re.search(r"\.mlir:\d+$", entry["swLoc"])
    for sw_port, hw_port in doc["portBinding"].items():
        assert isinstance(sw_port, str) and isinstance(hw_port, str)
    assert len(doc["routes"]) == len(mapping.routes)
    for edge, route in doc["routes"].items():
        assert edge == f"{route['srcSwPort']}->{route['dstSwPort']}"
        assert route["hwPath"] and all(set(h) == {"src", "dst"} for h in route["hwPath"])
        # hops chain: each hop starts where the previous one ended (internal hop)
        # or leaves from it over a wire
        assert route["tag"] is None or isinstance(route["tag"], int)
    assert set(doc["cost"]) == {"total", "placementPressure", "routingCost", "temporalCost",
                                "perfProxy", "configFootprint"}
    assert all(isinstance(v, float | int) and v >= 0 for v in doc["cost"].values())
    assert "wall" not in json.dumps(doc) and "diagnostics" not in doc


def test_temporal_instruction_mem_matches_mapping(runs):
    _name, out, mapping, _d, adg, _p = runs("temporal")
    assert mapping.temporal
    parsed = parse_mlir_file(output_paths(out)[".fabric.mlir"])
    inst = [op for op in parsed.module.walk()
            if op.name == "fabric.instance" and "instruction_mem" in op.attributes]
    assert len(inst) == 1
    entries = [s.data for s in inst[0].attributes["instruction_mem"].data]
    tpe = model.node_record(adg, mapping.temporal[0].temporal_pe)
    shape = TemporalPEShape(len(tpe.input_ports), len(tpe.output_ports), 4, len(tpe.fu_nodes),
                            int(tpe.param("num_instruction")))
    decoded = parse_instruction_mem(entries, shape)
    assert [(k, i.tag) for k, i in enumerate(decoded) if i] == [
        (t.slot, t.tag) for t in mapping.temporal]


def test_tagged_pe_gets_output_tag(runs):
    _name, out, _m, _d, _a, _p = runs("tagged")
    text = output_paths(out)[".fabric.mlir"].read_text()
    instances = [line for line in text.splitlines() if "fabric.instance @pe_tagged_addi" in line]
    assert instances and all("output_tag = [" in line for line in instances)


def test_same_inputs_same_bytes(corpus, tmp_path):
    first = _map_and_write(corpus, PAIRS["temporal"], tmp_path / "a" / "k")[3]
    second = _map_and_write(corpus, PAIRS["temporal"], tmp_path / "b" / "k")[3]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_failure_writes_only_map_json_and_removes_stale(corpus, tmp_path):
    base = tmp_path / "out" / "k"
    _map_and_write(corpus, PAIRS["addi"], base)  # a previous successful run
    parsed, adg, dfg = _load(corpus, NEGATIVE)
    mapping = map_dfg(dfg, adg, MapperOptions(budget=BUDGET))
    assert mapping.status == "failed"
    written = write_failure(base, mapping, dfg)
    assert written == [output_paths(base)[".map.json"]]
    assert sorted(p.name for p in base.parent.iterdir()) == ["k.map.json"]
    doc = json.loads(written[0].read_text())
    assert doc["status"] == "failed" and doc["cost"] is None
    assert doc["diagnostics"]["code"] == mapping.diagnostics.code
    assert doc["diagnostics"]["code"].startswith("CPL_MAPPER_")
    assert set(doc["diagnostics"]) >= {"unmappedNodes", "failedEdges",
                                       "firstViolatedConstraint", "conflictingResources"}


def test_unwritable_target_is_output_error(corpus, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    parsed, adg, dfg = _load(corpus, PAIRS["addi"])
    mapping = map_dfg(dfg, adg, MapperOptions(budget=BUDGET))
    with pytest.raises(LoomcError) as err:
        write_outputs(blocker / "k", mapping, dfg, adg, parsed, "balanced")
    assert err.value.exit_code == ExitCode.OUTPUT_ERROR
    assert blocker.read_text() == "not a directory"


def test_failed_move_leaves_nothing(corpus, tmp_path, disk_full_on_move):
    parsed, adg, dfg = _load(corpus, PAIRS["addi"])
    mapping = map_dfg(dfg, adg, MapperOptions(budget=BUDGET))
    disk_full_on_move(3)
    with pytest.raises(LoomcError) as err:
        write_outputs(tmp_path / "k", mapping, dfg, adg, parsed, "balanced")
    assert err.value.exit_code == ExitCode.OUTPUT_ERROR
    assert list(tmp_path.iterdir()) == []


def test_conflicting_switch_routes_are_refused(corpus):
    """Two inputs on one static switch output cannot be configured
    (CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT); the emitter refuses."""
    parsed, adg, dfg = _load(corpus, PAIRS["addi"])
    bad = Mapping(
        dfg_name="x", adg_name="addi", status="success", profile="balanced", seed=0,
        routes=(RoutedEdge("e1", "@in0:out0", "c:in0",
                           (("@in0:out0", "sw00:in0"), ("sw00:in0", "sw00:out2"))),
                RoutedEdge("e2", "@in1:out0", "c:in1",
                           (("fifo_01_00:out0", "sw00:in1"), ("sw00:in1", "sw00:out2")))),
    )
    with pytest.raises(ConfigurationError) as err:
        derive_configuration(bad, dfg, adg)
    assert err.value.code == "CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT"


def test_memory_regions_written_per_c4_6(corpus):
    """spec-mapper-model.md C4.6: one region per mapped DFG memory, tags [i, i+1),
    on-chip base 0 for the first; the configured file re-verifies."""
    pair = ("unit/memory-store-onchip/mem-store-onchip.fabric.mlir",
            "unit/memory-store-onchip/mem-store-onchip.handshake.mlir")
    parsed, adg, dfg = _load(corpus, pair)
    mem_sw = next(n for n in model.nodes(dfg) if n.op_name == "handshake.memory")
    mem_hw = next(n for n in model.nodes(adg) if n.op_name == "fabric.memory")
    mapping = Mapping(
        dfg_name=dfg.graph["name"], adg_name=adg.graph["name"], status="success",
        profile="balanced", seed=0,
        placement=(PlacedNode(mem_sw.id, mem_hw.id, mem_hw.name, mem_sw.op_name, mem_sw.loc),),
    )
    configuration = derive_configuration(mapping, dfg, adg)
    mem_cfg = configuration.get(mem_hw.id)
    assert mem_cfg is not None and not mem_cfg.in_image
    regions = mem_cfg.config.regions
    assert [(r.start_tag, r.end_tag, r.addr_offset) for r in regions] == [(0, 1, 0)]
    module = configure_module(parsed, adg, configuration)
    memories = [op for op in module.walk() if op.name == "fabric.memory"]
    table = [int(x) for x in memories[0].addr_offset_table]
    assert table[:4] == [1, 0, 1, 0]
    assert len(table) == 4 * int(mem_hw.param("numRegion", 1) or 1)


def test_multislot_result_tags_and_merge_warnings(runs):
    """Each instruction's result tag is the tag its value is routed with; every
    static tagged switch output fed by two inputs is reported as a warning."""
    _name, out, mapping, dfg, adg, _p = runs("multislot")
    parsed = parse_mlir_file(output_paths(out)[".fabric.mlir"])
    inst = next(op for op in parsed.module.walk()
                if op.name == "fabric.instance" and "instruction_mem" in op.attributes)
    entries = [s.data for s in inst.attributes["instruction_mem"].data]
    tpe = model.node_record(adg, mapping.temporal[0].temporal_pe)
    shape = TemporalPEShape(len(tpe.input_ports), len(tpe.output_ports), 4, len(tpe.fu_nodes),
                            int(tpe.param("num_instruction")))
    decoded = parse_instruction_mem(entries, shape)
    sw_ports = model.ports(dfg)
    for t in mapping.temporal:
        insn = decoded[t.slot]
        assert insn is not None and insn.tag == t.tag
        out_tags = {r.tag for r in mapping.routes if sw_ports[r.src_sw_port].node == t.sw_node}
        assert {res.tag if res.tag is not None else insn.tag for res in insn.results} == out_tags
    ports = model.ports(adg)
    feeds: dict[tuple[str, int], set[int]] = {}
    for r in mapping.routes:
        for a, b in r.hw_path:
            if ports[a].node == ports[b].node and \
                    model.node_record(adg, ports[a].node).op_name == "fabric.switch":
                feeds.setdefault((ports[a].node, ports[b].index), set()).add(ports[a].index)
    merged = sorted(f"switch {n}: output {o}" for (n, o), ins in feeds.items() if len(ins) > 1)
    doc = json.loads(output_paths(out)[".map.json"].read_text())
    assert sorted(w.split(" merges")[0] for w in doc["warnings"]) == merged


def test_viz_is_self_contained_and_shows_every_route(written):
    _name, out, mapping, _d, _a, _p = written
    text = output_paths(out)[".viz.html"].read_text()
    assert "<link" not in text and " src=" not in text and "@import" not in text
    assert re.findall(r"https?://[^\"]*", text) == ["http://www.w3.org/2000/svg"]
    assert text.count("<polyline") == len(mapping.routes)
    data = json.loads(re.search(r'id="mappingData">(.*?)</script>', text, re.S).group(1))
    assert set(data["swToHw"]) == {p.sw_node for p in mapping.placement}


def test_failure_report_names_code_class_and_locations(corpus):
    from loomc.mapper.emit_txt import render_text
    from loomc.mapper.mapping import Diagnostics

    _parsed, _adg, dfg = _load(corpus, NEGATIVE)
    ops = [n for n in model.nodes(dfg) if not n.is_sentinel]
    failed = Mapping(
        dfg_name=dfg.graph["name"], adg_name="two_pe", status="failed", profile="balanced",
        seed=0, diagnostics=Diagnostics(
            code="CPL_MAPPER_INSUFFICIENT_RESOURCES", message="not enough PEs",
            unmapped_nodes=tuple(n.id for n in ops), first_violated_constraint="C4",
            conflicting=tuple((n.id, "", "competes for the same PEs") for n in ops)))
    text = render_text(failed, None, dfg)
    assert "code: CPL_MAPPER_INSUFFICIENT_RESOURCES" in text
    assert "first violated constraint: C4 (capacity)" in text
    for n in ops:
        assert f"{n.loc}: {n.id}: competes for the same PEs" in text
        assert re.search(r"\.handshake\.mlir:\d+$", n.loc)


def _word_of(out: Path, hw_node: str) -> int:
    paths = output_paths(out)
    header = _header(paths["_addr.h"].read_text())
    words = image_from_bytes(paths[".config.bin"].read_bytes())
    key = re.sub(r"[^A-Za-z0-9_]", "_", hw_node).upper()
    return words[header[f"LOOM_ADDR_{key}"]]


def test_constant_value_reaches_config_bin_and_fabric(runs):
    """single-constant: ``handshake.constant {value = 42}``; a native constant PE
    holds the value in its low bits (spec-fabric-config_mem.md "CONFIG_WIDTH")."""
    _name, out, mapping, dfg, _a, _p = runs("constant")
    (placed,) = [p for p in mapping.placement if p.sw_op == "handshake.constant"]
    value = model.node_record(dfg, placed.sw_node).param("value")
    assert value == 42
    assert _word_of(out, placed.hw_node) == value
    text = output_paths(out)[".fabric.mlir"].read_text()
    assert f'sym_name = "{placed.hw_node}", constant_value = 42 : i32' in text


def test_compare_predicate_reaches_config_bin(runs):
    """single-cmpi-sgt: predicate ``sgt`` is 4 in MLIR's numbering, one 4-bit field."""
    _name, out, mapping, dfg, _a, _p = runs("cmpi")
    (placed,) = [p for p in mapping.placement if p.sw_op == "arith.cmpi"]
    assert model.node_record(dfg, placed.sw_node).param("predicate") == 4
    assert _word_of(out, placed.hw_node) == 4
