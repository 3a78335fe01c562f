"""Invalid inputs and mappings each get their own specific error (code, level, numbers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loomc.diagnostics import ExitCode, LoomcError
from loomc.timeloop.constraints import check_constraints
from loomc.timeloop.mapping import MappingError, check_mapping, make_mapping
from loomc.timeloop.model import evaluate
from loomc.timeloop.spec import load_mapping, load_spec
from loomc.timeloop.yamlio import inputs_from_dicts, load_yaml_text

ARCH = """
architecture:
  version: 0.4
  nodes:
  - !Container
    name: System
    attributes: {technology: "40nm", global_cycle_seconds: 1e-9}
  - !Component
    name: MainMemory
    class: DRAM
    attributes: {width: 64, datawidth: 8}
  - !Component
    name: GlobalBuffer
    class: SRAM
    attributes: {depth: 128, width: 8, datawidth: 8}
  - !Container
    name: PE
    spatial: {meshX: 4, meshY: 2}
  - !Component
    name: RegisterFile
    class: regfile
    attributes: {depth: 16, width: 8, datawidth: 8}
  - !Component
    name: MACC
    class: intmac
    attributes: {width: 8}
"""

PROB = """
problem:
  version: 0.4
  shape:
    name: Conv1D_OC
    dimensions: [K, R, P]
    data-spaces:
    - name: Weights
      projection: [[[K]], [[R]]]
    - name: Inputs
      projection: [[[R], [P]]]
    - name: Outputs
      projection: [[[K]], [[P]]]
      read-write: true
  instance: {K: 8, R: 3, P: 16}
"""


def spec_and_inputs(mapping_yaml: str, arch: str = ARCH, prob: str = PROB):
    sections = [(load_yaml_text(arch, "arch.yaml"), "arch.yaml"),
                (load_yaml_text(prob, "prob.yaml"), "prob.yaml"),
                (load_yaml_text(mapping_yaml, "map.yaml"), "map.yaml")]
    inputs = inputs_from_dicts(sections)
    spec = load_spec(inputs)
    return spec, inputs


GOOD = """
mapping:
- target: MainMemory
  type: temporal
  factors: K=1 R=1 P=2
  permutation: PKR
- target: GlobalBuffer
  type: temporal
  factors: K=1 R=1 P=2
  permutation: PKR
- target: PE
  type: spatial
  factors: K=4 R=1 P=2
  permutation: KPR
  split: 1
- target: RegisterFile
  type: temporal
  factors: K=2 R=3 P=2
  permutation: RKP
