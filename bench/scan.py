"""The deadline scan on 100k … 1M milestones, about 1,000 of them due: its selection against a
hand-written indexed SQL query returning the same rows, and the whole scan of those rows; then,
at the largest size, a catch-up: 100,000 reminders due after a week without scans.

    python -m bench scan [--sizes 100000,250000,500000,1000000] [--repeat 30] [--catch-up 100000]
                         [--batch 2000]

Data are made in PostgreSQL itself (INSERT … SELECT generate_series) in a database of their own,
dropped at the end. The 1,000 due milestones are among the first 100,000, so every size has the
same work to find; the rest are met (60 %, their plans finished) or due later (40 %).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

import psycopg
from sqlalchemy.dialects import postgresql

from bench.common import make_app, paired_seconds, pg_database, psycopg_url, save

AS_OF = date(2025, 6, 2)
DUE = 1000
#: Every 100th of the first 100,000 milestones is due on AS_OF.
DUE_STRIDE = 100
CONTRACTS = 1000

HAND_WRITTEN = """
    SELECT milestone_id, next_alert_on, effective_due_on
      FROM alert_plans
     WHERE next_alert_on IS NOT NULL AND next_alert_on <= %(as_of)s
     ORDER BY next_alert_on, milestone_id
"""

SETUP = """
INSERT INTO parties (name, kind, is_demo, created_at, updated_at) VALUES
  ('ДУИС (бенчмарк)', 'government', false, now(), now()),
  ('ТОО «Подрядчик» (бенчмарк)', 'contractor', false, now(), now());
INSERT INTO projects (title, kind, status, region_code, is_demo, created_at, updated_at)
  SELECT 'Проект ' || code, 'concession', 'active', code, false, now(), now()
    FROM regions ORDER BY code;
INSERT INTO users (email, name, password_hash, role, region_code, locale, alert_mode, active,
                   created_at)
  SELECT 'officer-' || lower(code) || '@bench.kz', 'Исполнитель ' || code, '-', 'officer', code,
         'ru', 'immediate', true, now()
    FROM regions;
INSERT INTO contracts (number, signed_on, customer_id, contractor_id, project_id, region_code,
                       subject, total_amount, currency, status, penalty_rate_percent,
                       penalty_base, response_days, response_working, response_from_receipt,
                       grace_working_days, officer_id, is_demo, created_at, updated_at)
  SELECT 'Б-' || g, date '2020-01-01', 1, 2, p.id, p.region_code, 'Бенчмарк', 10000000000,
         'KZT', 'active', 1000, 'total', 10, true, false, 1, u.id, false, now(), now()
    FROM generate_series(1, %(contracts)s::int) AS g
    JOIN (SELECT id, region_code, row_number() OVER (ORDER BY id) - 1 AS n FROM projects) p
      ON p.n = g %% 20
    JOIN users u ON u.region_code = p.region_code;
"""

# Due (every 100th of the first 100k): effective due in 7 days, its plan fires today.
# Open (40 % of the rest): due later, next reminder 1–700 days ahead. Met (60 %): plan finished.
GROW = """
INSERT INTO milestones (id, contract_id, title, type, obligor, due_on, effective_due_on, status,
                        met_on, created_at, updated_at)
  SELECT g, 1 + g %% %(contracts)s, 'Обязательство ' || g, 'delivery', 'contractor', d.due, d.due,
         d.status, CASE WHEN d.status = 'met' THEN d.due - 1 END, now(), now()
    FROM generate_series(%(first)s::int, %(last)s::int) AS g,
         LATERAL (SELECT CASE
             WHEN g <= 100000 AND g %% %(stride)s = 0 THEN 'scheduled'
             WHEN g %% 5 < 2 THEN 'scheduled' ELSE 'met' END AS status) s,
         LATERAL (SELECT CASE
             WHEN g <= 100000 AND g %% %(stride)s = 0 THEN %(as_of)s::date + 7
             WHEN s.status = 'scheduled' THEN %(as_of)s::date + 31 + g %% 700
             ELSE %(as_of)s::date - 1 - g %% 1500 END AS due, s.status) d;
INSERT INTO alert_plans (milestone_id, effective_due_on, next_alert_on)
  SELECT id, effective_due_on,
         CASE WHEN status <> 'scheduled' THEN NULL
              WHEN effective_due_on = %(as_of)s::date + 7 THEN %(as_of)s::date
              ELSE effective_due_on - 30 END
    FROM milestones WHERE id BETWEEN %(first)s AND %(last)s;
