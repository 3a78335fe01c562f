"""Unit tests of the MLIR front door: locations, source map, extras, printer, loader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from xdsl.dialects.builtin import FileLineColLoc as _FileLineColLoc
from xdsl.dialects.builtin import FusedLoc, IntAttr, StringAttr, UnregisteredAttr

from loomc.diagnostics import ExitCode, LoomcError
from loomc.loader import is_accel, load_adg, load_dfgs, select_adg, select_dfgs
from loomc.mlir_io import make_context, parse_mlir_file, parse_mlir_text, print_module
from loomc.mlir_parser import FastMLIRLexer, LocationFixParser


def roundtrip(text: str) -> str:
    """Print the parsed text, re-parse and print again; both prints must agree."""
    first = print_module(parse_mlir_text(text, "t.mlir").module)
    second = print_module(parse_mlir_text(first, "t2.mlir").module)
    assert first == second
    return first


def FileLineColLoc(file: str, line: int, col: int) -> _FileLineColLoc:  # noqa: N802
    return _FileLineColLoc(StringAttr(file), IntAttr(line), IntAttr(col))


def line_col_of(text: str, needle: str) -> tuple[int, int]:
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


# ---------------------------------------------------------------------------- locations


FUSED = """\
#di_file = #llvm.di_file<"k.cpp" in "/src">
#loc1 = loc("k.cpp":3:0)
module {
  func.func @f(%a: i32 loc(fused<#di_file>[#loc1])) -> i32 {
    %0 = arith.addi %a, %a : i32 loc(#loc9)
    func.return %0 : i32 loc(fused[#loc1, #loc9])
  } loc(#loc8)
} loc(unknown)
#loc8 = loc("k.cpp":1:0)
#loc9 = loc(callsite(#loc1 at #loc8))
"""


def test_fused_location_with_metadata_keeps_metadata() -> None:
    parsed = parse_mlir_text(FUSED, "k.mlir")
    func = parsed.module.body.block.first_op
    arg_loc = func.body.block.args[0].location
    assert isinstance(arg_loc, FusedLoc)
    assert isinstance(arg_loc.metadata, UnregisteredAttr)
    assert arg_loc.metadata.attr_name.data == "llvm.di_file"
    assert arg_loc.locations.data == (FileLineColLoc("k.cpp", 3, 0),)


def test_location_aliases_defined_after_use_are_resolved() -> None:
    parsed = parse_mlir_text(FUSED, "k.mlir")
    func = parsed.module.body.block.first_op
    add, ret = list(func.body.block.ops)
    assert func.location == FileLineColLoc("k.cpp", 1, 0)
    assert add.location.callee == FileLineColLoc("k.cpp", 3, 0)
    assert add.location.caller == FileLineColLoc("k.cpp", 1, 0)
    assert isinstance(ret.location, FusedLoc)
    assert ret.location.locations.data[1] == add.location


def test_undefined_location_alias_is_reported_at_its_use() -> None:
    text = "func.func @f() {\n  func.return loc(#nowhere)\n}\n"
    with pytest.raises(LoomcError) as info:
        parse_mlir_text(text, "u.mlir")
    assert info.value.one_line().startswith("u.mlir:2:19: error: undefined location alias")


def test_stock_parser_rejects_what_the_fix_accepts() -> None:
    """Guards the docstring claim: xDSL alone cannot read these locations."""
    from xdsl.parser import Parser
    from xdsl.utils.exceptions import ParseError

    with pytest.raises(ParseError):
        Parser(make_context(), FUSED, "k.mlir").parse_module()
    LocationFixParser(make_context(), FUSED, "k.mlir").parse_module()


# --------------------------------------------------------------------------- source map


GRAPH = """\
module {
  func.func @g(%x: i32, %y: i32) -> i32 {
    %s:2 = arith.addui_extended %x, %y : i32, i1
      %sum_01 = arith.addi %s#0, %x : i32
    func.return %sum_01 : i32
  }
}
"""


def test_source_map_gives_line_col_and_source_names() -> None:
    text = GRAPH
    parsed = parse_mlir_text(text, "g.mlir")
    func = parsed.module.body.block.first_op
    pair, add, ret = list(func.body.block.ops)
    assert (parsed.loc(func).line, parsed.loc(func).col) == line_col_of(text, "func.func")
    assert (parsed.loc(pair).line, parsed.loc(pair).col) == line_col_of(text, "%s:2")
    assert (parsed.loc(add).line, parsed.loc(add).col) == line_col_of(text, "%sum_01")
    line, col = line_col_of(text, "func.return")
    assert str(parsed.loc(ret)) == f"g.mlir:{line}:{col}"
    assert [parsed.value_name(r) for r in pair.results] == ["s#0", "s#1"]
    assert parsed.value_name(add.results[0]) == "sum_01"
    assert [parsed.value_name(a) for a in func.body.block.args] == ["x", "y"]
    y = parsed.value_loc(func.body.block.args[1])
    assert (y.line, y.col) == line_col_of(text, "%y")
    s1 = parsed.value_loc(pair.results[1])
    assert (s1.line, s1.col) == line_col_of(text, "%s:2")
    assert parsed.loc(parsed.module).line == 1


# ------------------------------------------------------------------------------- extras


@pytest.mark.parametrize(
    "body",
    [
        "%r = arith.index_castui %i : i32 to index",
        "%r = llvm.intr.bitreverse(%i) : (i32) -> i32",
        "%m = memref.alloca() : memref<4xf32>\n"
        "%c = memref.cast %m : memref<4xf32> to memref<?xf32, strided<[1], offset: ?>>\n"
        "%p = memref.extract_aligned_pointer_as_index %m : memref<4xf32> -> index",
        "%ch, %rdy = esi.wrap.vr %i, %b : i32\n%v, %ok = esi.unwrap.vr %ch, %rdy : i32",
    ],
)
def test_extra_ops_roundtrip(body: str) -> None:
    text = "func.func @f(%i: i32, %b: i1) {\n" + body + "\nfunc.return\n}\n"
    printed = roundtrip(text)
    for line in body.splitlines():
        op_name = re.search(r"= ([a-z_.]+)", line).group(1)
        assert op_name in printed


def test_memref_global_pretty_form() -> None:
    text = (
        'memref.global constant @s : memref<3xi8> = dense<[1, 2, 0]> {alignment = 1 : i64}\n'
        "memref.global private @t : memref<2xi32> = uninitialized\n"
        'llvm.module_flags [#llvm.mlir.module_flag<max, "PIC Level", 2 : i32>]\n'
    )
    printed = roundtrip(text)
    assert "memref.global constant @s : memref<3xi8> = dense<[1, 2, 0]>" in printed
    assert "{alignment = 1 : i64}" in printed
    assert "memref.global private @t : memref<2xi32> = uninitialized" in printed
    assert '#llvm.mlir.module_flag<max, "PIC Level", 2 : i32>' in printed


def test_memref_global_bad_alignment_is_a_verifier_error_at_the_op() -> None:
    text = "\n  memref.global @s : memref<1xi8> = dense<1> {alignment = 3 : i64}\n"
    with pytest.raises(LoomcError) as info:
        parse_mlir_text(text, "a.mlir")
    assert info.value.exit_code == ExitCode.BAD_INPUT
    assert info.value.one_line().startswith("a.mlir:2:3: error: 'memref.global' op")
    assert "power of 2" in info.value.message


def test_unknown_llvm_attribute_outside_opaque_prefixes_is_rejected() -> None:
    with pytest.raises(LoomcError, match="not registered"):
        parse_mlir_text('#x = #llvm.bogus_thing<1>\nmodule {}\n', "b.mlir")


# ------------------------------------------------------------------------------ printer


def test_printer_names_are_a_fixed_point() -> None:
    """xDSL alone renames ``%fifo_01_00`` on every print/parse cycle; ours does not."""
    text = (
        "func.func @f(%a: i32) -> i32 {\n"
        "  %fifo_01_00 = arith.addi %a, %a : i32\n"
        "  %fifo_01_01 = arith.addi %fifo_01_00, %a : i32\n"
        "  func.return %fifo_01_01 : i32\n}\n"
    )
    printed = roundtrip(text)
    assert "%fifo = arith.addi" in printed and "%fifo_1 = arith.addi %fifo" in printed


def test_type_cache_does_not_change_the_result(corpus: Path) -> None:
    path = corpus / "loom" / "templates" / "loom_cgra_smoke.fabric.mlir"
    text = path.read_text()
    cached = print_module(parse_mlir_text(text, str(path)).module)
    plain = print_module(LocationFixParser(make_context(), text, str(path)).parse_module())
    assert cached == plain


# ------------------------------------------------------------------------------- loader


def test_app_yields_the_kernel_once_at_its_line(corpus: Path) -> None:
    path = corpus / "loom" / "apps" / "S1-streaming-relu" / "relu.handshake.mlir"
    dfgs = load_dfgs(path)
    assert [d.name for d in dfgs] == ["_Z8relu_dsaPKfPfj"]
    text = path.read_text()
    assert (dfgs[0].loc.line, dfgs[0].loc.col) == line_col_of(
        text, "handshake.func @_Z8relu_dsaPKfPfj("
    )
    assert dfgs[0].op.name == "handshake.func" and is_accel(dfgs[0].op)
    with_wrappers = load_dfgs(path, include_esi_wrappers=True)
    assert [d.name for d in with_wrappers] == ["_Z8relu_dsaPKfPfj_esi", "_Z8relu_dsaPKfPfj"]


def test_app_with_several_kernels(corpus: Path) -> None:
    path = corpus / "loom" / "apps" / "S3-dsp-dotprod" / "dotprod.handshake.mlir"
    names = [d.name for d in load_dfgs(path)]
    assert len(names) == 3 and not any(n.endswith("_esi") for n in names)


def test_mapper_unit_dfg(corpus: Path) -> None:
    path = corpus / "loom" / "mapper" / "unit" / "negf" / "single-negf.handshake.mlir"
    assert [d.name for d in load_dfgs(path)] == ["single_negf"]


def test_unannotated_functions_are_all_taken_and_annotated_ones_win() -> None:
    plain = "handshake.func @a(%x: i32, ...) -> (i32) {\n  handshake.return %x : i32\n}\n"
    two = plain + plain.replace("@a", "@b")
    assert [d.name for d in select_dfgs(parse_mlir_text(two, "p.mlir"))] == ["a", "b"]
    marked = plain + plain.replace("@a", "@b").replace(
        "{\n", 'attributes {loom.annotations = ["loom.accel=k"]} {\n', 1
    )
    assert [d.name for d in select_dfgs(parse_mlir_text(marked, "p.mlir"))] == ["b"]


def test_no_handshake_func_is_bad_input() -> None:
    with pytest.raises(LoomcError, match="no handshake.func") as info:
        select_dfgs(parse_mlir_text("module {}\n", "e.mlir"))
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_adg_top_is_the_uninstantiated_module(corpus: Path) -> None:
    tdd = corpus / "loom" / "fabric-tdd"
    assert load_adg(tdd / "CPL_INSTANCE_CYCLIC_REFERENCE" / "green.fabric.mlir").name == "top"
    top = load_adg(tdd / "CFG_ADG_COMBINATIONAL_LOOP" / "green_mixed_module.fabric.mlir")
    assert top.name == "top" and top.op.name == "fabric.module"
    text = (tdd / "CFG_ADG_COMBINATIONAL_LOOP" / "green_mixed_module.fabric.mlir").read_text()
    assert (top.loc.line, top.loc.col) == line_col_of(text, "fabric.module @top")


def test_template_top_is_the_last_uninstantiated_module(corpus: Path) -> None:
    path = corpus / "loom" / "templates" / "loom_cgra_small.fabric.mlir"
    text = path.read_text()
    names = re.findall(r"fabric\.module @(\w+)", text)
    instantiated = set(re.findall(r"fabric\.instance @(\w+)", text))
    roots = [n for n in names if n not in instantiated]
    top = load_adg(path)
    assert top.name == roots[-1] == "loom_cgra_small"
    assert (top.loc.line, top.loc.col) == line_col_of(text, f"fabric.module @{top.name}(")


def test_no_fabric_module_is_bad_input() -> None:
    with pytest.raises(LoomcError, match="no fabric.module"):
        select_adg(parse_mlir_text("module {}\n", "e.mlir"))


def test_parse_file_and_text_agree(corpus: Path) -> None:
    path = corpus / "loom" / "mapper" / "unit" / "negf" / "negf.fabric.mlir"
    from_file = print_module(parse_mlir_file(path).module)
    assert from_file == print_module(parse_mlir_text(path.read_text(), "x").module)


# -------------------------------------------------------------------------------- lexer


def _token_stream(lexer_type: type, text: str) -> list[tuple[object, int, int]]:
    from xdsl.utils.exceptions import ParseError
    from xdsl.utils.lexer import Input
    from xdsl.utils.mlir_lexer import MLIRTokenKind

    lexer = lexer_type(Input(text, "x"))
    tokens: list[tuple[object, int, int]] = []
    while True:
        try:
            token = lexer.lex()
        except ParseError as err:
            tokens.append(("error", err.span.start, err.span.end))
            return tokens
        tokens.append((token.kind, token.span.start, token.span.end))
        if token.kind == MLIRTokenKind.EOF:
            return tokens


LEXER_EDGE_CASES = (
    "%c-512_i32 = arith.constant -512 : i32 // c\n#-} {-# 0x1F 0xi32 007 1.5e3 4xf32 ...\n"
    '@"q" @s ^bb0 !t.x<4> #a.b<"s\\"x"> -> - / é // end'
)


def test_fast_lexer_yields_the_stock_token_stream(corpus: Path) -> None:
    from xdsl.utils.mlir_lexer import MLIRLexer

    files = sorted((corpus / "loom").rglob("*.mlir"))
    sample = [p.read_text() for p in files[::25]]
    sample.append((corpus / "loom/apps/S1-streaming-relu/relu.handshake.mlir").read_text())
    for text in [*sample, LEXER_EDGE_CASES, LEXER_EDGE_CASES[:-9]]:
        assert _token_stream(FastMLIRLexer, text) == _token_stream(MLIRLexer, text)
