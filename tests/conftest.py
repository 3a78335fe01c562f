"""Shared test fixtures: where the read-only corpus is.

The corpus is found through ``LOOMC_CORPUS`` (default ``../shared/corpus``
relative to the project root).  In CI it is always present, so a missing corpus
is an error there rather than a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def corpus_root() -> Path:
    """The corpus directory; fails loudly under CI when it is absent."""
    root = Path(os.environ.get("LOOMC_CORPUS", PROJECT_ROOT.parent / "shared" / "corpus"))
    if not root.is_dir():
        if os.environ.get("CI"):
            raise RuntimeError(f"LOOMC_CORPUS={root} is missing; CI must have the corpus")
        pytest.skip(f"corpus not found at {root}")
    return root


@pytest.fixture(scope="session")
def corpus() -> Path:
    return corpus_root()


@pytest.fixture
def disk_full_on_move(monkeypatch):
    """``arm(n)``: the n-th file move of :func:`loomc.files.commit_files` fails with
    "No space left on device" (the moves before it succeed)."""

    def arm(n: int) -> None:
        real = os.replace
        calls = []

        def flaky(src, dst):
            calls.append(dst)
            if len(calls) == n:
                raise OSError(28, "No space left on device")
            real(src, dst)

        monkeypatch.setattr("loomc.files.os.replace", flaky)

    return arm
