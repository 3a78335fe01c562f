"""Place-and-route verification entry points: files or in-memory inputs → result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from loomc.diagnostics import LoomcError, SourceLocation
from loomc.graph.load import adg_from_parsed, dfgs_from_file
from loomc.graph.merge import merge_dfgs
from loomc.mlir_io import ParsedModule, parse_mlir_file
from loomc.verify.config_check import check_config, kernel_of
from loomc.verify.mapfile import MapDoc, read_map_json
from loomc.verify.pnr_check import check_pnr
from loomc.verify.violation import Violation, classes


@dataclass(frozen=True)
class PnrResult:
    """The verdict on one mapping: every violation found (empty = valid)."""

    dfg_name: str
    adg_name: str
    violations: tuple[Violation, ...]
    checked: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def classes(self) -> frozenset[str]:
        return classes(self.violations)


def verify_pnr(doc: MapDoc, dfg: nx.MultiDiGraph, adg: nx.MultiDiGraph, *,
               config_bin: bytes | None = None, addr_h: str | None = None,
               kernel: str | None = None, fabric: ParsedModule | None = None,
               configured: str | None = None) -> PnrResult:
    """C1–C5 on the mapping, then C6 on whichever artifacts are given.  The bit
    comparison runs only on a mapping that passed C1–C5: the configuration of an
    illegal mapping is undefined."""
    found = check_pnr(doc, dfg, adg)
    checked = ["C1", "C2", "C3", "C4", "C5"]
    if not found:
        found += check_config(doc, dfg, adg, config_bin=config_bin, addr_h=addr_h,
                              kernel=kernel, fabric=fabric, configured=configured)
        if config_bin is not None or addr_h is not None or configured is not None:
            checked.append("C6")
    return PnrResult(dfg_name=dfg.graph.get("name", ""), adg_name=adg.graph.get("name", ""),
                     violations=tuple(found), checked=tuple(checked))


def select_dfg(dfgs: list[nx.MultiDiGraph], name: str, path: str) -> nx.MultiDiGraph:
    """The DFG the report names; a report without a name (hand-written) takes the
    file's only DFG, and one named ``f+g+…`` the file's functions merged as the
    driver merges them (spec-cli.md "--dfgs": one mapping session)."""
    for dfg in dfgs:
        if dfg.graph.get("name") == name:
            return dfg
    if len(dfgs) == 1 and not name:
        return dfgs[0]
    if len(dfgs) > 1 and name == "+".join(g.graph.get("name", "") for g in dfgs):
        return merge_dfgs(dfgs)  # every function of the file, mapped together
    raise LoomcError(f"no handshake.func named {name!r} (the mapping's DFG)",
                     loc=SourceLocation(path), code="VERIFY_DFG")


def _read(path: str | Path | None, binary: bool = False):
    if path is None:
        return None
    try:
        return Path(path).read_bytes() if binary else Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise LoomcError(f"cannot read file: {err.strerror}",
                         loc=SourceLocation(str(path))) from None


def verify_pnr_files(adg_path: str | Path, dfgs_path: str | Path, map_path: str | Path, *,
                     config_path: str | Path | None = None,
                     addr_path: str | Path | None = None,
                     configured_path: str | Path | None = None) -> PnrResult:
    """Load every input from disk and verify (``loomc verify --adg ...``)."""
    doc = read_map_json(map_path)
    fabric = parse_mlir_file(adg_path)
    adg = adg_from_parsed(fabric)
    if doc.adg_name and adg.graph.get("name") != doc.adg_name:
        raise LoomcError(f"the mapping is for fabric {doc.adg_name!r}, this file defines "
                         f"{adg.graph.get('name')!r}", loc=SourceLocation(str(adg_path)),
                         code="VERIFY_ADG")
    dfg = select_dfg(dfgs_from_file(dfgs_path), doc.dfg_name, str(dfgs_path))
    return verify_pnr(doc, dfg, adg, config_bin=_read(config_path, binary=True),
                      addr_h=_read(addr_path), kernel=kernel_of(addr_path) if addr_path else None,
                      fabric=fabric, configured=_read(configured_path))


__all__ = ["PnrResult", "select_dfg", "verify_pnr", "verify_pnr_files"]
