"""The fabric builder: every op kind and topology verifies; mistakes carry their rule code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loomc.adg import NONE, Bits, FabricBuilder, Memref, Tagged, build_lattice, finish_lattice
from loomc.adg.builder import switch_table, verify_text
from loomc.diagnostics import LoomcError
from loomc.fabric_verify import verify_fabric
from loomc.mlir_io import parse_mlir_text, print_module

ROOT = Path(__file__).resolve().parent.parent
W32 = Bits(32)


def roundtrip_ok(text: str) -> None:
    """The text verifies, and print → parse → print is a fixed point."""
    parsed = parse_mlir_text(text, "gen.fabric.mlir")
    assert verify_fabric(parsed.module, parsed.source_map) == []
    once = print_module(parsed.module)
    again = print_module(parse_mlir_text(once, "again.mlir").module)
    assert once == again


def small(name: str = "t") -> tuple[FabricBuilder, object]:
    fb = FabricBuilder(name)
    add = fb.pe("pe_addi", "arith.addi", ins=("i32", "i32"), outs=("i32",))
    return fb, add


def test_minimal_fabric_text_and_counts():
    fb, add = small()
    sw = fb.switch(W32, "sw")
    fb.connect(fb.input("a", W32), sw)
    fb.connect(fb.input("b", W32), sw)
    u = fb.instance(add, "add0")
    fb.connect(sw, u.inp(0))
    fb.connect(sw, u.inp(1))
    fb.connect(u, sw)
    fb.connect(sw, fb.output("y", W32))
    fabric = fb.build()
    assert "fabric.module @t(%a: !dataflow.bits<32>, %b: !dataflow.bits<32>)" in fabric.mlir
    assert "%sw:3 = fabric.switch %a, %b, %add0" in fabric.mlir
    assert fabric.count("pe") == 1 and fabric.count("switch") == 1
    assert '"a" -> "sw"' in fabric.dot
    roundtrip_ok(fabric.mlir)


# op name, native inputs, native outputs: one per body-op family of spec-fabric-pe-ops.md
PE_KINDS = [
    ("arith.addf", ("f32", "f32"), ("f32",)),
    ("arith.cmpi", ("i32", "i32"), ("i1",)),
    ("arith.cmpf", ("f32", "f32"), ("i1",)),
    ("arith.select", ("i1", "i32", "i32"), ("i32",)),
    ("arith.index_cast", ("i32",), ("index",)),
    ("arith.extui", ("i1",), ("i32",)),
    ("math.sqrt", ("f32",), ("f32",)),
    ("math.fma", ("f32", "f32", "f32"), ("f32",)),
    ("llvm.intr.bitreverse", ("i32",), ("i32",)),
    ("handshake.constant", ("none",), ("i64",)),
    ("handshake.join", ("none", "none"), ("none",)),
    ("handshake.sink", ("i1",), ()),
    ("handshake.cond_br", ("i1", "f32"), ("f32", "f32")),
    ("handshake.mux", ("index", "none", "none"), ("none",)),
    ("handshake.load", ("index", "f32", "none"), ("f32", "index")),
    ("handshake.store", ("index", "i32", "none"), ("i32", "index")),
    ("dataflow.carry", ("i1", "f32", "f32"), ("f32",)),
    ("dataflow.invariant", ("i1", "i32"), ("i32",)),
    ("dataflow.stream", ("index", "index", "index"), ("index", "i1")),
    ("dataflow.gate", ("index", "i1"), ("index", "i1")),
]


@pytest.mark.parametrize("op,ins,outs", PE_KINDS, ids=[k[0] for k in PE_KINDS])
def test_each_pe_kind_verifies(op, ins, outs):
    """Each PE sits on per-type switches fed by module inputs and feeding outputs."""
    fb = FabricBuilder("one")
    pe = fb.pe("pe_x", op, ins=ins, outs=outs)
    u = fb.instance(pe, "u")
    for i, t in enumerate(pe.inputs):
        sw = fb.switch(t, f"si{i}")
        fb.connect(fb.input(f"a{i}", t), sw)
        fb.connect(sw, u.inp(i))
    for j, t in enumerate(pe.outputs):
        sw = fb.switch(t, f"so{j}")
        fb.connect(u.out(j), sw)
        fb.connect(sw, fb.output(f"y{j}", t))
    text = fb.build().mlir
    assert op in text
    roundtrip_ok(text)


def test_tagged_pe_and_raw_body_pe_verify():
    fb = FabricBuilder("tagged")
    t = Tagged(W32, 3)
    sub = fb.pe("pe_subi_t", "arith.subi", ins=("i32", "i32"), outs=("i32",), tag_width=3,
                latency=(0, 1, 2))
    mac = fb.pe(
        "pe_mac",
        body="^bb0(%a: i32, %b: i32, %c: i32):\n%m = arith.muli %a, %b : i32\n"
        "%s = arith.addi %m, %c : i32\nfabric.yield %s : i32",
        inputs=(W32, W32, W32),
        outputs=(W32,),
    )
    assert sub.inputs == (t, t) and sub.output_tag == (0,)
    tsw = fb.switch(t, "tsw")
    for i in range(2):
        fb.connect(fb.input(f"t{i}", t), tsw)
    u = fb.instance(sub, "sub0")
    fb.connect(tsw, u.inp(0))
    fb.connect(tsw, u.inp(1))
    fb.connect(u, fb.output("ty", t))
    m = fb.instance(mac, "mac0")
    for i in range(3):
        fb.connect(fb.input(f"x{i}", W32), m.inp(i))
    fb.connect(m, fb.output("y", W32))
    text = fb.build().mlir
    assert "{output_tag = [0 : i3]}" in text and "latency = [0 : i16, 1 : i16, 2 : i16]" in text
    assert "%s = arith.addi %m, %c : i32" in text
    roundtrip_ok(text)
    with pytest.raises(LoomcError) as info:
        fb.pe("pe_mac", "arith.addi", ins=("i32", "i32"), outs=("i32",))
    assert info.value.code == "CPL_INSTANCE_UNRESOLVED"


def test_memories_fifos_and_tags_verify():
    fb = FabricBuilder("mix")
    m = fb.input("m", Memref("memref<?xf32>"))
    addr = fb.input("addr", Bits(57))
    ext = fb.extmemory(m, ld=1, st=0, name="ext")
    fb.connect(addr, ext.inp(1))
    fifo = fb.fifo(Bits(32), depth=3, name="f", bypassable=True)
    fb.connect(ext.out(0), fifo)
    fb.connect(fifo, fb.output("data", Bits(32)))
    fb.connect(ext.out(1), fb.output("done", NONE))
    # An exported on-chip memory with two load ports: tagged ports, memref result.
    mem = fb.memory(Memref("memref<64xi32>"), ld=2, st=0, private=False, name="scratch")
    tag_t = Tagged(Bits(57), 1)
    assert mem.in_types == [tag_t]
    at = fb.add_tag(Bits(57), 1, "at")
    fb.connect(fb.input("a2", Bits(57)), at)
    mt = fb.map_tag(tag_t, 1, table_size=2, name="mt")
    fb.connect(at, mt)
    fb.connect(mt, mem.inp(0))
    fb.connect(mem.out(0), fb.output("exported", Memref("memref<64xi32>")))
    dt = fb.del_tag(Tagged(Bits(32), 1), "dt")
    fb.connect(mem.out(1), dt)
    fb.connect(dt, fb.output("d2", Bits(32)))
    dd = fb.del_tag(Tagged(NONE, 1), "dd")
    fb.connect(mem.out(2), dd)
    fb.connect(dd, fb.output("done2", NONE))
    text = fb.build().mlir
    for needle in ("fabric.extmemory", "fabric.memory", "fabric.add_tag", "fabric.map_tag",
                   "fabric.del_tag", "bypassable] {bypassed = false}", "is_private = false"):
        assert needle in text
    roundtrip_ok(text)


def test_temporal_pe_and_temporal_switch_verify():
    fb = FabricBuilder("tmp")
    t = Tagged(W32, 4)
    fus = [
        fb.pe("fu_add", "arith.addi", ins=("i32", "i32"), outs=("i32",)),
        fb.pe("fu_mul", "arith.muli", ins=("i32", "i32"), outs=("i32",)),
    ]
    tpe = fb.temporal_pe("tpe", t, fus, num_instruction=4)
    tsw = fb.temporal_switch(t, 4, "tsw")
    for i in range(2):
        at = fb.add_tag(W32, 4, f"at{i}")
        fb.connect(fb.input(f"a{i}", W32), at)
        fb.connect(at, tsw)
    u = fb.instance(tpe, "tpe0")
    fb.connect(tsw, u.inp(0))
    fb.connect(tsw, u.inp(1))
    dt = fb.del_tag(t, "dt")
    fb.connect(u, dt)
    fb.connect(dt, fb.output("y", W32))
    fabric = fb.build()
    assert fabric.count("temporal_pe") == 1 and fabric.count("temporal_sw") == 1
    assert "fabric.temporal_pe @tpe" in fabric.mlir and "num_route_table = 4" in fabric.mlir
    roundtrip_ok(fabric.mlir)


@pytest.mark.parametrize(
    "topology,dims,links",
    [
        ("mesh", (3, 3), 2 * 12),
        ("torus", (3, 3), 2 * 18),
        ("diagonal_mesh", (3, 3), 2 * 20),
        ("diagonal_torus", (3, 3), 2 * 36),
        ("cube", (2, 2, 2), 2 * 12),
    ],
)
def test_topologies_link_counts_and_verify(topology, dims, links):
    fb, add = small("lat")
    lat = build_lattice(fb, W32, dims, topology=topology, tracks=1, fifo_mode="single")
    assert lat.links == links
    assert lat.fifos == links // 2  # single: only the reverse direction is buffered
    first, last = min(lat.switches), max(lat.switches)
    lat.take(fb, first, fb.input("a", W32))
    lat.take(fb, first, fb.input("b", W32))
    u = fb.instance(add, "add0")
    lat.feed(fb, first, u.inp(0))
    lat.feed(fb, last, u.inp(1))
    lat.take(fb, last, u.out(0))
    lat.feed(fb, last, fb.output("y", W32))
    finish_lattice(lat, switchbox="no_u_turn")
    text = fb.build().mlir
    assert "connectivity_table" in text  # U-turn-free tables are explicit
    roundtrip_ok(text)


def test_disjoint_switchbox_keeps_tracks_apart():
    fb = FabricBuilder("box")
    lat = build_lattice(fb, W32, (1, 3), tracks=2)
    mid = lat.at((0, 1))
    pe_in = fb.input("x", W32)
    lat.take(fb, (0, 1), pe_in)
    lat.feed(fb, (0, 1), fb.output("y", W32))
    finish_lattice(lat, switchbox="disjoint")
    rows = switch_table(mid)
    ins, outs = mid.params["in_tags"], mid.params["out_tags"]
    for o, row in enumerate(rows):
        for i, bit in enumerate(row):
            a, b = ins[i], outs[o]
            if a.startswith("n:") and b.startswith("n:"):
                same_neighbour = a.rsplit(":", 1)[0] == b.rsplit(":", 1)[0]
                same_track = a.rsplit(":", 1)[1] == b.rsplit(":", 1)[1]
                assert bit == (not same_neighbour and same_track)
            else:
                assert bit == 1  # module/PE ports reach every track
    roundtrip_ok(fb.build().mlir)


def test_tracks_multiply_links():
    fb = FabricBuilder("tr")
    lat = build_lattice(fb, W32, (2, 3), tracks=3)
    assert lat.links == 2 * 7 * 3
    assert len(lat.switches[(0, 1)].in_types) == 3 * 3


@pytest.mark.parametrize(
    "make,code",
    [
        (lambda fb: fb.fifo(W32, depth=0), "CPL_FIFO_DEPTH_ZERO"),
        (lambda fb: fb.memory(Memref("memref<?xi32>")), "CPL_MEMORY_STATIC_REQUIRED"),
        (lambda fb: fb.memory(Memref("memref<4xi32>"), ld=0, st=0), "CPL_MEMORY_PORTS_EMPTY"),
        (lambda fb: fb.memory(Memref("memref<4xi32>"), ld=1, st=0, lsq_depth=2),
         "CPL_MEMORY_LSQ_WITHOUT_STORE"),
        (lambda fb: fb.memory(Memref("memref<4xi32>"), ld=1, st=1, lsq_depth=0),
         "CPL_MEMORY_LSQ_MIN"),
        (lambda fb: fb.memory(Memref("memref<4xi32>"), num_region=0), "CPL_MEMORY_INVALID_REGION"),
        (lambda fb: fb.extmemory(fb.input("x", W32)), "CPL_MEMORY_EXTMEM_BINDING"),
        (lambda fb: fb.add_tag(W32, 17), "CPL_TAG_WIDTH_RANGE"),
        (lambda fb: fb.map_tag(Tagged(W32, 2), 2, table_size=0), "CPL_MAP_TAG_TABLE_SIZE"),
        (lambda fb: fb.switch(Bits(5000)), "CPL_BITS_TYPE"),
        (lambda fb: fb.temporal_switch(Tagged(W32, 2), 0), "CPL_TEMPORAL_SW_NUM_ROUTE_TABLE"),
        (lambda fb: fb.temporal_switch(W32, 2), "CPL_TEMPORAL_SW_INTERFACE_NOT_TAGGED"),
        (lambda fb: fb.pe("p", "handshake.buffer", ins=("i32",), outs=("i32",)),
         "CPL_PE_MIXED_CONSUMPTION"),
        (lambda fb: fb.pe("p", "arith.addi", ins=("i32", "i32"), outs=("i32",), interval=0),
         "CPL_PE_TIMING"),
        (lambda fb: fb.temporal_pe("t", Tagged(Bits(16), 2),
                                   [fb.pe("f", "arith.addi", ins=("i32", "i32"), outs=("i32",))]),
         "CPL_TEMPORAL_PE_FU_WIDTH"),
        (lambda fb: fb.temporal_pe("t", Tagged(W32, 2),
                                   [fb.pe("f", "dataflow.invariant", ins=("i1", "i32"),
                                          outs=("i32",))]),
         "CPL_TEMPORAL_PE_DATAFLOW_INVALID"),
        (lambda fb: fb.temporal_pe("t", Tagged(W32, 2), []), "CPL_TEMPORAL_PE_EMPTY_BODY"),
    ],
)
def test_bad_construction_reports_rule(make, code):
    fb = FabricBuilder("bad")
    with pytest.raises(LoomcError) as info:
        make(fb)
    assert info.value.code == code
    assert f"[{code}]" in info.value.one_line()


def test_wiring_errors_report_rules():
    fb, add = small("w")
    a = fb.input("a", W32)
    u = fb.instance(add, "u")
    fb.connect(a, u.inp(0))
    with pytest.raises(LoomcError) as info:
        fb.connect(a, u.inp(1))
    assert info.value.code == "CPL_FANOUT_MODULE_BOUNDARY"
    with pytest.raises(LoomcError) as info:
        fb.connect(fb.input("b", W32), u.inp(0))
    assert info.value.code == "CPL_MULTI_DRIVER"
    with pytest.raises(LoomcError) as info:
        fb.connect(fb.input("c", Bits(16)), u.inp(1))
    assert info.value.code == "CPL_FABRIC_TYPE_MISMATCH"
    with pytest.raises(LoomcError) as info:
        fb.build()
    assert info.value.code == "CPL_INPUT_UNCONNECTED"
    m = fb.input("m", Memref("memref<?xi32>"))
    with pytest.raises(LoomcError) as info:
        fb.connect(m, fb.output("mo", Memref("memref<?xi32>")))
    assert info.value.code == "CPL_MEMORY_PRIVATE_OUTPUT"
    sw = fb.switch(W32, "sw")
    for i in range(32):
        fb.connect(fb.input(f"m{i}", W32), sw)
    with pytest.raises(LoomcError) as info:
        fb.connect(fb.input("m32", W32), sw)
    assert info.value.code == "CPL_SWITCH_PORT_LIMIT"


def test_unconsumed_output_and_empty_switch_are_refused():
    fb, add = small("d")
    u = fb.instance(add, "u")
    fb.connect(fb.input("a", W32), u.inp(0))
    fb.connect(fb.input("b", W32), u.inp(1))
    with pytest.raises(LoomcError) as info:
        fb.build()
    assert info.value.code == "CPL_OUTPUT_UNCONNECTED"
    fb.connect(u, fb.output("y", W32))
    fb.switch(W32, "lonely")
    with pytest.raises(LoomcError) as info:
        fb.build()
    assert info.value.code == "CPL_SWITCH_PORT_ZERO"


def test_verify_text_raises_with_the_verifier_code():
    bad = "module {\n  fabric.module @m(%a: i32) -> (i32) {\n    fabric.yield %a : i32\n  }\n}\n"
    with pytest.raises(LoomcError) as info:
        verify_text(bad, "bad.mlir")
    assert info.value.code is not None and info.value.code.startswith("CPL_")


def test_module_ports_are_ordered_memref_bits_tagged():
    fb = FabricBuilder("order")
    t = Tagged(W32, 2)
    d = fb.del_tag(t, "dt")
    fb.connect(fb.input("tag_in", t), d)
    ext = fb.extmemory(fb.input("m", Memref("memref<?xi32>")), ld=1, st=0, name="e")
    fb.connect(d, fb.fifo(W32, name="f0"))
    fb.connect(fb.nodes[-1], fb.output("y", W32))
    fb.connect(fb.input("addr", Bits(57)), ext.inp(1))
    fb.connect(ext.out(0), fb.output("ld", W32))
    fb.connect(ext.out(1), fb.output("done", NONE))
    text = fb.build().mlir
    header = next(ln for ln in text.splitlines() if "fabric.module" in ln)
    assert header.index("%m:") < header.index("%addr:") < header.index("%tag_in:")


@st.composite
def random_fabric(draw):
    """A random lattice with random PEs hung on it."""
    topology = draw(st.sampled_from(["mesh", "torus", "diagonal_mesh", "diagonal_torus", "cube"]))
    dims = (
        (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(2, 3)))
        if topology == "cube"
        else (draw(st.integers(1, 3)), draw(st.integers(2, 4)))
    )
    tracks = draw(st.integers(1, 2))
    fifo = draw(st.sampled_from(["none", "single", "dual"]))
    ops = draw(st.lists(st.sampled_from(["arith.addi", "arith.muli", "arith.xori",
                                         "arith.select", "math.fma"]), min_size=1, max_size=4))
    box = draw(st.sampled_from(["full", "no_u_turn", "disjoint"]))
    return topology, dims, tracks, fifo, ops, box


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_fabric())
def test_random_small_fabrics_verify_and_roundtrip(spec):
    topology, dims, tracks, fifo, ops, box = spec
    fb = FabricBuilder("rnd")
    lat = build_lattice(fb, W32, dims, topology=topology, tracks=tracks, fifo_mode=fifo)
    i1 = build_lattice(fb, Bits(1), (1, 2), prefix="b")
    coords = sorted(lat.switches)
    defs = {}
    for k, op in enumerate(ops):
        ins = {"arith.select": ("i1", "i32", "i32"), "math.fma": ("f32", "f32", "f32")}.get(
            op, ("i32", "i32")
        )
        outs = ("f32",) if op == "math.fma" else ("i32",)
        if op not in defs:
            defs[op] = fb.pe(f"pe{len(defs)}", op, ins=ins, outs=outs)
        u = fb.instance(defs[op], f"u{k}")
        for i, t in enumerate(defs[op].inputs):
            target = lat if t == W32 else i1
            target.feed(fb, coords[(k + i) % len(coords)] if target is lat else (0, 0), u.inp(i))
        lat.take(fb, coords[(k * 3 + 1) % len(coords)], u.out(0))
    i1.take(fb, (0, 1), fb.input("c", Bits(1)))
    lat.take(fb, coords[0], fb.input("x", W32))
    lat.feed(fb, coords[-1], fb.output("y", W32))
    finish_lattice(lat, switchbox=box)
    roundtrip_ok(fb.build().mlir)


def _load_sample(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "samples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_mesh4x4_sample_is_reproducible():
    sample = _load_sample("build_mesh4x4")
    fabric = sample.build()
    assert fabric.mlir == (ROOT / "samples" / "mesh4x4.fabric.mlir").read_text(encoding="utf-8")
    assert fabric.dot == (ROOT / "samples" / "mesh4x4.dot").read_text(encoding="utf-8")
    assert fabric.count("pe") == 11 and fabric.count("switch") == 24
    roundtrip_ok(fabric.mlir)


def test_generated_samples_are_reproducible():
    sample = _load_sample("build_gen_samples")
    for variant in sample.VARIANTS:
        fabric = sample.build(variant)
        committed = (ROOT / "samples" / f"{variant}.fabric.mlir").read_text(encoding="utf-8")
        assert fabric.mlir == committed, variant
        roundtrip_ok(fabric.mlir)
