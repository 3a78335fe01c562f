"""Every Timeloop exercise reference run, evaluated by loomc and compared number by number.

Exact: computes, cycles, and per level / data space the scalar reads, fills,
updates, partition size, utilized capacity and utilized instances.  Energy:
total and per level within 0.1 % (or the 0.005 rounding of a two-decimal
print).  ``map.txt``: equal up to trailing whitespace.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from refcases import RAW_CASES, REF_CASES, number, parse_stats, ref_dir  # noqa: E402

from loomc.timeloop.emit_map import map_text  # noqa: E402
from loomc.timeloop.emit_stats import stats_text  # noqa: E402
from loomc.timeloop.model import ModelResult, evaluate  # noqa: E402
from loomc.timeloop.spec import Spec, load_mapping, load_spec  # noqa: E402
from loomc.timeloop.yamlio import load_inputs  # noqa: E402

EXACT_KEYS = {
    "Scalar reads (per-instance)": "reads",
    "Scalar fills (per-instance)": "fills",
    "Scalar updates (per-instance)": "updates",
    "Temporal reductions (per-instance)": "temporal_reductions",
    "Address generations (per-cluster)": "address_generations",
    "Partition size": "partition_size",
    "Utilized capacity": "utilized_capacity",
    "Utilized instances (max)": "utilized_instances",
    "Utilized clusters (max)": "utilized_clusters",
}


def close(ours: float, ref: float, printed_decimals: int = 2) -> bool:
    return abs(ours - ref) <= max(1e-3 * abs(ref), 0.5 * 10 ** -printed_decimals)


def run_processed(corpus: Path, folder: str, sub: str, prefix: str) -> tuple[Spec, ModelResult]:
    out = ref_dir(corpus, folder, sub)
    files = [out / "parsed-processed-input.yaml", out / f"{prefix}.ERT.yaml",
             out / f"{prefix}.ART.yaml"]
    if prefix == "timeloop-mapper":
        files.append(out / f"{prefix}.map.yaml")  # the mapper's best mapping, fed back
    inputs = load_inputs(files)
    spec = load_spec(inputs)
    return spec, evaluate(spec, load_mapping(inputs, spec))


def assert_matches_reference(spec: Spec, result: ModelResult, ref_stats: Path) -> None:
    ref = parse_stats(ref_stats)
    assert result.computes == ref.computes
    assert result.cycles == ref.cycles
    assert close(result.energy_per_compute, ref.total_fj_per_compute)
    assert close(result.compute.energy * 1000 / result.computes, ref.fj_per_compute[
        result.compute.name])
    shown = {name for name in ref.levels}
    for lv in result.levels:
        if lv.spec.is_dummy:
            assert lv.name not in ref.fj_per_compute
            continue
        assert lv.name in shown, lv.name
        rl = ref.levels[lv.name]
        assert lv.cycles == int(rl.scalars["Cycles"])
        assert close(lv.energy * 1000 / result.computes, ref.fj_per_compute[lv.name])
        assert close(lv.leakage_energy, number(rl.scalars["Leakage energy (total)"]))
        kept = {d.name for d in lv.data_spaces if d.keep}
        assert kept == set(rl.data_spaces), lv.name
        for d in lv.data_spaces:
            if not d.keep:
                continue
            rd = rl.data_spaces[d.name]
            for key, attr in EXACT_KEYS.items():
                assert getattr(d, attr) == int(rd[key]), (lv.name, d.name, key)
            assert close(d.energy, number(rd["Energy (total)"])), (lv.name, d.name)


@pytest.mark.parametrize("case", REF_CASES, ids=[c[0] for c in REF_CASES])
def test_reference_run(corpus: Path, case: tuple[str, str, str, str]) -> None:
    _, folder, sub, prefix = case
    spec, result = run_processed(corpus, folder, sub, prefix)
    out = ref_dir(corpus, folder, sub)
    assert_matches_reference(spec, result, out / f"{prefix}.stats.txt")
    ours = [line.rstrip() for line in map_text(spec, result).rstrip().splitlines()]
    ref = [line.rstrip() for line in (out / f"{prefix}.map.txt").read_text().rstrip()
           .splitlines()]
    assert ours == ref


@pytest.mark.parametrize("case", REF_CASES, ids=[c[0] for c in REF_CASES])
def test_stats_text_numbers(corpus: Path, case: tuple[str, str, str, str]) -> None:
    """Our stats.txt re-parsed gives the reference's per-data-space numbers."""
    _, folder, sub, prefix = case
    spec, result = run_processed(corpus, folder, sub, prefix)
    ours = parse_stats_text(stats_text(spec, result))
    ref = parse_stats(ref_dir(corpus, folder, sub) / f"{prefix}.stats.txt")
    assert ours.computes == ref.computes and ours.cycles == ref.cycles
    assert set(ours.levels) == set(ref.levels)
    for name, rl in ref.levels.items():
        for ds, kv in rl.data_spaces.items():
            for key in EXACT_KEYS:
                assert ours.levels[name].data_spaces[ds][key] == kv[key], (name, ds, key)


def parse_stats_text(text: str):
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write(text)
    try:
        return parse_stats(Path(fh.name))
    finally:
        Path(fh.name).unlink()


@pytest.mark.parametrize("case", RAW_CASES, ids=[c[0] for c in RAW_CASES])
def test_separate_input_files(corpus: Path, case: tuple[str, str, str, str]) -> None:
    """The exercise's own arch / prob / map files (v0.4 front-end path) give the same numbers."""
    _, folder, mapfile, sub = case
    ex = ref_dir(corpus, folder, "").parent
    files = sorted((ex / "arch").rglob("*.yaml")) + sorted((ex / "prob").glob("*.yaml"))
    files.append(ex / mapfile)
    inputs = load_inputs(files)
    out = ref_dir(corpus, folder, sub)
    spec = load_spec(inputs, search_dirs=[out])  # the ERT is found next to the reference
    assert spec.ert_source.startswith("found")
    result = evaluate(spec, load_mapping(inputs, spec))
    prefix = "timeloop-mapper" if (out / "timeloop-mapper.stats.txt").exists() \
        else "timeloop-model"
    assert_matches_reference(spec, result, out / f"{prefix}.stats.txt")
