"""Loom's mapper test-suite layout, so loomc can be run against it.

Loom's ``tests/mapper`` folders pair DFGs (``*.handshake.mlir``) with ADGs
(``*.fabric.mlir``): every DFG in a folder is mapped onto every ADG in it.  A
``.negative`` file marks a folder whose pairs must fail (its text says why), a
``.xfail`` file a case Loom itself could not map, and a ``stress.cfg``
(``apps: a, b``) names application DFGs from ``apps/`` instead of local files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MapperCase:
    folder: Path
    adg: Path
    dfg: Path
    negative: bool
    xfail: bool
    reason: str

    @property
    def name(self) -> str:
        return f"{self.folder.parent.name}/{self.folder.name}:{self.adg.stem}:{self.dfg.stem}"

    @property
    def expected_code(self) -> str | None:
        """The ``CPL_MAPPER_*`` code a negative case's stated reason calls for."""
        if not self.negative:
            return None
        text = self.reason.lower()
        if "instruction" in text or "slot" in text:
            return "CPL_MAPPER_TEMPORAL_CAPACITY"
        if "insufficient" in text:
            return "CPL_MAPPER_INSUFFICIENT_RESOURCES"
        return "CPL_MAPPER_NO_COMPATIBLE_HW"


def corpus_root() -> Path:
    """``$LOOMC_CORPUS``, default ``../shared/corpus`` beside the project."""
    default = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    return Path(os.environ.get("LOOMC_CORPUS", default))


def mapper_cases(root: Path | None = None) -> Iterator[MapperCase]:
    """Cases of ``mapper/{unit,smoke}``, ``stress/temporal-*`` and
    ``stress/*-noMem-negative``, in a stable order."""
    root = root or corpus_root()
    mapper = root / "loom" / "mapper"
    folders = [p for sub in ("unit", "smoke") for p in (mapper / sub).iterdir() if p.is_dir()]
    folders += [p for p in (mapper / "stress").iterdir() if p.is_dir()
                and (p.name.startswith("temporal-") or p.name.endswith("-noMem-negative"))]
    for folder in sorted(folders):
        marker = folder / ".negative"
        negative = marker.exists() or folder.name.endswith("-negative")
        reason = marker.read_text().strip() if marker.exists() else ""
        dfgs = sorted(folder.glob("*.handshake.mlir"))
        cfg = folder / "stress.cfg"
        if cfg.exists():
            apps = [a.strip() for a in cfg.read_text().split(":", 1)[1].split(",") if a.strip()]
            dfgs = [f for app in apps
                    for f in sorted((root / "loom" / "apps").glob(f"*/{app}.handshake.mlir"))]
            reason = reason or f"the fabric has no memory for {', '.join(apps)}"
        for adg in sorted(folder.glob("*.fabric.mlir")):
            for dfg in dfgs:
                yield MapperCase(folder, adg, dfg, negative, (folder / ".xfail").exists(), reason)
