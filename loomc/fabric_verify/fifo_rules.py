"""Rules of ``fabric.fifo`` (spec-fabric-fifo.md "Interface Types",
"Hardware Parameters", "Runtime Configuration", "Constraints")."""

from __future__ import annotations

from xdsl.ir import Operation

from loomc.fabric_verify.context import VerifyContext, Violation
from loomc.fabric_verify.ir_access import (
    bool_attr,
    fmt,
    has_attr,
    int_attr,
    is_routing_port,
    routing_compatible,
    signature,
)


def check_fifo(op: Operation, ctx: VerifyContext) -> Violation | None:
    sig = signature(op)
    if len(sig.inputs) != 1 or len(sig.outputs) != 1:
        return ctx.violation(
            op,
            "CPL_FIFO_TYPE_MISMATCH",
            f"fifo must have exactly one input and one output; got {len(sig.inputs)} "
            f"and {len(sig.outputs)}",
        )
    t_in, t_out = sig.inputs[0], sig.outputs[0]
    # spec-fabric-fifo.md "Interface Types": input and output bit-width compatible.
    if not routing_compatible(t_in, t_out):
        return ctx.violation(
            op,
            "CPL_FIFO_TYPE_MISMATCH",
            f"input and output types must be bit-width compatible; got {fmt(t_in)} vs {fmt(t_out)}",
        )
    for t in (t_in, t_out):
        if not is_routing_port(t):
            return ctx.violation(
                op,
                "CPL_FIFO_INVALID_TYPE",
                "fifo type must be !dataflow.bits<N>, none, or !dataflow.tagged with a "
                f"bits/none value; got {fmt(t)}",
            )
    # spec-fabric-fifo.md "Hardware Parameters": depth >= 1.
    depth = int_attr(op, "depth", default=0)
    if depth is None or depth < 1:
        return ctx.violation(op, "CPL_FIFO_DEPTH_ZERO", f"fifo depth must be >= 1; got {depth}")
    # spec-fabric-fifo.md "Runtime Configuration": bypassed <=> bypassable.
    bypassable = bool_attr(op, "bypassable")
    bypassed_present = has_attr(op, "bypassed")
    if not bypassable and bypassed_present:
        return ctx.violation(
            op,
            "CPL_FIFO_BYPASSED_NOT_BYPASSABLE",
            "'bypassed' is set on a fifo that is not 'bypassable'",
        )
    if bypassable and not bypassed_present:
        return ctx.violation(
            op,
            "CPL_FIFO_BYPASSED_MISSING",
            "a 'bypassable' fifo must say whether it is 'bypassed'",
        )
    return None
