"""Rules of ``fabric.module`` (spec-fabric.md "Port Ordering", "Port Categories
and Semantics", "Constraints", "Body and Terminator", "Explicit Type Matching",
"Port Connection Invariants"), including the strict 1-to-1 fan-out rules and
the configured combinational-loop check."""

from __future__ import annotations

from xdsl.ir import Attribute, Operation

from loomc.fabric_verify.comb_loop import find_comb_loop
from loomc.fabric_verify.context import VerifyContext, Violation
from loomc.fabric_verify.ir_access import (
    body_block,
    bool_attr,
    fmt,
    function_type,
    is_bits,
    is_memref,
    is_none,
    is_tagged,
    is_terminator,
    non_terminators,
    use_count,
    value_type,
)


def _category(t: Attribute) -> int:
    """spec-fabric.md "Port Ordering": memref (0) < bits/none (1) < tagged (2)."""
    if is_memref(t):
        return 0
    if is_tagged(t):
        return 2
    return 1


def _allowed_port(t: Attribute) -> bool:
    """spec-fabric.md "Constraints": structural types only at the boundary."""
    if is_memref(t) or is_none(t) or is_bits(t):
        return True
    if is_tagged(t):
        v = value_type(t)
        return is_none(v) or is_bits(v)
    return False


def module_ports(op: Operation) -> tuple[tuple[Attribute, ...], tuple[Attribute, ...]]:
    fn = function_type(op)
    if fn is not None:
        return tuple(fn.inputs.data), tuple(fn.outputs.data)
    block = body_block(op)
    return (tuple(a.type for a in block.args) if block else ()), ()


def check_module(op: Operation, ctx: VerifyContext) -> Violation | None:
    inputs, outputs = module_ports(op)
    for label, types in (("inputs", inputs), ("outputs", outputs)):
        cats = [_category(t) for t in types]
        if any(b < a for a, b in zip(cats, cats[1:], strict=False)):
            return ctx.violation(
                op,
                "CPL_MODULE_PORT_ORDER",
                f"module {label} must be ordered memref*, bits*, tagged*",
            )
    for label, types in (("input", inputs), ("output", outputs)):
        for idx, t in enumerate(types):
            if not _allowed_port(t):
                return ctx.violation(
                    op,
                    "CPL_MODULE_NATIVE_PORT",
                    f"module {label} port #{idx} has native type {fmt(t)}; use "
                    "!dataflow.bits<N>, none, memref or !dataflow.tagged<bits<N>|none, iK>",
                )
    body = non_terminators(op)
    if not body:
        return ctx.violation(
            op,
            "CPL_MODULE_EMPTY_BODY",
            "module body must contain at least one operation besides fabric.yield",
        )
    block = body_block(op)
    last = block.last_op if block is not None else None
    if last is None or not is_terminator(last) or last.name != "fabric.yield":
        return ctx.violation(
            op, "CPL_MODULE_MISSING_YIELD", "module body must end with fabric.yield"
        )
    yielded = [v.type for v in last.operands]
    if len(yielded) != len(outputs):
        return ctx.violation(
            op,
            "CPL_MODULE_MISSING_YIELD",
            f"fabric.yield returns {len(yielded)} value(s); the module declares "
            f"{len(outputs)} result(s)",
        )
    # spec-fabric.md "Explicit Type Matching".
    for idx, (got, want) in enumerate(zip(yielded, outputs, strict=True)):
        if got != want:
            return ctx.violation(
                op,
                "CPL_FABRIC_TYPE_MISMATCH",
                f"yield operand #{idx} has type {fmt(got)} but the module result is {fmt(want)}",
            )
    problem = _fanout(op, ctx)
    if problem is not None:
        return problem
    loop = find_comb_loop(op, ctx)
    if loop is not None:
        names = " -> ".join(o.name for o in loop)
        return ctx.violation(
            op,
            "CFG_ADG_COMBINATIONAL_LOOP",
            f"route_table configuration creates a combinational loop ({names}); change the "
            "routing or insert a fabric.fifo",
        )
    return _private_outputs(op, ctx, last)


def _fanout(op: Operation, ctx: VerifyContext) -> Violation | None:
    """spec-fabric.md "Port Connection Invariants": every wire has one consumer;
    duplication goes through a switch broadcast."""
    for inner in non_terminators(op):
        for result in inner.results:
            n = use_count(result)
            if n > 1:
                return ctx.violation(
                    op,
                    "CPL_FANOUT_MODULE_INNER",
                    f"a result of '{inner.name}' has {n} consumers; each wire has at most one "
                    "(use a switch broadcast to duplicate data)",
                )
    block = body_block(op)
    for arg in block.args if block is not None else ():
        n = use_count(arg)
        if n > 1:
            return ctx.violation(
                op,
                "CPL_FANOUT_MODULE_BOUNDARY",
                f"module input #{arg.index} has {n} consumers; each wire has at most one "
                "(use a switch broadcast to duplicate data)",
            )
    return None


def _private_outputs(op: Operation, ctx: VerifyContext, yield_op: Operation) -> Violation | None:
    """spec-fabric-mem.md "Memory Export": a yielded memref comes from a
    ``fabric.memory`` with ``is_private = false``."""
    for idx, value in enumerate(yield_op.operands):
        if not is_memref(value.type):
            continue
        owner = getattr(value, "op", None)
        if owner is None or owner.name != "fabric.memory":
            return ctx.violation(
                op,
                "CPL_MEMORY_PRIVATE_OUTPUT",
                f"yielded memref #{idx} is not produced by a fabric.memory",
            )
        if bool_attr(owner, "is_private", default=True):
            return ctx.violation(
                op,
                "CPL_MEMORY_PRIVATE_OUTPUT",
                f"yielded memref #{idx} comes from a private fabric.memory "
                "(set is_private = false to export it)",
            )
    return None
