"""The mapping as data: what the mapper decided, in graph names.

Mirrors ``MappingState`` of spec-mapper-model.md ("Canonical Mapping State")
and the ``map.json`` schema of spec-mapper-output.md: placement, port binding,
routes as ordered hardware port pairs with their tag, temporal assignments,
temporal register assignments.
Everything downstream — cost, emitters, configured fabric, verifier — reads a
:class:`Mapping`; none of them looks at solver variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlacedNode:
    sw_node: str
    hw_node: str
    hw_name: str
    sw_op: str
    sw_loc: str | None


@dataclass(frozen=True)
class RoutedEdge:
    """One DFG edge and its hardware path (``(src_port, dst_port)`` hops)."""

    sw_edge: str
    src_sw_port: str
    dst_sw_port: str
    hw_path: tuple[tuple[str, str], ...]
    tag: int | None = None


@dataclass(frozen=True)
class TemporalSlot:
    """spec-mapper-model.md "Temporal Assignment Metadata"."""

    sw_node: str
    temporal_pe: str
    slot: int
    tag: int
    opcode: int


@dataclass(frozen=True)
class RegisterUse:
    """A DFG edge carried by an internal register of a temporal PE
    (spec-mapper-model.md "Temporal Assignment Metadata": ``register``;
    spec-mapper-output.md ``registers``).  All edges of one value share its
    register: one writer (the producer's result), one reader per consumer
    operand (spec-fabric-temporal_pe.md "Register Semantics")."""

    sw_edge: str
    src_sw_port: str
    dst_sw_port: str
    temporal_pe: str
    register: int


@dataclass(frozen=True)
class SolverRecord:
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    wall_time: float
    seed: int
    deterministic_time: float


@dataclass(frozen=True)
class Diagnostics:
    """Why a mapping failed (spec-mapper-output.md "diagnostics")."""

    code: str | None = None
    message: str | None = None
    unmapped_nodes: tuple[str, ...] = ()
    failed_edges: tuple[str, ...] = ()
    first_violated_constraint: str | None = None
    conflicting: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Mapping:
    """A complete (``status == "success"``) or failed mapping."""

    dfg_name: str
    adg_name: str
    status: str
    profile: str
    seed: int
    placement: tuple[PlacedNode, ...] = ()
    port_binding: tuple[tuple[str, str], ...] = ()
    routes: tuple[RoutedEdge, ...] = ()
    temporal: tuple[TemporalSlot, ...] = ()
    #: edges through temporal-PE registers (they have no route)
    registers: tuple[RegisterUse, ...] = ()
    solver: SolverRecord | None = None
    diagnostics: Diagnostics = field(default_factory=Diagnostics)

    def hw_of(self, sw_node: str) -> str | None:
        for p in self.placement:
            if p.sw_node == sw_node:
                return p.hw_node
        return None
