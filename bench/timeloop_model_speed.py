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
import random
import time
from pathlib import Path

from loomc.timeloop.mapping import Mapping, MappingError, check_mapping, make_mapping
from loomc.timeloop.model import Evaluator
from loomc.timeloop.spec import Spec, load_mapping, load_spec
from loomc.timeloop.yamlio import load_inputs


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def random_mapping(spec: Spec, rng: random.Random) -> Mapping:
    """A random complete mapping (may be invalid: capacity is not considered here)."""
    prob, arch = spec.problem, spec.arch
    n = len(arch.storage)
    temporal = [dict() for _ in range(n)]
    spatial = [dict() for _ in range(n)]
    split = [0] * n
    for d, bound in zip(prob.dims, prob.bounds, strict=True):
        rest = bound
        for i in range(n):
            if arch.fanout(i) > 1 and rest > 1:
                f = rng.choice([x for x in _divisors(rest) if x <= arch.fanout(i)])
                spatial[i][d] = f
                rest //= f
            if i == n - 1:
                temporal[i][d] = rest
            else:
                f = rng.choice(_divisors(rest))
                temporal[i][d] = f
                rest //= f
    perms = [rng.sample(list(prob.dims), len(prob.dims)) for _ in range(n)]
    sperms = [rng.sample(list(prob.dims), len(prob.dims)) for _ in range(n)]
    for i in range(n):
        split[i] = rng.randint(0, len(prob.dims))
    keep = []
    for i in range(n):
        if arch.storage[i].is_dummy:
            keep.append([])
        else:
            keep.append([ds.name for ds in prob.data_spaces if rng.random() < 0.7])
    return make_mapping(prob, arch, temporal, perms, spatial, sperms, split, keep)


def valid_random_mappings(spec: Spec, count: int, seed: int) -> list[Mapping]:
    rng = random.Random(seed)
    out: list[Mapping] = []
    tries = 0
    while len(out) < count and tries < 200000:
        tries += 1
        mp = random_mapping(spec, rng)
        try:
            check_mapping(spec.problem, spec.arch, mp)
        except MappingError:
            continue
        out.append(mp)
    return out


def rate(ev: Evaluator, mappings: list[Mapping], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    while True:
        for mp in mappings:
            ev.evaluate(mp)
            done += 1
        el = time.perf_counter() - start
        if el >= seconds:
            return done / el


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
    print(f"reference mapping: {rate(ev, [ref_map], args.seconds):.0f} evaluations/s")
    randoms = valid_random_mappings(spec, 200, args.seed)
    print(f"random valid mappings ({len(randoms)} distinct): "
          f"{rate(ev, randoms, args.seconds):.0f} evaluations/s")


if __name__ == "__main__":
    main()
