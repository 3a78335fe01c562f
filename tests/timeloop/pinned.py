"""The CP-SAT tiling model pinned to one mapping: what its bound variables say."""

from __future__ import annotations

from loomc.solvers.tiling_model import TilingModel
from loomc.solvers.tiling_spec import TilePoint, TilingSpec
from ortools.sat.python import cp_model


def pinned_values(spec: TilingSpec, pt: TilePoint):
    tm = TilingModel(spec)
    tm.fix(pt)
    for g in tm.groups.values():
        tm.m.Add(g == 1)
    s = cp_model.CpSolver()
    s.parameters.num_workers = 1
    st = s.Solve(tm.m)
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    counts = [[(s.Value(tm.reads[lv, k]), s.Value(tm.fills[lv, k]), s.Value(tm.updates[lv, k]))
               for k in range(len(spec.spaces))] for lv in range(len(spec.levels))]
    return s.Value(tm.cycles), s.Value(tm.energy) / tm.scale, counts
