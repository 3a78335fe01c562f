"""CIRCT's ``handshake`` dialect as Loom writes it: the DFG side of mapping.

Loom's front end lowers each accelerated function to one ``handshake.func``
(annotated ``loom.annotations = ["loom.accel"]``) whose body is a graph region of
handshake, dataflow, arith and math operations.  The mapper treats every op as a
DFG node and every SSA use as an edge, so besides parsing and printing the exact
custom syntax, each op here names its ports (``operand_name``/``result_name``,
after CIRCT's ``NamedIOInterface``) and the memory ops expose their port layout.

Syntax (CIRCT ``HandshakeOps.td``/``HandshakeOps.cpp``; spec-dataflow.md
"Handshake Memory Control Constraints" for how Loom uses the memory ops)::

    handshake.func @f(%a: i32, %ctrl: none, ...) -> (i32, none) attributes {...} {...}
    handshake.return %x, %y : i32, none
    %c = handshake.constant %ctrl {value = 42 : i32} : i32
    %j = handshake.join %a, %b : i32, none
    %t, %f = handshake.cond_br %cond, %data : i32
    %r = handshake.mux %sel [%a, %b] : index, i32
    handshake.sink %x : i32
    %data, %addr = handshake.load [%addr_in] %mem_data, %ctrl : index, i32
    %st_data, %st_addr = handshake.store [%addr_in] %data, %ctrl : index, i32
    %o:2 = handshake.memory[ld = 1, st = 0] (%ld_addr) {id = 0 : i32, lsq = false}
               : memref<256xi32>, (index) -> (i32, none)
    %o:2 = handshake.extmemory[ld = 1, st = 0] (%mem : memref<?xi32>) (%ld_addr)
               {id = 0 : i32} : (index) -> (i32, none)
    %d = handshake.esi_instance @f "inst" clk %clk rst %rst(%a, %b) : (T, T) -> T

plus the remaining CIRCT ops with simple syntax (fork, lazy_fork, merge,
control_merge, br, buffer, sync, instance).  Attribute dictionaries are printed
sorted with inherent attributes (xDSL properties) merged in, as MLIR does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from loomc.dialects.dataflow import (
    parse_attr_dict_split,
    parse_operand_list,
    parse_type_list,
    print_attr_dict,
    print_operands,
    print_types,
    property_names,
    resolve_operands,
)
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FunctionType,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    NoneType,
    StringAttr,
    SymbolNameConstraint,
    SymbolRefAttr,
    UnitAttr,
)
from xdsl.dialects.seq import ClockType
from xdsl.dialects.utils import parse_func_op_like, print_func_op_like
from xdsl.ir import Attribute, Block, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsolatedFromAbove, IsTerminator, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException

# --------------------------------------------------------------------------------------
# Common pieces
# --------------------------------------------------------------------------------------


class HandshakePorts:
    """Port names in CIRCT's ``NamedIOInterface`` style (``in0``…, ``out0``…).

    Ops override these where CIRCT gives ports meaningful names (``select``,
    ``ctrl``, ``ldAddr0``…); graph builders and reports use them as port labels.
    """

    def operand_name(self, index: int) -> str:
        return f"in{index}"

    def result_name(self, index: int) -> str:
        return f"out{index}"


def _parse_sost(
    parser: Parser, op_cls: type[IRDLOperation]
) -> tuple[list[SSAValue], Attribute, dict[str, Attribute], dict[str, Attribute]]:
    """CIRCT's "sized op with single type" grammar: ``%a, %b attr-dict : T``.

    Every operand is resolved with type ``T``.
    """
    pos = parser.pos
    operands = parse_operand_list(parser)
    props, attrs = parse_attr_dict_split(parser, property_names(op_cls))
    parser.parse_punctuation(":")
    type_ = parser.parse_type()
    values = resolve_operands(parser, operands, [type_] * len(operands), pos)
    return values, type_, props, attrs


def _print_sost(printer: Printer, op: Operation, type_: Attribute) -> None:
    printer.print_string(" ")
    print_operands(printer, op.operands)
    print_attr_dict(printer, op)
    printer.print_string(" : ")
    printer.print_attribute(type_)


def _i32(value: int) -> IntegerAttr:
    return IntegerAttr(value, IntegerType(32))


def _int_value(attr: Attribute | None, default: int = 0) -> int:
    return attr.value.data if isinstance(attr, IntegerAttr) else default


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise VerifyException(message)


# --------------------------------------------------------------------------------------
# handshake.func / handshake.return
# --------------------------------------------------------------------------------------

_FUNC_RESERVED = ("sym_name", "function_type", "sym_visibility", "arg_attrs", "res_attrs")


@irdl_op_definition
class FuncOp(IRDLOperation):
    """``handshake.func``: a dataflow function whose body is a graph region.

    ``argNames``/``resNames``/``loom.annotations`` stay ordinary attributes (they are
    discardable in CIRCT too); :attr:`arg_names`, :attr:`res_names` and
    :attr:`annotations` read them.  Whether ``...`` was written is kept in the
    ``variadic`` property so the text round-trips exactly.
    """

    name = "handshake.func"

    body = region_def()
    sym_name = prop_def(SymbolNameConstraint())
    function_type = prop_def(FunctionType)
    sym_visibility = opt_prop_def(StringAttr)
    arg_attrs = opt_prop_def(ArrayAttr[DictionaryAttr])
    res_attrs = opt_prop_def(ArrayAttr[DictionaryAttr])
    variadic = opt_prop_def(UnitAttr)

    traits = traits_def(IsolatedFromAbove(), SymbolOpInterface())

    def __init__(
        self,
        name: str,
        function_type: FunctionType | tuple[Sequence[Attribute], Sequence[Attribute]],
        region: Region | None = None,
        *,
        variadic: bool = True,
        arg_names: Sequence[str] | None = None,
        res_names: Sequence[str] | None = None,
        attributes: dict[str, Attribute] | None = None,
    ):
        if isinstance(function_type, tuple):
            function_type = FunctionType.from_lists(*function_type)
        if region is None:
            region = Region(Block(arg_types=function_type.inputs))
        attrs = dict(attributes or {})
        if arg_names is not None:
            attrs["argNames"] = ArrayAttr(StringAttr(n) for n in arg_names)
        if res_names is not None:
            attrs["resNames"] = ArrayAttr(StringAttr(n) for n in res_names)
        super().__init__(
            properties={
                "sym_name": StringAttr(name),
                "function_type": function_type,
                "variadic": UnitAttr() if variadic else None,
            },
            attributes=attrs,
            regions=[region],
        )

    # ---- accessors used by the graph model and mapper ----

    @property
    def is_variadic(self) -> bool:
        return self.variadic is not None

    @property
    def func_name(self) -> str:
        return self.sym_name.data

    @property
    def entry_block(self) -> Block | None:
        return self.body.blocks.first

    @property
    def args(self) -> tuple[SSAValue, ...]:
        block = self.entry_block
        return tuple(block.args) if block is not None else ()

    @property
    def arg_types(self) -> tuple[Attribute, ...]:
        return self.function_type.inputs.data

    @property
    def res_types(self) -> tuple[Attribute, ...]:
        return self.function_type.outputs.data

    def _names(self, key: str, count: int, fallback: Sequence[str]) -> tuple[str, ...]:
        attr = self.attributes.get(key)
        if isinstance(attr, ArrayAttr) and len(attr.data) == count:
            if all(isinstance(a, StringAttr) for a in attr.data):
                return tuple(a.data for a in attr.data)  # type: ignore[union-attr]
        return tuple(fallback)

    @property
    def arg_names(self) -> tuple[str, ...]:
        """``argNames``; else the SSA names written in the signature; else ``in<i>``."""
        args = self.args
        fallback = [
            (args[i].name_hint if i < len(args) and args[i].name_hint else f"in{i}")
            for i in range(len(self.arg_types))
        ]
        return self._names("argNames", len(self.arg_types), fallback)

    @property
    def res_names(self) -> tuple[str, ...]:
        """``resNames``; else CIRCT's fallback ``out<i>``."""
        count = len(self.res_types)
        return self._names("resNames", count, [f"out{i}" for i in range(count)])

    @property
    def annotations(self) -> tuple[str, ...]:
        """The ``loom.annotations`` strings (e.g. ``loom.accel``)."""
        attr = self.attributes.get("loom.annotations")
        if not isinstance(attr, ArrayAttr):
            return ()
        return tuple(a.data for a in attr.data if isinstance(a, StringAttr))

    @property
    def is_accel(self) -> bool:
        """True for the function Loom maps onto the fabric."""
        return "loom.accel" in self.annotations

    @property
    def body_ops(self) -> tuple[Operation, ...]:
        """The DFG nodes: every op of the body except the ``handshake.return``."""
        block = self.entry_block
        if block is None:
            return ()
        return tuple(op for op in block.ops if not isinstance(op, ReturnOp))

    @property
    def return_op(self) -> ReturnOp | None:
        block = self.entry_block
        last = block.last_op if block is not None else None
        return last if isinstance(last, ReturnOp) else None

    # ---- syntax ----

    @classmethod
    def parse(cls, parser: Parser) -> FuncOp:
        (
            name,
            input_types,
            return_types,
            region,
            extra_attrs,
            arg_attrs,
            res_attrs,
            is_variadic,
        ) = parse_func_op_like(parser, reserved_attr_names=_FUNC_RESERVED, allow_variadic=True)
        op = cls(name, (input_types, return_types), region, variadic=is_variadic)
        if arg_attrs is not None:
            op.arg_attrs = arg_attrs
        if res_attrs is not None:
            op.res_attrs = res_attrs
        if extra_attrs is not None:
            op.attributes |= extra_attrs.data
        return op

    def print(self, printer: Printer) -> None:
        print_func_op_like(
            printer,
            self.sym_name,
            self.function_type,
            self.body,
            dict(sorted(self.attributes.items())),
            arg_attrs=self.arg_attrs,
            res_attrs=self.res_attrs,
            reserved_attr_names=_FUNC_RESERVED,
            is_variadic=self.is_variadic,
        )

    def verify_(self) -> None:
        block = self.entry_block
        if block is None:
            return
        _check(
            tuple(block.arg_types) == self.arg_types,
            "handshake.func: entry block argument types must match the signature",
        )


