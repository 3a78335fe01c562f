"""Temporal-PE internal registers (spec-mapper-model.md C5.2), end to end.

The corpus pair ``smoke/temporal-register`` (one temporal PE with ``fu_add`` and
``fu_mul``, ``num_register = 2``) maps chains whose links join two instructions
of that PE.  Such a link may use an internal register instead of leaving the PE
through the switch network (spec-fabric-temporal_pe.md "Register Semantics").
Every output is read back by code other than the mapper where possible: the
independent validator (``loomc.verify``), the fabric verifier on the configured
file, and the config bits sliced with the spec's bit positions.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from loomc.solvers.pnr import Arc, Endpoint, Match, Net, PnRProblem, SolveParams, solve

from loomc.cmd_loom import check_adg
from loomc.configmem import image_from_bytes
from loomc.graph import model
from loomc.graph.load import adg_from_parsed, dfgs_from_file
from loomc.mapper.cost import register_pressure
from loomc.mapper.mapping import Mapping
from loomc.mapper.outputs import output_paths, write_outputs
from loomc.mapper.pipeline import MapperOptions, map_dfg
from loomc.mlir_io import parse_mlir_file
from loomc.verify import verify_pnr_files
from loomc.verify.mapfile import Register, doc_from_mapping
from loomc.verify.pnr_check import check_pnr

FOLDER = Path("loom/mapper/smoke/temporal-register")
FABRIC = "temporal-register.fabric.mlir"
DFGS = ("add-then-mul-reg.handshake.mlir", "dual-reg-chain.handshake.mlir")
BUDGET = 5.0


def _fabric(corpus: Path, tmp_path: Path, num_register: int | None) -> Path:
    """The corpus fabric, or a copy with ``num_register`` changed (its
    ``reg_fifo_depth`` follows: 0 without registers, spec "reg_fifo_depth")."""
    src = corpus / FOLDER / FABRIC
    if num_register is None:
        return src
    text = src.read_text()
    assert "num_register = 2" in text and "reg_fifo_depth = 1" in text
    text = text.replace("num_register = 2", f"num_register = {num_register}")
    if num_register == 0:
        text = text.replace("reg_fifo_depth = 1", "reg_fifo_depth = 0")
    path = tmp_path / f"regs{num_register}.fabric.mlir"
    path.write_text(text)
    return path


def _map(corpus: Path, fabric: Path, dfg_name: str):
    parsed = parse_mlir_file(fabric)
    adg = adg_from_parsed(parsed)
    dfg = dfgs_from_file(corpus / FOLDER / dfg_name)[0]
    mapping = map_dfg(dfg, adg, MapperOptions(budget=BUDGET, seed=0))
    assert mapping.status == "success", mapping.diagnostics
    return parsed, adg, dfg, mapping


def _tpe_chain_edges(dfg, adg, mapping: Mapping) -> set[str]:
    """DFG edges whose both ends sit on FUs of one temporal PE."""
    hw = {p.sw_node: p.hw_node for p in mapping.placement}
    parent = {n.id: n.parent_temporal_pe for n in model.nodes(adg)}
    return {e.id for e in model.edges(dfg)
            if parent.get(hw.get(e.src_node, "")) is not None
            and parent.get(hw.get(e.src_node, "")) == parent.get(hw.get(e.dst_node, ""))}


# --------------------------------------------------------------------------- mapping


@pytest.mark.parametrize("dfg_name", DFGS)
def test_chain_links_use_registers_and_validate(corpus, tmp_path, dfg_name):
    """With two registers every link between two instructions of the PE goes
    through a register (it saves at least three wires), each value gets its own
    register, and the written files pass the independent verifier, C6 included."""
    fabric = _fabric(corpus, tmp_path, None)
    parsed, adg, dfg, mapping = _map(corpus, fabric, dfg_name)
    chain = _tpe_chain_edges(dfg, adg, mapping)
    assert chain, "the chain ops should share the temporal PE"
    assert {r.sw_edge for r in mapping.registers} == chain
    assert not chain & {r.sw_edge for r in mapping.routes}
    values = {r.src_sw_port for r in mapping.registers}
    indices = {r.register for r in mapping.registers}
    assert len(indices) == len(values) and indices == set(range(len(values)))
    assert check_pnr(doc_from_mapping(mapping), dfg, adg) == ()

    out = tmp_path / "k"
    write_outputs(out, mapping, dfg, adg, parsed, "balanced")
    paths = output_paths(out)
    result = verify_pnr_files(fabric, corpus / FOLDER / dfg_name, paths[".map.json"],
                              config_path=paths[".config.bin"], addr_path=paths["_addr.h"],
                              configured_path=paths[".fabric.mlir"])
    assert result.ok, [v.one_line() for v in result.violations]
    assert result.checked == ("C1", "C2", "C3", "C4", "C5", "C6")
    check = check_adg(paths[".fabric.mlir"])  # `loomc --adg` on the configured fabric
    assert check.ok, [v.one_line() for v in check.violations]

    doc = json.loads(paths[".map.json"].read_text())
    assert doc["registers"] == {
        r.sw_edge: {"temporalPE": r.temporal_pe, "registerIndex": r.register}
        for r in mapping.registers}
    text = paths[".map.txt"].read_text()
    assert "== temporal registers" in text
    assert all(r.sw_edge in text for r in mapping.registers)
    used = len(indices) / 2
    assert register_pressure(mapping, adg) == pytest.approx(used)
    viz = paths[".viz.html"].read_text()
    payload = json.loads(re.search(r'id="mappingData">(.*?)</script>', viz, re.S).group(1))
    assert set(payload["registers"]) == chain


def test_register_use_lowers_the_objective(corpus, tmp_path):
    """The same DFG on the same fabric without registers still maps (by routing
    every link) and costs the solver more than with registers."""
    with_regs = _map(corpus, _fabric(corpus, tmp_path, None), DFGS[1])[3]
    parsed, adg, dfg, plain = _map(corpus, _fabric(corpus, tmp_path, 0), DFGS[1])
    assert plain.registers == ()
    assert check_pnr(doc_from_mapping(plain), dfg, adg) == ()
    routed = {r.sw_edge for r in plain.routes}
    assert {e.id for e in model.edges(dfg)} == routed
    assert with_regs.solver.objective < plain.solver.objective
    assert register_pressure(plain, adg) == 0.0
    out = tmp_path / "plain"
    write_outputs(out, plain, dfg, adg, parsed, "balanced")
    doc = json.loads(output_paths(out)[".map.json"].read_text())
    assert "registers" not in doc  # spec-mapper-output.md: only when used
    mem = re.search(r"instruction_mem = \[(.*?)\]", output_paths(out)[".fabric.mlir"].read_text())
    assert mem and "reg(" not in mem.group(1)


def test_register_count_is_bounded_by_num_register(corpus, tmp_path):
    """C5.2: with one register the two-link chain keeps one link in the register
    and routes the other."""
    _parsed, adg, dfg, mapping = _map(corpus, _fabric(corpus, tmp_path, 1), DFGS[1])
    chain = _tpe_chain_edges(dfg, adg, mapping)
    in_reg = {r.sw_edge for r in mapping.registers}
    assert len(in_reg) == 1 and in_reg < chain
    assert {r.register for r in mapping.registers} == {0}
    assert chain - in_reg <= {r.sw_edge for r in mapping.routes}
    assert check_pnr(doc_from_mapping(mapping), dfg, adg) == ()
    assert register_pressure(mapping, adg) == 1.0


# --------------------------------------------------------------------------- solver model


def _chain_problem(ops: int, num_register: int | None) -> PnRProblem:
    """``ops`` ops chained on one temporal PE whose output has no path back to
    its input: module input -> op0 -> op1 -> ... -> module output.  Ports: 0
    PE in, 1 PE out, 2 module in, 3 module out; the only wires are 2->0, 1->3."""
    matches = tuple(Match(hw_node=0, sw_nodes=(v,), inputs=((v, 0, 0),), outputs=((v, 0, 1),),
                          uses=(("tpe:0", 1),), temporal_pe=0) for v in range(ops))
    nets = [Net("in", Endpoint(hw_port=2), (Endpoint(0, 0),))]
    nets += [Net(f"v{v}", Endpoint(v, 0), (Endpoint(v + 1, 0),)) for v in range(ops - 1)]
    nets.append(Net("out", Endpoint(ops - 1, 0), (Endpoint(hw_port=3),)))
    return PnRProblem(
        num_ports=4, port_tag_bits=(0, 0, 0, 0), arcs=(Arc(2, 0), Arc(1, 3)),
        num_sw_nodes=ops, matches=matches, nets=tuple(nets),
        resource_capacity=(("tpe:0", ops),), temporal_tag_bits=((0, 2),),
        temporal_registers=() if num_register is None else ((0, num_register, 1),),
    )


@pytest.mark.parametrize(("ops", "num_register", "status"), [
    (2, None, "INFEASIBLE"), (2, 1, "OPTIMAL"), (3, 1, "INFEASIBLE"), (3, 2, "OPTIMAL")])
def test_model_register_nets_need_no_route_and_respect_num_register(ops, num_register, status):
    """Only registers can join two instructions here: each chain link needs one,
    and C5.2 caps them at ``num_register``."""
    params = SolveParams(seed=0, deterministic_time=5.0, num_workers=1)
    solved = solve(_chain_problem(ops, num_register), params, explain=False)
    assert solved.status == status
    if solved.feasible:
        links = range(1, ops)  # net indices of the op -> op links
        assert solved.net_registers == tuple((ni, 0) for ni in links)
        assert all(solved.routes[ni] == ((),) for ni in links)
        assert solved.routes[0] and solved.routes[-1]  # module I/O still routed


# --------------------------------------------------------------------------- config bits


def _insn_field_lsbs(num_inputs: int, num_outputs: int, tag_w: int, opcode_w: int,
                     reg_w: int) -> tuple[int, dict[str, int]]:
    """Instruction width and field LSBs written out from spec-fabric-temporal_pe.md
    "Machine Format": LSB-first valid, tag, opcode, operand blocks
    (reg_idx, is_reg at the MSB), result blocks (tag, reg_idx, is_reg at the MSB)."""
    lsb: dict[str, int] = {"valid": 0, "tag": 1, "opcode": 1 + tag_w}
    pos = 1 + tag_w + opcode_w
    for i in range(num_inputs):
        lsb[f"op{i}.reg_idx"], lsb[f"op{i}.is_reg"] = pos, pos + reg_w
        pos += reg_w + 1
    for j in range(num_outputs):
        lsb[f"res{j}.tag"] = pos
        lsb[f"res{j}.reg_idx"], lsb[f"res{j}.is_reg"] = pos + tag_w, pos + tag_w + reg_w
        pos += tag_w + reg_w + 1
    return pos, lsb


def test_config_bits_encode_register_operands_and_results(corpus, tmp_path):
    """The temporal PE's words in config.bin (sliced at the offset _addr.h
    prints) hold ``res_is_reg``/``res_reg_idx`` for each register writer (result
    tag 0) and ``op_is_reg``/``op_reg_idx`` for each reader, and ``is_reg`` 0
    elsewhere."""
    fabric = _fabric(corpus, tmp_path, None)
    parsed, adg, dfg, mapping = _map(corpus, fabric, DFGS[1])
    out = tmp_path / "bits"
    write_outputs(out, mapping, dfg, adg, parsed, "balanced")
    paths = output_paths(out)
    tpe = mapping.temporal[0].temporal_pe
    macro = re.sub(r"\W", "_", tpe).upper()
    header = paths["_addr.h"].read_text()
    offset = int(re.search(rf"#define LOOM_ADDR_{macro}\s+(\w+)", header).group(1), 0)
    words = int(re.search(rf"#define LOOM_SIZE_{macro}\s+(\w+)", header).group(1), 0)
    image = image_from_bytes(paths[".config.bin"].read_bytes())
    value = sum(w << (32 * k) for k, w in enumerate(image[offset:offset + words]))
    # 2 inputs, 1 output, i4 tags, 2 FU types (1 opcode bit), 2 registers (1 index bit);
    # the FU bodies have no compare, so instruction 0 starts at bit 0
    width, lsb = _insn_field_lsbs(2, 1, 4, 1, 1)
    assert width == 16 and words * 32 >= 4 * width

    def field(slot: int, name: str, bits: int = 1) -> int:
        return (value >> (slot * width + lsb[name])) & ((1 << bits) - 1)

    dfg_ports = model.ports(dfg)
    writes = {dfg_ports[r.src_sw_port].node: r.register for r in mapping.registers}
    reads: dict[tuple[str, int], int] = {
        (dfg_ports[r.dst_sw_port].node, dfg_ports[r.dst_sw_port].index): r.register
        for r in mapping.registers}
    assert len(writes) == 2 and len(reads) == 2
    for t in mapping.temporal:
        assert field(t.slot, "valid") == 1 and field(t.slot, "tag", 4) == t.tag
        if t.sw_node in writes:
            assert field(t.slot, "res0.is_reg") == 1
            assert field(t.slot, "res0.reg_idx") == writes[t.sw_node]
            assert field(t.slot, "res0.tag", 4) == 0  # CFG_TEMPORAL_PE_REG_TAG_NONZERO
        else:
            assert field(t.slot, "res0.is_reg") == 0
        for i in range(2):
            reg = reads.get((t.sw_node, i))
            assert field(t.slot, f"op{i}.is_reg") == int(reg is not None)
            if reg is not None:
                assert field(t.slot, f"op{i}.reg_idx") == reg


# --------------------------------------------------------------------------- validator


@pytest.fixture(scope="module")
def dual(corpus):
    parsed = parse_mlir_file(corpus / FOLDER / FABRIC)
    adg = adg_from_parsed(parsed)
    dfg = dfgs_from_file(corpus / FOLDER / DFGS[1])[0]
    mapping = map_dfg(dfg, adg, MapperOptions(budget=BUDGET, seed=0))
    assert mapping.status == "success" and len(mapping.registers) == 2
    return doc_from_mapping(mapping), dfg, adg


def _c52(doc, dfg, adg) -> list[str]:
    return [v.reason for v in check_pnr(doc, dfg, adg) if v.constraint_class == "C5.2"]


def test_validator_accepts_the_mapping(dual):
    assert check_pnr(*dual) == ()


def test_validator_rejects_register_index_out_of_range(dual):
    doc, dfg, adg = dual
    regs = tuple(dataclasses.replace(r, index=2) if k == 0 else r
                 for k, r in enumerate(doc.registers))
    reasons = _c52(dataclasses.replace(doc, registers=regs), dfg, adg)
    assert any("register 2 outside 0..1" in r for r in reasons)


def test_validator_rejects_reader_off_the_temporal_pe(dual):
    """A register edge whose consumer is the module output (not an FU of the PE)."""
    doc, dfg, adg = dual
    tpe = doc.registers[0].temporal_pe
    out_edge = next(r for r in doc.routes if model.node_record(
        dfg, model.ports(dfg)[r.dst_sw_port].node).is_sentinel
        and not model.node_record(dfg, model.ports(dfg)[r.src_sw_port].node).is_sentinel)
    tampered = dataclasses.replace(
        doc, registers=(*doc.registers, Register(out_edge.sw_edge, tpe, 0)),
        routes=tuple(r for r in doc.routes if r is not out_edge))
    reasons = _c52(tampered, dfg, adg)
    assert any("is not on an FU of this temporal PE" in r for r in reasons)
    assert any("2 writers" in r for r in reasons)  # and it shares register 0


def test_validator_rejects_two_writers_and_routed_register_values(dual):
    doc, dfg, adg = dual
    same = tuple(dataclasses.replace(r, index=0) for r in doc.registers)
    assert any("2 writers" in r for r in _c52(dataclasses.replace(doc, registers=same),
                                                 dfg, adg))
    # a value both in a register and routed out of the PE (res_is_reg is per result)
    reg = doc.registers[0]
    edge = next(e for e in model.edges(dfg) if e.id == reg.sw_edge)
    stolen = next(r for r in doc.routes if not model.node_record(
        dfg, model.ports(dfg)[r.src_sw_port].node).is_sentinel)
    fake = dataclasses.replace(stolen, sw_edge=reg.sw_edge, src_sw_port=edge.src_port,
                               dst_sw_port=edge.dst_port)
    reasons = _c52(dataclasses.replace(doc, routes=(*doc.routes, fake)), dfg, adg)
    assert any("both in a register and routed" in r for r in reasons)


FORK_DFG = """module {
  handshake.func @fork_reg(%a: i32, %b: i32, ...) -> (i32)
      attributes {argNames = ["a", "b"], resNames = ["out"]} {
    %0 = arith.addi %a, %b : i32
    %1 = arith.muli %0, %0 : i32
    handshake.return %1 : i32
  }
}
"""


def test_one_register_serves_a_value_with_two_readers(corpus, tmp_path):
    """A value read twice by instructions of the PE takes one register, not one
    per edge (one writer, several readers: spec-fabric-temporal_pe.md "Register
    Semantics"), so it fits ``num_register = 1``; both operands read it."""
    fabric = _fabric(corpus, tmp_path, 1)
    dfg_path = tmp_path / "fork.handshake.mlir"
    dfg_path.write_text(FORK_DFG)
    parsed = parse_mlir_file(fabric)
    adg = adg_from_parsed(parsed)
    dfg = dfgs_from_file(dfg_path)[0]
    mapping = map_dfg(dfg, adg, MapperOptions(budget=BUDGET, seed=0))
    assert mapping.status == "success", mapping.diagnostics
    assert len(mapping.registers) == 2
    assert {r.register for r in mapping.registers} == {0}
    assert len({r.src_sw_port for r in mapping.registers}) == 1
    assert check_pnr(doc_from_mapping(mapping), dfg, adg) == ()
    out = tmp_path / "fork"
    write_outputs(out, mapping, dfg, adg, parsed, "balanced")
    paths = output_paths(out)
    result = verify_pnr_files(fabric, dfg_path, paths[".map.json"],
                              config_path=paths[".config.bin"], addr_path=paths["_addr.h"],
                              configured_path=paths[".fabric.mlir"])
    assert result.ok, [v.one_line() for v in result.violations]
    assert "reg(0), reg(0)" in paths[".fabric.mlir"].read_text()
