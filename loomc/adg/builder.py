"""Build a Fabric MLIR accelerator (an ADG) in Python.

In the spirit of Loom's ADGBuilder (spec-adg.md, spec-adg-api.md) but Pythonic:
define PE types, create nodes, wire ports, and emit the text::

    fb = FabricBuilder("tiny")
    add = fb.pe("pe_addi", "arith.addi", ins=("i32", "i32"), outs=("i32",))
    a, b = fb.input("a", Bits(32)), fb.input("b", Bits(32))
    sw = fb.switch(Bits(32))
    fb.connect(a, sw)
    fb.connect(b, sw)
    u = fb.instance(add)
    fb.connect(sw, u.inp(0))
    fb.connect(sw, u.inp(1))
    fb.connect(u, fb.output("y", Bits(32)))
    text = fb.build().mlir

Every mistake is refused when it is made, as a :class:`LoomcError` carrying the
Fabric rule it breaks (spec-adg.md "Error Handling": messages carry the
``CPL_*`` symbol): a wire of the wrong type, a second driver, a switch past 32
ports, a zero-depth FIFO, an empty memory.  :meth:`FabricBuilder.build` then
checks completeness (undriven inputs, unconsumed outputs), emits the text,
parses it with loomc's dialects and runs the fabric verifier, so a fabric the
builder returns always verifies.  Port ordering of the module (memref*, bits*,
tagged*, spec-fabric.md "Port Ordering") is done by the builder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from loomc.adg.model import InPort, Node, OutPort, PEDef, TemporalPEDef, Timing
from loomc.adg.pe_body import (
    DATAFLOW,
    LOADSTORE,
    BodyError,
    BodyOp,
    body_rules,
    op_text,
)
from loomc.adg.types import (
    MAX_BITS,
    MAX_TAG,
    NONE,
    Bits,
    Memref,
    NoneType,
    PortType,
    Tagged,
    native_width,
    port_of,
)
from loomc.diagnostics import ExitCode, LoomcError
from loomc.dialects.dataflow_types import ADDR_BIT_WIDTH

#: spec-fabric-switch.md "Constraints": at most 32 inputs and 32 outputs
MAX_SWITCH_PORTS = 32
#: spec-fabric-tag.md "fabric.map_tag": table_size in 1..256
MAX_MAP_TAG_TABLE = 256
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$.]*$")

SwitchTable = Callable[[int, int], bool] | Sequence[Sequence[int]] | None


def fail(code: str, message: str) -> LoomcError:
    """A construction error: the Fabric rule ``code`` is broken."""
    return LoomcError(message, code=code, exit_code=ExitCode.RULE_VIOLATION)


#: spec-fabric-pe.md "latency"/"interval" state ``min <= typical <= max`` (and
#: ``min >= 0`` / ``>= 1``) without an error code; the builder names it so.
TIMING_CODE = "CPL_PE_TIMING"


def _timing(value: Sequence[int] | int | None, what: str, low: int) -> Timing | None:
    """spec-fabric-pe.md "latency"/"interval": ``min <= typical <= max``, min ≥ low."""
    if value is None:
        return None
    triple = (value, value, value) if isinstance(value, int) else tuple(value)
    if len(triple) != 3 or not (low <= triple[0] <= triple[1] <= triple[2]):
        raise fail(
            TIMING_CODE,
            f"{what} must be [min, typical, max] with {low} <= min <= typical <= max, "
            f"got {list(triple)}",
        )
    return Timing(*triple)


def _check_port_type(t: PortType) -> None:
    if isinstance(t, Bits) and not 1 <= t.width <= MAX_BITS:
        raise fail("CPL_BITS_TYPE", f"bits width must be 1-{MAX_BITS}, got {t.width}")
    if isinstance(t, Tagged):
        _check_port_type(t.value)
        if not 1 <= t.tag_width <= MAX_TAG:
            raise fail(
                "CPL_TAG_WIDTH_RANGE", f"tag width must be 1-{MAX_TAG}, got i{t.tag_width}"
            )


def clog2(n: int) -> int:
    return max(0, (n - 1).bit_length())


@dataclass(frozen=True)
class Fabric:
    """A finished fabric: its MLIR and DOT text and a census of what it holds."""

    name: str
    mlir: str
    dot: str
    counts: tuple[tuple[str, int], ...]

    def count(self, kind: str) -> int:
        return dict(self.counts).get(kind, 0)


class FabricBuilder:
    """Collects definitions and nodes of one ``fabric.module`` (see module docstring)."""

    def __init__(self, name: str):
        if not _NAME.match(name):
            raise fail("CPL_MODULE_EMPTY_BODY", f"'{name}' is not a valid module symbol name")
        self.name = name
        self.pe_defs: list[PEDef | TemporalPEDef] = []
        self.nodes: list[Node] = []
        self._names: set[str] = set()
        self._def_names: set[str] = set()
        self._counter: dict[str, int] = {}
        self.comments: list[str] = []

    # ------------------------------------------------------------------ names
    def _fresh(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_$.]", "_", base) or "n"
        if not re.match(r"[A-Za-z_]", base[0]):
            base = "n" + base
        # No "_<digits>" suffix: xDSL's printer treats those as its own.
        sep = "n" if base[-1].isdigit() else ""
        n = self._counter.get(base, 0)
        name = base if n == 0 and base not in self._names else f"{base}{sep}{n}"
        while name in self._names:
            n += 1
            name = f"{base}{sep}{n}"
        self._counter[base] = n + 1
        return name

    def _claim(self, name: str | None, base: str) -> str:
        if name is None:
            name = self._fresh(base)
        if not _NAME.match(name):
            raise fail("CPL_INSTANCE_UNRESOLVED", f"'{name}' is not a valid SSA/instance name")
        if name in self._names:
            raise fail("CPL_INSTANCE_UNRESOLVED", f"name '{name}' is already used in this module")
        self._names.add(name)
        return name

    def _claim_def(self, name: str) -> str:
        if not _NAME.match(name):
            raise fail("CPL_INSTANCE_UNRESOLVED", f"'{name}' is not a valid symbol name")
        if name in self._def_names or name == self.name:
            raise fail("CPL_INSTANCE_UNRESOLVED", f"symbol '@{name}' is defined twice")
        self._def_names.add(name)
        return name

    def _add(self, node: Node) -> Node:
        for t in (*node.in_types, *node.out_types):
            _check_port_type(t)
        self.nodes.append(node)
        return node

    # ------------------------------------------------------------ definitions
    def pe(
        self,
        name: str,
        op: str | None = None,
        ins: Sequence[str] = (),
        outs: Sequence[str] = (),
        *,
        attrs: dict[str, str] | None = None,
        body: str | None = None,
        inputs: Sequence[PortType] | None = None,
        outputs: Sequence[PortType] | None = None,
        latency: Sequence[int] | int | None = (1, 1, 1),
        interval: Sequence[int] | int | None = (1, 1, 1),
        tag_width: int | None = None,
        queue_depth: int | None = None,
    ) -> PEDef:
        """Define a ``fabric.pe`` named ``name``.

        With ``op`` the body is that one operation on native types ``ins`` →
        ``outs`` (ports are the ``bits``/``none`` types carrying them, tagged
        with ``tag_width`` if given).  With ``body`` the region text is taken as
        written (``^bb0(...)`` … ``fabric.yield``) and ``inputs``/``outputs``
        give the port types.  Load/store PEs have fixed timing
        (spec-fabric-pe.md "Load/Store PE Semantics"), so theirs is not emitted.
        """
        if name in self._def_names:
            raise fail("CPL_INSTANCE_UNRESOLVED", f"symbol '@{name}' is defined twice")
        if (op is None) == (body is None):
            raise fail("CPL_PE_EMPTY_BODY", f"PE @{name}: give exactly one of op= or body=")
        if op is not None:
            spec = BodyOp(op, tuple(ins), tuple(outs), dict(attrs or {}))
            try:
                body_rules([spec])
            except BodyError as err:
                raise fail(err.code, f"PE @{name}: {err}") from None
            args = [f"%a{i}" for i in range(len(spec.ins))]
            results = [f"%r{i}" for i in range(len(spec.outs))]
            header = ", ".join(f"{a}: {t}" for a, t in zip(args, spec.ins, strict=True))
            lines = [f"^bb0({header}):"]
            lines.append(op_text(spec, args, results))
            if results:
                lines.append(f"fabric.yield {', '.join(results)} : {', '.join(spec.outs)}")
            else:
                lines.append("fabric.yield")
            ops: tuple[BodyOp, ...] = (spec,)
            port_in = tuple(port_of(t) for t in spec.ins)
            port_out = tuple(port_of(t) for t in spec.outs)
        else:
            assert body is not None
            if inputs is None or outputs is None:
                raise fail(
                    "CPL_PE_EMPTY_BODY", f"PE @{name}: a body= PE needs inputs= and outputs="
                )
            lines = [ln.strip() for ln in body.strip().splitlines() if ln.strip()]
            if not any(not ln.startswith(("^", "fabric.yield", "//")) for ln in lines):
                raise fail("CPL_PE_EMPTY_BODY", f"PE @{name}: the body has no operation")
            found = re.findall(r"\b((?:arith|math|handshake|dataflow|llvm)\.[a-z_.]+)", body)
            ops = tuple(BodyOp(n, (), ()) for n in found)
            port_in, port_out = tuple(inputs), tuple(outputs)
        if inputs is not None and op is not None:
            port_in = tuple(inputs)
        if outputs is not None and op is not None:
            port_out = tuple(outputs)
        output_tag = None
        if tag_width is not None:
            port_in = tuple(
                p if isinstance(p, Tagged) else Tagged(p, tag_width) for p in port_in
            )  # type: ignore[arg-type]
            port_out = tuple(
                p if isinstance(p, Tagged) else Tagged(p, tag_width) for p in port_out
            )  # type: ignore[arg-type]
        for t in (*port_in, *port_out):
            _check_port_type(t)
        tagged = [isinstance(t, Tagged) for t in (*port_in, *port_out)]
        is_mem = any(o.name in LOADSTORE for o in ops)
        if any(tagged) and not all(tagged) and not is_mem:
            raise fail(
                "CPL_PE_MIXED_INTERFACE",
                f"PE @{name}: ports must be all native or all tagged",
            )
        if all(tagged) and tagged and not (is_mem and queue_depth is not None):
            widths = {t.tag_width for t in (*port_in, *port_out) if isinstance(t, Tagged)}
            if len(widths) > 1:
                raise fail(
                    "CPL_PE_LOADSTORE_TAG_WIDTH" if is_mem else "CPL_PE_MIXED_INTERFACE",
                    f"PE @{name}: tagged ports must share one tag width",
                )
            output_tag = (0,) if is_mem else tuple(0 for _ in port_out)
        if queue_depth is not None and (not is_mem or queue_depth < 1):
            raise fail(
                "CPL_PE_LOADSTORE_TAG_MODE",
                f"PE @{name}: a queue depth >= 1 is only for tag-transparent load/store PEs",
            )
        if op is not None:
            if len(port_in) != len(spec.ins) or len(port_out) != len(spec.outs):
                raise fail(
                    "CPL_INSTANCE_OPERAND_MISMATCH",
                    f"PE @{name}: port count differs from the body's operand/result count",
                )
            for native, p in zip((*spec.ins, *spec.outs), (*port_in, *port_out), strict=True):
                if p.payload != native_width(native):
                    raise fail(
                        "CPL_FABRIC_TYPE_MISMATCH",
                        f"PE @{name}: port {p.mlir()} cannot carry {native}",
                    )
        timing_free = is_mem  # spec-fabric-pe.md: load/store timing is fixed
        latency_t = None if timing_free else _timing(latency, "latency", 0)
        interval_t = None if timing_free else _timing(interval, "interval", 1)
        name = self._claim_def(name)
        pe = PEDef(
            name=name,
            inputs=port_in,
            outputs=port_out,
            body=tuple(lines),
            ops=ops,
            latency=latency_t,
            interval=interval_t,
            output_tag=output_tag,
            queue_depth=queue_depth,
        )
        self.pe_defs.append(pe)
        return pe

    def temporal_pe(
        self,
        name: str,
        interface: Tagged,
        fus: Sequence[PEDef],
        *,
        num_instruction: int = 4,
        num_register: int = 0,
        reg_fifo_depth: int = 0,
        operand_buffer_size: int | None = None,
    ) -> TemporalPEDef:
        """Define a ``fabric.temporal_pe`` whose FU types are the native PEs ``fus``
        (spec-fabric-temporal_pe.md "FU Types and Body Structure")."""
        name = self._claim_def(name)
        if not isinstance(interface, Tagged):
            raise fail(
                "CPL_TEMPORAL_PE_INTERFACE_NOT_TAGGED",
                f"temporal PE @{name}: the interface must be !dataflow.tagged",
            )
        _check_port_type(interface)
        if not fus:
            raise fail("CPL_TEMPORAL_PE_EMPTY_BODY", f"temporal PE @{name} has no FU")
        if num_instruction < 1:
            raise fail(
                "CPL_TEMPORAL_PE_NUM_INSTRUCTION",
                f"temporal PE @{name}: num_instruction must be > 0",
            )
        if (num_register == 0) != (reg_fifo_depth == 0) or num_register < 0:
            raise fail(
                "CPL_TEMPORAL_PE_REG_FIFO_DEPTH",
                f"temporal PE @{name}: reg_fifo_depth must be 0 without registers and >= 1 "
                "with them",
            )
        if operand_buffer_size is not None and not 1 <= operand_buffer_size <= 8192:
            raise fail(
                "CPL_TEMPORAL_PE_OPERAND_BUFFER_SIZE_RANGE",
                f"temporal PE @{name}: operand_buffer_size must be in [1, 8192]",
            )
        n_in, n_out = len(fus[0].inputs), len(fus[0].outputs)
        for fu in fus:
            if fu in self.pe_defs:
                self.pe_defs.remove(fu)
            if any(isinstance(t, Tagged) for t in (*fu.inputs, *fu.outputs)):
                raise fail("CPL_TEMPORAL_PE_TAGGED_PE", f"FU @{fu.name} has a tagged interface")
            if fu.is_memory_pe:
                raise fail("CPL_TEMPORAL_PE_LOADSTORE", f"FU @{fu.name} is a load/store PE")
            if any(o.name in DATAFLOW for o in fu.ops):
                raise fail("CPL_TEMPORAL_PE_DATAFLOW_INVALID", f"FU @{fu.name} is a dataflow PE")
            if (len(fu.inputs), len(fu.outputs)) != (n_in, n_out):
                raise fail(
                    "CPL_TEMPORAL_PE_FU_ARITY",
                    f"FU @{fu.name} has {len(fu.inputs)} in / {len(fu.outputs)} out; the "
                    f"temporal PE has {n_in} / {n_out}",
                )
            if any(t.payload > interface.payload for t in (*fu.inputs, *fu.outputs)):
                raise fail(
                    "CPL_TEMPORAL_PE_FU_WIDTH",
                    f"FU @{fu.name} is wider than the {interface.mlir()} interface",
                )
        tpe = TemporalPEDef(
            name=name,
            interface=interface,
            n_in=n_in,
            n_out=n_out,
            fus=tuple(fus),
            num_register=num_register,
            num_instruction=num_instruction,
            reg_fifo_depth=reg_fifo_depth,
            operand_buffer_size=operand_buffer_size,
        )
        self.pe_defs.append(tpe)
        return tpe

    # ------------------------------------------------------------------ nodes
    def input(self, name: str, type_: PortType) -> Node:
        """A module input port (block argument)."""
        return self._add(Node("input", self._claim(name, "in"), [], [type_]))

    def output(self, name: str, type_: PortType) -> Node:
        """A module output port (yield operand); connect something to it.  A
        memref output must be fed by a ``memory(..., private=False)``'s first
        result (spec-fabric-mem.md "Memory Export")."""
        return self._add(Node("output", self._claim(name, "out"), [type_], []))

    def instance(self, definition: PEDef | TemporalPEDef, name: str | None = None) -> Node:
        """A ``fabric.instance`` of a PE or temporal PE definition."""
        if definition not in self.pe_defs:
            raise fail(
                "CPL_INSTANCE_UNRESOLVED",
                f"@{definition.name} is not a top-level definition of this builder",
            )
        node = Node(
            "instance",
            self._claim(name, definition.kind),
            list(definition.inputs),
            list(definition.outputs),
            target=definition,
        )
        return self._add(node)

    def switch(
        self, type_: PortType, name: str | None = None, *, table: SwitchTable = None
    ) -> Node:
        """A ``fabric.switch`` whose ports (all ``type_``) appear as they are wired.

        ``table`` is the connectivity: ``None`` for a full crossbar, a callable
        ``(out, in) -> bool`` or a matrix ``table[out][in]``
        (spec-fabric-switch.md "connectivity_table")."""
        if isinstance(type_, Memref):
            raise fail("CPL_ROUTING_PAYLOAD_NOT_BITS", "a switch cannot route a memref")
        _check_port_type(type_)
        node = Node("switch", self._claim(name, "sw"), [], [], port_type=type_)
        node.params.update(table=table, in_tags=[], out_tags=[])
        return self._add(node)

    def temporal_switch(
        self,
        type_: Tagged,
        num_route_table: int,
        name: str | None = None,
        *,
        table: SwitchTable = None,
    ) -> Node:
        """A ``fabric.temporal_sw`` (spec-fabric-temporal_sw.md) on tagged ``type_``."""
        if not isinstance(type_, Tagged):
            raise fail(
                "CPL_TEMPORAL_SW_INTERFACE_NOT_TAGGED", "a temporal switch routes tagged values"
            )
        _check_port_type(type_)
        if num_route_table < 1:
            raise fail("CPL_TEMPORAL_SW_NUM_ROUTE_TABLE", "num_route_table must be > 0")
        node = Node("temporal_sw", self._claim(name, "tsw"), [], [], port_type=type_)
        node.params.update(table=table, num_route_table=num_route_table, in_tags=[], out_tags=[])
        return self._add(node)

    def fifo(
        self, type_: PortType, depth: int = 2, name: str | None = None, *, bypassable: bool = False
    ) -> Node:
        """A ``fabric.fifo`` (spec-fabric-fifo.md); bypassable FIFOs start not bypassed."""
        if depth < 1:
            raise fail("CPL_FIFO_DEPTH_ZERO", f"FIFO depth must be >= 1, got {depth}")
        if isinstance(type_, Memref):
            raise fail("CPL_FIFO_INVALID_TYPE", "a FIFO cannot buffer a memref")
        node = Node("fifo", self._claim(name, "fifo"), [type_], [type_])
        node.params.update(depth=depth, bypassable=bypassable)
        return self._add(node)

    def add_tag(self, value: Bits | NoneType, tag_width: int, name: str | None = None) -> Node:
        """``fabric.add_tag``: value → ``tagged<value, i<tag_width>>`` (tag 0)."""
        if not isinstance(value, Bits | NoneType):
            raise fail(
                "CPL_ADD_TAG_VALUE_TYPE_MISMATCH", "add_tag takes a bits or none value"
            )
        out = Tagged(value, tag_width)
        _check_port_type(out)
        return self._add(Node("add_tag", self._claim(name, "add_tag"), [value], [out]))

    def del_tag(self, tagged: Tagged, name: str | None = None) -> Node:
        """``fabric.del_tag``: ``tagged<value, iK>`` → value."""
        if not isinstance(tagged, Tagged):
            raise fail("CPL_DEL_TAG_VALUE_TYPE_MISMATCH", "del_tag takes a tagged value")
        return self._add(Node("del_tag", self._claim(name, "del_tag"), [tagged], [tagged.value]))

    def map_tag(
        self, tagged: Tagged, out_tag_width: int, table_size: int = 4, name: str | None = None
    ) -> Node:
        """``fabric.map_tag``: retag ``tagged`` to ``i<out_tag_width>`` through a
        ``table_size``-entry table (all entries invalid until configured)."""
        if not isinstance(tagged, Tagged):
            raise fail("CPL_MAP_TAG_VALUE_TYPE_MISMATCH", "map_tag takes a tagged value")
        if not 1 <= table_size <= MAX_MAP_TAG_TABLE:
            raise fail(
                "CPL_MAP_TAG_TABLE_SIZE", f"map_tag table_size must be 1-256, got {table_size}"
            )
        out = Tagged(tagged.value, out_tag_width)
        _check_port_type(out)
        node = Node("map_tag", self._claim(name, "map_tag"), [tagged], [out])
        node.params["table_size"] = table_size
        return self._add(node)

    def _memory_ports(
        self, elem: str, ld: int, st: int, lsq_depth: int | None, num_region: int | None
    ) -> tuple[list[PortType], list[PortType], int]:
        """Port lists of a memory (spec-fabric-mem.md "Port Groups", "Type Rules",
        "Tagging Rules") after its memref operand, and the checked LSQ depth."""
        if ld < 0 or st < 0 or ld + st == 0:
            raise fail("CPL_MEMORY_PORTS_EMPTY", "a memory needs ldCount or stCount > 0")
        if st == 0 and lsq_depth:
            raise fail("CPL_MEMORY_LSQ_WITHOUT_STORE", "lsqDepth needs stCount > 0")
        if st > 0:
            lsq_depth = 4 if lsq_depth is None else lsq_depth
            if lsq_depth < 1:
                raise fail("CPL_MEMORY_LSQ_MIN", "lsqDepth must be >= 1 with stores")
        if num_region is not None and num_region < 1:
            raise fail("CPL_MEMORY_INVALID_REGION", "numRegion must be >= 1")
        try:
            data: Bits | NoneType = port_of(elem)
        except ValueError:
            raise fail(
                "CPL_MEMORY_DATA_TYPE", f"memref element {elem} is not a native type"
            ) from None
        addr: Bits | Tagged = Bits(ADDR_BIT_WIDTH)
        done: NoneType | Tagged = NONE
        tag = clog2(max(ld, st)) if max(ld, st) > 1 else 0
        if tag:
            addr, data, done = Tagged(addr, tag), Tagged(data, tag), Tagged(NONE, tag)  # type: ignore[assignment]
        ins: list[PortType] = []
        outs: list[PortType] = []
        if ld:
            ins.append(addr)
        if st:
            ins += [addr, data]
        if ld:
            outs += [data, done]
        if st:
            outs.append(done)
        return ins, outs, lsq_depth or 0

    def memory(
        self,
        memref: Memref,
        ld: int = 1,
        st: int = 1,
        *,
        lsq_depth: int | None = None,
        private: bool = True,
        num_region: int | None = None,
        name: str | None = None,
    ) -> Node:
        """An on-chip ``fabric.memory``.  Inputs: ld_addr, st_addr, st_data (those
        present); outputs: [memref if exported], ld_data, ld_done, st_done."""
        if not memref.is_static:
            raise fail(
                "CPL_MEMORY_STATIC_REQUIRED", f"fabric.memory needs a static shape: {memref.text}"
            )
        ins, outs, lsq = self._memory_ports(memref.element, ld, st, lsq_depth, num_region)
        if not private:
            outs = [memref, *outs]
        node = Node("memory", self._claim(name, "mem"), ins, outs)
        node.params.update(
            memref=memref, ld=ld, st=st, lsq=lsq, private=private, num_region=num_region
        )
        return self._add(node)

    def extmemory(
        self,
        memref_input: Node,
        ld: int = 1,
        st: int = 0,
        *,
        lsq_depth: int | None = None,
        num_region: int | None = None,
        name: str | None = None,
    ) -> Node:
        """A ``fabric.extmemory`` bound to module memref input ``memref_input``
        (spec-fabric-mem.md: its first operand is a module memref input)."""
        if memref_input.kind != "input" or not isinstance(memref_input.out_types[0], Memref):
            raise fail(
                "CPL_MEMORY_EXTMEM_BINDING",
                "fabric.extmemory must be bound to a memref module input",
            )
        memref = memref_input.out_types[0]
        assert isinstance(memref, Memref)
        ins, outs, lsq = self._memory_ports(memref.element, ld, st, lsq_depth, num_region)
        node = Node("extmemory", self._claim(name, "extmem"), [memref, *ins], outs)
        node.params.update(memref=memref, ld=ld, st=st, lsq=lsq, num_region=num_region)
        self._add(node)
        self.connect(memref_input.out(0), node.inp(0))
        return node

    # ----------------------------------------------------------------- wiring
    def connect(
        self, src: OutPort | Node, dst: InPort | Node, *, src_tag: str = "", dst_tag: str = ""
    ) -> tuple[OutPort, InPort]:
        """Wire ``src`` to ``dst`` one-to-one (spec-fabric.md "Port Connection
        Invariants").  A node stands for its only port, or a new switch port;
        ``src_tag``/``dst_tag`` label new switch ports (lattices use them to
        leave U-turns out of the connectivity table)."""
        if isinstance(src, Node):
            src = src.out()
        if isinstance(dst, Node):
            dst = dst.inp()
        if src.node.variadic and src_tag:
            src.node.params["out_tags"][src.index] = src_tag
        if dst.node.variadic and dst_tag:
            dst.node.params["in_tags"][dst.index] = dst_tag
        for port in (src, dst):
            node = port.node
            if node.variadic and len(node.in_types if isinstance(port, InPort) else
                                     node.out_types) > MAX_SWITCH_PORTS:
                code = (
                    "CPL_SWITCH_PORT_LIMIT"
                    if node.kind == "switch"
                    else "CPL_TEMPORAL_SW_PORT_LIMIT"
                )
                raise fail(code, f"{node.name} would have more than {MAX_SWITCH_PORTS} ports")
        if src.node.consumers[src.index] is not None:
            code = "CPL_FANOUT_MODULE_BOUNDARY" if src.node.kind == "input" else (
                "CPL_FANOUT_MODULE_INNER"
            )
            raise fail(
                code,
                f"{src.node.name} output #{src.index} already feeds "
                f"{src.node.consumers[src.index].node.name}; use a switch broadcast",  # type: ignore[union-attr]
            )
        if dst.node.drivers[dst.index] is not None:
            raise fail(
                "CPL_MULTI_DRIVER",
                f"{dst.node.name} input #{dst.index} already has a driver",
            )
        if isinstance(dst.type, Memref) and dst.node.kind == "output" and not (
            src.node.kind == "memory" and not src.node.params["private"] and src.index == 0
        ):
            raise fail(
                "CPL_MEMORY_PRIVATE_OUTPUT",
                f"module memref output {dst.node.name} must come from a non-private "
                "fabric.memory",
            )
        if not compatible(src.type, dst.type):
            raise fail(
                "CPL_FABRIC_TYPE_MISMATCH",
                f"{src.node.name}#{src.index} ({src.type.mlir()}) cannot drive "
                f"{dst.node.name}#{dst.index} ({dst.type.mlir()})",
            )
        src.node.consumers[src.index] = dst
        dst.node.drivers[dst.index] = src
        return src, dst

    def chain(self, *stages: OutPort | InPort | Node) -> None:
        """Wire ``a → b → c`` where each middle stage is a one-in one-out node."""
        for left, right in zip(stages, stages[1:], strict=False):
            src = left if isinstance(left, OutPort) else (
                left.out() if isinstance(left, Node) else None
            )
            if src is None:
                raise fail("CPL_INPUT_UNCONNECTED", "chain stages must produce outputs")
            self.connect(src, right if not isinstance(right, OutPort) else right.node)

    # ------------------------------------------------------------------ build
    def build(self, *, verify: bool = True) -> Fabric:
        """Check completeness, emit MLIR and DOT, and (by default) re-parse and
        verify the text; any broken rule is raised with its code."""
        from loomc.adg.emit import emit_dot, emit_mlir

        self._check_complete()
        text = emit_mlir(self)
        if verify:
            verify_text(text, f"<{self.name}>")
        counts: dict[str, int] = {}
        for node in self.nodes:
            key = node.kind
            if node.kind == "instance" and isinstance(node.target, TemporalPEDef):
                key = "temporal_pe"
            elif node.kind == "instance":
                key = "pe"
            counts[key] = counts.get(key, 0) + 1
        return Fabric(self.name, text, emit_dot(self), tuple(sorted(counts.items())))

    def _check_complete(self) -> None:
        if not any(n.kind not in ("input", "output") for n in self.nodes):
            raise fail("CPL_MODULE_EMPTY_BODY", "the module has no operation")
        for node in self.nodes:
            for i, drv in enumerate(node.drivers):
                if drv is None:
                    raise fail(
                        "CPL_INPUT_UNCONNECTED", f"{node.name} input #{i} has no driver"
                    )
            if node.kind in ("instance", "memory", "extmemory", "fifo", "add_tag", "del_tag",
                             "map_tag"):
                for i, con in enumerate(node.consumers):
                    if con is None:
                        raise fail(
                            "CPL_OUTPUT_UNCONNECTED", f"{node.name} output #{i} has no consumer"
                        )
            if node.variadic:
                zero = "CPL_SWITCH_PORT_ZERO" if node.kind == "switch" else (
                    "CPL_TEMPORAL_SW_PORT_ZERO"
                )
                if not node.in_types or not node.out_types:
                    raise fail(zero, f"{node.name} has no input or no output")
                rows = switch_table(node)
                if any(not any(r) for r in rows):
                    raise fail(
                        "CPL_SWITCH_ROW_EMPTY" if node.kind == "switch" else
                        "CPL_TEMPORAL_SW_ROW_EMPTY",
                        f"{node.name}: an output has no connected input",
                    )
                if any(not any(r[i] for r in rows) for i in range(len(node.in_types))):
                    raise fail(
                        "CPL_SWITCH_COL_EMPTY" if node.kind == "switch" else
                        "CPL_TEMPORAL_SW_COL_EMPTY",
                        f"{node.name}: an input reaches no output",
                    )


def compatible(src: PortType, dst: PortType) -> bool:
    """spec-fabric.md "Explicit Type Matching": connections match exactly."""
    return src == dst


def switch_table(node: Node) -> list[list[int]]:
    """The connectivity table of a switch node as ``rows[out][in]`` of 0/1."""
    n_in, n_out = len(node.in_types), len(node.out_types)
    table = node.params.get("table")
    if table is None:
        return [[1] * n_in for _ in range(n_out)]
    if callable(table):
        return [[1 if table(o, i) else 0 for i in range(n_in)] for o in range(n_out)]
    rows = [list(r) for r in table]
    if len(rows) != n_out or any(len(r) != n_in for r in rows):
        raise fail(
            "CPL_SWITCH_TABLE_SHAPE",
            f"{node.name}: connectivity table must be {n_out}x{n_in}",
        )
    if any(v not in (0, 1) for r in rows for v in r):
        raise fail("CPL_SWITCH_TABLE_SHAPE", f"{node.name}: table entries must be 0 or 1")
    return rows


def verify_text(text: str, filename: str) -> None:
    """Parse ``text`` with loomc's dialects and run the fabric verifier; the first
    violation is raised as a LoomcError with its rule code."""
    from loomc.fabric_verify import precheck_text, verify_fabric
    from loomc.mlir_io import parse_mlir_text

    early = precheck_text(text, filename)
    if early:
        v = early[0]
        raise fail(v.code, f"generated fabric: {v.message}")
    parsed = parse_mlir_text(text, filename)
    found = verify_fabric(parsed.module, parsed.source_map)
    if found:
        v = found[0]
        raise fail(v.code, f"generated fabric: {v.message}")


def nodes_of(builder: FabricBuilder, kind: str) -> Iterable[Node]:
    return (n for n in builder.nodes if n.kind == kind)
