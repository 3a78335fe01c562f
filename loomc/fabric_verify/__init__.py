"""The fabric verifier: Loom's compile-time rules for ``*.fabric.mlir`` files.

``verify_fabric(module)`` walks a parsed fabric (parents before children, in
source order, as MLIR's verifier does) and returns the rules it breaks as
:class:`Violation` values carrying Loom's error codes (spec-fabric-error.md).
Each op reports at most its first broken rule, in Loom's order for that op, so
the first violation of a file is the one Loom would print.

Rule families live in one module each: ``module_rules`` (incl. fan-out and
combinational loops via ``comb_loop``), ``instance_rules``, ``pe_rules``,
``temporal_pe_rules``, ``switch_rules`` (switch and temporal_sw), ``fifo_rules``,
``tag_rules``, ``memory_rules`` (incl. ``addr_offset_table`` CFG checks) and
``type_rules`` (bits/tag widths, also on raw text before parsing).
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.ir import Operation

from loomc.fabric_verify.context import SourceMapLike, VerifyContext, Violation
from loomc.fabric_verify.fifo_rules import check_fifo
from loomc.fabric_verify.instance_rules import check_instance
from loomc.fabric_verify.ir_access import walk_preorder
from loomc.fabric_verify.memory_rules import check_extmemory, check_memory
from loomc.fabric_verify.module_rules import check_module
from loomc.fabric_verify.pe_rules import check_pe
from loomc.fabric_verify.switch_rules import check_switch, check_temporal_sw
from loomc.fabric_verify.tag_rules import check_add_tag, check_del_tag, check_map_tag
from loomc.fabric_verify.temporal_pe_rules import check_temporal_pe
from loomc.fabric_verify.type_rules import check_types, precheck_text

Rule = Callable[[Operation, VerifyContext], "Violation | None"]

#: op name → its rule function
RULES: dict[str, Rule] = {
    "fabric.module": check_module,
    "fabric.instance": check_instance,
    "fabric.pe": check_pe,
    "fabric.temporal_pe": check_temporal_pe,
    "fabric.switch": check_switch,
    "fabric.temporal_sw": check_temporal_sw,
    "fabric.fifo": check_fifo,
    "fabric.add_tag": check_add_tag,
    "fabric.del_tag": check_del_tag,
    "fabric.map_tag": check_map_tag,
    "fabric.memory": check_memory,
    "fabric.extmemory": check_extmemory,
}


def verify_fabric(module: Operation, source_map: SourceMapLike | None = None) -> list[Violation]:
    """All rules the fabric in ``module`` breaks, in verification order.

    Out-of-range ``bits``/``tagged`` types are reported alone: Loom rejects them
    while parsing, before any op rule runs.
    """
    ctx = VerifyContext.build(module, source_map)
    ops = list(walk_preorder(module))
    type_errors = [v for v in (check_types(op, ctx) for op in ops) if v is not None]
    if type_errors:
        return type_errors
    found: list[Violation] = []
    for op in ops:
        rule = RULES.get(op.name)
        if rule is None:
            continue
        violation = rule(op, ctx)
        if violation is not None:
            found.append(violation)
    return found


__all__ = ["RULES", "Violation", "VerifyContext", "precheck_text", "verify_fabric"]
