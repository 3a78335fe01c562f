"""Joint placement and routing as one CP-SAT model.

The model works on plain data (:class:`PnRProblem`), never on MLIR or graphs:
``loomc.mapper`` turns the DFG/ADG graphs into a problem (tech-mapping gives the
:class:`Match` list, the ADG gives the port-level routing arcs) and turns the
:class:`PnRSolution` back into a mapping.

Formulation (spec-mapper-algorithm.md "CP-SAT Integration / Full-Problem Mode",
constraint classes of spec-mapper-model.md):

* **Placement (C1).** One boolean per :class:`Match`.  A match places one DFG
  node, or a whole operation group, on one hardware node and fixes the port
  binding (positional binding, spec-mapper-model.md C2).  Every DFG node is
  covered by exactly one chosen match.  Matches consume named resources
  (``pe:<n>`` capacity 1, ``tpe:<n>`` capacity ``num_instruction`` (C5.1),
  memory ``ld``/``st``/``region`` counts (C4.4, C4.5)), each bounded.
* **Routing (C3).** Each DFG value with its consumers is a :class:`Net`.  Every
  consumer is one commodity with a boolean flow per usable arc and flow
  conservation at every port; its supply and demand are the port literals of
  the chosen source and sink matches.  A net's arcs are the union of its
  commodities' flows, so fan-out branches only where the hardware lets one
  input reach several outputs (a switch broadcast, C3.6): an ADG output port has
  a single physical wire.  Sinks that a group match keeps inside one PE need no
  route.
* **Sharing (C4.1, C4.2).** A native port carries at most one net; a tagged
  port at most ``2**tag_bits`` nets, each with a distinct tag.  A value feeding
  an operation placed on a temporal PE must carry that instruction's tag, and
  the instruction tags of one temporal PE are distinct (C5.3, C5.4).
* **Temporal registers (C5.2).** A value whose producer and every consumer
  sit on FUs of one temporal PE may travel through one of that PE's internal
  registers instead of the switch network: a boolean "net n via a register of
  temporal PE t" forces the producer and all consumers onto t (with their
  ports exposed there) and switches the net's commodities off (no route, no
  tag).  At most ``num_register`` such nets per temporal PE.  One register per
  *net*, not per DFG edge: a register has one writer and any number of readers
  (spec-fabric-temporal_pe.md "Register Semantics": a multi-reader register is
  an internal fork), so ``num_register`` bounds the values held, which is what
  spec-mapper-model.md C5.2's "register-routed edges" can count in hardware.
  A value with any consumer off the PE is routed (a result goes either to a
  register or to an output port, ``res_is_reg``).
* **Objective.** Weighted routing hops plus match costs (placement pressure and
  temporal terms are folded into match costs by the caller), plus a cost per
  register used (the register-pressure term of spec-mapper-cost.md
  "Temporal Cost").

Every constraint can be switched off per DFG node through an assumption literal
("node v must be placed"), so an infeasible problem yields a small conflicting
set of DFG nodes from ``SufficientAssumptionsForInfeasibility``; likewise a
"net n is routed" literal per net (:func:`net_conflict`) names the DFG values
that cannot all be routed once every node is placed.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

# --------------------------------------------------------------------------- problem


@dataclass(frozen=True)
class Arc:
    """A directed hop between two hardware ports: a physical wire (output port →
    input port) or a legal path inside a routing node (input port → output port)."""

    src: int
    dst: int
    weight: int = 1


@dataclass(frozen=True)
class Match:
    """One way to place DFG node(s) on one hardware node.

    ``inputs``/``outputs`` bind external DFG ports to hardware ports as
    ``(sw_node, port_index, hw_port)``; a DFG port of a covered node that is not
    listed is internal to the match (an edge inside a multi-op PE body).
    """

    hw_node: int
    sw_nodes: tuple[int, ...]
    inputs: tuple[tuple[int, int, int], ...]
    outputs: tuple[tuple[int, int, int], ...]
    uses: tuple[tuple[str, int], ...] = ()
    #: id of the temporal PE whose instruction this match occupies, if any
    temporal_pe: int | None = None
    cost: int = 0


@dataclass(frozen=True)
class Endpoint:
    """A net endpoint: a DFG node port (placed by matches) or a fixed hardware
    port (a module I/O sentinel bound positionally)."""

    sw_node: int | None = None
    index: int = 0
    hw_port: int | None = None

    @property
    def is_fixed(self) -> bool:
        return self.hw_port is not None


@dataclass(frozen=True)
class Net:
    """One DFG value: its producer port and every consumer port."""

    name: str
    source: Endpoint
    sinks: tuple[Endpoint, ...]


@dataclass(frozen=True)
class PnRProblem:
    """Everything the CP-SAT model needs, as integers."""

    num_ports: int
    #: tag bits per hardware port; 0 for a native (exclusive) port
    port_tag_bits: tuple[int, ...]
    arcs: tuple[Arc, ...]
    num_sw_nodes: int
    matches: tuple[Match, ...]
    nets: tuple[Net, ...]
    resource_capacity: tuple[tuple[str, int], ...] = ()
    #: tag bits of each temporal PE's instruction tags
    temporal_tag_bits: tuple[tuple[int, int], ...] = ()
    #: arcs usable per net (None: all arcs) — the caller's pruning for scale
    net_arcs: tuple[tuple[int, ...] | None, ...] | None = None
    #: objective weight of one unit of arc weight on one routed DFG edge
    route_weight: int = 1
    #: tile classes for placement pressure: (hardware node ids, weight of occ^2)
    tiles: tuple[tuple[tuple[int, ...], int], ...] = ()
    #: groups of arcs of which at most one may carry traffic (any nets): the
    #: inputs of one plain-switch output, which selects a single input
    exclusive_arc_groups: tuple[tuple[int, ...], ...] = ()
    #: native ports that carry more than one net (a crossbar's hub): (port, max)
    port_capacity: tuple[tuple[int, int], ...] = ()
    #: internal registers per temporal PE: (temporal PE, num_register, objective
    #: cost of one register used); PEs without registers may be left out
    temporal_registers: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class SolveParams:
    """Solver settings.  Reproducible by default: a seed, a deterministic time
    limit and interleaved search give identical results run to run."""

    seed: int = 0
    deterministic_time: float = 60.0
    wall_time: float | None = None
    num_workers: int = 2
    reproducible: bool = True
    log_progress: Callable[[str], None] | None = None
    #: CP-SAT's own search log, line by line (``--mapper-verbose``)
    log_search: Callable[[str], None] | None = None


@dataclass(frozen=True)
class PnRSolution:
    """Outcome of one solve; ``status`` is a CP-SAT status name."""

    status: str
    objective: float | None
    bound: float | None
    wall_time: float
    #: chosen match index per DFG node (same index for all members of a group)
    node_match: tuple[int, ...] = ()
    #: per net: per sink, the ordered hardware arcs (index into problem.arcs);
    #: an empty path means the sink is internal to a match
    routes: tuple[tuple[tuple[int, ...], ...], ...] = ()
    #: per net, per sink: the tag on its tagged hops (None if it has none)
    sink_tags: tuple[tuple[int | None, ...], ...] = ()
    #: per DFG node on a temporal PE: its instruction tag
    instruction_tags: tuple[tuple[int, int], ...] = ()
    #: (net, temporal PE) of every net carried by an internal register (its
    #: sinks have empty routes); register indices are allocated by the caller
    net_registers: tuple[tuple[int, int], ...] = ()
    #: DFG nodes in a conflicting set, when infeasible
    conflict: tuple[int, ...] = ()
    #: CP-SAT's deterministic time spent (its own machine-independent clock)
    deterministic_time: float = 0.0

    @property
    def feasible(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.bound) / abs(self.objective))


# --------------------------------------------------------------------------- model


@dataclass
class _Model:
    """The CP-SAT model with handles on its variables, for extraction."""

    problem: PnRProblem
    cp: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    match_lit: list[cp_model.IntVar] = field(default_factory=list)
    assume: list[cp_model.IntVar] = field(default_factory=list)
    #: per net: "this value must be routed" (true unless a conflict search drops it)
    route_net: list[cp_model.IntVar] = field(default_factory=list)
    flow: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    net_arc: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    #: tag carried by each (net, sink) commodity on tagged ports
    sink_tag: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    itag: dict[int, cp_model.IntVar] = field(default_factory=dict)
    #: (net, temporal PE) -> "the net is carried by a register of that PE"
    via_reg: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)


def _port_literals(
    m: _Model, end: Endpoint, outputs: bool
) -> dict[int, list[cp_model.IntVar]] | None:
    """Hardware port → literals of matches that bind ``end`` there; None if fixed."""
    if end.is_fixed:
        return None
    table: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for mi, match in enumerate(m.problem.matches):
        if end.sw_node not in match.sw_nodes:
            continue
        for sw, idx, port in match.outputs if outputs else match.inputs:
            if sw == end.sw_node and idx == end.index:
                table[port].append(m.match_lit[mi])
    return table


def _bool_of_sum(cp: cp_model.CpModel, lits: Sequence[cp_model.IntVar], name: str):
    """A boolean equal to the sum of mutually exclusive literals."""
    b = cp.NewBoolVar(name)
    cp.Add(sum(lits) == b)
    return b


def _any(cp: cp_model.CpModel, lits: Sequence[cp_model.IntVar], name: str):
    """A boolean that is true iff one of ``lits`` is."""
    b = cp.NewBoolVar(name)
    cp.AddMaxEquality(b, lits)
    return b


def _and(cp: cp_model.CpModel, a, b, name: str):
    r = cp.NewBoolVar(name)
    cp.AddBoolAnd([a, b]).OnlyEnforceIf(r)
    cp.AddBoolOr([a.Not(), b.Not()]).OnlyEnforceIf(r.Not())
    return r


def _reach(start: set[int], allowed: set[int], adjacent: dict[int, list[int]],
           arcs: Sequence[Arc], forward: bool) -> set[int]:
    """Ports reachable from ``start`` along allowed arcs (against them when
    ``forward`` is false), ``start`` included."""
    seen = set(start)
    stack = list(start)
    while stack:
        p = stack.pop()
        for ai in adjacent.get(p, ()):
            if ai in allowed:
                q = arcs[ai].dst if forward else arcs[ai].src
                if q not in seen:
                    seen.add(q)
                    stack.append(q)
    return seen


def _register_nets(m: _Model) -> dict[int, cp_model.IntVar]:
    """Temporal-register variables (C5.2; see the module docstring).

    A net is a candidate for temporal PE ``t`` when ``t`` has registers and
    some match on ``t`` exposes the producer's result port and, for every
    consumer, some match on ``t`` exposes its operand port: the instruction
    then names the register as ``res_is_reg``/``op_is_reg`` source or
    destination in place of that port (spec-fabric-temporal_pe.md
    "Instruction Memory Format").  Fixed endpoints (module I/O) never qualify.
    Returns, per candidate net, a boolean "carried by some register"; fills
    ``m.via_reg`` and bounds each PE's register count.  The register index
    itself is not modelled: all registers are equivalent (spec-mapper-model.md
    "Temporal Assignment Metadata"), so any distinct numbering is valid."""
    problem, cp = m.problem, m.cp
    regs = {t: (n, w) for t, n, w in problem.temporal_registers if n > 0}
    if not regs:
        return {}
    out_on: dict[tuple[int, int, int], list] = defaultdict(list)
    in_on: dict[tuple[int, int, int], list] = defaultdict(list)
    for mi, match in enumerate(problem.matches):
        if match.temporal_pe not in regs:
            continue
        for sw, idx, _port in match.outputs:
            out_on[sw, idx, match.temporal_pe].append(m.match_lit[mi])
        for sw, idx, _port in match.inputs:
            in_on[sw, idx, match.temporal_pe].append(m.match_lit[mi])
    per_tpe: dict[int, list] = defaultdict(list)
    via: dict[int, cp_model.IntVar] = {}
    for ni, net in enumerate(problem.nets):
        if net.source.is_fixed or not net.sinks or any(k.is_fixed for k in net.sinks):
            continue
        options = []
        for t in sorted(regs):
            src = out_on.get((net.source.sw_node, net.source.index, t))
            sinks = [in_on.get((k.sw_node, k.index, t)) for k in net.sinks]
            if not src or not all(sinks):
                continue
            r = cp.NewBoolVar(f"reg{ni}_{t}")
            # the writer and every reader are instructions of this PE
            cp.AddBoolOr(src).OnlyEnforceIf(r)
            for lits in sinks:
                cp.AddBoolOr(lits).OnlyEnforceIf(r)
            m.via_reg[ni, t] = r
            per_tpe[t].append(r)
            options.append(r)
        if options:
            via[ni] = _bool_of_sum(cp, options, f"via{ni}")
    for t, used in per_tpe.items():
        if len(used) > regs[t][0]:
            cp.Add(sum(used) <= regs[t][0])
    return via


def build_model(problem: PnRProblem) -> _Model:
    """Encode ``problem`` as CP-SAT (see module docstring for the formulation)."""
    m = _Model(problem)
    cp = m.cp
    arcs = problem.arcs

    # -- placement: one literal per match; each DFG node covered once (if assumed)
    m.match_lit = [cp.NewBoolVar(f"match{i}") for i in range(len(problem.matches))]
    m.assume = [cp.NewBoolVar(f"place{v}") for v in range(problem.num_sw_nodes)]
    covering: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for mi, match in enumerate(problem.matches):
        for v in match.sw_nodes:
            covering[v].append(m.match_lit[mi])
    placed = []
    for v in range(problem.num_sw_nodes):
        lits = covering.get(v, [])
        cp.Add(sum(lits) <= 1)
        cp.Add(sum(lits) == 1).OnlyEnforceIf(m.assume[v])
        placed.append(_bool_of_sum(cp, lits, f"placed{v}") if lits else None)
    # group atomicity: a chosen group match covers all its members (implied by
    # exclusivity above since each member is covered by exactly one match)

    # -- resources (C4.3–C4.5, C5.1, one op per non-temporal PE)
    usage: dict[str, list] = defaultdict(list)
    for mi, match in enumerate(problem.matches):
        for key, amount in match.uses:
            usage[key].append(amount * m.match_lit[mi])
    for key, cap in problem.resource_capacity:
        if key in usage:
            cp.Add(sum(usage[key]) <= cap)

    # -- routing
    out_arcs: dict[int, list[int]] = defaultdict(list)
    in_arcs: dict[int, list[int]] = defaultdict(list)
    for ai, arc in enumerate(arcs):
        out_arcs[arc.src].append(ai)
        in_arcs[arc.dst].append(ai)

    m.route_net = [cp.NewBoolVar(f"route{ni}") for ni in range(len(problem.nets))]
    # a net carried by a temporal register needs no route: its commodities
    # run only when the net must be routed and is not in a register
    via = _register_nets(m)
    live = [m.route_net[ni] if ni not in via else
            _and(cp, m.route_net[ni], via[ni].Not(), f"live{ni}")
            for ni in range(len(problem.nets))]
    port_users: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    sink_users: dict[int, list[tuple[int, int, cp_model.IntVar]]] = defaultdict(list)
    for ni, net in enumerate(problem.nets):
        allowed = (
            problem.net_arcs[ni]
            if problem.net_arcs is not None and problem.net_arcs[ni] is not None
            else range(len(arcs))
        )
        allowed_set = set(allowed)
        src_ports = _port_literals(m, net.source, outputs=True)
        if src_ports is not None and not src_ports:
            # the producer has no match exposing this output: nothing can route it
            src_placed = cp.NewConstant(0)
        elif src_ports is None:
            src_placed = cp.NewConstant(1)
        else:
            src_placed = placed[net.source.sw_node]

        # flow variables only where a flow can run: from a port the source can
        # bind to a port this sink can bind, along the net's allowed arcs
        sink_ports = [_port_literals(m, sink, outputs=False) for sink in net.sinks]
        fwd = _reach({net.source.hw_port} if src_ports is None else set(src_ports),
                     allowed_set, out_arcs, arcs, forward=True)
        sink_arcs = []
        for sink, table in zip(net.sinks, sink_ports, strict=True):
            bwd = _reach({sink.hw_port} if table is None else set(table), allowed_set,
                         in_arcs, arcs, forward=False)
            sink_arcs.append({a for a in allowed_set
                              if arcs[a].src in fwd and arcs[a].dst in bwd})
        allowed_set = set().union(*sink_arcs) if sink_arcs else set()
        for ai in sorted(allowed_set):
            m.net_arc[ni, ai] = cp.NewBoolVar(f"n{ni}a{ai}")
        # no match here exposes the producer's port (a window of the problem may
        # lack the matches that do): its edges can only stay inside a multi-op PE
        hidden = (placed[net.source.sw_node]
                  if src_ports is not None and not src_ports else None)
        for ki, sink in enumerate(net.sinks):
            snk_ports = sink_ports[ki]
            if snk_ports is None:
                if hidden is not None:
                    cp.Add(hidden == 0)
                need = _and(cp, src_placed, live[ni], f"need{ni}_{ki}")
                demand = {sink.hw_port: need}
            else:
                routed = (
                    _bool_of_sum(cp, [lit for ls in snk_ports.values() for lit in ls],
                                 f"ext{ni}_{ki}")
                    if snk_ports else cp.NewConstant(0)
                )
                if hidden is not None:
                    cp.AddImplication(hidden, routed.Not())
                need = _and(cp, _and(cp, routed, src_placed, f"pair{ni}_{ki}"),
                            live[ni], f"need{ni}_{ki}")
                demand = {
                    p: _and(cp, _bool_of_sum(cp, ls, f"d{ni}_{ki}_{p}"), need,
                            f"dm{ni}_{ki}_{p}")
                    for p, ls in snk_ports.items()
                }
            if src_ports is None:
                supply = {net.source.hw_port: need}
            else:
                supply = {
                    p: _and(cp, _bool_of_sum(cp, ls, f"s{ni}_{ki}_{p}"), need,
                            f"sp{ni}_{ki}_{p}")
                    for p, ls in src_ports.items()
                }
            flows = {}
            for ai in sorted(sink_arcs[ki]):
                f = cp.NewBoolVar(f"f{ni}_{ki}_{ai}")
                cp.AddImplication(f, m.net_arc[ni, ai])
                flows[ai] = f
                m.flow[ni, ki, ai] = f
            touched = set(demand) | set(supply)
            for ai in sink_arcs[ki]:
                touched.add(arcs[ai].src)
                touched.add(arcs[ai].dst)
            tagged_touch: dict[int, list] = defaultdict(list)
            for ai in sink_arcs[ki]:
                for p in (arcs[ai].src, arcs[ai].dst):
                    if problem.port_tag_bits[p]:
                        tagged_touch[p].append(flows[ai])
            for p, lits in tagged_touch.items():
                sink_users[p].append((ni, ki, _any(cp, lits, f"t{ni}_{ki}_{p}")))
            for p in touched:
                inflow = sum(flows[a] for a in in_arcs.get(p, ()) if a in flows)
                outflow = sum(flows[a] for a in out_arcs.get(p, ()) if a in flows)
                cp.Add(inflow - outflow == demand.get(p, 0) - supply.get(p, 0))
                # a flow never passes through its own sink or source port
                if p in demand:
                    cp.Add(outflow == 0)
                if p in supply:
                    cp.Add(inflow == 0)
        # a net is a tree: every port is entered by at most one of its arcs (a
        # switch output selects a single input, even for two sinks of one net)
        for p in {arcs[ai].dst for ai in allowed_set}:
            entering = [m.net_arc[ni, a] for a in in_arcs.get(p, ()) if a in allowed_set]
            if len(entering) > 1:
                cp.Add(sum(entering) <= 1)
        # a net's arc is used only if some commodity flows on it
        for ai in allowed_set:
            lits = [m.flow[ni, ki, ai] for ki in range(len(net.sinks))
                    if (ni, ki, ai) in m.flow]
            cp.AddBoolOr(lits).OnlyEnforceIf(m.net_arc[ni, ai])
        # port usage of this net
        by_port: dict[int, list] = defaultdict(list)
        for ai in allowed_set:
            by_port[arcs[ai].src].append(m.net_arc[ni, ai])
            by_port[arcs[ai].dst].append(m.net_arc[ni, ai])
        for p, lits in by_port.items():
            port_users[p].append((ni, _any(cp, lits, f"u{ni}_{p}")))

    # -- a plain switch output selects one input (spec-fabric-switch.md
    # "Constraints": each output may select at most one routed input); tagged
    # tokens of several nets may merge only at a temporal switch
    arc_nets: dict[int, list] = defaultdict(list)
    for (_net, ai), var in m.net_arc.items():
        arc_nets[ai].append(var)
    for group in problem.exclusive_arc_groups:
        used = [_any(cp, arc_nets[ai], f"x{ai}") for ai in group if arc_nets.get(ai)]
        if len(used) > 1:
            cp.Add(sum(used) <= 1)

    # -- sharing (C4.1, C4.2): a native port carries one net; on a tagged port
    # every token is told apart by its tag.  Tags belong to (net, sink)
    # commodities, not nets: a value may fan out in the native domain and enter
    # the tagged domain through two add_tags with different tags.  Two
    # commodities on one tagged port carry the same tag iff they are the same
    # net (one token stream), else different tags.
    max_bits = max(max(problem.port_tag_bits, default=0), max(
        (b for _, b in problem.temporal_tag_bits), default=0), 1)

    def tag_var(ni: int, ki: int):
        if (ni, ki) not in m.sink_tag:
            m.sink_tag[ni, ki] = cp.NewIntVar(0, 2**max_bits - 1, f"tag{ni}_{ki}")
        return m.sink_tag[ni, ki]

    capacity = dict(problem.port_capacity)
    for p, users in port_users.items():
        bits = problem.port_tag_bits[p]
        if bits == 0:
            cp.Add(sum(u for _, u in users) <= capacity.get(p, 1))
            continue
        cp.Add(sum(u for _, u in users) <= 2**bits)
    for p, users in sink_users.items():
        bits = problem.port_tag_bits[p]
        for ni, ki, u in users:
            cp.Add(tag_var(ni, ki) < 2**bits).OnlyEnforceIf(u)
        for (n1, k1, u1), (n2, k2, u2) in itertools.combinations(users, 2):
            if n1 == n2:
                cp.Add(tag_var(n1, k1) == tag_var(n2, k2)).OnlyEnforceIf([u1, u2])
            else:
                cp.Add(tag_var(n1, k1) != tag_var(n2, k2)).OnlyEnforceIf([u1, u2])

    # -- temporal PEs (C5.3, C5.4): instruction tags distinct per PE; an operand
    # reaching an op on a temporal PE carries that instruction's tag
    tpe_bits = dict(problem.temporal_tag_bits)
    on_tpe: dict[tuple[int, int], list] = defaultdict(list)
    for mi, match in enumerate(problem.matches):
        if match.temporal_pe is not None:
            for v in match.sw_nodes:
                on_tpe[v, match.temporal_pe].append(m.match_lit[mi])
    per_tpe: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    for (v, tpe), lits in sorted(on_tpe.items()):
        if v not in m.itag:
            m.itag[v] = cp.NewIntVar(0, 2**max_bits - 1, f"it{v}")
        b = _bool_of_sum(cp, lits, f"on{v}_{tpe}")
        cp.Add(m.itag[v] < 2 ** tpe_bits.get(tpe, 1)).OnlyEnforceIf(b)
        per_tpe[tpe].append((v, b))
    for members in per_tpe.values():
        for (v1, b1), (v2, b2) in itertools.combinations(members, 2):
            cp.Add(m.itag[v1] != m.itag[v2]).OnlyEnforceIf([b1, b2])
    for ni, net in enumerate(problem.nets):
        for ki, sink in enumerate(net.sinks):
            if sink.is_fixed or sink.sw_node not in m.itag:
                continue
            for (v, _tpe), lits in on_tpe.items():
                if v == sink.sw_node:
                    for lit in lits:
                        cp.Add(tag_var(ni, ki) == m.itag[v]).OnlyEnforceIf(lit)

    # -- objective
    # -- objective (spec-mapper-cost.md): routing = weighted hops of every
    # routed DFG edge (a commodity's own path, as the reported cost counts it);
    # placement pressure = sum over tile classes of (occupied / size)^2; plus
    # the matches' own costs (tie-breaks such as positional sentinel binding)
    terms = [match.cost * m.match_lit[mi] for mi, match in enumerate(problem.matches)
             if match.cost]
    w_route = problem.route_weight
    reg_cost = {t: w for t, _n, w in problem.temporal_registers}
    terms += [reg_cost[t] * var for (_n, t), var in m.via_reg.items() if reg_cost.get(t)]
    terms += [w_route * arcs[ai].weight * var for (_n, _k, ai), var in m.flow.items()
              if arcs[ai].weight]
    if problem.tiles:
        on_hw: dict[int, list] = defaultdict(list)
        for mi, match in enumerate(problem.matches):
            on_hw[match.hw_node].append(m.match_lit[mi])
        for ti, (members, weight) in enumerate(problem.tiles):
            used = [_any(cp, on_hw[h], f"used{h}") for h in members if on_hw.get(h)]
            if not used or not weight:
                continue
            occ = cp.NewIntVar(0, len(used), f"occ{ti}")
            cp.Add(occ == sum(used))
            sq = cp.NewIntVar(0, len(used) ** 2, f"occ2_{ti}")
            cp.AddMultiplicationEquality(sq, [occ, occ])
            terms.append(weight * sq)
    cp.Minimize(sum(terms))
    return m


# --------------------------------------------------------------------------- solve


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution: cost, bound, gap, elapsed."""

    def __init__(self, report: Callable[[str], None]):
        super().__init__()
        self._report = report
        self._start = time.monotonic()

    def on_solution_callback(self) -> None:
        obj, bound = self.ObjectiveValue(), self.BestObjectiveBound()
        gap = 0.0 if obj == 0 else max(0.0, (obj - bound) / abs(obj)) * 100
        self._report(
            f"best cost {obj:g}  bound {bound:g}  gap {gap:.1f}%  "
            f"{time.monotonic() - self._start:.1f}s"
        )


