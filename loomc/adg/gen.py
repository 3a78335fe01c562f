"""``--gen-adg``: generate a lattice fabric that holds one or more DFGs.

spec-cli.md "--gen-adg": analyse the DFGs (:mod:`loomc.adg.analysis`), then
build a lattice of switches with the PEs, memories and module ports they need.

Shape of the generated fabric
-----------------------------
* **Planes.**  A switch routes one port type, so values of each type travel in
  their own switch lattice (a *plane*): ``bits<32>`` (i32 and f32 alike),
  ``bits<57>`` (index), ``bits<1>``, ``bits<64>``, ``none`` … .
* **PEs.**  One PE definition per op kind (op name + native types, so its body
  matches the DFG op positionally), and per kind as many instances as the
  hungriest DFG uses: PE instances / DFG ops stays ≤ 1 for a single DFG.
  Memories are ``fabric.extmemory``/``fabric.memory`` with the DFG's memref type
  and load/store counts; each extmemory gets its own memref module input.
* **Cells.**  Every PE or memory occupies one cell in each plane its ports
  touch.  Cells are laid out in a serpentine order that follows the first DFG's
  program order, so ops that feed each other sit close together; a cell's
  inputs and outputs spread over the four switches at its corners (a switch
  grid one larger than the cell grid in each direction), which gives every
  operand several ways in.
* **Module I/O.**  One module input per argument (per plane, as many as the
  DFG with the most), attached to the corner switch of the cell that first
  consumes it; outputs leave from the producer's corner switch.  Port order is
  memref*, bits* (spec-fabric.md "Port Ordering").
* **Options.**  ``topology`` mesh (2D) or cube (3D: cell layers stacked, switch
  layers joined vertically); ``track`` parallel links between neighbouring
  switches; FIFOs on links per ``fifo_mode``; ``switchbox`` picks the switch
  connectivity (full crossbar, no U-turns, or track-disjoint); ``temporal``
  adds a tagged domain — temporal PEs for the DFGs' 32-bit arithmetic on a
  mesh of tagged switches, entered through ``add_tag`` and left through
  ``del_tag`` bridges on the native 32-bit plane (spec-fabric-temporal_pe.md,
  spec-fabric-tag.md).

The output is a pure function of the DFGs and the options.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from loomc.adg.analysis import DFGAnalysis, MemNeed
from loomc.adg.builder import Fabric, FabricBuilder, clog2, fail
from loomc.adg.model import Node, PEDef
from loomc.adg.pe_body import ARITH_BINARY, BodyOp
from loomc.adg.topology import Lattice, build_lattice, finish_lattice
from loomc.adg.types import NONE, Bits, Memref, PortType, Tagged, plane_key, port_of
from loomc.dialects.dataflow_types import ADDR_BIT_WIDTH

#: corner of a cell each input / output port goes to, by port rank in the plane
#: (UL, UR, LL, LR as (row, col) offsets from the cell's upper-left switch)
_IN_CORNERS = ((0, 0), (0, 1), (1, 0), (1, 1))
_OUT_CORNERS = ((1, 1), (1, 0), (0, 1), (0, 0))
#: temporal domain: tag width and instruction slots per temporal PE
TEMPORAL_TAG_WIDTH = 4
TEMPORAL_PLANE_WIDTH = 32


@dataclass(frozen=True)
class GenOptions:
    """spec-cli.md "ADG generation options".

    ``track`` defaults to 3 here, not the CLI's 1: Loom's own stress runs
    generate with ``--gen-track 3`` for real kernels, and measured with loomc's
    mapper, the 24-op ``vecsum`` fabric is provably unroutable with one track
    (CPL_MAPPER_ROUTING_FAILED, solver status INFEASIBLE) but maps with three.
    Every PE of a kind is interchangeable, yet with exactly as many PEs as ops
    the placement is nearly fixed, so routing capacity has to come from tracks."""

    topology: str = "mesh"
    track: int = 3
    fifo_mode: str = "none"
    fifo_depth: int = 2
    fifo_bypassable: bool = False
    temporal: bool = False
    name: str | None = None
    #: connectivity of lattice switches (:func:`loomc.adg.topology.set_switchbox`)
    switchbox: str = "full"


@dataclass(frozen=True)
class PlaneInfo:
    """One routing plane of a generated fabric."""

    key: str
    cells: int
    switch_dims: tuple[int, ...]
    inputs: int
    outputs: int


@dataclass(frozen=True)
class GenResult:
    """A generated fabric and the numbers the Tier-3 report needs."""

    fabric: Fabric
    analyses: tuple[DFGAnalysis, ...]
    planes: tuple[PlaneInfo, ...]
    options: GenOptions

    @property
    def pes(self) -> int:
        return self.fabric.count("pe") + self.fabric.count("temporal_pe")

    @property
    def switches(self) -> int:
        return self.fabric.count("switch") + self.fabric.count("temporal_sw")

    @property
    def dfg_ops(self) -> int:
        """Ops of the largest DFG (the fabric must hold any one of them)."""
        return max((a.n_ops for a in self.analyses), default=0)

    @property
    def ratio(self) -> float:
        return self.pes / self.dfg_ops if self.dfg_ops else 0.0


@dataclass(eq=False)
class _HwUnit:
    """A PE or memory instance to place, and the cells it got."""

    key: tuple
    pe: BodyOp | None
    mem: MemNeed | None
    node: Node | None = None
    ins: list[PortType] = field(default_factory=list)
    outs: list[PortType] = field(default_factory=list)
    cells: dict[PortType, tuple[int, ...]] = field(default_factory=dict)


def _sanitize(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def pe_name(op: BodyOp) -> str:
    """``pe_addi_i32``; the full signature when the types differ."""
    short = op.name.split(".")[-1]
    types = (*op.ins, *op.outs)
    if op.name == "arith.constant":
        value = op.attrs.get("value", "").split(":")[0].strip()
        return f"pe_const_{_sanitize(op.outs[0])}_v{_sanitize(value)}"
    if len(set(types)) == 1 and op.name in ARITH_BINARY:
        return f"pe_{short}_{_sanitize(types[0])}"
    sig = "_".join(_sanitize(t) for t in op.ins) + "_to_" + "_".join(
        _sanitize(t) for t in op.outs
    )
    return f"pe_{short}_{sig}".rstrip("_")


def _mem_ports(mem: MemNeed) -> tuple[list[PortType], list[PortType]]:
    """Lattice-facing ports of a memory (spec-fabric-mem.md "Port Groups")."""
    data = port_of(mem.elem)
    addr: PortType = Bits(ADDR_BIT_WIDTH)
    done: PortType = NONE
    tag = clog2(max(mem.ld, mem.st)) if max(mem.ld, mem.st) > 1 else 0
    if tag:
        addr, data, done = Tagged(addr, tag), Tagged(data, tag), Tagged(NONE, tag)  # type: ignore[arg-type]
    ins: list[PortType] = ([addr] if mem.ld else []) + ([addr, data] if mem.st else [])
    outs: list[PortType] = ([data, done] if mem.ld else []) + ([done] if mem.st else [])
    return ins, outs


def _plan_units(analyses: Sequence[DFGAnalysis]) -> tuple[list[_HwUnit], list[dict[int, _HwUnit]]]:
    """Hardware units in placement order, and for each DFG its unit → hw map.

    Instance ``k`` of a kind serves the ``k``-th op of that kind in every DFG, so
    the order of the first DFG (then the extras of the others) decides placement.
    """
    hw: list[_HwUnit] = []
    by_key: dict[tuple, list[_HwUnit]] = {}
    maps: list[dict[int, _HwUnit]] = []
    for a in analyses:
        seen: Counter = Counter()
        mapping: dict[int, _HwUnit] = {}
        for u in a.units:
            k = u.key
            pool = by_key.setdefault(k, [])
            if seen[k] >= len(pool):
                unit = _HwUnit(k, u.pe, u.mem)
                pool.append(unit)
                hw.append(unit)
            mapping[u.index] = pool[seen[k]]
            seen[k] += 1
        maps.append(mapping)
    return hw, maps


def _grid_2d(n: int) -> tuple[int, int]:
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    return rows, cols


def _cell_shape(n: int, topology: str) -> tuple[int, ...]:
    """Cell grid for ``n`` cells: (rows, cols) or (layers, rows, cols)."""
    n = max(1, n)
    if topology == "cube":
        layers = max(1, math.ceil(n ** (1 / 3) - 1e-9))
        per = math.ceil(n / layers)
        return (layers, *_grid_2d(per))
    return _grid_2d(n)


def _cell_coord(k: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Serpentine position of cell ``k`` (consecutive cells are neighbours)."""
    if len(shape) == 3:
        per = shape[1] * shape[2]
        layer, j = divmod(k, per)
        return (layer, *_cell_coord(j, shape[1:]))
    rows, cols = shape
    r, c = divmod(k, cols)
    return (r, c if r % 2 == 0 else cols - 1 - c)


