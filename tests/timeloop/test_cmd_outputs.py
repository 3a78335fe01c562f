"""What ``loomc tile`` and ``loomc model`` write: reproducible bytes, ``--json``,
all-or-nothing files, no stale mapping beside a failed run's record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loomc.cli import run
from loomc.diagnostics import ExitCode, LoomcError
from loomc.timeloop.model import evaluate
from loomc.timeloop.outputs import write_model
from loomc.timeloop.spec import load_mapping, load_spec
from loomc.timeloop.yamlio import load_inputs

EX05 = "timeloop/exercises/05-mapper-conv1d+oc-3level"


def tile_inputs(corpus: Path, tmp_path: Path, constraints: str) -> list[str]:
    """Exercise 05 with the given constraints file and a mapper section that logs."""
    d = corpus / EX05
    mapper = tmp_path / "logging.mapper.yaml"
    mapper.write_text("mapper:\n  algorithm: cp-sat\n  optimization-metrics: [delay, energy]\n"
                      "  log-stats: true\n  time-limit: 20\n")
    return [str(d / "arch/3level.arch.yaml"), str(d / "prob/conv1d+oc.prob.yaml"),
            str(constraints), str(mapper), str(d / "ref-output/null/timeloop-mapper.ERT.yaml")]


def freebypass(corpus: Path) -> Path:
    return corpus / EX05 / "constraints/conv1d+oc-3level-freebypass.constraints.yaml"


def test_tile_outputs_are_byte_identical_across_runs(corpus, tmp_path, capsys):
    files = tile_inputs(corpus, tmp_path, freebypass(corpus))
    for name in ("a", "b"):
        assert run(["tile", *files, "-o", str(tmp_path / name), "-q"]) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert {"timeloop-mapper.log", "timeloop-mapper.solver.json",
            "timeloop-mapper.map.yaml"} <= set(names)
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    record = json.loads((tmp_path / "a/timeloop-mapper.solver.json").read_text())
    assert "wall_time_s" not in record
    assert record["improvements"] and all("time_s" not in i for i in record["improvements"])


def test_tile_json_prints_the_record_with_times_and_the_files(corpus, tmp_path, capsys):
    files = tile_inputs(corpus, tmp_path, freebypass(corpus))
    assert run(["tile", *files, "-o", str(tmp_path / "out"), "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["status"] == "OPTIMAL" and summary["cycles"] == 1536
    assert summary["wall_time_s"] >= 0 and "time_s" in summary["improvements"][-1]
    written = {Path(p).name for p in summary["files"]}
    assert written == {p.name for p in (tmp_path / "out").iterdir()}
    on_disk = json.loads((tmp_path / "out/timeloop-mapper.solver.json").read_text())
    assert summary["objective"] == on_disk["objective"]
    assert summary["energy_pJ"] == pytest.approx(on_disk["objective"]["energy"])


def test_failed_tile_keeps_no_stale_mapping(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["tile", *tile_inputs(corpus, tmp_path, freebypass(corpus)),
                "-o", str(out), "-q"]) == 0
    assert (out / "timeloop-mapper.map.yaml").exists()
    tight = tmp_path / "tight.constraints.yaml"
    tight.write_text(
        "mapspace_constraints:\n"
        "  targets:\n"
        "  - {target: RegisterFile, type: temporal, factors: K=32 R=3 P=16}\n"
        "  - {target: RegisterFile, type: dataspace, keep: [Weights, Inputs, Outputs]}\n")
    rc = run(["tile", *tile_inputs(corpus, tmp_path, tight), "-o", str(out), "--json"])
    assert rc == ExitCode.NO_MAPPING
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "INFEASIBLE" and summary["infeasible_because"]
    left = {p.name for p in out.iterdir()}
    # this run's record (and its own log); no mapping file of the earlier run
    assert "timeloop-mapper.solver.json" in left
    assert left <= {"timeloop-mapper.solver.json", "timeloop-mapper.log"}
    if "timeloop-mapper.log" in left:
        assert "improved" not in (out / "timeloop-mapper.log").read_text()


def test_model_json_and_all_or_nothing(corpus, tmp_path, capsys, disk_full_on_move):
    ex = corpus / "timeloop/exercises/06-mapper-convlayer-eyeriss"
    files = [ex / "arch/eyeriss_like.yaml", ex / "prob/VGG02_layer5.yaml",
             ex / "ref-output/timeloop-mapper.map.yaml"]
    assert run(["model", *map(str, files), "-o", str(tmp_path / "m"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    spec = load_spec(load_inputs(files))
    result = evaluate(spec, load_mapping(load_inputs(files), spec))
    assert summary["cycles"] == result.cycles and summary["computes"] == result.computes
    assert sorted(Path(p).name for p in summary["files"]) == sorted(
        p.name for p in (tmp_path / "m").iterdir())

    disk_full_on_move(2)
    mapping = load_mapping(load_inputs(files), spec)
    with pytest.raises(LoomcError) as err:
        write_model(spec, mapping, result, tmp_path / "fail", "timeloop-model")
    assert err.value.exit_code == ExitCode.OUTPUT_ERROR
    assert "No space left" in err.value.one_line()
    assert list((tmp_path / "fail").iterdir()) == []
