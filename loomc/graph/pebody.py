"""PE bodies as data: the ops a ``fabric.pe`` runs and how they are wired.

Tech-mapping matches DFG ops (or small DFG subgraphs) against these bodies
(spec-mapper-model.md "Tech-Mapping Model"), and load/store PE port roles are
read from the wiring of their single body op.
"""

from __future__ import annotations

from xdsl.ir import Operation, SSAValue

from loomc.graph.irutil import all_attrs, body_ops, terminator
from loomc.graph.model import BodyOp, BodyRef, PeBody


def extract_body(pe: Operation) -> PeBody:
    """Ops, operand sources, yields and internal edges of a (flattened) PE body."""
    if not pe.regions or not pe.regions[0].blocks:
        return PeBody((), (), (), ())
    block = pe.regions[0].blocks[0]
    source: dict[SSAValue, BodyRef] = {arg: BodyRef("arg", i) for i, arg in enumerate(block.args)}
    inner = body_ops(pe)
    for index, op in enumerate(inner):
        for r, res in enumerate(op.results):
            source[res] = BodyRef("op", index, r)
    ops: list[BodyOp] = []
    edges: list[tuple[int, int]] = []
    for index, op in enumerate(inner):
        refs = tuple(source.get(v, BodyRef("external", -1)) for v in op.operands)
        for ref in refs:
            if ref.source == "op" and (ref.index, index) not in edges:
                edges.append((ref.index, index))
        attrs = tuple(
            sorted((k, str(v)) for k, v in all_attrs(op).items() if not k.startswith("loomc."))
        )
        ops.append(
            BodyOp(
                index=index,
                op_name=op.name,
                operands=refs,
                operand_types=tuple(str(v.type) for v in op.operands),
                result_types=tuple(str(r.type) for r in op.results),
                attrs=attrs,
            )
        )
    term = terminator(pe)
    yields = tuple(source.get(v, BodyRef("external", -1)) for v in term.operands) if term else ()
    return PeBody(
        ops=tuple(ops),
        arg_types=tuple(str(a.type) for a in block.args),
        yields=yields,
        edges=tuple(edges),
    )


#: spec-fabric-pe.md "Port Roles", by operand / result position of the body op
_LS_IN_ROLES = {
    "handshake.load": ("addr_from_comp", "data_from_mem", "ctrl"),
    "handshake.store": ("addr_from_comp", "data_from_comp", "ctrl"),
}
_LS_OUT_ROLES = {
    "handshake.load": ("data_to_comp", "addr_to_mem"),
    "handshake.store": ("data_to_mem", "addr_to_mem"),
}


def load_store_roles(body: PeBody) -> tuple[dict[int, str], dict[int, str]]:
    """Port roles of a load/store PE, read from how its single body op is wired
    (the corpus yields ``data, addr`` while the spec lists ``addr, data``, so the
    wiring, not a fixed position, decides)."""
    if len(body.ops) != 1 or body.ops[0].op_name not in _LS_IN_ROLES:
        return {}, {}
    op = body.ops[0]
    ins: dict[int, str] = {}
    for pos, ref in enumerate(op.operands):
        if ref.source == "arg" and pos < len(_LS_IN_ROLES[op.op_name]):
            ins[ref.index] = _LS_IN_ROLES[op.op_name][pos]
    outs: dict[int, str] = {}
    for pos, ref in enumerate(body.yields):
        if ref.source == "op" and ref.result < len(_LS_OUT_ROLES[op.op_name]):
            outs[pos] = _LS_OUT_ROLES[op.op_name][ref.result]
    return ins, outs
