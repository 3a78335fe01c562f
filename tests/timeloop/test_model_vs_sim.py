"""The closed-form model against a step-by-step re-enactment of Timeloop's nest analysis.

The reference runs cover 13 mappings; these tests cover many random ones
(random factors, orders, X/Y splits, bypass; strided and unit-stride sliding
windows; two nested spatial fan-outs), including mappings where Timeloop uses
inter-PE link transfers.  Every kept level/data space must agree on reads,
fills, updates and partition size.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from timeloop_sim import TimeloopSim  # noqa: E402

from loomc.timeloop.mapping import MappingError, check_mapping  # noqa: E402
from loomc.timeloop.model import Evaluator  # noqa: E402
from loomc.timeloop.randmap import random_mapping  # noqa: E402
from loomc.timeloop.spec import Spec, load_spec  # noqa: E402
from loomc.timeloop.yamlio import inputs_from_dicts, load_yaml_text  # noqa: E402

ARCH = """
architecture:
  version: 0.4
  nodes:
  - !Container {name: S}
  - !Component {name: DRAM, class: DRAM, attributes: {width: 8, datawidth: 8}}
  - !Component {name: L2, class: SRAM, attributes: {depth: 4096, width: 8, datawidth: 8}}
  - !Container {name: PE, spatial: {meshX: 4, meshY: 3}}
  - !Component {name: L1, class: SRAM, attributes: {depth: 256, width: 8, datawidth: 8}}
  - !Container {name: Lane, spatial: {meshX: 2}}
  - !Component {name: L0, class: regfile, attributes: {depth: 32, width: 8, datawidth: 8}}
  - !Component {name: MAC, class: intmac, attributes: {width: 8}}
"""

PROB = """
problem:
  shape:
    name: conv
    dimensions: [C, M, R, S, P, Q]
    coefficients: [{name: Hs, default: 1}]
    data_spaces:
    - {name: Weights, projection: [[[C]], [[M]], [[R]], [[S]]]}
    - {name: Inputs, projection: [[[C]], [[R], [P, Hs]], [[S], [Q]]]}
    - {name: Outputs, projection: [[[M]], [[P]], [[Q]]], read_write: true}
  instance: {C: 4, M: 6, R: 3, S: 2, P: 6, Q: 4, Hs: STRIDE}
"""


def make_spec(stride: int) -> Spec:
    sections = [(load_yaml_text(ARCH, "arch.yaml"), "arch.yaml"),
                (load_yaml_text(PROB.replace("STRIDE", str(stride)), "prob.yaml"), "prob.yaml")]
    return load_spec(inputs_from_dicts(sections))


def compare(spec: Spec, ev: Evaluator, mapping) -> tuple[list, int]:
    result = ev.evaluate(mapping)
    sim = TimeloopSim(spec.problem, spec.arch, mapping)
    ref = sim.run()
    diffs = []
    for li, lv in enumerate(result.levels):
        for j, d in enumerate(lv.data_spaces):
            if not d.keep:
                continue
            for key in ("reads", "fills", "updates", "partition_size"):
                if ref[li][j][key] != getattr(d, key):
                    diffs.append((lv.name, d.name, key, getattr(d, key), ref[li][j][key]))
    links = sum(st.link[j] for st in sim.states for j in range(len(st.link)))
    return diffs, links


@pytest.mark.parametrize("stride", [1, 2])
def test_random_mappings_match_simulation(stride: int) -> None:
    spec = make_spec(stride)
    ev = Evaluator(spec)
    rng = random.Random(1234 + stride)
    checked = with_links = 0
    while checked < 40:
        mp = random_mapping(spec, rng)
        try:
            check_mapping(spec.problem, spec.arch, mp)
        except MappingError:
            continue
        diffs, links = compare(spec, ev, mp)
        assert not diffs, (mp, diffs)
        checked += 1
        with_links += links > 0
    assert checked == 40


def test_link_transfer_case_is_covered() -> None:
    """A systolic mapping where Timeloop forwards data between neighbouring lanes."""
    spec = make_spec(1)
    ev = Evaluator(spec)
    rng = random.Random(7)
    for _ in range(400):
        mp = random_mapping(spec, rng)
        try:
            check_mapping(spec.problem, spec.arch, mp)
        except MappingError:
            continue
        diffs, links = compare(spec, ev, mp)
        assert not diffs
        if links:
            return
    pytest.fail("no mapping with link transfers found; the test lost its purpose")
