"""Reference fabrics made by the generator (``loomc --gen-adg``) for ``mac.handshake.mlir``.

Run ``python samples/build_gen_samples.py`` to rewrite
``samples/mac_mesh.fabric.mlir`` (2D mesh, 3 tracks) and
``samples/mac_cube_temporal.fabric.mlir`` (3D cube, FIFOs on both link
directions, bypassable, plus a temporal domain: a temporal PE for the add and
multiply behind tagged switches with add_tag/del_tag bridges).  The committed
files must equal the script's output.
"""

from __future__ import annotations

import sys
from pathlib import Path

from loomc.adg import GenOptions, generate_for_files
from loomc.adg.builder import Fabric

HERE = Path(__file__).resolve().parent
DFG = HERE / "mac.handshake.mlir"

VARIANTS: dict[str, GenOptions] = {
    "mac_mesh": GenOptions(name="mac_mesh"),  # default: mesh, 3 tracks
    "mac_cube_temporal": GenOptions(
        name="mac_cube_temporal",
        topology="cube",
        track=1,
        fifo_mode="dual",
        fifo_depth=2,
        fifo_bypassable=True,
        temporal=True,
    ),
}


def build(variant: str) -> Fabric:
    # The DFG path is recorded relative to the samples folder so the output
    # does not depend on where the repository lives.
    return generate_for_files([str(DFG)], VARIANTS[variant]).fabric


def main(argv: list[str]) -> int:
    for variant in VARIANTS:
        fabric = build(variant)
        out = HERE / f"{variant}.fabric.mlir"
        out.write_text(fabric.mlir, encoding="utf-8")
        print(f"wrote {out}: {dict(fabric.counts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
