"""The long fuzzing run for the benchmark: ``python tests/fuzz --long`` (from the repository root).

The normal test run (``python -m pytest tests/fuzz``, and CI) uses each fuzzer's base count, a few
hundred cases per kind. This runs the same fuzzers with ``--scale`` times as many cases (``--long``
is ``--scale 20``: about 8,000 links through the parser, 1,200 through the page, 6,000 argument
lists, 6,000 content files, 6,000 meshes, 4,000 events) and a seed of your choice, and prints the
pytest summary. Failures name the kind and case number; replay one with the same ``FUZZ_SEED``
and ``FUZZ_SCALE``. The browser fuzzer lives with the other browser tests
(``tests/e2e/test_fuzz_browser.py``) and takes ``FUZZ_SCALE`` too.

Options: ``--long`` | ``--scale N``, ``--seed S``, ``--hang-s SECONDS`` (a case running longer is a
hang), then any pytest arguments (``-k content``, ``-x``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="20 times the CI case counts")
    parser.add_argument("--scale", type=float, default=None, help="multiply the CI case counts by this")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: a new one, printed)")
    parser.add_argument("--hang-s", type=int, default=120, help="a case running longer is a hang (s)")
    args, pytest_args = parser.parse_known_args(argv)
    scale = args.scale if args.scale is not None else (20.0 if args.long else 1.0)
    seed = args.seed if args.seed is not None else int(time.time())
    env = {**os.environ, "FUZZ_SCALE": str(scale), "FUZZ_SEED": str(seed), "FUZZ_HANG_S": str(args.hang_s)}
    print(f"fuzzing with FUZZ_SEED={seed} FUZZ_SCALE={scale:g}", flush=True)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/fuzz",
                           *pytest_args], cwd=ROOT, env=env, check=False)
    print(f"fuzzing took {time.perf_counter() - started:.0f} s (FUZZ_SEED={seed} FUZZ_SCALE={scale:g})")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
