"""Rules of ``fabric.temporal_pe`` (spec-fabric-temporal_pe.md "Interface Types",
"FU Types and Body Structure", "Attributes", "Instruction Memory Format",
"Error Conditions")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from xdsl.ir import Operation

from loomc.fabric_verify.context import VerifyContext, Violation
from loomc.fabric_verify.ir_access import (
    bool_attr,
    fmt,
    has_attr,
    instance_target,
    int_attr,
    is_bits,
    is_none,
    is_tagged,
    native_width,
    non_terminators,
    signature,
    str_list_attr,
    sym_name,
    value_type,
)
from loomc.fabric_verify.pe_rules import LOAD_STORE, is_dataflow_pe
from loomc.fabric_verify.sparse_format import check_sparse, is_hex_entry

#: spec-fabric-temporal_pe.md "operand_buffer_size": 1..8192 entries.
MAX_OPERAND_BUFFER = 8192

_IN_SOURCE = re.compile(r"^in\((\d+)\)")


@dataclass(frozen=True)
class Instruction:
    """The parts of a human-readable ``inst[N]: when(tag=T) DESTS = NAME(op) SRCS``
    entry that the compile-time rules look at."""

    dests: tuple[str, ...]
    srcs: tuple[str, ...]


def _split_top(text: str) -> tuple[str, ...]:
    """Comma-separated items, ignoring commas inside parentheses."""
    items, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        items.append("".join(cur).strip())
    return tuple(items)


def parse_instruction(entry: str) -> Instruction | None:
    """Destinations and sources of one human-readable slot (spec-fabric-temporal_pe.md
    "Human-Readable Format"); ``None`` if the entry has no ``=``."""
    lhs, sep, rhs = entry.partition(" = ")
    if not sep:
        return None
    when_end = lhs.find(") ")
    dests = _split_top(lhs[when_end + 2 :]) if when_end >= 0 else ()
    rhs = rhs.lstrip()
    call_end = rhs.find(")")
    srcs = _split_top(rhs[call_end + 1 :]) if call_end >= 0 else ()
    return Instruction(dests, srcs)


def check_temporal_pe(op: Operation, ctx: VerifyContext) -> Violation | None:
    sig = signature(op)
    ports = sig.inputs + sig.outputs
    for t in ports:
        if not is_tagged(t):
            return ctx.violation(
                op,
                "CPL_TEMPORAL_PE_INTERFACE_NOT_TAGGED",
                f"all ports must be !dataflow.tagged; got {fmt(t)}",
            )
    # spec-fabric-temporal_pe.md "Interface Types": one tagged type on every port.
    if ports:
        first = ports[0]
        for t in ports[1:]:
            if t != first:
                return ctx.violation(
                    op,
                    "CPL_TEMPORAL_PE_TAG_WIDTH",
                    f"all ports must use the same tagged type; got {fmt(first)} and {fmt(t)}",
                )
        v = value_type(first)
        if not (is_none(v) or is_bits(v)):
            return ctx.violation(
                op,
                "CPL_TEMPORAL_PE_NATIVE_VALUE",
                f"temporal_pe tagged value type must be !dataflow.bits<N>; found {fmt(v)}",
            )
    problem = _hw_params(op, ctx)
    if problem is not None:
        return problem
    fus = [o for o in non_terminators(op)]
    if not fus:
        return ctx.violation(
            op, "CPL_TEMPORAL_PE_EMPTY_BODY", "temporal_pe body must define at least one FU"
        )
    problem = _fu_kinds(op, ctx, [f for f in fus if f.name == "fabric.pe"])
    if problem is not None:
        return problem
    entries = str_list_attr(op, "instruction_mem")
    if entries is not None:
        problem = _instruction_mem(op, ctx, entries, len(sig.inputs), len(sig.outputs))
        if problem is not None:
            return problem
    return _fu_widths(op, ctx, [f for f in fus if f.name == "fabric.pe"], ports)


def _fu_widths(
    op: Operation, ctx: VerifyContext, fus: list[Operation], ports: tuple
) -> Violation | None:
    """spec-fabric-temporal_pe.md "Per-Port Width Derivation from FU Definitions"
    (spec-fabric-error.md CPL_TEMPORAL_PE_FU_WIDTH): no FU port is wider than the
    interface value.  Loom leaves this to later stages, so it is checked last."""
    if not ports:
        return None
    limit = native_width(value_type(ports[0]))
    if limit is None:
        return None
    for fu in fus:
        fu_sig = signature(fu)
        for t in fu_sig.inputs + fu_sig.outputs:
            width = native_width(value_type(t))
            if width is not None and width > limit:
                return ctx.violation(
                    op,
                    "CPL_TEMPORAL_PE_FU_WIDTH",
                    f"FU '@{sym_name(fu)}' has a {width}-bit port; the temporal_pe carries "
                    f"{limit}-bit values",
                )
    return None


def _hw_params(op: Operation, ctx: VerifyContext) -> Violation | None:
    """spec-fabric-temporal_pe.md "Attributes" (hardware parameters)."""
    n_inst = int_attr(op, "num_instruction", default=0) or 0
    n_reg = int_attr(op, "num_register", default=0) or 0
    fifo_depth = int_attr(op, "reg_fifo_depth", default=0) or 0
    if n_inst < 1:
        return ctx.violation(
            op, "CPL_TEMPORAL_PE_NUM_INSTRUCTION", f"num_instruction must be >= 1; got {n_inst}"
        )
    if n_reg == 0 and fifo_depth != 0:
        return ctx.violation(
            op,
            "CPL_TEMPORAL_PE_REG_FIFO_DEPTH",
            f"reg_fifo_depth must be 0 when num_register is 0; got {fifo_depth}",
        )
    if n_reg > 0 and fifo_depth < 1:
        return ctx.violation(
            op,
            "CPL_TEMPORAL_PE_REG_FIFO_DEPTH",
            "reg_fifo_depth must be >= 1 when num_register > 0",
        )
    shared = bool_attr(op, "enable_share_operand_buffer")
    size_given = has_attr(op, "operand_buffer_size")
    if shared:
        if not size_given:
            return ctx.violation(
                op,
                "CPL_TEMPORAL_PE_OPERAND_BUFFER_SIZE_MISSING",
                "operand_buffer_size is required when enable_share_operand_buffer is true",
            )
        size = int_attr(op, "operand_buffer_size", default=0) or 0
        if not 1 <= size <= MAX_OPERAND_BUFFER:
            return ctx.violation(
                op,
                "CPL_TEMPORAL_PE_OPERAND_BUFFER_SIZE_RANGE",
                f"operand_buffer_size must be in [1, {MAX_OPERAND_BUFFER}]; got {size}",
            )
    elif size_given:
        return ctx.violation(
            op,
            "CPL_TEMPORAL_PE_OPERAND_BUFFER_MODE_A_HAS_SIZE",
            "operand_buffer_size must not be set when enable_share_operand_buffer is false",
        )
    return None


def _fu_kinds(op: Operation, ctx: VerifyContext, fus: list[Operation]) -> Violation | None:
    """spec-fabric-temporal_pe.md "FU Types and Body Structure": FUs are untagged,
    not load/store and not dataflow (also through an instanced PE)."""
    for fu in fus:
        fu_sig = signature(fu)
        if any(is_tagged(t) for t in fu_sig.inputs + fu_sig.outputs):
            return ctx.violation(
                op, "CPL_TEMPORAL_PE_TAGGED_PE", "temporal_pe must not contain a tagged fabric.pe"
            )
    for fu in fus:
        if any(o.name in LOAD_STORE for o in non_terminators(fu)):
            return ctx.violation(
                op, "CPL_TEMPORAL_PE_LOADSTORE", "temporal_pe must not contain a load/store PE"
            )
    for fu in fus:
        bodies = [fu]
        for inner in non_terminators(fu):
            if inner.name == "fabric.instance":
                target = ctx.lookup(instance_target(inner))
                if target is not None and target.name == "fabric.pe":
                    bodies.append(target)
        if any(is_dataflow_pe(b) for b in bodies):
            return ctx.violation(
                op,
                "CPL_TEMPORAL_PE_DATAFLOW_INVALID",
                "temporal_pe must not contain a dataflow PE (carry/invariant/gate/stream)",
            )
    return None


def _instruction_mem(
    op: Operation, ctx: VerifyContext, entries: list[str], n_in: int, n_out: int
) -> Violation | None:
    """spec-fabric-temporal_pe.md "Instruction Memory Format"."""
    n_inst = int_attr(op, "num_instruction", default=0) or 0
    n_reg = int_attr(op, "num_register", default=0) or 0
    if len(entries) > n_inst:
        return ctx.violation(
            op,
            "CPL_TEMPORAL_PE_TOO_MANY_SLOTS",
            f"instruction_mem has {len(entries)} slots; num_instruction is {n_inst}",
        )
    sparse = check_sparse(entries, "instruction_mem")
    if sparse is not None:
        code = {
            "mixed": "CPL_TEMPORAL_PE_MIXED_FORMAT",
            "order": "CPL_TEMPORAL_PE_SLOT_ORDER",
            "hole": "CPL_TEMPORAL_PE_IMPLICIT_HOLE",
        }[sparse.kind]
        return ctx.violation(op, code, sparse.detail)
    for idx, entry in enumerate(entries):
        if is_hex_entry(entry) or "invalid" in entry:
            continue
        if n_reg == 0 and "reg(" in entry:
            return ctx.violation(
                op,
                "CPL_TEMPORAL_PE_REG_DISABLED",
                f"instruction_mem entry {idx} uses reg() but num_register is 0",
            )
        inst = parse_instruction(entry)
        if inst is None:
            continue
        if inst.dests and len(inst.dests) != n_out:
            return ctx.violation(
                op,
                "CPL_TEMPORAL_PE_DEST_COUNT",
                f"instruction_mem entry {idx} has {len(inst.dests)} destination(s); "
                f"the temporal_pe has {n_out} output(s)",
            )
        if inst.srcs and len(inst.srcs) != n_in:
            return ctx.violation(
                op,
                "CPL_TEMPORAL_PE_SRC_COUNT",
                f"instruction_mem entry {idx} has {len(inst.srcs)} source(s); "
                f"the temporal_pe has {n_in} input(s)",
            )
        for pos, src in enumerate(inst.srcs):
            m = _IN_SOURCE.match(src)
            if m and int(m.group(1)) != pos:
                return ctx.violation(
                    op,
                    "CPL_TEMPORAL_PE_SRC_MISMATCH",
                    f"instruction_mem entry {idx}: in({m.group(1)}) at operand position {pos} "
                    f"(sources are positional: expected in({pos}) or reg(...))",
                )
    return None
