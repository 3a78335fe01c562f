"""Ops and attributes that stock xDSL 0.74 lacks for the MLIR Loom's front end emits.

Loom's full-application modules (``apps/*/*.handshake.mlir``) carry the host code
next to the accelerator ``handshake.func``: ``func.func @main``, ``memref``
globals, ``llvm`` externs and debug metadata.  Stock xDSL either has no class for
some of those ops or has one without MLIR's custom ("pretty") assembly form, so a
module that upstream MLIR prints cannot be read back.  This module fills exactly
those gaps; :func:`loomc.mlir_io.make_context` merges them into the stock dialects.

Each class below mirrors the upstream MLIR op of the same name and syntax, so all
of it could be offered to xDSL as-is:

* ``arith.index_castui`` — missing entirely (the unsigned twin of ``index_cast``).
* ``memref.global`` / ``memref.cast`` / ``memref.extract_aligned_pointer_as_index``
  — present, but only in generic form.
* ``llvm.module_flags`` and ``llvm.intr.bitreverse`` — missing.

``#llvm.di_*`` debug-info attributes and ``#llvm.mlir.module_flag`` are only ever
carried around (they sit in locations and in ``llvm.module_flags``), so they are
kept opaque: :data:`OPAQUE_ATTRIBUTE_PREFIXES` lists the names the context accepts
as uninterpreted text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    StringAttr,
    SymbolNameConstraint,
    TensorType,
    UnitAttr,
    UnrankedMemRefType,
)
from xdsl.ir import Attribute, Operation
from xdsl.irdl import (
    IRDLOperation,
    base,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import MemoryAllocEffect, NoMemoryEffect, Pure, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException


@irdl_op_definition
class IndexCastUIOp(IRDLOperation):
    """``arith.index_castui``: like ``arith.index_cast`` but zero-extending."""

    name = "arith.index_castui"

    input = operand_def(base(IntegerType) | base(IndexType))
    result = result_def(base(IntegerType) | base(IndexType))

    traits = traits_def(Pure())

    assembly_format = "$input attr-dict `:` type($input) `to` type($result)"


@irdl_op_definition
class GlobalOp(IRDLOperation):
    """``memref.global`` with MLIR's custom syntax.

    ``memref.global ("private")? ("constant")? @sym : memref<..>
    (= dense<..> | = uninitialized)? attr-dict`` — stock xDSL only reads the
    generic form of this op.  Same properties as ``xdsl.dialects.memref.GlobalOp``.
    """

    name = "memref.global"

    sym_name = prop_def(SymbolNameConstraint())
    sym_visibility = prop_def(StringAttr)
    type = prop_def(MemRefType)
    initial_value = prop_def(UnitAttr | DenseIntOrFPElementsAttr)
    constant = opt_prop_def(UnitAttr)
    alignment = opt_prop_def(IntegerAttr[I64])

    traits = traits_def(SymbolOpInterface(), MemoryAllocEffect())

    def verify_(self) -> None:
        if self.alignment is not None:
            value = self.alignment.value.data
            if value <= 0 or value & (value - 1):
                raise VerifyException(f"alignment {value} is not a power of 2")

    @classmethod
    def parse(cls, parser: Parser) -> GlobalOp:
        visibility = parser.parse_optional_visibility_keyword() or StringAttr("public")
        constant = UnitAttr() if parser.parse_optional_keyword("constant") else None
        sym_name = parser.parse_symbol_name()
        parser.parse_punctuation(":")
        type_ = parser.parse_type()
        initial: Attribute = UnitAttr()
        if parser.parse_optional_punctuation("=") is not None:
            if parser.parse_optional_keyword("uninitialized") is not None:
                pass
            elif isinstance(type_, MemRefType) and parser.parse_optional_keyword("dense"):
                # MLIR elides the literal's type when it is the memref's shape as a tensor.
                tensor = TensorType(type_.element_type, type_.get_shape())
                initial = parser.parse_dense_int_or_fp_elements_attr(tensor)
                if parser.parse_optional_punctuation(":") is not None:
                    pos = parser.pos
                    if parser.parse_type() != tensor:
                        parser.raise_error(f"dense initializer type must be {tensor}", pos)
            else:
                initial = parser.parse_attribute()
        attrs = parser.parse_optional_attr_dict()
        props: dict[str, Attribute] = {
            "sym_name": sym_name,
            "sym_visibility": visibility,
            "type": type_,
            "initial_value": initial,
        }
        if constant is not None:
            props["constant"] = constant
        if "alignment" in attrs:
            props["alignment"] = attrs.pop("alignment")
        return cls.create(properties=props, attributes=attrs)

    def print(self, printer: Printer) -> None:
        if self.sym_visibility.data != "public":
            printer.print_string(f" {self.sym_visibility.data}")
        if self.constant is not None:
            printer.print_string(" constant")
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_string(" : ")
        printer.print_attribute(self.type)
        if isinstance(self.initial_value, DenseIntOrFPElementsAttr):
            printer.print_string(" = ")
            printer.print_attribute(self.initial_value)
        else:
            printer.print_string(" = uninitialized")
        attrs = dict(self.attributes)
        if self.alignment is not None:
            attrs["alignment"] = self.alignment
        printer.print_op_attributes(attrs)


@irdl_op_definition
class CastOp(IRDLOperation):
    """``memref.cast %src : memref<..> to memref<..>`` (stock xDSL: generic form only)."""

    name = "memref.cast"

    source = operand_def(base(MemRefType) | base(UnrankedMemRefType))
    dest = result_def(base(MemRefType) | base(UnrankedMemRefType))

    traits = traits_def(NoMemoryEffect())

    assembly_format = "$source attr-dict `:` type($source) `to` type($dest)"


@irdl_op_definition
class ExtractAlignedPointerAsIndexOp(IRDLOperation):
    """``memref.extract_aligned_pointer_as_index %m : memref<..> -> index``."""

    name = "memref.extract_aligned_pointer_as_index"

    source = operand_def(MemRefType)
    aligned_pointer = result_def(IndexType)

    traits = traits_def(NoMemoryEffect())

    assembly_format = "$source attr-dict `:` type($source) `->` type($aligned_pointer)"


@irdl_op_definition
class ModuleFlagsOp(IRDLOperation):
    """``llvm.module_flags [#llvm.mlir.module_flag<..>, ..]`` — LLVM module flags."""

    name = "llvm.module_flags"

    flags = prop_def(ArrayAttr)

    assembly_format = "$flags attr-dict"


@irdl_op_definition
class BitReverseOp(IRDLOperation):
    """``llvm.intr.bitreverse(%x) : (iN) -> iN`` — reverse the bits of an integer."""

    name = "llvm.intr.bitreverse"

    in_ = operand_def(IntegerType)
    res = result_def(IntegerType)

    traits = traits_def(Pure())

    assembly_format = "`(` $in_ `)` attr-dict `:` functional-type(operands, results)"


#: Ops to add to (or replace in) each stock dialect, by dialect name.
EXTRA_OPS: Mapping[str, Sequence[type[Operation]]] = {
    "arith": (IndexCastUIOp,),
    "memref": (GlobalOp, CastOp, ExtractAlignedPointerAsIndexOp),
    "llvm": (ModuleFlagsOp, BitReverseOp),
}

#: Attribute names (``dialect.mnemonic`` prefixes) kept as opaque text: debug
#: metadata and module flags are carried, never interpreted, by loomc.
OPAQUE_ATTRIBUTE_PREFIXES: tuple[str, ...] = ("llvm.di_", "llvm.mlir.module_flag")
