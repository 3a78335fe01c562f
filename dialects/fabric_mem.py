"""Memory ops: ``fabric.memory`` (on-chip) and ``fabric.extmemory`` (external).

Syntax (spec-fabric-mem.md "Named Form Syntax", "Inline Form Syntax"):

    %d, %ld, %sd = fabric.memory [ldCount = 1, stCount = 1, lsqDepth = 4, is_private = true]
                     (%ldaddr, %staddr, %stdata) : memref<256xi32>, (I...) -> (O...)
    fabric.extmemory @dram [ldCount = 1, stCount = 0] : memref<?xf32>, (I...) -> (O...)

Keywords in ``[...]`` are stored under Loom's attribute names: ``addr_offset_table``
is kept as ``addrOffsetTable`` and ``config_node_id`` as ``loom.configNodeId``
(FabricMemOps), so the generic form matches Loom's.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from loomc.dialects.fabric_base import FabricPortOp
from loomc.dialects.fabric_syntax import (
    attr_printer,
    dense_values,
    int_printer,
    parse_bool_value,
    parse_function_type_fast,
    parse_i64_array_value,
    parse_int_value,
    parse_keyword_list,
    parse_operand_list_until,
    parse_optional_sym,
    parse_type_fast,
    peek_punctuation,
    print_keyword_list,
    print_optional_sym,
    resolve_operands,
)
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, MemRefType
from xdsl.ir import Attribute
from xdsl.irdl import irdl_op_definition, opt_attr_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import OptionalSymbolOpInterface
from xdsl.utils.exceptions import VerifyException

# keyword in the text -> (attribute storage name, value parser).  Order is the
# printing order (Loom's printMemHwParams).
_MEM_KEYS: dict[str, tuple[str, object]] = {
    "ldCount": ("ldCount", parse_int_value),
    "stCount": ("stCount", parse_int_value),
    "lsqDepth": ("lsqDepth", parse_int_value),
    "is_private": ("is_private", parse_bool_value),
    "numRegion": ("numRegion", parse_int_value),
    "addr_offset_table": ("addrOffsetTable", parse_i64_array_value),
    "config_node_id": ("loom.configNodeId", parse_int_value),
    "viz_row": ("viz_row", parse_int_value),
    "viz_col": ("viz_col", parse_int_value),
}


class _MemoryBase(FabricPortOp):
    """Shared syntax and accessors of memory and extmemory.  All bracket keys
    are hardware parameters (spec-fabric-mem.md "Attributes"); the
    ``addr_offset_table`` is nevertheless filled in by the mapper."""

    memref_type = opt_attr_def(MemRefType)

    def _int(self, key: str, default: int) -> int:
        a = self.attributes.get(key)
        return a.value.data if isinstance(a, IntegerAttr) else default

    @property
    def ld_count(self) -> int:
        return self._int("ldCount", 0)

    @property
    def st_count(self) -> int:
        return self._int("stCount", 0)

    @property
    def lsq_depth(self) -> int:
        """Load-store queue depth; 0 when omitted (Loom's default)."""
        return self._int("lsqDepth", 0)

    @property
    def num_region(self) -> int:
        """Entries in ``addr_offset_table``; 1 when omitted (Loom's default)."""
        return self._int("numRegion", 1)

    @property
    def addr_offset_table(self) -> np.ndarray | None:
        """Flat ``array<i64>`` values (4 per region: valid, start_tag, end_tag, base)."""
        a = self.attributes.get("addrOffsetTable")
        return dense_values(a) if isinstance(a, DenseArrayBase) else None

    def set_addr_offset_table(self, values: list[int]) -> None:
        from xdsl.dialects.builtin import i64

        self.attributes["addrOffsetTable"] = DenseArrayBase.from_list(i64, values)

    @property
    def element_type(self) -> Attribute | None:
        return None if self.memref_type is None else self.memref_type.element_type

    @classmethod
    def parse(cls, parser: Parser) -> _MemoryBase:
        attrs = parse_optional_sym(parser)
        named = "sym_name" in attrs
        if peek_punctuation(parser, "["):
            # Loom's custom parser refuses is_private on extmemory; we accept it so
            # that the verifier can report CPL_MEMORY_EXTMEM_PRIVATE (and so that a
            # printed op always parses back).
            parsed = parse_keyword_list(
                parser,
                "[",
                "]",
                {k: p for k, (_, p) in _MEM_KEYS.items()},  # type: ignore[misc]
                what="memory hardware parameters",
            )
            for key, value in parsed.items():
                attrs[_MEM_KEYS[key][0]] = value
        pos = parser.pos
        operands = []
        if not named:
            parser.parse_punctuation("(")
            operands = parse_operand_list_until(parser)
            parser.parse_punctuation(")")
        parser.parse_punctuation(":")
        mpos = parser.pos
        memref = parse_type_fast(parser)
        if not isinstance(memref, MemRefType):
            parser.raise_error("expected memref type", mpos, parser.pos)
        attrs["memref_type"] = memref
        parser.parse_punctuation(",")
        fn = parse_function_type_fast(parser)
        if named:
            attrs["function_type"] = fn
            return cls.create(attributes=attrs)
        values = resolve_operands(parser, operands, list(fn.inputs.data), pos)
        return cls.create(operands=values, result_types=list(fn.outputs.data), attributes=attrs)

    def print(self, printer: Printer) -> None:
        print_optional_sym(printer, self.sym_name)
        entries: list = []
        for key, (store, _) in _MEM_KEYS.items():
            if store in self.attributes:
                value = self.attributes[store]
                emit = (
                    attr_printer(printer, value)
                    if key == "addr_offset_table"
                    else int_printer(printer, value)
                )
                entries.append((key, emit))
        print_keyword_list(printer, "[", "]", entries)
        if self.is_inline:
            printer.print_string(" (")
            printer.print_list(self.inputs, printer.print_operand)
            printer.print_string(")")
        printer.print_string(" : ")
        if self.memref_type is not None:
            printer.print_attribute(self.memref_type)
        printer.print_string(", (")
        printer.print_list(self.input_types, printer.print_attribute)
        printer.print_string(") -> (")
        printer.print_list(self.output_types, printer.print_attribute)
        printer.print_string(")")

    def verify_(self) -> None:
        super().verify_()
        if self.memref_type is None:
            raise VerifyException(f"{self.name} requires a memref type")


@irdl_op_definition
class MemoryOp(_MemoryBase):
    """``fabric.memory``: on-chip scratchpad; ``is_private`` defaults to true."""

    name = "fabric.memory"
    HW_PARAMS: ClassVar[tuple[str, ...]] = tuple(s for s, _ in _MEM_KEYS.values())
    traits = traits_def(OptionalSymbolOpInterface())

    @property
    def is_private(self) -> bool:
        """Private memories are not exported as module memref results."""
        a = self.attributes.get("is_private")
        return bool(a.value.data) if isinstance(a, IntegerAttr) else True


@irdl_op_definition
class ExtMemoryOp(_MemoryBase):
    """``fabric.extmemory``: an interface to external memory (a memref operand)."""

    name = "fabric.extmemory"
    HW_PARAMS: ClassVar[tuple[str, ...]] = tuple(
        s for k, (s, _) in _MEM_KEYS.items() if k != "is_private"
    )
    traits = traits_def(OptionalSymbolOpInterface())
