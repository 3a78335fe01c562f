"""Write a set of output files all or nothing.

A run that fails while writing must not leave a mix of new and old outputs
(the brief's "nothing half-written on failure"; Loom's spec-mapper-output.md
writes one mapping's files together).  Everything is rendered in memory by the
caller, written into a fresh temporary directory next to the targets, then
moved into place one ``os.replace`` at a time; if any step fails, the files
already moved are removed again and the error names the file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from loomc.diagnostics import ExitCode, LoomcError, SourceLocation


def write_error(path: Path, err: OSError, code: str | None = None) -> LoomcError:
    """The one-line error for an output that cannot be written (exit OUTPUT_ERROR)."""
    reason = err.strerror or str(err)
    return LoomcError(f"cannot write output: {reason}", loc=SourceLocation(str(path)),
                      code=code, exit_code=ExitCode.OUTPUT_ERROR)


def commit_files(files: Mapping[Path, bytes], code: str | None = None) -> list[Path]:
    """Write ``files`` (target path -> bytes, all in one directory); returns the
    targets in the given order.  Raises :class:`LoomcError` leaving no new file."""
    targets = [Path(p) for p in files]
    if not targets:
        return []
    parents = {p.parent for p in targets}
    if len(parents) != 1:
        raise ValueError(f"commit_files writes into one directory, got {sorted(parents)}")
    parent = parents.pop()
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".loomc.", dir=parent))
    except OSError as err:
        raise write_error(parent, err, code) from None
    moved: list[Path] = []
    try:
        staged: list[tuple[Path, Path]] = []
        for target, data in zip(targets, files.values(), strict=True):
            path = tmp / target.name
            try:
                path.write_bytes(data)
            except OSError as err:
                raise write_error(target, err, code) from None
            staged.append((path, target))
        for path, target in staged:
            try:
                os.replace(path, target)
            except OSError as err:
                raise write_error(target, err, code) from None
            moved.append(target)
    except BaseException:
        for path in moved:
            path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return targets
