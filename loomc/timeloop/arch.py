"""The architecture: a chain of storage levels above one arithmetic level.

Timeloop reduces any architecture description to a *flattened* list of levels,
innermost first: ``storage[0]`` feeds the arithmetic units, ``storage[-1]`` is
the backing store.  Each level has a number of instances laid out on a
``meshX × meshY`` grid; the ratio of a level's instances to its parent's is the
spatial fanout the mapping may use between them.

Two input forms are accepted:

* v0.3 / processed form (``architecture: subtree: [{name, attributes, local,
  subtree}]``) with instance ranges ``Buffer[0..15]`` — this is what Timeloop's
  front end dumps as ``parsed-processed-input.yaml``;
* v0.4 ``nodes:`` lists with ``!Container`` / ``!Component`` / ``!Parallel``
  tags.  A container or component with ``spatial: {meshX, meshY}`` fans out
  everything after it; as Timeloop's front end does, the fanout is represented
  by a *dummy* storage level ``inter_<name>_spatial`` (capacity 1, keeps
  nothing) placed where the fanout happens, so a mapping can put spatial loops
  there.  Container attributes (technology, cycle time …) are inherited by the
  nodes that follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from loomc.timeloop.yamlio import TAG_KEY, Node


@dataclass(frozen=True)
class StorageLevel:
    """One buffer level as Timeloop's model sees it (sizes are in words)."""

    name: str
    cls: str
    instances: int
    mesh_x: int
    mesh_y: int
    word_bits: int
    block_size: int
    cluster_size: int
    #: capacity in words (``depth * block_size``); None = unbounded (e.g. DRAM)
    size: int | None
    technology: str  # "SRAM" or "DRAM"
    read_bandwidth: float | None = None
    write_bandwidth: float | None = None
    shared_bandwidth: float | None = None
    multiple_buffering: float = 1.0
    min_utilization: float = 0.0
    allow_overbooking: bool = False
    #: a dummy level standing for a spatial fanout (``inter_X_spatial``)
    is_dummy: bool = False
    attributes: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @property
    def effective_size(self) -> int | None:
        """Capacity left for one buffer of a multiple-buffered level."""
        if self.size is None:
            return None
        return int(self.size // self.multiple_buffering)


@dataclass(frozen=True)
class ArithmeticLevel:
    """The compute units at the bottom of the hierarchy."""

    name: str
    cls: str
    instances: int
    mesh_x: int
    mesh_y: int
    word_bits: int = 16
    attributes: tuple[tuple[str, Any], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Architecture:
    """Flattened architecture: ``storage[0]`` is innermost, ``storage[-1]`` the backing store."""

    storage: tuple[StorageLevel, ...]
    arithmetic: ArithmeticLevel

    def level_index(self, name: str) -> int:
        for i, lvl in enumerate(self.storage):
            if lvl.name == name:
                return i
        raise KeyError(name)

    def fanout_xy(self, i: int) -> tuple[int, int]:
        """Spatial fanout (X, Y) from storage level ``i`` to the level below it."""
        inner = self.arithmetic if i == 0 else self.storage[i - 1]
        outer = self.storage[i]
        return inner.mesh_x // outer.mesh_x, inner.mesh_y // outer.mesh_y

    def fanout(self, i: int) -> int:
        x, y = self.fanout_xy(i)
        return x * y


_RANGE = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<lo>\d+)\.\.(?P<hi>\d+)\]$")


def _split_name(node: Node) -> tuple[str, int]:
    """``Buffer[0..15]`` → ("Buffer", 16); plain names have one instance."""
    raw = node.as_str().strip()
    m = _RANGE.match(raw)
    if not m:
        if "[" in raw or "]" in raw:
            raise node.error(f"bad instance range in name '{raw}' (expected name[lo..hi])")
        return raw, 1
    lo, hi = int(m["lo"]), int(m["hi"])
    if hi < lo:
        raise node.error(f"empty instance range in '{raw}'")
    return m["name"], hi - lo + 1


