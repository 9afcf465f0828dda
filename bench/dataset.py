"""The 10,000-contract / 1,000,000-milestone registry the web and load benchmarks run on.

Made in PostgreSQL itself (INSERT … SELECT generate_series) in about a minute, shaped like the
real thing grown large: 20 regions, 200 concession projects with their stages, 2,000 production
sites, 2,000 contractors; each contract has 100 monthly obligations from its signing on, so
about 70 % of them are past: most met on time, 5 % met late, 0.5 % still open (some thousands
overdue across every region, with penalties), 0.2 % waived; 20 % are the customer's. 600
contracts with overdue obligations have a claim letter (drafts, approved, sent). Effective due
dates are the calendar's (core.calendar), written as the deadline engine would store them.

Users (password `bench-password`): `manager@bench.kz` (all regions), `viewer@bench.kz`,
`admin@bench.kz`, and per region `officer-<code>@bench.kz` and `legal-<code>@bench.kz`.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import psycopg

#: "Today" for the data set; the servers run with FAKE_TODAY set to it.
AS_OF = date(2025, 6, 2)
CONTRACTS = 10_000
MILESTONES_PER_CONTRACT = 100
PROJECTS_PER_REGION = 10
SITES = 2_000
CONTRACTORS = 2_000
CLAIMS = 600
PASSWORD = "bench-password"

SETUP = """
INSERT INTO parties (name, bin, kind, email, is_demo, created_at, updated_at)
  SELECT 'ДУИС ' || r.name_ru, NULL, 'government', 'duis-' || lower(r.code) || '@bench.kz', false,
         now(), now()
    FROM regions r ORDER BY r.code;
INSERT INTO parties (name, bin, kind, email, address, is_demo, created_at, updated_at)
  SELECT 'ТОО «Подрядчик ' || g || '»', '1' || lpad(g::text, 11, '0'), 'contractor',
         'contractor-' || g || '@bench.kz', 'г. Караганда, ул. Бенчмарка, ' || g, false, now(),
         now()
    FROM generate_series(1, %(contractors)s::int) AS g;
CREATE TEMP TABLE region_n AS
  SELECT code, name_ru, (row_number() OVER (ORDER BY code) - 1)::int AS n FROM regions;
INSERT INTO institutions (name, kind, region_code, capacity, is_demo, created_at, updated_at)
  SELECT 'Учреждение ' || r.code || '-' || k, 'colony', r.code, 500 + 100 * k, false, now(), now()
    FROM region_n r, generate_series(1, 5) AS k;
INSERT INTO projects (title, kind, status, region_code, institution_id, capacity, term_years,
                      estimated_cost, description, is_demo, created_at, updated_at)
  SELECT 'Учреждение на ' || (500 + 100 * k) || ' мест, ' || r.name_ru || ' (проект ' || k || ')',
         CASE WHEN k %% 2 = 0 THEN 'concession' ELSE 'ppp' END, 'active', r.code,
         (SELECT min(i.id) FROM institutions i WHERE i.region_code = r.code),
         500 + 100 * k, 30, 1800000000000, 'Проект бенчмарка', false, now(), now()
    FROM region_n r, generate_series(1, %(projects_per_region)s::int) AS k;
INSERT INTO project_stages (project_id, kind, position, planned_on, actual_on)
  SELECT p.id, s.kind, s.position, s.planned, CASE WHEN s.done THEN s.planned + (p.id %% 40) END
    FROM projects p,
         (VALUES ('economic_conclusion', 1, date '2016-03-01', true),
                 ('land_allocation', 3, date '2016-09-01', true),
                 ('feasibility_study', 4, date '2017-06-01', true),
                 ('state_expertise', 5, date '2025-09-01', false),
                 ('construction', 10, date '2027-12-01', false))
           AS s(kind, position, planned, done);
