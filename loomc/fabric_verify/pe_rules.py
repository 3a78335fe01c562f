"""Rules of ``fabric.pe`` (spec-fabric-pe.md "Interface Types", "Attributes",
"Constraints", "Body Constraints and Exclusivity Rules", "Load/Store PE
Semantics"; spec-fabric-error.md "PE Body Error Examples")."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.ir import Attribute, Operation

from loomc.fabric_verify.context import VerifyContext, Violation
from loomc.fabric_verify.ir_access import (
    body_block,
    fmt,
    has_attr,
    inside,
    is_bits,
    is_none,
    is_tagged,
    non_terminators,
    scalar_body_width,
    signature,
    tag_width,
    terminator,
    value_type,
)

LOAD_STORE = frozenset({"handshake.load", "handshake.store"})
#: Partial-consume ops: fire on a subset of their inputs (spec-fabric-pe.md
#: "Body Constraints and Exclusivity Rules").
PARTIAL_CONSUME = frozenset({"handshake.mux", "handshake.cmerge"})
FULL_CONSUME_DIALECTS = frozenset({"arith", "math"})
FULL_CONSUME_OPS = frozenset({"llvm.intr.bitreverse"})


@dataclass(frozen=True)
class Interface:
    """How a PE's ports are typed: native (i32, f32...), bits, or tagged."""

    native: bool
    bits: bool
    tagged: bool
    bits_value: bool


def classify(types: tuple[Attribute, ...]) -> Interface:
    native = bits = tagged = bits_value = False
    for t in types:
        if is_none(t):
            continue
        if is_tagged(t):
            tagged = True
            bits_value = bits_value or is_bits(value_type(t))
        elif is_bits(t):
            bits = bits_value = True
        else:
            native = True
    return Interface(native, bits, tagged, bits_value)


@dataclass(frozen=True)
class BodyKinds:
    """What a PE body contains, for the exclusivity rules."""

    ops: tuple[Operation, ...]
    load_store: int
    constant: bool
    dataflow: int
    instances: int
    full_consume: bool
    partial_consume: bool


def body_kinds(op: Operation) -> BodyKinds:
    ops = tuple(non_terminators(op))
    names = [o.name for o in ops]
    return BodyKinds(
        ops=ops,
        load_store=sum(n in LOAD_STORE for n in names),
        constant="handshake.constant" in names,
        dataflow=sum(n.split(".", 1)[0] == "dataflow" for n in names),
        instances=sum(n == "fabric.instance" for n in names),
        full_consume=any(
            n.split(".", 1)[0] in FULL_CONSUME_DIALECTS or n in FULL_CONSUME_OPS for n in names
        ),
        partial_consume=any(n in PARTIAL_CONSUME for n in names),
    )


def is_load_store_pe(op: Operation) -> bool:
    return any(o.name in LOAD_STORE for o in non_terminators(op))


def is_dataflow_pe(op: Operation) -> bool:
    return any(o.name.split(".", 1)[0] == "dataflow" for o in non_terminators(op))


def check_pe(op: Operation, ctx: VerifyContext) -> Violation | None:
    sig = signature(op)
    ports = sig.inputs + sig.outputs
    iface = classify(ports)
    # spec-fabric-pe.md "Interface Types": one category per PE.
    if (iface.tagged and (iface.native or iface.bits)) or (iface.bits and iface.native):
        return ctx.violation(
            op,
            "CPL_PE_MIXED_INTERFACE",
            "PE ports must be all native, all bits, or all tagged; this PE mixes them",
        )
    # spec-fabric-pe.md "Interface Types": bits at the fabric level; FU PEs inside
    # a temporal_pe keep native ports (spec-fabric-temporal_pe.md "FU Types").
    is_fu = op.parent_op() is not None and op.parent_op().name == "fabric.temporal_pe"
    if not is_fu:
        if iface.native:
            return ctx.violation(
                op,
                "CPL_PE_NATIVE_INTERFACE",
                "PE interface must use !dataflow.bits<N>; native types (i32, f32, index) "
                "are not allowed",
            )
        for t in ports:
            v = value_type(t)
            if is_tagged(t) and not (is_none(v) or is_bits(v)):
                return ctx.violation(
                    op,
                    "CPL_PE_NATIVE_INTERFACE",
                    f"tagged PE interface must carry !dataflow.bits<N>; found {fmt(v)}",
                )
    if iface.bits_value:
        problem = _body_widths(op, ctx, sig.inputs, sig.outputs)
        if problem is not None:
            return problem
    has_output_tag = has_attr(op, "output_tag")
    if (iface.native or iface.bits) and has_output_tag:
        return ctx.violation(
            op, "CPL_PE_OUTPUT_TAG_NATIVE", "a PE with untagged ports must not have output_tag"
        )
    kinds = body_kinds(op)
    if not kinds.ops:
        return ctx.violation(op, "CPL_PE_EMPTY_BODY", "PE body must contain at least one operation")
    if len(kinds.ops) == 1 and kinds.instances == 1 and not inside(op, "fabric.temporal_pe"):
        return ctx.violation(
            op,
            "CPL_PE_INSTANCE_ONLY_BODY",
            "PE body is a single fabric.instance; instantiate the target directly instead",
        )
    if kinds.load_store:
        problem = _load_store(op, ctx, kinds, iface, has_output_tag, ports)
        if problem is not None:
            return problem
    elif iface.tagged and not has_output_tag:
        return ctx.violation(
            op, "CPL_PE_OUTPUT_TAG_MISSING", "a tagged PE needs an output_tag attribute"
        )
    if kinds.constant and len(kinds.ops) > 1:
        return ctx.violation(
            op,
            "CPL_PE_CONSTANT_BODY",
            f"a constant PE holds exactly one handshake.constant; found {len(kinds.ops)} ops",
        )
    if kinds.dataflow:
        if kinds.full_consume:
            return ctx.violation(
                op, "CPL_PE_DATAFLOW_BODY", "a dataflow PE must not contain arith/math ops"
            )
        if kinds.dataflow > 1:
            return ctx.violation(
                op,
                "CPL_PE_DATAFLOW_BODY",
                f"a dataflow PE holds one dataflow op; found {kinds.dataflow}",
            )
        if kinds.instances:
            return ctx.violation(
                op, "CPL_PE_DATAFLOW_BODY", "a dataflow PE must not contain fabric.instance"
            )
    if kinds.full_consume and kinds.partial_consume:
        return ctx.violation(
            op,
            "CPL_PE_MIXED_CONSUMPTION",
            "PE body mixes full-consume (arith/math) and partial-consume "
            "(handshake.mux/cmerge) operations",
        )
    return None


