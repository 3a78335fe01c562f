"""Energy and area reference tables (Accelergy's ERT / ART output), keyed by level name.

loomc does not estimate energies itself: it takes the per-action energies
Accelergy computed (``ERT.yaml``, ``ERT: tables: [{name, actions: [{name,
energy}]}]``) and the per-instance areas (``ART.yaml``).  Table names carry
the hierarchy and instance range (``system_top_level.DRAM[1..1]``); only the
last path component without the range names the level.

Timeloop's action names map onto model operations with a priority list each
(include/model/topology.hpp): a read is ``random_read`` or ``read``; a fill
``random_fill``/``random_write``/``fill``/``write``; an update
``random_update``/``random_write``/``update``/``write``; compute
``mac_random``/``mult_random``/``mac``/``mult``/``compute``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loomc.timeloop.yamlio import Node

_READ = ("random_read", "read")
_FILL = ("random_fill", "random_write", "fill", "write")
_UPDATE = ("random_update", "random_write", "update", "write")
_COMPUTE = ("mac_random", "mult_random", "mac", "mult", "compute")


@dataclass(frozen=True)
class ActionEnergies:
    """Energy per action (pJ) of one level, resolved to the model's operations."""

    read: float
    fill: float
    update: float
    leak: float
    compute: float
    #: largest action energy in the table (Timeloop's "vector access energy" before clusters)
    max_energy: float


def _level_name(raw: str) -> str:
    bare = re.sub(r"\[\d+\.\.\d+\]$", "", raw.strip())
    return bare.split(".")[-1]


def parse_ert(node: Node) -> dict[str, ActionEnergies]:
    """Parse an ``ERT:`` section into level name → :class:`ActionEnergies`."""
    node.check_keys(("version", "tables"))
    out: dict[str, ActionEnergies] = {}
    for t in node.child("tables").items():
        t.check_keys(("name", "actions"))
        name = _level_name(t.child("name").as_str())
        table: dict[str, float] = {}
        for a in t.child("actions").items():
            a.check_keys(("name", "arguments", "energy"))
            aname = a.child("name").as_str()
            if aname not in table:  # first entry of an action (default arguments)
                table[aname] = a.child("energy").as_float()

        def pick(names: tuple[str, ...], default: float,
                 table: dict[str, float] = table) -> float:
            for n in names:
                if n in table:
                    return table[n]
            return default

        mx = max(table.values()) if table else 0.0
        out[name] = ActionEnergies(
            read=pick(_READ, mx), fill=pick(_FILL, mx), update=pick(_UPDATE, mx),
            leak=table.get("leak", 0.0), compute=pick(_COMPUTE, 0.0), max_energy=mx)
    return out


def parse_art(node: Node) -> dict[str, float]:
    """Parse an ``ART:`` section into level name → area per instance (um^2)."""
    node.check_keys(("version", "tables"))
    out: dict[str, float] = {}
    for t in node.child("tables").items():
        t.check_keys(("name", "area"))
        out[_level_name(t.child("name").as_str())] = t.child("area").as_float()
    return out
