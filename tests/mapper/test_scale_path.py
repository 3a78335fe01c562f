"""The scale strategy end to end: forced onto corpus pairs (size limits set to
zero), its mappings must verify like the joint model's and be reproducible."""

from __future__ import annotations

from pathlib import Path

import pytest

from loomc.corpus import corpus_root, mapper_cases
from loomc.graph.load import adg_from_parsed, dfgs_from_file
from loomc.mapper import pipeline
from loomc.mapper.outputs import output_paths, write_outputs
from loomc.mapper.pipeline import MapperOptions, map_dfg
from loomc.mlir_io import parse_mlir_file
from loomc.verify import verify_pnr_files

#: a memory pipeline, a tagged temporal PE and multi-op tech-mapping
PAIRS = (
    "smoke/compose-load-store:load-add-store.fabric:load-add-store.handshake",
    "smoke/mixed-temporal:mixed-temporal.fabric:add-mul-chain.handshake",
    "smoke/simple-techmap:simple-techmap.fabric:mul-add-square.handshake",
)
CASES = {c.name: c for c in mapper_cases(corpus_root())} if corpus_root().is_dir() else {}


@pytest.mark.parametrize("name", PAIRS)
def test_scale_path_maps_verifies_and_repeats(name: str, corpus: Path, tmp_path: Path,
                                              monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "DIRECT_LIMIT", 0)
    monkeypatch.setattr(pipeline, "JOINT_LIMIT", 0)
    case = CASES[name]
    parsed = parse_mlir_file(case.adg)
    adg = adg_from_parsed(parsed)
    dfg = dfgs_from_file(case.dfg)[0]
    first = map_dfg(dfg, adg, MapperOptions(budget=10.0))
    assert first.status == "success", first.diagnostics.message
    assert first.solver.status == "FEASIBLE" and first.solver.bound is None  # no global claim
    write_outputs(tmp_path / "out", first, dfg, adg, parsed, "balanced")
    paths = output_paths(tmp_path / "out")
    result = verify_pnr_files(case.adg, case.dfg, paths[".map.json"],
                              config_path=paths[".config.bin"], addr_path=paths["_addr.h"],
                              configured_path=paths[".fabric.mlir"])
    assert result.ok, [v.one_line() for v in result.violations]
    again = map_dfg(dfg, adg, MapperOptions(budget=10.0))
    assert (again.placement, again.routes, again.temporal) == (
        first.placement, first.routes, first.temporal)


def test_cli_reports_a_scale_path_mapping(corpus: Path, tmp_path: Path, monkeypatch,
                                          capsys) -> None:
    from loomc.cli import run

    monkeypatch.setattr(pipeline, "DIRECT_LIMIT", 0)
    monkeypatch.setattr(pipeline, "JOINT_LIMIT", 0)
    case = CASES[PAIRS[0]]
    code = run(["--adg", str(case.adg), "--dfgs", str(case.dfg), "-o", str(tmp_path / "m"),
                "--mapper-budget", "10"])
    out = capsys.readouterr().out
    assert code == 0 and "FEASIBLE (objective" in out and "no proven bound" in out


def test_joint_model_refines_the_quick_mapping_to_the_optimum(monkeypatch) -> None:
    """Quick mapping first, then the joint model from it: same proven optimum as the
    joint model alone."""
    case = CASES[PAIRS[2]]
    adg = adg_from_parsed(parse_mlir_file(case.adg))
    dfg = dfgs_from_file(case.dfg)[0]
    direct = map_dfg(dfg, adg, MapperOptions(budget=10.0))
    monkeypatch.setattr(pipeline, "DIRECT_LIMIT", 0)
    refined = map_dfg(dfg, adg, MapperOptions(budget=10.0))
    assert direct.solver.status == refined.solver.status == "OPTIMAL"
    assert refined.solver.objective == direct.solver.objective
