"""``stats.txt`` in Timeloop's layout, written from a :class:`~loomc.timeloop.model.ModelResult`.

Sections as Timeloop prints them (src/model/topology.cpp, buffer.cpp,
arithmetic.cpp): per level SPECS / MAPPING / STATS (levels with neither
accesses nor energy — the dummy spatial levels — are left out, with their
level numbers skipped), Networks (legacy networks cost nothing here, so the
section is empty), Operational Intensity, Summary, and energy per compute.
Floating-point numbers use two decimals like Timeloop's fixed format.

One deliberate difference: the summary's ``Area`` is the sum of the ART areas
(Timeloop computes it before reading the ART and prints 0.00 without its
built-in area model).
"""

from __future__ import annotations

import struct

from loomc.timeloop.mapping import SPATIAL_X, TEMPORAL
from loomc.timeloop.model import LevelStats, ModelResult
from loomc.timeloop.spec import Spec


def _f(x: float) -> str:
    return f"{x:.2f}"


def _f32(x: float) -> str:
    """Areas pass through single precision in Timeloop before printing."""
    return _f(struct.unpack("f", struct.pack("f", x))[0])


def _opt(x: float | int | None) -> str:
    return "-" if x is None else (_f(x) if isinstance(x, float) else str(x))


def _loop(spec: Spec, dim: int, bound: int, kind: int) -> str:
    text = f"for {spec.problem.dims[dim]} in [0:{bound})"
    if kind != TEMPORAL:
        text += " (Spatial-X)" if kind == SPATIAL_X else " (Spatial-Y)"
    return text


def _total_ops(spec: Spec, result: ModelResult) -> tuple[int, int, int]:
    """(elementwise ops, reduction ops, minimum traffic) as Timeloop's intensity stats."""
    traffic = 0
    out_size = 0
    for j, ds in enumerate(spec.problem.data_spaces):
        cap = 0
        for lv in reversed(result.levels):
            cap = lv.data_spaces[j].utilized_capacity
            if cap > 0:
                break
        traffic += cap
        if ds.read_write:
            out_size += cap
    return result.computes, result.computes - out_size, traffic


def _accesses(lv: LevelStats) -> int:
    return sum(d.utilized_instances * (d.reads + d.fills + d.updates)
               for d in lv.data_spaces if d.keep)


def _level_block(spec: Spec, lv: LevelStats) -> list[str]:
    s = lv.spec
    i2 = "        "
    e = spec.ert.get(lv.name)
    out = [f"=== {lv.name} ===", "", "    SPECS", "    -----"]
    out += [
        f"{i2}Technology                      : {s.technology}",
        f"{i2}Size                            : {_opt(s.size)}",
        f"{i2}Word bits                       : {s.word_bits}",
        f"{i2}Block size                      : {s.block_size}",
        f"{i2}Cluster size                    : {s.cluster_size}",
        f"{i2}Instances                       : {s.instances} ({s.mesh_x}*{s.mesh_y})",
        f"{i2}Shared bandwidth                : {_opt(s.shared_bandwidth)}",
        f"{i2}Read bandwidth                  : {_opt(s.read_bandwidth)}",
        f"{i2}Write bandwidth                 : {_opt(s.write_bandwidth)}",
        f"{i2}Multiple buffering              : {_f(s.multiple_buffering)}",
        f"{i2}Effective size                  : {_opt(s.effective_size)}",
        f"{i2}Min utilization                 : {_f(s.min_utilization)}",
        f"{i2}Vector access energy            : {_f(lv.vector_access_energy)} pJ",
        f"{i2}Vector access energy source     : {'ERT' if e else 'none'}",
        f"{i2}Per-instance-cycle leakage      : {_f(e.leak if e else 0.0)} pJ",
        f"{i2}Instances sharing power gating  : 1.00",
        f"{i2}Non-power-gated utilization     : 100.00%",
        f"{i2}Leakage energy (total)          : {_f(lv.leakage_energy)} pJ",
        f"{i2}Area                            : {_f32(lv.area)} um^2",
        "",
        "    MAPPING", "    -------", "    Loop nest:",
    ]
    ind = "      "
    for lp in reversed(lv.loops):
        out.append(ind + _loop(spec, lp.dim, lp.bound, lp.kind))
        ind += "  "
    out += ["", "    STATS", "    -----",
            f"    Cycles               : {lv.cycles}",
            f"    Bandwidth throttling : {_f(lv.slowdown)}"]
    for d in lv.data_spaces:
        if not d.keep:
            continue
        u = d.utilized_instances
        shared = d.read_bandwidth + d.write_bandwidth
        out += [
            f"    {d.name}:",
            f"{i2}Partition size                           : {d.partition_size}",
            f"{i2}Utilized capacity                        : {d.utilized_capacity}",
            f"{i2}Utilized instances (max)                 : {u}",
            f"{i2}Utilized clusters (max)                  : {d.utilized_clusters}",
            f"{i2}Scalar reads (per-instance)              : {d.reads}",
            f"{i2}Scalar fills (per-instance)              : {d.fills}",
            f"{i2}Scalar updates (per-instance)            : {d.updates}",
            f"{i2}Temporal reductions (per-instance)       : {d.temporal_reductions}",
            f"{i2}Address generations (per-cluster)        : {d.address_generations}",
            f"{i2}Energy (per-scalar-access)               : {_f(d.energy_per_scalar_access)} pJ",
            f"{i2}Energy (per-instance)                    : {_f(d.energy_per_instance)} pJ",
            f"{i2}Energy (total)                           : {_f(d.energy)} pJ",
            f"{i2}Temporal Reduction Energy (per-instance) : 0.00 pJ",
            f"{i2}Temporal Reduction Energy (total)        : 0.00 pJ",
            f"{i2}Address Generation Energy (per-cluster)  : 0.00 pJ",
            f"{i2}Address Generation Energy (total)        : 0.00 pJ",
            f"{i2}Bandwidth Consumption Scale              : 1.00",
            f"{i2}Shared Bandwidth (per-instance)          : {_f(shared)} words/cycle",
            f"{i2}Shared Bandwidth (total)                 : {_f(shared * u)} words/cycle",
            f"{i2}Read Bandwidth (per-instance)            : {_f(d.read_bandwidth)} words/cycle",
            f"{i2}Read Bandwidth (total)                   : "
            f"{_f(d.read_bandwidth * u)} words/cycle",
            f"{i2}Write Bandwidth (per-instance)           : {_f(d.write_bandwidth)} words/cycle",
            f"{i2}Write Bandwidth (total)                  : "
            f"{_f(d.write_bandwidth * u)} words/cycle",
        ]
    out.append("")
    return out


