"""Parse-time benchmark of loomc's MLIR front door on the two largest corpus inputs.

Measures :func:`loomc.mlir_io.parse_mlir_file` (read + parse + source map +
verify) on the largest application module under ``apps/`` (by size) and on
``templates/loom_cgra_large.fabric.mlir``: median wall time of N runs after one
warm-up run (which loads the dialects).  Prints a markdown table.

    .venv/bin/python bench/parse_speed.py [--runs 5] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from loomc.mlir_io import parse_mlir_file, print_module

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def measure(path: Path, runs: int) -> tuple[float, float, float, int]:
    """Medians over ``runs`` runs: parse wall s, parse CPU s, print wall s; op count.

    CPU time is reported too because the machine is shared: under load, wall
    time overstates what the parser itself costs.
    """
    parsed = parse_mlir_file(path)  # warm-up: dialect loading, imports
    parse_times, cpu_times, print_times = [], [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        parsed = parse_mlir_file(path)
        parse_times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
        start = time.perf_counter()
        print_module(parsed.module)
        print_times.append(time.perf_counter() - start)
    n_ops = sum(1 for _ in parsed.module.walk())
    median = statistics.median
    return median(parse_times), median(cpu_times), median(print_times), n_ops


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    corpus = Path(os.environ.get("LOOMC_CORPUS", DEFAULT_CORPUS))
    ap.add_argument("--corpus", type=Path, default=corpus)
    args = ap.parse_args()
    loom = args.corpus / "loom"
    largest_app = max(sorted(loom.glob("apps/*/*.mlir")), key=lambda p: p.stat().st_size)
    inputs = [largest_app, loom / "templates" / "loom_cgra_large.fabric.mlir"]

    print(f"median of {args.runs} runs (after 1 warm-up), load average {os.getloadavg()[0]:.2f}\n")
    print("| file | KiB | ops | parse wall (s) | parse CPU (s) | µs/op | print (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for path in inputs:
        parse_s, cpu_s, print_s, n_ops = measure(path, args.runs)
        kib = path.stat().st_size / 1024
        rel = path.relative_to(loom)
        print(
            f"| {rel} | {kib:.0f} | {n_ops} | {parse_s:.3f} | {cpu_s:.3f} "
            f"| {1e6 * parse_s / n_ops:.0f} "
            f"| {print_s:.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
