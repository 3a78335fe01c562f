"""Timeloop-compatible tiling model: formats, nest analysis, stats and map.txt.

Public API (names are stable; the tiling optimizer builds on them)
------------------------------------------------------------------

Loading inputs (``yamlio``, ``spec``)::

    inputs = load_inputs(["arch.yaml", "prob.yaml", "map.yaml", "ERT.yaml"])  # merged
    spec = load_spec(inputs, search_dirs=[...])   # Spec(problem, arch, ert, art, ...)
    mapping = load_mapping(inputs, spec)          # Mapping (checked index form)

Data model (all frozen dataclasses):

* ``problem.Problem`` — ``dims`` (names), ``bounds``, ``data_spaces`` (``DataSpace`` with
  ``projection`` = per rank ``((dim index, coefficient), ...)`` and ``read_write``).
* ``arch.Architecture`` — ``storage`` (``StorageLevel``, innermost first; dummy
  ``inter_*_spatial`` levels stand for v0.4 spatial containers) and ``arithmetic``;
  ``fanout_xy(i)`` = spatial fanout from level ``i`` to the level below.
* ``mapping.Mapping`` — ``levels`` (``LevelMapping`` per storage level, innermost first:
  ``temporal_factors``/``spatial_factors`` per dim, ``temporal_order``/``spatial_order``
  (dim indices, innermost first), ``split``, ``keep`` per data space).
  Build one from Python values with ``make_mapping(problem, arch, temporal=[{...}, ...],
  permutation=..., spatial=..., spatial_permutation=..., split=..., keep=...)``.
  ``check_mapping(problem, arch, mapping)`` raises ``MappingError`` (codes
  ``TL_MAP_FACTORS``, ``TL_MAP_CAPACITY``, ``TL_MAP_FANOUT``, ``TL_MAP_LEVEL``,
  ``TL_MAP_SPLIT``, ``TL_MAP_DIM``, ``TL_MAP_DATASPACE``, ``TL_MAP_BYPASS``).
* ``constraints.check_constraints(spec, mapping)`` — architecture/mapspace constraints.

Evaluation (``model``)::

    result = evaluate(spec, mapping)              # ModelResult
    ev = Evaluator(spec); ev.evaluate(mapping)    # reuse precomputation for many mappings
    result.computes, result.cycles, result.energy (pJ), result.energy_per_compute (fJ)
    result.level("GlobalBuffer").ds("Inputs").reads / .fills / .updates / .partition_size ...

Random valid mappings (benchmarks, randomized tests): ``randmap.valid_random_mappings``.

Emitters: ``emit_stats.stats_text(spec, result)``, ``emit_map.map_text(spec, result)``,
``emit_map.map_yaml(spec, mapping)``.  CLI: ``loomc model FILE.yaml... -o DIR``
(``cmd_model``).

Scope: dense workloads with perfectly factorised mappings; sparse optimizations,
skews, imperfect factors and the no_reuse/rmw_first_update/no_coalesce knobs are
refused with an error.  Counts reproduce Timeloop 6e081fc's legacy nest analysis
(see ``nest`` for the derivation), including multicast, bypass and inter-PE link
transfers; tests compare against every exercise reference run and against a
step-by-step re-enactment of Timeloop's procedure on random mappings.

Energy tables: an ``ERT``/``ART`` section in the inputs, else ``*ERT.yaml`` /
``*ART.yaml`` next to the input files (``load_spec(search_dirs=...)``), else
energies are 0 and ``Spec.ert_source == "none"`` (the CLI says so on stderr).
"""

from loomc.timeloop.mapping import Mapping, MappingError, check_mapping, make_mapping
from loomc.timeloop.model import Evaluator, ModelResult, evaluate
from loomc.timeloop.spec import Spec, load_mapping, load_spec
from loomc.timeloop.yamlio import load_inputs

__all__ = [
    "Evaluator",
    "Mapping",
    "MappingError",
    "ModelResult",
    "Spec",
    "check_mapping",
    "evaluate",
    "load_inputs",
    "load_mapping",
    "load_spec",
    "make_mapping",
]