def _num(attrs: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if k in attrs and attrs[k] is not None:
            return attrs[k]
    return None


def _make_storage(name: str, cls: str, instances: int, attrs: dict[str, Any], where: Node,
                  *, dummy: bool = False) -> StorageLevel:
    """Derive a storage level's specs from its attributes the way Timeloop's buffer model does."""
    def num(*keys: str) -> Any:
        v = _num(attrs, *keys)
        if v is None:
            return None
        try:
            return float(v) if not isinstance(v, bool) else v
        except (TypeError, ValueError):
            raise where.error(f"attribute '{keys[0]}' must be a number, got {v!r}",
                              "TL_VALUE") from None

    for key in ("sparse_optimizations", "metadata_storage_depth", "metadata_depth",
                "metadata_storage_width", "metadata_datawidth"):
        v = attrs.get(key)
        if v not in (None, 0, "0"):
            raise where.error(f"'{key}' (sparse feature) is not supported: dense model only",
                              "TL_SPARSE")
    word_bits = int(num("word_bits", "word_width", "datawidth") or 16)
    block = num("block_size", "n_words")
    cluster = num("cluster_size")
    width = num("width", "memory_width", "data_storage_width")
    block_size = int(block) if block else 1
    cluster_size = int(cluster) if cluster else 1
    if width is not None:
        width = int(width)
        if width % (word_bits * block_size):
            raise where.error(
                f"width {width} is not a multiple of datawidth*block_size "
                f"({word_bits}*{block_size})", "TL_VALUE")
        if block is not None and cluster is not None:
            if block_size * word_bits * cluster_size != width:
                raise where.error("block_size * datawidth * cluster_size != width", "TL_VALUE")
        elif cluster is not None:
            block_size = width // cluster_size // word_bits
        elif block is not None:
            cluster_size = width // (word_bits * block_size)
        else:
            block_size = width // word_bits
            cluster_size = 1
    size: int | None = None
    entries = num("entries")
    depth = num("depth", "memory_depth", "data_storage_depth")
    size_kb = num("sizeKB")
    if entries is not None:
        size = int(entries)
    elif depth is not None:
        size = int(depth) * block_size
    elif size_kb is not None:
        size = int(size_kb) * 1024 * 8 // word_bits
    technology = "SRAM"
    if "DRAM" in cls or str(attrs.get("technology", "")) == "DRAM":
        technology = "DRAM"
    bw = num("bandwidth")
    read_bw = num("read_bandwidth")
    write_bw = num("write_bandwidth")
    if bw is not None:
        read_bw = read_bw if read_bw is not None else bw / 2
        write_bw = write_bw if write_bw is not None else bw / 2
    mesh_x = int(num("meshX") or 0)
    mesh_y = int(num("meshY") or 0)
    mesh_x, mesh_y = _mesh(instances, mesh_x, mesh_y, where)
    mb = num("multiple_buffering")
    return StorageLevel(
        name=name, cls=cls, instances=instances, mesh_x=mesh_x, mesh_y=mesh_y,
        word_bits=word_bits, block_size=block_size, cluster_size=cluster_size, size=size,
        technology=technology, read_bandwidth=read_bw, write_bandwidth=write_bw,
        shared_bandwidth=num("shared_bandwidth"),
        multiple_buffering=float(mb) if mb else 1.0,
        min_utilization=float(num("min_utilization") or 0.0),
        allow_overbooking=bool(attrs.get("allow_overbooking", False)),
        is_dummy=dummy or cls == "dummy_storage",
        attributes=tuple(sorted((str(k), v) for k, v in attrs.items())),
    )


def _mesh(instances: int, mesh_x: int, mesh_y: int, where: Node) -> tuple[int, int]:
    """Fill in an unspecified mesh dimension (Timeloop: all instances along X by default)."""
    if mesh_x and mesh_y:
        if mesh_x * mesh_y != instances:
            raise where.error(f"meshX*meshY = {mesh_x}*{mesh_y} != instances {instances}",
                              "TL_VALUE")
        return mesh_x, mesh_y
    if mesh_x:
        if instances % mesh_x:
            raise where.error(f"meshX {mesh_x} does not divide instances {instances}", "TL_VALUE")
        return mesh_x, instances // mesh_x
    if mesh_y:
        if instances % mesh_y:
            raise where.error(f"meshY {mesh_y} does not divide instances {instances}", "TL_VALUE")
        return instances // mesh_y, mesh_y
    return instances, 1


@dataclass(frozen=True)
class ArchConstraint:
    """One constraint attached to an architecture level (v0.4 ``constraints:`` or v0.3 list).

    ``kind`` is ``temporal``, ``spatial`` or ``bypass``; the optional fields
    mirror Timeloop's mapspace-constraint keys.
    """

    target: str
    kind: str
    factors: tuple[tuple[str, int], ...] = ()
    permutation: tuple[str, ...] = ()
    split: int | None = None
    keep: tuple[str, ...] = ()
    bypass: tuple[str, ...] = ()


def parse_architecture(node: Node) -> tuple[Architecture, tuple[ArchConstraint, ...]]:
    """Parse an ``architecture:`` section (v0.3 subtree or v0.4 nodes) into a flat chain."""
    arch = node.mapping()
    node.check_keys(("version", "subtree", "local", "nodes", "name", "attributes"))
    if "nodes" in arch:
        return _parse_v04(node.child("nodes"))
    flat: list[tuple[str, str, int, dict[str, Any], Node]] = []
    if "subtree" in arch:
        for sub in node.child("subtree").items():
            _walk_v03(sub, 1, {}, flat)
    elif "local" in arch:
        _walk_v03(node, 1, {}, flat)
    else:
        raise node.error("expected 'subtree', 'local' or 'nodes'")
    return _build(flat), ()


def _walk_v03(node: Node, mult: int, inherited: dict[str, Any],
              out: list[tuple[str, str, int, dict[str, Any], Node]]) -> None:
    node.check_keys(("name", "attributes", "local", "subtree", "class", "version"))
    count = 1
    if node.has("name"):
        _, count = _split_name(node.child("name"))
    mult *= count
    attrs = dict(inherited)
    if node.has("attributes") and node.child("attributes").value:
        attrs.update(node.child("attributes").mapping())
    if node.has("local"):
        for comp in node.child("local").items():
            comp.check_keys(("name", "class", "attributes", "required_actions", "enabled",
                             "subclass", "actions", "power_gated_at"))
            if comp.has("enabled") and comp.child("enabled").value is False:
                continue
            name, n = _split_name(comp.child("name"))
            cls = comp.child("class").as_str() if comp.has("class") else ""
            cattrs = {k: v for k, v in attrs.items() if k in ("technology",
                                                               "global_cycle_seconds")}
            if comp.has("attributes") and comp.child("attributes").value:
                cattrs.update(comp.child("attributes").mapping())
            out.append((name, cls, mult * n, cattrs, comp))
    if node.has("subtree"):
        for sub in node.child("subtree").items():
            _walk_v03(sub, mult, attrs, out)


def _build(flat: list[tuple[str, str, int, dict[str, Any], Node]]) -> Architecture:
    if not flat:
        raise ValueError("empty architecture")
    storage: list[StorageLevel] = []
    arithmetic: ArithmeticLevel | None = None
    names: set[str] = set()
    for k, (name, cls, inst, attrs, where) in enumerate(flat):
        if name in names:
            raise where.error(f"duplicate level name '{name}'")
        names.add(name)
        # Timeloop's arithmetic level is the innermost node of the hierarchy.
        if k == len(flat) - 1:
            if arithmetic is not None:
                raise where.error("more than one arithmetic level")
            mx, my = _mesh(inst, int(attrs.get("meshX") or 0), int(attrs.get("meshY") or 0),
                           where)
            # Timeloop's arithmetic word size: word_bits/datawidth, 16 when absent
            wb = _num(attrs, "word_bits", "word_width", "datawidth")
            arithmetic = ArithmeticLevel(name, cls, inst, mx, my, int(wb) if wb else 16,
                                         tuple(sorted((str(k), v) for k, v in attrs.items())))
        else:
            if arithmetic is not None:
                raise where.error("storage level below the arithmetic level")
            storage.append(_make_storage(name, cls, inst, attrs, where))
    if arithmetic is None:
        raise flat[-1][4].error("architecture has no arithmetic (compute) level")
    if not storage:
        raise flat[-1][4].error("architecture has no storage level")
    storage.reverse()  # innermost first
    arch = Architecture(tuple(storage), arithmetic)
    for i, lvl in enumerate(arch.storage):
        inner = arch.arithmetic if i == 0 else arch.storage[i - 1]
        if inner.mesh_x % lvl.mesh_x or inner.mesh_y % lvl.mesh_y:
            raise flat[0][4].error(
                f"mesh of '{inner.name}' ({inner.mesh_x}x{inner.mesh_y}) is not a multiple "
                f"of the mesh of '{lvl.name}' ({lvl.mesh_x}x{lvl.mesh_y})", "TL_VALUE")
    return arch


def _parse_v04(nodes: Node) -> tuple[Architecture, tuple[ArchConstraint, ...]]:
    """Flatten a v0.4 node list the way Timeloop's front end does.

    Nodes are visited in order; ``!Parallel`` / ``!Hierarchical`` only group.
    A node whose ``spatial`` fanout is not 1 places a dummy level
    ``inter_<name>_spatial`` at the current mesh, and everything after it sits
    on a mesh multiplied by that fanout.
    """
    order: list[Node] = []

    def visit(lst: Node) -> None:
        for item in lst.items():
            tag = item.value.get(TAG_KEY) if isinstance(item.value, dict) else None
            if tag in ("Parallel", "Hierarchical", "Branch"):
                item.check_keys(("nodes", "name"))
                visit(item.child("nodes"))
            else:
                order.append(item)

    visit(nodes)
    mesh_x = mesh_y = 1
    inherited: dict[str, Any] = {}
    flat: list[tuple[str, str, int, dict[str, Any], Node]] = []
    constraints: list[ArchConstraint] = []
    for item in order:
        tag = item.value.get(TAG_KEY) if isinstance(item.value, dict) else None
        item.check_keys(("name", "class", "attributes", "spatial", "constraints",
                         "sparse_optimizations", "enabled", "required_actions", "subclass",
                         "actions", "area_scale", "energy_scale"))
        if item.has("enabled") and item.child("enabled").value is False:
            continue
        if item.has("sparse_optimizations") and item.child("sparse_optimizations").value:
            raise item.child("sparse_optimizations").error(
                "sparse optimizations are not supported: loomc models dense workloads only",
                "TL_SPARSE")
        name = item.child("name").as_str()
        attrs = dict(item.child("attributes").value or {}) if item.has("attributes") else {}
        fx = fy = 1
        if item.has("spatial") and item.child("spatial").value:
            sp = item.child("spatial")
            sp.check_keys(("meshX", "meshY"))
            fx = sp.child("meshX").as_int(minimum=1) if sp.has("meshX") else 1
            fy = sp.child("meshY").as_int(minimum=1) if sp.has("meshY") else 1
        cons = _parse_node_constraints(item, name)
        if tag == "Container":
            inherited.update(attrs)
        if fx * fy != 1:
            dummy = f"inter_{name}_spatial"
            flat.append((dummy, "dummy_storage", mesh_x * mesh_y,
                         {"width": 1, "depth": 1, "datawidth": 1, "meshX": mesh_x,
                          "meshY": mesh_y}, item))
            constraints.extend(_dummy_constraints(dummy, cons))
            mesh_x *= fx
            mesh_y *= fy
        if tag != "Container":
            full = dict(inherited)
            full.update(attrs)
            full["meshX"], full["meshY"] = mesh_x, mesh_y
            cls = item.child("class").as_str() if item.has("class") else ""
            flat.append((name, cls, mesh_x * mesh_y, full, item))
            constraints.extend(c for c in cons if c.kind != "spatial" or fx * fy == 1)
    return _build(flat), tuple(constraints)


def _dummy_constraints(dummy: str, cons: list[ArchConstraint]) -> list[ArchConstraint]:
    out = [ArchConstraint(dummy, "bypass", bypass=("*",))]
    for c in cons:
        if c.kind == "spatial":
            out.append(ArchConstraint(dummy, "spatial", c.factors, c.permutation, c.split))
    return out


def _parse_node_constraints(item: Node, name: str) -> list[ArchConstraint]:
    if not item.has("constraints") or not item.child("constraints").value:
        return []
    cn = item.child("constraints")
    cn.check_keys(("dataspace", "temporal", "spatial", "bypass"))
    out = []
    for kind in ("dataspace", "bypass", "temporal", "spatial"):
        if cn.has(kind) and cn.child(kind).value:
            out.append(parse_constraint(cn.child(kind), name,
                                        "bypass" if kind in ("dataspace", "bypass") else kind))
    return out


def parse_constraint(c: Node, target: str, kind: str) -> ArchConstraint:
    """Parse one constraint body (factors/permutation/split or keep/bypass)."""
    c.check_keys(("factors", "permutation", "split", "keep", "bypass", "type", "target",
                  "no_reuse", "no_link_transfer", "no_multicast_no_reuse", "min_parallelism",
                  "max_overall_bypass", "default_max_factor", "default_min_factor",
                  "no_temporal_reuse", "rmw_first_update", "no_coalesce", "maximize_dims",
                  "maximize_dims_capacity"))
    factors: tuple[tuple[str, int], ...] = ()
    if c.has("factors") and c.child("factors").value is not None:
        from loomc.timeloop.mapping import parse_factor_text
        factors = tuple(parse_factor_text(c.child("factors")))
    perm: tuple[str, ...] = ()
    if c.has("permutation") and c.child("permutation").value is not None:
        from loomc.timeloop.mapping import parse_permutation_text
        perm = tuple(parse_permutation_text(c.child("permutation")))
    split = c.child("split").as_int(minimum=0) if c.has("split") else None
    keep = tuple(c.child("keep").as_str_list()) if c.has("keep") else ()
    bypass = tuple(c.child("bypass").as_str_list()) if c.has("bypass") else ()
    return ArchConstraint(target, kind, factors, perm, split, keep, bypass)
