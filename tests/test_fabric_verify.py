"""The fabric verifier against Loom's fabric TDD suite, the corpus fabrics, and
small hand-written fabrics for the behaviours the suite does not pin down."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from loomc.cli import run
from loomc.cmd_loom import check_adg, main
from loomc.diagnostics import ExitCode, LoomcError
from loomc.fabric_verify import precheck_text, verify_fabric
from loomc.fabric_verify.sparse_format import check_sparse
from loomc.mlir_io import parse_mlir_text

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _corpus_dir() -> Path:
    return Path(os.environ.get("LOOMC_CORPUS", PROJECT_ROOT.parent / "shared" / "corpus"))


def _corpus_files(*patterns: str) -> list[str]:
    """Corpus files (relative paths) for parametrisation; collected at import time,
    the ``corpus`` fixture then skips or fails loudly when the corpus is absent."""
    root = _corpus_dir()
    if not root.is_dir():
        return ["<corpus missing>"]
    found = sorted({str(p.relative_to(root)) for pat in patterns for p in root.glob(pat)})
    return found or ["<corpus missing>"]


TDD = "loom/fabric-tdd/*/"
GREEN = _corpus_files(TDD + "green*.fabric.mlir")
RED = _corpus_files(TDD + "red*.fabric.mlir")
CORPUS_FABRICS = _corpus_files("loom/mapper/**/*.fabric.mlir", "loom/templates/*.fabric.mlir")


def _check_line(path: Path) -> str:
    m = re.search(r"//\s*CHECK:\s*(.+)", path.read_text())
    assert m, f"{path} has no CHECK line"
    return m.group(1).strip()


# ------------------------------------------------------------------ Loom's TDD suite


@pytest.mark.parametrize("rel", GREEN)
def test_green_fabric_verifies_clean(corpus: Path, rel: str) -> None:
    result = check_adg(corpus / rel)
    assert result.violations == (), [v.one_line() for v in result.violations]


@pytest.mark.parametrize("rel", RED)
def test_red_fabric_reports_its_check_code_first(corpus: Path, rel: str) -> None:
    path = corpus / rel
    expected = _check_line(path)
    result = check_adg(path)
    assert result.violations, "red fabric verified clean"
    first = result.violations[0]
    if re.fullmatch(r"(CPL|CFG|RT)_[A-Z0-9_]+", expected):
        assert first.code == expected, first.one_line()
    else:  # Loom's CHECK names a message fragment, not a code
        assert expected in first.one_line(), first.one_line()
    assert first.loc is not None and first.loc.file == str(path) and first.loc.line > 0


def test_tdd_suite_is_complete(corpus: Path) -> None:
    """Every TDD folder has been picked up (guards against a silent glob change)."""
    assert len(GREEN) >= 100 and len(RED) >= 100


@pytest.mark.parametrize("rel", CORPUS_FABRICS)
def test_corpus_fabric_verifies_clean(corpus: Path, rel: str) -> None:
    result = check_adg(corpus / rel)
    assert result.violations == (), [v.one_line() for v in result.violations[:5]]


# ------------------------------------------------------------------ hand-written fabrics

B32 = "!dataflow.bits<32>"


def _violations(text: str) -> list[str]:
    early = precheck_text(text, "t.fabric.mlir")
    if early:
        return [v.code for v in early]
    parsed = parse_mlir_text(text, "t.fabric.mlir")
    return [v.code for v in verify_fabric(parsed.module, parsed.source_map)]


def _two_switch_ring(route0: str, route1: str, fifo: bool = False) -> str:
    back = "%f" if fifo else "%sw1#0"
    fifo_line = f"  %f = fabric.fifo [depth = 2] %sw1#0 : {B32}\n" if fifo else ""
    return (
        f"fabric.module @m(%a: {B32}) -> ({B32}) {{\n"
        f"{fifo_line}"
        f"  %sw0:2 = fabric.switch [connectivity_table = [1, 1, 1, 1]] {route0} %a, {back}"
        f" : {B32} -> {B32}, {B32}\n"
        f"  %sw1:2 = fabric.switch [connectivity_table = [1, 1, 1, 1]] {route1} %sw0#0, %sw0#1"
        f" : {B32} -> {B32}, {B32}\n"
        f"  fabric.yield %sw1#1 : {B32}\n}}\n"
    )


def test_comb_loop_needs_configured_routes_on_every_hop() -> None:
    routed = "{route_table = [1, 1, 1, 1]}"
    assert _violations(_two_switch_ring(routed, routed)) == ["CFG_ADG_COMBINATIONAL_LOOP"]
    # sw0 routes only in0 -> both outputs: the feedback input (in1) is never selected
    assert _violations(_two_switch_ring("{route_table = [1, 0, 1, 0]}", routed)) == []
    assert _violations(_two_switch_ring("", routed)) == []
    assert _violations(_two_switch_ring(routed, routed, fifo=True)) == []


def test_instance_diamond_is_not_a_cycle() -> None:
    """A module used twice by another is shared, not cyclic (spec-fabric.md
    "fabric.instance": only a definition that reaches itself is cyclic)."""
    text = f"""