INSERT INTO production_sites (name, arrangement, status, institution_id, region_code, operator_id,
                              activity, employed, is_demo, created_at, updated_at)
  SELECT 'Участок ' || g, CASE WHEN g %% 4 = 0 THEN 'trust_management' ELSE 'lease' END,
         'operating', i.id, r.code, 20 + g, 'Швейное производство', 5 + g %% 40, false, now(), now()
    FROM generate_series(1, %(sites)s::int) AS g
    JOIN region_n r ON r.n = g %% 20
    JOIN LATERAL (SELECT min(id) AS id FROM institutions WHERE region_code = r.code) i ON true;
INSERT INTO users (email, name, password_hash, role, region_code, locale, alert_mode, active,
                   created_at)
  VALUES ('manager@bench.kz', 'Руководитель', %(hash)s, 'manager', NULL, 'ru', 'immediate',
          true, now()),
         ('viewer@bench.kz', 'Аудитор', %(hash)s, 'viewer', NULL, 'ru', 'immediate', true, now()),
         ('admin@bench.kz', 'Администратор', %(hash)s, 'admin', NULL, 'ru', 'immediate', true,
          now());
INSERT INTO users (email, name, password_hash, role, region_code, locale, alert_mode, active,
                   created_at)
  SELECT role || '-' || lower(code) || '@bench.kz', initcap(role) || ' ' || code, %(hash)s, role,
         code, 'ru', 'digest', true, now()
    FROM region_n, (VALUES ('officer'), ('legal')) AS x(role);
INSERT INTO contracts (number, signed_on, customer_id, contractor_id, project_id, site_id,
                       region_code, subject, total_amount, currency, status,
                       penalty_rate_percent, penalty_base, penalty_cap_percent, response_days,
                       response_working, response_from_receipt, grace_working_days, officer_id,
                       is_demo, created_at, updated_at)
  SELECT r.n + 1 || '-' || lpad(g::text, 5, '0') || '/' || (2017 + g %% 6),
         date '2017-01-09' + (g * 7919) %% 2000,
         r.n + 1, 20 + 1 + (g * 31) %% %(contractors)s,
         CASE WHEN g <= 1000 THEN (SELECT id FROM projects p WHERE p.region_code = r.code
                                    ORDER BY id OFFSET (g / 20) %% 10 LIMIT 1) END,
         CASE WHEN g > 1000 THEN ((g %% 99) + 1) * 20 + r.n END,
         r.code,
         CASE WHEN g <= 1000 THEN 'Строительство и эксплуатация учреждения, этап ' || g
              ELSE 'Аренда производственного участка и трудоустройство осуждённых № ' || g END,
         (1000000 + (g * 104729) %% 500000000)::bigint * 100, 'KZT', 'active',
         1000, CASE WHEN g %% 3 = 0 THEN 'outstanding' ELSE 'total' END,
         CASE WHEN g %% 10 < 7 THEN 100000 END, 10, true, false, 1,
         (SELECT id FROM users u WHERE u.region_code = r.code AND u.role = 'officer'),
         false, now(), now()
    FROM generate_series(1, %(contracts)s::int) AS g
    JOIN region_n r ON r.n = g %% 20;
