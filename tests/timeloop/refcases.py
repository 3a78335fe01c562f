"""The Timeloop exercise reference runs and a parser for their ``stats.txt``.

Each case names a ``ref-output`` folder; the reference numbers are read from
the files in it at test time (never copied into the project).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

EXERCISES = "timeloop/exercises"

#: (case id, exercise folder, ref-output subfolder, Timeloop program prefix)
REF_CASES = [
    ("00", "00-model-conv1d-1level", "", "timeloop-model"),
    ("01-os", "01-model-conv1d-2level", "os", "timeloop-model"),
    ("01-ws", "01-model-conv1d-2level", "ws", "timeloop-model"),
    ("02-no-tiling", "02-model-conv1d+oc-2level", "no-tiling", "timeloop-model"),
    ("02-tiling", "02-model-conv1d+oc-2level", "tiling", "timeloop-model"),
    ("03-bypass", "03-model-conv1d+oc-3level", "bypass", "timeloop-model"),
    ("03-no-bypass", "03-model-conv1d+oc-3level", "no-bypass", "timeloop-model"),
    ("04-cp", "04-model-conv1d+oc-3levelspatial", "cp", "timeloop-model"),
    ("04-kp", "04-model-conv1d+oc-3levelspatial", "kp", "timeloop-model"),
    ("05-baked", "05-mapper-conv1d+oc-3level", "baked", "timeloop-mapper"),
    ("05-freebypass", "05-mapper-conv1d+oc-3level", "freebypass", "timeloop-mapper"),
    ("05-null", "05-mapper-conv1d+oc-3level", "null", "timeloop-mapper"),
    ("06", "06-mapper-convlayer-eyeriss", "", "timeloop-mapper"),
]

#: runs whose inputs can also be given as the exercise's own arch / prob / map files:
#: (case id, exercise folder, mapping file relative to the exercise, ref-output subfolder)
RAW_CASES = [
    ("00", "00-model-conv1d-1level", "map/conv1d-1level.map.yaml", ""),
    ("01-os", "01-model-conv1d-2level", "map/conv1d-2level-os.map.yaml", "os"),
    ("01-ws", "01-model-conv1d-2level", "map/conv1d-2level-ws.map.yaml", "ws"),
    ("02-no-tiling", "02-model-conv1d+oc-2level", "map/conv1d+oc-2level-os.map.yaml",
     "no-tiling"),
    ("02-tiling", "02-model-conv1d+oc-2level", "map/conv1d+oc-2level-os-tiled.map.yaml",
     "tiling"),
    ("03-no-bypass", "03-model-conv1d+oc-3level", "map/conv1d+oc-3level.map.yaml", "no-bypass"),
    ("03-bypass", "03-model-conv1d+oc-3level", "map/conv1d+oc-3level-bypass.map.yaml",
     "bypass"),
    ("06", "06-mapper-convlayer-eyeriss", "ref-output/timeloop-mapper.map.yaml", ""),
]


def ref_dir(corpus: Path, folder: str, sub: str) -> Path:
    d = corpus / EXERCISES / folder / "ref-output"
    return d / sub if sub else d


@dataclass
class RefLevel:
    name: str
    scalars: dict[str, str] = field(default_factory=dict)
    data_spaces: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class RefStats:
    levels: dict[str, RefLevel]
    computes: int
    cycles: int
    total_fj_per_compute: float
    fj_per_compute: dict[str, float]
    text: str


def parse_stats(path: Path) -> RefStats:
    """Parse Timeloop's ``stats.txt`` into levels → data spaces → ``key: value``."""
    text = path.read_text()
    body, _, summary = text.partition("\nNetworks\n")
    levels: dict[str, RefLevel] = {}
    cur: RefLevel | None = None
    ds: str | None = None
    for line in body.splitlines():
        m = re.match(r"^=== (\S+) ===$", line)
        if m:
            cur = levels.setdefault(m.group(1), RefLevel(m.group(1)))
            ds = None
            continue
        if cur is None:
            continue
        m = re.match(r"^    (\w+):$", line)
        if m:
            ds = m.group(1)
            cur.data_spaces[ds] = {}
            continue
        m = re.match(r"^\s+(\S.*?)\s*: (.+)$", line)
        if m:
            (cur.data_spaces[ds] if ds else cur.scalars)[m.group(1)] = m.group(2).strip()
    computes = int(re.search(r"^Computes = (\d+)$", summary, re.M).group(1))
    cycles = int(re.search(r"^Cycles: (\d+)$", summary, re.M).group(1))
    fj: dict[str, float] = {}
    for m in re.finditer(r"^    (\S+)\s+= ([\d.]+)$", summary.split("fJ/Compute", 1)[1], re.M):
        fj[m.group(1)] = float(m.group(2))
    return RefStats(levels, computes, cycles, fj.pop("Total"), fj, text)


def number(text: str) -> float:
    """The leading number of a stats value such as ``20.43 pJ``."""
    return float(text.split()[0])
