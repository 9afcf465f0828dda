"""The benchmarks' data set still builds on the current schema (a column added NOT NULL without
a default once broke `bench web`, `load` and `search` silently: no test built the data set)."""

from __future__ import annotations

import psycopg
import pytest

from bench import dataset
from ppp_tracker import create_app
from ppp_tracker.db import db
from ppp_tracker.extensions import upgrade
from tests.conftest import PG_HOST, _create_pg_database, _drop_pg_database, base_config


@pytest.mark.slow
def test_the_benchmark_data_set_builds_on_the_current_schema(tmp_path):
    name = _create_pg_database()
    try:
        app = create_app(base_config(f"{PG_HOST}/{name}", tmp_path))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        url = f"{PG_HOST.replace('+psycopg', '')}/{name}"
        with psycopg.connect(url, autocommit=True) as conn:
            counts = dataset.build(app, conn, contracts=100, log=lambda *a, **k: None)
        assert counts["contracts"] == 100
        assert counts["milestones"] == 100 * dataset.MILESTONES_PER_CONTRACT
        assert counts["claims"] > 0 and counts["overdue"] > 0
    finally:
        _drop_pg_database(name)
