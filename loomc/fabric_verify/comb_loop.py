"""``CFG_ADG_COMBINATIONAL_LOOP``: a configured zero-delay cycle inside a module.

spec-fabric-error.md (CFG code 2) and spec-adg-api.md "Combinational loop
detection": a cycle whose every element is combinational is a configuration
error.  Only *configured* paths count: a switch or temporal switch without a
``route_table`` contributes no edges, one with a route table contributes exactly
the (output ← input) positions its routes enable.  Tag ops are combinational
from every input to every output; FIFOs (even bypassable ones,
spec-fabric-fifo.md "Runtime Configuration"), PEs and memories are sequential.
An instance of a module is combinational from input *i* to output *o* when a
configured combinational path joins them inside the module.

The graph has one node per (op, result); an edge joins result *r* of A to result
*s* of B when *r* feeds operand *k* of B and operand *k* reaches result *s*.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.ir import BlockArgument, Operation, OpResult

from loomc.fabric_verify.context import VerifyContext
from loomc.fabric_verify.instance_rules import target_signature
from loomc.fabric_verify.ir_access import (
    body_block,
    function_type,
    instance_target,
    int_list_attr,
    is_terminator,
    non_terminators,
    signature,
    str_list_attr,
    tag_width,
    terminator,
)
from loomc.fabric_verify.sparse_format import is_hex_entry
from loomc.fabric_verify.switch_rules import connected_positions, connectivity, route_pairs
from loomc.graph.dfs import dfs_edges

TAG_OPS = frozenset({"fabric.add_tag", "fabric.del_tag", "fabric.map_tag"})


@dataclass(frozen=True)
class CombInfo:
    """For each output: the inputs it combinationally depends on (empty = sequential)."""

    deps: tuple[frozenset[int], ...]

    @classmethod
    def empty(cls, n_out: int) -> CombInfo:
        return cls(tuple(frozenset() for _ in range(n_out)))

    def any(self) -> bool:
        return any(self.deps)


def _switch_info(op: Operation) -> CombInfo:
    sig = signature(op)
    n_in, n_out = len(sig.inputs), len(sig.outputs)
    table = connectivity(op, n_out, n_in)
    positions = connected_positions(table, n_out, n_in)
    enabled: set[int] = set()
    if op.name == "fabric.switch":
        routes = int_list_attr(op, "route_table")
        if routes is None:
            return CombInfo.empty(n_out)
        enabled = {b for b, v in enumerate(routes) if v}
    else:
        entries = str_list_attr(op, "route_table")
        if entries is None:
            return CombInfo.empty(n_out)
        enabled = _temporal_route_bits(entries, positions, sig.inputs)
    deps: list[set[int]] = [set() for _ in range(n_out)]
    for bit, (o, i) in enumerate(positions):
        if bit in enabled:
            deps[o].add(i)
    return CombInfo(tuple(frozenset(d) for d in deps))


def _temporal_route_bits(entries: list[str], positions, inputs) -> set[int]:
    """Union over valid slots of the enabled route bits.

    Hex slots are decoded as Loom's verifier does: the route bits sit directly
    above the tag bits.  (spec-fabric-temporal_sw.md "Machine Format (Hex)" also
    places a valid bit below the tag; Loom's loop check and its tests ignore it.)
    """
    index = {pos: bit for bit, pos in enumerate(positions)}
    k = len(positions)
    width = next((w for w in (tag_width(t) for t in inputs) if w is not None), 0)
    enabled: set[int] = set()
    for entry in entries:
        if "invalid" in entry:
            continue
        if is_hex_entry(entry):
            try:
                word = int(entry[2:], 16)
            except ValueError:
                continue
            bits = (word >> width) & ((1 << k) - 1)
            enabled |= {b for b in range(k) if bits >> b & 1}
        else:
            enabled |= {index[p] for p in route_pairs(entry) if p in index}
    return enabled


def module_info(module: Operation, ctx: VerifyContext, active: set[int]) -> CombInfo:
    """Which module inputs reach each module output through configured
    combinational paths (memoised per module)."""
    memo: dict[int, CombInfo] = ctx.cache.setdefault("comb_module", {})
    key = id(module)
    if key in memo:
        return memo[key]
    fn = function_type(module)
    n_out = len(fn.outputs.data) if fn is not None else 0
    if n_out == 0 or key in active:
        return CombInfo.empty(n_out)
    active.add(key)
    block = body_block(module)
    term = terminator(module)
    deps: list[frozenset[int]] = []
    for i in range(n_out):
        if term is None or i >= len(term.operands) or block is None:
            deps.append(frozenset())
            continue
        reached: set[int] = set()
        seen: set[int] = set()
        work = [term.operands[i]]
        while work:
            value = work.pop()
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, BlockArgument):
                if value.block is block:
                    reached.add(value.index)
                continue
            if not isinstance(value, OpResult):
                continue
            info = op_info(value.op, ctx, active)
            if value.index < len(info.deps):
                work.extend(value.op.operands[k] for k in info.deps[value.index])
        deps.append(frozenset(reached))
    active.discard(key)
    result = CombInfo(tuple(deps))
    memo[key] = result
    return result


def op_info(op: Operation, ctx: VerifyContext, active: set[int]) -> CombInfo:
    """Combinational summary of one op inside a module body."""
    n_out = len(op.results)
    if op.name in ("fabric.switch", "fabric.temporal_sw"):
        return _switch_info(op)
    if op.name in TAG_OPS:
        every = frozenset(range(len(op.operands)))
        return CombInfo(tuple(every for _ in range(n_out)))
    if op.name == "fabric.instance":
        target = ctx.lookup(instance_target(op))
        if target is not None and target.name == "fabric.module":
            _, outs = target_signature(target)
            if len(outs) == n_out:
                info = module_info(target, ctx, active)
                n_in = len(op.operands)
                return CombInfo(tuple(frozenset(k for k in d if k < n_in) for d in info.deps))
    return CombInfo.empty(n_out)


def find_comb_loop(module: Operation, ctx: VerifyContext) -> list[Operation] | None:
    """The ops of one configured combinational cycle in ``module``'s body, or ``None``."""
    ops = [o for o in non_terminators(module) if not is_terminator(o)]
    infos = {id(o): op_info(o, ctx, set()) for o in ops}
    comb = {id(o): o for o in ops if infos[id(o)].any()}
    if not comb:
        return None

    # Node = (op id, result index); successors follow uses into comb ops (only to
    # results that depend on the used operand, so every node reached has deps).
    def successors(node: tuple[int, int]) -> list[tuple[int, int]]:
        op = comb[node[0]]
        out: list[tuple[int, int]] = []
        for use in op.results[node[1]].uses:
            user = use.operation
            if id(user) not in comb:
                continue
            for s, dep in enumerate(infos[id(user)].deps):
                if use.index in dep:
                    out.append((id(user), s))
        return out

    nodes = [(k, r) for k, o in comb.items() for r, d in enumerate(infos[k].deps) if d]
    for _, nxt, is_back, path in dfs_edges(nodes, successors):
        if is_back:
            cycle = path[path.index(nxt) :]
            return [comb[k] for k, _ in cycle]
    return None
