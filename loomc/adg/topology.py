"""Switch lattices: 2D mesh, torus, diagonal variants and 3D cube, with N tracks.

A :class:`Lattice` is a grid of ``fabric.switch`` nodes of one port type (a
routing *plane*) created on a :class:`~loomc.adg.builder.FabricBuilder`.
Neighbouring switches are joined by ``tracks`` parallel links in each
direction; optional FIFOs sit on the links (spec-cli.md "--gen-fifo-mode":
``single`` buffers the reverse links — west/north/down — only, ``dual`` both
directions).  Connectivity tables (:func:`set_switchbox`) are full crossbars,
crossbars without U-turns, or disjoint (track-preserving) switch boxes, which
shrink the mapper's routing model.

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
                out_tag, in_tag = f"n:{d_node.name}:t{t}", f"n:{s_node.name}:t{t}"
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


SWITCHBOXES = ("full", "no_u_turn", "disjoint")


def _link(tag: str) -> tuple[str, str] | None:
    """(neighbour, track) of a lattice link port tag ``n:<neighbour>:t<k>``."""
    if not tag.startswith("n:"):
        return None
    neighbour, _, track = tag[2:].rpartition(":")
    return neighbour, track


def set_switchbox(node: Node, style: str) -> None:
    """Give a lattice switch its connectivity table.

    * ``full`` — a full crossbar (the spec's default; no table in the text);
    * ``no_u_turn`` — nothing leaves towards the neighbour it came from;
    * ``disjoint`` — as ``no_u_turn``, and a value stays on its track between
      neighbours (a classic disjoint switch box); PE and module ports still
      reach and are reached from every track.  This cuts the routing arcs of a
      ``T``-track switch by about ``T`` times while every track stays a full mesh.

    A table that would leave an output or input without a connection falls back
    to the full crossbar (spec-fabric-switch.md: every row and column needs a 1).
    """
    if style not in SWITCHBOXES:
        raise fail("CPL_SWITCH_TABLE_SHAPE", f"unknown switch box '{style}'")
    if style == "full":
        node.params["table"] = None
        return
    ins = [_link(t) for t in node.params["in_tags"]]
    outs = [_link(t) for t in node.params["out_tags"]]

    def table(o: int, i: int) -> bool:
        src, dst = ins[i], outs[o]
        if src is None or dst is None:
            return True
        if src[0] == dst[0]:
            return False
        return style != "disjoint" or src[1] == dst[1]

    node.params["table"] = table
    rows = switch_table(node)
    if any(not any(r) for r in rows) or any(
        not any(r[i] for r in rows) for i in range(len(node.in_types))
    ):
        node.params["table"] = None


def finish_lattice(lat: Lattice, *, switchbox: str = "full") -> None:
    """Fix the connectivity tables once every port of the plane is wired
    (:func:`set_switchbox`).  Full crossbars leave the table out of the text,
    which also keeps large fabrics quick to parse."""
    for coord in lat.coords():
        set_switchbox(lat.switches[coord], switchbox)
