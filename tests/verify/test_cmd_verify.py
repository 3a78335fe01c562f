"""``loomc verify`` on files: exit codes, one line per violation, C6 comparisons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loomc.cli import run
from loomc.diagnostics import ExitCode
from loomc.mapper.outputs import output_paths, write_outputs

PAIR = ("unit/addi/addi.fabric.mlir", "unit/addi/single-addi.handshake.mlir")


@pytest.fixture(scope="module")
def written(corpus, tmp_path_factory, mutation_cases):
    case = mutation_cases["addi"]
    out = tmp_path_factory.mktemp("addi") / "base"
    write_outputs(out, case.doc.to_mapping(), case.dfg, case.adg, case.fabric, "balanced")
    base = corpus / "loom" / "mapper"
    return base / PAIR[0], base / PAIR[1], output_paths(out)


def _args(written, **over) -> list[str]:
    fabric, dfgs, paths = written
    files = {"--mapping": paths[".map.json"], "--config": paths[".config.bin"],
             "--addr-h": paths["_addr.h"], "--configured": paths[".fabric.mlir"], **over}
    out = ["verify", "--adg", str(fabric), "--dfgs", str(dfgs)]
    for flag, path in files.items():
        out += [flag, str(path)]
    return out


def test_valid_mapping_exits_0(written, capsys):
    assert run(_args(written)) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith("VALID: single_addi on addi, 0 violation(s), checked C1 C2 C3 C4 C5 C6")


def test_corrupted_route_exits_1_with_one_line_each(written, tmp_path, capsys):
    doc = json.loads(written[2][".map.json"].read_text())
    edge = sorted(doc["routes"])[0]
    doc["routes"][edge]["hwPath"] = doc["routes"][edge]["hwPath"][1:]
    bad = tmp_path / "bad.map.json"
    bad.write_text(json.dumps(doc))
    assert run(_args(written, **{"--mapping": bad})) == ExitCode.RULE_VIOLATION
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("INVALID: single_addi on addi")
    assert any(line.startswith(f"[C3.4] sw={edge} ") for line in lines[:-1])


def test_flipped_config_bit_names_the_node(written, tmp_path, capsys):
    data = bytearray(written[2][".config.bin"].read_bytes())
    data[0] ^= 0x01
    bad = tmp_path / "bad.config.bin"
    bad.write_bytes(bytes(data))
    assert run(_args(written, **{"--config": bad})) == ExitCode.RULE_VIOLATION
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("[C6] sw=- hw=") and "config word 0:" in first and "bits [0]" in first


def test_edited_configured_fabric_is_caught(written, tmp_path, capsys):
    """Turn off the first enabled switch route (runtime configuration only)."""
    text = written[2][".fabric.mlir"].read_text()
    at = text.index("route_table = [")
    one = text.index("1", at)
    assert text[at:one].count("]") == 0  # still inside a route_table
    bad = tmp_path / "bad.fabric.mlir"
    bad.write_text(text[:one] + "0" + text[one + 1:])
    assert run(_args(written, **{"--configured": bad})) == ExitCode.RULE_VIOLATION
    assert "[C6]" in capsys.readouterr().out


def test_addr_header_mismatch_is_caught(written, tmp_path, capsys):
    text = written[2]["_addr.h"].read_text()
    bad = tmp_path / "base_addr.h"
    bad.write_text(text.replace("#define", "#define X", 1))
    assert run(_args(written, **{"--addr-h": bad})) == ExitCode.RULE_VIOLATION
    assert "[C6] sw=- hw=-: _addr.h line" in capsys.readouterr().out


def test_not_json_is_bad_input(written, tmp_path, capsys):
    bad = tmp_path / "x.map.json"
    bad.write_text("{ not json")
    assert run(_args(written, **{"--mapping": bad})) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert f"{bad}:1:3: error: [VERIFY_MAP_JSON] invalid JSON" in err
    assert "Traceback" not in err


def test_usage_errors(capsys):
    assert run(["verify"]) == ExitCode.USAGE
    assert run(["verify", "--mapping", "x.map.json"]) == ExitCode.USAGE
    assert "needs --adg, --dfgs and --mapping" in capsys.readouterr().err


def test_prove_optimal_on_a_unit_pair(written, capsys):
    assert run(_args(written) + ["--prove-optimal", "--budget", "5"]) == ExitCode.OK
    assert capsys.readouterr().out.splitlines()[-1] == "optimal (proved)"


def test_failed_mapping_report_is_a_violation(written, tmp_path, capsys):
    bad = tmp_path / "failed.map.json"
    bad.write_text(json.dumps({"version": 1, "status": "failed", "placement": {}}))
    assert run(_args(written, **{"--mapping": bad})) == ExitCode.RULE_VIOLATION
    assert "mapping status is 'failed'" in capsys.readouterr().out


def test_tiling_prove_optimal_finds_better_than_null_reference(corpus, tmp_path, capsys):
    """exercises/05 ``null``: loomc's model finds a mapping with the same delay and
    less energy; the better mapping is written and verifies clean."""
    ex = corpus / "timeloop" / "exercises" / "05-mapper-conv1d+oc-3level"
    ref = ex / "ref-output" / "null"
    base = [*sorted((ex / "arch").glob("*.yaml")), *sorted((ex / "prob").glob("*.yaml")),
            ex / "constraints" / "null.constraints.yaml", ex / "mapper" / "exhaustive.mapper.yaml"]
    energy = [ref / "timeloop-mapper.ERT.yaml", ref / "timeloop-mapper.ART.yaml"]
    better = tmp_path / "better.map.yaml"
    argv = ["verify", *map(str, base), str(ref / "timeloop-mapper.map.yaml"),
            *map(str, energy), "--prove-optimal", "--budget", "20", "-o", str(better)]
    assert run(argv) == ExitCode.OK
    verdict = capsys.readouterr().out.splitlines()[-1]
    assert verdict.startswith("improvable: found delay=1536, energy=")
    assert run(["verify", *map(str, base), str(better), *map(str, energy)]) == ExitCode.OK
    assert capsys.readouterr().out.startswith("VALID: Computes: 1536  Cycles: 1536")


def test_relative_paths_are_accepted(written, monkeypatch, capsys):
    fabric, _dfgs, paths = written
    monkeypatch.chdir(paths[".map.json"].parent)
    args = _args(written, **{"--mapping": Path(paths[".map.json"].name)})
    assert run(args) == ExitCode.OK
    capsys.readouterr()


def test_mapping_for_another_dfg_or_fabric_is_bad_input(written, corpus, capsys):
    other = corpus / "loom" / "mapper" / "unit" / "cmpi"
    assert run(["verify", "--adg", str(written[0]), "--dfgs",
               str(other / "single-cmpi.handshake.mlir"), "--mapping",
               str(written[2][".map.json"])]) == ExitCode.BAD_INPUT
    assert "[VERIFY_DFG] no handshake.func named 'single_addi'" in capsys.readouterr().err
    assert run(["verify", "--adg", str(other / "cmpi.fabric.mlir"), "--dfgs", str(written[1]),
                "--mapping", str(written[2][".map.json"])]) == ExitCode.BAD_INPUT
    assert "[VERIFY_ADG] the mapping is for fabric 'addi'" in capsys.readouterr().err


def test_hand_written_mapping_without_names_is_checked(written, tmp_path, capsys):
    """A report with only the mapping tables (no dfg/adg names, no cost) is enough."""
    doc = json.loads(written[2][".map.json"].read_text())
    slim = {k: doc[k] for k in ("status", "placement", "portBinding", "routes")}
    slim["placement"] = {sw: {"hwNode": v["hwNode"]} for sw, v in slim["placement"].items()}
    hand = tmp_path / "hand.map.json"
    hand.write_text(json.dumps(slim))
    fabric, dfgs, _paths = written
    assert run(["verify", "--adg", str(fabric), "--dfgs", str(dfgs), "--mapping",
                str(hand)]) == ExitCode.OK
    assert capsys.readouterr().out.startswith("VALID: single_addi on addi, 0 violation(s)")


def test_json_reports_violations_and_the_verdict(written, tmp_path, capsys):
    assert run(_args(written) + ["--prove-optimal", "--budget", "5", "--json"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True and report["violations"] == []
    assert report["checked"] == ["C1", "C2", "C3", "C4", "C5", "C6"]
    assert report["optimality"]["verdict"] == "optimal"
    doc = json.loads(written[2][".map.json"].read_text())
    edge = sorted(doc["routes"])[0]
    doc["routes"][edge]["hwPath"] = doc["routes"][edge]["hwPath"][1:]
    bad = tmp_path / "bad.map.json"
    bad.write_text(json.dumps(doc))
    assert run(_args(written, **{"--mapping": bad}) + ["--json"]) == ExitCode.RULE_VIOLATION
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and "optimality" not in report
    assert any(v["class"] == "C3.4" and v["sw"] == edge for v in report["violations"])


def test_tiling_json_has_the_evaluation(corpus, capsys):
    ex = corpus / "timeloop" / "exercises" / "05-mapper-conv1d+oc-3level"
    ref = ex / "ref-output" / "null"
    files = [*sorted((ex / "arch").glob("*.yaml")), *sorted((ex / "prob").glob("*.yaml")),
             ref / "timeloop-mapper.map.yaml", ref / "timeloop-mapper.ERT.yaml"]
    assert run(["verify", *map(str, files), "--json"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert report["form"] == "tiling" and report["valid"] is True
    assert report["evaluation"]["cycles"] == 1536 and report["evaluation"]["computes"] == 1536
