"""Reference fabric: a 4x4 switch mesh of 32-bit PEs with a load/store memory port.

Run ``python samples/build_mesh4x4.py`` to rewrite ``samples/mesh4x4.fabric.mlir``
(and ``mesh4x4.dot``); the committed files must equal the script's output.

Layout: the 32-bit plane is a 4x4 switch mesh (2 tracks, FIFOs on the
west/north links) with a 3x3 grid of PE cells between the switches — two
multipliers, two adders, subtract, and, or, xor, shift-left.  Each PE takes its
operands from the switches at its upper corners and drives the switch at its
lower-right corner.  A small 2x2 address plane (``bits<57>``) and control plane
(``none``) serve one load PE, one store PE and an ``extmemory`` on a memref
input.  Module ports: memref, four i32 inputs, two index inputs, a control
token in; two i32 results and a done token out.
"""

from __future__ import annotations

import sys
from pathlib import Path

from loomc.adg import NONE, Bits, FabricBuilder, Memref, build_lattice, finish_lattice
from loomc.adg.builder import Fabric

HERE = Path(__file__).resolve().parent
W32, ADDR = Bits(32), Bits(57)
CELL_OPS = (
    "arith.muli", "arith.addi", "arith.subi",
    "arith.addi", "arith.muli", "arith.andi",
    "arith.ori", "arith.xori", "arith.shli",
)  # fmt: skip


def build() -> Fabric:
    fb = FabricBuilder("mesh4x4")
    fb.comments.append("4x4 mesh, 9 ALU PEs, load/store + extmemory (samples/build_mesh4x4.py)")
    defs = {}
    for op in dict.fromkeys(CELL_OPS):
        short = op.split(".")[1]
        defs[op] = fb.pe(f"pe_{short}", op, ins=("i32", "i32"), outs=("i32",))
    load = fb.pe("pe_load", "handshake.load", ins=("index", "i32", "none"), outs=("i32", "index"))
    store = fb.pe(
        "pe_store", "handshake.store", ins=("index", "i32", "none"), outs=("i32", "index")
    )

    mem_in = fb.input("mem", Memref("memref<?xi32>"))
    data = build_lattice(fb, W32, (4, 4), tracks=2, fifo_mode="single", prefix="d")
    addr = build_lattice(fb, ADDR, (2, 2), prefix="a")
    ctrl = build_lattice(fb, NONE, (2, 2), prefix="c")

    for k, op in enumerate(CELL_OPS):
        r, c = divmod(k, 3)
        pe = fb.instance(defs[op], f"{op.split('.')[1]}_r{r}c{c}")
        data.feed(fb, (r, c), pe.inp(0))
        data.feed(fb, (r, c + 1), pe.inp(1))
        data.take(fb, (r + 1, c + 1), pe.out(0))

    for i, coord in enumerate(((0, 0), (0, 3), (3, 0), (1, 2))):
        data.take(fb, coord, fb.input(f"x{i}", W32))
    for i in range(2):
        addr.take(fb, (0, i), fb.input(f"idx{i}", ADDR))
    ctrl.take(fb, (0, 0), fb.input("start", NONE))

    ld = fb.instance(load, "load_u0")
    addr.feed(fb, (0, 0), ld.inp(0))
    ctrl.feed(fb, (1, 0), ld.inp(2))
    data.take(fb, (2, 0), ld.out(0))
    addr.take(fb, (1, 0), ld.out(1))

    st = fb.instance(store, "store_u0")
    addr.feed(fb, (0, 1), st.inp(0))
    data.feed(fb, (3, 3), st.inp(1))
    ctrl.feed(fb, (1, 1), st.inp(2))

    mem = fb.extmemory(mem_in, ld=1, st=1, lsq_depth=4, name="extmem_u0")
    addr.feed(fb, (1, 0), mem.inp(1))  # ld_addr
    fb.connect(st.out(1), mem.inp(2))  # st_addr: store PE straight to memory
    fb.connect(st.out(0), mem.inp(3))  # st_data
    fb.connect(mem.out(0), ld.inp(1))  # ld_data back to the load PE
    ctrl.take(fb, (1, 1), mem.out(1))  # ld_done
    ctrl.take(fb, (0, 1), mem.out(2))  # st_done

    data.feed(fb, (3, 3), fb.output("y0", W32))
    data.feed(fb, (3, 1), fb.output("y1", W32))
    ctrl.feed(fb, (1, 1), fb.output("done", NONE))
    for lat in (data, addr, ctrl):
        finish_lattice(lat)
    return fb.build()


def main(argv: list[str]) -> int:
    fabric = build()
    out = Path(argv[0]) if argv else HERE / "mesh4x4.fabric.mlir"
    out.write_text(fabric.mlir, encoding="utf-8")
    out.with_name(out.name.replace(".fabric.mlir", ".dot")).write_text(fabric.dot, "utf-8")
    print(f"wrote {out}: {dict(fabric.counts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
