"""Benchmarks: `python -m bench` runs them all, `python -m bench NAME [args]` runs one.

Each benchmark is a module with `main(argv)`; register it here with one line.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "letters": "bench.letters",
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in BENCHMARKS:
        names, rest = [argv[0]], argv[1:]
    elif argv and not argv[0].startswith("-"):
        print(f"unknown benchmark {argv[0]!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    else:
        names, rest = list(BENCHMARKS), argv
    for name in names:
        status = importlib.import_module(BENCHMARKS[name]).main(rest)
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