@irdl_op_definition
class ReturnOp(HandshakePorts, IRDLOperation):
    """``handshake.return %a, %b : T1, T2`` — the function's outputs."""

    name = "handshake.return"

    operands_ = var_operand_def()
    traits = traits_def(IsTerminator(), HasParent(FuncOp))

    def __init__(self, values: Sequence[SSAValue | Operation] = ()):
        super().__init__(operands=[list(values)])

    @classmethod
    def parse(cls, parser: Parser) -> ReturnOp:
        attrs = parser.parse_optional_attr_dict()
        pos = parser.pos
        operands = parse_operand_list(parser)
        types: list[Attribute] = []
        if operands:
            parser.parse_punctuation(":")
            types = parse_type_list(parser)
        values = resolve_operands(parser, operands, types, pos)
        return cls.create(operands=values, attributes=attrs)

    def print(self, printer: Printer) -> None:
        print_attr_dict(printer, self)
        if self.operands:
            printer.print_string(" ")
            print_operands(printer, self.operands)
            printer.print_string(" : ")
            print_types(printer, [v.type for v in self.operands])

    def verify_(self) -> None:
        func = self.parent_op()
        if not isinstance(func, FuncOp):
            return
        types = tuple(v.type for v in self.operands)
        _check(
            types == func.res_types,
            f"handshake.return: operand types {[str(t) for t in types]} do not match "
            f"the function result types {[str(t) for t in func.res_types]}",
        )