def configure_solver(solver: cp_model.CpSolver, params: SolveParams, hinted: bool = False) -> None:
    sp = solver.parameters
    sp.random_seed = params.seed
    sp.max_deterministic_time = params.deterministic_time
    if params.wall_time is not None:
        sp.max_time_in_seconds = params.wall_time
    sp.num_workers = params.num_workers
    if params.reproducible:
        # Interleaved search and one worker are both reproducible with a
        # deterministic limit (shared/notes/findings.md).  OR-Tools 9.15 aborted
        # ("Check failed: heuristics.fixed_search") on interleaved multi-worker
        # search of a hinted app-sized model, so hinted solves run one worker.
        sp.interleave_search = True
        if hinted:
            sp.num_workers = 1
    if params.log_search is not None:
        sp.log_search_progress = True
        sp.log_to_stdout = False
        solver.log_callback = params.log_search


def solve(
    problem: PnRProblem, params: SolveParams | None = None, hint: tuple[int, ...] = (),
    require: tuple[int, ...] | None = None, hint_routes: tuple | None = None,
    repair: bool = False, explain: bool = True,
) -> PnRSolution:
    """Solve the joint model; on infeasibility, find a conflicting node set.

    ``hint``: a match index per DFG node (-1: none) to start the search from.
    ``require``: only these DFG nodes must be placed (default: all) — used to
    shrink a conflict set.
    ``hint_routes``: routes of a known mapping (as in :attr:`PnRSolution.routes`)
    to complete the hint, so the search starts from that whole mapping.
    ``repair``: the hint is known to break constraints; CP-SAT repairs it.
    ``explain``: on infeasibility, also name a conflicting node set (a second
    solve); callers that only need the verdict turn it off.

    CP-SAT runs single-threaded whenever assumptions are present, so the
    normal solve fixes every "must be placed" literal instead; only when that
    is proved infeasible is the model solved again under assumptions to name
    the conflicting nodes."""
    params = params or SolveParams()
    if require is None:
        first = _solve_once(problem, params, hint, None, use_assumptions=False,
                            hint_routes=hint_routes, repair=repair)
        if first.status != "INFEASIBLE" or not explain:
            return first
        core = _solve_once(problem, params, hint, None, use_assumptions=True)
        return replace(core, wall_time=first.wall_time + core.wall_time,
                       deterministic_time=first.deterministic_time + core.deterministic_time)
    return _solve_once(problem, params, hint, require, use_assumptions=True)


