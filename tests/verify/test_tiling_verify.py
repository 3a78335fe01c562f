"""Tiling verification: Timeloop exercise mappings verify clean; corrupted ones do not."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loomc.cmd_verify import main as verify_main
from loomc.timeloop.spec import load_mapping, load_spec
from loomc.timeloop.yamlio import load_inputs
from loomc.verify.tiling_check import check_tiling


def _exercise_runs(corpus: Path) -> list[list[Path]]:
    """(arch, prob, map[, ERT, ART]) of every reference mapping in the exercises."""
    root = corpus / "timeloop" / "exercises"
    runs = []
    for ex in sorted(root.iterdir()):
        arch = sorted((ex / "arch").glob("*.yaml"))
        prob = sorted((ex / "prob").glob("*.yaml"))
        for m in sorted((ex / "map").glob("*.yaml")) if (ex / "map").is_dir() else ():
            runs.append(arch + prob + [m])
        for m in sorted((ex / "ref-output").rglob("timeloop-mapper.map.yaml")):
            extra = [m.parent / "timeloop-mapper.ERT.yaml", m.parent / "timeloop-mapper.ART.yaml"]
            runs.append(arch + prob + [m] + [p for p in extra if p.exists()])
    return runs


def _load(files: list[Path]):
    inputs = load_inputs([str(f) for f in files])
    spec = load_spec(inputs, search_dirs=list(dict.fromkeys(f.parent for f in files)))
    return spec, load_mapping(inputs, spec)


@pytest.fixture(scope="module")
def exercise_mappings(corpus):
    return [(files, *_load(files)) for files in _exercise_runs(corpus)]


def test_every_reference_mapping_verifies_clean(exercise_mappings):
    assert len(exercise_mappings) >= 13  # 9 model maps + 3 (05) + 1 (06)
    for files, spec, mapping in exercise_mappings:
        result = check_tiling(spec, mapping)
        assert result.ok, (files[-1], result.violations)


def test_cli_prints_the_evaluation(corpus, capsys):
    files = _exercise_runs(corpus)[0]
    assert verify_main([str(f) for f in files]) == 0
    out = capsys.readouterr().out
    assert out.startswith("VALID: Computes: 48")


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_changed_tiling_factor_is_caught(exercise_mappings, data):
    _files, spec, mapping = data.draw(st.sampled_from(exercise_mappings))
    li = data.draw(st.integers(0, len(mapping.levels) - 1))
    d = data.draw(st.integers(0, len(spec.problem.dims) - 1))
    factor = data.draw(st.sampled_from((2, 3, 5)))
    lm = mapping.levels[li]
    tf = list(lm.temporal_factors)
    tf[d] *= factor
    levels = list(mapping.levels)
    levels[li] = dataclasses.replace(lm, temporal_factors=tuple(tf))
    bad = dataclasses.replace(mapping, levels=tuple(levels))
    result = check_tiling(spec, bad)
    assert any(v.constraint_class == "T1" and v.sw_object == spec.problem.dims[d]
               for v in result.violations), result.violations


def test_fanout_and_capacity_overflows_are_caught(exercise_mappings):
    """More spatial instances than the fanout (T2); the whole problem kept in the
    innermost buffer (T3, for exercises with a bounded innermost buffer)."""
    checked = 0
    for files, spec, mapping in exercise_mappings:
        nd = len(spec.problem.dims)
        i = len(mapping.levels) - 1
        fx, _fy = spec.arch.fanout_xy(i)
        lm = mapping.levels[i]
        sf = list(lm.spatial_factors)
        sf[lm.spatial_order[0]] = fx + 1
        wide = dataclasses.replace(lm, spatial_factors=tuple(sf), split=nd)
        bad = dataclasses.replace(mapping, levels=(*mapping.levels[:i], wide))
        assert "T2" in {v.constraint_class for v in check_tiling(spec, bad).violations}, files
        cap = spec.arch.storage[0].effective_size
        whole = sum(ds.size(tuple(spec.problem.bounds)) for ds, keep in
                    zip(spec.problem.data_spaces, mapping.levels[0].keep, strict=True) if keep)
        if len(mapping.levels) == 1 or cap is None or whole <= cap:
            continue  # the innermost buffer can hold the whole problem
        checked += 1
        inner = dataclasses.replace(mapping.levels[0], temporal_factors=spec.problem.bounds,
                                    spatial_factors=(1,) * nd)
        rest = tuple(dataclasses.replace(x, temporal_factors=(1,) * nd,
                                         spatial_factors=(1,) * nd)
                     for x in mapping.levels[1:])
        found = check_tiling(spec, dataclasses.replace(mapping, levels=(inner, *rest)))
        assert {v.constraint_class for v in found.violations} == {"T3"}, (files, found)
    assert checked >= 5