# --------------------------------------------------------------------------------------
# Control and data steering
# --------------------------------------------------------------------------------------


@irdl_op_definition
class ConstantOp(HandshakePorts, IRDLOperation):
    """``%c = handshake.constant %ctrl {value = 42 : i32} : i32``: emits ``value``
    once per control token."""

    name = "handshake.constant"

    ctrl = operand_def(NoneType)
    value = prop_def()
    result = result_def()

    def __init__(self, ctrl: SSAValue | Operation, value: Attribute, result_type: Attribute):
        super().__init__(operands=[ctrl], result_types=[result_type], properties={"value": value})

    def operand_name(self, index: int) -> str:
        return "ctrl"

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        pos = parser.pos
        ctrl = parser.parse_unresolved_operand()
        attr_pos = parser.pos
        props, attrs = parse_attr_dict_split(parser, property_names(cls))
        if "value" not in props:
            parser.raise_error("handshake.constant requires a 'value' attribute", attr_pos)
        parser.parse_punctuation(":")
        result_type = parser.parse_type()
        values = resolve_operands(parser, [ctrl], [NoneType()], pos)
        return cls.create(
            operands=values, result_types=[result_type], properties=props, attributes=attrs
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.ctrl)
        print_attr_dict(printer, self)
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)


@irdl_op_definition
class JoinOp(HandshakePorts, IRDLOperation):
    """``%j = handshake.join %a, %b : T1, T2``: a control token once all inputs arrived."""

    name = "handshake.join"

    data = var_operand_def()
    result = result_def(NoneType)

    def __init__(self, values: Sequence[SSAValue | Operation]):
        super().__init__(operands=[list(values)], result_types=[NoneType()])

    @classmethod
    def parse(cls, parser: Parser) -> JoinOp:
        pos = parser.pos
        operands = parse_operand_list(parser)
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        types = parse_type_list(parser)
        if len(types) == 1 and len(operands) > 1:  # older CIRCT: one type for all operands
            types = types * len(operands)
        values = resolve_operands(parser, operands, types, pos)
        return cls.create(operands=values, result_types=[NoneType()], attributes=attrs)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        print_operands(printer, self.operands)
        print_attr_dict(printer, self)
        printer.print_string(" : ")
        print_types(printer, [v.type for v in self.operands])


@irdl_op_definition
class ConditionalBranchOp(HandshakePorts, IRDLOperation):
    """``%t, %f = handshake.cond_br %cond, %data : T``: routes ``data`` to the true
    or the false output."""

    name = "handshake.cond_br"

    condition = operand_def()
    data_operand = operand_def()
    true_result = result_def()
    false_result = result_def()

    def __init__(self, condition: SSAValue | Operation, data: SSAValue | Operation):
        type_ = SSAValue.get(data).type
        super().__init__(operands=[condition, data], result_types=[type_, type_])

    def operand_name(self, index: int) -> str:
        return ("cond", "data")[index]

    def result_name(self, index: int) -> str:
        return ("outTrue", "outFalse")[index]

    @classmethod
    def parse(cls, parser: Parser) -> ConditionalBranchOp:
        pos = parser.pos
        operands = parse_operand_list(parser)
        if len(operands) != 2:
            parser.raise_error(
                f"handshake.cond_br expects exactly 2 operands, got {len(operands)}", pos
            )
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        type_ = parser.parse_type()
        values = resolve_operands(parser, operands, [IntegerType(1), type_], pos)
        return cls.create(operands=values, result_types=[type_, type_], attributes=attrs)

    def print(self, printer: Printer) -> None:
        _print_sost(printer, self, self.data_operand.type)

    def verify_(self) -> None:
        _check(self.condition.type == IntegerType(1), "handshake.cond_br: condition must be i1")
        _check(
            self.true_result.type == self.false_result.type == self.data_operand.type,
            "handshake.cond_br: results must have the data operand's type",
        )