fabric.pe @inc(%a: {B32}) -> ({B32}) {{
^bb0(%x: i32):
  %c = arith.constant 1 : i32
  %r = arith.addi %x, %c : i32
  fabric.yield %r : i32
}}
fabric.module @pair(%a: {B32}, %b: {B32}) -> ({B32}, {B32}) {{
  %x = fabric.instance @inc(%a) : ({B32}) -> ({B32})
  %y = fabric.instance @inc(%b) : ({B32}) -> ({B32})
  fabric.yield %x, %y : {B32}, {B32}
}}
fabric.module @top(%a: {B32}, %b: {B32}) -> ({B32}, {B32}) {{
  %p:2 = fabric.instance @pair(%a, %b) : ({B32}, {B32}) -> ({B32}, {B32})
  fabric.yield %p#0, %p#1 : {B32}, {B32}
}}
"""
    assert _violations(text) == []


@pytest.mark.parametrize(
    ("ins", "expected"),
    [
        ("(%d, %sa, %la) : memref<64xi32>, ({b32}, {b57}, {b57})", []),  # store first
        ("(%la, %sa, %d) : memref<64xi32>, ({b57}, {b57}, {b32})", []),  # address first
        (
            "(%la, %sa, %d) : memref<64xi32>, ({b57}, {b57}, !dataflow.bits<16>)",
            ["CPL_MEMORY_DATA_TYPE"],
        ),
    ],
)
def test_memory_input_layouts(ins: str, expected: list[str]) -> None:
    b57 = "!dataflow.bits<57>"
    ins = ins.format(b32=B32, b57=b57)
    args = {"%d": B32, "%sa": b57, "%la": b57}
    if "bits<16>" in ins:
        args["%d"] = "!dataflow.bits<16>"
    order = re.findall(r"%\w+", ins.split(":")[0])
    header = ", ".join(f"{n}: {args[n]}" for n in order)
    text = f"""
fabric.module @m({header}) -> ({B32}, none, none) {{
  %ld, %ldd, %std = fabric.memory [ldCount = 1, stCount = 1, lsqDepth = 1]
      {ins} -> ({B32}, none, none)
  fabric.yield %ld, %ldd, %std : {B32}, none, none
}}
"""
    assert _violations(text) == expected


def test_precheck_reports_bad_widths_at_their_position_and_ignores_comments() -> None:
    text = (
        "// !dataflow.bits<0> in a comment is fine\n"
        "fabric.module @m(%a: !dataflow.bits<5000>) -> (!dataflow.tagged<!dataflow.bits<8>, i17>)"
    )
    found = precheck_text(text, "f.mlir")
    assert [(v.code, v.loc.line, v.loc.col) for v in found] == [
        ("CPL_BITS_TYPE", 2, 22),
        ("CPL_TAG_WIDTH_RANGE", 2, 48),
    ]
    assert "bits width must be 1-4096; got 5000" in found[0].message


@pytest.mark.parametrize(
    ("entries", "kind"),
    [
        (["inst[0]: a", "inst[2]: b"], None),
        (["inst[0]: a", "0x1"], "mixed"),
        (["inst[1]: a", "inst[1]: b"], "order"),
        (["inst[0]: invalid", "inst[2]: b"], "hole"),
        (["0x0", "0x3"], None),
    ],
)
def test_sparse_format(entries: list[str], kind: str | None) -> None:
    problem = check_sparse(entries, "instruction_mem")
    assert (problem.kind if problem else None) == kind


# ------------------------------------------------------------------ command line


def test_cli_exit_codes_and_diagnostic_lines(corpus: Path, capsys) -> None:
    tdd = corpus / "loom" / "fabric-tdd"
    assert main(["--adg", str(tdd / "CPL_FIFO_DEPTH_ZERO" / "green.fabric.mlir")]) == 0
    red = tdd / "CPL_FIFO_DEPTH_ZERO" / "red.fabric.mlir"
    assert run(["--adg", str(red)]) == ExitCode.RULE_VIOLATION
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    fifo_line = next(
        i for i, line in enumerate(red.read_text().splitlines(), 1) if "fabric.fifo" in line
    )
    assert err[0].startswith(f"{red}:{fifo_line}:")
    assert "error: [CPL_FIFO_DEPTH_ZERO]" in err[0]


def test_cli_bad_input_in_every_mode(tmp_path: Path) -> None:
    with pytest.raises(LoomcError) as missing:
        main(["--adg", str(tmp_path / "nope.fabric.mlir")])
    assert missing.value.exit_code == ExitCode.BAD_INPUT
    garbage = tmp_path / "g.fabric.mlir"
    garbage.write_text("fabric.module @m( {\n")
    assert run(["--adg", str(garbage)]) == ExitCode.BAD_INPUT
    with pytest.raises(LoomcError, match="no such file") as gen:
        main(["--gen-adg", "--dfgs", str(tmp_path / "a.mlir"), "-o", "out.fabric.mlir"])
    assert gen.value.exit_code == ExitCode.BAD_INPUT
    ok = tmp_path / "ok.fabric.mlir"
    ok.write_text(
        f"fabric.module @m(%a: {B32}) -> ({B32}) {{\n"
        f"  %o = fabric.fifo [depth = 1] %a : {B32}\n  fabric.yield %o : {B32}\n}}\n"
    )
    with pytest.raises(LoomcError, match="no such file") as dfg:
        main(["--adg", str(ok), "--dfgs", str(tmp_path / "d.handshake.mlir"),
              "-o", str(tmp_path / "out")])
    assert dfg.value.exit_code == ExitCode.BAD_INPUT
    assert not list(tmp_path.glob("out*"))


def test_temporal_pe_fu_wider_than_interface_is_rejected() -> None:
    def tpe(value_bits: int) -> str:
        t = f"!dataflow.tagged<!dataflow.bits<{value_bits}>, i2>"
        return f"""
fabric.temporal_pe @t(%a: {t}) [num_register = 0, num_instruction = 1, reg_fifo_depth = 0]
    -> ({t}) {{
  fabric.pe @fu(%x: i32) -> (i32) {{
    %r = arith.addi %x, %x : i32
    fabric.yield %r : i32
  }}
  fabric.yield
}}
"""

    assert _violations(tpe(32)) == []
    assert _violations(tpe(16)) == ["CPL_TEMPORAL_PE_FU_WIDTH"]
