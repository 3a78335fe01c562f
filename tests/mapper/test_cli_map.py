"""``loomc --adg A --dfgs D -o OUT`` end to end, as a build script runs it."""

from __future__ import annotations

import json
from pathlib import Path

from loomc.cli import run

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_ADG = ROOT / "samples" / "mesh2x2.fabric.mlir"
SAMPLE_DFG = ROOT / "samples" / "mac.handshake.mlir"
SUFFIXES = (".config.bin", "_addr.h", ".map.json", ".map.txt", ".fabric.mlir", ".viz.html")


def _map(out: Path, *extra: str) -> int:
    return run(["--adg", str(SAMPLE_ADG), "--dfgs", str(SAMPLE_DFG), "-o", str(out), *extra])


def test_sample_maps_and_twice_gives_identical_bytes(tmp_path: Path, capsys) -> None:
    assert _map(tmp_path / "a" / "mac", "-q") == 0
    assert _map(tmp_path / "b" / "mac", "-q", "--mapper-seed", "0") == 0
    assert capsys.readouterr().out == ""  # -q: nothing on stdout
    for suffix in SUFFIXES:
        a = (tmp_path / "a" / f"mac{suffix}").read_bytes()
        b = (tmp_path / "b" / f"mac{suffix}").read_bytes()
        assert a == b, suffix
    # the configured fabric is itself a valid fabric
    assert run(["--adg", str(tmp_path / "a" / "mac.fabric.mlir")]) == 0


def test_json_summary(tmp_path: Path, capsys) -> None:
    assert _map(tmp_path / "mac", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "success"
    assert summary["placed"] == 2 and summary["routed_edges"] == 5
    assert summary["solver"]["status"] == "OPTIMAL" and summary["solver"]["gap"] == 0
    assert sorted(Path(p).name for p in summary["outputs"]) == sorted(
        f"mac{s}" for s in SUFFIXES)


def test_no_mapping_exits_1_with_only_the_diagnostic_map_json(
        corpus: Path, tmp_path: Path, capsys) -> None:
    folder = corpus / "loom" / "mapper" / "unit" / "insufficient-resources-negative"
    adg = next(folder.glob("*.fabric.mlir"))
    dfg = next(folder.glob("*.handshake.mlir"))
    code = run(["--adg", str(adg), "--dfgs", str(dfg), "-o", str(tmp_path / "x")])
    assert code == 1
    err = capsys.readouterr().err
    assert "[CPL_MAPPER_INSUFFICIENT_RESOURCES]" in err
    assert f"{dfg}:" in err  # conflicting ops are named with file:line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.map.json"]
    report = json.loads((tmp_path / "x.map.json").read_text())
    assert report["status"] == "failed"


def test_usage_errors(tmp_path: Path) -> None:
    assert _map(tmp_path / "m", "--mapper-profile", "fastest") == 2
    assert run(["--adg", str(SAMPLE_ADG), "--dfgs", str(SAMPLE_DFG)]) == 2  # no -o
    assert _map(tmp_path / "m", "--mapper-budget", "0") == 2
    assert not list(tmp_path.iterdir())


def test_two_dfgs_map_together(tmp_path: Path, capsys) -> None:
    """spec-cli.md "--dfgs": several DFGs share one mapping session; the sample
    fabric has one adder and one multiplier, so two copies of mac cannot fit."""
    code = run(["--adg", str(SAMPLE_ADG), "--dfgs", f"{SAMPLE_DFG},{SAMPLE_DFG}",
                "-o", str(tmp_path / "two"), "-q"])
    assert code == 1
    report = json.loads((tmp_path / "two.map.json").read_text())
    assert report["diagnostics"]["firstViolatedConstraint"] in ("C4", "C2")