def _corner(cell: tuple[int, ...], off: tuple[int, int]) -> tuple[int, ...]:
    return (*cell[:-2], cell[-2] + off[0], cell[-1] + off[1])


class _Generator:
    def __init__(self, analyses: Sequence[DFGAnalysis], options: GenOptions, verify: bool):
        if not analyses:
            raise fail("CPL_MODULE_EMPTY_BODY", "no DFG to generate a fabric for")
        if options.topology not in ("mesh", "cube", "torus", "diagonal_mesh", "diagonal_torus"):
            raise fail("CPL_SWITCH_TABLE_SHAPE", f"unknown topology '{options.topology}'")
        self.analyses = list(analyses)
        self.opt = options
        self.verify = verify
        name = options.name or _sanitize("gen_" + "_".join(a.name for a in analyses))[:60]
        self.fb = FabricBuilder(name)
        self.lattices: dict[PortType, Lattice] = {}
        self.shapes: dict[PortType, tuple[int, ...]] = {}
        self.cells: dict[PortType, list[_HwUnit]] = {}
        self.planes_io: dict[PortType, tuple[int, int]] = {}

    # ------------------------------------------------------------------
    def run(self) -> GenResult:
        fb, opt = self.fb, self.opt
        fb.comments.append(
            f"--gen-adg for {', '.join(a.name for a in self.analyses)}: topology={opt.topology} "
            f"track={opt.track} fifo={opt.fifo_mode}"
            + (f" depth={opt.fifo_depth}" if opt.fifo_mode != "none" else "")
            + (" bypassable" if opt.fifo_bypassable else "")
            + (" temporal" if opt.temporal else "")
            + (f" switchbox={opt.switchbox}" if opt.switchbox != "full" else "")
        )
        hw, maps = _plan_units(self.analyses)
        defs: dict[tuple, PEDef] = {}
        for unit in hw:
            if unit.pe is not None:
                if unit.key not in defs:
                    op = unit.pe
                    defs[unit.key] = fb.pe(
                        pe_name(op), op.name, op.ins, op.outs, attrs=dict(op.attrs)
                    )
                unit.ins = [port_of(t) for t in unit.pe.ins]
                unit.outs = [port_of(t) for t in unit.pe.outs]
            else:
                assert unit.mem is not None
                unit.ins, unit.outs = _mem_ports(unit.mem)
        # Module I/O per plane: as many as the DFG with the most.
        in_need: Counter = Counter()
        out_need: Counter = Counter()
        for a in self.analyses:
            for k, n in Counter(port_of(t) for t in a.inputs if not t.startswith("memref")).items():
                in_need[k] = max(in_need[k], n)
            for k, n in Counter(port_of(t) for t in a.outputs).items():
                out_need[k] = max(out_need[k], n)
        planes: set[PortType] = set(in_need) | set(out_need)
        for unit in hw:
            planes.update(unit.ins)
            planes.update(unit.outs)
        if opt.temporal:
            planes.add(Bits(TEMPORAL_PLANE_WIDTH))
        for plane in sorted(planes, key=_plane_order):
            members = [u for u in hw if plane in u.ins or plane in u.outs]
            self.cells[plane] = members
            shape = _cell_shape(len(members), opt.topology)
            self.shapes[plane] = shape
            sw_dims = (*shape[:-2], shape[-2] + 1, shape[-1] + 1)
            self.lattices[plane] = build_lattice(
                fb,
                plane,
                sw_dims,
                topology=opt.topology,
                tracks=opt.track,
                fifo_mode=opt.fifo_mode,
                fifo_depth=opt.fifo_depth,
                fifo_bypassable=opt.fifo_bypassable,
                prefix=f"s{plane_key(plane)}",
            )
            for k, unit in enumerate(members):
                unit.cells[plane] = _cell_coord(k, shape)
        self._memref_inputs = [
            fb.input(f"mem{i}", Memref(u.mem.memref))
            for i, u in enumerate(x for x in hw if x.mem is not None and x.mem.kind == "extmemory")
        ]
        self._module_inputs(in_need, maps)
        self._instantiate(hw, defs)
        self._module_outputs(out_need, maps)
        if opt.temporal:
            self._temporal(hw)
        for lat in self.lattices.values():
            finish_lattice(lat, switchbox=self.opt.switchbox)
        fabric = fb.build(verify=self.verify)
        infos = tuple(
            PlaneInfo(
                plane_key(p),
                len(self.cells.get(p, ())),
                self.lattices[p].dims,
                *self.planes_io.get(p, (0, 0)),
            )
            for p in sorted(self.lattices, key=_plane_order)
        )
        return GenResult(fabric, tuple(self.analyses), infos, opt)

    # ------------------------------------------------------------------
    def _io_cell(
        self, plane: PortType, slot: int, maps: list[dict[int, _HwUnit]], outputs: bool
    ) -> tuple[int, ...] | None:
        """Cell of the op that consumes (produces) the ``slot``-th argument
        (result) of type ``plane`` in the first DFG that has one."""
        for a, mapping in zip(self.analyses, maps, strict=True):
            types = a.outputs if outputs else a.inputs
            users = a.output_producers if outputs else a.input_users
            ranked = [
                i for i, t in enumerate(types)
                if not t.startswith("memref") and port_of(t) == plane
            ]
            if slot < len(ranked):
                unit_index = users[ranked[slot]]
                unit = mapping.get(unit_index)
                if unit is not None and plane in unit.cells:
                    return unit.cells[plane]
        return None

    def _module_inputs(self, need: Counter, maps: list[dict[int, _HwUnit]]) -> None:
        count = 0
        for plane in sorted(need, key=_plane_order):
            lat = self.lattices[plane]
            for slot in range(need[plane]):
                node = self.fb.input(f"in{count}", plane)
                count += 1
                cell = self._io_cell(plane, slot, maps, outputs=False)
                coord = _corner(cell, (0, 0)) if cell is not None else _boundary(lat, slot)
                lat.take(self.fb, coord, node)
            self.planes_io[plane] = (need[plane], 0)

    def _module_outputs(self, need: Counter, maps: list[dict[int, _HwUnit]]) -> None:
        count = 0
        for plane in sorted(need, key=_plane_order):
            lat = self.lattices[plane]
            for slot in range(need[plane]):
                node = self.fb.output(f"out{count}", plane)
                count += 1
                cell = self._io_cell(plane, slot, maps, outputs=True)
                coord = (
                    _corner(cell, (1, 1)) if cell is not None
                    else _boundary(lat, slot, from_end=True)
                )
                lat.feed(self.fb, coord, node)
            ins = self.planes_io.get(plane, (0, 0))[0]
            self.planes_io[plane] = (ins, need[plane])

    def _instantiate(self, hw: list[_HwUnit], defs: dict[tuple, PEDef]) -> None:
        fb = self.fb
        ext = iter(self._memref_inputs)
        counters: Counter = Counter()
        for unit in hw:
            if unit.pe is not None:
                d = defs[unit.key]
                base = d.name[3:] if d.name.startswith("pe_") else d.name
                node = fb.instance(d, f"{base}_u{counters[d.name]}")
                counters[d.name] += 1
            else:
                mem = unit.mem
                assert mem is not None
                lsq = 4 if mem.st else None
                if mem.kind == "extmemory":
                    node = fb.extmemory(
                        next(ext), mem.ld, mem.st, lsq_depth=lsq,
                        name=f"extmem_u{counters['ext']}",
                    )
                    counters["ext"] += 1
                else:
                    node = fb.memory(
                        Memref(mem.memref), mem.ld, mem.st, lsq_depth=lsq,
                        name=f"mem_u{counters['mem']}",
                    )
                    counters["mem"] += 1
            unit.node = node
            offset = 1 if unit.mem is not None and unit.mem.kind == "extmemory" else 0
            rank_in: Counter = Counter()
            for i, t in enumerate(unit.ins):
                r = rank_in[t]
                rank_in[t] += 1
                coord = _corner(unit.cells[t], _IN_CORNERS[r % 4])
                self.lattices[t].feed(fb, coord, node.inp(i + offset))
            rank_out: Counter = Counter()
            for i, t in enumerate(unit.outs):
                r = rank_out[t]
                rank_out[t] += 1
                coord = _corner(unit.cells[t], _OUT_CORNERS[r % 4])
                self.lattices[t].take(fb, coord, node.out(i))

    # ------------------------------------------------------------------
    def _temporal(self, hw: list[_HwUnit]) -> None:
        """A tagged domain on the 32-bit plane (see module docstring).

        FU kinds are the DFGs' ops whose every port is 32 bits wide, grouped by
        arity (a temporal PE's FUs share its port count); each group becomes one
        temporal PE with one instruction slot per op of those kinds (at most 16,
        the tag space), on a small mesh of tagged switches.  Each temporal PE
        input gets an ``add_tag`` bridge from the native plane and each output a
        ``del_tag`` bridge back, so any op of the group can run either natively
        or time-multiplexed."""
        fb = self.fb
        plane = Bits(TEMPORAL_PLANE_WIDTH)
        tagged = Tagged(plane, TEMPORAL_TAG_WIDTH)
        groups: dict[tuple[int, int], list[BodyOp]] = {}
        counts: Counter = Counter()
        for unit in hw:
            op = unit.pe
            if op is None or op.name not in ARITH_BINARY and op.name not in (
                "math.fma", "arith.negf", "math.absf", "math.sqrt"
            ):
                continue
            if any(port_of(t) != plane for t in (*op.ins, *op.outs)):
                continue
            arity = (len(op.ins), len(op.outs))
            if op.key() not in {o.key() for o in groups.get(arity, [])}:
                groups.setdefault(arity, []).append(op)
            counts[arity] += 1
        native = self.lattices[plane]
        if not groups:
            fb.comments.append("temporal: no same-width 32-bit arithmetic to time-multiplex")
            return
        tpes: list[Node] = []
        for g, (arity, ops) in enumerate(sorted(groups.items())):
            fus = [
                fb.pe(f"fu{g}_{pe_name(op)[3:]}", op.name, op.ins, op.outs) for op in ops
            ]
            slots = min(1 << TEMPORAL_TAG_WIDTH, max(2, counts[arity]))
            tdef = fb.temporal_pe(f"tpe{g}", tagged, fus, num_instruction=slots)
            tpes.append(fb.instance(tdef, f"tpe{g}_u0"))
        shape = _grid_2d(len(tpes))
        tlat = build_lattice(
            fb, tagged, (shape[0] + 1, shape[1] + 1), topology="mesh", tracks=self.opt.track,
            fifo_mode=self.opt.fifo_mode, fifo_depth=self.opt.fifo_depth,
            fifo_bypassable=self.opt.fifo_bypassable, prefix="st32",
        )
        # Temporal switches would let tags share links; plain switches forward
        # tags unchanged (spec-fabric-switch.md "Interface Types") and keep the
        # domain simple for the mapper.
        self.lattices[tagged] = tlat
        bridge_in = bridge_out = 0
        rows, cols = native.dims[-2], native.dims[-1]
        for k, node in enumerate(tpes):
            cell = _cell_coord(k, shape)
            for i in range(len(node.in_types)):
                tlat.feed(fb, _corner(cell, _IN_CORNERS[i % 4]), node.inp(i))
            for i in range(len(node.out_types)):
                tlat.take(fb, _corner(cell, _OUT_CORNERS[i % 4]), node.out(i))
            for i in range(len(node.in_types)):
                at = fb.add_tag(plane, TEMPORAL_TAG_WIDTH, f"bridge_in{bridge_in}")
                spot = (*native.dims[:-2], (bridge_in * 2) % rows, (bridge_in * 3) % cols)
                native.feed(fb, _clip(spot, native), at)
                tlat.take(fb, _corner(cell, _IN_CORNERS[i % 4]), at)
                bridge_in += 1
            for i in range(len(node.out_types)):
                dt = fb.del_tag(tagged, f"bridge_out{bridge_out}")
                tlat.feed(fb, _corner(cell, _OUT_CORNERS[i % 4]), dt)
                spot = (*native.dims[:-2], rows - 1 - (bridge_out * 2) % rows, cols - 1)
                native.take(fb, _clip(spot, native), dt)
                bridge_out += 1
        self.cells[tagged] = []


