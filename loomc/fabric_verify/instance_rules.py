"""Rules of ``fabric.instance`` (spec-fabric.md "Operation: fabric.instance"
"Constraints"; spec-fabric-error.md "Instance Error Examples")."""

from __future__ import annotations

from xdsl.ir import Attribute, Operation

from loomc.fabric_verify.context import VerifyContext, Violation
from loomc.fabric_verify.ir_access import (
    fmt,
    function_type,
    inside,
    instance_target,
    is_bits,
    is_none,
    is_tagged,
    native_width,
    signature,
    value_type,
    walk_preorder,
)

#: spec-fabric.md "fabric.instance" "Constraints": the only instantiable ops.
INSTANTIABLE = frozenset({"fabric.pe", "fabric.temporal_pe", "fabric.module"})


def target_signature(target: Operation) -> tuple[tuple[Attribute, ...], tuple[Attribute, ...]]:
    fn = function_type(target)
    if fn is not None:
        return tuple(fn.inputs.data), tuple(fn.outputs.data)
    sig = signature(target)
    return sig.inputs, sig.outputs


def _bridge_compatible(actual: Attribute, expected: Attribute) -> bool:
    """Inside a PE body, native scalars may feed a bits-typed PE port of equal width
    (spec-fabric-pe.md "Interface Types"; e.g. ``i32`` → ``!dataflow.bits<32>``)."""
    if not is_bits(value_type(expected)):
        return False
    if is_tagged(actual) != is_tagged(expected):
        return False
    if is_tagged(actual):
        if actual.tag_type != expected.tag_type:
            return False
        wa, we = native_width(value_type(actual)), native_width(value_type(expected))
        return wa is not None and wa == we
    if is_none(actual) or is_none(expected):
        return actual == expected
    wa, we = native_width(actual), native_width(expected)
    return wa is not None and wa == we


def instance_graph(ctx: VerifyContext) -> dict[str, set[str]]:
    """Symbol → symbols instantiated anywhere inside its definition."""
    graph = ctx.cache.get("instance_graph")
    if graph is None:
        graph = {}
        for name, definition in ctx.symbols.items():
            graph[name] = {
                t
                for o in walk_preorder(definition)
                if o.name == "fabric.instance" and (t := instance_target(o)) is not None
            }
        ctx.cache["instance_graph"] = graph
    return graph


def reaches_itself(ctx: VerifyContext, start: str) -> bool:
    """Whether instantiating ``start`` eventually instantiates ``start`` again."""
    graph = instance_graph(ctx)
    seen: set[str] = set()
    stack = list(graph.get(start, ()))
    while stack:
        name = stack.pop()
        if name == start:
            return True
        if name in seen:
            continue
        seen.add(name)
        stack.extend(graph.get(name, ()))
    return False


def check_instance(op: Operation, ctx: VerifyContext) -> Violation | None:
    name = instance_target(op)
    target = ctx.lookup(name)
    if target is None:
        return ctx.violation(
            op, "CPL_INSTANCE_UNRESOLVED", f"referenced symbol '@{name}' does not exist"
        )
    if target.name not in INSTANTIABLE:
        return ctx.violation(
            op,
            "CPL_INSTANCE_ILLEGAL_TARGET",
            f"fabric.instance may target fabric.pe, fabric.temporal_pe or fabric.module; "
            f"'@{name}' is a {target.name} (use it inline)",
        )
    in_pe = inside(op, "fabric.pe")
    if in_pe and target.name != "fabric.pe":
        return ctx.violation(
            op,
            "CPL_PE_INSTANCE_ILLEGAL_TARGET",
            f"inside fabric.pe an instance may only target a named fabric.pe; "
            f"'@{name}' is a {target.name}",
        )
    exp_in, exp_out = target_signature(target)
    act_in = tuple(v.type for v in op.operands)
    act_out = tuple(r.type for r in op.results)
    if len(act_in) != len(exp_in):
        return ctx.violation(
            op,
            "CPL_INSTANCE_OPERAND_MISMATCH",
            f"instance passes {len(act_in)} operand(s); '@{name}' takes {len(exp_in)}",
        )
    for idx, (a, e) in enumerate(zip(act_in, exp_in, strict=True)):
        if a != e and not (in_pe and _bridge_compatible(a, e)):
            return ctx.violation(
                op,
                "CPL_INSTANCE_OPERAND_MISMATCH",
                f"operand #{idx} type {fmt(a)} does not match '@{name}' input type {fmt(e)}",
            )
    if len(act_out) != len(exp_out):
        return ctx.violation(
            op,
            "CPL_INSTANCE_RESULT_MISMATCH",
            f"instance declares {len(act_out)} result(s); '@{name}' returns {len(exp_out)}",
        )
    for idx, (a, e) in enumerate(zip(act_out, exp_out, strict=True)):
        if a != e and not (in_pe and _bridge_compatible(a, e)):
            return ctx.violation(
                op,
                "CPL_INSTANCE_RESULT_MISMATCH",
                f"result #{idx} type {fmt(a)} does not match '@{name}' result type {fmt(e)}",
            )
    if name is not None and reaches_itself(ctx, name):
        return ctx.violation(
            op,
            "CPL_INSTANCE_CYCLIC_REFERENCE",
            f"instance of '@{name}' forms a cyclic reference ('@{name}' instantiates itself)",
        )
    return None


__all__ = ["INSTANTIABLE", "check_instance", "instance_graph"]
