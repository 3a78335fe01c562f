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
from dataclasses import dataclass, replace

import networkx as nx

from loomc.graph import model
from loomc.mapper.conflict import routing_core, shrink_nodes
from loomc.mapper.cost import profile_weights
from loomc.mapper.decode import decode, solver_record
from loomc.mapper.mapping import Diagnostics, Mapping
from loomc.mapper.problem import (
    IndexedProblem,
    MappingInfeasible,
    build_candidates,
    build_problem,
)
from loomc.mapper.prune import Pruned, prune_unreachable
from loomc.mapper.scale import DIRECT_LIMIT, JOINT_LIMIT, joint_size, solve_two_stage
from loomc.mapper.shortage import Shortage, describe, find_shortage
from loomc.solvers.pnr import PnRProblem, PnRSolution, SolveParams, solve

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


def prepare(dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph,
             options: MapperOptions) -> IndexedProblem | Diagnostics:
    """Candidates, the indexed problem and reachability pruning — or the
    diagnostics that end the run before any solve."""
    try:
        candidates = build_candidates(dfg, adg)
    except MappingInfeasible as err:
        return Diagnostics(
            code=err.code, message=err.message, unmapped_nodes=err.unmapped,
            first_violated_constraint="C2" if "SENTINEL" in (err.code or "") else "C1",
        )
    weights = profile_weights(options.profile, dict(options.weights))
    ip = build_problem(dfg, adg, candidates, strict_switches=options.strict_switches,
                       weights=weights[:3])
    pruned = prune_unreachable(ip)
    if pruned.dead_edge is not None or pruned.dead_node is not None:
        return _unreachable(ip, pruned, dfg)
    shortage = find_shortage(pruned.problem)
    if shortage is not None:
        return _short(pruned.problem, shortage, dfg)
    return pruned.problem


def _short(ip: IndexedProblem, shortage: Shortage, dfg) -> Diagnostics:
    """C4/C5: more ops than resource units they can use, counted (no solve)."""
    nodes = {n.id: n for n in model.nodes(dfg)}
    names = tuple(ip.sw_node_ids[v] for v in shortage.sw_nodes)
    temporal = all(u.startswith("tpe:") for u in shortage.units)
    what = "instruction slots" if temporal else "hardware nodes"
    ops = ", ".join(f"{nodes[n].op_name} '{nodes[n].name}'" for n in names)
    return Diagnostics(
        code="CPL_MAPPER_TEMPORAL_CAPACITY" if temporal else "CPL_MAPPER_INSUFFICIENT_RESOURCES",
        first_violated_constraint="C5" if temporal else "C4", unmapped_nodes=names,
        message=f"not enough {what}: "
                f"{describe(ip, shortage, {n: nodes[n].op_name for n in names})}: {ops}",
        conflicting=tuple((n, "", f"competes for the same {what}") for n in names),
    )


def map_dfg(dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph, options: MapperOptions) -> Mapping:
    """Map one DFG onto one ADG; a failed mapping comes back with diagnostics
    (``status == "failed"``) rather than as an exception."""
    params = _params(options)
    base = dict(dfg_name=dfg.graph.get("name", ""), adg_name=adg.graph.get("name", ""),
                profile=options.profile, seed=options.seed)
    ip = prepare(dfg, adg, options)
    if isinstance(ip, Diagnostics):
        return Mapping(**base, status="failed", diagnostics=ip)
    solution = _solve(ip, params)
    if solution.feasible:
        return decode(ip, solution, dfg, adg, profile=options.profile, params=params)
    return Mapping(**base, status="failed", solver=solver_record(solution, params),
                   diagnostics=_explain(ip, solution.status, solution.conflict, dfg, params))


def check_resources(dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph,
                    options: MapperOptions | None = None) -> Diagnostics | None:
    """Does the DFG fit the fabric by resources alone?  Tech-mapping,
    reachability pruning and the placement constraints (no routing) decide in
    seconds; the diagnostics name the shortage (op kind, needed, available)."""
    options = options or MapperOptions()
    ip = prepare(dfg, adg, options)
    if isinstance(ip, Diagnostics):
        return ip
    params = SolveParams(seed=options.seed, deterministic_time=5.0)
    placed = solve(PnRProblem(**{**ip.problem.__dict__, "nets": ()}), params)
    if placed.status != "INFEASIBLE":
        return None
    return _explain(ip, "INFEASIBLE", (), dfg, params)