"""


def mapping_of(text: str):
    spec, inputs = spec_and_inputs(text)
    return spec, load_mapping(inputs, spec)


def test_good_mapping_evaluates() -> None:
    spec, mp = mapping_of(GOOD)
    check_mapping(spec.problem, spec.arch, mp)
    r = evaluate(spec, mp)
    assert r.computes == 8 * 3 * 16
    assert r.compute.utilized_instances == 8
    assert r.cycles == r.computes // 8
    # the dummy level from the v0.4 container keeps nothing and costs nothing
    dummy = r.level("inter_PE_spatial")
    assert dummy.spec.is_dummy and not any(d.keep for d in dummy.data_spaces)


def test_wrong_factor_product() -> None:
    spec, mp = mapping_of(GOOD.replace("factors: K=2 R=3 P=2", "factors: K=2 R=2 P=2"))
    with pytest.raises(MappingError) as err:
        check_mapping(spec.problem, spec.arch, mp)
    e = err.value
    assert e.code == "TL_MAP_FACTORS" and e.exit_code == ExitCode.RULE_VIOLATION
    assert "dimension R multiply to 2" in e.message and "bound is 3" in e.message


def test_over_capacity() -> None:
    # RegisterFile with 8 words; K2 R3 P2 needs Weights 6 + Inputs 4 + Outputs 4 = 14
    small = ARCH.replace("{depth: 16, width: 8, datawidth: 8}",
                         "{depth: 8, width: 8, datawidth: 8}")
    spec, inputs = spec_and_inputs(GOOD, arch=small)
    mp = load_mapping(inputs, spec)
    with pytest.raises(MappingError) as err:
        check_mapping(spec.problem, spec.arch, mp)
    assert err.value.code == "TL_MAP_CAPACITY"
    assert "'RegisterFile'" in err.value.message and "need 14 words" in err.value.message
    assert "capacity is 8" in err.value.message


def test_multiple_buffering_halves_capacity() -> None:
    # GlobalBuffer tile K8 R3 P8: Weights 24 + Inputs 10 + Outputs 64 = 98 > 128 / 2
    arch = ARCH.replace("{depth: 128, width: 8, datawidth: 8}",
                        "{depth: 128, width: 8, datawidth: 8, multiple_buffering: 2}")
    spec, inputs = spec_and_inputs(GOOD, arch=arch)
    mp = load_mapping(inputs, spec)
    with pytest.raises(MappingError) as err:
        check_mapping(spec.problem, spec.arch, mp)
    assert err.value.code == "TL_MAP_CAPACITY" and "need 98 words" in err.value.message
    assert "capacity is 64 (size 128 / multiple buffering 2)" in err.value.message


def test_over_fanout() -> None:
    spec, mp = mapping_of(GOOD.replace("factors: K=4 R=1 P=2\n  permutation: KPR\n  split: 1",
                                       "factors: K=4 R=1 P=2\n  permutation: KPR\n  split: 2"))
    with pytest.raises(MappingError) as err:
        check_mapping(spec.problem, spec.arch, mp)
    assert err.value.code == "TL_MAP_FANOUT"
    assert "use 8 along X" in err.value.message and "fanout along X is 4" in err.value.message


def test_unknown_level() -> None:
    spec, inputs = spec_and_inputs(GOOD.replace("target: GlobalBuffer", "target: L2Buffer"))
    with pytest.raises(MappingError) as err:
        load_mapping(inputs, spec)
    assert err.value.code == "TL_MAP_LEVEL" and "unknown level 'L2Buffer'" in err.value.message
    assert "map.yaml" in err.value.one_line()


def test_unknown_dimension_and_split() -> None:
    spec, inputs = spec_and_inputs(GOOD.replace("factors: K=1 R=1 P=2\n  permutation: PKR\n"
                                                "- target: PE", "factors: K=1 X=1 P=2\n"
                                                "  permutation: PKR\n- target: PE"))
    with pytest.raises(MappingError) as err:
        load_mapping(inputs, spec)
    assert err.value.code == "TL_MAP_DIM" and "'X'" in err.value.message
    spec, inputs = spec_and_inputs(GOOD.replace("split: 1", "split: 9"))
    with pytest.raises(MappingError) as err:
        load_mapping(inputs, spec)
    assert err.value.code == "TL_MAP_SPLIT"


def test_backing_store_must_keep_everything() -> None:
    spec, inputs = spec_and_inputs(GOOD + "- target: MainMemory\n  type: bypass\n"
                                   "  bypass: [Inputs]\n")
    with pytest.raises(MappingError) as err:
        load_mapping(inputs, spec)
    assert err.value.code == "TL_MAP_BYPASS"


def test_unknown_key_names_file_and_path() -> None:
    bad = ARCH.replace("attributes: {depth: 128, width: 8, datawidth: 8}",
                       "attributes: {depth: 128, width: 8, datawidth: 8}\n    colour: red")
    with pytest.raises(LoomcError) as err:
        spec_and_inputs(GOOD, arch=bad)
    line = err.value.one_line()
    assert line.startswith("arch.yaml: error: [TL_SPEC] architecture.nodes[2].colour")


def test_bad_value_is_located() -> None:
    bad = PROB.replace("P: 16}", "P: sixteen}")
    with pytest.raises(LoomcError) as err:
        spec_and_inputs(GOOD, prob=bad)
    assert err.value.code == "TL_VALUE" and "problem.instance.P" in err.value.message


def test_sparse_is_refused() -> None:
    sparse = ARCH.replace("    attributes: {depth: 16, width: 8, datawidth: 8}",
                          "    attributes: {depth: 16, width: 8, datawidth: 8}\n"
                          "    sparse_optimizations: {targets: []}")
    with pytest.raises(LoomcError) as err:
        spec_and_inputs(GOOD, arch=sparse)
    assert err.value.code == "TL_SPARSE" and "dense" in err.value.message
    dens = PROB.replace("instance: {K: 8, R: 3, P: 16}",
                        "instance: {K: 8, R: 3, P: 16, densities: {Weights: 0.5}}")
    with pytest.raises(LoomcError) as err:
        spec_and_inputs(GOOD, prob=dens)
    assert err.value.code == "TL_SPARSE"


def test_constraint_violation_reported() -> None:
    arch = ARCH.replace("    attributes: {depth: 16, width: 8, datawidth: 8}",
                        "    attributes: {depth: 16, width: 8, datawidth: 8}\n"
                        "    constraints:\n      temporal: {factors: [R=1], permutation: [K]}")
    spec, inputs = spec_and_inputs(GOOD, arch=arch)
    mp = load_mapping(inputs, spec)
    with pytest.raises(MappingError) as err:
        check_constraints(spec, mp)
    assert err.value.code == "TL_MAP_CONSTRAINT"
    assert "factor of R is 3, constraint requires 1" in err.value.message
    assert "breaks permutation constraint K" in err.value.message


def test_make_mapping_matches_yaml() -> None:
    spec, mp = mapping_of(GOOD)
    built = make_mapping(
        spec.problem, spec.arch,
        temporal=[{"K": 2, "R": 3, "P": 2}, {}, {"P": 2}, {"P": 2}],
        permutation=[["R", "K", "P"], None, ["P", "K", "R"], ["P", "K", "R"]],
        spatial=[{}, {"K": 4, "P": 2}, {}, {}],
        spatial_permutation=[None, ["K", "P", "R"], None, None],
        split=[None, 1, None, None],
    )
    assert evaluate(spec, built) == evaluate(spec, mp)


def _line_of(text: str, marker: str) -> int:
    """1-based line of the first line of ``text`` containing ``marker``."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if marker in line)


