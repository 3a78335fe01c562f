"""Per-op config_mem bit layouts: runtime configuration -> :class:`ConfigBits`.

Each fabric op that has runtime configuration gets a frozen dataclass holding
its hardware shape (what the fabric MLIR fixes) and its runtime values (what
the mapper decides).  ``cfg.encode()`` returns the op's config bits, LSB-first,
with a named field breakdown; ``cfg.errors()`` lists the ``CFG_*`` codes the
hardware would raise for that configuration (spec-fabric-error.md), so a
verifier can reject a representable-but-illegal configuration.

Nothing here parses MLIR: callers translate their IR into these dataclasses.
Where the specs and Loom's own implementations disagree, the choice made is
documented at the class, and tests/test_configmem.py marks each such spec
example INCONSISTENT or AMBIGUOUS.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from loomc.configmem.bits import (
    EMPTY,
    ConfigBits,
    ConfigEncodingError,
    concat,
    log2ceil,
    pack_fields,
)

# --------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------

Connectivity = tuple[tuple[bool, ...], ...]


def connectivity_from_flat(flat: Sequence[int], num_inputs: int, num_outputs: int) -> Connectivity:
    """``connectivity_table`` (row-major ``[output][input]``) as an out x in bool matrix.

    spec-fabric-switch.md "connectivity_table": shape ``num_outputs * num_inputs``.
    """
    if len(flat) != num_inputs * num_outputs:
        raise ConfigEncodingError(
            f"connectivity_table has {len(flat)} entries, expected {num_outputs}*{num_inputs}"
        )
    return tuple(
        tuple(bool(flat[o * num_inputs + i]) for i in range(num_inputs)) for o in range(num_outputs)
    )


def _full(num_inputs: int, num_outputs: int) -> Connectivity:
    return tuple(tuple(True for _ in range(num_inputs)) for _ in range(num_outputs))


def connected_positions(conn: Connectivity) -> tuple[tuple[int, int], ...]:
    """``(output, input)`` of every ``1`` in row-major order: route bit k <-> position k.

    spec-fabric-switch.md "route_table": entries follow the connected positions
    scanned by output, then input.
    """
    return tuple((o, i) for o, row in enumerate(conn) for i, c in enumerate(row) if c)


def _check_conn(conn: Connectivity, num_inputs: int, num_outputs: int, what: str) -> None:
    if len(conn) != num_outputs or any(len(r) != num_inputs for r in conn):
        raise ConfigEncodingError(f"{what}: connectivity is not {num_outputs}x{num_inputs}")


def _route_bits(
    conn: Connectivity, routes: Sequence[int | None], num_inputs: int, what: str
) -> int:
    """Pack an out->in route choice into K = popcount(conn) enable bits."""
    if len(routes) != len(conn):
        raise ConfigEncodingError(f"{what}: {len(routes)} route entries for {len(conn)} outputs")
    for o, src in enumerate(routes):
        if src is None:
            continue
        if not 0 <= src < num_inputs:
            raise ConfigEncodingError(f"{what}: output {o} routed from missing input {src}")
        if not conn[o][src]:
            raise ConfigEncodingError(f"{what}: no physical wire from input {src} to output {o}")
    value = 0
    for k, (o, i) in enumerate(connected_positions(conn)):
        if routes[o] == i:
            value |= 1 << k
    return value


def _routes_from_bits(
    conn: Connectivity, value: int, what: str, mix_code: str
) -> tuple[int | None, ...]:
    """Inverse of :func:`_route_bits`: K enable bits -> out->in choice.

    Two enabled inputs for one output cannot be represented and raise
    ``mix_code`` (that configuration is a hardware ``CFG_*`` error anyway).
    """
    routes: list[int | None] = [None] * len(conn)
    for k, (o, i) in enumerate(connected_positions(conn)):
        if (value >> k) & 1:
            if routes[o] is not None:
                raise ConfigEncodingError(
                    f"{what}: output {o} enabled from inputs {routes[o]} and {i}", mix_code
                )
            routes[o] = i
    if value >> len(connected_positions(conn)):
        raise ConfigEncodingError(f"{what}: route bits beyond the connected positions")
    return tuple(routes)


def _norm_routes(routes: Sequence[int | None] | Mapping[int, int], n_out: int) -> tuple:
    """Accept ``{output: input}`` as well as a per-output tuple."""
    if isinstance(routes, Mapping):
        if any(not 0 <= o < n_out for o in routes):
            raise ConfigEncodingError(f"route to a missing output (have {n_out})")
        return tuple(routes.get(o) for o in range(n_out))
    return tuple(routes)


def _norm_conn(conn: Sequence[Sequence[int | bool]] | None) -> Connectivity | None:
    return None if conn is None else tuple(tuple(bool(c) for c in row) for row in conn)


def _tags(tags: Sequence[int], count: int, what: str) -> tuple[int, ...]:
    """Output tags, defaulting to 0 (spec-fabric-pe.md "output_tag": default 0)."""
    if not tags:
        return (0,) * count
    if len(tags) != count:
        raise ConfigEncodingError(f"{what}: {len(tags)} output tags for {count} outputs")
    return tuple(tags)


def _wrap(value: int, width: int) -> int:
    """Two's-complement bit pattern of ``value`` in ``width`` bits (negative constants)."""
    if value >= 0:
        return value
    if width == 0 or value < -(1 << (width - 1)):
        raise ConfigEncodingError(f"value {value} does not fit in {width} bits")
    return value + (1 << width)


