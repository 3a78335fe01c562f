"""The mapper pipeline: graphs → candidates → CP-SAT → :class:`Mapping`.

spec-mapper-algorithm.md "PnR Pipeline": preprocessing (sentinel binding),
tech-mapping with the reachability check (Stage 1), then placement, routing and
temporal assignment decided together by one CP-SAT model (our replacement for
Stages 2–5), and a mapping ready for validation and emission (Stage 6).

When no mapping exists the pipeline says why: the ``CPL_MAPPER_*`` code, the
first violated constraint class and a conflicting set of DFG nodes taken from
the solver's assumption core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx

from loomc.graph import model
from loomc.mapper.cost import profile_weights
from loomc.mapper.decode import decode, solver_record
from loomc.mapper.mapping import Diagnostics, Mapping
from loomc.mapper.problem import (
    IndexedProblem,
    MappingInfeasible,
    build_candidates,
    build_problem,
)
from loomc.mapper.scale import JOINT_LIMIT, joint_size, solve_two_stage
from loomc.solvers.pnr import PnRProblem, SolveParams, solve

#: wall-clock safety cap, as a multiple of the (deterministic) budget
WALL_CAP = 4.0

PROFILES = ("balanced", "cpsat_full", "heuristic_only", "throughput_first",
            "area_power_first", "deterministic_debug")


@dataclass(frozen=True)
class MapperOptions:
    budget: float = 60.0
    seed: int = 0
    profile: str = "balanced"
    reproducible: bool = True
    #: enforce one input per plain-switch output even for tagged traffic
    strict_switches: bool = False
    #: overrides of the profile's cost-family weights (``loomc.mapper.cost``)
    weights: tuple[tuple[str, float], ...] = ()
    progress: Callable[[str], None] | None = None
    #: receives CP-SAT's search log (``--mapper-verbose``)
    search_log: Callable[[str], None] | None = None


def _params(options: MapperOptions) -> SolveParams:
    # The budget is deterministic time (CP-SAT's own machine-independent clock)
    # so the same budget and seed give the same mapping on any machine.  A
    # wall-clock safety cap of WALL_CAP x budget bounds slow or busy machines;
    # a run stopped by it may differ from run to run (and says so in its
    # wall time), which a build only sees on a badly overloaded machine.
    return SolveParams(
        seed=options.seed, deterministic_time=options.budget,
        wall_time=WALL_CAP * options.budget if options.reproducible else options.budget,
        reproducible=options.reproducible, log_progress=options.progress,
        log_search=options.search_log,
    )


def map_dfg(dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph, options: MapperOptions) -> Mapping:
    """Map one DFG onto one ADG; a failed mapping comes back with diagnostics
    (``status == "failed"``) rather than as an exception."""
    params = _params(options)
    base = dict(dfg_name=dfg.graph.get("name", ""), adg_name=adg.graph.get("name", ""),
                profile=options.profile, seed=options.seed)
    try:
        candidates = build_candidates(dfg, adg)
    except MappingInfeasible as err:
        return Mapping(**base, status="failed", diagnostics=Diagnostics(
            code=err.code, message=err.message, unmapped_nodes=err.unmapped,
            first_violated_constraint="C2" if "SENTINEL" in (err.code or "") else "C1",
        ))
    weights = profile_weights(options.profile, dict(options.weights))
    ip = build_problem(dfg, adg, candidates, strict_switches=options.strict_switches,
                       weights=weights[:2])
    if joint_size(ip.problem) <= JOINT_LIMIT:
        solution = solve(ip.problem, params)
    else:
        solution = solve_two_stage(ip, params)
    if solution.feasible:
        return decode(ip, solution, dfg, adg, profile=options.profile, params=params)
    return Mapping(**base, status="failed", solver=solver_record(solution, params),
                   diagnostics=_explain(ip, solution.status, solution.conflict, dfg, params))


def _shrink(problem: PnRProblem, core: tuple[int, ...], params: SolveParams,
            drop_first: frozenset[int] = frozenset(), max_solves: int = 60) -> tuple[int, ...]:
    """Deletion-based shrinking of an infeasible set of DFG nodes: drop a node
    whenever the rest still cannot all be placed.  Operations are tried before
    sentinels so that the set names the hardware that is missing rather than
    the module ports that would feed it.  The result is minimal when the solve
    limit is not reached."""
    kept = list(core)
    order = sorted(core, key=lambda v: (v not in drop_first, v))
    for v in order[:max_solves]:
        trial = tuple(x for x in kept if x != v)
        if trial and solve(problem, params, require=trial).status == "INFEASIBLE":
            kept = list(trial)
    return tuple(kept)


def _explain(ip: IndexedProblem, status: str, conflict, dfg, params: SolveParams) -> Diagnostics:
    """Name the first violated constraint class: if the placement alone (no
    routing) is already infeasible the conflict is a capacity one (C4/C5),
    otherwise routing (C3)."""
    nodes = {n.id: n for n in model.nodes(dfg)}
    names = tuple(ip.sw_node_ids[v] for v in conflict)
    if status != "INFEASIBLE":
        return Diagnostics(
            code="CPL_MAPPER_BUDGET_EXHAUSTED",
            message=f"no mapping found within the budget (solver status {status})",
            unmapped_nodes=ip.sw_node_ids,
        )
    placement_only = PnRProblem(**{**ip.problem.__dict__, "nets": ()})
    quick = SolveParams(seed=params.seed, deterministic_time=10.0)
    placed = solve(placement_only, quick)
    if not placed.feasible:
        core = tuple(ip.sw_node_ids[v] for v in _shrink(
            placement_only, placed.conflict, quick,
            frozenset(i for i, n in enumerate(ip.sw_node_ids) if nodes[n].is_sentinel)))
        if any(nodes[n].is_sentinel for n in core):
            return Diagnostics(
                code="CPL_MAPPER_SENTINEL_MISMATCH", first_violated_constraint="C2",
                unmapped_nodes=core,
                message="the fabric has too few compatible module ports for the DFG's "
                        "arguments/results: " + ", ".join(nodes[n].name for n in core),
            )
        temporal = any(c.temporal_pe for c in ip.candidates if set(c.sw_nodes) & set(core))
        code = "CPL_MAPPER_TEMPORAL_CAPACITY" if temporal else "CPL_MAPPER_INSUFFICIENT_RESOURCES"
        cls = "C5" if temporal else "C4"
        what = "instruction slots" if temporal else "compatible hardware nodes"
        ops = ", ".join(f"{nodes[n].op_name} '{nodes[n].name}'" for n in core)
        return Diagnostics(
            code=code, first_violated_constraint=cls, unmapped_nodes=core,
            message=f"not enough {what} for {len(core)} DFG ops together: {ops}",
            conflicting=tuple((n, "", f"competes for the same {what}") for n in core),
        )
    ops = ", ".join(f"{nodes[n].op_name} '{nodes[n].name}'" for n in names)
    return Diagnostics(
        code="CPL_MAPPER_ROUTING_FAILED", first_violated_constraint="C3",
        unmapped_nodes=names,
        failed_edges=tuple(e for es in ip.net_edges for e in es
                           if any(part.split(":")[0] in names for part in e.split("->"))),
        message=f"placement exists but the routing network cannot connect: {ops}",
        conflicting=tuple((n, "", "its edges cannot all be routed") for n in names),
    )