CREATE TEMP TABLE effective (due date PRIMARY KEY, eff date NOT NULL);
"""

# Milestone k of contract c is due k months after signing (k = 1 … 100). Past ones: 99.3 % met
# (5 % of those late by 1–45 days), 0.5 % open, 0.2 % waived; future ones are scheduled.
MILESTONES = """
INSERT INTO milestones (contract_id, title, type, obligor, value, due_on, effective_due_on,
                        status, met_on, responsible_id, created_at, updated_at)
  SELECT c.id, t.title, t.type, t.obligor, (c.total_amount / 100)::bigint, d.due, e.eff,
         s.status, CASE WHEN s.status = 'met' THEN
                          CASE WHEN s.late THEN LEAST(e.eff + 1 + h %% 45, %(as_of)s::date)
                               ELSE e.eff - h %% 5 END
                   END,
         c.officer_id, now(), now()
    FROM contracts c
    CROSS JOIN generate_series(1, %(per_contract)s::int) AS k
    CROSS JOIN LATERAL (SELECT (c.id * 7349 + k * 3571) %% 1000 AS h) hh
    CROSS JOIN LATERAL (SELECT (c.signed_on + make_interval(months => k::int))::date AS due) d
    JOIN effective e ON e.due = d.due
    CROSS JOIN LATERAL (SELECT
        CASE k %% 10 WHEN 0 THEN 'Отчёт об исполнении, период ' || k
                     WHEN 5 THEN 'Оплата арендного платежа, период ' || k
                     ELSE 'Поставка продукции, период ' || k END AS title,
        CASE k %% 10 WHEN 0 THEN 'reporting' WHEN 5 THEN 'payment' ELSE 'delivery' END AS type,
        CASE WHEN k %% 5 = 0 THEN 'customer' ELSE 'contractor' END AS obligor) t
    CROSS JOIN LATERAL (SELECT
        CASE WHEN e.eff >= %(as_of)s::date THEN 'scheduled'
             WHEN hh.h < 5 THEN 'scheduled'
             WHEN hh.h < 7 THEN 'waived'
             ELSE 'met' END AS status,
        hh.h %% 20 = 7 AS late) s
   WHERE c.id BETWEEN %(first)s AND %(last)s
"""

CLAIMS_SQL = """
INSERT INTO claims (contract_id, region_code, sequence, status, as_of, penalty_rate_percent,
                    penalty_base, penalty_cap_percent, penalty_total, demand, drafted_by,
                    self_approved, outgoing_prefix, outgoing_year, outgoing_seq, outgoing_number,
                    sent_on,
                    response_due_on, response_from_receipt, warnings_acknowledged, created_at,
                    updated_at)
  SELECT o.contract_id, c.region_code, 1,
         CASE WHEN o.n %% 3 = 0 THEN 'draft' WHEN o.n %% 3 = 1 THEN 'approved' ELSE 'sent' END,
         %(as_of)s::date, c.penalty_rate_percent, c.penalty_base, c.penalty_cap_percent,
         (c.total_amount / 1000) * 3, 'perform_and_pay', 'worker:claims.scan', false,
         CASE WHEN o.n %% 3 = 2 THEN '14-28-9' END,
         CASE WHEN o.n %% 3 = 2 THEN extract(year FROM %(as_of)s::date - 20)::int END,
         CASE WHEN o.n %% 3 = 2 THEN o.n END,
         CASE WHEN o.n %% 3 = 2 THEN '14-28-9-' || o.n END,
         CASE WHEN o.n %% 3 = 2 THEN %(as_of)s::date - 20 END,
         CASE WHEN o.n %% 3 = 2 THEN %(as_of)s::date - 6 END,
         false, false, now(), now()
    FROM (SELECT contract_id, row_number() OVER (ORDER BY contract_id) AS n
            FROM (SELECT DISTINCT m.contract_id FROM milestones m
                   WHERE m.status = 'scheduled' AND m.obligor = 'contractor'
                     AND m.effective_due_on < %(as_of)s::date) x
           ORDER BY contract_id LIMIT %(claims)s) o
    JOIN contracts c ON c.id = o.contract_id;
INSERT INTO claim_milestones (claim_id, milestone_id, sequence, title, due_on, effective_due_on,
                              counted_until, met_on, days_late, base, daily_amount, accrued,
                              capped, cap_amount, missing_value, days_counted)
  SELECT cl.id, m.id, 1, m.title, m.due_on, m.effective_due_on, %(as_of)s::date, NULL,
         %(as_of)s::date - m.effective_due_on, c.total_amount, c.total_amount / 1000,
         cl.penalty_total, false, NULL, false, %(as_of)s::date - m.effective_due_on
    FROM claims cl
    JOIN contracts c ON c.id = cl.contract_id
    JOIN LATERAL (SELECT * FROM milestones m WHERE m.contract_id = cl.contract_id
                    AND m.status = 'scheduled' AND m.obligor = 'contractor'
                    AND m.effective_due_on < %(as_of)s::date
                  ORDER BY m.due_on LIMIT 1) m ON true;
