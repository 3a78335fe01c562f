"""Tech-mapping: which DFG operations (or groups) may sit on which ADG nodes.

spec-mapper-model.md "Tech-Mapping Model" and spec-mapper-algorithm.md
"Stage 1": a candidate places one DFG op — or a connected group matching a
multi-op PE body — on one placement target and fixes the port binding:

* PE / temporal-PE FU ports follow the body's wiring: DFG operand ``j`` of a
  body op goes to the PE input that feeds operand ``j`` of the matching body
  op, DFG result ``r`` to the PE output that yields it (the positional binding
  of spec C2, read through the body so bodies like ``subi %b, %a`` bind right).
* Port types must agree in category and payload width (C2); temporal-PE FUs
  compare the value part of their tagged ports ("temporal PE FU type
  relaxation").
* Runtime-configurable attributes (compare predicates, constant values, stream
  ``cont_cond``) do not restrict compatibility ("Runtime-Configurable
  Parameters"); other attributes of the body op (e.g. stream ``step_op``) must
  match.
* A multi-op PE body maps as a whole (subgraph isomorphism preserving op names,
  producer→consumer edges and operand positions); a group member whose result
  leaves the group must have that result yielded by the PE.
* ``handshake.memory`` → ``fabric.memory``, ``handshake.extmemory`` →
  ``fabric.extmemory`` with enough load/store lanes (C1.4, C4.3, C4.4); memory
  ports bind by role (spec C2 "Memory operand reordering contract").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from loomc.graph import model
from loomc.graph.irutil import memref_bytes
from loomc.graph.model import BodyRef, NodeKind, NodeRecord, PortCategory, PortRecord

#: attributes that configure an op at run time, never its hardware (spec
#: "Runtime-Configurable Parameters"), plus naming/debug attributes
RUNTIME_ATTRS = frozenset({
    "predicate", "value", "cont_cond", "stop_cond", "src_loc", "fastmath",
    "overflowFlags", "id",
})

MEMORY_KINDS = {"handshake.memory": "fabric.memory", "handshake.extmemory": "fabric.extmemory"}


@dataclass(frozen=True)
class Candidate:
    """One legal placement: DFG node(s) on one ADG node with a port binding.

    ``inputs``/``outputs`` pair DFG port ids with ADG port ids; a DFG port of a
    member that is not listed is internal to a multi-op PE."""

    hw_node: str
    sw_nodes: tuple[str, ...]
    inputs: tuple[tuple[str, str], ...]
    outputs: tuple[tuple[str, str], ...]
    temporal_pe: str | None = None
    #: index of the FU inside its temporal PE (the instruction opcode)
    opcode: int | None = None


def ports_compatible(sw: PortRecord, hw: PortRecord, relax_tag: bool) -> bool:
    """spec-mapper-model.md C2: same category and payload width.

    ``relax_tag`` compares only the value part of a tagged hardware port (temporal
    PE FUs strip tags at their boundary)."""
    if sw.category is PortCategory.MEMREF or hw.category is PortCategory.MEMREF:
        return sw.category is hw.category and sw.type == hw.type
    hw_cat = hw.category
    if relax_tag and hw_cat is PortCategory.TAGGED:
        hw_cat = PortCategory.NONE if hw.width == 0 else PortCategory.NATIVE
    sw_cat = sw.category
    if sw_cat is PortCategory.NONE and hw_cat is PortCategory.NATIVE and relax_tag:
        return True  # a control token rides on any FU value lane
    if sw_cat is not hw_cat:
        return False
    if sw_cat is PortCategory.TAGGED and sw.tag_width != hw.tag_width:
        return False
    return sw.width == hw.width


def _hardware_attrs(attrs) -> tuple[tuple[str, str], ...]:
    """Attributes that fix hardware, as comparable text (``"+="`` and ``+=`` are
    the same string attribute printed two ways)."""
    return tuple(sorted((k, str(v).strip('"')) for k, v in attrs if k not in RUNTIME_ATTRS))


class TechMapper:
    """Builds candidate sets for every DFG operation node."""

    def __init__(self, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph):
        self.dfg, self.adg = dfg, adg
        self.sw_ports = model.ports(dfg)
        self.hw_ports = model.ports(adg)
        self.sw_nodes = [n for n in model.nodes(dfg) if n.kind is NodeKind.OPERATION]
        self.hw_targets = [n for n in model.nodes(adg) if n.is_placement_target]
        self._fu_index = self._fu_indices()
        # DFG adjacency by port: out port -> [in ports]
        self._consumers: dict[str, list[str]] = defaultdict(list)
        self._producer: dict[str, str] = {}
        for edge in model.edges(dfg):
            self._consumers[edge.src_port].append(edge.dst_port)
            self._producer[edge.dst_port] = edge.src_port

    def _fu_indices(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for rec in model.nodes(self.adg):
            for i, fu in enumerate(rec.fu_nodes):
                out[fu] = i
        return out

    # ------------------------------------------------------------------ single ops

    def _bind_body(
        self, members: list[NodeRecord], hw: NodeRecord
    ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] | None:
        """Bind the DFG ports of ``members`` (in body-op order) to ``hw``'s ports
        through its body wiring; None if a port is missing or incompatible."""
        body = hw.body
        # tags are stripped at a PE's boundary (spec-fabric-pe.md "Tag Visibility"),
        # temporal FUs included (spec-mapper-model.md C2): compare value parts
        relax = True
        member_of = {m.id: i for i, m in enumerate(members)}
        inputs: list[tuple[str, str]] = []
        for i, (sw, bop) in enumerate(zip(members, body.ops, strict=True)):
            if len(bop.operands) != len(sw.input_ports):
                return None
            for j, ref in enumerate(bop.operands):
                sw_port = sw.input_ports[j]
                if ref.source == "arg":
                    if ref.index >= len(hw.input_ports):
                        return None
                    hw_port = hw.input_ports[ref.index]
                    if not ports_compatible(self.sw_ports[sw_port], self.hw_ports[hw_port], relax):
                        return None
                    inputs.append((sw_port, hw_port))
                elif ref.source == "op":
                    # internal edge: the DFG must have the same producer→consumer edge
                    prod = self._producer.get(sw_port)
                    want = members[ref.index].output_ports[ref.result] \
                        if ref.result < len(members[ref.index].output_ports) else None
                    if prod is None or prod != want or ref.index >= i:
                        return None
                else:
                    return None
        outputs: list[tuple[str, str]] = []
        yielded: set[tuple[int, int]] = set()
        for k, ref in enumerate(body.yields):
            if ref.source == "arg" and len(members) == 1 and k < len(members[0].output_ports):
                # a body that yields its own arguments (Loom's store PE yields
                # ``%data, %addr``): result k leaves on output k (spec C2
                # "Positional port binding invariant")
                ref = BodyRef("op", 0, k)
            if ref.source != "op" or k >= len(hw.output_ports):
                return None
            sw = members[ref.index]
            if ref.result >= len(sw.output_ports):
                return None
            sw_port, hw_port = sw.output_ports[ref.result], hw.output_ports[k]
            if not ports_compatible(self.sw_ports[sw_port], self.hw_ports[hw_port], relax):
                return None
            outputs.append((sw_port, hw_port))
            yielded.add((ref.index, ref.result))
        # a result used outside the group must leave through a yielded port
        for i, sw in enumerate(members):
            if len(sw.output_ports) != len(body.ops[i].result_types):
                return None
            for r, port in enumerate(sw.output_ports):
                outside = [c for c in self._consumers.get(port, [])
                           if self.sw_ports[c].node not in member_of]
                if outside and (i, r) not in yielded:
                    return None
        return tuple(inputs), tuple(outputs)

    def _op_matches(self, sw: NodeRecord, bop) -> bool:
        if sw.op_name != bop.op_name:
            return False
        want = _hardware_attrs(bop.attrs)
        have = _hardware_attrs((k, v) for k, v in sw.params)
        # only attributes the hardware op states must agree (e.g. stream step_op)
        have_d = dict(have)
        return all(have_d.get(k) in (None, v) for k, v in want)

    def candidates_for(self, sw: NodeRecord) -> list[Candidate]:
        if sw.op_name in MEMORY_KINDS:
            return self._memory_candidates(sw)
        out = []
        for hw in self.hw_targets:
            body = hw.body
            if body is None or len(body.ops) != 1 or not self._op_matches(sw, body.ops[0]):
                continue
            bound = self._bind_body([sw], hw)
            if bound is None:
                continue
            out.append(self._candidate(hw, (sw.id,), *bound))
        return out

    def _candidate(self, hw: NodeRecord, sw_ids, inputs, outputs) -> Candidate:
        return Candidate(
            hw_node=hw.id, sw_nodes=tuple(sw_ids), inputs=inputs, outputs=outputs,
            temporal_pe=hw.parent_temporal_pe,
            opcode=self._fu_index.get(hw.id) if hw.parent_temporal_pe else None,
        )

    # ------------------------------------------------------------------ groups

    def group_candidates(self) -> list[Candidate]:
        """Subgraph-isomorphism matches of every multi-op PE body (spec
        "Subgraph Isomorphism"): enumerate unique bodies once, scan the DFG."""
        by_name: dict[str, list[NodeRecord]] = defaultdict(list)
        for sw in self.sw_nodes:
            by_name[sw.op_name].append(sw)
        patterns: dict[object, list[NodeRecord]] = defaultdict(list)
        for hw in self.hw_targets:
            if hw.body is not None and len(hw.body.ops) > 1:
                patterns[hw.body].append(hw)
        out: list[Candidate] = []
        for body, hws in patterns.items():
            for members in self._embeddings(body, by_name):
                for hw in hws:
                    bound = self._bind_body(list(members), hw)
                    if bound is not None:
                        out.append(self._candidate(hw, [m.id for m in members], *bound))
        return out

    def _embeddings(self, body, by_name) -> list[tuple[NodeRecord, ...]]:
        """All assignments of DFG nodes to body ops with matching names, each
        body-internal edge present in the DFG at the same operand position."""
        results: list[tuple[NodeRecord, ...]] = []

        def extend(chosen: list[NodeRecord]) -> None:
            i = len(chosen)
            if i == len(body.ops):
                results.append(tuple(chosen))
                return
            bop = body.ops[i]
            for sw in by_name.get(bop.op_name, ()):
                if sw in chosen or not self._op_matches(sw, bop):
                    continue
                ok = True
                for j, ref in enumerate(bop.operands):
                    if ref.source != "op":
                        continue
                    if j >= len(sw.input_ports) or ref.index >= i:
                        ok = False
                        break
                    prod = chosen[ref.index]
                    if self._producer.get(sw.input_ports[j]) != prod.output_ports[ref.result]:
                        ok = False
                        break
                if ok:
                    extend(chosen + [sw])

        extend([])
        return results

    # ------------------------------------------------------------------ memory

    def _memory_candidates(self, sw: NodeRecord) -> list[Candidate]:
        """C1.4/C4.3/C4.4: same memory kind, same memref type, enough lanes;
        ports bound by role in order (spec C2 memory reordering contract)."""
        out = []
        ld, st = sw.param("ldCount", 0) or 0, sw.param("stCount", 0) or 0
        for hw in self.hw_targets:
            if hw.op_name != MEMORY_KINDS[sw.op_name]:
                continue
            if (hw.param("ldCount", 0) or 0) < ld or (hw.param("stCount", 0) or 0) < st:
                continue
            sw_mem, hw_mem = sw.param("memref_type"), hw.param("memref_type")
            if sw_mem and hw_mem and _element_type(sw_mem) != _element_type(hw_mem):
                continue
            if hw.op_name == "fabric.memory" and sw_mem and hw_mem:
                need, cap = memref_bytes(str(sw_mem)), memref_bytes(str(hw_mem))
                if need is not None and cap is not None and need > cap:
                    continue  # C4.3: an on-chip memory must hold the whole memref
            ins = self._bind_roles(sw.input_ports, hw.input_ports)
            outs = self._bind_roles(sw.output_ports, hw.output_ports)
            if ins is None or outs is None:
                continue
            out.append(self._candidate(hw, (sw.id,), ins, outs))
        return out

    def _bind_roles(self, sw_ports, hw_ports) -> tuple[tuple[str, str], ...] | None:
        free = list(hw_ports)
        binding = []
        for sp in sw_ports:
            rec = self.sw_ports[sp]
            pick = next(
                (hp for hp in free
                 if self.hw_ports[hp].role == rec.role
                 and ports_compatible(rec, self.hw_ports[hp], False)),
                None,
            )
            if pick is None:
                return None
            free.remove(pick)
            binding.append((sp, pick))
        return tuple(binding)


def _element_type(memref_text: str) -> str:
    """``memref<?xi32, strided<...>>`` → ``i32``: the element type decides C4.3."""
    inner = memref_text[memref_text.find("<") + 1:]
    head = inner.split(",")[0]
    return head.split("x")[-1].strip(" >")
