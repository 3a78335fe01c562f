"""Common base of fabric ops that come in Loom's two forms.

Switches, temporal switches, FIFOs, memories and PEs are written either as a
*named* definition (``fabric.switch @sw [...] : (I...) -> (O...)``, no SSA values,
the port types in ``function_type``) or *inline* inside a ``fabric.module`` with
SSA operands and results (spec-fabric.md, spec-fabric-switch.md "Forms").  This
base gives both forms one set of accessors, and records which stored attributes
are hardware parameters (``[...]``) and which are runtime configuration
(``{...}``), so consumers such as the mapper can clear or rewrite configuration
without knowing each op's syntax.
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import FunctionType, StringAttr
from xdsl.ir import Attribute
from xdsl.irdl import IRDLOperation, opt_attr_def, var_operand_def, var_result_def
from xdsl.utils.exceptions import VerifyException


class FabricParamsOp(IRDLOperation):
    """An op whose stored attributes split into hardware parameters and runtime
    configuration.  Subclasses list their attribute storage names in ``HW_PARAMS``
    (hardware, printed in ``[...]``) and ``CONFIG_PARAMS`` (runtime configuration,
    printed in ``{...}``).  Defines no IRDL fields of its own."""

    HW_PARAMS: ClassVar[tuple[str, ...]] = ()
    CONFIG_PARAMS: ClassVar[tuple[str, ...]] = ()

    def hw_params(self) -> dict[str, Attribute]:
        """Present hardware-parameter attributes, by storage name."""
        return {k: self.attributes[k] for k in self.HW_PARAMS if k in self.attributes}

    def config_params(self) -> dict[str, Attribute]:
        """Present runtime-configuration attributes, by storage name."""
        return {k: self.attributes[k] for k in self.CONFIG_PARAMS if k in self.attributes}

    def clear_config(self) -> None:
        """Drop all runtime configuration (hardware reset values apply;
        spec-fabric.md "Runtime Configuration Overrides")."""
        for k in self.CONFIG_PARAMS:
            self.attributes.pop(k, None)


class FabricPortOp(FabricParamsOp):
    """An op with a named form (``@sym``, ``function_type``) and an inline form
    (SSA operands/results), with the parameter split of ``FabricParamsOp``."""

    inputs = var_operand_def()
    outputs = var_result_def()
    sym_name = opt_attr_def(StringAttr)
    function_type = opt_attr_def(FunctionType)

    @property
    def is_inline(self) -> bool:
        """True for the inline form (used directly in a module with SSA values)."""
        return self.sym_name is None

    @property
    def symbol(self) -> str | None:
        """The definition's symbol name (``@name`` → ``"name"``), or None if inline."""
        return None if self.sym_name is None else self.sym_name.data

    @property
    def input_types(self) -> tuple[Attribute, ...]:
        """Port input types: from ``function_type`` when named, from operands inline."""
        if self.function_type is not None and not self.inputs:
            return tuple(self.function_type.inputs.data)
        return tuple(v.type for v in self.inputs)

    @property
    def output_types(self) -> tuple[Attribute, ...]:
        if self.function_type is not None and not self.outputs:
            return tuple(self.function_type.outputs.data)
        return tuple(v.type for v in self.outputs)

    @property
    def num_inputs(self) -> int:
        return len(self.input_types)

    @property
    def num_outputs(self) -> int:
        return len(self.output_types)

    def verify_(self) -> None:
        # Structural only: the two forms must not be mixed.  Semantic rules
        # (CPL_* codes) belong to the fabric verifier.
        if self.sym_name is not None:
            if self.function_type is None:
                raise VerifyException(f"named {self.name} requires a function_type")
            if self.inputs or self.outputs:
                raise VerifyException(f"named {self.name} must not have SSA operands or results")
        elif self.function_type is not None:
            raise VerifyException(f"inline {self.name} must not carry a function_type")