def stats_text(spec: Spec, result: ModelResult) -> str:
    """The ``stats.txt`` text of an evaluated mapping."""
    c = result.compute
    lines = ["Buffer and Arithmetic Levels", "----------------------------",
             "Level 0", "-------", f"=== {c.name} ===", "", "    SPECS", "    -----",
             f"    Word bits             : {c.word_bits}",
             f"    Instances             : {c.instances} ({c.mesh_x}*{c.mesh_y})",
             f"    Compute energy        : {_f(c.compute_energy)} pJ", "",
             "    STATS", "    -----",
             f"    Utilized instances      : {c.utilized_instances}",
             f"    Computes (total)        : {c.computes}",
             f"    Cycles                  : {c.cycles}",
             f"    Energy (total)          : {_f(c.energy)} pJ",
             f"    Area (total)            : {_f(c.area * c.instances)} um^2", ""]
    for k, lv in enumerate(result.levels, start=1):
        if _accesses(lv) == 0 and lv.energy == 0:
            continue
        lines += [f"Level {k}", "-------"] + _level_block(spec, lv)
    lines += ["Networks", "--------", "", "Operational Intensity Stats",
              "---------------------------"]
    elem, red, traffic = _total_ops(spec, result)
    total_ops = elem + red
    top_bits = result.levels[-1].spec.word_bits
    lines += [
        f"    {'Total elementwise ops':<40}: {elem}",
        f"    {'Total reduction ops':<40}: {red}",
        f"    {'Total ops':<40}: {total_ops}",
        f"    {'Total memory accesses required':<40}: {traffic}",
        f"    {'Optimal Op per Byte':<40}: {_f(total_ops / (top_bits * traffic / 8))}", "",
    ]
    for lv in result.levels:
        lines.append(f"=== {lv.name} ===")
        acc = _accesses(lv)
        if acc > 0:
            lines.append(f"    {'Total scalar accesses':<40}: {acc}")
            lines.append(f"    {'Op per Byte':<40}: "
                         f"{_f(total_ops / (lv.spec.word_bits * acc / 8))}")
    lines += ["", "", "Summary Stats", "-------------",
              f"GFLOPs (@1GHz): {_f(total_ops / result.cycles)}",
              f"Utilization: {result.utilization * 100:.2f}%",
              f"Cycles: {result.cycles}",
              f"Energy: {_f(result.energy / 1e6)} uJ",
              f"EDP(J*cycle): {result.cycles * result.energy / 1e12:.2e}",
              f"Area: {_f(result.area / 1e6)} mm^2", ""]
    names = [c.name] + [lv.name for lv in result.levels]
    inner = [c.name] + [lv.name for lv in result.levels[:-1]]
    nets = [f"{o} <==> {i}" for o, i in zip([lv.name for lv in result.levels], inner,
                                           strict=True)]
    align = max(len(n) for n in names + nets) + 1
    lines += [f"Computes = {result.computes}", "fJ/Compute"]
    lines.append(f"    {c.name:<{align}}= {_f(c.energy * 1000 / result.computes)}")
    for lv in result.levels:
        if lv.energy == 0:
            continue
        lines.append(f"    {lv.name:<{align}}= {_f(lv.energy * 1000 / result.computes)}")
    lines.append(f"    {'Total':<{align}}= {_f(result.energy_per_compute)}")
    return "\n".join(lines) + "\n\n"