def _load_files(tmp_path, arch: str = ARCH, prob: str = PROB, mapping: str = GOOD):
    from loomc.timeloop.yamlio import load_inputs

    paths = []
    for name, text in (("arch.yaml", arch), ("prob.yaml", prob), ("map.yaml", mapping)):
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    inputs = load_inputs(paths)
    return load_spec(inputs), inputs


@pytest.mark.parametrize(("which", "old", "new", "marker", "code"), [
    ("map", "target: GlobalBuffer", "target: L2Buffer", "L2Buffer", "TL_MAP_LEVEL"),
    ("map", "factors: K=4 R=1 P=2", "factors: K=4 Z=1 P=2", "Z=1", "TL_MAP_DIM"),
    ("map", "split: 1", "split: 9", "split: 9", "TL_MAP_SPLIT"),
    ("prob", "P: 16}", "P: sixteen}", "sixteen", "TL_VALUE"),
    ("arch", "attributes: {depth: 128, width: 8, datawidth: 8}",
     "attributes: {depth: 128, width: 8, datawidth: 8}\n    colour: red", "colour", "TL_SPEC"),
    ("prob", "  instance:", "  shape_typo: 1\n  instance:", "shape_typo", "TL_SPEC"),
])
def test_errors_from_files_name_file_and_line(tmp_path, which, old, new, marker, code) -> None:
    texts = {"arch": ARCH, "prob": PROB, "map": GOOD}
    assert old in texts[which]
    texts[which] = texts[which].replace(old, new, 1)
    with pytest.raises(LoomcError) as err:
        spec, inputs = _load_files(tmp_path, texts["arch"], texts["prob"], texts["map"])
        load_mapping(inputs, spec)
    assert err.value.code == code
    loc = err.value.loc
    assert Path(loc.file).name == f"{which}.yaml"
    assert loc.line == _line_of(texts[which], marker), err.value.one_line()
    assert err.value.one_line().startswith(f"{loc.file}:{loc.line}:")
