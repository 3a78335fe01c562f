"""config_mem bit layouts: runtime configuration of fabric nodes -> config bits.

Pure functions over plain frozen dataclasses (no MLIR parsing):

- :mod:`loomc.configmem.bits` - :class:`ConfigBits` (width, value, fields) and
  the LSB-first field packer;
- :mod:`loomc.configmem.layouts` - one config dataclass per configurable op,
  each with ``encode()`` and ``errors()``;
- :mod:`loomc.configmem.image` - word-aligned allocation of nodes into one
  config_mem image, ``.config.bin`` bytes and ``_addr.h`` text;
- :mod:`loomc.configmem.text` - human-readable and hex ``instruction_mem`` /
  temporal ``route_table`` entries <-> config dataclasses.

Used by the mapper (which decides configurations) and by the verifier (which
re-derives the bits and compares).
"""

from loomc.configmem.bits import (
    WORD_BITS,
    ConfigBits,
    ConfigEncodingError,
    Field,
    FieldMismatch,
    log2ceil,
    pack_fields,
    words_for,
)
from loomc.configmem.image import (
    ConfigImage,
    NodeSlice,
    build_image,
    c_name,
    describe_image,
    emit_addr_header,
    image_from_bytes,
)
from loomc.configmem.layouts import *  # noqa: F403
from loomc.configmem.layouts import __all__ as _layouts_all
from loomc.configmem.text import (
    format_instruction,
    format_instruction_hex,
    format_route_slot,
    parse_instruction,
    parse_instruction_mem,
    parse_route_slot,
    parse_route_table,
)

__all__ = [
    "WORD_BITS",
    "ConfigBits",
    "ConfigEncodingError",
    "ConfigImage",
    "Field",
    "FieldMismatch",
    "NodeSlice",
    "build_image",
    "c_name",
    "describe_image",
    "emit_addr_header",
    "format_instruction",
    "format_instruction_hex",
    "format_route_slot",
    "image_from_bytes",
    "log2ceil",
    "pack_fields",
    "parse_instruction",
    "parse_instruction_mem",
    "parse_route_slot",
    "parse_route_table",
    "words_for",
    *_layouts_all,
]