def _solve(ip: IndexedProblem, params: SolveParams) -> PnRSolution:
    """Small problems go straight to the joint model.  Larger ones first get a
    quick mapping from the scale strategy (:mod:`loomc.mapper.scale`); if the
    joint model still fits, it then starts from that mapping and spends the
    rest of the budget improving it and bounding the gap — or, when the quick
    path found nothing, searches or proves infeasibility on its own."""
    size = joint_size(ip.problem)
    if size <= DIRECT_LIMIT:
        return solve(ip.problem, params, explain=False)  # _explain names the conflict
    quick = solve_two_stage(ip, params, windows=size > JOINT_LIMIT)
    if size > JOINT_LIMIT or quick.status == "INFEASIBLE":  # the latter: placement, proven
        return quick
    left = params.deterministic_time - quick.deterministic_time
    if left < 1.0 or (quick.wall_time >= (params.wall_time or float("inf")) - 1.0):
        return quick
    wall = None if params.wall_time is None else params.wall_time - quick.wall_time
    rest = replace(params, deterministic_time=left, wall_time=wall)
    # start from the quick mapping, or repair its least congested attempt
    start = (dict(hint=quick.node_match, hint_routes=quick.routes, repair=not quick.feasible)
             if quick.node_match else {})
    joint = solve(ip.problem, rest, explain=False, **start)
    joint = replace(joint, wall_time=joint.wall_time + quick.wall_time,
                    deterministic_time=joint.deterministic_time + quick.deterministic_time)
    if quick.feasible and (not joint.feasible or joint.objective > quick.objective):
        # keep the quick mapping, with the joint model's bound when it has one
        return replace(quick, bound=joint.bound if joint.feasible else None,
                       wall_time=joint.wall_time)
    return joint


def _unreachable(ip: IndexedProblem, pruned: Pruned, dfg) -> Diagnostics:
    """No placement connects some DFG edge (C3), found before any solve by
    reachability pruning (:mod:`loomc.mapper.prune`)."""
    nodes = {n.id: n for n in model.nodes(dfg)}
    if pruned.dead_edge is not None:
        ni, ki = pruned.dead_edge
        edge = ip.net_edges[ni][ki]
        ends = [part.split(":")[0] for part in edge.split("->")]
        what = " and ".join(f"{nodes[n].op_name} '{nodes[n].name}'" for n in ends if n in nodes)
        return Diagnostics(
            code="CPL_MAPPER_ROUTING_FAILED", first_violated_constraint="C3",
            unmapped_nodes=tuple(n for n in ends if n in nodes), failed_edges=(edge,),
            message=f"no placement of {what} has a routing path for edge {edge}",
            conflicting=tuple((n, "", "no compatible hardware pair is connected")
                              for n in ends if n in nodes),
        )
    v = ip.sw_node_ids[pruned.dead_node]
    return Diagnostics(
        code="CPL_MAPPER_ROUTING_FAILED", first_violated_constraint="C3", unmapped_nodes=(v,),
        message=f"every compatible hardware node for {nodes[v].op_name} '{nodes[v].name}' "
                "is cut off from what its neighbours can be placed on",
        conflicting=((v, "", "no connected placement"),),
    )


def _value(ip: IndexedProblem, ni: int, nodes) -> str:
    """A net as its DFG value: producer -> consumers, by source name."""
    ends = [part.split(":")[0] for e in ip.net_edges[ni] for part in e.split("->")]
    src, sinks = ends[0], list(dict.fromkeys(ends[1::2]))
    return f"'{nodes[src].name}' -> " + ", ".join(f"'{nodes[n].name}'" for n in sinks)


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
        core = tuple(ip.sw_node_ids[v] for v in shrink_nodes(
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
        hosts = sorted({c.hw_node for c in ip.candidates if set(c.sw_nodes) & set(core)})
        shown = ", ".join(h.split(":")[0] for h in hosts[:6]) + (", ..." if len(hosts) > 6 else "")
        return Diagnostics(
            code=code, first_violated_constraint=cls, unmapped_nodes=core,
            message=f"not enough {what} for {len(core)} DFG ops together (needed {len(core)}, "
                    f"{len(hosts)} connected hardware node(s) can take them: {shown}): {ops}",
            conflicting=tuple((n, "", f"competes for the same {what}") for n in core),
        )
    # C3: every node fits, the routing network cannot carry all values at once;
    # name the values (nets) that conflict, not every node of the DFG
    nets = routing_core(ip.problem, quick, total=max(10.0, params.deterministic_time))
    edges = tuple(e for ni in nets for e in ip.net_edges[ni])
    ends = tuple(dict.fromkeys(part.split(":")[0] for e in edges for part in e.split("->")))
    names = tuple(n for n in ends if n in nodes) or names
    what = "these DFG values" if len(nets) < len(ip.problem.nets) else "the DFG's values"
    shown = "; ".join(_value(ip, ni, nodes) for ni in nets[:12])
    more = f", ... ({len(nets)} in all)" if len(nets) > 12 else ""
    return Diagnostics(
        code="CPL_MAPPER_ROUTING_FAILED", first_violated_constraint="C3",
        unmapped_nodes=names, failed_edges=edges,
        message=f"every op fits, but the routing network cannot carry {what} at once "
                f"(each placement leaves some edge unroutable): {shown}{more}",
        conflicting=tuple((n, "", "its edges cannot all be routed") for n in names),
    )