def solve_feasible(problem: PnRProblem, params: SolveParams | None = None) -> PnRSolution:
    """Any mapping that meets C1–C5: the joint model without its objective, every
    node placed and every net routed, one worker without LP relaxation.

    Why a second search: on app-sized models the cost-driven solve can spend its
    whole budget without a first mapping while this plain satisfiability search
    finds one — matvec on Loom's medium template (bench/RESULTS.md §3) maps for
    seed 3 in 41 deterministic units, where the mapper's solve ends UNKNOWN at
    240.  The search is heavy-tailed in the seed (seeds 0 and 1 find nothing in
    120 units), which ``bench/mapper_feasibility.py`` measures.  The result has no
    objective or bound: its cost comes from the mapping (``mapper.cost``)."""
    params = params or SolveParams()
    m = build_model(problem)
    m.cp.ClearObjective()
    for lit in (*m.assume, *m.route_net):
        m.cp.Add(lit == 1)
    solver = cp_model.CpSolver()
    sp = solver.parameters
    # one worker is reproducible under a deterministic limit (no interleaving: with it
    # the same seeds found nothing in 120 units on matvec)
    sp.num_workers = 1
    sp.random_seed = params.seed
    sp.max_deterministic_time = params.deterministic_time
    if params.wall_time is not None:
        sp.max_time_in_seconds = params.wall_time
    sp.linearization_level = 0
    started = time.monotonic()
    status = solver.Solve(m.cp)
    wall = time.monotonic() - started
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = _extract(m, solver, "FEASIBLE", wall)
        return replace(found, objective=None, bound=None,
                       deterministic_time=solver.deterministic_time)
    return PnRSolution(status=solver.StatusName(status), objective=None, bound=None,
                       wall_time=wall, deterministic_time=solver.deterministic_time)