def _clip(coord: tuple[int, ...], lat: Lattice) -> tuple[int, ...]:
    """A valid coordinate of ``lat`` (layer 0 for cubes)."""
    if len(lat.dims) == 3:
        return (0, min(coord[-2], lat.dims[1] - 1), min(coord[-1], lat.dims[2] - 1))
    return (min(coord[-2], lat.dims[0] - 1), min(coord[-1], lat.dims[1] - 1))


def _boundary(lat: Lattice, slot: int, from_end: bool = False) -> tuple[int, ...]:
    """A switch on the lattice edge for I/O no op claims, spread by ``slot``."""
    coords = sorted(lat.switches)
    edge = [
        c for c in coords
        if c[-2] in (0, lat.dims[-2] - 1) or c[-1] in (0, lat.dims[-1] - 1)
    ]
    if from_end:
        edge = edge[::-1]
    return edge[slot % len(edge)]


def _plane_order(t: PortType) -> tuple[int, int, int]:
    if isinstance(t, Tagged):
        return (2, t.payload, t.tag_width)
    return (1, t.payload, 0)


def generate(
    analyses: Sequence[DFGAnalysis], options: GenOptions | None = None, *, verify: bool = True
) -> GenResult:
    """Generate a fabric for ``analyses`` (see module docstring); with ``verify``
    the text is re-parsed and checked by the fabric verifier before it is returned."""
    return _Generator(analyses, options or GenOptions(), verify).run()


def generate_for_files(paths: Sequence[str], options: GenOptions | None = None) -> GenResult:
    from loomc.adg.analysis import analyze_files

    return generate(analyze_files(paths), options)
