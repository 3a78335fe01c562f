"""Fabric (ADG) construction: a Python builder, lattice topologies and ``--gen-adg``.

* :mod:`loomc.adg.builder` — :class:`FabricBuilder`: define PEs, temporal PEs,
  switches, FIFOs, tag ops and memories, wire them, emit verified Fabric MLIR
  and DOT;
* :mod:`loomc.adg.topology` — mesh/torus/diagonal/cube switch lattices with
  N tracks and optional FIFOs;
* :mod:`loomc.adg.analysis` — what a DFG needs (op kinds, widths, memories, I/O);
* :mod:`loomc.adg.gen` — a lattice fabric sized for one or more DFGs;
* :mod:`loomc.adg.cli` — ``loomc --gen-adg`` glue.
"""

from loomc.adg.builder import Fabric, FabricBuilder
from loomc.adg.gen import GenOptions, GenResult, generate, generate_for_files
from loomc.adg.topology import Lattice, build_lattice, finish_lattice
from loomc.adg.types import NONE, Bits, Memref, Tagged

__all__ = [
    "NONE",
    "Bits",
    "Fabric",
    "FabricBuilder",
    "GenOptions",
    "GenResult",
    "Lattice",
    "Memref",
    "Tagged",
    "build_lattice",
    "finish_lattice",
    "generate",
    "generate_for_files",
]
