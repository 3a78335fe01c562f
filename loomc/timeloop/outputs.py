"""The files ``loomc model`` and ``loomc tile`` write, rendered in memory and
written all or nothing (:func:`loomc.files.commit_files`).

``model``: ``<prefix>.stats.txt``, ``.map.txt`` and ``.map.yaml`` — what
``timeloop-model`` writes, plus the mapping it evaluated.  ``tile``: the same
three for the best mapping, ``.solver.json`` (the search record, no wall-clock
figures so reproducible runs give identical bytes) and ``.log`` when the
mapper's ``log-*``/``diagnostics`` settings produced lines.  A run that found
no mapping writes its record and removes the mapping files of an earlier run
under the same prefix, so nothing in the directory describes a mapping this
run did not find.
"""

from __future__ import annotations

import json
from pathlib import Path

from loomc.files import commit_files, write_error
from loomc.timeloop.emit_map import map_text, map_yaml
from loomc.timeloop.emit_stats import stats_text
from loomc.timeloop.mapper import MapperResult
from loomc.timeloop.mapping import Mapping
from loomc.timeloop.model import ModelResult
from loomc.timeloop.spec import Spec

#: suffixes of the files that describe one evaluated mapping
MAPPING_SUFFIXES = (".stats.txt", ".map.txt", ".map.yaml")

IO_CODE = "TL_IO"


def model_files(spec: Spec, mapping: Mapping, result: ModelResult, out: Path,
                prefix: str) -> dict[Path, bytes]:
    """The three files of one evaluated mapping (path -> bytes)."""
    texts = (stats_text(spec, result), map_text(spec, result), map_yaml(spec, mapping))
    return {out / f"{prefix}{s}": t.encode() for s, t in zip(MAPPING_SUFFIXES, texts,
                                                               strict=True)}


def mapper_files(spec: Spec, res: MapperResult, out: Path, prefix: str) -> dict[Path, bytes]:
    """Everything a mapper run writes (path -> bytes)."""
    files: dict[Path, bytes] = {}
    if res.mapping is not None and res.result is not None:
        files.update(model_files(spec, res.mapping, res.result, out, prefix))
    record = json.dumps(res.record(), indent=2) + "\n"
    files[out / f"{prefix}.solver.json"] = record.encode()
    if res.log:
        files[out / f"{prefix}.log"] = ("\n".join(res.log) + "\n").encode()
    return files


def write_model(spec: Spec, mapping: Mapping, result: ModelResult, out: Path,
                prefix: str) -> list[Path]:
    """Write :func:`model_files`; returns the paths written."""
    return commit_files(model_files(spec, mapping, result, Path(out), prefix), IO_CODE)


def write_mapper(spec: Spec, res: MapperResult, out: Path, prefix: str) -> list[Path]:
    """Write :func:`mapper_files`, then remove stale mapping files and log of this prefix."""
    out = Path(out)
    files = mapper_files(spec, res, out, prefix)
    written = commit_files(files, IO_CODE)
    for suffix in (*MAPPING_SUFFIXES, ".log"):
        stale = out / f"{prefix}{suffix}"
        if stale not in files:
            try:
                stale.unlink(missing_ok=True)
            except OSError as err:
                raise write_error(stale, err, IO_CODE) from None
    return written
