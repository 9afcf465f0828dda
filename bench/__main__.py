"""`python -m bench [name [options…]]`: run one benchmark by name, or all of them in turn.

Each benchmark is a module with `main(argv) -> int`; register it here with one line.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "letters": "bench.letters",
    "scan": "bench.scan",  # the deadline scan against a hand-written indexed query (alerts)
    "delivery": "bench.delivery",  # 10,000 alerts through Celery against a smtplib loop (alerts)
    "imports": "bench.imports",  # a 10,000-row XLSX through the import path (perf)
    "web": "bench.web",  # dashboard and contract list under wrk/gunicorn at 10k contracts (perf)
    "load": "bench.load",  # 50 users × 60 s on the main pages; web and worker memory (perf)
    "search": "bench.search",  # Russian/Kazakh search at 10k contracts, both databases (issue 14)
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks:", ", ".join(BENCHMARKS))
        return 0
    if argv and argv[0] not in BENCHMARKS:
        print(f"unknown benchmark {argv[0]!r}; choose from: {', '.join(BENCHMARKS)}")
        return 2
    if argv:
        return importlib.import_module(BENCHMARKS[argv[0]]).main(argv[1:])
    status = 0
    for name, module in BENCHMARKS.items():
        print(f"== {name} ==", flush=True)
        status |= importlib.import_module(module).main([])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
