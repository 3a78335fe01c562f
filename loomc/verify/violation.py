"""The one result record of every check: a broken rule, named by class.

Constraint classes are those of spec-mapper-model.md "Constraint Classes"
(``C1`` … ``C6``) for place-and-route mappings, and ``T1`` … for tiling
mappings (see :mod:`loomc.verify.tiling_check`).  Each violation names the
software object (DFG node/port/edge id, or tiling level/dimension) and the
hardware object (ADG node/port id, or storage level) it concerns, so a reader
can find both without re-running anything.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Violation:
    """One broken hard rule."""

    constraint_class: str
    sw_object: str
    hw_object: str
    reason: str

    def one_line(self) -> str:
        sw = self.sw_object or "-"
        hw = self.hw_object or "-"
        return f"[{self.constraint_class}] sw={sw} hw={hw}: {' '.join(self.reason.split())}"

    def as_dict(self) -> dict[str, str]:
        """JSON form (``loomc verify --json``)."""
        return {"class": self.constraint_class, "sw": self.sw_object, "hw": self.hw_object,
                "reason": " ".join(self.reason.split())}


def classes(violations: tuple[Violation, ...] | list[Violation]) -> frozenset[str]:
    """The constraint classes present (``C3.6`` counts as ``C3``)."""
    return frozenset(v.constraint_class.split(".")[0] for v in violations)


__all__ = ["Violation", "classes"]