"""


def grow(conn, first: int, last: int) -> float:
    start = time.perf_counter()
    params = {
        "first": first,
        "last": last,
        "contracts": CONTRACTS,
        "stride": DUE_STRIDE,
        "as_of": AS_OF,
    }
    for statement in GROW.split(";\n"):
        if statement.strip():
            conn.execute(statement, params)
    conn.execute("ANALYZE milestones")
    conn.execute("ANALYZE alert_plans")
    return time.perf_counter() - start


def reset_due(conn) -> None:
    """Put the due plans back as they were before a scan, and forget that scan's alerts."""
    conn.execute("DELETE FROM alert_deliveries")
    conn.execute("DELETE FROM alerts")
    conn.execute(
        "UPDATE alert_plans SET next_alert_on = %(as_of)s "
        "WHERE effective_due_on = %(as_of)s::date + 7 AND milestone_id <= 100000",
        {"as_of": AS_OF},
    )
    conn.execute("VACUUM ANALYZE alert_plans")


# A week without scans: CATCH_UP open milestones (not among the 1,000 above) fall due within
# 30 days of AS_OF and their plans' reminder days passed 0–6 days ago.
CATCH_UP_SQL = """
UPDATE milestones SET due_on = %(as_of)s::date + id %% 30,
                      effective_due_on = %(as_of)s::date + id %% 30
 WHERE id IN (SELECT milestone_id FROM alert_plans
               WHERE next_alert_on IS NOT NULL AND milestone_id > 100000
               ORDER BY milestone_id LIMIT %(n)s);
UPDATE alert_plans p SET effective_due_on = m.effective_due_on,
                         next_alert_on = %(as_of)s::date - m.id %% 7
  FROM milestones m
 WHERE m.id = p.milestone_id AND m.effective_due_on < %(as_of)s::date + 30
   AND p.milestone_id > 100000 AND p.next_alert_on IS NOT NULL;
ANALYZE milestones;
ANALYZE alert_plans
"""