def _body_widths(
    op: Operation,
    ctx: VerifyContext,
    inputs: tuple[Attribute, ...],
    outputs: tuple[Attribute, ...],
) -> Violation | None:
    """spec-fabric-pe.md "Tag Visibility and Block Arguments": the body sees native
    scalars of the same width as the (untagged) interface ports."""
    block = body_block(op)
    if block is None:
        return None
    args = list(block.args)
    if len(args) != len(inputs):
        return ctx.violation(
            op,
            "CPL_PE_NATIVE_INTERFACE",
            f"bits-interface PE body must have {len(inputs)} block arguments; got {len(args)}",
        )
    for i, (arg, port) in enumerate(zip(args, inputs, strict=True)):
        body_w = scalar_body_width(arg.type)
        if body_w is None:
            return ctx.violation(
                op,
                "CPL_PE_NATIVE_INTERFACE",
                f"bits-interface PE body argument #{i} must be a native scalar; "
                f"got {fmt(arg.type)}",
            )
        port_w = _iface_width(value_type(port))
        if port_w is not None and port_w != body_w:
            return ctx.violation(
                op,
                "CPL_PE_NATIVE_INTERFACE",
                f"bits-interface PE body argument #{i} has width {body_w} ({fmt(arg.type)}) "
                f"but interface port has width {port_w} ({fmt(value_type(port))})",
            )
    term = terminator(op)
    if term is None or len(term.operands) != len(outputs):
        return None
    for i, (operand, port) in enumerate(zip(term.operands, outputs, strict=True)):
        out_v = value_type(port)
        if is_none(out_v):
            continue
        yield_w = scalar_body_width(operand.type)
        if yield_w is None:
            return ctx.violation(
                op,
                "CPL_PE_NATIVE_INTERFACE",
                f"bits-interface PE yield operand #{i} must be a native scalar; "
                f"got {fmt(operand.type)}",
            )
        port_w = _iface_width(out_v)
        if port_w is not None and port_w != yield_w:
            return ctx.violation(
                op,
                "CPL_PE_NATIVE_INTERFACE",
                f"bits-interface PE yield operand #{i} has width {yield_w} "
                f"({fmt(operand.type)}) but interface output has width {port_w}",
            )
    return None


def _iface_width(t: Attribute) -> int | None:
    if is_bits(t):
        return t.width.data
    if is_none(t):
        return 0
    return None


def _load_store(
    op: Operation,
    ctx: VerifyContext,
    kinds: BodyKinds,
    iface: Interface,
    has_output_tag: bool,
    ports: tuple[Attribute, ...],
) -> Violation | None:
    """spec-fabric-pe.md "Load/Store PE Semantics"."""
    if kinds.load_store != 1 or len(kinds.ops) != 1:
        return ctx.violation(
            op,
            "CPL_PE_LOADSTORE_BODY",
            "a load/store PE holds exactly one handshake.load or handshake.store; found "
            f"{kinds.load_store} load/store ops among {len(kinds.ops)} ops",
        )
    queued = has_attr(op, "lqDepth") or has_attr(op, "sqDepth")
    if has_output_tag and queued:
        return ctx.violation(
            op,
            "CPL_PE_LOADSTORE_TAG_MODE",
            "a load/store PE cannot have both output_tag (tag overwrite) and "
            "lqDepth/sqDepth (tag transparent)",
        )
    if queued and not iface.tagged:
        return ctx.violation(
            op,
            "CPL_PE_LOADSTORE_TAG_MODE",
            "a tag-transparent load/store PE (lqDepth/sqDepth) needs tagged ports",
        )
    if iface.tagged and not has_output_tag and not queued:
        return ctx.violation(
            op,
            "CPL_PE_LOADSTORE_TAG_MODE",
            "a tagged load/store PE needs output_tag or lqDepth/sqDepth",
        )
    if iface.tagged:
        widths = [w for w in (tag_width(t) for t in ports) if w is not None]
        if widths and any(w != widths[0] for w in widths):
            other = next(w for w in widths if w != widths[0])
            return ctx.violation(
                op,
                "CPL_PE_LOADSTORE_TAG_WIDTH",
                f"tag widths must match across all ports; got i{widths[0]} and i{other}",
            )
    return None


__all__ = ["check_pe", "classify", "is_dataflow_pe", "is_load_store_pe"]