INSERT INTO outgoing_sequences (prefix, year, last_number, updated_at)
  VALUES ('14-28-9', 0, 100000, now());
"""


def _effective_dates(app) -> list[tuple[date, date]]:
    """Every possible due day (the monthly dates from 2017 to 2034) → the calendar's working day."""
    from ppp_tracker.core.calendar import get_calendar

    with app.app_context():
        calendar = get_calendar()
        day, end = date(2017, 1, 1), date(2034, 12, 31)
        out = []
        while day <= end:
            out.append((day, calendar.next_working_day(day)))
            day += timedelta(days=1)
    return out


def password_hash() -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD)


def _fold_search_text(conn: psycopg.Connection) -> None:
    """Write `search_text` as the app's flush would (core.folding), in SQL: on this data set's
    characters (Cyrillic, «», no ё, no doubled spaces) lower() of C.UTF-8 and the quotes'
    translation fold alike; a sample of every table is checked against `fold` itself."""
    import ppp_tracker.models  # noqa: F401 (every model, so every searchable table)
    from ppp_tracker.core.folding import SEPARATOR, fold
    from ppp_tracker.db import db

    def folded(column: str) -> str:
        return f"translate(lower(coalesce({column}, '')), '«»„“”ё', '\"\"\"\"\"е')"

    for table in db.metadata.sorted_tables:
        if "search_text" not in table.c:
            continue
        model = next(m.class_ for m in db.Model.registry.mappers if m.local_table is table)
        fields = model.__searched__
        joined = " || chr(10) || ".join(folded(name) for name in fields)
        conn.execute(f"UPDATE {table.name} SET search_text = {joined}")
        sample = conn.execute(
            f"SELECT search_text, {', '.join(fields)} FROM {table.name} ORDER BY random() LIMIT 200"
        ).fetchall()
        for stored, *values in sample:
            assert stored == SEPARATOR.join(fold(v) for v in values), (table.name, stored)


def build(app, conn: psycopg.Connection, *, contracts: int = CONTRACTS, log=print) -> dict:
    """Fill the (migrated, empty) database behind `conn` with the data set; returns counts."""
    started = time.perf_counter()
    params = {
        "contractors": CONTRACTORS,
        "projects_per_region": PROJECTS_PER_REGION,
        "sites": SITES,
        "contracts": contracts,
        "hash": password_hash(),
        "per_contract": MILESTONES_PER_CONTRACT,
        "as_of": AS_OF,
        "claims": CLAIMS,
    }
    for statement in SETUP.split(";\n"):
        if statement.strip():
            conn.execute(statement, params)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO effective (due, eff) VALUES (%s, %s)", _effective_dates(app))
    log(f"  registry without milestones: {time.perf_counter() - started:.1f} s", flush=True)
    ids = [row[0] for row in conn.execute("SELECT id FROM contracts ORDER BY id")]
    step = 1000
    for first in range(0, len(ids), step):
        chunk = ids[first : first + step]
        conn.execute(MILESTONES, {**params, "first": chunk[0], "last": chunk[-1]})
        log(f"  milestones of {first + len(chunk):,} contracts", flush=True)
    for statement in CLAIMS_SQL.split(";\n"):
        if statement.strip():
            conn.execute(statement, params)
    _fold_search_text(conn)
    conn.execute("VACUUM ANALYZE")
    counts = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("contracts", "milestones", "claims", "production_sites", "projects", "users")
    }
    counts["overdue"] = conn.execute(
        "SELECT count(*) FROM milestones WHERE status = 'scheduled' AND effective_due_on < %s",
        (AS_OF,),
    ).fetchone()[0]
    counts["met_late"] = conn.execute(
        "SELECT count(*) FROM milestones WHERE status = 'met' AND met_on > effective_due_on"
    ).fetchone()[0]
    counts["seconds"] = round(time.perf_counter() - started, 1)
    log(f"  data set: {counts}", flush=True)
    return counts