def catch_up(conn, app, n: int, batch: int) -> dict:
    """Scan CATCH_UP due reminders as the scan does (batches, a commit each): time, counts."""
    from ppp_tracker.alerts import scan
    from ppp_tracker.db import db

    for statement in CATCH_UP_SQL.split(";\n"):
        if statement.strip():
            conn.execute(statement, {"as_of": AS_OF, "n": n})
    due = conn.execute(
        "SELECT count(*) FROM alert_plans WHERE next_alert_on <= %(as_of)s", {"as_of": AS_OF}
    ).fetchone()[0]
    with app.app_context():
        db.session.remove()
        load_before = load_average()
        start = time.perf_counter()
        alerts = deliveries = batches = 0
        while True:
            result = scan.scan_batch(AS_OF, limit=batch)
            db.session.commit()
            batches += 1
            alerts += result.alerts
            deliveries += result.deliveries
            if result.selected < batch:
                break
        seconds = time.perf_counter() - start
        load_after = load_average()
        db.session.remove()
    made = conn.execute("SELECT count(*), count(DISTINCT milestone_id) FROM alerts").fetchone()
    assert alerts == due == made[0] == made[1], (alerts, due, made)
    sent = conn.execute(
        "SELECT count(*), count(DISTINCT (alert_id, user_id)) FROM alert_deliveries"
    ).fetchone()
    assert deliveries == sent[0] == sent[1], (deliveries, sent)
    return {
        "load_average": f"{load_before} -> {load_after}",
        "due": due,
        "alerts": alerts,
        "deliveries": deliveries,
        "batch": batch,
        "batches": batches,
        "seconds": round(seconds, 2),
        "per_alert_ms": round(seconds * 1000 / max(1, alerts), 3),
    }


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages (it is shared: the figures move with it)."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def explain(conn, sql: str, params: dict) -> str:
    rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
    return "\n".join(r[0] for r in rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench scan")
    parser.add_argument("--sizes", default="100000,250000,500000,1000000")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--catch-up", type=int, default=100_000, dest="catch_up")
    parser.add_argument("--batch", type=int, default=None, help="plans a batch (SCAN_BATCH)")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    from ppp_tracker.alerts import scan
    from ppp_tracker.db import db

    results: dict = {"as_of": AS_OF, "due": DUE, "repeat": args.repeat, "sizes": []}
    with pg_database("ppp_bench_scan") as (name, url):
        app = make_app(url)
        with psycopg.connect(psycopg_url(name), autocommit=True) as conn:
            for statement in SETUP.split(";\n"):
                if statement.strip():
                    conn.execute(statement, {"contracts": CONTRACTS})
            done = 0
            for size in sizes:
                generated = grow(conn, done + 1, size)
                done = size
                expected = conn.execute(HAND_WRITTEN, {"as_of": AS_OF}).fetchall()

                def hand_written(conn=conn):
                    return conn.execute(HAND_WRITTEN, {"as_of": AS_OF}).fetchall()

                with app.app_context():
                    found = scan.due_plans(AS_OF, limit=10 * DUE)
                    assert [tuple(r) for r in found] == [tuple(r) for r in expected]
                    baseline, selection, ratio = paired_seconds(
                        hand_written, lambda: scan.due_plans(AS_OF, limit=10 * DUE), args.repeat
                    )
                    # The whole scan of the due rows: claim, alert, delivery; committed per batch.
                    full = []
                    for _ in range(3):
                        reset_due(conn)
                        db.session.remove()
                        start = time.perf_counter()
                        alerts = 0
                        while True:
                            batch = scan.scan_batch(AS_OF, limit=500)
                            db.session.commit()
                            alerts += batch.alerts
                            if batch.selected < 500:
                                break
                        full.append(time.perf_counter() - start)
                        assert alerts == len(expected), (alerts, len(expected))
                    db.session.remove()
                reset_due(conn)
                plan = explain(conn, HAND_WRITTEN, {"as_of": AS_OF})
                scan_sql = str(
                    scan.due_plans_query(AS_OF, 10 * DUE).compile(
                        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
                    )
                )
                scan_plan = explain(conn, scan_sql, {})
                row = {
                    "milestones": size,
                    "open_plans": conn.execute(
                        "SELECT count(*) FROM alert_plans WHERE next_alert_on IS NOT NULL"
                    ).fetchone()[0],
                    "due": len(expected),
                    "generate_s": round(generated, 2),
                    "hand_written_ms": round(baseline * 1000, 3),
                    "scan_selection_ms": round(selection * 1000, 3),
                    "ratio": round(ratio, 2),
                    "full_scan_ms": round(statistics.median(full) * 1000, 1),
                    "full_scan_per_alert_ms": round(
                        statistics.median(full) * 1000 / len(expected), 3
                    ),
                    "plan": plan,
                    "scan_plan": scan_plan,
                    "load_average": load_average(),
                }
                reset_due(conn)
                results["sizes"].append(row)
                print(
                    f"{size:>9,} milestones ({row['open_plans']:,} open plans, {row['due']} due): "
                    f"hand-written {row['hand_written_ms']:.3f} ms, scan selection "
                    f"{row['scan_selection_ms']:.3f} ms, ratio {row['ratio']:.2f}; whole scan of "
                    f"the due rows {row['full_scan_ms']:.1f} ms (load average "
                    f"{row['load_average']})",
                    flush=True,
                )
            if args.catch_up:
                from ppp_tracker.alerts.jobs import SCAN_BATCH

                reset_due(conn)
                conn.execute("DELETE FROM alert_plans WHERE milestone_id <= 100000")
                batch = args.batch or SCAN_BATCH
                results["catch_up"] = row = catch_up(conn, app, args.catch_up, batch)
                print(
                    f"catch-up at {sizes[-1]:,} milestones: {row['alerts']:,} due reminders "
                    f"scanned in {row['seconds']:.2f} s ({row['per_alert_ms']:.3f} ms per alert, "
                    f"{row['deliveries']:,} deliveries, {row['batches']} batches of "
                    f"{row['batch']}; load average {row['load_average']})",
                    flush=True,
                )
        with app.app_context():
            db.engine.dispose()
    first, last = results["sizes"][0], results["sizes"][-1]
    results["growth"] = {
        "hand_written": round(last["hand_written_ms"] / first["hand_written_ms"], 2),
        "scan_selection": round(last["scan_selection_ms"] / first["scan_selection_ms"], 2),
    }
    print(
        f"from {first['milestones']:,} to {last['milestones']:,} milestones the selection time "
        f"changed ×{results['growth']['scan_selection']:.2f} (hand-written "
        f"×{results['growth']['hand_written']:.2f})"
    )
    print("plan of the hand-written query at the largest size:\n" + last["plan"])
    print("plan of the scan's query at the largest size:\n" + last["scan_plan"])
    print("saved", save("scan", results))
    return 0
