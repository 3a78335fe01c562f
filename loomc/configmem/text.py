"""Text forms of slot tables: ``instruction_mem`` and temporal ``route_table``.

Fabric files carry these tables as arrays of strings, either human-readable
(``"inst[0]: when(tag=3) out(0, tag=1) = add(0) in(0), in(1)"``,
``"route_table[1]: when(tag=1) O[0]<-I[1], O[1]<-I[2]"``) or machine-format hex
(``"0x0E7"``).  This module turns them into the config dataclasses of
:mod:`loomc.configmem.layouts` and back, so the mapper can write a configured
fabric and the verifier can read one and re-derive its bits.

Sparse-format rules (one format per table, ascending slot indices, explicit
holes) are checked by ``loomc.fabric_verify.sparse_format``; here entries are
placed by their slot index (human-readable) or position (hex).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from loomc.configmem.bits import ConfigEncodingError
from loomc.configmem.layouts import (
    Instruction,
    Operand,
    Result,
    RouteSlot,
    TemporalPEShape,
    TemporalSwitchConfig,
    decode_instruction,
    encode_instruction,
)

_S = TypeVar("_S")

_INSN = re.compile(
    r"^\s*inst\s*\[\s*(\d+)\s*\]\s*:\s*(?:(invalid)|when\s*\(\s*tag\s*=\s*(\d+)\s*\)"
    r"\s*(.*?)\s*=\s*([\w.$-]*)\s*\(\s*(\d+)\s*\)\s*(.*?))\s*$"
)
_DEST = re.compile(r"(out|reg)\s*\(\s*(\d+)\s*(?:,\s*tag\s*=\s*(\d+)\s*)?\)")
_SRC = re.compile(r"(in|reg)\s*\(\s*(\d+)\s*\)")
_SLOT = re.compile(
    r"^\s*route_table\s*\[\s*(\d+)\s*\]\s*:\s*(?:(invalid)|when\s*\(\s*tag\s*=\s*(\d+)\s*\)"
    r"\s*(.*?))\s*$"
)
_ROUTE = re.compile(r"O\s*\[\s*(\d+)\s*\]\s*<-\s*I\s*\[\s*(\d+)\s*\]")


def is_hex(entry: str) -> bool:
    return entry.strip().lower().startswith("0x")


def _items(text: str, pattern: re.Pattern[str], what: str) -> list[re.Match[str]]:
    """All ``pattern`` matches of a comma-separated list, rejecting leftovers."""
    matches = list(pattern.finditer(text))
    leftover = pattern.sub("", text).replace(",", "").strip()
    if leftover:
        raise ConfigEncodingError(f"cannot read {what} {text!r} (near {leftover!r})")
    return matches


def parse_instruction(entry: str, shape: TemporalPEShape) -> tuple[int, Instruction | None]:
    """One human-readable ``instruction_mem`` entry -> ``(slot, instruction)``.

    Grammar: spec-fabric-temporal_pe.md "Human-Readable Format".  Sources are
    positional (``in(i)`` at operand i, else ``CPL_TEMPORAL_PE_SRC_MISMATCH``);
    destinations are taken positionally too, ``out(j)`` at result j.
    """
    m = _INSN.match(entry)
    if not m:
        raise ConfigEncodingError(f"malformed instruction_mem entry {entry!r}")
    slot = int(m.group(1))
    if m.group(2):
        return slot, None
    tag, dests, _name, opcode, srcs = m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)
    dest_items = _items(dests, _DEST, "destinations")
    src_items = _items(srcs, _SRC, "sources")
    # Count rules first, as Loom reports them (CPL_TEMPORAL_PE_DEST/SRC_COUNT).
    if len(dest_items) != shape.num_outputs:
        raise ConfigEncodingError(
            f"{entry!r}: {len(dest_items)} destinations for {shape.num_outputs} outputs",
            "CPL_TEMPORAL_PE_DEST_COUNT",
        )
    if len(src_items) != shape.num_inputs:
        raise ConfigEncodingError(
            f"{entry!r}: {len(src_items)} sources for {shape.num_inputs} inputs",
            "CPL_TEMPORAL_PE_SRC_COUNT",
        )
    results: list[Result] = []
    for j, d in enumerate(dest_items):
        kind, idx, rtag = d.group(1), int(d.group(2)), d.group(3)
        if kind == "out" and idx != j:
            raise ConfigEncodingError(
                f"{entry!r}: destination {j} is out({idx}), expected out({j})"
            )
        if kind == "reg" and shape.num_registers == 0:
            raise ConfigEncodingError(
                f"{entry!r}: reg() with num_register = 0", "CPL_TEMPORAL_PE_REG_DISABLED"
            )
        results.append(Result(idx if kind == "reg" else None, int(rtag) if rtag else None))
    operands: list[Operand] = []
    for i, s in enumerate(src_items):
        kind, idx = s.group(1), int(s.group(2))
        if kind == "in" and idx != i:
            raise ConfigEncodingError(
                f"{entry!r}: operand {i} is in({idx})", "CPL_TEMPORAL_PE_SRC_MISMATCH"
            )
        if kind == "reg" and shape.num_registers == 0:
            raise ConfigEncodingError(
                f"{entry!r}: reg() with num_register = 0", "CPL_TEMPORAL_PE_REG_DISABLED"
            )
        operands.append(Operand(idx if kind == "reg" else None))
    return slot, Instruction(int(tag), int(opcode), tuple(operands), tuple(results))


def _fill_slots(
    entries: Sequence[str],
    capacity: int,
    decode_hex: Callable[[int], _S],
    parse_text: Callable[[str], tuple[int, _S]],
    too_many: str,
    code: str,
) -> tuple[_S | None, ...]:
    """Place slot entries into ``capacity`` slots, missing ones ``None``.

    A hex entry fills the slot at its position; a human-readable entry names its
    slot (``inst[3]: ...``, ``route_table[3]: ...``).  A slot at or past
    ``capacity`` is an error ``code`` with message ``too_many`` (``{slot}``, ``{n}``)."""
    out: list[_S | None] = [None] * capacity
    for pos, entry in enumerate(entries):
        if is_hex(entry):
            slot, value = pos, decode_hex(int(entry, 16))
        else:
            slot, value = parse_text(entry)
        if slot >= capacity:
            raise ConfigEncodingError(too_many.format(slot=slot, n=capacity), code)
        out[slot] = value
    return tuple(out)


def parse_instruction_mem(
    entries: Sequence[str], shape: TemporalPEShape
) -> tuple[Instruction | None, ...]:
    """A whole ``instruction_mem`` (human-readable or hex) -> one entry per slot,
    ``shape.num_instructions`` long, missing slots ``None`` (invalid)."""
    return _fill_slots(
        entries,
        shape.num_instructions,
        lambda word: decode_instruction(shape, word),
        lambda entry: parse_instruction(entry, shape),
        "instruction_mem slot {slot} >= num_instruction {n}",
        "CPL_TEMPORAL_PE_TOO_MANY_SLOTS",
    )


def format_instruction(
    slot: int,
    insn: Instruction | None,
    fu_names: Sequence[str] = (),
    num_inputs: int = 0,
    num_outputs: int = 0,
) -> str:
    """Human-readable form of one slot.  ``fu_names[opcode]`` is the informational
    mnemonic (``fu<opcode>`` when absent); result tags equal to their default are
    left out, as in the spec's examples.  Empty operand/result lists are spelled
    out for ``num_inputs``/``num_outputs`` ports."""
    if insn is None:
        return f"inst[{slot}]: invalid"
    results = insn.results or (Result(),) * num_outputs
    operands = insn.operands or (Operand(),) * num_inputs
    dests = []
    for j, r in enumerate(results):
        default = insn.tag if r.reg is None else 0
        head = f"out({j}" if r.reg is None else f"reg({r.reg}"
        dests.append(head + (f", tag={r.tag})" if r.tag not in (None, default) else ")"))
    srcs = [f"in({i})" if o.reg is None else f"reg({o.reg})" for i, o in enumerate(operands)]
    name = fu_names[insn.opcode] if insn.opcode < len(fu_names) else f"fu{insn.opcode}"
    return (
        f"inst[{slot}]: when(tag={insn.tag}) {', '.join(dests)} = "
        f"{name}({insn.opcode}) {', '.join(srcs)}"
    )


def format_instruction_hex(shape: TemporalPEShape, insn: Instruction | None) -> str:
    """Machine-format (hex) form of one slot, zero-padded to the instruction width."""
    return encode_instruction(shape, insn).hex()


def parse_route_slot(entry: str, num_outputs: int) -> tuple[int, RouteSlot | None]:
    """One human-readable temporal ``route_table`` entry -> ``(slot, route slot)``.

    Grammar: spec-fabric-temporal_sw.md "Human-Readable Format"; listing order
    does not matter, two inputs for one output is
    ``CFG_TEMPORAL_SW_ROUTE_SAME_TAG_INPUTS_TO_SAME_OUTPUT``.
    """
    m = _SLOT.match(entry)
    if not m:
        raise ConfigEncodingError(f"malformed route_table entry {entry!r}")
    slot = int(m.group(1))
    if m.group(2):
        return slot, None
    routes: list[int | None] = [None] * num_outputs
    for r in _items(m.group(4), _ROUTE, "routes"):
        o, i = int(r.group(1)), int(r.group(2))
        if o >= num_outputs:
            raise ConfigEncodingError(
                f"{entry!r}: output {o} does not exist", "CPL_TEMPORAL_SW_ROUTE_ILLEGAL"
            )
        if routes[o] is not None and routes[o] != i:
            raise ConfigEncodingError(
                f"{entry!r}: output {o} selects inputs {routes[o]} and {i}",
                "CFG_TEMPORAL_SW_ROUTE_SAME_TAG_INPUTS_TO_SAME_OUTPUT",
            )
        routes[o] = i
    return slot, RouteSlot(int(m.group(3)), tuple(routes))


def parse_route_table(
    entries: Sequence[str], cfg: TemporalSwitchConfig
) -> tuple[RouteSlot | None, ...]:
    """A whole temporal ``route_table`` (human-readable or hex) -> one entry per
    slot, ``cfg.num_route_table`` long.  ``cfg`` supplies the hardware shape (its
    own ``slots`` are ignored)."""
    return _fill_slots(
        entries,
        cfg.num_route_table,
        cfg.decode_slot,
        lambda entry: parse_route_slot(entry, cfg.num_outputs),
        "route_table slot {slot} >= num_route_table {n}",
        "CPL_TEMPORAL_SW_TOO_MANY_SLOTS",
    )


def format_route_slot(slot: int, rs: RouteSlot | None) -> str:
    """Human-readable form of one temporal switch slot (routes by output index)."""
    if rs is None:
        return f"route_table[{slot}]: invalid"
    routes = ", ".join(f"O[{o}]<-I[{i}]" for o, i in enumerate(rs.routes) if i is not None)
    return f"route_table[{slot}]: when(tag={rs.tag}) {routes}".rstrip()