# --------------------------------------------------------------------------
# fabric.switch
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchConfig:
    """``fabric.switch``: one enable bit per connected position (spec-fabric-switch.md).

    ``routes[o]`` is the input routed to output ``o`` or ``None``; one input may
    feed several outputs (broadcast), an output takes at most one input, which
    this representation guarantees.  ``connectivity=None`` is the spec default,
    a full crossbar.
    """

    num_inputs: int
    num_outputs: int
    routes: tuple[int | None, ...] = ()
    connectivity: Connectivity | None = None

    def __post_init__(self) -> None:
        if isinstance(self.routes, Mapping) or self.routes:
            object.__setattr__(self, "routes", _norm_routes(self.routes, self.num_outputs))
        object.__setattr__(self, "connectivity", _norm_conn(self.connectivity))

    @classmethod
    def from_route_table(
        cls,
        num_inputs: int,
        num_outputs: int,
        route_table: Sequence[int],
        connectivity: Connectivity | None = None,
    ) -> SwitchConfig:
        """From a fabric file's flat ``route_table`` bits (one per connected position).

        Raises with code ``CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT`` when an
        output has two enabled inputs, and ``CPL_SWITCH_ROUTE_LEN_MISMATCH`` when
        the length is not the number of connected positions.
        """
        shell = cls(num_inputs, num_outputs, connectivity=connectivity)
        conn = shell.conn()
        k = len(connected_positions(conn))
        if len(route_table) != k:
            raise ConfigEncodingError(
                f"route_table has {len(route_table)} entries for {k} connected positions",
                "CPL_SWITCH_ROUTE_LEN_MISMATCH",
            )
        value = sum(1 << p for p, b in enumerate(route_table) if b)
        routes = _routes_from_bits(
            conn, value, "switch", "CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT"
        )
        return cls(num_inputs, num_outputs, routes, shell.connectivity)

    def conn(self) -> Connectivity:
        c = self.connectivity or _full(self.num_inputs, self.num_outputs)
        _check_conn(c, self.num_inputs, self.num_outputs, "switch")
        return c

    def encode(self) -> ConfigBits:
        # spec-fabric-switch.md "route_table": K = popcount(connectivity) bits,
        # bit k enables connected position k (row-major by output, then input).
        conn = self.conn()
        routes = self.routes or (None,) * self.num_outputs
        value = _route_bits(conn, routes, self.num_inputs, "switch")
        return pack_fields(
            (f"route[o{o}<-i{i}]", 1, (value >> k) & 1)
            for k, (o, i) in enumerate(connected_positions(conn))
        )

    def errors(self) -> tuple[str, ...]:
        # CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT cannot be expressed by an
        # out->in map; use switch_route_errors() on raw route bits.
        return ()


def switch_route_errors(connectivity: Connectivity, route_bits: Sequence[int]) -> tuple[str, ...]:
    """``CFG_*`` codes for a raw switch ``route_table`` (as found in a fabric file)."""
    positions = connected_positions(connectivity)
    if len(route_bits) != len(positions):
        raise ConfigEncodingError(
            f"route_table has {len(route_bits)} bits for {len(positions)} connected positions"
        )
    per_out: dict[int, int] = {}
    for (o, _i), b in zip(positions, route_bits, strict=True):
        if b:
            per_out[o] = per_out.get(o, 0) + 1
    if any(n > 1 for n in per_out.values()):
        return ("CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT",)
    return ()


# --------------------------------------------------------------------------
# fabric.temporal_sw
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteSlot:
    """One valid ``route_table`` slot: match ``tag``; ``routes[o]`` = input for output o."""

    tag: int
    routes: tuple[int | None, ...]


