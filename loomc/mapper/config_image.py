"""The config_mem image of a configured fabric: ``.config.bin`` and ``_addr.h``.

Takes the per-node configurations :func:`~loomc.mapper.configure.derive_configuration`
decided (the same values the configured ``.fabric.mlir`` carries), encodes each
with its spec layout and allocates them in fabric definition order
(spec-fabric-config_mem.md "Address Allocation"): a node with CONFIG_WIDTH 0
takes no space, every other node starts on a fresh 32-bit word.  The binary
and header formats are spec-mapper-output.md "config.bin Format" and
"addr.h Format"; the layout work itself is :mod:`loomc.configmem.image`.
"""

from __future__ import annotations

from dataclasses import dataclass

from loomc.configmem import ConfigBits, ConfigImage, build_image, emit_addr_header
from loomc.mapper.configure import FabricConfiguration


@dataclass(frozen=True)
class NodeBits:
    """One node's encoded configuration and whether it differs from reset (all 0)."""

    hw_node: str
    bits: ConfigBits

    @property
    def non_default_words(self) -> int:
        return sum(1 for w in self.bits.words() if w)


def node_bits(configuration: FabricConfiguration) -> tuple[NodeBits, ...]:
    """Encoded bits of every node that takes config_mem space, in allocation order
    (memories are excluded: spec-fabric-config_mem.md gives them CONFIG_WIDTH 0)."""
    out = []
    for node in configuration.nodes:
        if not node.in_image:
            continue
        bits = node.config.encode()
        if bits.width:
            out.append(NodeBits(node.hw_node, bits))
    return tuple(out)


def config_image(configuration: FabricConfiguration) -> ConfigImage:
    """The whole config_mem (word offsets per node, total depth)."""
    return build_image((n.hw_node, n.bits) for n in node_bits(configuration))


def config_bin(image: ConfigImage) -> bytes:
    """``.config.bin``: ``depth * 4`` bytes, 32-bit words little-endian."""
    return image.to_bytes()


def addr_header(image: ConfigImage, kernel: str) -> str:
    """``<kernel>_addr.h`` text; node macro names are the ADG node ids upper-cased
    with every non-identifier character turned into ``_``."""
    return emit_addr_header(image, kernel)


def footprint(configuration: FabricConfiguration) -> tuple[int, int]:
    """``(non-default words, total words)`` of the image, for the cost model's
    configuration-footprint family (spec-mapper-cost.md)."""
    nodes = node_bits(configuration)
    return sum(n.non_default_words for n in nodes), sum(n.bits.num_words for n in nodes)


__all__ = ["NodeBits", "addr_header", "config_bin", "config_image", "footprint", "node_bits"]
