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

from loomc.timeloop.arch import StorageLevel
from loomc.timeloop.ert import ActionEnergies
from loomc.timeloop.mapping import Loop, Mapping, check_mapping
from loomc.timeloop.nest import NestAnalyzer, NestResult
from loomc.timeloop.spec import Spec

_NO_ENERGY = ActionEnergies(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class DataSpaceStats:
    """One data space at one storage level (counts per instance, as in stats.txt)."""

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


@dataclass(frozen=True)
class LevelStats:
    """One storage level: its specs as the model used them and its results."""

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

    def evaluate(self, mapping: Mapping, *, check: bool = True) -> ModelResult:
        """Evaluate ``mapping``; with ``check`` an invalid mapping raises MappingError."""
        spec = self.spec
        prob, arch = spec.problem, spec.arch
        if check:
            check_mapping(prob, arch, mapping)
        nest = self.analyzer.analyze(mapping)
        compute_cycles = nest.compute_cycles
        nds = len(prob.data_spaces)

        # Pass 1: counts, bandwidth, per-level cycles.
        pre = []
        cycles = compute_cycles
        for li, lvl in enumerate(arch.storage):
            row = nest.stats[li]
            read_bw = [0.0] * nds
            write_bw = [0.0] * nds
            for j in range(nds):
                t = row[j]
                if not t.keep:
                    continue
                read_bw[j] = t.reads / compute_cycles
                write_bw[j] = (t.fills + t.updates) / compute_cycles
            slowdown = 1.0
            tr, tw = sum(read_bw), sum(write_bw)
            if lvl.read_bandwidth is not None and lvl.read_bandwidth < tr:
                slowdown = min(slowdown, lvl.read_bandwidth / tr)
            if lvl.write_bandwidth is not None and lvl.write_bandwidth < tw:
                slowdown = min(slowdown, lvl.write_bandwidth / tw)
            if lvl.shared_bandwidth is not None and lvl.shared_bandwidth < tr + tw:
                slowdown = min(slowdown, lvl.shared_bandwidth / (tr + tw))
            lcycles = math.ceil(compute_cycles / slowdown)
            cycles = max(cycles, lcycles)
            pre.append((read_bw, write_bw, slowdown, lcycles))

        # Pass 2: energy (leakage needs the final cycle count).
        levels = []
        total_energy = 0.0
        total_area = 0.0
        for li, lvl in enumerate(arch.storage):
            read_bw, write_bw, slowdown, lcycles = pre[li]
            e = spec.ert.get(lvl.name, _NO_ENERGY)
            block = lvl.block_size
            n_clusters = lvl.instances // lvl.cluster_size
            dss = []
            level_energy = 0.0
            max_util = 1
            for j, ds in enumerate(prob.data_spaces):
                t = nest.stats[li][j]
                if not t.keep:
                    dss.append(DataSpaceStats(ds.name, False, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                              0.0, 0.0, 0.0, 0.0, 0.0))
                    continue
                max_util = max(max_util, t.utilized_instances)
                clusters = min(t.utilized_x * t.utilized_y, n_clusters)
                per_inst = (-(-t.reads // block) * e.read + -(-t.fills // block) * e.fill
                            + -(-t.updates // block) * e.update)
                cluster_util = (t.utilized_x * t.utilized_y) / clusters if clusters else 1.0
                per_inst /= cluster_util
                total = per_inst * t.utilized_instances
                level_energy += total
                accesses = t.reads + t.fills + t.updates
                addr = (t.updates + t.fills) if ds.read_write else (t.reads + t.fills)
                dss.append(DataSpaceStats(
                    ds.name, True, t.partition_size, t.size, t.utilized_instances, clusters,
                    t.reads, t.fills, t.updates, t.temporal_reductions, addr, per_inst, total,
                    per_inst / accesses if accesses else 0.0,
                    read_bw[j] * slowdown, write_bw[j] * slowdown))
            leak = e.leak * cycles * max_util
            level_energy += leak
            area = spec.art.get(lvl.name, 0.0)
            total_energy += level_energy
            total_area += area * lvl.instances
            loops = tuple(lp for lp in nest.loops if lp.level == li)
            levels.append(LevelStats(lvl.name, lvl, loops, tuple(dss), lcycles, slowdown,
                                     e.max_energy / lvl.cluster_size, leak, level_energy, area))

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
