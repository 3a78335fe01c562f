"""The TimeloopFE-like API: edit a spec in Python, map it, save and re-use the mapping."""

from __future__ import annotations

import pickle

from loomc.timeloop.api import (
    Specification,
    call_mapper,
    call_model,
    run_with_mapping,
    save_best_mapping,
)
from loomc.timeloop.emit_stats import stats_text

EX05 = "timeloop/exercises/05-mapper-conv1d+oc-3level"


def spec_05(corpus):
    d = corpus / EX05
    return Specification.from_yaml_files(
        d / "arch/3level.arch.yaml", d / "prob/conv1d+oc.prob.yaml",
        d / "constraints/null.constraints.yaml", d / "mapper/exhaustive.mapper.yaml",
        d / "ref-output/null/timeloop-mapper.ERT.yaml")


def test_edit_map_save_and_rerun(corpus, tmp_path):
    spec = spec_05(corpus)
    run = call_mapper(spec, output_dir=tmp_path, algorithm="cp_sat", time_limit=30.0)
    assert run.result.status == "OPTIMAL"
    path = save_best_mapping(run, tmp_path / "best.map.yaml")
    again = run_with_mapping(spec, path)
    assert stats_text(run.spec, again) == run.stats
    assert (tmp_path / "timeloop-mapper.solver.json").exists()

    # a smaller register file can only make the optimum worse (or equal), and the
    # edit goes through the attribute view into the data the next call parses
    small = spec.copy()
    small.architecture.find("RegisterFile").attributes.depth = 8
    assert small.inputs.data is not spec.inputs.data
    run_small = call_mapper(small, algorithm="cp_sat", time_limit=30.0)
    assert run_small.spec.arch.storage[0].size == 8
    assert run_small.result.values >= run.result.values
    # specs pickle (parallel sweeps send them to worker processes)
    assert pickle.loads(pickle.dumps(small)).inputs.data == small.inputs.data


def test_call_model_uses_the_specs_mapping(corpus, tmp_path):
    spec = spec_05(corpus)
    ref = corpus / EX05 / "ref-output/freebypass/timeloop-mapper.map.yaml"
    res = run_with_mapping(spec, ref)
    with_map = Specification.from_yaml_files(
        *(corpus / EX05 / p for p in ("arch/3level.arch.yaml", "prob/conv1d+oc.prob.yaml",
                                      "ref-output/null/timeloop-mapper.ERT.yaml")), ref)
    direct = call_model(with_map, output_dir=tmp_path)
    assert direct.energy == res.energy and direct.cycles == res.cycles == 1536
    assert (tmp_path / "timeloop-model.stats.txt").read_text() == stats_text(
        with_map.parsed()[0], direct)
