"""config_mem bit layouts against every worked example in the fabric specs.

Each test builds a configuration from a spec example's inputs and asserts the
exact bits the spec gives (or, where the spec gives only inputs, the bits that
its layout rules imply, computed by hand in the test).  Spec sections are cited
in each docstring.  Spec examples that are ambiguous or self-inconsistent say
so in their docstring (search for "INCONSISTENT" / "AMBIGUOUS").
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loomc.configmem import (
    ADDR_BIT_WIDTH,
    AddTagConfig,
    CmpPredicate,
    ComputePEConfig,
    ConfigBits,
    ConfigEncodingError,
    ConstantPEConfig,
    FifoConfig,
    Instruction,
    LoadStorePEConfig,
    MapTagConfig,
    MapTagEntry,
    MemoryConfig,
    MemoryLayout,
    MemoryRegion,
    Operand,
    Result,
    RouteSlot,
    StreamPEConfig,
    SwitchConfig,
    TagMode,
    TemporalPEConfig,
    TemporalPEShape,
    TemporalSwitchConfig,
    build_image,
    c_name,
    connectivity_from_flat,
    decode_instruction,
    describe_image,
    emit_addr_header,
    encode_instruction,
    float_bits,
    image_from_bytes,
    log2ceil,
    normalize_instruction,
    pack_fields,
    switch_route_errors,
)
from loomc.configmem.text import (
    format_instruction,
    format_instruction_hex,
    format_route_slot,
    parse_instruction,
    parse_instruction_mem,
    parse_route_slot,
    parse_route_table,
)


def bitmap(text: str) -> int:
    """A spec bitmap (MSB -> LSB, fields separated by spaces and ``|``) as an int."""
    return int(text.replace("|", "").replace(" ", ""), 2)


def bitmap_width(text: str) -> int:
    return len(text.replace("|", "").replace(" ", ""))


# ---------------------------------------------------------------------------
# spec-fabric-config_mem.md
# ---------------------------------------------------------------------------


def test_config_mem_layout_example_two_modules_four_words():
    """spec-fabric-config_mem.md "Layout Example": A (a:20, b:18) and B (c:12, d:28)
    fill four words; b straddles words 0/1, d straddles words 2/3, B starts at word 2."""
    a, b, c, d = 0xABCDE, 0x2F0F5, 0x123, 0xFEDCBA9
    mod_a = pack_fields([("a", 20, a), ("b", 18, b)])
    mod_b = pack_fields([("c", 12, c), ("d", 28, d)])
    assert (mod_a.width, mod_b.width) == (38, 40)
    image = build_image([("A", mod_a), ("B", mod_b)])
    assert image.depth == 4
    assert [(s.name, s.word_offset, s.word_count) for s in image.slices] == [
        ("A", 0, 2),
        ("B", 2, 2),
    ]
    # Word 0 = b[11:0] | a[19:0]; Word 1 = b[17:12] in [5:0]; same shape for B.
    assert image.words() == (0x0F5ABCDE, 0x2F, 0xDCBA9123, 0xFE)
    assert mod_a.field("b").lsb == 20 and mod_b.field("d").lsb == 12
    # "(0)" bits are tied low: nothing above bit 5 in word 1, above bit 7 in word 3.
    assert image.words()[1] >> 6 == 0 and image.words()[3] >> 8 == 0


def test_config_mem_design_rationale_no_shared_words():
    """spec-fabric-config_mem.md "Design Rationale": A uses bits [6:0] of word 0,
    B starts at word 1, not at bit 7 of word 0."""
    a = pack_fields([("x", 7, 0x7F)])
    b = pack_fields([("y", 3, 0x5)])
    image = build_image([("A", a), ("B", b)])
    assert image.words() == (0x7F, 0x5)
    assert image.slice("B").word_offset == 1


@pytest.mark.parametrize(
    ("widths", "depth", "addr_width"),
    [
        ((38, 40), 4, 4),  # Layout Example: 4 words -> 16 bytes -> 4 address bits
        ((1, 32, 33), 4, 4),
        ((7, 1, 64, 5), 5, 5),  # 5 words -> 20 bytes -> ceil(log2 20) = 5
        ((0, 0), 0, None),  # no CONFIG_WIDTH > 0 module: no config_mem, no ADDR_WIDTH
    ],
)
def test_config_mem_depth_and_addr_width(widths, depth, addr_width):
    """spec-fabric-config_mem.md "Depth Calculation" and "ADDR_WIDTH":
    depth = sum(ceil(CONFIG_WIDTH / 32)); ADDR_WIDTH = ceil(log2(depth * 4))."""
    nodes = [(f"n{k}", pack_fields([("f", w, 0)])) for k, w in enumerate(widths)]
    image = build_image(nodes)
    assert image.depth == depth
    assert image.addr_width == addr_width
    assert len(image.to_bytes()) == 4 * depth


def test_config_mem_zero_width_nodes_take_no_space():
    """spec-fabric-config_mem.md "Address Allocation": CONFIG_WIDTH = 0 operations are
    skipped and occupy no config_mem space."""
    image = build_image(
        [
            ("sw", SwitchConfig(2, 2, (0, 1)).encode()),
            ("fifo_plain", FifoConfig(bypassable=False)),  # configs are encoded on the fly
            ("pe_native", ComputePEConfig(num_outputs=1)),
            ("fifo_bp", FifoConfig(bypassable=True, bypassed=True)),
        ]
    )
    assert [(s.name, s.word_offset) for s in image.slices] == [("sw", 0), ("fifo_bp", 1)]
    assert image.words() == (0b1001, 1)


def test_field_packing_constant_tagged():
    """spec-fabric-config_mem.md "Field Packing Examples": constant tagged PE -
    lower bits constant_value, upper bits output_tag."""
    bits = ConstantPEConfig(value_width=32, value=0x12345678, tag_width=4, output_tag=0xA).encode()
    assert bits.width == 36
    assert bits.value == (0xA << 32) | 0x12345678
    assert bits.words() == (0x12345678, 0xA)


def test_field_packing_tagged_pe_output_tags_ascending():
    """spec-fabric-config_mem.md "Field Packing Examples": output_tag[0] lowest,
    then output_tag[1], ..., output_tag[N-1]."""
    bits = ComputePEConfig(num_outputs=3, tag_width=4, output_tags=(1, 2, 3)).encode()
    assert (bits.width, bits.value) == (12, 0x321)
    assert [f.name for f in bits.fields] == ["output_tag[0]", "output_tag[1]", "output_tag[2]"]


def test_field_packing_stream_tagged():
    """spec-fabric-config_mem.md "Field Packing Examples": stream tagged PE - output_tag
    array low, 5-bit cont_cond_sel high (one-hot `<=` is 0b00010)."""
    bits = StreamPEConfig(num_outputs=2, tag_width=3, output_tags=(5, 6), cont_cond="<=").encode()
    assert bits.width == 2 * 3 + 5
    assert bits.bin() == "00010" + "110" + "101"


def test_field_packing_cmp_native():
    """spec-fabric-config_mem.md "Field Packing Examples": native PE with cmp ops -
    compare_predicate[0] (first cmp in body order) lowest, 4 bits each."""
    preds = (CmpPredicate.named("cmpi", "slt"), CmpPredicate.named("cmpi", "uge"))
    bits = ComputePEConfig(num_outputs=1, compare=preds).encode()
    assert (bits.width, bits.value) == (8, 0x92)  # slt = 2, uge = 9


def test_field_packing_cmp_tagged():
    """spec-fabric-config_mem.md "Field Packing Examples": tagged PE with cmp ops -
    output_tag array low, compare_predicate fields above."""
    bits = ComputePEConfig(
        num_outputs=1, tag_width=4, output_tags=(7,), compare=(CmpPredicate.named("cmpf", "olt"),)
    ).encode()
    assert (bits.width, bits.value) == (8, 0x47)  # olt = 4
    assert bits.field("compare_predicate[0]").lsb == 4


def test_field_packing_temporal_pe_fu_cmp_then_instructions():
    """spec-fabric-config_mem.md "Field Packing Examples" and "CONFIG_WIDTH":
    temporal_pe = FU 0 cmp config, FU 1 cmp config, ... then NUM_INSTRUCTIONS words."""
    shape = TemporalPEShape(
        num_inputs=2,
        num_outputs=1,
        tag_width=4,
        num_fu_types=3,
        num_instructions=2,
        fu_cmp_counts=(2, 0, 1),
    )
    cfg = TemporalPEConfig(
        shape,
        instructions=(Instruction(tag=3, opcode=2),),
        fu_compare=(
            (CmpPredicate.named("cmpi", "ne"), CmpPredicate.named("cmpi", "sgt")),
            (),
            (CmpPredicate.named("cmpf", "une"),),
        ),
    )
    bits = cfg.encode()
    insn_w = 1 + 4 + 2 + 0 + 4  # valid, tag, opcode (3 FUs), no operands (R=0), one result tag
    assert shape.instruction_width == insn_w
    assert bits.width == 4 * 3 + 2 * insn_w
    assert bits.value & 0xFFF == (13 << 8) | (4 << 4) | 1  # une=13 | sgt=4 | ne=1
    insn0 = 1 | (3 << 1) | (2 << 5) | (3 << 7)  # result tag defaults to the match tag
    assert (bits.value >> 12) & ((1 << insn_w) - 1) == insn0
    assert bits.value >> (12 + insn_w) == 0  # slot 1 invalid
    assert bits.field("fu[2].compare_predicate[0]").lsb == 8
    assert bits.field("insn[1].valid").lsb == 12 + insn_w


def _tsw_k3() -> TemporalSwitchConfig:
    conn = connectivity_from_flat([1, 1, 0, 1], 2, 2)
    return TemporalSwitchConfig(2, 2, tag_width=4, num_route_table=1, connectivity=conn)


CONFIG_WIDTH_ROWS = [
    # (row of the CONFIG_WIDTH table, config, width by the table's formula)
    ("pe tagged, no cmp: N*TW", ComputePEConfig(2, tag_width=4), 2 * 4),
    (
        "pe tagged, cmp: N*TW + 4*NUM_CMP",
        ComputePEConfig(2, tag_width=4, compare=(CmpPredicate("cmpi", 0),) * 3),
        2 * 4 + 4 * 3,
    ),
    ("pe constant native: bitwidth", ConstantPEConfig(value_width=32), 32),
    ("pe constant tagged: bitwidth + TW", ConstantPEConfig(16, tag_width=3), 16 + 3),
    ("pe stream native: 5", StreamPEConfig(), 5),
    ("pe stream tagged: N*TW + 5", StreamPEConfig(num_outputs=2, tag_width=4), 2 * 4 + 5),
    ("load/store overwrite tagged: TW", LoadStorePEConfig(TagMode.OVERWRITE, tag_width=3), 3),
    ("load/store overwrite native: 0", LoadStorePEConfig(TagMode.OVERWRITE), 0),
    ("load/store transparent: 0", LoadStorePEConfig(TagMode.TRANSPARENT, tag_width=3), 0),
    ("pe compute native no cmp: 0", ComputePEConfig(3), 0),
    (
        "pe compute native cmp: 4*NUM_CMP",
        ComputePEConfig(1, compare=(CmpPredicate("cmpf", 1),) * 2),
        8,
    ),
    ("add_tag: TW", AddTagConfig(tag_width=5), 5),
    ("map_tag: SIZE*(1+IN+OUT)", MapTagConfig(3, 2, table_size=4), 4 * (1 + 3 + 2)),
    (
        "switch: K",
        SwitchConfig(3, 2, connectivity=connectivity_from_flat([0, 1, 1, 1, 1, 0], 3, 2)),
        4,
    ),
    ("switch default full crossbar: K = N*M", SwitchConfig(4, 3), 12),
    (
        "temporal_pe: SUM(4*cmp) + NI*IW",
        TemporalPEConfig(
            TemporalPEShape(2, 2, 3, 4, 5, num_registers=4, fu_cmp_counts=(1, 0, 2, 0))
        ),
        4 * 3 + 5 * 24,
    ),
    ("temporal_sw: NRT * SLOT_WIDTH", TemporalSwitchConfig(2, 2, 4, 3), 3 * (1 + 4 + 4)),
    ("fifo not bypassable: 0", FifoConfig(False), 0),
    ("fifo bypassable: 1", FifoConfig(True), 1),
]


@pytest.mark.parametrize(
    ("row", "cfg", "width"), CONFIG_WIDTH_ROWS, ids=[r[0] for r in CONFIG_WIDTH_ROWS]
)
def test_config_width_table(row, cfg, width):
    """spec-fabric-config_mem.md "CONFIG_WIDTH": every row of the formula table."""
    assert cfg.encode().width == width


# ---------------------------------------------------------------------------
# spec-fabric-switch.md
# ---------------------------------------------------------------------------


def test_switch_example():
    """spec-fabric-switch.md "Example": connectivity [0,1,1,1,1,0] (3 in, 2 out),
    route_table [1,0,1,0] = output 0 <- input 1, output 1 <- input 0."""
    conn = connectivity_from_flat([0, 1, 1, 1, 1, 0], num_inputs=3, num_outputs=2)
    bits = SwitchConfig(3, 2, routes=(1, 0), connectivity=conn).encode()
    assert bits.width == 4
    assert [(bits.value >> k) & 1 for k in range(4)] == [1, 0, 1, 0]  # route_table order
    assert bits.value == 0b0101
    assert [f.name for f in bits.fields] == [
        "route[o0<-i1]",
        "route[o0<-i2]",
        "route[o1<-i0]",
        "route[o1<-i1]",
    ]
    assert switch_route_errors(conn, [1, 0, 1, 0]) == ()


def test_switch_defaults_and_rules():
    """spec-fabric-switch.md "Defaults", "Semantics" (broadcast) and "Constraints"."""
    assert SwitchConfig(3, 2).encode() == pack_fields(
        (f"route[o{o}<-i{i}]", 1, 0) for o in range(2) for i in range(3)
    )  # full crossbar, no routes
    # broadcast: input 2 feeds both outputs; bits at positions (0,2)=2 and (1,2)=5
    assert SwitchConfig(3, 2, routes=(2, 2)).encode().value == (1 << 2) | (1 << 5)
    conn = connectivity_from_flat([0, 1, 1, 1, 1, 0], 3, 2)
    with pytest.raises(ConfigEncodingError):
        SwitchConfig(3, 2, routes=(0, None), connectivity=conn).encode()  # no wire i0 -> o0
    assert switch_route_errors(conn, [1, 1, 0, 0]) == (
        "CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT",
    )


# ---------------------------------------------------------------------------
# spec-fabric-temporal_sw.md
# ---------------------------------------------------------------------------


def test_temporal_sw_slot_bitmap_example():
    """spec-fabric-temporal_sw.md "Machine Format (Hex)": M=4, K=3, valid=1, tag=5,
    routes=101 (positions 0 and 2) -> bitmap 101 | 0101 | 1 = 0xAB."""
    cfg = _tsw_k3()  # positions: 0=(o0,i0) 1=(o0,i1) 2=(o1,i1)
    slot = cfg.encode_slot(RouteSlot(tag=5, routes=(0, 1)))
    assert slot.width == 8 == cfg.slot_width
    assert slot.value == bitmap("101 | 0101 | 1")
    assert slot.hex() == "0xAB"
    assert [(f.name, f.lsb, f.width) for f in slot.fields] == [
        ("valid", 0, 1),
        ("tag", 1, 4),
        ("routes", 5, 3),
    ]


def test_temporal_sw_example_route_tables():
    """spec-fabric-temporal_sw.md "Example": 3 in, 2 out, connectivity [1,1,0,0,1,1]
    (K=4), i4 tags, 4 slots.  The spec gives no hex for it; the values follow its
    slot layout: slot = routes << 5 | tag << 1 | valid, 9 bits per slot."""
    conn = connectivity_from_flat([1, 1, 0, 0, 1, 1], 3, 2)
    # positions: 0=(o0,i0) 1=(o0,i1) 2=(o1,i1) 3=(o1,i2)
    cfg = TemporalSwitchConfig(
        3,
        2,
        tag_width=4,
        num_route_table=4,
        connectivity=conn,
        slots=(
            RouteSlot(tag=0, routes=(0, None)),  # O[0]<-I[0]
            RouteSlot(tag=1, routes=(1, 2)),  # O[0]<-I[1], O[1]<-I[2]
            RouteSlot(tag=5, routes=(None, 1)),  # O[1]<-I[1]
            None,  # invalid
        ),
    )
    bits = cfg.encode()
    assert bits.width == 4 * 9 == 36
    slots = [(bits.value >> (9 * s)) & 0x1FF for s in range(4)]
    assert slots == [0x021, 0x143, 0x08B, 0x000]
    assert bits.words() == ((0x08B << 18 | 0x143 << 9 | 0x021) & 0xFFFFFFFF, 0x08B >> 14)
    assert cfg.errors() == ()


def test_temporal_sw_trailing_slots_invalid_and_dup_tag():
    """spec-fabric-temporal_sw.md "Defaults" (missing slots are invalid = 0x0) and
    "Constraints" (CFG_TEMPORAL_SW_DUP_TAG)."""
    cfg = TemporalSwitchConfig(
        2, 1, tag_width=2, num_route_table=3, slots=(RouteSlot(1, (0,)), RouteSlot(1, (1,)))
    )
    bits = cfg.encode()
    assert bits.width == 3 * (1 + 2 + 2)
    assert bits.value >> 10 == 0
    assert cfg.errors() == ("CFG_TEMPORAL_SW_DUP_TAG",)
    with pytest.raises(ConfigEncodingError):
        TemporalSwitchConfig(2, 1, 2, 1, slots=(None, None)).encode()  # > num_route_table


# ---------------------------------------------------------------------------
# spec-fabric-temporal_pe.md
# ---------------------------------------------------------------------------


def test_temporal_pe_base_example_1_field_layout():
    """spec-fabric-temporal_pe.md "Base Example 1": L=2, N=1, R=0, J=3, O=2 ->
    | res0_tag[2:0] | opcode[1:0] | tag[2:0] | valid |; operand fields are 0 bits."""
    shape = TemporalPEShape(
        num_inputs=2, num_outputs=1, tag_width=3, num_fu_types=4, num_instructions=1
    )
    bits = encode_instruction(shape, Instruction(tag=6, opcode=3, results=(Result(tag=5),)))
    assert [(f.name, f.lsb, f.width) for f in bits.fields] == [
        ("valid", 0, 1),
        ("tag", 1, 3),
        ("opcode", 4, 2),
        ("res[0].tag", 6, 3),
    ]
    assert bits.bin() == "101" + "11" + "110" + "1"


def test_temporal_pe_base_example_2_hex():
    """spec-fabric-temporal_pe.md "Base Example 2": L=2, N=1, R=0, J=4, 2 FU types
    (O=1); valid=1 tag=3 opcode=1 res0_tag=3 -> 0011 | 1 | 0011 | 1 = 0x0E7 (10 bits)."""
    shape = TemporalPEShape(2, 1, tag_width=4, num_fu_types=2, num_instructions=1)
    bits = encode_instruction(shape, Instruction(tag=3, opcode=1, results=(Result(tag=3),)))
    assert bits.width == 10 == shape.instruction_width
    assert bits.value == bitmap("0011 | 1 | 0011 | 1")
    assert bits.hex() == "0x0E7"


def test_temporal_pe_complex_example_1():
    """spec-fabric-temporal_pe.md "Complex Example 1": L=2, N=2, R=4, J=3, 4 FU types.

    INCONSISTENT: the spec's bitmap ``1 11 000 | 0 00 110 | 0 00 | 1 10 | 10 | 101 | 1``
    matches its field text (op_is_reg is the operand MSB; res_is_reg the result MSB,
    res_tag the result LSBs) and Loom's fabric_temporal_pe.sv, and equals 0xE061AB.
    The spec's hex ``0x1F016B`` is what the same fields give with each block's
    sub-fields in the opposite order (is_reg at the block LSB, res_tag at the top),
    which is how Loom's SimTemporalPE decodes.  We follow text + bitmap + RTL.
    """
    shape = TemporalPEShape(2, 2, tag_width=3, num_fu_types=4, num_instructions=1, num_registers=4)
    assert (shape.operand_width, shape.result_width, shape.instruction_width) == (3, 6, 24)
    insn = Instruction(
        tag=5,
        opcode=2,
        operands=(Operand(reg=2), Operand()),
        results=(Result(tag=6), Result(reg=3)),
    )
    bits = encode_instruction(shape, insn)
    spec_bitmap = "1 11 000 | 0 00 110 | 0 00 | 1 10 | 10 | 101 | 1"
    assert bits.width == bitmap_width(spec_bitmap) == 24
    assert bits.value == bitmap(spec_bitmap) == 0xE061AB
    # The spec's hex is the sub-field-swapped encoding, not ours:
    swapped = bitmap("000 11 1 | 110 00 0 | 00 0 | 10 1 | 10 | 101 | 1")
    assert swapped == 0x1F016B != bits.value


def test_temporal_pe_complex_example_2():
    """spec-fabric-temporal_pe.md "Complex Example 2": L=3, N=1, R=2, J=4, one FU type
    (opcode omitted), 17-bit instruction.

    INCONSISTENT in the same way as Complex Example 1: the bitmap
    ``0 0 1100 | 1 0 | 1 1 | 0 0 | 1001 | 1`` (= 0x06593) follows the field text; the
    spec's hex ``0x18393`` is the sub-field-swapped encoding.
    """
    shape = TemporalPEShape(3, 1, tag_width=4, num_fu_types=1, num_instructions=1, num_registers=2)
    assert (shape.opcode_width, shape.operand_width, shape.result_width) == (0, 2, 6)
    insn = Instruction(
        tag=9, operands=(Operand(), Operand(reg=1), Operand(reg=0)), results=(Result(tag=12),)
    )
    bits = encode_instruction(shape, insn)
    spec_bitmap = "0 0 1100 | 1 0 | 1 1 | 0 0 | 1001 | 1"
    assert bits.width == bitmap_width(spec_bitmap) == 17
    assert bits.value == bitmap(spec_bitmap)
    assert bits.hex() == "0x06593"
    swapped = bitmap("1100 0 0 | 0 1 | 1 1 | 0 0 | 1001 | 1")
    assert swapped == 0x18393 != bits.value


def test_temporal_pe_human_readable_example():
    """spec-fabric-temporal_pe.md "Human-Readable Format" Example:
    inst[0] tag=3 out(0, tag=1) = add(0) in(0), in(1);
    inst[1] tag=4 out(0) = mul(1) in(0), reg(0); inst[2] invalid.

    AMBIGUOUS: the example gives no tag width or register count.  Assumed here:
    J=4 (i4 tags), R=2, 2 FU types, num_instruction=3.  `out(0)` without a tag
    takes the match tag (4).  Instruction width = 1+4+1+2*2+(2+4) = 16.
    """
    shape = TemporalPEShape(2, 1, tag_width=4, num_fu_types=2, num_instructions=3, num_registers=2)
    cfg = TemporalPEConfig(
        shape,
        instructions=(
            Instruction(tag=3, opcode=0, results=(Result(tag=1),)),
            Instruction(tag=4, opcode=1, operands=(Operand(), Operand(reg=0))),
            None,
        ),
    )
    bits = cfg.encode()
    assert shape.instruction_width == 16 and bits.width == 48
    # insn[0]: valid | tag 3 <<1 | res tag 1 << 10
    # insn[1]: valid | tag 4 <<1 | opcode 1 << 5 | op1.is_reg << 9 | res tag 4 << 10
    assert bits.words() == (0x1229_0407, 0x0000)
    assert cfg.errors() == ()


@pytest.mark.parametrize(
    ("L", "N", "R", "J", "fus", "operand", "result", "insn"),
    [
        (2, 1, 0, 3, 4, 0, 3, 1 + 3 + 2 + 0 + 3),
        (2, 1, 0, 4, 2, 0, 4, 10),
        (2, 2, 4, 3, 4, 3, 6, 24),
        (3, 1, 2, 4, 1, 2, 6, 17),
        # R=1: log2Ceil(1)=0 -> op_is_reg only.  Loom's fabric_temporal_pe.sv
        # template uses $clog2(max(R,2)) = 1 index bit here (not followed).
        (2, 1, 1, 4, 2, 1, 5, 1 + 4 + 1 + 2 + 5),
        (1, 3, 5, 2, 3, 4, 6, 1 + 2 + 2 + 4 + 18),
    ],
)
def test_temporal_pe_width_formulas(L, N, R, J, fus, operand, result, insn):  # noqa: N803
    """spec-fabric-temporal_pe.md "Width Formulas": operand_config_width,
    result_width, instruction_width; log2Ceil(1) = 0 ("Opcode Assignment")."""
    shape = TemporalPEShape(
        L, N, tag_width=J, num_fu_types=fus, num_instructions=2, num_registers=R
    )
    assert (shape.operand_width, shape.result_width, shape.instruction_width) == (
        operand,
        result,
        insn,
    )
    assert encode_instruction(shape, Instruction(tag=1)).width == insn
    assert encode_instruction(shape, None).value == 0


def test_temporal_pe_config_errors():
    """spec-fabric-temporal_pe.md "Error Conditions": CFG_TEMPORAL_PE_DUP_TAG,
    CFG_TEMPORAL_PE_ILLEGAL_REG, CFG_TEMPORAL_PE_REG_TAG_NONZERO."""
    shape = TemporalPEShape(1, 1, tag_width=2, num_fu_types=1, num_instructions=3, num_registers=3)
    dup = TemporalPEConfig(shape, (Instruction(tag=1), Instruction(tag=1)))
    assert dup.errors() == ("CFG_TEMPORAL_PE_DUP_TAG",)
    illegal = TemporalPEConfig(shape, (Instruction(tag=0, operands=(Operand(reg=3),)),))
    assert illegal.errors() == ("CFG_TEMPORAL_PE_ILLEGAL_REG",)
    nonzero = TemporalPEConfig(shape, (Instruction(tag=0, results=(Result(reg=1, tag=2),)),))
    assert nonzero.errors() == ("CFG_TEMPORAL_PE_REG_TAG_NONZERO",)
    # reg index 3 is representable in the 2-bit field: encodable, flagged above
    assert illegal.encode().field("insn[0].op[0].reg_idx").value == 3
    no_regs = TemporalPEShape(1, 1, tag_width=2, num_fu_types=1, num_instructions=1)
    with pytest.raises(ConfigEncodingError):
        encode_instruction(no_regs, Instruction(tag=0, operands=(Operand(reg=0),)))
    with pytest.raises(ConfigEncodingError):
        TemporalPEConfig(no_regs, (Instruction(0), Instruction(1))).encode()  # too many slots


# ---------------------------------------------------------------------------
# spec-fabric-pe.md / spec-fabric-pe-ops.md / spec-dataflow.md
# ---------------------------------------------------------------------------


def test_pe_tagged_interface_example():
    """spec-fabric-pe.md "Example: Tagged Interface (Tag Hidden)": output_tag = [3 : i4]
    on a one-output tagged addi PE -> 4 config bits = 0x3."""
    bits = ComputePEConfig(num_outputs=1, tag_width=4, output_tags=(3,)).encode()
    assert (bits.width, bits.value, bits.hex()) == (4, 3, "0x3")


def test_pe_native_type_conversion_example_has_no_config():
    """spec-fabric-pe.md "Example: Native PE with Type Conversion" (sitofp): native,
    no cmp -> CONFIG_WIDTH 0; output_tag on a native PE is rejected."""
    assert ComputePEConfig(num_outputs=1).encode().width == 0
    with pytest.raises(ConfigEncodingError):
        ComputePEConfig(num_outputs=1, output_tags=(1,)).encode()


def test_pe_output_tag_default_zero():
    """spec-fabric-pe.md "output_tag": default value for each element is 0."""
    assert ComputePEConfig(num_outputs=2, tag_width=3).encode().value == 0


def test_pe_constant_values():
    """spec-fabric-pe.md "constant_value": stored with the constant's bit width
    (negative integers two's complement, floats as IEEE bits)."""
    assert ConstantPEConfig(32, -1).encode().value == 0xFFFF_FFFF
    assert ConstantPEConfig(32, float_bits(1.0, 32)).encode().hex() == "0x3F800000"
    assert ConstantPEConfig(64, float_bits(-2.5, 64)).encode().words() == (0, 0xC0040000)
    with pytest.raises(ConfigEncodingError):
        ConstantPEConfig(8, 256).encode()
    with pytest.raises(ConfigEncodingError):
        ConstantPEConfig(8, -129).encode()


def test_pe_compare_predicates():
    """spec-fabric-pe.md "compare_predicate": 4 bits per cmp op; cmpi 0-9 valid, 10-15
    raise CFG_PE_CMPI_PREDICATE_INVALID; cmpf 0-15 all valid."""
    assert [CmpPredicate.named("cmpi", n).code for n in ("eq", "ne", "slt", "uge")] == [0, 1, 2, 9]
    assert CmpPredicate.named("cmpf", "true").code == 15
    bad = ComputePEConfig(1, compare=(CmpPredicate("cmpi", 10),))
    assert bad.errors() == ("CFG_PE_CMPI_PREDICATE_INVALID",)
    assert ComputePEConfig(1, compare=(CmpPredicate("cmpf", 15),)).errors() == ()
    with pytest.raises(ConfigEncodingError):
        CmpPredicate.named("cmpi", "olt")


@pytest.mark.parametrize(
    ("cond", "sel"),
    [("<", 0b00001), ("<=", 0b00010), (">", 0b00100), (">=", 0b01000), ("!=", 0b10000)],
)
def test_pe_stream_cont_cond_sel(cond, sel):
    """spec-fabric-pe.md "cont_cond_sel": 5-bit one-hot in order [<, <=, >, >=, !=];
    spec-dataflow.md examples use "<" (default), "!=" and "<="."""
    bits = StreamPEConfig(cont_cond=cond).encode()
    assert (bits.width, bits.value) == (5, sel)
    assert StreamPEConfig(cont_cond=cond).errors() == ()


def test_pe_stream_default_and_onehot_error():
    """spec-fabric-pe.md "cont_cond_sel": default 00001 (`<`); all-zero or multi-hot
    values are CFG_PE_STREAM_CONT_COND_ONEHOT."""
    assert StreamPEConfig().encode().bin() == "00001"
    assert StreamPEConfig(cont_cond=0).errors() == ("CFG_PE_STREAM_CONT_COND_ONEHOT",)
    assert StreamPEConfig(cont_cond=0b00011).errors() == ("CFG_PE_STREAM_CONT_COND_ONEHOT",)


def test_pe_load_store_output_tag():
    """spec-fabric-pe.md "Hardware Types": TagOverwrite tagged -> one shared output_tag;
    TagOverwrite native and TagTransparent -> no config."""
    bits = LoadStorePEConfig(TagMode.OVERWRITE, tag_width=3, output_tag=5).encode()
    assert (bits.width, bits.value) == (3, 5)
    with pytest.raises(ConfigEncodingError):
        LoadStorePEConfig(TagMode.TRANSPARENT, tag_width=3, output_tag=5).encode()


# ---------------------------------------------------------------------------
# spec-fabric-tag.md
# ---------------------------------------------------------------------------


def test_add_tag_syntax_example():
    """spec-fabric-tag.md "fabric.add_tag" Syntax: {tag = 5 : i4} -> 4 bits = 0x5;
    a tag that does not fit the width cannot be encoded (CPL_ADD_TAG_VALUE_OVERFLOW)."""
    bits = AddTagConfig(tag_width=4, tag=5).encode()
    assert (bits.width, bits.value, bits.hex()) == (4, 5, "0x5")
    assert AddTagConfig(tag_width=4).encode().value == 0  # default tag 0
    with pytest.raises(ConfigEncodingError):
        AddTagConfig(tag_width=4, tag=16).encode()


MAP_TAG_ROWS = (MapTagEntry(True, 5, 2), MapTagEntry(False, 0, 0), MapTagEntry(True, 7, 3))


def test_map_tag_syntax_example():
    """spec-fabric-tag.md "fabric.map_tag" Syntax: i7 -> i3, rows [1,5,2], [0,0,0], [1,7,3];
    entry = dst_tag | src_tag | valid, 11 bits: 0x20B, 0x000, 0x30F.

    INCONSISTENT: the example says table_size = 10 but lists 3 rows, while
    "Constraints" require the table length to equal table_size.  Encoded as
    table_size = 10 with the 7 missing rows invalid (zero), and as table_size = 3.
    """
    cfg10 = MapTagConfig(in_tag_width=7, out_tag_width=3, table_size=10, table=MAP_TAG_ROWS)
    bits = cfg10.encode()
    assert bits.width == 10 * 11
    entries = [(bits.value >> (11 * k)) & 0x7FF for k in range(10)]
    assert entries == [0x20B, 0x000, 0x30F] + [0] * 7
    assert cfg10.encode_entry(MAP_TAG_ROWS[0]).bin() == "010" + "0000101" + "1"
    assert [(f.name, f.lsb, f.width) for f in cfg10.encode_entry(MAP_TAG_ROWS[0]).fields] == [
        ("valid", 0, 1),
        ("src_tag", 1, 7),
        ("dst_tag", 8, 3),
    ]
    bits3 = MapTagConfig(7, 3, table_size=3, table=MAP_TAG_ROWS).encode()
    assert (bits3.width, bits3.value) == (33, 0x30F << 22 | 0x20B)


def test_map_tag_dup_tag_error():
    """spec-fabric-tag.md "Semantics": duplicate valid src_tag -> CFG_MAP_TAG_DUP_TAG
    (invalid rows are ignored)."""
    ok = MapTagConfig(2, 2, 3, (MapTagEntry(True, 1, 0), MapTagEntry(False, 1, 0)))
    assert ok.errors() == ()
    dup = MapTagConfig(2, 2, 3, (MapTagEntry(True, 1, 0), MapTagEntry(True, 1, 2)))
    assert dup.errors() == ("CFG_MAP_TAG_DUP_TAG",)


# ---------------------------------------------------------------------------
# spec-fabric-fifo.md
# ---------------------------------------------------------------------------


def test_fifo_syntax_examples():
    """spec-fabric-fifo.md "Named Form Syntax"/"Runtime Configuration":
    [depth = 4] -> no config; [depth = 4, bypassable] {bypassed = false} -> 1 bit = 0;
    bypassed = true -> 1; bypassed without bypassable is rejected."""
    assert FifoConfig(bypassable=False).encode().width == 0
    assert FifoConfig(bypassable=True, bypassed=False).encode() == ConfigBits(
        1, 0, FifoConfig(True).encode().fields
    )
    assert FifoConfig(bypassable=True, bypassed=True).encode().value == 1
    with pytest.raises(ConfigEncodingError):
        FifoConfig(bypassable=False, bypassed=True).encode()


# ---------------------------------------------------------------------------
# spec-fabric-mem.md
# ---------------------------------------------------------------------------


def test_memory_addr_offset_table_spec_layout():
    """spec-fabric-mem.md "numRegion": CONFIG_WIDTH = numRegion*(1 + 2*TAG_WIDTH + ADDR_WIDTH)
    with ADDR_WIDTH = 57; region fields in listed order valid, start_tag, end_tag,
    addr_offset, LSB-first (the general packing rule).

    AMBIGUOUS: spec-fabric-config_mem.md's CONFIG_WIDTH table gives fabric.memory 0.
    INCONSISTENT: with a TAG_WIDTH-bit end_tag the half-open range [start, end) can
    never include the top tag 2**TAG_WIDTH - 1; Loom's RTL widens end_tag by one bit.
    """
    cfg = MemoryConfig(
        num_region=3,
        tag_width=3,
        regions=(MemoryRegion(0, 2, 0), MemoryRegion(2, 4, 64)),
    )
    bits = cfg.encode()
    rw = 1 + 2 * 3 + ADDR_BIT_WIDTH
    assert bits.width == 3 * rw
    r0 = 1 | 0 << 1 | 2 << 4 | 0 << 7
    r1 = 1 | 2 << 1 | 4 << 4 | 64 << 7
    assert bits.value == r0 | r1 << rw
    assert bits.field("region[1].addr_offset").lsb == rw + 7
    assert bits.field("region[2].valid").value == 0
    assert cfg.errors() == ()
    full_range = (MemoryRegion(0, 8),)
    with pytest.raises(ConfigEncodingError):
        MemoryConfig(1, 3, regions=full_range).encode()
    assert MemoryConfig(1, 3, regions=full_range, layout=MemoryLayout.RTL).encode().width == 65


def test_memory_rtl_layout_and_errors():
    """Loom's fabric_memory.sv packs each region LSB-first as addr_offset[57],
    end_tag[TW+1], start_tag[TW], valid (selectable as MemoryLayout.RTL);
    spec-fabric-mem.md "Runtime configuration errors" for empty/overlapping ranges."""
    region = MemoryRegion(start_tag=1, end_tag=2, addr_offset=5)
    bits = MemoryConfig(1, tag_width=1, regions=(region,), layout=MemoryLayout.RTL).encode()
    assert bits.width == 57 + 2 + 1 + 1
    assert bits.value == 5 | 2 << 57 | 1 << 59 | 1 << 60
    native = MemoryConfig(2, tag_width=0, regions=(MemoryRegion(addr_offset=3),)).encode()
    assert native.width == 2 * 58 and native.value == 1 | 3 << 1
    empty = MemoryConfig(2, 2, regions=(MemoryRegion(2, 2),))
    assert empty.errors() == ("CFG_MEMORY_EMPTY_TAG_RANGE",)
    overlap = MemoryConfig(2, 2, regions=(MemoryRegion(0, 3), MemoryRegion(2, 4)))
    assert overlap.errors() == ("CFG_MEMORY_OVERLAP_TAG_REGION",)
    adjacent = MemoryConfig(2, 2, regions=(MemoryRegion(0, 2), MemoryRegion(2, 4)))
    assert adjacent.errors() == ()  # half-open ranges touch without overlapping
    ext = MemoryConfig(2, 2, regions=(MemoryRegion(1, 0), MemoryRegion(0, 3)), external=True)
    assert ext.errors() == ("CFG_EXTMEMORY_EMPTY_TAG_RANGE",)


# ---------------------------------------------------------------------------
# image, .config.bin, _addr.h (spec-mapper-output.md)
# ---------------------------------------------------------------------------


def _small_image():
    conn = connectivity_from_flat([0, 1, 1, 1, 1, 0], 3, 2)
    tsw = TemporalSwitchConfig(
        3,
        2,
        tag_width=4,
        num_route_table=4,
        connectivity=connectivity_from_flat([1, 1, 0, 0, 1, 1], 3, 2),
        slots=(RouteSlot(0, (0, None)), RouteSlot(1, (1, 2)), RouteSlot(5, (None, 1))),
    )
    return build_image(
        [
            ("sw_0", SwitchConfig(3, 2, (1, 0), conn).encode()),
            ("fifo.plain", FifoConfig(False).encode()),
            ("tsw-1", tsw.encode()),
            ("pe_add", ComputePEConfig(1, tag_width=4, output_tags=(3,)).encode()),
            ("add_tag_2", AddTagConfig(4, 5).encode()),
        ]
    )


def test_image_bytes_little_endian():
    """spec-mapper-output.md "config.bin Format": total_config_words * 4 bytes, each
    word little-endian; nodes word-aligned in definition order."""
    image = _small_image()
    assert [(s.name, s.word_offset, s.word_count) for s in image.slices] == [
        ("sw_0", 0, 1),
        ("tsw-1", 1, 2),
        ("pe_add", 3, 1),
        ("add_tag_2", 4, 1),
    ]
    tsw_value = 0x08B << 18 | 0x143 << 9 | 0x021
    assert image.words() == (0x5, tsw_value & 0xFFFFFFFF, tsw_value >> 32, 0x3, 0x5)
    data = image.to_bytes()
    assert data[:4] == b"\x05\x00\x00\x00"
    assert data[4:8] == (tsw_value & 0xFFFFFFFF).to_bytes(4, "little")
    assert len(data) == 20
    assert image_from_bytes(data) == image.words()
    assert image.addr_width == 5


def test_addr_header_content():
    """spec-mapper-output.md "addr.h Format": guard, LOOM_CONFIG_DEPTH/WIDTH,
    LOOM_ADDR_<NODE> word offsets and LOOM_SIZE_<NODE> word counts."""
    text = emit_addr_header(_small_image(), "vec-add")
    assert text == (
        "// Auto-generated by loom mapper\n"
        "#ifndef VEC_ADD_ADDR_H\n"
        "#define VEC_ADD_ADDR_H\n"
        "\n"
        "#define LOOM_CONFIG_DEPTH 5\n"
        "#define LOOM_CONFIG_WIDTH 32\n"
        "\n"
        "// Per-node base addresses (word offset in config_mem)\n"
        "#define LOOM_ADDR_SW_0 0\n"
        "#define LOOM_ADDR_TSW_1 1\n"
        "#define LOOM_ADDR_PE_ADD 3\n"
        "#define LOOM_ADDR_ADD_TAG_2 4\n"
        "\n"
        "// Per-node config word count\n"
        "#define LOOM_SIZE_SW_0 1\n"
        "#define LOOM_SIZE_TSW_1 2\n"
        "#define LOOM_SIZE_PE_ADD 1\n"
        "#define LOOM_SIZE_ADD_TAG_2 1\n"
        "\n"
        "#endif // VEC_ADD_ADDR_H\n"
    )


def test_image_name_rules_and_report():
    """Header macro names must be unique C identifiers; the report shows fields."""
    assert c_name("pe.add-0/x") == "PE_ADD_0_X"
    one = AddTagConfig(2, 1).encode()
    with pytest.raises(ConfigEncodingError):
        build_image([("a", one), ("a", one)])
    with pytest.raises(ConfigEncodingError):
        emit_addr_header(build_image([("a.b", one), ("a_b", one)]), "k")
    lines = describe_image(_small_image())
    assert lines[0] == "config_mem: 5 words"
    assert "  route[o1<-i0] [2] = 0x1" in lines
    assert any(line.startswith("tsw-1 @word 1 (2 words, 36 bits)") for line in lines)


def test_diff_names_mismatching_fields():
    """A verifier re-derives bits and compares: diff() names the differing fields."""
    bits = StreamPEConfig(num_outputs=2, tag_width=3, output_tags=(5, 6), cont_cond="<=").encode()
    assert bits.diff(bits.value) == ()
    wrong = bits.value ^ (1 << 3)  # flip a bit of output_tag[1]
    (mm,) = bits.diff(wrong)
    assert (mm.name, mm.expected, mm.actual) == ("output_tag[1]", 6, 7)
    assert bits.diff(bits.value | 1 << 40)[0].name == "(unassigned)"


def test_log2ceil():
    """Selector widths: log2Ceil(1) = 0, log2Ceil(2) = 1, log2Ceil(5) = 3."""
    assert [log2ceil(n) for n in (0, 1, 2, 3, 4, 5, 8, 9)] == [0, 0, 1, 2, 2, 3, 3, 4]


# ---------------------------------------------------------------------------
# text forms (loomc.configmem.text) and decode round trips
# ---------------------------------------------------------------------------

HR_EXAMPLE = (
    "inst[0]: when(tag=3) out(0, tag=1) = add(0) in(0), in(1)",
    "inst[1]: when(tag=4) out(0) = mul(1) in(0), reg(0)",
    "inst[2]: invalid",
)
HR_SHAPE = TemporalPEShape(2, 1, tag_width=4, num_fu_types=2, num_instructions=3, num_registers=2)


def test_instruction_mem_text_example_parses_and_prints_back():
    """spec-fabric-temporal_pe.md "Human-Readable Format" Example, read from its text:
    same bits as the hand-built configuration above, and printed back verbatim."""
    insns = parse_instruction_mem(HR_EXAMPLE, HR_SHAPE)
    assert insns[1] == Instruction(4, 1, (Operand(), Operand(reg=0)), (Result(),))
    assert insns[2] is None
    assert TemporalPEConfig(HR_SHAPE, insns).encode().value == 0x1229_0407
    assert (
        tuple(format_instruction(k, i, ("add", "mul")) for k, i in enumerate(insns)) == HR_EXAMPLE
    )
    hexes = [format_instruction_hex(HR_SHAPE, i) for i in insns]
    assert hexes == ["0x0407", "0x1229", "0x0000"]
    # machine format reads back to the same (normalized) instructions
    assert parse_instruction_mem(hexes, HR_SHAPE) == tuple(
        None if i is None else normalize_instruction(HR_SHAPE, i) for i in insns
    )


def test_instruction_mem_text_base_example_2_hex_entry():
    """spec-fabric-temporal_pe.md "Base Example 2" given as a machine-format entry
    ``0x0E7`` decodes to valid, tag 3, opcode 1, res0_tag 3."""
    shape = TemporalPEShape(2, 1, tag_width=4, num_fu_types=2, num_instructions=2)
    assert parse_instruction_mem(["0x0E7"], shape) == (
        Instruction(3, 1, (Operand(), Operand()), (Result(None, 3),)),
        None,
    )


@pytest.mark.parametrize(
    ("entry", "num_registers", "code"),
    [
        ("inst[0]: when(tag=3) out(0, tag=1) = add(0) in(1), in(0)", 0, "SRC_MISMATCH"),
        ("inst[0]: when(tag=3) out(0, tag=1) = add(0) in(0), in(1), reg(0)", 2, "SRC_COUNT"),
        ("inst[0]: when(tag=3) out(0, tag=1) = add(0) reg(0), in(1)", 0, "REG_DISABLED"),
        (
            "inst[0]: when(tag=3) out(0, tag=1), out(1, tag=2) = add(0) in(0), in(1)",
            0,
            "DEST_COUNT",
        ),
        ("inst[0]: when(tag=3) out(0) = add(0) in(0), bogus", 0, None),
        ("inst[0]: when(tag=3) out(1) = add(0) in(0), in(1)", 0, None),
    ],
)
def test_instruction_text_rule_violations(entry, num_registers, code):
    """spec-fabric-temporal_pe.md "Sources"/"Destinations": sources are positional,
    counts must match the ports, reg() needs registers.  The entries are those of
    the corpus's CPL_TEMPORAL_PE_{SRC_MISMATCH,SRC_COUNT,REG_DISABLED} red tests
    and DEST_COUNT green test, on a 2-input 1-output temporal PE."""
    shape = TemporalPEShape(2, 1, 4, 1, 2, num_registers=num_registers)
    with pytest.raises(ConfigEncodingError) as err:
        parse_instruction(entry, shape)
    assert err.value.code == (None if code is None else f"CPL_TEMPORAL_PE_{code}")


def test_instruction_text_dest_count_green_entry():
    """Corpus CPL_TEMPORAL_PE_DEST_COUNT green entry on a 2-output temporal PE."""
    shape = TemporalPEShape(2, 2, 4, 1, 1)
    entry = "inst[0]: when(tag=3) out(0, tag=1), out(1, tag=2) = add(0) in(0), in(1)"
    _, insn = parse_instruction(entry, shape)
    assert encode_instruction(shape, insn).bin() == "0010" + "0001" + "0011" + "1"


def test_route_table_text_example():
    """spec-fabric-temporal_sw.md "Example" read from its text: same bits as the
    hand-built slots, printed back verbatim, and hex entries decode the same."""
    entries = (
        "route_table[0]: when(tag=0) O[0]<-I[0]",
        "route_table[1]: when(tag=1) O[0]<-I[1], O[1]<-I[2]",
        "route_table[2]: when(tag=5) O[1]<-I[1]",
        "route_table[3]: invalid",
    )
    shape = TemporalSwitchConfig(
        3, 2, 4, 4, connectivity=connectivity_from_flat([1, 1, 0, 0, 1, 1], 3, 2)
    )
    slots = parse_route_table(entries, shape)
    assert slots[1] == RouteSlot(1, (1, 2))
    cfg = TemporalSwitchConfig(3, 2, 4, 4, slots, shape.connectivity)
    assert [(cfg.encode().value >> (9 * s)) & 0x1FF for s in range(4)] == [0x21, 0x143, 0x8B, 0]
    assert tuple(format_route_slot(k, s) for k, s in enumerate(slots)) == entries
    assert parse_route_table(["0x021", "0x143", "0x08B", "0x0"], shape) == slots
    # listing order of connections does not matter
    assert parse_route_slot("route_table[1]: when(tag=1) O[1]<-I[2], O[0]<-I[1]", 2) == (
        1,
        slots[1],
    )
    with pytest.raises(ConfigEncodingError) as err:
        parse_route_slot("route_table[0]: when(tag=0) O[0]<-I[0], O[0]<-I[1]", 2)
    assert err.value.code == "CFG_TEMPORAL_SW_ROUTE_SAME_TAG_INPUTS_TO_SAME_OUTPUT"
    with pytest.raises(ConfigEncodingError):  # I[2] -> O[0] is not wired
        TemporalSwitchConfig(3, 2, 4, 4, (RouteSlot(0, {0: 2}),), shape.connectivity).encode()


def test_switch_from_route_table_and_mapping_routes():
    """spec-fabric-switch.md "Example" read from its route_table bits, and routes given
    as an {output: input} mapping."""
    conn = connectivity_from_flat([0, 1, 1, 1, 1, 0], 3, 2)
    sw = SwitchConfig.from_route_table(3, 2, [1, 0, 1, 0], conn)
    assert sw.routes == (1, 0)
    assert sw == SwitchConfig(3, 2, {0: 1, 1: 0}, [[0, 1, 1], [1, 1, 0]])
    with pytest.raises(ConfigEncodingError) as err:
        SwitchConfig.from_route_table(3, 2, [1, 1, 0, 0], conn)
    assert err.value.code == "CFG_SWITCH_ROUTE_MIX_INPUTS_TO_SAME_OUTPUT"
    with pytest.raises(ConfigEncodingError) as err:
        SwitchConfig.from_route_table(3, 2, [1, 0, 1], conn)
    assert err.value.code == "CPL_SWITCH_ROUTE_LEN_MISMATCH"


@st.composite
def shapes_and_instructions(draw):
    shape = TemporalPEShape(
        num_inputs=draw(st.integers(1, 4)),
        num_outputs=draw(st.integers(1, 3)),
        tag_width=draw(st.integers(1, 6)),
        num_fu_types=draw(st.integers(1, 5)),
        num_instructions=draw(st.integers(1, 4)),
        num_registers=draw(st.integers(0, 5)),
    )
    reg = (
        st.none()
        if shape.num_registers == 0
        else st.none() | st.integers(0, shape.num_registers - 1)
    )
    tag = st.integers(0, (1 << shape.tag_width) - 1)
    insn = st.builds(
        Instruction,
        tag=tag,
        opcode=st.integers(0, shape.num_fu_types - 1),
        operands=st.tuples(*[st.builds(Operand, reg) for _ in range(shape.num_inputs)]),
        results=st.tuples(*[st.builds(Result, reg, tag) for _ in range(shape.num_outputs)]),
    )
    return shape, draw(st.lists(st.none() | insn, max_size=shape.num_instructions))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(shapes_and_instructions())
def test_instruction_round_trips(case):
    """encode -> decode and format -> parse are inverses; the word has the spec width."""
    shape, insns = case
    insns = tuple(insns)
    bits = TemporalPEConfig(shape, insns).encode()
    assert bits.width == shape.config_width
    padded = insns + (None,) * (shape.num_instructions - len(insns))
    normalized = tuple(None if i is None else normalize_instruction(shape, i) for i in padded)
    words = [
        (bits.value >> (k * shape.instruction_width)) & ((1 << shape.instruction_width) - 1)
        for k in range(shape.num_instructions)
    ]
    assert tuple(decode_instruction(shape, w) for w in words) == normalized
    text = [format_instruction(k, i) for k, i in enumerate(padded)]
    parsed = parse_instruction_mem(text, shape)
    assert (
        tuple(None if i is None else normalize_instruction(shape, i) for i in parsed) == normalized
    )


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.integers(1, 4).flatmap(
        lambda n_in: st.integers(1, 4).flatmap(
            lambda n_out: st.tuples(
                st.just(n_in),
                st.just(n_out),
                st.lists(
                    st.lists(st.booleans(), min_size=n_in, max_size=n_in),
                    min_size=n_out,
                    max_size=n_out,
                ),
                st.lists(
                    st.lists(st.integers(0, n_in - 1) | st.none(), min_size=n_out, max_size=n_out),
                    max_size=3,
                ),
            )
        )
    )
)
def test_route_slot_round_trips(case):
    """Temporal switch slots: encode -> decode_slot and format -> parse are inverses
    for every route choice that uses existing wires."""
    n_in, n_out, conn, slot_routes = case
    cfg_shape = TemporalSwitchConfig(n_in, n_out, 3, 3, connectivity=conn)
    wired = tuple(
        RouteSlot(k, tuple(i if i is not None and conn[o][i] else None for o, i in enumerate(r)))
        for k, r in enumerate(slot_routes)
    )
    cfg = TemporalSwitchConfig(n_in, n_out, 3, 3, wired, conn)
    bits = cfg.encode()
    w = cfg.slot_width
    decoded = tuple(cfg.decode_slot((bits.value >> (w * s)) & ((1 << w) - 1)) for s in range(3))
    assert decoded == wired + (None,) * (3 - len(wired))
    text = [format_route_slot(k, s) for k, s in enumerate(wired)]
    assert parse_route_table(text, cfg_shape) == decoded
