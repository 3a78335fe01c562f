"""The bundled macros and DNN layers: they parse, evaluate, map, and round-trip by name."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from loomc.timeloop.api import (
    LIBRARY,
    bundled_layers,
    bundled_macros,
    layer_file,
    layer_spec,
    run_layer,
    run_layer_with_mapping,
    save_best_mapping,
)
from loomc.timeloop.constraints import constraint_violations
from loomc.timeloop.emit_stats import stats_text
from loomc.timeloop.mapping import check_mapping, make_mapping
from loomc.timeloop.model import Evaluator
from loomc.timeloop.spec import Spec

MACROS = ("eyeriss_like", "simba_like", "simple_os", "simple_ws")


def _make_layers_module():
    path = LIBRARY / "make_layers.py"
    mod_spec = importlib.util.spec_from_file_location("loomc_make_layers", path)
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    return mod


def test_bundled_files_are_the_generators_output():
    expected = _make_layers_module().expected_files()
    on_disk = {p.relative_to(LIBRARY).as_posix(): p.read_text()
               for p in LIBRARY.glob("dnn/*/layers/*.yaml")}
    assert on_disk == expected
    assert bundled_macros() == sorted(MACROS)
    nets = {n.split("/")[1] for n in bundled_layers()}
    assert nets == {"resnet50", "vgg16", "alexnet", "mobilenetv2"}
    resnet = [n.rsplit("/", 1)[1] for n in bundled_layers("resnet50")]
    assert len(resnet) == 22 and "conv1" in resnet and "res5b_branch2a" in resnet


def _trivial_mapping(spec: Spec):
    """Every loop at the backing store; residency as the macro's bypass constraints say."""
    prob, arch = spec.problem, spec.arch
    n = len(arch.storage)
    keep: list[list[str]] = [[] for _ in range(n)]
    keep[-1] = [ds.name for ds in prob.data_spaces]
    for c in spec.constraints:
        if c.kind == "bypass":
            li = next(i for i, lv in enumerate(arch.storage)
                      if lv.name in (c.target, f"inter_{c.target}_spatial"))
            keep[li] = [ds.name for ds in prob.data_spaces
                        if ds.name in c.keep or "*" in c.keep]
    temporal = [{} for _ in range(n)]
    temporal[-1] = dict(zip(prob.dims, prob.bounds, strict=True))
    return make_mapping(prob, arch, temporal, keep=keep)


@pytest.mark.parametrize("macro", MACROS)
def test_every_layer_evaluates_on_every_macro(macro):
    """Each bundled layer parses on each macro, and a constraint-abiding mapping evaluates.

    The mapping is the all-loops-in-DRAM one (every layer fits every macro that way);
    its cycles equal the layer's MAC count on one MAC, and weights and inputs are read
    from the backing store.
    """
    for name in bundled_layers():
        spec, _, _ = layer_spec(macro, name).parsed()
        b = dict(zip(spec.problem.dims, spec.problem.bounds, strict=True))
        mapping = _trivial_mapping(spec)
        check_mapping(spec.problem, spec.arch, mapping)
        assert constraint_violations(spec, mapping) == [], (macro, name)
        res = Evaluator(spec).evaluate(mapping)
        macs = b["C"] * b["M"] * b["R"] * b["S"] * b["N"] * b["P"] * b["Q"]
        assert res.computes == res.cycles == macs, (macro, name)
        assert res.energy > 0 and spec.ert_source == "inputs"
        top = res.levels[-1]
        assert top.ds("Weights").reads > 0 and top.ds("Inputs").reads > 0, (macro, name)


@pytest.mark.parametrize("macro,layer", [
    ("eyeriss_like", "dnn/resnet50/layers/res5a_branch2b"),
    ("simba_like", "dnn/mobilenetv2/layers/b4_project"),
    ("simple_ws", "dnn/alexnet/layers/conv3"),
    ("simple_os", "dnn/vgg16/layers/conv5_1"),
])
def test_run_layer_by_name_and_round_trip(macro, layer, tmp_path):
    run = run_layer(macro, layer, metrics=("edp",), time_limit=2.0)
    res = run.result
    assert res.status in ("OPTIMAL", "FEASIBLE") and res.mapping is not None
    assert constraint_violations(run.spec, res.mapping) == []
    # the mapper beats the all-in-DRAM mapping by a wide margin (parallelism, reuse)
    trivial = Evaluator(run.spec).evaluate(_trivial_mapping(run.spec))
    assert res.values[0] < trivial.energy * trivial.cycles / 10
    assert res.result.utilization > 0.2
    path = save_best_mapping(run, tmp_path / "best.map.yaml")
    again = run_layer_with_mapping(macro, layer, path)
    assert stats_text(run.spec, again) == run.stats
    assert (again.cycles, again.energy) == (res.result.cycles, res.result.energy)


def test_names_and_paths_are_equivalent(tmp_path):
    by_path = layer_spec(LIBRARY / "macros" / "simple_ws",
                         LIBRARY / "dnn" / "vgg16" / "layers" / "fc8.yaml").parsed()[0]
    by_name = layer_spec("simple_ws", "dnn/vgg16/layers/fc8").parsed()[0]
    assert by_name.problem == by_path.problem and by_name.arch == by_path.arch
    assert layer_file("vgg16/layers/fc8.yaml") == layer_file("dnn/vgg16/layers/fc8")
    with pytest.raises(FileNotFoundError, match="bundled macro"):
        layer_spec("no_such_macro", "dnn/vgg16/layers/fc8")
    with pytest.raises(FileNotFoundError, match="bundled layer"):
        layer_spec("simple_ws", "dnn/vgg16/layers/conv9_9")


def test_example_mapping_sample_is_valid_for_its_layer():
    sample = Path(__file__).resolve().parents[2] / "samples" / "example_mapping.yaml"
    layer = "dnn/resnet50/layers/res3a_branch2b"
    res = run_layer_with_mapping("eyeriss_like", layer, sample)
    spec = layer_spec("eyeriss_like", layer)
    assert res.utilization == 1.0  # 12 x 14 PEs all busy, as the file's comment says
    assert res.cycles == 128 * 128 * 9 * 28 * 28 // 168
    from loomc.timeloop.spec import load_mapping
    from loomc.timeloop.yamlio import load_inputs
    parsed = spec.parsed()[0]
    mapping = load_mapping(load_inputs([sample]), parsed)
    assert constraint_violations(parsed, mapping) == []