@dataclass(frozen=True)
class TemporalSwitchConfig:
    """``fabric.temporal_sw`` route tables (spec-fabric-temporal_sw.md "Machine Format").

    Slot layout, LSB-first: ``valid`` (1), ``tag`` (M = tag width), ``routes``
    (K = popcount(connectivity), position 0 at the LSB).  ``slots[s]`` is
    ``None`` for an invalid slot; slots beyond ``len(slots)`` up to
    ``num_route_table`` are invalid (all zero).
    """

    num_inputs: int
    num_outputs: int
    tag_width: int
    num_route_table: int
    slots: tuple[RouteSlot | None, ...] = ()
    connectivity: Connectivity | None = None

    def __post_init__(self) -> None:
        slots = tuple(
            RouteSlot(sl.tag, _norm_routes(sl.routes, self.num_outputs))
            if sl is not None and isinstance(sl.routes, Mapping)
            else sl
            for sl in self.slots
        )
        object.__setattr__(self, "slots", slots)
        object.__setattr__(self, "connectivity", _norm_conn(self.connectivity))

    @property
    def slot_width(self) -> int:
        return 1 + self.tag_width + len(connected_positions(self.conn()))

    def conn(self) -> Connectivity:
        c = self.connectivity or _full(self.num_inputs, self.num_outputs)
        _check_conn(c, self.num_inputs, self.num_outputs, "temporal_sw")
        return c

    def encode_slot(self, slot: RouteSlot | None, index: int = 0) -> ConfigBits:
        conn = self.conn()
        k = len(connected_positions(conn))
        if slot is None:
            return pack_fields((("valid", 1, 0), ("tag", self.tag_width, 0), ("routes", k, 0)))
        value = _route_bits(conn, slot.routes, self.num_inputs, f"temporal_sw slot {index}")
        return pack_fields(
            (("valid", 1, 1), ("tag", self.tag_width, slot.tag), ("routes", k, value))
        )

    def decode_slot(self, value: int) -> RouteSlot | None:
        """A machine-format (hex) slot word back to a :class:`RouteSlot` (``None``
        when ``valid`` is 0)."""
        if value >> self.slot_width:
            raise ConfigEncodingError(f"temporal_sw: slot {value:#x} wider than {self.slot_width}")
        if not value & 1:
            return None
        tag = (value >> 1) & ((1 << self.tag_width) - 1)
        routes = _routes_from_bits(
            self.conn(),
            value >> (1 + self.tag_width),
            "temporal_sw",
            "CFG_TEMPORAL_SW_ROUTE_SAME_TAG_INPUTS_TO_SAME_OUTPUT",
        )
        return RouteSlot(tag, routes)

    def encode(self) -> ConfigBits:
        if self.num_route_table < 1:
            raise ConfigEncodingError("temporal_sw: num_route_table must be > 0")
        if len(self.slots) > self.num_route_table:
            raise ConfigEncodingError(
                f"temporal_sw: {len(self.slots)} slots > num_route_table {self.num_route_table}"
            )
        slots = tuple(self.slots) + (None,) * (self.num_route_table - len(self.slots))
        return concat((f"slot[{s}]", self.encode_slot(sl, s)) for s, sl in enumerate(slots))

    def errors(self) -> tuple[str, ...]:
        tags = [s.tag for s in self.slots if s is not None]
        return ("CFG_TEMPORAL_SW_DUP_TAG",) if len(tags) != len(set(tags)) else ()


# --------------------------------------------------------------------------
# compare predicates (fabric.pe bodies, temporal_pe FUs)
# --------------------------------------------------------------------------

#: MLIR ``arith.cmpi`` predicate numbering (0-9 valid; spec-fabric-pe.md "compare_predicate").
CMPI_PREDICATES = ("eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge")
#: MLIR ``arith.cmpf`` predicate numbering (all 16 values valid).
CMPF_PREDICATES = (
    "false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord",
    "ueq", "ugt", "uge", "ult", "ule", "une", "uno", "true",
)  # fmt: skip


@dataclass(frozen=True)
class CmpPredicate:
    """The 4-bit runtime predicate of one compare op; ``op`` is ``"cmpi"`` or ``"cmpf"``."""

    op: str
    code: int

    @classmethod
    def named(cls, op: str, name: str) -> CmpPredicate:
        names = CMPI_PREDICATES if op == "cmpi" else CMPF_PREDICATES
        if op not in ("cmpi", "cmpf") or name not in names:
            raise ConfigEncodingError(f"unknown {op} predicate {name!r}")
        return cls(op, names.index(name))

    def error(self) -> str | None:
        # spec-fabric-pe.md "compare_predicate": cmpi values 10-15 are invalid.
        return "CFG_PE_CMPI_PREDICATE_INVALID" if self.op == "cmpi" and self.code >= 10 else None


def _cmp_fields(preds: Sequence[CmpPredicate], prefix: str) -> list[tuple[str, int, int]]:
    return [(f"{prefix}[{k}]", 4, p.code) for k, p in enumerate(preds)]


