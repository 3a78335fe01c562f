"""Read a ``map.json`` (spec-mapper-output.md "mapping.json Schema") as plain data.

The verifier takes the file as written — by loomc, by Loom or by hand — so this
reader checks only the JSON shape and keeps every value as found; whether the
values make sense is the checker's job.  A file that is not a mapping report at
all is bad input (:class:`~loomc.diagnostics.LoomcError`, exit 3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loomc.diagnostics import LoomcError, SourceLocation
from loomc.mapper.mapping import Mapping, PlacedNode, RegisterUse, RoutedEdge, TemporalSlot


@dataclass(frozen=True)
class Route:
    sw_edge: str
    src_sw_port: str
    dst_sw_port: str
    hops: tuple[tuple[str, str], ...]
    tag: int | None


#: a ``temporal`` entry has exactly the mapper's record's fields, so it is that record
Temporal = TemporalSlot


@dataclass(frozen=True)
class Register:
    sw_edge: str
    temporal_pe: str
    index: int


@dataclass(frozen=True)
class MapDoc:
    """The content of one ``map.json``, keys sorted as in the file."""

    status: str
    profile: str
    seed: int
    dfg_name: str
    adg_name: str
    placement: tuple[tuple[str, str], ...]
    port_binding: tuple[tuple[str, str], ...]
    routes: tuple[Route, ...]
    temporal: tuple[Temporal, ...]
    registers: tuple[Register, ...]
    cost_total: float | None

    def to_mapping(self) -> Mapping:
        """The same content as the :class:`~loomc.mapper.mapping.Mapping` record the
        config derivation reads (a data record, no solver involved)."""
        return Mapping(
            dfg_name=self.dfg_name, adg_name=self.adg_name, status=self.status,
            profile=self.profile, seed=self.seed,
            placement=tuple(PlacedNode(sw, hw, hw, "", None) for sw, hw in self.placement),
            port_binding=self.port_binding,
            routes=tuple(RoutedEdge(r.sw_edge, r.src_sw_port, r.dst_sw_port, r.hops, r.tag)
                         for r in self.routes),
            temporal=self.temporal,
            registers=tuple(RegisterUse(r.sw_edge, *_edge_ports(r.sw_edge), r.temporal_pe,
                                        r.index) for r in self.registers),
        )


def _edge_ports(edge: str) -> tuple[str, str]:
    """``src_port->dst_port`` of an edge id (a malformed id names no port)."""
    src, sep, dst = edge.partition("->")
    return (src, dst) if sep else (edge, "")


def _bad(path: str, msg: str) -> LoomcError:
    return LoomcError(f"not a mapping report: {msg}", loc=SourceLocation(path),
                      code="VERIFY_MAP_JSON")


def _int(value: Any, path: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(path, f"{what} must be an integer")
    return value


def _obj(doc: dict, key: str, path: str) -> dict:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise _bad(path, f"'{key}' must be an object")
    return value


def doc_from_data(data: Any, path: str = "<map.json>") -> MapDoc:
    """Check the JSON shape and build a :class:`MapDoc`."""
    if not isinstance(data, dict):
        raise _bad(path, "top level must be an object")
    try:
        placement = tuple(sorted(
            (str(sw), str(v["hwNode"] if isinstance(v, dict) else v))
            for sw, v in _obj(data, "placement", path).items()))
        binding = tuple(sorted((str(k), str(v))
                               for k, v in _obj(data, "portBinding", path).items()))
        routes = []
        for edge, r in sorted(_obj(data, "routes", path).items()):
            tag = r.get("tag")
            routes.append(Route(
                sw_edge=str(edge), src_sw_port=str(r["srcSwPort"]),
                dst_sw_port=str(r["dstSwPort"]),
                hops=tuple((str(h["src"]), str(h["dst"])) for h in r.get("hwPath") or ()),
                tag=None if tag is None else _int(tag, path, f"tag of {edge}")))
        temporal = tuple(
            Temporal(str(sw), str(t["temporalPE"]), _int(t["slot"], path, "slot"),
                     _int(t["tag"], path, "tag"), _int(t["opcode"], path, "opcode"))
            for sw, t in sorted(_obj(data, "temporal", path).items()))
        registers = tuple(
            Register(str(e), str(r["temporalPE"]), _int(r["registerIndex"], path, "register"))
            for e, r in sorted(_obj(data, "registers", path).items()))
    except (KeyError, TypeError, AttributeError) as err:
        raise _bad(path, f"missing or malformed field {err}") from None
    cost = data.get("cost")
    total = cost.get("total") if isinstance(cost, dict) else None
    return MapDoc(
        status=str(data.get("status", "")), profile=str(data.get("profile", "balanced")),
        seed=int(data.get("seed", 0) or 0), dfg_name=str(data.get("dfg", "")),
        adg_name=str(data.get("adg", "")), placement=placement, port_binding=binding,
        routes=tuple(routes), temporal=temporal, registers=registers,
        cost_total=float(total) if isinstance(total, (int, float)) else None,
    )


def read_map_json(path: str | Path) -> MapDoc:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise LoomcError(f"cannot read file: {err.strerror}",
                         loc=SourceLocation(str(path))) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise LoomcError(f"invalid JSON: {err.msg}",
                         loc=SourceLocation(str(path), err.lineno, err.colno),
                         code="VERIFY_MAP_JSON") from None
    return doc_from_data(data, str(path))


def doc_from_mapping(mapping: Mapping) -> MapDoc:
    """A :class:`MapDoc` straight from an in-memory mapping (tests, optimality)."""
    return MapDoc(
        status=mapping.status, profile=mapping.profile, seed=mapping.seed,
        dfg_name=mapping.dfg_name, adg_name=mapping.adg_name,
        placement=tuple(sorted((p.sw_node, p.hw_node) for p in mapping.placement)),
        port_binding=tuple(sorted(mapping.port_binding)),
        routes=tuple(Route(r.sw_edge, r.src_sw_port, r.dst_sw_port, tuple(r.hw_path), r.tag)
                     for r in sorted(mapping.routes, key=lambda r: r.sw_edge)),
        temporal=tuple(sorted(mapping.temporal, key=lambda t: t.sw_node)),
        registers=tuple(Register(r.sw_edge, r.temporal_pe, r.register)
                        for r in sorted(mapping.registers, key=lambda r: r.sw_edge)),
        cost_total=None,
    )


__all__ = ["MapDoc", "Register", "Route", "Temporal", "doc_from_data", "doc_from_mapping",
           "read_map_json"]
