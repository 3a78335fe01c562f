"""What a fabric must hold to run a DFG: op kinds with widths, memories, I/O.

spec-cli.md "--gen-adg": the generator "analyzes PE operation requirements, data
widths, and memory interfaces" of each ``handshake.func``.  :func:`analyze_dfg`
reduces one function to a :class:`DFGAnalysis`:

* every non-memory op is a *PE need*, keyed by op name and native operand and
  result types (a PE body matches a DFG op positionally, with the same types,
  spec-mapper-model.md "C2"); runtime configuration — compare predicates,
  constant values, stream conditions — is not part of the key
  (spec-fabric-pe.md "Runtime Configuration Parameters from PE Body");
* every ``handshake.memory``/``extmemory`` is a *memory need*: kind, memref
  type and load/store counts (spec-mapper-model.md "C4.3", "C4.4");
* arguments and results, by type; memref arguments bind to ``extmemory``.

:func:`merge` unions several analyses: a fabric that runs any one of the DFGs
needs, per kind, the largest count any of them uses (Loom's
``MergedRequirements``: the DFGs are mapped one at a time, not together).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import IntegerAttr
from xdsl.ir import Attribute, Operation

from loomc.adg.pe_body import ALLOWED, SOURCES, BodyOp
from loomc.adg.types import native_width, port_of
from loomc.diagnostics import ExitCode, LoomcError, SourceLocation

MEMORY_OPS = ("handshake.memory", "handshake.extmemory")


@dataclass(frozen=True, order=True)
class MemNeed:
    """One memory interface: ``kind`` is ``memory`` or ``extmemory``."""

    kind: str
    memref: str
    ld: int
    st: int

    @property
    def elem(self) -> str:
        inner = self.memref[len("memref<") : -1].split(",", 1)[0].strip()
        return inner.rsplit("x", 1)[-1]


@dataclass(frozen=True)
class Unit:
    """One DFG op that needs hardware, in program order: a PE op or a memory."""

    index: int
    pe: BodyOp | None
    mem: MemNeed | None
    #: indices of the units feeding this one (memory operands included)
    preds: tuple[int, ...]

    @property
    def key(self) -> tuple:
        return ("pe", *self.pe.key()) if self.pe is not None else ("mem", self.mem)


@dataclass(frozen=True)
class DFGAnalysis:
    """Hardware needs of one ``handshake.func``."""

    name: str
    source: str
    n_ops: int
    units: tuple[Unit, ...]
    #: argument types in order (memref arguments as their memref text)
    inputs: tuple[str, ...]
    #: for each argument, the first unit that uses it (-1: none)
    input_users: tuple[int, ...]
    outputs: tuple[str, ...]
    #: for each result, the unit producing it (-1: an argument or nothing)
    output_producers: tuple[int, ...]

    def pe_counts(self) -> Counter:
        return Counter(u.pe.key() for u in self.units if u.pe is not None)

    def pe_kinds(self) -> dict[tuple, BodyOp]:
        """One representative body op per PE key."""
        return {u.pe.key(): u.pe for u in self.units if u.pe is not None}

    def mem_counts(self) -> Counter:
        return Counter(u.mem for u in self.units if u.mem is not None)

    def kinds(self) -> dict[str, int]:
        """Op kinds with their count (``arith.addi:i32`` style keys) for reports."""
        out: Counter = Counter()
        for u in self.units:
            if u.pe is not None:
                out[f"{u.pe.name}:{','.join(u.pe.ins)}->{','.join(u.pe.outs)}"] += 1
            elif u.mem is not None:
                out[f"{u.mem.kind}:{u.mem.elem}:ld{u.mem.ld}st{u.mem.st}"] += 1
        return dict(sorted(out.items()))

    def widths(self) -> set[int]:
        ws: set[int] = set()
        for u in self.units:
            if u.pe is not None:
                ws.update(native_width(t) for t in (*u.pe.ins, *u.pe.outs))
        return ws


def _int_attr(op: Operation, *keys: str) -> int:
    for key in keys:
        attr: Attribute | None = op.properties.get(key) or op.attributes.get(key)
        if isinstance(attr, IntegerAttr):
            return int(attr.value.data)
    return 0


def _type_text(t: Attribute) -> str:
    return str(t)


def analyze_dfg(
    func: Operation, source: str = "", loc: SourceLocation | None = None
) -> DFGAnalysis:
    """Reduce one ``handshake.func`` to its hardware needs (see module docstring)."""
    block = func.regions[0].blocks.first
    if block is None or len(func.regions[0].blocks) != 1:
        raise LoomcError(
            "a DFG body must be a single block", loc=loc, code="CPL_MAPPER_MULTI_BLOCK",
            exit_code=ExitCode.RULE_VIOLATION,
        )
    name_attr = func.properties.get("sym_name") or func.attributes.get("sym_name")
    name = getattr(name_attr, "data", "dfg")
    unit_of: dict[Operation, int] = {}
    units: list[Unit] = []
    ret: Operation | None = None
    n_ops = 0
    ops = list(block.ops)
    for op in ops:
        if op.name == "handshake.return":
            ret = op
            continue
        n_ops += 1
        unit_of[op] = len(units)
        units.append(Unit(len(units), None, None, ()))
    arg_index = {arg: i for i, arg in enumerate(block.args)}
    input_users = [-1] * len(block.args)
    final: list[Unit] = []
    for op in ops:
        if op is ret:
            continue
        idx = unit_of[op]
        preds: list[int] = []
        for operand in op.operands:
            owner = operand.owner
            if isinstance(owner, Operation) and owner in unit_of:
                preds.append(unit_of[owner])
            elif operand in arg_index and input_users[arg_index[operand]] < 0:
                input_users[arg_index[operand]] = idx
        if op.name in MEMORY_OPS:
            kind = op.name.split(".")[1]
            if kind == "extmemory":
                memref = _type_text(op.operands[0].type)
            else:
                mt = op.properties.get("memRefType") or op.attributes.get("memRefType")
                memref = _type_text(mt) if mt is not None else "memref<1024xi32>"
            ld, st = _int_attr(op, "ldCount", "ld"), _int_attr(op, "stCount", "st")
            need = MemNeed(kind, memref, ld, st)
            final.append(Unit(idx, None, need, tuple(preds)))
            continue
        if op.name not in ALLOWED:
            raise LoomcError(
                f"'{op.name}' in @{name} has no fabric.pe form (spec-fabric-pe-ops.md)",
                loc=loc,
                code="CPL_MAPPER_NO_COMPATIBLE_HW",
                exit_code=ExitCode.RULE_VIOLATION,
            )
        attrs = {}
        if op.name in SOURCES:
            value = op.properties.get("value") or op.attributes.get("value")
            attrs["value"] = str(value)
        body = BodyOp(
            op.name,
            tuple(_type_text(v.type) for v in op.operands),
            tuple(_type_text(r.type) for r in op.results),
            attrs,
        )
        final.append(Unit(idx, body, None, tuple(preds)))
    outputs: list[str] = []
    producers: list[int] = []
    if ret is not None:
        for value in ret.operands:
            outputs.append(_type_text(value.type))
            owner = value.owner
            producers.append(unit_of.get(owner, -1) if isinstance(owner, Operation) else -1)
    return DFGAnalysis(
        name=name,
        source=source,
        n_ops=n_ops,
        units=tuple(final),
        inputs=tuple(_type_text(a.type) for a in block.args),
        input_users=tuple(input_users),
        outputs=tuple(outputs),
        output_producers=tuple(producers),
    )


def analyze_files(paths: Sequence[str]) -> list[DFGAnalysis]:
    """One analysis per file, in order.  The functions of one file are mapped
    together, as one session (spec-cli.md "--dfgs": all ``handshake.func`` ops
    are merged into a single module and mapped), so their needs add up
    (:func:`combine`); different files are alternatives (:func:`merge`)."""
    from loomc.loader import load_dfgs

    return [combine([analyze_dfg(loaded.op, str(path), loaded.loc)
                     for loaded in load_dfgs(path)]) for path in paths]


def combine(analyses: Sequence[DFGAnalysis]) -> DFGAnalysis:
    """The needs of several DFGs placed side by side on one fabric: units,
    arguments and results concatenated (unit indices shifted)."""
    if len(analyses) == 1:
        return analyses[0]
    units: list[Unit] = []
    users: list[int] = []
    producers: list[int] = []
    for a in analyses:
        base = len(units)
        units.extend(Unit(u.index + base, u.pe, u.mem, tuple(p + base for p in u.preds))
                     for u in a.units)
        users.extend(u + base if u >= 0 else u for u in a.input_users)
        producers.extend(p + base if p >= 0 else p for p in a.output_producers)
    return DFGAnalysis(
        name="+".join(a.name for a in analyses), source=analyses[0].source,
        n_ops=sum(a.n_ops for a in analyses), units=tuple(units),
        inputs=tuple(t for a in analyses for t in a.inputs), input_users=tuple(users),
        outputs=tuple(t for a in analyses for t in a.outputs),
        output_producers=tuple(producers),
    )


@dataclass(frozen=True)
class Requirements:
    """The union of several DFGs' needs (max count per kind)."""

    pe_counts: tuple[tuple[tuple, int], ...]
    mem_counts: tuple[tuple[MemNeed, int], ...]
    #: per non-memref port type (``!dataflow.bits<32>``, ``none``), the most
    #: arguments/results of that type in one DFG
    inputs_by_type: tuple[tuple[str, int], ...]
    outputs_by_type: tuple[tuple[str, int], ...]


def merge(analyses: Sequence[DFGAnalysis]) -> Requirements:
    pe: Counter = Counter()
    mem: Counter = Counter()
    ins: Counter = Counter()
    outs: Counter = Counter()
    for a in analyses:
        for k, n in a.pe_counts().items():
            pe[k] = max(pe[k], n)
        for k, n in a.mem_counts().items():
            mem[k] = max(mem[k], n)
        plain = [port_of(t).mlir() for t in a.inputs if not t.startswith("memref")]
        for k, n in Counter(plain).items():
            ins[k] = max(ins[k], n)
        for k, n in Counter(port_of(t).mlir() for t in a.outputs).items():
            outs[k] = max(outs[k], n)
    return Requirements(
        tuple(sorted(pe.items())),
        tuple(sorted(mem.items())),
        tuple(sorted(ins.items())),
        tuple(sorted(outs.items())),
    )