# --------------------------------------------------------------------------
# fabric.pe
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ComputePEConfig:
    """A non-constant, non-load/store ``fabric.pe`` (arith/math/dataflow except stream).

    CONFIG_WIDTH = ``NUM_OUTPUTS * TAG_WIDTH + 4 * NUM_CMP_OPS``
    (spec-fabric-config_mem.md "CONFIG_WIDTH"): ``output_tag[0..N-1]`` lowest,
    then one 4-bit ``compare_predicate`` per cmp op in body order.
    ``tag_width == 0`` is a native PE (no output tags).
    """

    num_outputs: int
    tag_width: int = 0
    output_tags: tuple[int, ...] = ()
    compare: tuple[CmpPredicate, ...] = ()

    def encode(self) -> ConfigBits:
        spec: list[tuple[str, int, int]] = []
        if self.tag_width:
            tags = _tags(self.output_tags, self.num_outputs, "pe")
            spec += [(f"output_tag[{o}]", self.tag_width, t) for o, t in enumerate(tags)]
        elif self.output_tags:
            raise ConfigEncodingError("pe: output_tag on a native PE (CPL_PE_OUTPUT_TAG_NATIVE)")
        spec += _cmp_fields(self.compare, "compare_predicate")
        return pack_fields(spec)

    def errors(self) -> tuple[str, ...]:
        return tuple(sorted({e for p in self.compare if (e := p.error())}))


@dataclass(frozen=True)
class ConstantPEConfig:
    """A ``fabric.pe`` whose body is one ``handshake.constant`` (one output).

    Lower ``value_width`` bits: ``constant_value``; above them, when tagged,
    ``output_tag`` (spec-fabric-config_mem.md "Field Packing Examples"; agrees
    with Loom's fabric_pe_constant.sv).  Negative values are stored as two's
    complement; floats must be given as their bit pattern (see
    :func:`float_bits`).
    """

    value_width: int
    value: int = 0
    tag_width: int = 0
    output_tag: int = 0

    def encode(self) -> ConfigBits:
        if self.output_tag and not self.tag_width:
            raise ConfigEncodingError("constant pe: output_tag on a native PE")
        return pack_fields(
            (
                ("constant_value", self.value_width, _wrap(self.value, self.value_width)),
                ("output_tag", self.tag_width, self.output_tag),
            )
        )

    def errors(self) -> tuple[str, ...]:
        return ()


def float_bits(value: float, width: int) -> int:
    """IEEE bit pattern of an ``f16``/``f32``/``f64`` constant, for :class:`ConstantPEConfig`."""
    import struct

    fmt = {16: "<e", 32: "<f", 64: "<d"}.get(width)
    if fmt is None:
        raise ConfigEncodingError(f"no IEEE format of width {width}")
    raw = struct.pack(fmt, value)
    return int.from_bytes(raw, "little")


#: ``cont_cond_sel`` one-hot order (spec-fabric-pe.md "cont_cond_sel").
CONT_CONDS = ("<", "<=", ">", ">=", "!=")


@dataclass(frozen=True)
class StreamPEConfig:
    """A ``fabric.pe`` whose body is one ``dataflow.stream``.

    ``output_tag`` array (tagged only) lowest, then the 5-bit one-hot
    ``cont_cond_sel`` in order [``<``, ``<=``, ``>``, ``>=``, ``!=``]
    (spec-fabric-pe.md "cont_cond_sel"; default ``<`` = ``0b00001``).
    ``cont_cond`` is a condition string, or a raw 5-bit int (to model a
    non-one-hot register for error checks).
    """

    num_outputs: int = 2
    tag_width: int = 0
    output_tags: tuple[int, ...] = ()
    cont_cond: str | int = "<"

    @property
    def cont_cond_sel(self) -> int:
        if isinstance(self.cont_cond, int):
            return self.cont_cond
        if self.cont_cond not in CONT_CONDS:
            raise ConfigEncodingError(f"stream: unknown cont_cond {self.cont_cond!r}")
        return 1 << CONT_CONDS.index(self.cont_cond)

    def encode(self) -> ConfigBits:
        spec: list[tuple[str, int, int]] = []
        if self.tag_width:
            tags = _tags(self.output_tags, self.num_outputs, "stream pe")
            spec += [(f"output_tag[{o}]", self.tag_width, t) for o, t in enumerate(tags)]
        spec.append(("cont_cond_sel", 5, self.cont_cond_sel))
        return pack_fields(spec)

    def errors(self) -> tuple[str, ...]:
        sel = self.cont_cond_sel
        one_hot = sel != 0 and sel & (sel - 1) == 0
        return () if one_hot else ("CFG_PE_STREAM_CONT_COND_ONEHOT",)


