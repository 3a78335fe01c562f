"""The CP-SAT place-and-route model on hand-built problems.

The hardware in these tests is one 3×3 switch feeding one two-input PE:
module inputs 0, 1 → switch inputs 2, 3; PE output 10 → switch input 4;
switch outputs 5, 6, 7 → PE inputs 8, 9 and module output 11.
"""

from __future__ import annotations

from dataclasses import replace

from loomc.solvers.pnr import Arc, Endpoint, Match, Net, PnRProblem, SolveParams, solve

WIRES = [(0, 2), (1, 3), (10, 4), (5, 8), (6, 9), (7, 11)]
SWITCH = [(i, o) for i in (2, 3, 4) for o in (5, 6, 7)]


def _problem(num_ops: int, tag_bits: int = 0) -> PnRProblem:
    arcs = tuple(Arc(s, d) for s, d in WIRES + SWITCH)
    matches = tuple(
        Match(hw_node=100, sw_nodes=(v,), inputs=((v, 0, 8), (v, 1, 9)),
              outputs=((v, 0, 10),), uses=(("pe:100", 1),))
        for v in range(num_ops)
    )
    nets = (
        Net("a", Endpoint(hw_port=0), (Endpoint(0, 0),)),
        Net("b", Endpoint(hw_port=1), (Endpoint(0, 1),)),
        Net("c", Endpoint(0, 0), (Endpoint(hw_port=11),)),
    )
    for v in range(1, num_ops):  # extra ops consume c and feed nothing
        nets += (Net(f"x{v}", Endpoint(hw_port=1), (Endpoint(v, 0), Endpoint(v, 1))),)
    return PnRProblem(
        num_ports=12, port_tag_bits=(tag_bits,) * 12, arcs=arcs, num_sw_nodes=num_ops,
        matches=matches, nets=nets, resource_capacity=(("pe:100", 1),),
    )


def test_single_op_routes_through_the_switch():
    problem = _problem(1)
    sol = solve(problem, SolveParams(deterministic_time=5))
    assert sol.status == "OPTIMAL"
    hops = [[(problem.arcs[a].src, problem.arcs[a].dst) for a in path]
            for net in sol.routes for path in net]
    assert hops == [[(0, 2), (2, 5), (5, 8)], [(1, 3), (3, 6), (6, 9)],
                    [(10, 4), (4, 7), (7, 11)]]
    assert sol.objective == 9  # three hops per net, unit weights
    assert sol.gap == 0.0


def test_two_ops_on_one_pe_is_infeasible_with_a_conflict_set():
    sol = solve(_problem(2), SolveParams(deterministic_time=5))
    assert sol.status == "INFEASIBLE"
    assert set(sol.conflict) == {0, 1}


def test_same_seed_same_solution():
    a = solve(_problem(1), SolveParams(seed=3, deterministic_time=5))
    b = solve(_problem(1), SolveParams(seed=3, deterministic_time=5))
    assert a.node_match and a.routes
    assert a == replace(b, wall_time=a.wall_time)  # everything but the wall clock
