"""Random mappings (for benchmarks and randomized tests of the model).

:func:`random_mapping` draws factors level by level from the inside out, retrying
until each level's kept tiles fit its capacity, with random loop orders, X/Y
splits and bypass choices; :func:`valid_random_mappings` keeps those that pass
:func:`~loomc.timeloop.mapping.check_mapping`.
"""

from __future__ import annotations

import random

from loomc.timeloop.mapping import Mapping, MappingError, check_mapping, make_mapping
from loomc.timeloop.spec import Spec


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def random_mapping(spec: Spec, rng: random.Random) -> Mapping:
    """A random complete mapping, built level by level from the inside out.

    Each level draws small random factors (retrying until its kept tiles fit its
    capacity); the backing store takes what remains.  Orders, X/Y splits and
    bypass choices are random too.
    """
    prob, arch = spec.problem, spec.arch
    n, nd = len(arch.storage), len(prob.dims)
    rest = list(prob.bounds)
    spans = [1] * nd
    temporal, spatial, keep = [], [], []
    for i, lvl in enumerate(arch.storage):
        kp = [] if lvl.is_dummy else [ds.name for ds in prob.data_spaces if rng.random() < 0.6]
        if i == n - 1:
            kp = [ds.name for ds in prob.data_spaces]
        for _ in range(50):
            t = [1] * nd
            sp = [1] * nd
            left = list(rest)
            fx, fy = arch.fanout_xy(i)
            budget = fx * fy
            for d in rng.sample(range(nd), nd):
                if budget > 1 and rng.random() < 0.5:
                    f = rng.choice([x for x in _divisors(left[d]) if x <= budget])
                    sp[d], left[d], budget = f, left[d] // f, budget // f
                if i == n - 1:
                    t[d] = left[d]
                elif rng.random() < 0.5:
                    t[d] = rng.choice(_divisors(left[d]))
                left[d] //= t[d]
            new = [spans[d] * t[d] * sp[d] for d in range(nd)]
            need = sum(ds.size(tuple(new)) for ds in prob.data_spaces if ds.name in kp)
            if lvl.effective_size is None or need <= lvl.effective_size or i == n - 1:
                break
        else:
            t, sp, left, new = [1] * nd, [1] * nd, list(rest), list(spans)
        rest, spans = left, new
        temporal.append(dict(zip(prob.dims, t, strict=True)))
        spatial.append(dict(zip(prob.dims, sp, strict=True)))
        keep.append(kp)
    perms = [rng.sample(list(prob.dims), nd) for _ in range(n)]
    sperms = [rng.sample(list(prob.dims), nd) for _ in range(n)]
    split = [rng.randint(0, nd) for _ in range(n)]
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
