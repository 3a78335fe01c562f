"""Switch lattices: 2D mesh, torus, diagonal variants and 3D cube, with N tracks.

A :class:`Lattice` is a grid of ``fabric.switch`` nodes of one port type (a
routing *plane*) created on a :class:`~loomc.adg.builder.FabricBuilder`.
Neighbouring switches are joined by ``tracks`` parallel links in each
direction; optional FIFOs sit on the links (spec-cli.md "--gen-fifo-mode":
``single`` buffers the reverse links — west/north/down — only, ``dual`` both
directions).  Connectivity tables are full crossbars by default, or full
crossbars minus U-turns (a value never leaves a switch towards the neighbour it
came from) with ``finish_lattice(lat, u_turns=False)``, which trims the mapper's
routing model without removing a useful path.

Topologies (spec-adg.md "Topology Construction"):

* ``mesh`` — 4 neighbours, no wraparound;
* ``torus`` — mesh with wraparound links;
* ``diagonal_mesh`` / ``diagonal_torus`` — plus the two diagonals;
* ``cube`` — 3D grid ``(layers, rows, cols)`` with 6 neighbours.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from loomc.adg.builder import FabricBuilder, fail, switch_table
from loomc.adg.model import InPort, Node, OutPort
from loomc.adg.types import PortType

TOPOLOGIES = ("mesh", "torus", "diagonal_mesh", "diagonal_torus", "cube")
FIFO_MODES = ("none", "single", "dual")

Coord = tuple[int, ...]

_FORWARD_2D = {
    "mesh": ((0, 1), (1, 0)),
    "torus": ((0, 1), (1, 0)),
    "diagonal_mesh": ((0, 1), (1, 0), (1, 1), (1, -1)),
    "diagonal_torus": ((0, 1), (1, 0), (1, 1), (1, -1)),
}
_FORWARD_3D = ((0, 0, 1), (0, 1, 0), (1, 0, 0))


@dataclass
class Lattice:
    """The switches of one plane, by coordinate, and the links between them."""

    plane: PortType
    dims: Coord
    topology: str
    tracks: int
    switches: dict[Coord, Node] = field(default_factory=dict)
    links: int = 0
    fifos: int = 0

    def coords(self) -> Iterator[Coord]:
        return iter(sorted(self.switches))

    def at(self, coord: Coord) -> Node:
        return self.switches[coord]

    def feed(self, fb: FabricBuilder, coord: Coord, dst: InPort | Node, tag: str = "") -> None:
        """Wire a new output of switch ``coord`` into ``dst``."""
        fb.connect(self.switches[coord], dst, src_tag=tag)

    def take(self, fb: FabricBuilder, coord: Coord, src: OutPort | Node, tag: str = "") -> None:
        """Wire ``src`` into a new input of switch ``coord``."""
        fb.connect(src, self.switches[coord], dst_tag=tag)


def _neighbours(dims: Coord, topology: str) -> list[tuple[Coord, Coord, bool]]:
    """Undirected neighbour pairs ``(a, b, forward)`` in a fixed order; ``a → b``
    is the forward (east/south/up) direction."""
    wrap = topology in ("torus", "diagonal_torus")
    offsets = _FORWARD_3D if topology == "cube" else _FORWARD_2D[topology]
    pairs: list[tuple[Coord, Coord, bool]] = []
    seen: set[frozenset[Coord]] = set()
    for coord in itertools.product(*(range(d) for d in dims)):
        for off in offsets:
            nxt = []
            ok = True
            for axis, (c, o) in enumerate(zip(coord, off, strict=True)):
                v = c + o
                if not 0 <= v < dims[axis]:
                    # Wraparound only where it adds a new neighbour (size > 2).
                    if wrap and dims[axis] > 2:
                        v %= dims[axis]
                    else:
                        ok = False
                        break
                nxt.append(v)
            if not ok:
                continue
            other = tuple(nxt)
            key = frozenset((coord, other))
            if other == coord or key in seen:
                continue
            seen.add(key)
            pairs.append((coord, other, True))
    return pairs


def _coord_name(coord: Coord) -> str:
    if len(coord) == 3:
        return f"l{coord[0]}r{coord[1]}c{coord[2]}"
    return f"r{coord[0]}c{coord[1]}"


def build_lattice(
    fb: FabricBuilder,
    plane: PortType,
    dims: Coord,
    *,
    topology: str = "mesh",
    tracks: int = 1,
    fifo_mode: str = "none",
    fifo_depth: int = 2,
    fifo_bypassable: bool = False,
    prefix: str = "sw",
) -> Lattice:
    """Create the switches and inter-switch links of one plane.

    ``dims`` is ``(rows, cols)`` for 2D topologies and ``(layers, rows, cols)``
    for ``cube``.  Call :func:`finish_lattice` after attaching PEs and I/O."""
    if topology not in TOPOLOGIES:
        raise fail("CPL_SWITCH_TABLE_SHAPE", f"unknown topology '{topology}'")
    if fifo_mode not in FIFO_MODES:
        raise fail("CPL_FIFO_INVALID_TYPE", f"unknown FIFO mode '{fifo_mode}'")
    want = 3 if topology == "cube" else 2
    if len(dims) != want or any(d < 1 for d in dims):
        raise fail(
            "CPL_SWITCH_TABLE_SHAPE", f"{topology} needs {want} positive dimensions, got {dims}"
        )
    if tracks < 1:
        raise fail("CPL_SWITCH_PORT_ZERO", "a lattice needs at least one track")
    lat = Lattice(plane, tuple(dims), topology, tracks)
    for coord in itertools.product(*(range(d) for d in dims)):
        node = fb.switch(plane, f"{prefix}_{_coord_name(coord)}")
        node.pos = (float(coord[-1] * 2 + (coord[0] * 0.4 if want == 3 else 0)),
                    float(-coord[-2] * 2 - (coord[0] * 0.4 if want == 3 else 0)))
        lat.switches[coord] = node
    for a, b, _ in _neighbours(lat.dims, topology):
        for t in range(tracks):
            for src, dst, reverse in ((a, b, False), (b, a, True)):
                buffered = fifo_mode == "dual" or (fifo_mode == "single" and reverse)
                s_node, d_node = lat.switches[src], lat.switches[dst]
                out_tag, in_tag = f"n:{d_node.name}", f"n:{s_node.name}"
                if buffered:
                    f = fb.fifo(
                        plane,
                        fifo_depth,
                        f"{prefix}_f_{_coord_name(src)}_{_coord_name(dst)}_t{t}",
                        bypassable=fifo_bypassable,
                    )
                    fb.connect(s_node, f, src_tag=out_tag)
                    fb.connect(f, d_node, dst_tag=in_tag)
                    lat.fifos += 1
                else:
                    fb.connect(s_node, d_node, src_tag=out_tag, dst_tag=in_tag)
                lat.links += 1
    return lat


def no_u_turn(node: Node) -> None:
    """Give a switch a connectivity table without U-turns, unless that would leave
    an output or input unconnected (spec-fabric-switch.md: rows and columns of
    the table need a 1)."""
    ins: list[str] = node.params["in_tags"]
    outs: list[str] = node.params["out_tags"]

    def table(o: int, i: int) -> bool:
        ot = outs[o] if o < len(outs) else ""
        it = ins[i] if i < len(ins) else ""
        return not (ot.startswith("n:") and ot == it)

    node.params["table"] = table
    rows = switch_table(node)
    if any(not any(r) for r in rows) or any(
        not any(r[i] for r in rows) for i in range(len(node.in_types))
    ):
        node.params["table"] = None


def finish_lattice(lat: Lattice, *, u_turns: bool = True) -> None:
    """Fix the connectivity tables once every port of the plane is wired.

    With ``u_turns=False`` every switch gets a table without U-turns; the
    default keeps full crossbars, whose tables are left out of the text (the
    spec's default), which keeps large fabrics quick to parse."""
    if u_turns:
        return
    for coord in lat.coords():
        no_u_turn(lat.switches[coord])
