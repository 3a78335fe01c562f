"""Rules of ``fabric.switch`` and ``fabric.temporal_sw``.

Sources: spec-fabric-switch.md ("Interface Types", "Attributes", "Defaults",
"Constraints") and spec-fabric-temporal_sw.md (same sections plus "Route Table
Format").  The order of the checks follows Loom's verifier so the first error
reported for an op is the one Loom reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xdsl.ir import Operation

from loomc.fabric_verify.context import VerifyContext, Violation
from loomc.fabric_verify.ir_access import (
    first_incompatible,
    fmt,
    int_attr,
    int_list_attr,
    is_routing_payload,
    is_routing_port,
    is_tagged,
    signature,
    str_list_attr,
    value_type,
)
from loomc.fabric_verify.sparse_format import check_sparse, is_hex_entry

#: spec-fabric-switch.md "Constraints": at most 32 inputs and 32 outputs.
MAX_SWITCH_PORTS = 32

_ROUTE_PAIR = re.compile(r"O\[(\d+)\]\s*<-\s*I\[(\d+)\]")


@dataclass(frozen=True)
class TableCodes:
    """The per-family codes of the shared connectivity-table checks."""

    shape: str
    row: str
    col: str


SWITCH_CODES = TableCodes("CPL_SWITCH_TABLE_SHAPE", "CPL_SWITCH_ROW_EMPTY", "CPL_SWITCH_COL_EMPTY")
TSW_CODES = TableCodes(
    "CPL_TEMPORAL_SW_TABLE_SHAPE", "CPL_TEMPORAL_SW_ROW_EMPTY", "CPL_TEMPORAL_SW_COL_EMPTY"
)


def connectivity(op: Operation, n_out: int, n_in: int) -> list[int]:
    """The op's connectivity table, or the all-ones default
    (spec-fabric-switch.md "Defaults")."""
    table = int_list_attr(op, "connectivity_table")
    return table if table is not None else [1] * (n_out * n_in)


def connected_positions(table: list[int], n_out: int, n_in: int) -> list[tuple[int, int]]:
    """(output, input) of every ``1``, row-major by output then input: the order
    of the route bits (spec-fabric-switch.md "route_table")."""
    return [
        (o, i)
        for o in range(n_out)
        for i in range(n_in)
        if o * n_in + i < len(table) and table[o * n_in + i] == 1
    ]


def route_pairs(entry: str) -> list[tuple[int, int]]:
    """``(out, in)`` pairs of a human-readable temporal-switch slot
    (spec-fabric-temporal_sw.md "Human-Readable Format")."""
    head, _, routes = entry.partition(")")
    return [(int(o), int(i)) for o, i in _ROUTE_PAIR.findall(routes or head)]


def _table_problem(
    table: list[int], n_out: int, n_in: int, codes: TableCodes
) -> tuple[str, str] | None:
    """spec-fabric-switch.md "Constraints": shape, 0/1 values, no empty row/column."""
    if len(table) != n_out * n_in:
        return codes.shape, (
            f"connectivity_table length must be {n_out * n_in} "
            f"({n_out} outputs x {n_in} inputs); got {len(table)}"
        )
    if any(v not in (0, 1) for v in table):
        return codes.shape, "connectivity_table values must be 0 or 1"
    for o in range(n_out):
        if not any(table[o * n_in + i] == 1 for i in range(n_in)):
            return codes.row, f"connectivity_table output row {o} has no connections"
    for i in range(n_in):
        if not any(table[o * n_in + i] == 1 for o in range(n_out)):
            return codes.col, f"connectivity_table input column {i} has no connections"
    return None


def check_switch(op: Operation, ctx: VerifyContext) -> Violation | None:
    """``fabric.switch`` (spec-fabric-switch.md)."""
    sig = signature(op)
    ports = sig.inputs + sig.outputs
    # spec-fabric-switch.md "Interface Types": routing payloads only.
    for t in ports:
        if not is_routing_port(t):
            return ctx.violation(
                op,
                "CPL_ROUTING_PAYLOAD_NOT_BITS",
                "switch port type must be !dataflow.bits<N>, none, or !dataflow.tagged "
                f"with a bits/none value; got {fmt(t)}",
            )
    bad = first_incompatible(ports)
    if bad is not None:
        return _width_violation(op, ctx, *bad)
    n_in, n_out = len(sig.inputs), len(sig.outputs)
    # spec-fabric-error.md CPL_SWITCH_PORT_ZERO.
    count = _port_count_violation(
        op, ctx, "switch", n_in, n_out, "CPL_SWITCH_PORT_LIMIT", "CPL_SWITCH_PORT_ZERO"
    )
    if count is not None:
        return count
    table = int_list_attr(op, "connectivity_table")
    if table is None:
        return None
    problem = _table_problem(table, n_out, n_in, SWITCH_CODES)
    if problem is not None:
        return ctx.violation(op, *problem)
    routes = int_list_attr(op, "route_table")
    popcount = sum(1 for v in table if v == 1)
    if routes is not None and len(routes) != popcount:
        return ctx.violation(
            op,
            "CPL_SWITCH_ROUTE_LEN_MISMATCH",
            f"route_table length must equal popcount of connectivity_table ({popcount}); "
            f"got {len(routes)}",
        )
    return None


def _width_violation(op: Operation, ctx: VerifyContext, first, other) -> Violation:
    # spec-fabric-switch.md "Interface Types"; Loom gives this message no code,
    # loomc files it under the generic type-mismatch code.
    return ctx.violation(
        op,
        "CPL_FABRIC_TYPE_MISMATCH",
        f"all ports must have bit-width-compatible types; got {fmt(first)} and {fmt(other)}",
    )


def _port_count_violation(
    op: Operation,
    ctx: VerifyContext,
    kind: str,
    n_in: int,
    n_out: int,
    limit_code: str,
    zero_code: str,
) -> Violation | None:
    """At most ``MAX_SWITCH_PORTS`` and at least one port on each side, the bound
    switch and temporal_sw share (spec-fabric-switch.md "Constraints")."""
    if n_in > MAX_SWITCH_PORTS or n_out > MAX_SWITCH_PORTS:
        return ctx.violation(
            op,
            limit_code,
            f"{kind} has {n_in} inputs and {n_out} outputs; at most {MAX_SWITCH_PORTS} each",
        )
    if n_in == 0 or n_out == 0:
        return ctx.violation(op, zero_code, f"{kind} must have at least one input and one output")
    return None


def check_temporal_sw(op: Operation, ctx: VerifyContext) -> Violation | None:
    """``fabric.temporal_sw`` (spec-fabric-temporal_sw.md)."""
    sig = signature(op)
    ports = sig.inputs + sig.outputs
    for t in ports:
        # spec-fabric-temporal_sw.md "Interface Types": tagged ports only.
        if not is_tagged(t):
            return ctx.violation(
                op,
                "CPL_TEMPORAL_SW_INTERFACE_NOT_TAGGED",
                f"all ports must be !dataflow.tagged; got {fmt(t)}",
            )
        if not is_routing_payload(value_type(t)):
            return ctx.violation(
                op,
                "CPL_ROUTING_PAYLOAD_NOT_BITS",
                "temporal_sw tagged value type must be !dataflow.bits<N> or none; "
                f"got {fmt(value_type(t))}",
            )
    bad = first_incompatible(ports)
    if bad is not None:
        return _width_violation(op, ctx, *bad)
    n_in, n_out = len(sig.inputs), len(sig.outputs)
    count = _port_count_violation(
        op,
        ctx,
        "temporal_sw",
        n_in,
        n_out,
        "CPL_TEMPORAL_SW_PORT_LIMIT",
        "CPL_TEMPORAL_SW_PORT_ZERO",
    )
    if count is not None:
        return count
    num_route_table = int_attr(op, "num_route_table", default=0)
    if num_route_table is None or num_route_table < 1:
        return ctx.violation(op, "CPL_TEMPORAL_SW_NUM_ROUTE_TABLE", "num_route_table must be >= 1")
    table = int_list_attr(op, "connectivity_table")
    entries = str_list_attr(op, "route_table")
    if table is not None:
        problem = _table_problem(table, n_out, n_in, TSW_CODES)
        if problem is not None:
            return ctx.violation(op, *problem)
        if entries is not None:
            illegal = _illegal_route(entries, table, n_out, n_in)
            if illegal is not None:
                return ctx.violation(op, "CPL_TEMPORAL_SW_ROUTE_ILLEGAL", illegal)
    if entries is not None:
        if len(entries) > num_route_table:
            return ctx.violation(
                op,
                "CPL_TEMPORAL_SW_TOO_MANY_SLOTS",
                f"route_table has {len(entries)} slots; num_route_table is {num_route_table}",
            )
        sparse = check_sparse(entries, "route_table")
        if sparse is not None:
            code = {
                "mixed": "CPL_TEMPORAL_SW_MIXED_FORMAT",
                "order": "CPL_TEMPORAL_SW_SLOT_ORDER",
                "hole": "CPL_TEMPORAL_SW_IMPLICIT_HOLE",
            }[sparse.kind]
            return ctx.violation(op, code, sparse.detail)
    return None


def _illegal_route(entries: list[str], table: list[int], n_out: int, n_in: int) -> str | None:
    """spec-fabric-temporal_sw.md "Constraints": routes only over connected positions.
    Hex slots are checked by the configuration stage, not here."""
    connected = set(connected_positions(table, n_out, n_in))
    for slot, entry in enumerate(entries):
        if "invalid" in entry or is_hex_entry(entry):
            continue
        for out_idx, in_idx in route_pairs(entry):
            if (out_idx, in_idx) not in connected:
                return (
                    f"route_table slot {slot} routes output {out_idx} from input {in_idx}, "
                    "which connectivity_table does not connect"
                )
    return None
