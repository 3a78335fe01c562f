"""``loomc model``: merged inputs in, Timeloop-style files out, one-line errors with exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from refcases import parse_stats, ref_dir  # noqa: E402

from loomc.cli import run  # noqa: E402
from loomc.timeloop.spec import load_mapping, load_spec  # noqa: E402
from loomc.timeloop.yamlio import load_inputs  # noqa: E402


def test_processed_input_plus_tables(corpus: Path, tmp_path: Path, capsys) -> None:
    out = ref_dir(corpus, "03-model-conv1d+oc-3level", "bypass")
    rc = run(["model", str(out / "parsed-processed-input.yaml"),
              str(out / "timeloop-model.ERT.yaml"), str(out / "timeloop-model.ART.yaml"),
              "-o", str(tmp_path)])
    assert rc == 0
    assert "Cycles: 1536" in capsys.readouterr().out
    ours = (tmp_path / "timeloop-model.map.txt").read_text().split("\n")
    ref = (out / "timeloop-model.map.txt").read_text().split("\n")
    assert [x.rstrip() for x in ours] == [x.rstrip() for x in ref]
    stats = parse_stats(tmp_path / "timeloop-model.stats.txt")
    refstats = parse_stats(out / "timeloop-model.stats.txt")
    assert stats.computes == refstats.computes and stats.cycles == refstats.cycles
    assert stats.levels["GlobalBuffer"].data_spaces == refstats.levels["GlobalBuffer"].data_spaces


def test_map_yaml_round_trips(corpus: Path, tmp_path: Path) -> None:
    ex = corpus / "timeloop/exercises/06-mapper-convlayer-eyeriss"
    files = [ex / "arch/eyeriss_like.yaml", ex / "prob/VGG02_layer5.yaml",
             ex / "ref-output/timeloop-mapper.map.yaml"]
    assert run(["model", *map(str, files), "-o", str(tmp_path)]) == 0
    again = load_inputs(files[:2] + [tmp_path / "timeloop-model.map.yaml"])
    spec = load_spec(again)
    first = load_inputs(files)
    assert load_mapping(again, spec) == load_mapping(first, load_spec(first))


def test_errors_are_one_line_with_exit_codes(corpus: Path, tmp_path: Path, capsys) -> None:
    ex = corpus / "timeloop/exercises/01-model-conv1d-2level"
    arch, prob = ex / "arch/2level.arch.yaml", ex / "prob/conv1d.prob.yaml"
    # no mapping at all: bad input (3)
    assert run(["model", str(arch), str(prob), "-o", str(tmp_path)]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[TL_MISSING]" in err[0]
    # a mapping whose factors do not multiply to the bounds: rule violation (1)
    bad = tmp_path / "bad.map.yaml"
    bad.write_text("mapping:\n- target: Buffer\n  type: temporal\n  factors: R=3 P=4\n"
                   "  permutation: RP\n- target: MainMemory\n  type: temporal\n"
                   "  factors: R=1 P=2\n  permutation: RP\n")
    assert run(["model", str(arch), str(prob), str(bad), "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[TL_MAP_FACTORS]" in err[0] and "bad.map.yaml" in err[0]
    assert "dimension P multiply to 8" in err[0]
