"""Sparse slot tables shared by ``temporal_sw.route_table`` and
``temporal_pe.instruction_mem``.

Both tables are lists of strings: either hex words (``"0x1f"``) or human-readable
slots (``"inst[2]: ..."``, ``"route_table[1]: invalid"``).  The rules are the
same for both (spec-fabric-temporal_sw.md "Sparse Format Rules",
spec-fabric-temporal_pe.md "Sparse Format Rules"): one format per table, slot
indices strictly ascending, and once an explicit ``invalid`` slot appears no
index may be skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SLOT_INDEX = re.compile(r"\[(\d+)\]")


def is_hex_entry(entry: str) -> bool:
    return entry.startswith(("0x", "0X"))


def slot_index(entry: str) -> int | None:
    """The ``N`` of a human-readable ``name[N]: ...`` slot."""
    m = _SLOT_INDEX.search(entry)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class SparseProblem:
    """Which sparse rule failed (``mixed``, ``order`` or ``hole``) and why."""

    kind: str
    detail: str


def check_sparse(entries: list[str], table: str) -> SparseProblem | None:
    """The first sparse-format rule ``entries`` break, or ``None``."""
    has_hex = any(is_hex_entry(e) for e in entries)
    human = [e for e in entries if not is_hex_entry(e)]
    if has_hex and human:
        return SparseProblem("mixed", f"{table} mixes human-readable and hex entries")
    indices = [i for i in (slot_index(e) for e in human) if i is not None]
    for prev, cur in zip(indices, indices[1:], strict=False):
        if cur <= prev:
            return SparseProblem(
                "order", f"{table} slot indices must be strictly ascending; {prev} then {cur}"
            )
    if any("invalid" in e for e in human):
        for prev, cur in zip(indices, indices[1:], strict=False):
            if cur != prev + 1:
                return SparseProblem(
                    "hole",
                    f"{table} skips slots between {prev} and {cur}; with explicit "
                    "'invalid' entries every empty slot must be written out",
                )
    return None
