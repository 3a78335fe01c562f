"""Evaluations per second of loomc's Timeloop model on the 06 Eyeriss problem (single core).

Two workloads: the reference mapping (Timeloop mapper's best, fed back) and
random valid mappings (random factor splits, orders, bypass and X/Y splits,
kept only if they pass ``check_mapping``).  Each evaluation includes the
validity check and the full ModelResult (counts, cycles, energy).

Run: ``.venv/bin/python bench/timeloop_model_speed.py [--seconds S] [--seed N]``
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from loomc.timeloop.mapping import Mapping
from loomc.timeloop.model import Evaluator
from loomc.timeloop.randmap import valid_random_mappings
from loomc.timeloop.spec import load_mapping, load_spec
from loomc.timeloop.yamlio import load_inputs


def rate(ev: Evaluator, mappings: list[Mapping], seconds: float) -> tuple[float, float]:
    """(evaluations per wall-clock second, per CPU second of this process).

    Both are printed because the machine may be shared: CPU time is what one
    core spends, wall time includes waiting for the core.
    """
    done = 0
    start, cpu0 = time.perf_counter(), time.process_time()
    while True:
        for mp in mappings:
            ev.evaluate(mp)
            done += 1
        el = time.perf_counter() - start
        if el >= seconds:
            return done / el, done / (time.process_time() - cpu0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", default=os.environ.get(
        "LOOMC_CORPUS", str(Path(__file__).resolve().parents[2] / "shared" / "corpus")))
    args = ap.parse_args()
    ref = Path(args.corpus) / "timeloop/exercises/06-mapper-convlayer-eyeriss/ref-output"
    inputs = load_inputs([ref / "parsed-processed-input.yaml", ref / "timeloop-mapper.ERT.yaml",
                          ref / "timeloop-mapper.ART.yaml", ref / "timeloop-mapper.map.yaml"])
    spec = load_spec(inputs)
    ev = Evaluator(spec)
    ref_map = load_mapping(inputs, spec)
    r = ev.evaluate(ref_map)
    print(f"06 Eyeriss reference mapping: cycles={r.cycles} energy={r.energy / 1e6:.2f} uJ")
    wall, cpu = rate(ev, [ref_map], args.seconds)
    print(f"reference mapping: {wall:.0f} evaluations/s wall, {cpu:.0f} evaluations/s CPU")
    randoms = valid_random_mappings(spec, 200, args.seed)
    wall, cpu = rate(ev, randoms, args.seconds)
    print(f"random valid mappings ({len(randoms)} distinct): {wall:.0f} evaluations/s wall, "
          f"{cpu:.0f} evaluations/s CPU")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