class TagMode(enum.Enum):
    """Load/store PE hardware type (spec-fabric-pe.md "Hardware Types")."""

    OVERWRITE = "overwrite"
    TRANSPARENT = "transparent"


@dataclass(frozen=True)
class LoadStorePEConfig:
    """A load or store ``fabric.pe``: only a tagged TagOverwrite PE has config,
    one ``output_tag`` shared by all outputs (``TAG_WIDTH`` bits)."""

    mode: TagMode = TagMode.OVERWRITE
    tag_width: int = 0
    output_tag: int = 0

    def encode(self) -> ConfigBits:
        if self.mode is TagMode.TRANSPARENT or not self.tag_width:
            if self.output_tag:
                raise ConfigEncodingError("load/store pe: output_tag without a tag field")
            return EMPTY
        return pack_fields((("output_tag", self.tag_width, self.output_tag),))

    def errors(self) -> tuple[str, ...]:
        return ()


# --------------------------------------------------------------------------
# fabric.temporal_pe
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TemporalPEShape:
    """Hardware parameters of a ``fabric.temporal_pe`` that fix its instruction format.

    Width formulas: spec-fabric-temporal_pe.md "Width Formulas".  With one
    register ``log2Ceil(1) = 0``, so the register index field is absent (the
    spec, spec-adg-sv.md and Loom's simulator agree; Loom's fabric_temporal_pe.sv
    template instead uses ``$clog2(max(R, 2))`` = 1 bit - see the report).
    """

    num_inputs: int
    num_outputs: int
    tag_width: int
    num_fu_types: int
    num_instructions: int
    num_registers: int = 0
    #: Number of cmp ops in each FU body, in FU order (hardware; the predicates are runtime).
    fu_cmp_counts: tuple[int, ...] = ()

    @property
    def opcode_width(self) -> int:
        return log2ceil(self.num_fu_types)

    @property
    def reg_idx_width(self) -> int:
        return log2ceil(self.num_registers) if self.num_registers > 0 else 0

    @property
    def operand_width(self) -> int:
        return 1 + self.reg_idx_width if self.num_registers > 0 else 0

    @property
    def result_width(self) -> int:
        return self.operand_width + self.tag_width

    @property
    def instruction_width(self) -> int:
        return (
            1
            + self.tag_width
            + self.opcode_width
            + self.num_inputs * self.operand_width
            + self.num_outputs * self.result_width
        )

    @property
    def config_width(self) -> int:
        return 4 * sum(self.fu_cmp_counts) + self.num_instructions * self.instruction_width


@dataclass(frozen=True)
class Operand:
    """Source of operand ``i``: ``reg=None`` is the positional input ``in(i)``."""

    reg: int | None = None


@dataclass(frozen=True)
class Result:
    """Destination of result ``j``: ``reg=None`` is ``out(j)``.

    ``tag=None`` means the default: the instruction's match tag for ``out``,
    0 for ``reg`` (spec-fabric-temporal_pe.md "Destinations").
    """

    reg: int | None = None
    tag: int | None = None


@dataclass(frozen=True)
class Instruction:
    """One valid ``instruction_mem`` slot; empty ``operands``/``results`` mean
    all ``in(i)`` / all ``out(j)`` with default tags."""

    tag: int
    opcode: int = 0
    operands: tuple[Operand, ...] = ()
    results: tuple[Result, ...] = ()


