"""The long profile of the fuzz suite (tests/fuzz): many more hostile requests per route,
with a fresh random seed each run, on both databases.

    make fuzz                                   # or: .venv/bin/python bench/fuzz.py [--examples 300]

CI runs the same suite with a few derandomised examples per route; this one is for an
evening. A failure prints the smallest request that broke the invariant; add it to
tests/fuzz/requests.py's HOSTILE_TEXT or to a regression test once fixed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="hostile requests per route and database")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments, e.g. -k admin")
    args = parser.parse_args()
    env = {**os.environ, "YATRI_FUZZ_EXAMPLES": str(args.examples), "YATRI_FUZZ_RANDOM": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile", str(ROOT / "tests" / "fuzz"), *args.pytest_args]
    return subprocess.call(command, env=env, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