@irdl_op_definition
class MuxOp(HandshakePorts, IRDLOperation):
    """``%r = handshake.mux %sel [%a, %b] : index, T``: forwards the input chosen by
    ``sel``."""

    name = "handshake.mux"

    select = operand_def()
    data = var_operand_def()
    result = result_def()

    def __init__(self, select: SSAValue | Operation, data: Sequence[SSAValue | Operation]):
        type_ = SSAValue.get(data[0]).type
        super().__init__(operands=[select, list(data)], result_types=[type_])

    def operand_name(self, index: int) -> str:
        return "select" if index == 0 else f"in{index - 1}"

    @classmethod
    def parse(cls, parser: Parser) -> MuxOp:
        pos = parser.pos
        select = parser.parse_unresolved_operand()
        parser.parse_punctuation("[")
        data = parse_operand_list(parser)
        parser.parse_punctuation("]")
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        select_type = parser.parse_type()
        parser.parse_punctuation(",")
        data_type = parser.parse_type()
        values = resolve_operands(
            parser, [select, *data], [select_type] + [data_type] * len(data), pos
        )
        return cls.create(operands=values, result_types=[data_type], attributes=attrs)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.select)
        printer.print_string(" [")
        print_operands(printer, self.data)
        printer.print_string("]")
        print_attr_dict(printer, self)
        printer.print_string(" : ")
        printer.print_attribute(self.select.type)
        printer.print_string(", ")
        printer.print_attribute(self.result.type)

    def verify_(self) -> None:
        _check(len(self.data) >= 2, "handshake.mux: needs at least two data inputs")
        _check(
            all(v.type == self.result.type for v in self.data),
            "handshake.mux: data inputs and result must share one type",
        )
        sel = self.select.type
        bits = 64 if isinstance(sel, IndexType) else getattr(getattr(sel, "width", None), "data", 0)
        _check(bits > 0, f"handshake.mux: unsupported select type {sel}")
        _check(
            bits >= 63 or len(self.data) <= (1 << bits),
            f"handshake.mux: a {bits}-bit select cannot choose among {len(self.data)} inputs",
        )


@irdl_op_definition
class SinkOp(HandshakePorts, IRDLOperation):
    """``handshake.sink %x : T``: discards its input."""

    name = "handshake.sink"

    operand = operand_def()

    def __init__(self, operand: SSAValue | Operation):
        super().__init__(operands=[operand])

    @classmethod
    def parse(cls, parser: Parser) -> SinkOp:
        pos = parser.pos
        values, _, props, attrs = _parse_sost(parser, cls)
        if len(values) != 1:
            parser.raise_error(f"handshake.sink expects 1 operand, got {len(values)}", pos)
        return cls.create(operands=values, properties=props, attributes=attrs)

    def print(self, printer: Printer) -> None:
        _print_sost(printer, self, self.operand.type)


# --------------------------------------------------------------------------------------
# Memory access ports: load / store
# --------------------------------------------------------------------------------------


def _parse_memory_access(
    parser: Parser,
) -> tuple[list[SSAValue], list[Attribute], dict[str, Attribute]]:
    """``[%addr...] %data, %ctrl : addrT..., dataT`` (CIRCT ``parseMemoryAccessOp``).

    Operands: addresses, data, ctrl (``none``).  Results: data, then one address per
    input address.  An optional attribute dictionary after ``%ctrl`` is accepted.
    """
    pos = parser.pos
    parser.parse_punctuation("[")
    addresses = parse_operand_list(parser)
    parser.parse_punctuation("]")
    rest_pos = parser.pos
    rest = parse_operand_list(parser)
    if len(rest) != 2:
        parser.raise_error(
            f"expected '%data, %ctrl' after the addresses, got {len(rest)} operands", rest_pos
        )
    attrs = parser.parse_optional_attr_dict()
    parser.parse_punctuation(":")
    type_pos = parser.pos
    types = parse_type_list(parser)
    if len(types) != len(addresses) + 1:
        parser.raise_error(
            f"expected {len(addresses) + 1} types (addresses then data), got {len(types)}",
            type_pos,
        )
    data_type = types[-1]
    operand_types = [*types, NoneType()]
    values = resolve_operands(parser, [*addresses, *rest], operand_types, pos)
    return values, [data_type, *types[:-1]], attrs


