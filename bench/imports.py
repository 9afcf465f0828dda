"""Import of a 10,000-row XLSX of counterparties through the product's own path, against
openpyxl only reading the same file and against a bare bulk INSERT of the same rows.

    python -m bench imports [--rows 10000]

Our path is what an upload goes through: `imports.create_batch` (the upload: read, refuse what
cannot be imported, preview), then the bodies of the `reports.check_import` and
`reports.commit_import` tasks run in this process (every row checked by the registry's own
`save_party`, the BIN's control digit, audited; the commit in one transaction). The Celery hop
itself is left out: it is one message per file, and `bench delivery` measures Celery.
"""

from __future__ import annotations

import argparse
import io
import time

import psycopg
from openpyxl import Workbook, load_workbook

from bench.common import make_app, pg_database, psycopg_url, save


def _bin(n: int) -> str:
    from ppp_tracker.registry.identifiers import make_bin

    for k in range(100):
        candidate = make_bin(f"{(n * 100 + k) % 10**11:011d}")
        if candidate:
            return candidate
    raise ValueError(n)


def make_rows(count: int) -> list[list[str]]:
    header = ["name", "kind", "bin", "email", "phone", "address", "region"]
    rows = [header]
    for n in range(1, count + 1):
        rows.append(
            [
                f"ТОО «Арендатор {n:05d}»",
                "tenant",
                _bin(50_000 + n),
                f"tenant-{n}@bench.kz",
                f"+7 701 {n:07d}",
                f"г. Караганда, ул. Производственная, {n}",
                "KZ-35",
            ]
        )
    return rows


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def openpyxl_read(content: bytes) -> int:
    """Baseline: only reading the file's cells (read-only mode, as our reader does)."""
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    count = sum(1 for _row in workbook.active.iter_rows(values_only=True))
    workbook.close()
    return count


def bulk_insert(conn: psycopg.Connection, rows: list[list[str]]) -> None:
    """Baseline: the same rows straight into the table, unchecked, unaudited, one statement."""
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO parties (name, kind, bin, email, phone, address, region_code, is_demo,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, false, now(), now())",
            [r for r in rows[1:]],
        )
        cur.execute("DELETE FROM parties")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench imports")
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args(argv)

    from ppp_tracker.auth.models import User
    from ppp_tracker.db import db
    from ppp_tracker.registry.models import Party
    from ppp_tracker.reports import imports, tasks
    from ppp_tracker.reports.models import ImportBatch, ImportStatus

    rows = make_rows(args.rows)
    content = xlsx_bytes(rows)
    results: dict = {"rows": args.rows, "file_bytes": len(content)}
    with pg_database("ppp_bench_imports") as (name, url):
        app = make_app(url)
        with psycopg.connect(psycopg_url(name), autocommit=True) as conn:
            openpyxl_read(content)  # warm-up
            start = time.perf_counter()
            assert openpyxl_read(content) == args.rows + 1
            results["openpyxl_read_s"] = time.perf_counter() - start
            start = time.perf_counter()
            bulk_insert(conn, rows)
            results["bulk_insert_s"] = time.perf_counter() - start

            with app.app_context():
                officer = User(
                    email="officer@bench.kz",
                    name="Исполнитель",
                    role="officer",
                    region_code="KZ-35",
                    password_hash="-",
                )
                db.session.add(officer)
                db.session.commit()
                start = time.perf_counter()
                batch = imports.create_batch(officer, "parties", "parties.xlsx", content)
                db.session.commit()
                batch_id = batch.id
                results["upload_s"] = time.perf_counter() - start
                start = time.perf_counter()
                assert tasks.check_import.run(batch_id) == "checked"
                results["check_s"] = time.perf_counter() - start
                db.session.expire_all()
                batch = db.session.get(ImportBatch, batch_id)
                assert batch.errors == [], batch.errors[:3]
                imports.request_commit(batch)
                db.session.commit()
                start = time.perf_counter()
                assert tasks.commit_import.run(batch_id) == "imported"
                results["commit_s"] = time.perf_counter() - start
                db.session.expire_all()
                assert db.session.get(ImportBatch, batch_id).status == ImportStatus.DONE
                imported = db.session.query(Party).count()
                assert imported == args.rows, imported
                results["audit_events"] = db.session.execute(
                    db.text("SELECT count(*) FROM audit_events WHERE entity_type = 'parties'")
                ).scalar()
                db.session.remove()
                db.engine.dispose()
    ours = results["upload_s"] + results["check_s"] + results["commit_s"]
    results["ours_s"] = ours
    results["ratio_to_openpyxl"] = ours / results["openpyxl_read_s"]
    results["ratio_to_bulk_insert"] = ours / results["bulk_insert_s"]
    print(
        f"{args.rows:,} rows ({len(content) / 1024:.0f} KiB XLSX): upload "
        f"{results['upload_s']:.1f} s + check {results['check_s']:.1f} s + commit "
        f"{results['commit_s']:.1f} s = {ours:.1f} s ({args.rows / ours:.0f} rows/s); "
        f"openpyxl reading it {results['openpyxl_read_s']:.2f} s (×"
        f"{results['ratio_to_openpyxl']:.1f}); bulk INSERT {results['bulk_insert_s']:.2f} s (×"
        f"{results['ratio_to_bulk_insert']:.1f}); {results['audit_events']:,} audit events",
        flush=True,
    )
    print("saved", save("imports", results))
    return 0
