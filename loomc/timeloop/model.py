"""Evaluate one mapping: counts from the nest analysis, then cycles, energy and area.

:func:`evaluate` is the public entry point; it returns a frozen
:class:`ModelResult` holding every number Timeloop's ``stats.txt`` reports as
data.  :class:`Evaluator` keeps the per-spec precomputation so the tiling
optimizer can evaluate many mappings quickly.

Energy (src/model/buffer.cpp): each data space's scalar accesses are grouped
into block-wide vector accesses (``ceil(n / block_size)``) and priced with the
ERT's read / fill / update energies; a level's energy is that times its
utilized instances, plus leakage (``leak * cycles * utilized instances``).
Compute energy is ``computes * compute energy``.  Cycles: one compute per
cycle per unit; a buffer whose read, write or shared bandwidth cannot keep
up slows everything down by the ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from loomc.timeloop.arch import StorageLevel
from loomc.timeloop.ert import ActionEnergies
from loomc.timeloop.mapping import Loop, Mapping, check_mapping
from loomc.timeloop.nest import NestAnalyzer, NestResult
from loomc.timeloop.spec import Spec

_NO_ENERGY = ActionEnergies(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


class DataSpaceStats(NamedTuple):
    """One data space at one storage level (counts per instance, as in stats.txt).

    Immutable record; a NamedTuple because thousands are built per second.
    """

    name: str
    keep: bool
    partition_size: int
    utilized_capacity: int
    utilized_instances: int
    utilized_clusters: int
    reads: int
    fills: int
    updates: int
    temporal_reductions: int
    address_generations: int
    energy_per_instance: float
    energy: float  # total over utilized instances (pJ)
    energy_per_scalar_access: float
    read_bandwidth: float  # words/cycle per instance
    write_bandwidth: float


class LevelStats(NamedTuple):
    """One storage level: its specs as the model used them and its results (immutable)."""

    name: str
    spec: StorageLevel
    loops: tuple[Loop, ...]
    data_spaces: tuple[DataSpaceStats, ...]
    cycles: int
    slowdown: float
    vector_access_energy: float
    leakage_energy: float
    energy: float  # storage + leakage (pJ)
    area: float  # per instance (um^2)

    def ds(self, name: str) -> DataSpaceStats:
        for d in self.data_spaces:
            if d.name == name:
                return d
        raise KeyError(name)


@dataclass(frozen=True)
class ComputeStats:
    """The arithmetic level."""

    name: str
    instances: int
    mesh_x: int
    mesh_y: int
    word_bits: int
    utilized_instances: int
    computes: int
    cycles: int
    compute_energy: float  # per compute (pJ)
    energy: float
    area: float


@dataclass(frozen=True)
class ModelResult:
    """Results of evaluating one mapping (Timeloop's stats as data)."""

    computes: int
    cycles: int
    energy: float  # pJ
    area: float  # um^2
    utilization: float
    compute: ComputeStats
    levels: tuple[LevelStats, ...]  # innermost first
    nest: NestResult

    def level(self, name: str) -> LevelStats:
        for lv in self.levels:
            if lv.name == name:
                return lv
        raise KeyError(name)

    @property
    def energy_per_compute(self) -> float:
        """fJ per compute (the summary's ``Total`` line)."""
        return self.energy / self.computes * 1000.0 if self.computes else 0.0


class Evaluator:
    """Per-spec precomputation; call :meth:`evaluate` for each mapping."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.analyzer = NestAnalyzer(spec.problem, spec.arch)
        prob = spec.problem
        # per level: (spec, energies, block size, clusters, area, records for bypassed spaces)
        self._levels = []
        for lvl in spec.arch.storage:
            e = spec.ert.get(lvl.name, _NO_ENERGY)
            bypassed = tuple(DataSpaceStats(ds.name, False, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                            0.0, 0.0, 0.0, 0.0, 0.0)
                             for ds in prob.data_spaces)
            self._levels.append((lvl, e, lvl.block_size, lvl.instances // lvl.cluster_size,
                                 spec.art.get(lvl.name, 0.0), bypassed,
                                 e.max_energy / lvl.cluster_size))
        self._ds = [(ds.name, ds.read_write) for ds in prob.data_spaces]

    def evaluate(self, mapping: Mapping, *, check: bool = True) -> ModelResult:
        """Evaluate ``mapping``; with ``check`` an invalid mapping raises MappingError."""
        spec = self.spec
        prob, arch = spec.problem, spec.arch
        if check:
            check_mapping(prob, arch, mapping)
        nest = self.analyzer.analyze(mapping)
        compute_cycles = nest.compute_cycles
        nds = len(self._ds)

        # Pass 1: bandwidth and per-level cycles.
        pre = []
        cycles = compute_cycles
        for li, lvl in enumerate(arch.storage):
            row = nest.stats[li]
            read_bw = [0.0] * nds
            write_bw = [0.0] * nds
            tr = tw = 0.0
            for j in range(nds):
                t = row[j]
                if t.keep:
                    r = read_bw[j] = t.reads / compute_cycles
                    w = write_bw[j] = (t.fills + t.updates) / compute_cycles
                    tr += r
                    tw += w
            slowdown = 1.0
            if lvl.read_bandwidth is not None and lvl.read_bandwidth < tr:
                slowdown = min(slowdown, lvl.read_bandwidth / tr)
            if lvl.write_bandwidth is not None and lvl.write_bandwidth < tw:
                slowdown = min(slowdown, lvl.write_bandwidth / tw)
            if lvl.shared_bandwidth is not None and lvl.shared_bandwidth < tr + tw:
                slowdown = min(slowdown, lvl.shared_bandwidth / (tr + tw))
            lcycles = compute_cycles if slowdown == 1.0 else math.ceil(compute_cycles / slowdown)
            if lcycles > cycles:
                cycles = lcycles
            pre.append((read_bw, write_bw, slowdown, lcycles))

        loops_of: list[list[Loop]] = [[] for _ in arch.storage]
        for lp in nest.loops:
            loops_of[lp.level].append(lp)

        # Pass 2: energy (leakage needs the final cycle count).
        levels = []
        total_energy = 0.0
        total_area = 0.0
        for li, (lvl, e, block, n_clusters, area, bypassed, vae) in enumerate(self._levels):
            read_bw, write_bw, slowdown, lcycles = pre[li]
            row = nest.stats[li]
            dss = []
            level_energy = 0.0
            max_util = 1
            for j in range(nds):
                t = row[j]
                if not t.keep:
                    dss.append(bypassed[j])
                    continue
                name, rw = self._ds[j]
                util = t.utilized_instances
                if util > max_util:
                    max_util = util
                xy = t.utilized_x * t.utilized_y
                clusters = min(xy, n_clusters)
                per_inst = (-(-t.reads // block) * e.read + -(-t.fills // block) * e.fill
                            + -(-t.updates // block) * e.update)
                if clusters and xy != clusters:
                    per_inst /= xy / clusters
                total = per_inst * util
                level_energy += total
                accesses = t.reads + t.fills + t.updates
                addr = (t.updates + t.fills) if rw else (t.reads + t.fills)
                dss.append(DataSpaceStats(
                    name, True, t.partition_size, t.size, util, clusters,
                    t.reads, t.fills, t.updates, t.temporal_reductions, addr, per_inst, total,
                    per_inst / accesses if accesses else 0.0,
                    read_bw[j] * slowdown, write_bw[j] * slowdown))
            leak = e.leak * cycles * max_util
            level_energy += leak
            total_energy += level_energy
            total_area += area * lvl.instances
            levels.append(LevelStats(lvl.name, lvl, tuple(loops_of[li]), tuple(dss), lcycles,
                                     slowdown, vae, leak, level_energy, area))

        ar = arch.arithmetic
        ce = spec.ert.get(ar.name, _NO_ENERGY)
        computes = compute_cycles * nest.compute_instances
        comp_energy = computes * ce.compute
        comp_area = spec.art.get(ar.name, 0.0)
        total_energy += comp_energy
        total_area += comp_area * ar.instances
        compute = ComputeStats(ar.name, ar.instances, ar.mesh_x, ar.mesh_y, ar.word_bits,
                               nest.compute_instances, computes, compute_cycles, ce.compute,
                               comp_energy, comp_area)
        utilization = (computes / cycles) / ar.instances if cycles else 0.0
        return ModelResult(computes, cycles, total_energy, total_area, utilization, compute,
                           tuple(levels), nest)


def evaluate(spec: Spec, mapping: Mapping, *, check: bool = True) -> ModelResult:
    """Evaluate one mapping of ``spec`` (convenience wrapper around :class:`Evaluator`)."""
    ev = _CACHE.get(id(spec))
    if ev is None or ev.spec is not spec:
        ev = Evaluator(spec)
        _CACHE.clear()
        _CACHE[id(spec)] = ev
    return ev.evaluate(mapping, check=check)


_CACHE: dict[int, Evaluator] = {}
