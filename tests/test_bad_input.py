"""Bad MLIR input ends as one LoomcError line with file:line:col — never a traceback.

Hand-written cases check the exact location and message of each failure kind;
a Hypothesis property test mutates corpus files (truncation, character and line
edits, garbage bytes) and checks that parsing either succeeds or raises
LoomcError(BAD_INPUT) with a ``file:line:col: error:`` line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loomc.diagnostics import ExitCode, LoomcError
from loomc.mlir_io import parse_mlir_file, parse_mlir_text

ERROR_LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): error: \S")

GOOD = """\
module {
  handshake.func @f(%a: i32, %b: i32, ...) -> (i32) {
    %c = arith.addi %a, %b : i32
    handshake.return %c : i32
  }
}
"""


def error_of(path_or_text: Path | str, name: str = "in.mlir") -> LoomcError:
    with pytest.raises(LoomcError) as info:
        if isinstance(path_or_text, Path):
            parse_mlir_file(path_or_text)
        else:
            parse_mlir_text(path_or_text, name)
    err = info.value
    assert err.exit_code == ExitCode.BAD_INPUT
    assert "\n" not in err.one_line()
    return err


def where(err: LoomcError) -> tuple[int, int]:
    match = ERROR_LINE.match(err.one_line())
    assert match, err.one_line()
    return int(match["line"]), int(match["col"])


def test_good_text_parses() -> None:
    assert parse_mlir_text(GOOD, "in.mlir").module is not None


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.mlir"
    path.write_text(GOOD[: GOOD.index("handshake.return")])
    err = error_of(path)
    assert err.one_line().startswith(f"{path}:")
    line, _ = where(err)
    assert line == GOOD[: GOOD.index("handshake.return")].count("\n") + 1


def test_unknown_op() -> None:
    err = error_of(GOOD.replace("arith.addi", "arith.addy"))
    assert where(err) == (3, 10)
    assert err.message == "unknown operation 'arith.addy'"


def test_wrong_type_for_the_op() -> None:
    err = error_of(GOOD.replace("%c = arith.addi %a, %b : i32", "%c = arith.addi %a, %b : f32"))
    assert where(err) == (3, 5)
    assert err.message.startswith("invalid 'arith.addi' op:") and "f32" in err.message


def test_value_used_with_another_type() -> None:
    err = error_of(GOOD.replace("handshake.return %c : i32", "handshake.return %c : i64"))
    assert where(err) == (4, 22)
    assert "i64" in err.message and "i32" in err.message


def test_use_of_undefined_value() -> None:
    err = error_of(GOOD.replace("%a, %b : i32", "%a, %zz : i32"))
    assert where(err) == (3, 25)
    assert err.message == "use of undefined value '%zz'"


def test_verifier_failure_is_reported_at_the_op() -> None:
    text = 'module {\n  "memref.global"() <{sym_name = "g", sym_visibility = "private", ' \
        'type = memref<1xi8>, initial_value = dense<0> : tensor<1xi8>, ' \
        "alignment = 6 : i64}> : () -> ()\n}\n"
    err = error_of(text)
    assert where(err) == (2, 3)
    assert "'memref.global' op" in err.message


def test_unterminated_string_literal_fails_fast() -> None:
    """xDSL's own string regex backtracks exponentially here (hangs); ours is linear."""
    text = 'module attributes {k = "' + "route_table[2]: when(tag=1) O[0]<-I[0], " * 3 + "\n}\n"
    err = error_of(text)
    assert where(err) == (1, 24)
    assert "string literal" in err.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.mlir"
    err = error_of(path)
    assert err.one_line() == f"{path}: error: no such file"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    assert "directory" in error_of(tmp_path).message


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "bin.mlir"
    path.write_bytes(b"module {\n  \x89PNG\x00\xff\xfe garbage\n}\n")
    err = error_of(path)
    assert where(err) == (2, 3)
    assert "UTF-8" in err.message


def test_bad_utf8_column_counts_characters(tmp_path: Path) -> None:
    path = tmp_path / "u.mlir"
    path.write_bytes("// é\n  é ".encode() + b"\xff\n")
    assert where(error_of(path)) == (2, 5)


def test_nul_byte(tmp_path: Path) -> None:
    path = tmp_path / "nul.mlir"
    path.write_text("module {\n}\x00\n")
    assert where(error_of(path)) == (2, 2)


def test_control_characters_are_escaped_in_the_message() -> None:
    err = error_of("module {\x1b}")
    assert where(err) == (1, 9)
    assert err.message.endswith("\\x1b")


def test_empty_file() -> None:
    assert where(error_of("")) == (1, 1)


def test_bad_first_token() -> None:
    """The parser lexes the first token when it is built; that error counts too."""
    err = error_of(".odule {\n}\n")
    assert where(err) == (1, 1) and "'.'" in err.message


# ------------------------------------------------------------------- property test

_DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
_ROOT = Path(os.environ.get("LOOMC_CORPUS", _DEFAULT_CORPUS))
EDITS = ("truncate", "delete", "duplicate", "swap", "garbage", "del_line", "dup_line", "swap_lines")


def _small_corpus_files() -> list[Path]:
    """Corpus files small enough to parse many times quickly, from every area."""
    loom = _ROOT / "loom"
    if not loom.is_dir():
        return []
    files = sorted(p for p in loom.rglob("*.mlir") if p.stat().st_size < 6000)
    return files[:: max(1, len(files) // 40)]


SMALL = _small_corpus_files()
GARBAGE = st.binary(min_size=1, max_size=8)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A corpus file's bytes with one random edit."""
    path = draw(st.sampled_from(SMALL))
    data = path.read_bytes()
    n = len(data)
    pos = draw(st.integers(0, n - 1))
    other = draw(st.integers(0, n - 1))
    kind = draw(st.sampled_from(EDITS))
    lines = data.split(b"\n")
    i, j = pos % len(lines), other % len(lines)
    if kind == "truncate":
        data = data[:pos]
    elif kind == "delete":
        data = data[:pos] + data[pos + 1 :]
    elif kind == "duplicate":
        data = data[: pos + 1] + data[pos:]
    elif kind == "swap":
        a, b = sorted((pos, other))
        data = data[:a] + data[b : b + 1] + data[a + 1 : b] + data[a : a + 1] + data[b + 1 :]
    elif kind == "garbage":
        data = data[:pos] + draw(GARBAGE) + data[pos:]
    elif kind == "del_line":
        data = b"\n".join(lines[:i] + lines[i + 1 :])
    elif kind == "dup_line":
        data = b"\n".join(lines[: i + 1] + lines[i:])
    else:
        lines[i], lines[j] = lines[j], lines[i]
        data = b"\n".join(lines)
    return path.name, data


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mutants")


def test_property_corpus_is_sampled(corpus: Path) -> None:
    assert len(SMALL) >= 20, f"too few small files under {corpus}"


@pytest.mark.skipif(not SMALL, reason="corpus not found")
@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutant=mutated())
def test_mutated_corpus_files_fail_only_with_loomc_error(
    mutant: tuple[str, bytes], scratch: Path
) -> None:
    name, data = mutant
    path = scratch / name
    path.write_bytes(data)
    try:
        parse_mlir_file(path)
    except LoomcError as err:
        assert err.exit_code == ExitCode.BAD_INPUT
        line = err.one_line()
        assert not re.search(r"[\x00-\x1f\x7f]", line), line  # one printable line
        match = ERROR_LINE.match(line)
        assert match, line
        assert match["file"] == str(path)
        assert 1 <= int(match["line"]) <= data.count(b"\n") + 1
