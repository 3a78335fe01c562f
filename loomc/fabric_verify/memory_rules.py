"""Rules of ``fabric.memory`` and ``fabric.extmemory`` (spec-fabric-mem.md
"Attributes", "Type Rules", "Static vs Dynamic Shapes", "Constraints") and the
configuration-time checks of their ``addr_offset_table``
(spec-fabric-error.md codes 12-15, spec-fabric-config_mem.md "CONFIG_WIDTH").

Port layout: after the memref operand of an inline ``extmemory``, the inputs
are either store-first ``[st_data, st_addr] * stCount, ld_addr * ldCount``
(Loom's verifier and its fabric tests) or address-first ``ld_addr * ldCount,
st_addr * stCount, st_data * stCount`` (spec-fabric-mem.md "Operand Ordering
Convention", used by Loom's generated CGRA templates); both are accepted.  The
outputs are ``[memref if exported] ld_data * ldCount, ld_done * ldCount,
st_done * stCount``.
"""

from __future__ import annotations

from xdsl.ir import Attribute, BlockArgument, Operation

from loomc.fabric_verify.context import VerifyContext, Violation
from loomc.fabric_verify.ir_access import (
    ADDR_BIT_WIDTH,
    bool_attr,
    fmt,
    has_attr,
    int_attr,
    int_list_attr,
    is_bits,
    is_memref,
    is_none,
    memref_element,
    memref_is_static,
    native_width,
    raw_attr,
    signature,
    value_type,
)

#: Each addr_offset_table region is [valid, start_tag, end_tag, base_addr].
AOT_FIELDS = 4


def _common(op: Operation, ctx: VerifyContext) -> Violation | None:
    """spec-fabric-mem.md "Constraints": port counts, LSQ depth, region count."""
    ld = int_attr(op, "ldCount", default=0) or 0
    st = int_attr(op, "stCount", default=0) or 0
    lsq = int_attr(op, "lsqDepth", default=0) or 0
    regions = int_attr(op, "numRegion", default=1)
    if ld == 0 and st == 0:
        return ctx.violation(op, "CPL_MEMORY_PORTS_EMPTY", "ldCount and stCount cannot both be 0")
    if st == 0 and lsq != 0:
        return ctx.violation(
            op, "CPL_MEMORY_LSQ_WITHOUT_STORE", f"lsqDepth must be 0 without stores; got {lsq}"
        )
    if st > 0 and lsq < 1:
        return ctx.violation(
            op, "CPL_MEMORY_LSQ_MIN", f"lsqDepth must be >= 1 when stCount > 0; got {lsq}"
        )
    if regions is None or regions < 1:
        return ctx.violation(
            op, "CPL_MEMORY_INVALID_REGION", f"numRegion must be >= 1; got {regions}"
        )
    return None


def _addr_offset_table(op: Operation, ctx: VerifyContext, prefix: str) -> Violation | None:
    """Configured regions: table length, valid bits, non-empty and disjoint
    half-open tag ranges (spec-fabric-mem.md "Attributes" numRegion;
    spec-fabric-error.md CFG_*_EMPTY_TAG_RANGE / CFG_*_OVERLAP_TAG_REGION)."""
    table = int_list_attr(op, "addr_offset_table", "addrOffsetTable")
    if table is None:
        return None
    regions = int_attr(op, "numRegion", default=1) or 1
    if len(table) % AOT_FIELDS != 0 or len(table) // AOT_FIELDS != regions:
        return ctx.violation(
            op,
            "CFG_MEMORY_AOT_TABLE_LENGTH",
            f"addr_offset_table has {len(table)} values; numRegion = {regions} needs "
            f"{regions * AOT_FIELDS} (valid, start_tag, end_tag, base_addr per region)",
        )
    entries = [table[i : i + AOT_FIELDS] for i in range(0, len(table), AOT_FIELDS)]
    for idx, (valid, start, end, _base) in enumerate(entries):
        if valid not in (0, 1):
            return ctx.violation(
                op,
                "CFG_MEMORY_AOT_TABLE_LENGTH",
                f"addr_offset_table entry {idx} has valid field {valid}; must be 0 or 1",
            )
        if valid and end <= start:
            return ctx.violation(
                op,
                f"{prefix}_EMPTY_TAG_RANGE",
                f"addr_offset_table entry {idx} has end_tag {end} <= start_tag {start}",
            )
    live = [(i, e) for i, e in enumerate(entries) if e[0]]
    for a, (i, ea) in enumerate(live):
        for j, eb in live[a + 1 :]:
            if ea[1] < eb[2] and eb[1] < ea[2]:
                return ctx.violation(
                    op,
                    f"{prefix}_OVERLAP_TAG_REGION",
                    f"addr_offset_table entries {i} [{ea[1]}, {ea[2]}) and {j} "
                    f"[{eb[1]}, {eb[2]}) overlap",
                )
    return None


def _is_addr(t: Attribute) -> bool:
    v = value_type(t)
    return is_bits(v) and v.width.data == ADDR_BIT_WIDTH


def _data_matches(v: Attribute, elem: Attribute | None) -> bool:
    if elem is None or v == elem:
        return True
    wv, we = native_width(v), native_width(elem)
    return wv is not None and wv == we


