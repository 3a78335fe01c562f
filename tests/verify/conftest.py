"""Valid mappings of corpus pairs, made once per session with small budgets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

from loomc.graph.load import adg_from_parsed, dfgs_from_file
from loomc.mapper.pipeline import MapperOptions, map_dfg
from loomc.mlir_io import ParsedModule, parse_mlir_file
from loomc.verify.config_check import expected_image
from loomc.verify.mapfile import MapDoc, doc_from_mapping

BUDGET = 2.0

#: pairs covering plain PEs, fan-out, multi-op groups, memory, tags, temporal PEs
MUTATION_PAIRS = {
    "addi": ("unit/addi/addi.fabric.mlir", "unit/addi/single-addi.handshake.mlir"),
    "cond_br": ("unit/cond_br/cond_br.fabric.mlir", "unit/cond_br/single-cond_br.handshake.mlir"),
    "techmap": ("smoke/simple-techmap/simple-techmap.fabric.mlir",
                "smoke/simple-techmap/add-mul-double.handshake.mlir"),
    "diamond": ("smoke/compose-diamond/diamond.fabric.mlir",
                "smoke/compose-diamond/diamond.handshake.mlir"),
    "mem_store": ("unit/memory-store-onchip/mem-store-onchip.fabric.mlir",
                  "unit/memory-store-onchip/mem-store-onchip.handshake.mlir"),
    "mem_load": ("unit/memory-load/mem-load.fabric.mlir",
                 "unit/memory-load/mem-load.handshake.mlir"),
    "tagged": ("unit/tagged-pe-output-tag/tagged-addi.fabric.mlir",
               "unit/tagged-pe-output-tag/single-addi.handshake.mlir"),
    "temporal": ("smoke/temporal-single-slot/temporal-single-slot.fabric.mlir",
                 "smoke/temporal-single-slot/single-addi.handshake.mlir"),
    "temporal_mac": ("smoke/temporal-techmap-multislot/temporal-techmap.fabric.mlir",
                     "smoke/temporal-techmap-multislot/mac-pattern.handshake.mlir"),
}


@dataclass(frozen=True)
class Case:
    name: str
    doc: MapDoc
    dfg: nx.MultiDiGraph
    adg: nx.MultiDiGraph
    fabric: ParsedModule
    config: bytes


def mapper_root(corpus: Path) -> Path:
    return corpus / "loom" / "mapper"


def map_pair(corpus: Path, fabric_rel: str, dfg_rel: str, name: str = "") -> Case:
    base = mapper_root(corpus)
    fabric = parse_mlir_file(base / fabric_rel)
    adg = adg_from_parsed(fabric)
    dfg = dfgs_from_file(base / dfg_rel)[0]
    mapping = map_dfg(dfg, adg, MapperOptions(budget=BUDGET, seed=0))
    assert mapping.status == "success", (fabric_rel, dfg_rel, mapping.diagnostics)
    doc = doc_from_mapping(mapping)
    image, err = expected_image(doc, dfg, adg)
    assert err is None, err
    return Case(name or dfg_rel, doc, dfg, adg, fabric, image.to_bytes())


@pytest.fixture(scope="session")
def mutation_cases(corpus) -> dict[str, Case]:
    return {name: map_pair(corpus, *pair, name=name) for name, pair in MUTATION_PAIRS.items()}
