"""Placement alone, as a CP-SAT model with a wirelength objective.

For DFGs whose joint place-and-route model is too large, loomc first places
with this model, then routes with :mod:`loomc.solvers.pnr` restricted to the
chosen matches and to routing corridors (spec-mapper-algorithm.md "Stage 2:
Initial Heuristic Placement" uses precomputed routing costs to estimate
placement quality; here that estimate is optimised exactly).

Each hardware placement target has integer coordinates (an embedding of the
fabric's hop distances, computed by the caller).  A DFG node's position is the
sum of its match literals times the match's coordinates; the objective is the
total L1 distance over DFG edges.  Resource capacities are those of the joint
model, so a placement found here is always resource-feasible.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from loomc.solvers.pnr import Match, SolveParams, configure_solver
from ortools.sat.python import cp_model


@dataclass(frozen=True)
class PlacementProblem:
    num_sw_nodes: int
    matches: tuple[Match, ...]
    #: coordinates of each match's hardware node (one tuple per match)
    coords: tuple[tuple[int, ...], ...]
    #: DFG edges as (sw_node, sw_node, weight)
    edges: tuple[tuple[int, int, int], ...]
    resource_capacity: tuple[tuple[str, int], ...] = ()
    #: matches that must not be used (e.g. learnt from failed routing)
    forbidden: tuple[int, ...] = ()
    #: a previous placement to start from (match index per node, -1 if none)
    hint: tuple[int, ...] = ()
    #: no-good cuts: sets of matches that must not all be chosen together
    nogoods: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class PlacementSolution:
    status: str
    objective: float | None
    bound: float | None
    node_match: tuple[int, ...] = ()
    conflict: tuple[int, ...] = ()
    deterministic_time: float = 0.0

    @property
    def feasible(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")


def solve_placement(problem: PlacementProblem, params: SolveParams) -> PlacementSolution:
    cp = cp_model.CpModel()
    lits = [cp.NewBoolVar(f"m{i}") for i in range(len(problem.matches))]
    for i in problem.forbidden:
        cp.Add(lits[i] == 0)
    for cut in problem.nogoods:
        cp.AddBoolOr([lits[i].Not() for i in cut])
    assume = [cp.NewBoolVar(f"place{v}") for v in range(problem.num_sw_nodes)]
    covering: dict[int, list[int]] = defaultdict(list)
    for mi, match in enumerate(problem.matches):
        for v in match.sw_nodes:
            covering[v].append(mi)
    for v in range(problem.num_sw_nodes):
        cp.Add(sum(lits[i] for i in covering.get(v, [])) == 1).OnlyEnforceIf(assume[v])
        cp.Add(sum(lits[i] for i in covering.get(v, [])) <= 1)
    usage: dict[str, list] = defaultdict(list)
    for mi, match in enumerate(problem.matches):
        for key, amount in match.uses:
            usage[key].append(amount * lits[mi])
    for key, cap in problem.resource_capacity:
        if key in usage:
            cp.Add(sum(usage[key]) <= cap)

    dims = len(problem.coords[0]) if problem.coords else 0
    pos = []
    for v in range(problem.num_sw_nodes):
        pos.append([sum(problem.coords[i][d] * lits[i] for i in covering.get(v, []))
                    for d in range(dims)])
    terms = []
    for u, v, w in problem.edges:
        if u == v:
            continue
        for d in range(dims):
            hi = max((problem.coords[i][d] for i in covering.get(u, []) + covering.get(v, [])),
                     default=0)
            dist = cp.NewIntVar(0, max(hi, 0) * 2 + 1, f"d{u}_{v}_{d}")
            cp.Add(dist >= pos[u][d] - pos[v][d])
            cp.Add(dist >= pos[v][d] - pos[u][d])
            terms.append(w * dist)
    cp.Minimize(sum(terms))
    for mi in sorted(set(problem.hint)):
        if mi >= 0:
            cp.AddHint(lits[mi], 1)
    cp.AddAssumptions(assume)
    solver = cp_model.CpSolver()
    configure_solver(solver, params, hinted=any(mi >= 0 for mi in problem.hint))
    status = solver.Solve(cp)
    name = solver.StatusName(status)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        node_match = [-1] * problem.num_sw_nodes
        for mi, match in enumerate(problem.matches):
            if solver.BooleanValue(lits[mi]):
                for v in match.sw_nodes:
                    node_match[v] = mi
        return PlacementSolution(name, solver.ObjectiveValue(), solver.BestObjectiveBound(),
                                 tuple(node_match),
                                 deterministic_time=solver.deterministic_time)
    conflict: tuple[int, ...] = ()
    if status == cp_model.INFEASIBLE:
        core = set(solver.SufficientAssumptionsForInfeasibility())
        conflict = tuple(v for v, a in enumerate(assume) if a.Index() in core)
    return PlacementSolution(name, None, None, conflict=conflict,
                             deterministic_time=solver.deterministic_time)
