"""The ``handshake`` and ``dataflow`` dialects: Loom's syntax, round trips, accessors, errors.

The dialects are tested in isolation from ``loomc.mlir_io``: each test builds its
own context from stock xDSL dialects plus ours.  The generic MLIR form, which
stock xDSL reads without any custom syntax, serves as the oracle for the custom
printers: custom text → IR → generic text → IR → custom text must be unchanged.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from loomc.dialects import handshake as hs
from loomc.dialects.dataflow import CarryOp, Dataflow, GateOp, InvariantOp, StreamOp
from loomc.dialects.dataflow_types import BitsType, TaggedType
from loomc.dialects.handshake import Handshake
from xdsl.context import Context
from xdsl.dialects import arith, builtin, func, llvm, math, seq
from xdsl.dialects.builtin import IndexType, IntegerType, MemRefType, NoneType
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import ParseError, VerifyException

# Ops some corpus files use that stock xDSL lacks; dialects/extras.py (another
# module) supplies them.  Files using them are checked only when it is importable.
_NEEDS_EXTRAS = {"arith.index_castui", "llvm.intr.bitreverse"}


def _extra_ops() -> list[type[Operation]]:
    try:
        from loomc.dialects import extras
    except ImportError:
        return []
    wanted = [op for ops in extras.EXTRA_OPS.values() for op in ops]
    return [op for op in wanted if op.name in _NEEDS_EXTRAS]


EXTRA_OPS = _extra_ops()


def make_ctx() -> Context:
    ctx = Context(allow_unregistered=False)
    for dialect in (builtin.Builtin, arith.Arith, math.Math, func.Func, llvm.LLVM, seq.Seq):
        ctx.load_dialect(dialect)
    ctx.load_dialect(Dataflow)
    ctx.load_dialect(Handshake)
    for op in EXTRA_OPS:
        ctx.load_op(op)
    return ctx


def parse(text: str, name: str = "t.mlir") -> builtin.ModuleOp:
    return Parser(make_ctx(), text, name).parse_module()


def render(op: Operation, generic: bool = False) -> str:
    out = io.StringIO()
    Printer(out, print_generic_format=generic).print_op(op)
    return out.getvalue()


def structure(root: Operation) -> list[tuple]:
    """Op names, properties, attributes, types and operand wiring in walk order.

    Values are keyed by (defining op index, result index) or (owner op, block,
    argument index), so two modules compare equal exactly when they are the same
    graph, whatever the SSA names and however many forward references (handshake
    bodies are graph regions) they contain.
    """
    ops = list(root.walk())
    keys: dict[SSAValue, tuple] = {}
    for i, op in enumerate(ops):
        for j, res in enumerate(op.results):
            keys[res] = ("res", i, j)
        for r, region in enumerate(op.regions):
            for b, block in enumerate(region.blocks):
                for a, arg in enumerate(block.args):
                    keys[arg] = ("arg", i, r, b, a, str(arg.type))
    return [
        (
            op.name,
            sorted((k, str(v)) for k, v in op.properties.items()),
            sorted((k, str(v)) for k, v in op.attributes.items()),
            [keys[v] for v in op.operands],
            [str(v.type) for v in op.operands],
            [str(t) for t in op.result_types],
            len(op.regions),
        )
        for op in ops
    ]


def check_round_trip(text: str, name: str = "t.mlir") -> tuple[builtin.ModuleOp, str]:
    """Parse, print, re-parse; also go through the generic form. Returns (IR, text)."""
    first = parse(text, name)
    first.verify()
    printed = render(first)
    second = parse(printed)
    assert render(second) == printed, "printing is not stable"
    assert structure(second) == structure(first), "re-parsed IR differs"
    via_generic = parse(render(first, generic=True))
    assert render(via_generic) == printed, "custom form disagrees with the generic oracle"
    assert structure(via_generic) == structure(first)
    return first, printed


def func_of(module: builtin.ModuleOp) -> hs.FuncOp:
    found = [op for op in module.walk() if isinstance(op, hs.FuncOp)]
    assert len(found) == 1
    return found[0]


def ops_of(module: builtin.ModuleOp, cls: type[Operation]) -> list:
    return [op for op in module.walk() if isinstance(op, cls)]


def mapper_dfgs(corpus: Path) -> tuple[list[Path], list[Path]]:
    """(files checked, files left out because they need ops from dialects/extras.py)."""
    files = sorted((corpus / "loom" / "mapper").rglob("*.handshake.mlir"))
    have = {op.name for op in EXTRA_OPS}
    checked, left_out = [], []
    for path in files:
        needs = {name for name in _NEEDS_EXTRAS if name in path.read_text()}
        (checked if needs <= have else left_out).append(path)
    return checked, left_out


# --------------------------------------------------------------------------------------
# Corpus: every mapper DFG
# --------------------------------------------------------------------------------------


def test_every_mapper_dfg_parses_and_round_trips(corpus: Path) -> None:
    checked, left_out = mapper_dfgs(corpus)
    assert len(checked) + len(left_out) >= 100
    # Only the two single-op tests of the missing ops may be left out.
    assert {p.name for p in left_out} <= {
        "single-bitreverse.handshake.mlir",
        "single-index_castui.handshake.mlir",
    }
    failures = []
    for path in checked:
        try:
            check_round_trip(path.read_text(), str(path))
        except (ParseError, VerifyException, AssertionError) as err:
            failures.append(f"{path}: {str(err).splitlines()[0]}")
    assert not failures, "\n".join(failures)


def test_left_out_files_fail_only_on_the_missing_op(corpus: Path) -> None:
    _, left_out = mapper_dfgs(corpus)
    for path in left_out:
        with pytest.raises(ParseError, match="is not registered") as err:
            parse(path.read_text(), str(path))
        assert any(name in str(err.value) for name in _NEEDS_EXTRAS)


_OP_LINE = re.compile(r"^(%[\w#:, %]+ = )?(handshake|dataflow)\.(?!func\b)")


def test_printed_ops_match_loom_text(corpus: Path) -> None:
    """Each handshake/dataflow op line of the mapper DFGs prints back character for
    character (the SSA names there are the source's own names)."""
    checked, _ = mapper_dfgs(corpus)
    total, mismatched = 0, []
    for path in checked:
        source = path.read_text()
        printed = {line.strip() for line in render(parse(source, str(path))).splitlines()}
        for line in source.splitlines():
            line = line.strip()
            if _OP_LINE.match(line):
                total += 1
                if line not in printed:
                    mismatched.append(f"{path.name}: {line}")
    assert total >= 120
    assert not mismatched, "\n".join(mismatched)


def test_corpus_ops_use_our_classes(corpus: Path) -> None:
    """Every handshake/dataflow op name in the corpus DFGs resolves to a class of ours."""
    checked, _ = mapper_dfgs(corpus)
    ours = {op.name for op in Handshake.operations} | {op.name for op in Dataflow.operations}
    seen: set[str] = set()
    for path in checked:
        for op in parse(path.read_text(), str(path)).walk():
            if op.name.startswith(("handshake.", "dataflow.")):
                assert type(op) is not builtin.UnregisteredOp
                seen.add(op.name)
    assert seen <= ours
    expected = {
        "handshake.func", "handshake.return", "handshake.constant", "handshake.join",
        "handshake.cond_br", "handshake.mux", "handshake.sink", "handshake.load",
        "handshake.store", "handshake.memory", "handshake.extmemory", "dataflow.carry",
        "dataflow.gate", "dataflow.invariant", "dataflow.stream",
    }  # fmt: skip
    assert expected <= seen


# --------------------------------------------------------------------------------------
# Accessors on corpus files
# --------------------------------------------------------------------------------------


def _corpus_dfg(corpus: Path, rel: str) -> builtin.ModuleOp:
    path = corpus / "loom" / "mapper" / rel
    return parse(path.read_text(), str(path))


def test_func_accessors(corpus: Path) -> None:
    module = _corpus_dfg(corpus, "smoke/compose-load-store/load-add-store.handshake.mlir")
    f = func_of(module)
    assert f.func_name == "load_add_store"
    assert f.is_variadic and f.is_accel
    assert f.arg_names == ("mem", "addr", "val", "ctrl")
    assert f.res_names == ("done",)
    assert f.annotations == ("loom.accel",)
    assert isinstance(f.arg_types[0], MemRefType) and f.res_types == (NoneType(),)
    ret = f.return_op
    assert ret is not None and len(ret.operands) == 1


def test_extmemory_and_access_ports(corpus: Path) -> None:
    module = _corpus_dfg(corpus, "smoke/compose-load-store/load-add-store.handshake.mlir")
    f = func_of(module)
    (mem,) = ops_of(module, hs.ExtMemoryOp)
    (load,) = ops_of(module, hs.LoadOp)
    (store,) = ops_of(module, hs.StoreOp)
    assert (mem.ld_count, mem.st_count, mem.mem_id) == (1, 1, 0)
    assert mem.memref is f.args[0]
    # This hand-written file lists (ld addr, st data, st addr) and two results:
    # not CIRCT's layout, which the accessor reports rather than hides.
    assert not mem.follows_circt_layout
    assert list(mem.inputs) == [load.address_results[0], store.data_result,
                                store.address_results[0]]  # fmt: skip
    assert load.data is mem.results[0] and load.ctrl is f.args[3]
    assert store.ctrl is mem.results[1]
    assert [load.operand_name(i) for i in range(3)] == ["addrIn0", "dataFromMem", "ctrl"]
    assert [store.result_name(i) for i in range(2)] == ["dataToMem", "addrOut0"]
    assert mem.operand_name(0) == "extmem"


def test_onchip_memory_accessors(corpus: Path) -> None:
    module = _corpus_dfg(corpus, "unit/memory-store-onchip/mem-store-onchip.handshake.mlir")
    (mem,) = ops_of(module, hs.MemoryOp)
    (store,) = ops_of(module, hs.StoreOp)
    assert (mem.ld_count, mem.st_count, mem.lsq) == (0, 1, False)
    assert mem.mem_ref_type == MemRefType(IntegerType(32), [256])
    assert mem.follows_circt_layout
    assert mem.store_data_operands == (store.data_result,)
    assert mem.store_address_operands == (store.address_results[0],)
    assert mem.load_address_operands == () and mem.load_data_results == ()
    assert mem.store_done_results == (mem.results[0],)
    assert [mem.operand_name(i) for i in range(2)] == ["stData0", "stAddr0"]
    assert mem.result_name(0) == "stDone0"


# --------------------------------------------------------------------------------------
# Inline programs: every op, exact printed text
# --------------------------------------------------------------------------------------

_ALL_OPS = """\
builtin.module {
  handshake.func @all(%a: i32, %b: i32, %c: i1, %sel: index, %ctrl: none, %start: index, \
%m: memref<?xf32>, ...) -> (i32, none) attributes {argNames = ["a", "b", "c", "sel", "ctrl", \
"start", "m"], loom.annotations = ["loom.accel"], resNames = ["out", "done"]} {
    %k = handshake.constant %ctrl {value = 7 : i32} : i32
    %t = handshake.constant %ctrl {value = true} : i1
    %j = handshake.join %a, %ctrl : i32, none
    %tt, %ff = handshake.cond_br %c, %a : i32
    %mx = handshake.mux %sel [%tt, %ff, %k] : index, i32
    handshake.sink %ff : i32
    %o = dataflow.carry %c, %a, %b : i1, i32, i32 -> i32
    %inv = dataflow.invariant %c, %b : i1, i32 -> i32
    %idx, %wc = dataflow.stream %start, %start, %start {step_op = "<<=", stop_cond = "!="}
    %gv, %gc = dataflow.gate %idx, %wc : index, i1 -> index, i1
    %ld, %la = handshake.load [%sel] %md#0, %ctrl : index, f32
    %sd, %sa = handshake.store [%sel] %ld, %j : index, f32
    %md:3 = handshake.memory[ld = 1, st = 1] (%sd, %sa, %la) {id = 1 : i32, lsq = false} \
: memref<64xf32>, (f32, index, index) -> (f32, none, none)
    %el, %ed = handshake.extmemory[ld = 1, st = 0] (%m : memref<?xf32>) (%la2) {id = 0 : i32} \
: (index) -> (f32, none)
    %ld2, %la2 = handshake.load [%sel] %el, %ctrl : index, f32
    %f:2 = handshake.fork [2] %b : i32
    %lf:2 = handshake.lazy_fork [2] %f#0 {x} : i32
    %mg = handshake.merge %lf#0, %lf#1 : i32
    %cm, %ci = handshake.control_merge %ctrl, %j : none, index
    %br = handshake.br %mg : i32
    %bf = handshake.buffer [2] seq %br : i32
    %s1, %s2 = handshake.sync %bf, %cm : i32, none
    %r:2 = handshake.instance @all(%a, %b, %c, %sel, %ctrl, %start, %m) : (i32, i32, i1, index, \
none, index, memref<?xf32>) -> (i32, none)
    handshake.return %mx, %ed : i32, none
  }
}
"""


def test_every_op_round_trips_and_keeps_loom_syntax() -> None:
    module, printed = check_round_trip(_ALL_OPS)
    # Lines whose SSA names survive printing unchanged must come back verbatim.
    for line in _ALL_OPS.splitlines()[4:]:
        line = line.strip()
        if line.endswith("\\") or "%md" in line or "%f" in line or "%lf" in line or "%r" in line:
            continue
        if line and line != "}":
            assert line in printed, line
    # xDSL prints a multi-result name ``%md:3`` as ``%md, %md_1, %md_2``.
    assert (
        "%md, %md_1, %md_2 = handshake.memory[ld = 1, st = 1] (%sd, %sa, %la) "
        "{id = 1 : i32, lsq = false} : memref<64xf32>, (f32, index, index) -> "
        "(f32, none, none)" in printed
    )
    assert (
        "handshake.extmemory[ld = 1, st = 0] (%m : memref<?xf32>) (%la2) {id = 0 : i32} "
        ": (index) -> (f32, none)" in printed
    )
    (mem,) = ops_of(module, hs.MemoryOp)
    (store,) = [op for op in ops_of(module, hs.StoreOp)]
    loads = ops_of(module, hs.LoadOp)
    assert mem.follows_circt_layout
    assert mem.store_data_operands == (store.data_result,)
    assert mem.store_address_operands == (store.address_results[0],)
    assert mem.load_address_operands == (loads[0].address_results[0],)
    assert mem.load_data_results == (mem.results[0],) and loads[0].data is mem.results[0]
    assert mem.store_done_results == (mem.results[1],)
    assert mem.load_done_results == (mem.results[2],)
    assert [mem.result_name(i) for i in range(3)] == ["ldData0", "stDone0", "ldDone0"]
    (mux,) = ops_of(module, hs.MuxOp)
    assert [mux.operand_name(i) for i in range(4)] == ["select", "in0", "in1", "in2"]
    (stream,) = ops_of(module, StreamOp)
    assert (stream.step_kind, stream.cont_cond) == ("<<=", "!=")
    (fork,) = ops_of(module, hs.ForkOp)
    assert len(fork.results) == 2


def test_stream_defaults_and_bits_types() -> None:
    text = """\
builtin.module {
  handshake.func @s(%s: index, %d: i1, %x: !dataflow.bits<32>, \
%y: !dataflow.tagged<!dataflow.bits<32>, i4>) -> (index, !dataflow.bits<32>) {
    %i, %w = dataflow.stream %s, %s, %s
    %o = dataflow.carry %d, %x, %x : i1, !dataflow.bits<32>, !dataflow.bits<32> -> \
!dataflow.bits<32>
    %v = dataflow.invariant %d, %y : i1, !dataflow.tagged<!dataflow.bits<32>, i4> -> \
!dataflow.tagged<!dataflow.bits<32>, i4>
    handshake.return %i, %o : index, !dataflow.bits<32>
  }
}
"""
    module, printed = check_round_trip(text)
    f = func_of(module)
    assert not f.is_variadic and "...)" not in printed
    assert f.arg_names == ("s", "d", "x", "y") and f.res_names == ("out0", "out1")
    (stream,) = ops_of(module, StreamOp)
    assert (stream.step_kind, stream.cont_cond) == ("+=", "<")
    assert stream.result_types == (IndexType(), IntegerType(1))
    (carry,) = ops_of(module, CarryOp)
    assert carry.o.type == BitsType(32)
    (inv,) = ops_of(module, InvariantOp)
    assert inv.o.type == TaggedType(BitsType(32), 4)


def test_func_signature_forms() -> None:
    """External declarations, argument/result attributes and an empty return."""
    text = """\
builtin.module {
  handshake.func @ext(i32, none, ...) -> none
  handshake.func @attrs(%a: i32 {loom.x = 1 : i32}, %c: none) -> (none {loom.r}) {
    handshake.return %c : none
  }
  handshake.func @empty(%c: none) {
    handshake.return
  }
}
"""
    module, printed = check_round_trip(text)
    assert printed == text.rstrip("\n")
    ext, attrs, empty = ops_of(module, hs.FuncOp)
    assert ext.is_variadic and ext.entry_block is None and ext.body_ops == ()
    assert ext.arg_names == ("in0", "in1") and ext.res_names == ("out0",)
    assert not attrs.is_variadic and attrs.arg_attrs is not None
    assert empty.return_op is not None and empty.res_types == ()


def test_esi_instance_round_trips() -> None:
    text = """\
builtin.module {
  func.func @wrap(%clk: !seq.clock, %rst: i1, %a: i32, %go: i1) {
    %d:2 = handshake.esi_instance @kernel "kernel_inst0" clk %clk rst %rst(%a, %go) \
: (i32, i1) -> (i32, i1)
    func.return
  }
}
"""
    module, printed = check_round_trip(text)
    (inst,) = ops_of(module, hs.ESIInstanceOp)
    assert inst.module.string_value() == "kernel" and inst.inst_name.data == "kernel_inst0"
    assert (
        'handshake.esi_instance @kernel "kernel_inst0" clk %clk rst %rst(%a, %go) '
        ": (i32, i1) -> (i32, i1)" in printed
    )


def test_built_ir_prints_loom_syntax() -> None:
    """Ops made through the Python constructors print the same syntax."""
    f = hs.FuncOp(
        "k", ([IntegerType(1), IntegerType(32), IntegerType(32)], [IntegerType(32)]),
        arg_names=["d", "a", "b"], res_names=["o"],
    )  # fmt: skip
    block = f.body.block
    d, a, b = block.args
    carry = CarryOp(d, a, b)
    gate = GateOp(carry.o, d)
    block.add_ops([carry, gate, hs.SinkOp(gate.after_cond), hs.ReturnOp([gate.after_value])])
    module = builtin.ModuleOp([f])
    module.verify()
    text = render(module)
    assert "dataflow.carry %0, %1, %2 : i1, i32, i32 -> i32" in text
    assert "dataflow.gate %3, %0 : i32, i1 -> i32, i1" in text
    assert "handshake.sink %5 : i1" in text
    assert structure(parse(text)) == structure(module)
    assert f.arg_names == ("d", "a", "b") and f.return_op is not None
    assert f.body_ops == (carry, gate, block.ops.first.next_op.next_op)


# --------------------------------------------------------------------------------------
# Errors: malformed text is a ParseError with a position, never a crash
# --------------------------------------------------------------------------------------

_WRAP = """\
builtin.module {{
  handshake.func @e(%d: i1, %a: i32, %b: i32, %ctrl: none, %s: index, ...) -> (i32) {{
    {body}
    handshake.return %a : i32
  }}
}}
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("%o = dataflow.carry %d, %a, %b : i1, !dataflow.bits<0>, i32 -> i32",
         "at least 1"),
        ("%o = dataflow.carry %d, %a, %b : i1, !dataflow.bits<i32>, i32 -> i32",
         "integer"),
        ("%o = dataflow.carry %d, %a : i1, i32, i32 -> i32", "expected 3 operands"),
        ("%o = dataflow.gate %a, %d : i32, i1 -> i32", "expected 2 result types"),
        ("%o = dataflow.carry %d, %a, %b : i1, i32, f32 -> i32", "previously used or defined"),
        ("%i, %w = dataflow.stream %s, %s", "expects 3 operands"),
        ("%i, %w = dataflow.stream %s, %s, %s {step_op = 3}", "must be a string"),
        ("%x = handshake.frobnicate %a : i32", "not registered"),
        ("%x, %y = handshake.load [%s] %a : index, i32", "'%data, %ctrl'"),
        ("%x, %y = handshake.load [%s] %a, %ctrl : i32", "expected 2 types"),
        ("%x = handshake.constant %ctrl : i32", "requires a 'value'"),
        ("%x = handshake.constant %a {value = 1 : i32} : i32", "previously used or defined"),
        ("%t, %f = handshake.cond_br %d, %a, %b : i32", "exactly 2 operands"),
        ("%r = handshake.mux %s [%a, %b] : index", "Expected ','"),
        ("%m:2 = handshake.memory[ld = 1, st = 0] (%s) {id = 0 : i32} : i32, (index) -> "
         "(i32, none)", "expects a memref"),
        ("%m:2 = handshake.memory[ld = 1] (%s) : memref<4xi32>, (index) -> (i32, none)",
         "Expected ','"),
        ("%x = handshake.esi_instance kernel \"i\" clk %a rst %d() : () -> ()", ""),
    ],
)  # fmt: skip
def test_malformed_input_is_a_parse_error(body: str, message: str) -> None:
    text = _WRAP.format(body=body)
    with pytest.raises(ParseError) as err:
        parse(text, "bad.mlir")
    report = str(err.value)
    # The error points into the op's line, or at the next token when the op ended early.
    assert re.search(r"bad\.mlir:[34]:\d+", report), report
    assert message in report, report


# --------------------------------------------------------------------------------------
# Verifier: spec rules on well-formed syntax
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("%o = dataflow.carry %a, %a, %b : i32, i32, i32 -> i32",
         "CPL_DATAFLOW_CARRY_CTRL_TYPE"),
        ("%o = dataflow.carry %d, %a, %b : i1, i32, i32 -> f32",
         "CPL_DATAFLOW_CARRY_TYPE_MISMATCH"),
        ("%o = dataflow.invariant %a, %a : i32, i32 -> i32", "CPL_DATAFLOW_INVARIANT_CTRL_TYPE"),
        ("%o = dataflow.invariant %d, %a : i1, i32 -> f32",
         "CPL_DATAFLOW_INVARIANT_TYPE_MISMATCH"),
        ("%v, %c = dataflow.gate %a, %a : i32, i32 -> i32, i1", "CPL_DATAFLOW_GATE_COND_TYPE"),
        ("%v, %c = dataflow.gate %a, %d : i32, i1 -> f32, i1",
         "CPL_DATAFLOW_GATE_TYPE_MISMATCH"),
        ('%i, %w = dataflow.stream %s, %s, %s {step_op = "%="}',
         "CPL_DATAFLOW_STREAM_INVALID_STEP_OP"),
        ('%i, %w = dataflow.stream %s, %s, %s {stop_cond = "=="}',
         "CPL_DATAFLOW_STREAM_INVALID_CONT_COND"),
        ("%m:2 = handshake.memory[ld = 1, st = 1] (%s) {id = 0 : i32} : memref<4xi32>, "
         "(index) -> (i32, none)", "expects 3 inputs and 3 results"),
        ("%r = handshake.mux %s [%a] : index, i32", "at least two data inputs"),
        ("%r = handshake.mux %d [%a, %b, %a] : i1, i32", "cannot choose among 3"),
    ],
)  # fmt: skip
def test_verifier_rules(body: str, code: str) -> None:
    module = parse(_WRAP.format(body=body))
    with pytest.raises(VerifyException, match=re.escape(code)):
        module.verify()


def test_return_must_match_signature() -> None:
    text = _WRAP.format(body="").replace("handshake.return %a : i32", "handshake.return %d : i1")
    with pytest.raises(VerifyException, match="do not match the function result types"):
        parse(text).verify()


def test_func_entry_block_must_match_signature() -> None:
    block = Block([hs.ReturnOp()], arg_types=[IntegerType(8)])
    f = hs.FuncOp("x", ([IntegerType(32)], []), Region(block))
    with pytest.raises(VerifyException, match="entry block argument types"):
        f.verify()
