"""What the benchmarks share: a PostgreSQL database of their own, the app on it, timing."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import psycopg

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PG_HOST = os.environ.get("BENCH_PG_HOST", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def pg_database(prefix: str):
    """A fresh database, dropped afterwards (nothing shared with tests or other runs)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, f"{PG_HOST}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def psycopg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def make_app(database_url: str, **config):
    """The app on the benchmark's database, migrated to the head revision."""
    from ppp_tracker import create_app
    from ppp_tracker.extensions import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, **config})
    with app.app_context():
        upgrade()
    return app


def paired_seconds(
    baseline: Callable[[], object], candidate: Callable[[], object], repeat: int, warmup: int = 3
) -> tuple[float, float, float]:
    """Median times of two functions run alternately, and the median of their per-pair ratios.

    Alternating puts both under the same background load (the machine is shared), so the
    ratio is steadier than the ratio of two separately measured medians.
    """
    for _ in range(warmup):
        baseline()
        candidate()
    base, cand, ratios = [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        baseline()
        middle = time.perf_counter()
        candidate()
        end = time.perf_counter()
        base.append(middle - start)
        cand.append(end - middle)
        ratios.append((end - middle) / (middle - start))
    return statistics.median(base), statistics.median(cand), statistics.median(ratios)


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    return path
