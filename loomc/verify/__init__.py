"""Standalone verification of mappings (issue 7).

* :func:`verify_pnr` / :func:`verify_pnr_files` — a place-and-route mapping
  (``map.json``) against C1–C6 of spec-mapper-model.md, re-derived from the
  graphs with code that shares nothing with the mapper's solver;
* :func:`verify_tiling` — a Timeloop mapping against its architecture and
  problem (:mod:`loomc.verify.tiling_check`);
* :mod:`loomc.verify.optimality` — "is there a better mapping?".

Results are frozen records holding a tuple of :class:`Violation`.
"""

from loomc.verify.pnr import PnrResult, verify_pnr, verify_pnr_files
from loomc.verify.violation import Violation, classes

__all__ = ["PnrResult", "Violation", "classes", "verify_pnr", "verify_pnr_files"]
