"""Input formats: v0.3 subtree architectures, mapper knobs and spellings, bandwidth throttling."""

from __future__ import annotations

import math

import pytest

from loomc.diagnostics import LoomcError
from loomc.timeloop.mapping import make_mapping
from loomc.timeloop.model import evaluate
from loomc.timeloop.spec import load_mapping, load_spec
from loomc.timeloop.yamlio import inputs_from_dicts, load_yaml_text

V03_ARCH = """
architecture:
  version: 0.3
  subtree:
  - name: System
    attributes: {technology: 40nm}
    local:
    - name: DRAM
      class: DRAM
      attributes: {width: 64, word-bits: 8}
    subtree:
    - name: PE[0..7]
      local:
      - name: Buffer
        class: regfile
        attributes: {depth: 64, width: 16, word-bits: 8, read_bandwidth: 1}
      - name: MAC
        class: intmac
        attributes: {datawidth: 8}
"""

PROB = """
problem:
  shape:
    name: conv1d
    dimensions: [R, P]
    data-spaces:
    - {name: Weights, projection: [[[R]]]}
    - {name: Inputs, projection: [[[R], [P]]]}
    - {name: Outputs, projection: [[[P]]], read-write: true}
  instance: {R: 3, P: 32}
"""

ERT = """
ERT:
  version: 0.3
  tables:
  - name: System.DRAM
    actions:
    - {name: read, energy: 100.0}
    - {name: write, energy: 100.0}
  - name: System.PE[0..7].Buffer
    actions:
    - {name: read, energy: 1.0}
    - {name: write, energy: 2.0}
    - {name: leak, energy: 0.01}
  - name: System.PE[0..7].MAC
    actions:
    - {name: compute, energy: 0.5}
"""


def spec_of(*texts: str):
    return load_spec(inputs_from_dicts([(load_yaml_text(t, f"f{i}.yaml"), f"f{i}.yaml")
                                        for i, t in enumerate(texts)]))


def test_v03_subtree_instances_and_hyphens() -> None:
    spec = spec_of(V03_ARCH, PROB, ERT)
    buf, dram = spec.arch.storage
    assert (buf.name, buf.instances, buf.mesh_x, buf.mesh_y) == ("Buffer", 8, 8, 1)
    assert (buf.word_bits, buf.block_size, buf.size) == (8, 2, 128)
    assert spec.arch.fanout(1) == 8 and spec.arch.arithmetic.instances == 8
    assert dram.technology == "DRAM" and dram.size is None
    assert spec.ert["Buffer"].fill == 2.0 and spec.ert["MAC"].compute == 0.5


def test_bandwidth_throttling_slows_the_run() -> None:
    spec = spec_of(V03_ARCH, PROB, ERT)
    mp = make_mapping(spec.problem, spec.arch,
                      temporal=[{"R": 3, "P": 4}, {}],
                      permutation=[["R", "P"], None],
                      spatial=[{}, {"P": 8}])
    r = evaluate(spec, mp)
    assert r.computes == 96 and r.compute.cycles == 12
    buf = r.level("Buffer")
    reads = sum(d.reads for d in buf.data_spaces if d.keep)
    # one read per cycle allowed: the buffer (and so the run) slows down
    assert buf.slowdown == pytest.approx(1 / (reads / 12))
    assert r.cycles == math.ceil(12 / buf.slowdown) > 12
    leak = spec.ert["Buffer"].leak * r.cycles * 8
    assert buf.leakage_energy == pytest.approx(leak)


def test_mapper_knobs_accept_both_spellings() -> None:
    spec = spec_of(V03_ARCH, PROB, """
mapper:
  version: 0.4
  optimization-metrics: [delay, energy]
  algorithm: random-pruned
  victory_condition: 500
  max-permutations-per-if-visit: 4
  live_status: false
""")
    m = spec.mapper
    assert m.optimization_metrics == ("delay", "energy")
    assert (m.algorithm, m.victory_condition, m.max_permutations_per_if_visit) == (
        "random_pruned", 500, 4)
    assert ("live_status", False) in m.flags


def test_unknown_mapper_knob_and_metric() -> None:
    with pytest.raises(LoomcError) as err:
        spec_of(V03_ARCH, PROB, "mapper: {victory-condtion: 5}\n")
    assert "mapper.victory_condtion" in err.value.message
    with pytest.raises(LoomcError) as err:
        spec_of(V03_ARCH, PROB, "mapper: {optimization_metrics: [speed]}\n")
    assert "unknown optimization metric 'speed'" in err.value.message


def test_later_file_wins_for_a_repeated_section() -> None:
    inputs = inputs_from_dicts([(load_yaml_text(V03_ARCH, "a.yaml"), "a.yaml"),
                                (load_yaml_text(PROB, "p.yaml"), "p.yaml"),
                                (load_yaml_text(PROB.replace("P: 32", "P: 16"), "q.yaml"),
                                 "q.yaml")])
    spec = load_spec(inputs)
    assert spec.problem.bound("P") == 16 and inputs.where("problem") == "q.yaml"
    with pytest.raises(LoomcError):
        load_mapping(inputs, spec)  # no mapping section
