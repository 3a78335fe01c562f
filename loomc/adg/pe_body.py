"""Text of ``fabric.pe`` bodies built from an operation name and its native types.

spec-fabric-pe-ops.md is the allowlist: which ops may sit in a PE body and in
which consumption group.  :class:`BodyOp` names one such op with its operand and
result types; :func:`op_text` spells it in the op's own textual syntax (the form
Loom's front end prints and loomc's dialects parse), and :func:`body_rules`
checks the exclusivity rules of a body so a bad PE is refused when it is
defined, with the rule's code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from loomc.adg.types import is_native

ARITH_BINARY = frozenset(
    {
        "arith.addi", "arith.subi", "arith.muli", "arith.divsi", "arith.divui",
        "arith.remsi", "arith.remui", "arith.andi", "arith.ori", "arith.xori",
        "arith.shli", "arith.shrsi", "arith.shrui", "arith.addf", "arith.subf",
        "arith.mulf", "arith.divf",
    }
)  # fmt: skip
UNARY = frozenset(
    {"arith.negf", "math.absf", "math.cos", "math.exp", "math.log2", "math.sin", "math.sqrt"}
)
CASTS = frozenset(
    {
        "arith.extsi", "arith.extui", "arith.trunci", "arith.index_cast",
        "arith.index_castui", "arith.fptosi", "arith.fptoui", "arith.sitofp",
        "arith.uitofp",
    }
)  # fmt: skip
COMPARES = {"arith.cmpi": "eq", "arith.cmpf": "oeq"}
DATAFLOW = frozenset({"dataflow.carry", "dataflow.invariant", "dataflow.stream", "dataflow.gate"})
LOADSTORE = frozenset({"handshake.load", "handshake.store"})
PARTIAL = frozenset({"handshake.cond_br", "handshake.mux"})
FULL_HANDSHAKE = frozenset({"handshake.join", "handshake.sink", "handshake.constant"})
OTHER = frozenset({"arith.select", "math.fma", "llvm.intr.bitreverse"})
#: not in spec-fabric-pe-ops.md, but Loom's generator turns a DFG's
#: ``arith.constant`` into a source PE with that body and loomc's verifier
#: accepts it; its value is hardware (there is no runtime field for it)
SOURCES = frozenset({"arith.constant"})

#: spec-fabric-pe-ops.md: every op a fabric.pe body may hold (besides nested PEs)
ALLOWED = (
    ARITH_BINARY | UNARY | CASTS | frozenset(COMPARES) | DATAFLOW | LOADSTORE | PARTIAL
    | FULL_HANDSHAKE | OTHER | SOURCES
)


class BodyError(ValueError):
    """A body breaks a PE body rule; ``code`` is the Fabric rule (spec-fabric-error.md)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class BodyOp:
    """One operation of a PE body: its name, operand and result native types, and
    the few attributes that shape its text (``predicate`` of a compare, ``value``
    of a constant, ``step_op``/``stop_cond`` of a stream)."""

    name: str
    ins: tuple[str, ...]
    outs: tuple[str, ...]
    attrs: Mapping[str, str] = field(default_factory=dict)

    def key(self) -> tuple:
        """Identity for deduplication: the op and its types, not its runtime
        config; an ``arith.constant``'s value is hardware, so it is part of it."""
        if self.name in SOURCES:
            return (self.name, self.ins, self.outs, self.attrs.get("value", ""))
        return (self.name, self.ins, self.outs)


def _zero(native: str) -> str:
    """The default constant of a type, as Loom's templates write it."""
    if native == "i1":
        return "false"
    if native.startswith("f") or native == "bf16":
        return f"0.000000e+00 : {native}"
    return f"0 : {native}"


def expected_arity(op: BodyOp) -> tuple[int, int] | None:
    """(operands, results) an op needs, when fixed by its kind."""
    n = op.name
    fixed = {
        "arith.select": (3, 1), "math.fma": (3, 1), "llvm.intr.bitreverse": (1, 1),
        "handshake.constant": (1, 1), "handshake.sink": (1, 0),
        "handshake.cond_br": (2, 2), "handshake.load": (3, 2), "handshake.store": (3, 2),
        "dataflow.carry": (3, 1), "dataflow.invariant": (2, 1),
        "dataflow.stream": (3, 2), "dataflow.gate": (2, 2), "arith.constant": (0, 1),
    }  # fmt: skip
    if n in ARITH_BINARY or n in COMPARES:
        return (2, 1)
    if n in UNARY or n in CASTS:
        return (1, 1)
    if n in fixed:
        return fixed[n]
    if n == "handshake.join":
        return (max(1, len(op.ins)), 1)
    if n == "handshake.mux":
        return (max(2, len(op.ins)), 1)
    return None