class _MemoryAccess(HandshakePorts):
    """Shared operands, results and syntax of load and store (addresses, data, ctrl).

    IRDL collects field definitions from base classes, so the concrete ops only add
    their name and the port names that tell load and store apart."""

    addresses = var_operand_def()
    data = operand_def()
    ctrl = operand_def(NoneType)
    data_result = result_def()
    address_results = var_result_def()

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        values, result_types, attrs = _parse_memory_access(parser)
        return cls.create(operands=values, result_types=result_types, attributes=attrs)

    def print(self, printer: Printer) -> None:
        assert isinstance(self, Operation)
        printer.print_string(" [")
        print_operands(printer, self.addresses)
        printer.print_string("] ")
        printer.print_operand(self.data)
        printer.print_string(", ")
        printer.print_operand(self.ctrl)
        print_attr_dict(printer, self)
        printer.print_string(" : ")
        print_types(printer, [*(a.type for a in self.addresses), self.data.type])


@irdl_op_definition
class LoadOp(_MemoryAccess, IRDLOperation):
    """``%d, %a = handshake.load [%addr] %mem_data, %ctrl : index, T``.

    Sends ``addr`` to its memory (result ``address_results``) and forwards the data
    the memory returns (operand ``data``) to its consumers (result ``data_result``).
    """

    name = "handshake.load"

    def operand_name(self, index: int) -> str:
        n = len(self.addresses)
        return f"addrIn{index}" if index < n else ("dataFromMem" if index == n else "ctrl")

    def result_name(self, index: int) -> str:
        return "dataOut" if index == 0 else f"addrOut{index - 1}"


@irdl_op_definition
class StoreOp(_MemoryAccess, IRDLOperation):
    """``%d, %a = handshake.store [%addr] %data, %ctrl : index, T``: forwards the data
    (``data_result``) and address (``address_results``) to its memory."""

    name = "handshake.store"

    def operand_name(self, index: int) -> str:
        n = len(self.addresses)
        return f"addrIn{index}" if index < n else ("dataIn" if index == n else "ctrl")

    def result_name(self, index: int) -> str:
        return "dataToMem" if index == 0 else f"addrOut{index - 1}"


# --------------------------------------------------------------------------------------
# Memories: memory / extmemory
# --------------------------------------------------------------------------------------

_MEM_ELIDED = ("ldCount", "stCount", "memRefType")


def _parse_ld_st(parser: Parser) -> tuple[int, int]:
    """``[ld = N, st = M]``."""
    parser.parse_punctuation("[")
    parser.parse_keyword("ld")
    parser.parse_punctuation("=")
    ld = parser.parse_integer(allow_boolean=False, allow_negative=False)
    parser.parse_punctuation(",")
    parser.parse_keyword("st")
    parser.parse_punctuation("=")
    st = parser.parse_integer(allow_boolean=False, allow_negative=False)
    parser.parse_punctuation("]")
    return ld, st


def _parse_paren_operands(parser: Parser) -> tuple[list, int]:
    pos = parser.pos
    parser.parse_punctuation("(")
    operands = parse_operand_list(parser)
    parser.parse_punctuation(")")
    return operands, pos


class _MemoryPorts(HandshakePorts):
    """Port layout shared by ``memory`` and ``extmemory`` (CIRCT ``MemoryOp`` docs):

    inputs  = store ports (data, address) × stCount, then load addresses × ldCount;
    outputs = load data × ldCount, then store done × stCount, then load done × ldCount.

    The accessors follow that layout and clip at the real operand/result counts,
    because hand-written files may deviate (the corpus has an ``extmemory[ld = 1,
    st = 1]`` with only two results, which CIRCT accepts: it does not verify
    ``extmemory``).  :attr:`follows_circt_layout` tells whether the counts agree.
    """

    # The concrete ops define ld_count_attr, st_count_attr and id_attr.

    @property
    def port_inputs(self) -> Sequence[SSAValue]:
        raise NotImplementedError

    @property
    def port_outputs(self) -> Sequence[SSAValue]:
        assert isinstance(self, Operation)
        return self.results

    @property
    def ld_count(self) -> int:
        return self.ld_count_attr.value.data

    @property
    def st_count(self) -> int:
        return self.st_count_attr.value.data

    @property
    def mem_id(self) -> int:
        return _int_value(self.id_attr)

    @property
    def follows_circt_layout(self) -> bool:
        return (
            len(self.port_inputs) == 2 * self.st_count + self.ld_count
            and len(self.port_outputs) == 2 * self.ld_count + self.st_count
        )

    @property
    def store_data_operands(self) -> tuple[SSAValue, ...]:
        return tuple(self.port_inputs[0 : 2 * self.st_count : 2])

    @property
    def store_address_operands(self) -> tuple[SSAValue, ...]:
        return tuple(self.port_inputs[1 : 2 * self.st_count : 2])

    @property
    def load_address_operands(self) -> tuple[SSAValue, ...]:
        start = 2 * self.st_count
        return tuple(self.port_inputs[start : start + self.ld_count])

    @property
    def load_data_results(self) -> tuple[SSAValue, ...]:
        return tuple(self.port_outputs[: self.ld_count])

    @property
    def store_done_results(self) -> tuple[SSAValue, ...]:
        return tuple(self.port_outputs[self.ld_count : self.ld_count + self.st_count])

    @property
    def load_done_results(self) -> tuple[SSAValue, ...]:
        start = self.ld_count + self.st_count
        return tuple(self.port_outputs[start : start + self.ld_count])

    def _port_operand_name(self, index: int) -> str:
        if index < 2 * self.st_count:
            return f"{'stData' if index % 2 == 0 else 'stAddr'}{index // 2}"
        return f"ldAddr{index - 2 * self.st_count}"

    def result_name(self, index: int) -> str:
        ld, st = self.ld_count, self.st_count
        if index < ld:
            return f"ldData{index}"
        if index < ld + st:
            return f"stDone{index - ld}"
        return f"ldDone{index - ld - st}"