def encode_instruction(shape: TemporalPEShape, insn: Instruction | None) -> ConfigBits:
    """One instruction word (spec-fabric-temporal_pe.md "Machine Format (Hex)").

    LSB-first: ``valid``, ``tag[J]``, ``opcode[O]``, operand blocks 0..L-1, result
    blocks 0..N-1.  Operand block LSB-first: ``op_reg_idx``, ``op_is_reg`` (MSB).
    Result block LSB-first: ``res_tag[J]``, ``res_reg_idx``, ``res_is_reg`` (MSB).
    This follows the spec's field text and bitmaps and Loom's RTL; the spec's
    two "Complex Example" hex strings disagree with it (see tests).
    """
    s = shape
    ridx = s.reg_idx_width
    has_regs = s.num_registers > 0
    if insn is None:
        spec: list[tuple[str, int, int]] = [
            ("valid", 1, 0),
            ("tag", s.tag_width, 0),
            ("opcode", s.opcode_width, 0),
        ]
        for i in range(s.num_inputs):
            spec += [(f"op[{i}].reg_idx", ridx, 0), (f"op[{i}].is_reg", int(has_regs), 0)]
        for j in range(s.num_outputs):
            spec += [
                (f"res[{j}].tag", s.tag_width, 0),
                (f"res[{j}].reg_idx", ridx, 0),
                (f"res[{j}].is_reg", int(has_regs), 0),
            ]
        return pack_fields(spec)

    if not 0 <= insn.opcode < max(1, s.num_fu_types):
        raise ConfigEncodingError(f"temporal_pe: opcode {insn.opcode} >= {s.num_fu_types} FU types")
    operands = insn.operands or (Operand(),) * s.num_inputs
    results = insn.results or (Result(),) * s.num_outputs
    if len(operands) != s.num_inputs:
        raise ConfigEncodingError("temporal_pe: source count != inputs (CPL_TEMPORAL_PE_SRC_COUNT)")
    if len(results) != s.num_outputs:
        raise ConfigEncodingError(
            "temporal_pe: destination count != outputs (CPL_TEMPORAL_PE_DEST_COUNT)"
        )
    spec = [
        ("valid", 1, 1),
        ("tag", s.tag_width, insn.tag),
        ("opcode", s.opcode_width, insn.opcode),
    ]
    for i, op in enumerate(operands):
        if op.reg is not None and not has_regs:
            raise ConfigEncodingError("temporal_pe: reg source with num_register = 0")
        spec += [
            (f"op[{i}].reg_idx", ridx, op.reg or 0),
            (f"op[{i}].is_reg", int(has_regs), int(op.reg is not None)),
        ]
    for j, res in enumerate(results):
        if res.reg is not None and not has_regs:
            raise ConfigEncodingError("temporal_pe: reg destination with num_register = 0")
        tag = res.tag if res.tag is not None else (insn.tag if res.reg is None else 0)
        spec += [
            (f"res[{j}].tag", s.tag_width, tag),
            (f"res[{j}].reg_idx", ridx, res.reg or 0),
            (f"res[{j}].is_reg", int(has_regs), int(res.reg is not None)),
        ]
    return pack_fields(spec)


def normalize_instruction(shape: TemporalPEShape, insn: Instruction) -> Instruction:
    """The explicit form of ``insn``: every operand and result listed, every
    result tag resolved (what :func:`decode_instruction` returns)."""
    operands = insn.operands or (Operand(),) * shape.num_inputs
    results = insn.results or (Result(),) * shape.num_outputs
    resolved = tuple(
        Result(r.reg, r.tag if r.tag is not None else (insn.tag if r.reg is None else 0))
        for r in results
    )
    return Instruction(insn.tag, insn.opcode, tuple(operands), resolved)


def decode_instruction(shape: TemporalPEShape, value: int) -> Instruction | None:
    """A machine-format instruction word back to an :class:`Instruction`
    (normalized; ``None`` when ``valid`` is 0).  Inverse of :func:`encode_instruction`."""
    template = encode_instruction(shape, None)
    if value >> template.width:
        raise ConfigEncodingError(
            f"temporal_pe: instruction {value:#x} wider than {template.width} bits"
        )
    if not value & 1:
        return None

    def get(name: str) -> int:
        try:
            return template.slice_of(value, name)
        except KeyError:  # zero-width field
            return 0

    operands = tuple(
        Operand(get(f"op[{i}].reg_idx") if get(f"op[{i}].is_reg") else None)
        for i in range(shape.num_inputs)
    )
    results = tuple(
        Result(get(f"res[{j}].reg_idx") if get(f"res[{j}].is_reg") else None, get(f"res[{j}].tag"))
        for j in range(shape.num_outputs)
    )
    return Instruction(get("tag"), get("opcode"), operands, results)


@dataclass(frozen=True)
class TemporalPEConfig:
    """``fabric.temporal_pe``: FU compare predicates, then instruction memory.

    spec-fabric-config_mem.md "Field Packing Examples": FU 0 cmp config, FU 1
    cmp config, ... in the low bits, then ``NUM_INSTRUCTIONS`` instruction words
    (slot 0 lowest).  ``fu_compare[f]`` must have ``shape.fu_cmp_counts[f]``
    entries (empty tuple = all predicates 0).  Missing trailing instructions
    are invalid (all zero).
    """

    shape: TemporalPEShape
    instructions: tuple[Instruction | None, ...] = ()
    fu_compare: tuple[tuple[CmpPredicate, ...], ...] = ()

    def encode(self) -> ConfigBits:
        s = self.shape
        if len(self.instructions) > s.num_instructions:
            raise ConfigEncodingError(
                f"temporal_pe: {len(self.instructions)} slots > num_instruction "
                f"{s.num_instructions} (CPL_TEMPORAL_PE_TOO_MANY_SLOTS)"
            )
        counts = s.fu_cmp_counts or (0,) * s.num_fu_types
        preds = self.fu_compare or tuple((CmpPredicate("cmpi", 0),) * n for n in counts)
        if tuple(len(p) for p in preds) != tuple(counts):
            raise ConfigEncodingError("temporal_pe: fu_compare does not match fu_cmp_counts")
        parts: list[tuple[str, ConfigBits]] = [
            (f"fu[{f}]", pack_fields(_cmp_fields(p, "compare_predicate")))
            for f, p in enumerate(preds)
        ]
        insns = tuple(self.instructions) + (None,) * (s.num_instructions - len(self.instructions))
        parts += [(f"insn[{k}]", encode_instruction(s, ins)) for k, ins in enumerate(insns)]
        return concat(parts)

    def errors(self) -> tuple[str, ...]:
        errs: set[str] = set()
        valid = [i for i in self.instructions if i is not None]
        tags = [i.tag for i in valid]
        if len(tags) != len(set(tags)):
            errs.add("CFG_TEMPORAL_PE_DUP_TAG")
        for ins in valid:
            regs = [o.reg for o in ins.operands] + [r.reg for r in ins.results]
            if any(r is not None and r >= self.shape.num_registers for r in regs):
                errs.add("CFG_TEMPORAL_PE_ILLEGAL_REG")
            if any(r.reg is not None and r.tag for r in ins.results):
                errs.add("CFG_TEMPORAL_PE_REG_TAG_NONZERO")
        for preds in self.fu_compare:
            errs.update(e for p in preds if (e := p.error()))
        return tuple(sorted(errs))


