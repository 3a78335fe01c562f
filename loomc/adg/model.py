"""The records a :class:`~loomc.adg.builder.FabricBuilder` is made of.

Definitions (:class:`PEDef`, :class:`TemporalPEDef`) become named ops at the top
of the file; :class:`Node` values become ops inside the ``fabric.module`` body
(or its block arguments and yield operands, for module I/O).  Ports are
addressed as ``node.out(i)`` / ``node.inp(i)``; switches grow a new port every
time one is asked for without an index, so lattice code never counts ports up
front.  All checks live in the builder; these records only hold state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from loomc.adg.pe_body import BodyOp
from loomc.adg.types import PortType, Tagged

NodeKind = Literal[
    "input",
    "output",
    "instance",
    "switch",
    "temporal_sw",
    "fifo",
    "add_tag",
    "del_tag",
    "map_tag",
    "memory",
    "extmemory",
]

#: kinds whose port lists grow on demand (spec-fabric-switch.md: any count ≤ 32)
VARIADIC: frozenset[str] = frozenset({"switch", "temporal_sw"})


@dataclass(frozen=True)
class Timing:
    """``[min, typical, max]`` cycles (spec-fabric-pe.md "latency"/"interval")."""

    min: int
    typical: int
    max: int

    def mlir(self) -> str:
        return f"[{self.min} : i16, {self.typical} : i16, {self.max} : i16]"


@dataclass(eq=False)
class PEDef:
    """A named ``fabric.pe``: its ports, body text and hardware parameters."""

    name: str
    inputs: tuple[PortType, ...]
    outputs: tuple[PortType, ...]
    body: tuple[str, ...]
    ops: tuple[BodyOp, ...]
    latency: Timing | None
    interval: Timing | None
    output_tag: tuple[int, ...] | None = None
    queue_depth: int | None = None

    @property
    def kind(self) -> str:
        """Short op kind for names and DOT labels (``addi``, ``load``)."""
        if len(self.ops) == 1:
            return self.ops[0].name.split(".")[-1]
        return "+".join(o.name.split(".")[-1] for o in self.ops) or "pe"

    @property
    def is_memory_pe(self) -> bool:
        return any(o.name in ("handshake.load", "handshake.store") for o in self.ops)


@dataclass(eq=False)
class TemporalPEDef:
    """A named ``fabric.temporal_pe`` holding native FU PEs (spec-fabric-temporal_pe.md)."""

    name: str
    interface: Tagged
    n_in: int
    n_out: int
    fus: tuple[PEDef, ...]
    num_register: int
    num_instruction: int
    reg_fifo_depth: int
    operand_buffer_size: int | None = None

    @property
    def inputs(self) -> tuple[PortType, ...]:
        return (self.interface,) * self.n_in

    @property
    def outputs(self) -> tuple[PortType, ...]:
        return (self.interface,) * self.n_out

    @property
    def kind(self) -> str:
        return "tpe"


@dataclass(frozen=True)
class OutPort:
    node: Node
    index: int

    @property
    def type(self) -> PortType:
        return self.node.out_types[self.index]


@dataclass(frozen=True)
class InPort:
    node: Node
    index: int

    @property
    def type(self) -> PortType:
        return self.node.in_types[self.index]


@dataclass(eq=False)
class Node:
    """One op (or module port) of the module body, with its wiring so far."""

    kind: NodeKind
    name: str
    in_types: list[PortType]
    out_types: list[PortType]
    params: dict[str, object] = field(default_factory=dict)
    target: PEDef | TemporalPEDef | None = None
    drivers: list[OutPort | None] = field(default_factory=list)
    consumers: list[InPort | None] = field(default_factory=list)
    #: ports of a variadic node are all of this type
    port_type: PortType | None = None
    #: free-form placement hints for DOT (``row``, ``col``, ``plane``)
    pos: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        self.drivers = [None] * len(self.in_types)
        self.consumers = [None] * len(self.out_types)

    def __hash__(self) -> int:
        return id(self)

    @property
    def variadic(self) -> bool:
        return self.kind in VARIADIC

    def out(self, index: int | None = None) -> OutPort:
        """Output port ``index``; on a switch, ``None`` means a new port."""
        if index is None:
            if not self.variadic:
                if len(self.out_types) == 1:
                    return OutPort(self, 0)
                raise IndexError(f"{self.name}: give the output index")
            assert self.port_type is not None
            self.out_types.append(self.port_type)
            self.consumers.append(None)
            self.params.setdefault("out_tags", []).append("")
            return OutPort(self, len(self.out_types) - 1)
        if not 0 <= index < len(self.out_types):
            raise IndexError(f"{self.name} has no output #{index}")
        return OutPort(self, index)

    def inp(self, index: int | None = None) -> InPort:
        """Input port ``index``; on a switch, ``None`` means a new port."""
        if index is None:
            if not self.variadic:
                if len(self.in_types) == 1:
                    return InPort(self, 0)
                raise IndexError(f"{self.name}: give the input index")
            assert self.port_type is not None
            self.in_types.append(self.port_type)
            self.drivers.append(None)
            self.params.setdefault("in_tags", []).append("")
            return InPort(self, len(self.in_types) - 1)
        if not 0 <= index < len(self.in_types):
            raise IndexError(f"{self.name} has no input #{index}")
        return InPort(self, index)

    @property
    def label(self) -> str:
        if self.target is not None:
            return f"{self.name}\\n{self.target.kind}"
        return self.name