def net_conflict(problem: PnRProblem, params: SolveParams | None = None) -> PnRSolution:
    """With every DFG node placed, which nets cannot all be routed: on
    INFEASIBLE, ``conflict`` holds net indices from CP-SAT's sufficient-
    assumptions core (not necessarily minimal)."""
    return _solve_once(problem, params or SolveParams(), (), None, use_assumptions=False,
                       nets_assumed=True)


def _solve_once(problem: PnRProblem, params: SolveParams, hint: tuple[int, ...],
                require: tuple[int, ...] | None, use_assumptions: bool,
                hint_routes: tuple | None = None, repair: bool = False,
                nets_assumed: bool = False) -> PnRSolution:
    """One CP-SAT solve.  ``use_assumptions``: "node v is placed" literals are
    assumptions (the conflict names nodes); ``nets_assumed``: every node is
    placed and "net n is routed" literals are the assumptions instead (the
    conflict names nets)."""
    m = build_model(problem)
    if hint_routes is not None:
        chosen = {mi for mi in hint if mi >= 0}
        for mi, lit in enumerate(m.match_lit):
            m.cp.AddHint(lit, mi in chosen)
        used = {(ni, ki, a) for ni, per_sink in enumerate(hint_routes)
                for ki, path in enumerate(per_sink) for a in path}
        for key, var in m.flow.items():
            m.cp.AddHint(var, key in used)
        used_arcs = {(ni, a) for ni, _, a in used}
        for key, var in m.net_arc.items():
            m.cp.AddHint(var, key in used_arcs)
    else:
        for mi in sorted(set(hint)):  # a group match is every member's hint
            if mi >= 0:
                m.cp.AddHint(m.match_lit[mi], 1)
    required = m.assume if require is None else [m.assume[v] for v in require]
    if nets_assumed:
        m.cp.AddAssumptions(m.route_net)
    else:
        for r in m.route_net:
            m.cp.Add(r == 1)
    if use_assumptions and not nets_assumed:
        for a in required:
            m.cp.AddHint(a, 1)
        m.cp.AddAssumptions(required)
    else:
        for a in required:
            m.cp.Add(a == 1)
    solver = cp_model.CpSolver()
    configure_solver(solver, params, hinted=any(mi >= 0 for mi in hint))
    solver.parameters.repair_hint = repair
    started = time.monotonic()
    callback = _Progress(params.log_progress) if params.log_progress else None
    status = solver.Solve(m.cp, callback)
    wall = time.monotonic() - started
    name = solver.StatusName(status)

    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return replace(_extract(m, solver, name, wall),
                       deterministic_time=solver.deterministic_time)
    conflict: tuple[int, ...] = ()
    if status == cp_model.INFEASIBLE and (use_assumptions or nets_assumed):
        core = set(solver.SufficientAssumptionsForInfeasibility())
        chosen = m.route_net if nets_assumed else m.assume
        conflict = tuple(i for i, a in enumerate(chosen) if a.Index() in core)
    return PnRSolution(status=name, objective=None, bound=None, wall_time=wall,
                       conflict=conflict,
                       deterministic_time=solver.deterministic_time)