def op_text(op: BodyOp, args: Sequence[str], results: Sequence[str]) -> str:
    """The op in its textual form, with SSA names ``args`` and ``results``."""
    n, ins, outs = op.name, op.ins, op.outs
    res = ", ".join(results)
    lhs = f"{res} = " if results else ""
    a = list(args)
    if n in ARITH_BINARY:
        return f"{lhs}{n} {a[0]}, {a[1]} : {outs[0]}"
    if n in UNARY:
        return f"{lhs}{n} {a[0]} : {outs[0]}"
    if n in CASTS:
        return f"{lhs}{n} {a[0]} : {ins[0]} to {outs[0]}"
    if n in COMPARES:
        pred = op.attrs.get("predicate", COMPARES[n])
        return f"{lhs}{n} {pred}, {a[0]}, {a[1]} : {ins[0]}"
    if n == "arith.select":
        return f"{lhs}{n} {a[0]}, {a[1]}, {a[2]} : {outs[0]}"
    if n == "math.fma":
        return f"{lhs}{n} {a[0]}, {a[1]}, {a[2]} : {outs[0]}"
    if n == "llvm.intr.bitreverse":
        return f"{lhs}{n}({a[0]}) : ({ins[0]}) -> {outs[0]}"
    if n == "arith.constant":
        value = op.attrs.get("value", _zero(outs[0]))
        return f"{lhs}{n} {value}"
    if n == "handshake.constant":
        value = op.attrs.get("value", _zero(outs[0]))
        return f"{lhs}{n} {a[0]} {{value = {value}}} : {outs[0]}"
    if n == "handshake.join":
        return f"{lhs}{n} {', '.join(a)} : {', '.join(ins)}"
    if n == "handshake.sink":
        return f"{n} {a[0]} : {ins[0]}"
    if n == "handshake.cond_br":
        return f"{lhs}{n} {a[0]}, {a[1]} : {ins[1]}"
    if n == "handshake.mux":
        return f"{lhs}{n} {a[0]} [{', '.join(a[1:])}] : {ins[0]}, {outs[0]}"
    if n in LOADSTORE:
        return f"{lhs}{n} [{a[0]}] {a[1]}, {a[2]} : {ins[0]}, {ins[1]}"
    if n in ("dataflow.carry", "dataflow.invariant"):
        return f"{lhs}{n} {', '.join(a)} : {', '.join(ins)} -> {outs[0]}"
    if n == "dataflow.stream":
        extra = {k: op.attrs[k] for k in ("step_op", "stop_cond") if k in op.attrs}
        attr = ""
        if extra:
            attr = " {" + ", ".join(f'{k} = "{v}"' for k, v in sorted(extra.items())) + "}"
        return f"{lhs}{n} {a[0]}, {a[1]}, {a[2]}{attr}"
    if n == "dataflow.gate":
        return f"{lhs}{n} {a[0]}, {a[1]} : {', '.join(ins)} -> {', '.join(outs)}"
    raise BodyError("CPL_PE_EMPTY_BODY", f"'{n}' is not allowed in a fabric.pe body")


def _group(name: str) -> str:
    """spec-fabric-pe-ops.md "Homogeneous Consumption Rule"."""
    if name in DATAFLOW:
        return "dataflow"
    if name in PARTIAL:
        return "partial"
    return "full"


def body_rules(ops: Sequence[BodyOp]) -> None:
    """Raise :class:`BodyError` if the body breaks an exclusivity rule
    (spec-fabric-pe-ops.md "Exclusivity Rules", "Homogeneous Consumption Rule")."""
    if not ops:
        raise BodyError("CPL_PE_EMPTY_BODY", "a PE body needs at least one operation")
    names = [o.name for o in ops]
    for op in ops:
        if op.name not in ALLOWED:
            code = "CPL_PE_MIXED_CONSUMPTION" if op.name.startswith("handshake.") else (
                "CPL_PE_DATAFLOW_BODY" if op.name.startswith("dataflow.") else "CPL_PE_EMPTY_BODY"
            )
            raise BodyError(code, f"'{op.name}' is not allowed in a fabric.pe body")
        for t in (*op.ins, *op.outs):
            if not is_native(t):
                raise BodyError(
                    "CPL_PE_MIXED_INTERFACE", f"'{op.name}' uses non-native type {t} in a PE body"
                )
        arity = expected_arity(op)
        if arity is not None and (len(op.ins), len(op.outs)) != arity:
            raise BodyError(
                "CPL_INSTANCE_OPERAND_MISMATCH",
                f"'{op.name}' takes {arity[0]} operand(s) and gives {arity[1]} result(s), "
                f"not {len(op.ins)} and {len(op.outs)}",
            )
    if any(n in DATAFLOW for n in names) and len(names) > 1:
        raise BodyError(
            "CPL_PE_DATAFLOW_BODY", "a dataflow op must be the only operation of its PE body"
        )
    if any(n in LOADSTORE for n in names) and len(names) > 1:
        raise BodyError(
            "CPL_PE_LOADSTORE_BODY", "a load/store must be the only operation of its PE body"
        )
    if "handshake.constant" in names and len(names) > 1:
        raise BodyError(
            "CPL_PE_CONSTANT_BODY", "handshake.constant must be the only operation of its PE body"
        )
    groups = {_group(n) for n in names}
    if len(groups) > 1:
        raise BodyError(
            "CPL_PE_MIXED_CONSUMPTION",
            "a PE body mixes full-consume ops with cond_br/mux (partial-consume) ops",
        )