# --------------------------------------------------------------------------
# tag ops
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class AddTagConfig:
    """``fabric.add_tag``: the ``tag`` value, ``TAG_WIDTH`` bits (spec-fabric-tag.md)."""

    tag_width: int
    tag: int = 0

    def encode(self) -> ConfigBits:
        return pack_fields((("tag", self.tag_width, self.tag),))

    def errors(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class MapTagEntry:
    """One ``map_tag`` table row ``[valid, src_tag, dst_tag]``."""

    valid: bool
    src_tag: int = 0
    dst_tag: int = 0


@dataclass(frozen=True)
class MapTagConfig:
    """``fabric.map_tag``: ``table_size`` entries, entry 0 lowest.

    Entry layout LSB-first: ``valid``, ``src_tag[M]``, ``dst_tag[N]``
    (spec-fabric-tag.md "Machine Format").  Entries past ``len(table)`` are
    invalid (all zero).
    """

    in_tag_width: int
    out_tag_width: int
    table_size: int
    table: tuple[MapTagEntry, ...] = ()

    def encode_entry(self, e: MapTagEntry) -> ConfigBits:
        return pack_fields(
            (
                ("valid", 1, int(e.valid)),
                ("src_tag", self.in_tag_width, e.src_tag),
                ("dst_tag", self.out_tag_width, e.dst_tag),
            )
        )

    def encode(self) -> ConfigBits:
        if not 1 <= self.table_size <= 256:
            raise ConfigEncodingError("map_tag: table_size must be in [1, 256]")
        if len(self.table) > self.table_size:
            raise ConfigEncodingError("map_tag: table longer than table_size")
        rows = tuple(self.table) + (MapTagEntry(False),) * (self.table_size - len(self.table))
        return concat((f"entry[{k}]", self.encode_entry(e)) for k, e in enumerate(rows))

    def errors(self) -> tuple[str, ...]:
        src = [e.src_tag for e in self.table if e.valid]
        return ("CFG_MAP_TAG_DUP_TAG",) if len(src) != len(set(src)) else ()


# --------------------------------------------------------------------------
# fabric.fifo
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FifoConfig:
    """``fabric.fifo``: a 1-bit ``bypassed`` flag when ``bypassable``, else no config."""

    bypassable: bool
    bypassed: bool = False

    def encode(self) -> ConfigBits:
        if not self.bypassable:
            if self.bypassed:
                raise ConfigEncodingError("fifo: bypassed without bypassable")
            return EMPTY
        return pack_fields((("bypassed", 1, int(self.bypassed)),))

    def errors(self) -> tuple[str, ...]:
        return ()


# --------------------------------------------------------------------------
# fabric.memory / fabric.extmemory
# --------------------------------------------------------------------------

#: Address port width of fabric memories (spec-fabric-mem.md: ADDR_BIT_WIDTH, "currently 57").
ADDR_BIT_WIDTH = 57


class MemoryLayout(enum.Enum):
    """Which of Loom's two disagreeing region layouts to emit.

    ``SPEC``: spec-fabric-mem.md - region width ``1 + 2*TAG_WIDTH + ADDR_WIDTH``,
    fields in the listed order LSB-first: ``valid``, ``start_tag``, ``end_tag``,
    ``addr_offset`` (also what Loom's simulator decodes).
    ``RTL``: Loom's fabric_memory.sv - LSB-first ``addr_offset``,
    ``end_tag[TAG_WIDTH+1]``, ``start_tag``, ``valid`` (end_tag one bit wider,
    tags absent when TAG_WIDTH = 0).
    """

    SPEC = "spec"
    RTL = "rtl"


@dataclass(frozen=True)
class MemoryRegion:
    """One ``addr_offset_table`` row: tags in ``[start_tag, end_tag)`` get ``addr_offset``."""

    start_tag: int = 0
    end_tag: int = 0
    addr_offset: int = 0
    valid: bool = True


@dataclass(frozen=True)
class MemoryConfig:
    """``addr_offset_table`` of a ``fabric.memory``/``extmemory``: ``numRegion`` rows, row 0 lowest.

    Note spec-fabric-config_mem.md lists memories with CONFIG_WIDTH 0 while
    spec-fabric-mem.md gives them this table; whether a memory takes config_mem
    space is the caller's decision (it simply omits the node from the image).
    """

    num_region: int
    tag_width: int = 0
    addr_width: int = ADDR_BIT_WIDTH
    regions: tuple[MemoryRegion | None, ...] = ()
    layout: MemoryLayout = MemoryLayout.SPEC
    #: ``fabric.extmemory`` (only changes the CFG_* code names).
    external: bool = False

    def _region(self, r: MemoryRegion | None) -> ConfigBits:
        r = r or MemoryRegion(valid=False)
        tw, aw = self.tag_width, self.addr_width
        if self.layout is MemoryLayout.SPEC:
            spec = (
                ("valid", 1, int(r.valid)),
                ("start_tag", tw, r.start_tag),
                ("end_tag", tw, r.end_tag),
                ("addr_offset", aw, r.addr_offset),
            )
        else:
            spec = (
                ("addr_offset", aw, r.addr_offset),
                ("end_tag", tw + 1 if tw else 0, r.end_tag),
                ("start_tag", tw, r.start_tag),
                ("valid", 1, int(r.valid)),
            )
        return pack_fields(spec)

    def encode(self) -> ConfigBits:
        if self.num_region < 1:
            raise ConfigEncodingError("memory: numRegion must be >= 1 (CPL_MEMORY_INVALID_REGION)")
        if len(self.regions) > self.num_region:
            raise ConfigEncodingError("memory: more regions than numRegion")
        rows = tuple(self.regions) + (None,) * (self.num_region - len(self.regions))
        return concat((f"region[{k}]", self._region(r)) for k, r in enumerate(rows))

    def errors(self) -> tuple[str, ...]:
        # spec-fabric-mem.md "Runtime configuration errors" (half-open ranges).
        kind = "EXTMEMORY" if self.external else "MEMORY"
        valid = [r for r in self.regions if r is not None and r.valid]
        errs = []
        if any(r.end_tag <= r.start_tag for r in valid):
            errs.append(f"CFG_{kind}_EMPTY_TAG_RANGE")
        if any(
            ra.start_tag < rb.end_tag and rb.start_tag < ra.end_tag
            for a, ra in enumerate(valid)
            for rb in valid[a + 1 :]
        ):
            errs.append(f"CFG_{kind}_OVERLAP_TAG_REGION")
        return tuple(errs)


# --------------------------------------------------------------------------
# dispatch
# --------------------------------------------------------------------------

NodeConfig = (
    SwitchConfig
    | TemporalSwitchConfig
    | ComputePEConfig
    | ConstantPEConfig
    | StreamPEConfig
    | LoadStorePEConfig
    | TemporalPEConfig
    | AddTagConfig
    | MapTagConfig
    | FifoConfig
    | MemoryConfig
)


def encode(cfg: NodeConfig) -> ConfigBits:
    """The config bits of any node configuration."""
    return cfg.encode()


def config_width(cfg: NodeConfig) -> int:
    """CONFIG_WIDTH of the node (0 = takes no config_mem space)."""
    return cfg.encode().width


__all__ = [
    "ADDR_BIT_WIDTH",
    "CMPF_PREDICATES",
    "CMPI_PREDICATES",
    "CONT_CONDS",
    "AddTagConfig",
    "CmpPredicate",
    "ComputePEConfig",
    "ConstantPEConfig",
    "FifoConfig",
    "Instruction",
    "LoadStorePEConfig",
    "MapTagConfig",
    "MapTagEntry",
    "MemoryConfig",
    "MemoryLayout",
    "MemoryRegion",
    "NodeConfig",
    "Operand",
    "Result",
    "RouteSlot",
    "StreamPEConfig",
    "SwitchConfig",
    "TagMode",
    "TemporalPEConfig",
    "TemporalPEShape",
    "TemporalSwitchConfig",
    "config_width",
    "connected_positions",
    "connectivity_from_flat",
    "decode_instruction",
    "encode",
    "encode_instruction",
    "float_bits",
    "normalize_instruction",
    "switch_route_errors",
]