def _extract(m: _Model, solver: cp_model.CpSolver, status: str, wall: float) -> PnRSolution:
    problem = m.problem
    node_match = [-1] * problem.num_sw_nodes
    for mi, match in enumerate(problem.matches):
        if solver.BooleanValue(m.match_lit[mi]):
            for v in match.sw_nodes:
                node_match[v] = mi
    routes = []
    for ni, net in enumerate(problem.nets):
        per_sink = []
        for ki in range(len(net.sinks)):
            used = [ai for (n, k, ai), var in m.flow.items()
                    if n == ni and k == ki and solver.BooleanValue(var)]
            per_sink.append(_order_path(problem.arcs, used))
        routes.append(tuple(per_sink))
    sink_tags = tuple(
        tuple(_tag_if_tagged(m, solver, ni, ki, path) for ki, path in enumerate(per_sink))
        for ni, per_sink in enumerate(routes)
    )
    itags = tuple(sorted(
        (v, solver.Value(var)) for v, var in m.itag.items() if node_match[v] >= 0
        and problem.matches[node_match[v]].temporal_pe is not None
    ))
    net_registers = tuple(sorted(key for key, var in m.via_reg.items()
                                 if solver.BooleanValue(var)))
    return PnRSolution(
        status=status,
        objective=solver.ObjectiveValue(),
        bound=solver.BestObjectiveBound(),
        wall_time=wall,
        node_match=tuple(node_match),
        routes=tuple(routes),
        sink_tags=sink_tags,
        instruction_tags=itags,
        net_registers=net_registers,
    )


def _tag_if_tagged(m: _Model, solver, ni: int, ki: int, path) -> int | None:
    bits = m.problem.port_tag_bits
    arcs = m.problem.arcs
    if (ni, ki) not in m.sink_tag or not any(bits[arcs[a].dst] for a in path):
        return None
    return solver.Value(m.sink_tag[ni, ki])


def _order_path(arcs: Sequence[Arc], used: list[int]) -> tuple[int, ...]:
    """Order a commodity's arcs from source to sink; drop detached cycles.

    Flow conservation makes the used arcs one simple source→sink path plus,
    possibly, cycles carrying no flow to the sink; only the path is kept."""
    if not used:
        return ()
    by_src = {arcs[a].src: a for a in used}
    dsts = {arcs[a].dst for a in used}
    starts = [arcs[a].src for a in used if arcs[a].src not in dsts]
    if len(starts) != 1:
        raise AssertionError("flow of one commodity is not a single path")
    path, port, seen = [], starts[0], set()
    while port in by_src and port not in seen:
        seen.add(port)
        a = by_src[port]
        path.append(a)
        port = arcs[a].dst
    return tuple(path)