def _data_port(
    op: Operation, ctx: VerifyContext, t: Attribute, elem: Attribute | None, role: str
) -> Violation | None:
    v = value_type(t)
    if not (is_none(v) or is_bits(v)):
        return ctx.violation(
            op,
            "CPL_MEMORY_DATA_NATIVE",
            f"{role} data port must use !dataflow.bits<N>; found native type {fmt(v)}",
        )
    if not _data_matches(v, elem):
        return ctx.violation(
            op,
            "CPL_MEMORY_DATA_TYPE",
            f"{role} data port value type {fmt(v)} does not match memref element type "
            f"{fmt(elem) if elem is not None else '?'}",
        )
    return None


def _layouts(st: int, ld: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The two input layouts found in Loom fabrics, as (role, input index) lists:
    store-first ``[st_data, st_addr]*S, ld_addr*L`` (Loom's verifier, the fabric-tdd
    tests) and address-first ``ld_addr*L, st_addr*S, st_data*S``
    (spec-fabric-mem.md "Operand Ordering Convention", Loom's generated templates)."""
    store_first = [r for s in range(st) for r in (("st_data", 2 * s), ("st_addr", 2 * s + 1))]
    store_first += [("ld_addr", 2 * st + i) for i in range(ld)]
    addr_first = [("ld_addr", i) for i in range(ld)]
    addr_first += [("st_addr", ld + s) for s in range(st)]
    addr_first += [("st_data", ld + st + s) for s in range(st)]
    return store_first, addr_first


def _inputs_problem(
    op: Operation,
    ctx: VerifyContext,
    inputs: list[Attribute],
    layout: list[tuple[str, int]],
    elem: Attribute | None,
) -> Violation | None:
    for role, idx in layout:
        t = inputs[idx]
        if role == "st_data":
            problem = _data_port(op, ctx, t, elem, "store")
            if problem is not None:
                return problem
        elif not _is_addr(t):
            return _addr_violation(op, ctx, t, "store" if role == "st_addr" else "load")
    return None


def _port_types(
    op: Operation, ctx: VerifyContext, memref: Attribute | None, exported: bool, ext: bool
) -> Violation | None:
    """spec-fabric-mem.md "Type Rules".  Both input layouts in use are accepted
    (the mapper binds memory inputs by type, spec-fabric-mem.md "Operand Ordering
    Convention"); when neither fits, the store-first layout's error is reported."""
    sig = signature(op)
    inputs = list(sig.inputs)
    if ext and inputs and is_memref(inputs[0]):
        inputs = inputs[1:]
    ld = int_attr(op, "ldCount", default=0) or 0
    st = int_attr(op, "stCount", default=0) or 0
    if len(inputs) != 2 * st + ld:
        return None
    elem = memref_element(memref) if memref is not None else None
    store_first, addr_first = _layouts(st, ld)
    problem = _inputs_problem(op, ctx, inputs, store_first, elem)
    if problem is not None and _inputs_problem(op, ctx, inputs, addr_first, elem) is None:
        problem = None
    if problem is not None:
        return problem
    outputs = list(sig.outputs)
    first = 1 if exported and outputs and is_memref(outputs[0]) else 0
    for t in outputs[first : first + ld]:
        problem = _data_port(op, ctx, t, elem, "load")
        if problem is not None:
            return problem
    return None


def _addr_violation(op: Operation, ctx: VerifyContext, t: Attribute, role: str) -> Violation:
    return ctx.violation(
        op,
        "CPL_MEMORY_ADDR_TYPE",
        f"{role} address port must be !dataflow.bits<{ADDR_BIT_WIDTH}> or a tagged "
        f"!dataflow.bits<{ADDR_BIT_WIDTH}>; got {fmt(t)}",
    )


def memref_type(op: Operation) -> Attribute | None:
    """The memory's ``memref_type`` (a type, or a type attribute wrapping one)."""
    attr = raw_attr(op, "memref_type")
    if attr is not None and not is_memref(attr):
        attr = getattr(attr, "type", None)
    return attr if attr is not None and is_memref(attr) else None


def check_memory(op: Operation, ctx: VerifyContext) -> Violation | None:
    """``fabric.memory``: on-chip scratchpad."""
    problem = _common(op, ctx) or _addr_offset_table(op, ctx, "CFG_MEMORY")
    if problem is not None:
        return problem
    memref = memref_type(op)
    if memref is not None and not memref_is_static(memref):
        return ctx.violation(
            op,
            "CPL_MEMORY_STATIC_REQUIRED",
            f"on-chip memory needs a static memref shape; got {fmt(memref)}",
        )
    private = bool_attr(op, "is_private", default=True)
    return _port_types(op, ctx, memref, exported=not private, ext=False)


def check_extmemory(op: Operation, ctx: VerifyContext) -> Violation | None:
    """``fabric.extmemory``: a port onto memory outside the fabric."""
    problem = _common(op, ctx) or _addr_offset_table(op, ctx, "CFG_EXTMEMORY")
    if problem is not None:
        return problem
    if has_attr(op, "is_private"):
        return ctx.violation(
            op, "CPL_MEMORY_EXTMEM_PRIVATE", "is_private must not be set on fabric.extmemory"
        )
    if op.operands and is_memref(op.operands[0].type):
        if not isinstance(op.operands[0], BlockArgument):
            return ctx.violation(
                op,
                "CPL_MEMORY_EXTMEM_BINDING",
                "the memref operand must be a memref input of the enclosing fabric.module",
            )
    return _port_types(op, ctx, memref_type(op), exported=False, ext=True)
