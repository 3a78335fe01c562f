"""C6: the config image, ``_addr.h`` and configured fabric a mapping implies, bit for bit.

The expected values are re-derived from the mapping report by the
input-driven derivation (mapping → per-node config records → spec layouts →
word allocation, :mod:`loomc.mapper.configure`, :mod:`loomc.mapper.config_image`,
:mod:`loomc.configmem`); none of it involves the solver.  Each differing
config word is one violation naming the hardware node whose slice holds it
(spec-fabric-config_mem.md "Address Allocation"), with the bits that differ.
"""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx

from loomc.configmem import ConfigImage
from loomc.diagnostics import LoomcError
from loomc.mapper.config_image import addr_header, config_image
from loomc.mapper.configure import configure_module, derive_configuration
from loomc.mlir_io import ParsedModule, parse_mlir_text, print_module
from loomc.verify.mapfile import MapDoc
from loomc.verify.violation import Violation


def expected_image(doc: MapDoc, dfg: nx.MultiDiGraph,
                   adg: nx.MultiDiGraph) -> tuple[ConfigImage | None, Violation | None]:
    """The image the mapping implies, or the C6 violation that prevents one."""
    try:
        return config_image(derive_configuration(doc.to_mapping(), dfg, adg)), None
    except LoomcError as err:
        return None, Violation("C6", "", "", f"no legal configuration: {err.message}")


def _owner(image: ConfigImage, word: int) -> str:
    for sl in image.slices:
        if sl.word_offset <= word < sl.word_offset + sl.word_count:
            return sl.name
    return ""


def compare_config_bin(image: ConfigImage, data: bytes) -> tuple[Violation, ...]:
    """Word-by-word comparison of ``.config.bin`` bytes with the expected image."""
    out: list[Violation] = []
    if len(data) % 4:
        return (Violation("C6", "", "", f"config.bin has {len(data)} bytes, not whole words"),)
    have = [int.from_bytes(data[k:k + 4], "little") for k in range(0, len(data), 4)]
    want = list(image.words())
    if len(have) != len(want):
        out.append(Violation("C6", "", "", f"config.bin has {len(have)} words, the mapping "
                             f"implies {len(want)}"))
    for k in range(min(len(have), len(want))):
        if have[k] != want[k]:
            diff = have[k] ^ want[k]
            bits = [b for b in range(32) if diff >> b & 1]
            out.append(Violation("C6", "", _owner(image, k),
                                 f"config word {k}: file 0x{have[k]:08x}, mapping implies "
                                 f"0x{want[k]:08x} (bits {bits})"))
    return tuple(out)


def compare_addr_header(image: ConfigImage, text: str, kernel: str) -> tuple[Violation, ...]:
    """``_addr.h`` against the header of the expected image (same kernel name)."""
    want = addr_header(image, kernel)
    if text == want:
        return ()
    pairs = zip(text.splitlines(), want.splitlines(), strict=False)
    for n, (a, b) in enumerate(pairs, start=1):
        if a != b:
            return (Violation("C6", "", "", f"_addr.h line {n}: {a.strip()!r}, mapping implies "
                              f"{b.strip()!r}"),)
    return (Violation("C6", "", "", "_addr.h length differs from what the mapping implies"),)


def compare_configured(doc: MapDoc, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph,
                       fabric: ParsedModule, configured_text: str,
                       path: str = "<configured>") -> tuple[Violation, ...]:
    """The configured fabric file against the fabric configured from the mapping;
    both sides are printed by the same printer, so formatting does not count."""
    try:
        want = print_module(configure_module(fabric, adg, derive_configuration(
            doc.to_mapping(), dfg, adg)))
    except LoomcError as err:
        return (Violation("C6", "", "", f"no legal configuration: {err.message}"),)
    try:
        have = print_module(parse_mlir_text(configured_text, path).module)
    except LoomcError as err:
        return (Violation("C6", "", "", f"configured fabric does not parse: {err.message}"),)
    have, want = _canonical_names(have), _canonical_names(want)
    if have == want:
        return ()
    pairs = zip(have.splitlines(), want.splitlines(), strict=False)
    for n, (a, b) in enumerate(pairs, start=1):
        if a != b:
            return (Violation("C6", "", "", f"configured fabric line {n} differs: "
                              f"{a.strip()[:80]!r}, mapping implies {b.strip()[:80]!r}"),)
    return (Violation("C6", "", "", "configured fabric length differs from what the "
                      "mapping implies"),)


_SSA = re.compile(r"%[A-Za-z0-9_$.\-]+")


def _canonical_names(text: str) -> str:
    """SSA value names renumbered in order of appearance: a name is a printing
    choice, not configuration."""
    names: dict[str, str] = {}

    def rename(m: re.Match[str]) -> str:
        return names.setdefault(m.group(0), f"%v{len(names)}")

    return _SSA.sub(rename, text)


def check_config(doc: MapDoc, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph, *,
                 config_bin: bytes | None = None, addr_h: str | None = None,
                 kernel: str | None = None, fabric: ParsedModule | None = None,
                 configured: str | None = None) -> tuple[Violation, ...]:
    """Every C6 comparison for which an artifact was given."""
    if config_bin is None and addr_h is None and configured is None:
        return ()
    image, err = expected_image(doc, dfg, adg)
    if err is not None:
        return (err,)
    assert image is not None
    out: list[Violation] = []
    if config_bin is not None:
        out += compare_config_bin(image, config_bin)
    if addr_h is not None:
        out += compare_addr_header(image, addr_h, kernel or "")
    if configured is not None and fabric is not None:
        out += compare_configured(doc, dfg, adg, fabric, configured)
    return tuple(out)


def kernel_of(path: str | Path) -> str:
    """``OUT/base_addr.h`` → ``base`` (the name the header was written for)."""
    name = Path(path).name
    return name[: -len("_addr.h")] if name.endswith("_addr.h") else Path(path).stem


__all__ = ["check_config", "compare_addr_header", "compare_config_bin", "compare_configured",
           "expected_image", "kernel_of"]