@irdl_op_definition
class MemoryOp(_MemoryPorts, IRDLOperation):
    """``handshake.memory[ld = N, st = M] (%ins) {id, lsq} : memref<…>, (…) -> (…)``:
    an on-chip memory owned by the function."""

    name = "handshake.memory"

    inputs = var_operand_def()
    outputs = var_result_def()
    ld_count_attr = prop_def(IntegerAttr, prop_name="ldCount")
    st_count_attr = prop_def(IntegerAttr, prop_name="stCount")
    id_attr = opt_prop_def(IntegerAttr, prop_name="id")
    mem_ref_type = prop_def(MemRefType, prop_name="memRefType")
    lsq_attr = opt_prop_def(IntegerAttr, prop_name="lsq")

    @property
    def port_inputs(self) -> Sequence[SSAValue]:
        return self.inputs

    @property
    def lsq(self) -> bool:
        return bool(_int_value(self.lsq_attr))

    def operand_name(self, index: int) -> str:
        return self._port_operand_name(index)

    @classmethod
    def parse(cls, parser: Parser) -> MemoryOp:
        ld, st = _parse_ld_st(parser)
        operands, pos = _parse_paren_operands(parser)
        props, attrs = parse_attr_dict_split(parser, property_names(cls))
        parser.parse_punctuation(":")
        type_pos = parser.pos
        mem_type = parser.parse_type()
        if not isinstance(mem_type, MemRefType):
            parser.raise_error("handshake.memory expects a memref type", type_pos, parser.pos)
        parser.parse_punctuation(",")
        fn_type = parser.parse_function_type()
        values = resolve_operands(parser, operands, fn_type.inputs.data, pos)
        props |= {"ldCount": _i32(ld), "stCount": _i32(st), "memRefType": mem_type}
        return cls.create(
            operands=values,
            result_types=list(fn_type.outputs.data),
            properties=props,
            attributes=attrs,
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(f"[ld = {self.ld_count}, st = {self.st_count}] (")
        print_operands(printer, self.inputs)
        printer.print_string(")")
        print_attr_dict(printer, self, _MEM_ELIDED)
        printer.print_string(" : ")
        printer.print_attribute(self.mem_ref_type)
        printer.print_string(", ")
        printer.print_attribute(
            FunctionType.from_lists([v.type for v in self.inputs], self.result_types)
        )

    def verify_(self) -> None:
        # CIRCT verifies handshake.memory's port counts; extmemory is not verified.
        _check(
            self.follows_circt_layout,
            f"handshake.memory[ld = {self.ld_count}, st = {self.st_count}] expects "
            f"{2 * self.st_count + self.ld_count} inputs and "
            f"{2 * self.ld_count + self.st_count} results, got "
            f"{len(self.inputs)} and {len(self.outputs)}",
        )


@irdl_op_definition
class ExtMemoryOp(_MemoryPorts, IRDLOperation):
    """``handshake.extmemory[ld = N, st = M] (%m : memref<…>) (%ins) {id} : (…) -> (…)``:
    the port interface of a memref argument (external memory)."""

    name = "handshake.extmemory"

    memref = operand_def()
    inputs = var_operand_def()
    outputs = var_result_def()
    ld_count_attr = prop_def(IntegerAttr, prop_name="ldCount")
    st_count_attr = prop_def(IntegerAttr, prop_name="stCount")
    id_attr = opt_prop_def(IntegerAttr, prop_name="id")

    @property
    def port_inputs(self) -> Sequence[SSAValue]:
        return self.inputs

    def operand_name(self, index: int) -> str:
        return "extmem" if index == 0 else self._port_operand_name(index - 1)

    @classmethod
    def parse(cls, parser: Parser) -> ExtMemoryOp:
        ld, st = _parse_ld_st(parser)
        mem_pos = parser.pos
        parser.parse_punctuation("(")
        memref = parser.parse_unresolved_operand()
        parser.parse_punctuation(":")
        mem_type = parser.parse_type()
        parser.parse_punctuation(")")
        operands, pos = _parse_paren_operands(parser)
        props, attrs = parse_attr_dict_split(parser, property_names(cls))
        parser.parse_punctuation(":")
        fn_type = parser.parse_function_type()
        mem_value = resolve_operands(parser, [memref], [mem_type], mem_pos)
        values = resolve_operands(parser, operands, fn_type.inputs.data, pos)
        props |= {"ldCount": _i32(ld), "stCount": _i32(st)}
        return cls.create(
            operands=[*mem_value, *values],
            result_types=list(fn_type.outputs.data),
            properties=props,
            attributes=attrs,
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(f"[ld = {self.ld_count}, st = {self.st_count}] (")
        printer.print_operand(self.memref)
        printer.print_string(" : ")
        printer.print_attribute(self.memref.type)
        printer.print_string(") (")
        print_operands(printer, self.inputs)
        printer.print_string(")")
        print_attr_dict(printer, self, _MEM_ELIDED)
        printer.print_string(" : ")
        printer.print_attribute(
            FunctionType.from_lists([v.type for v in self.inputs], self.result_types)
        )


# --------------------------------------------------------------------------------------
# Instances
# --------------------------------------------------------------------------------------


@irdl_op_definition
class ESIInstanceOp(HandshakePorts, IRDLOperation):
    """``handshake.esi_instance @f "name" clk %clk rst %rst(%args) : (…) -> …``:
    instantiates a handshake function behind ESI channels (in the app wrappers)."""

    name = "handshake.esi_instance"

    clk = operand_def()
    rst = operand_def()
    op_operands = var_operand_def()
    outs = var_result_def()
    module = prop_def(SymbolRefAttr)
    inst_name = prop_def(StringAttr, prop_name="instName")

    @classmethod
    def parse(cls, parser: Parser) -> ESIInstanceOp:
        module = parser.parse_attribute()
        if not isinstance(module, SymbolRefAttr):
            parser.raise_error("expected a symbol reference such as @name")
        inst_name = parser.parse_str_literal()
        pos = parser.pos
        parser.parse_keyword("clk")
        clk = parser.parse_unresolved_operand()
        parser.parse_keyword("rst")
        rst = parser.parse_unresolved_operand()
        operands, args_pos = _parse_paren_operands(parser)
        props, attrs = parse_attr_dict_split(parser, property_names(cls))
        parser.parse_punctuation(":")
        fn_type = parser.parse_function_type()
        fixed = resolve_operands(parser, [clk, rst], [ClockType(), IntegerType(1)], pos)
        values = resolve_operands(parser, operands, fn_type.inputs.data, args_pos)
        props |= {"module": module, "instName": StringAttr(inst_name)}
        return cls.create(
            operands=[*fixed, *values],
            result_types=list(fn_type.outputs.data),
            properties=props,
            attributes=attrs,
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.module)
        printer.print_string(" ")
        printer.print_string_literal(self.inst_name.data)
        printer.print_string(" clk ")
        printer.print_operand(self.clk)
        printer.print_string(" rst ")
        printer.print_operand(self.rst)
        printer.print_string("(")
        print_operands(printer, self.op_operands)
        printer.print_string(")")
        print_attr_dict(printer, self, ("module", "instName"))
        printer.print_string(" : ")
        printer.print_attribute(
            FunctionType.from_lists([v.type for v in self.op_operands], self.result_types)
        )


@irdl_op_definition
class InstanceOp(HandshakePorts, IRDLOperation):
    """``%r:2 = handshake.instance @f(%a, %ctrl) : (T, none) -> (T, none)``."""

    name = "handshake.instance"

    op_operands = var_operand_def()
    outs = var_result_def()
    module = prop_def(SymbolRefAttr)

    @classmethod
    def parse(cls, parser: Parser) -> InstanceOp:
        module = parser.parse_attribute()
        if not isinstance(module, SymbolRefAttr):
            parser.raise_error("expected a symbol reference such as @name")
        operands, pos = _parse_paren_operands(parser)
        props, attrs = parse_attr_dict_split(parser, property_names(cls))
        parser.parse_punctuation(":")
        fn_type = parser.parse_function_type()
        values = resolve_operands(parser, operands, fn_type.inputs.data, pos)
        props["module"] = module
        return cls.create(
            operands=values,
            result_types=list(fn_type.outputs.data),
            properties=props,
            attributes=attrs,
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.module)
        printer.print_string("(")
        print_operands(printer, self.op_operands)
        printer.print_string(")")
        print_attr_dict(printer, self, ("module",))
        printer.print_string(" : ")
        printer.print_attribute(
            FunctionType.from_lists([v.type for v in self.op_operands], self.result_types)
        )


# --------------------------------------------------------------------------------------
# Other CIRCT ops with the single-type grammar (not in the corpus, cheap to support)
# --------------------------------------------------------------------------------------


def _parse_size(parser: Parser) -> int:
    parser.parse_punctuation("[")
    size = parser.parse_integer(allow_boolean=False, allow_negative=False)
    parser.parse_punctuation("]")
    return size


class _ForkLike(HandshakePorts, IRDLOperation):
    """``%o:N = handshake.<fork> [N] %x : T``: copies one input to N outputs."""

    operand = operand_def()
    outs = var_result_def()

    @classmethod
    def parse(cls, parser: Parser) -> _ForkLike:
        size = _parse_size(parser)
        values, type_, props, attrs = _parse_sost(parser, cls)
        return cls.create(
            operands=values, result_types=[type_] * size, properties=props, attributes=attrs
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(f" [{len(self.results)}]")
        _print_sost(printer, self, self.operand.type)


@irdl_op_definition
class ForkOp(_ForkLike):
    """``%o:2 = handshake.fork [2] %x : T``: eager fork."""

    name = "handshake.fork"


@irdl_op_definition
class LazyForkOp(_ForkLike):
    """``handshake.lazy_fork [N] %x : T``: fires only when all outputs are ready."""

    name = "handshake.lazy_fork"


@irdl_op_definition
class MergeOp(HandshakePorts, IRDLOperation):
    """``%r = handshake.merge %a, %b : T``: non-deterministic merge."""

    name = "handshake.merge"

    data = var_operand_def()
    result = result_def()

    @classmethod
    def parse(cls, parser: Parser) -> MergeOp:
        values, type_, props, attrs = _parse_sost(parser, cls)
        return cls.create(operands=values, result_types=[type_], properties=props, attributes=attrs)

    def print(self, printer: Printer) -> None:
        _print_sost(printer, self, self.result.type)


@irdl_op_definition
class ControlMergeOp(HandshakePorts, IRDLOperation):
    """``%r, %idx = handshake.control_merge %a, %b : T, index``."""

    name = "handshake.control_merge"

    data = var_operand_def()
    result = result_def()
    index = result_def()

    def result_name(self, index: int) -> str:
        return ("dataOut", "index")[index]

    @classmethod
    def parse(cls, parser: Parser) -> ControlMergeOp:
        values, type_, props, attrs = _parse_sost(parser, cls)
        parser.parse_punctuation(",")
        index_type = parser.parse_type()
        return cls.create(
            operands=values,
            result_types=[type_, index_type],
            properties=props,
            attributes=attrs,
        )

    def print(self, printer: Printer) -> None:
        _print_sost(printer, self, self.result.type)
        printer.print_string(", ")
        printer.print_attribute(self.index.type)


@irdl_op_definition
class BranchOp(HandshakePorts, IRDLOperation):
    """``%r = handshake.br %x : T``: unconditional pass-through."""

    name = "handshake.br"

    operand = operand_def()
    result = result_def()

    @classmethod
    def parse(cls, parser: Parser) -> BranchOp:
        pos = parser.pos
        values, type_, props, attrs = _parse_sost(parser, cls)
        if len(values) != 1:
            parser.raise_error(f"handshake.br expects 1 operand, got {len(values)}", pos)
        return cls.create(operands=values, result_types=[type_], properties=props, attributes=attrs)

    def print(self, printer: Printer) -> None:
        _print_sost(printer, self, self.result.type)


@irdl_op_definition
class BufferOp(HandshakePorts, IRDLOperation):
    """``%r = handshake.buffer [2] seq %x : T`` (``seq`` or ``fifo``)."""

    name = "handshake.buffer"

    operand = operand_def()
    result = result_def()
    slots = prop_def(IntegerAttr)
    buffer_type = prop_def(StringAttr, prop_name="bufferType")

    @classmethod
    def parse(cls, parser: Parser) -> BufferOp:
        size = _parse_size(parser)
        kind = parser.parse_keyword_in(("seq", "fifo"))
        values, type_, props, attrs = _parse_sost(parser, cls)
        props |= {"slots": _i32(size), "bufferType": StringAttr(kind)}
        return cls.create(operands=values, result_types=[type_], properties=props, attributes=attrs)

    def print(self, printer: Printer) -> None:
        printer.print_string(f" [{self.slots.value.data}] {self.buffer_type.data}")
        printer.print_string(" ")
        printer.print_operand(self.operand)
        print_attr_dict(printer, self, ("slots", "bufferType"))
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)


@irdl_op_definition
class SyncOp(HandshakePorts, IRDLOperation):
    """``%a2, %b2 = handshake.sync %a, %b : T1, T2``: joins inputs, forwards each."""

    name = "handshake.sync"

    operands_ = var_operand_def()
    outs = var_result_def()

    @classmethod
    def parse(cls, parser: Parser) -> SyncOp:
        pos = parser.pos
        operands = parse_operand_list(parser)
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        types = parse_type_list(parser)
        values = resolve_operands(parser, operands, types, pos)
        return cls.create(operands=values, result_types=types, attributes=attrs)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        print_operands(printer, self.operands)
        print_attr_dict(printer, self)
        printer.print_string(" : ")
        print_types(printer, [v.type for v in self.operands])


HANDSHAKE_OPS: tuple[type[IRDLOperation], ...] = (
    FuncOp,
    ReturnOp,
    ConstantOp,
    JoinOp,
    ConditionalBranchOp,
    MuxOp,
    SinkOp,
    LoadOp,
    StoreOp,
    MemoryOp,
    ExtMemoryOp,
    ESIInstanceOp,
    InstanceOp,
    ForkOp,
    LazyForkOp,
    MergeOp,
    ControlMergeOp,
    BranchOp,
    BufferOp,
    SyncOp,
)

Handshake = Dialect("handshake", list(HANDSHAKE_OPS), [])
