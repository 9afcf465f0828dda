"""Search in Russian and Kazakh at 10,000 contracts, on PostgreSQL and on the embedded SQLite:
the contract list's search and the global search against an indexed exact look-up.

    python -m bench search [--contracts 10000] [--repeat 30] [--databases sqlite,postgresql]

Each database gets a registry of its own (2,000 contractors, 200 projects, 2,000 production sites,
10,000 contracts; names in capitals, Russian and Kazakh), written in bulk with `search_text`
folded by `core.folding` as the app writes it. The baseline, timed in the same run, alternately
with each search: the contract list's query (count and the first page of 25) narrowed by the
indexed contract number instead of a search. The figure is the median ratio.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from bench.common import make_app, paired_seconds, pg_database, save

CONTRACTORS = 2_000
PROJECTS = 200
SITES = 2_000
#: Contractors' names: every 20th is «АРМАНКЕН …», every 20th (another) a Kazakh «ҚЫЗМЕТ …».
WORDS = ["АРМАНКЕН", "ҚЫЗМЕТ", "ШВЕЙНИК", "ТЕХНОСТРОЙ", "ЖАҢА ӨНДІРІС"] + [
    f"ПОДРЯДЧИК-{n}" for n in range(15)
]
#: (what an officer types, what it finds)
TERMS = [
    ("арманкен", "the contractor's name in Russian, any case (1 in 20 contracts)"),
    ("қызмет", "a Kazakh name (1 in 20 contracts)"),
    ("«ёлочка»", "ё and quotes in the subject (1 in 10 contracts)"),
    ("2026-0506", "a piece of a contract number (10 contracts)"),
    ("нет такого", "nothing: every row looked at"),
]


def _folded(model, row: dict) -> str:
    from ppp_tracker.core.folding import SEPARATOR, fold

    return SEPARATOR.join(fold(row.get(name)) for name in model.__searched__)


def _insert(model, rows: list[dict]) -> None:
    from ppp_tracker.db import db

    for row in rows:
        row["search_text"] = _folded(model, row)
    for start in range(0, len(rows), 2000):
        db.session.execute(sa.insert(model.__table__), rows[start : start + 2000])


def build(contracts: int) -> None:
    """The registry, in bulk (the ORM's flush would fold the same; this is only faster)."""
    from ppp_tracker.auth.models import Role, User
    from ppp_tracker.core.regions import Region
    from ppp_tracker.db import db
    from ppp_tracker.registry.codes import (
        Arrangement,
        InstitutionKind,
        PartyKind,
        ProjectKind,
    )
    from ppp_tracker.registry.models import Contract, Institution, Party, ProductionSite, Project

    regions = db.session.scalars(sa.select(Region.code).order_by(Region.code)).all()
    _insert(
        Party,
        [{"name": f"ДУИС {code}", "kind": PartyKind.GOVERNMENT} for code in regions]
        + [
            {
                "name": f"ТОО «{WORDS[n % len(WORDS)]} {n}»",
                "kind": PartyKind.CONTRACTOR,
                "bin": f"1{n:011d}",
                "email": f"contractor-{n}@bench.kz",
            }
            for n in range(CONTRACTORS)
        ],
    )
    _insert(
        Institution,
        [
            {"name": f"УЧРЕЖДЕНИЕ {code}-{k}", "kind": InstitutionKind.COLONY, "region_code": code}
            for code in regions
            for k in range(5)
        ],
    )
    _insert(
        Project,
        [
            {
                "title": f"УЧРЕЖДЕНИЕ НА {500 + n} МЕСТ ({regions[n % len(regions)]})",
                "kind": ProjectKind.CONCESSION,
                "region_code": regions[n % len(regions)],
                "description": "Проект бенчмарка",
            }
            for n in range(PROJECTS)
        ],
    )
    institutions = db.session.execute(sa.select(Institution.id, Institution.region_code)).all()
    _insert(
        ProductionSite,
        [
            {
                "name": f"ЦЕХ № {n}",
                "arrangement": Arrangement.LEASE,
                "institution_id": institutions[n % len(institutions)][0],
                "region_code": institutions[n % len(institutions)][1],
                "activity": "Швейное производство",
            }
            for n in range(SITES)
        ],
    )
    customers = dict(
        db.session.execute(
            sa.select(Party.name, Party.id).where(Party.kind == PartyKind.GOVERNMENT)
        ).all()
    )
    contractors = db.session.scalars(
        sa.select(Party.id).where(Party.kind == PartyKind.CONTRACTOR).order_by(Party.id)
    ).all()
    projects = db.session.execute(
        sa.select(Project.id, Project.region_code).order_by(Project.id)
    ).all()
    _insert(
        Contract,
        [
            {
                "number": f"А-2026-{n:05d}",
                "signed_on": date(2020 + n % 7, 1 + n % 12, 1 + n % 28),
                "customer_id": customers[f"ДУИС {projects[n % len(projects)][1]}"],
                "contractor_id": contractors[n % len(contractors)],
                "project_id": projects[n % len(projects)][0],
                "region_code": projects[n % len(projects)][1],
                "subject": (
                    "Поставка швейной продукции «ЁЛОЧКА»"
                    if n % 10 == 0
                    else f"Выполнение работ по договору № {n}"
                ),
                "total_amount": Decimal("1000000.00") + n,
            }
            for n in range(contracts)
        ],
    )
    _insert(
        User,
        [
            {
                "email": "manager@bench.kz",
                "name": "Менеджер",
                "role": Role.MANAGER,
                "password_hash": "-",
            }
        ],
    )
    db.session.commit()


def measure(repeat: int) -> list[dict]:
    from ppp_tracker.auth.models import User
    from ppp_tracker.db import db
    from ppp_tracker.registry.lists import contracts
    from ppp_tracker.registry.models import Contract
    from ppp_tracker.reports.search import search

    manager = db.session.scalar(sa.select(User).where(User.email == "manager@bench.kz"))

    def baseline():
        # The list's query (count, one page newest first, its parties) by the indexed number.
        stmt = (
            sa.select(Contract)
            .where(Contract.number == "А-2026-05061")
            .options(selectinload(Contract.contractor), selectinload(Contract.customer))
            .order_by(Contract.signed_on.desc())
        )
        page = db.paginate(stmt, page=1, per_page=25)
        return page.total, page.items

    out = []
    for term, meaning in TERMS:
        found = contracts(manager, {"q": term}).pagination.total
        for what, candidate in (
            ("contract list", lambda term=term: contracts(manager, {"q": term}).pagination.items),
            ("global search", lambda term=term: search(manager, term)),
        ):
            base, cand, ratio = paired_seconds(baseline, candidate, repeat)
            out.append(
                {
                    "what": what,
                    "term": term,
                    "meaning": meaning,
                    "contracts_found": found,
                    "baseline_ms": round(base * 1000, 2),
                    "search_ms": round(cand * 1000, 2),
                    "ratio": round(ratio, 1),
                }
            )
            print(
                f"  {what:14} {term!r:14} found {found:5}: {cand * 1000:7.2f} ms, baseline "
                f"{base * 1000:5.2f} ms, ratio {ratio:5.1f}",
                flush=True,
            )
    return out


def run(url: str, contracts: int, repeat: int) -> list[dict]:
    app = make_app(url)
    with app.app_context():
        build(contracts)
        from ppp_tracker.db import db

        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
        results = measure(repeat)
        db.session.remove()
        db.engine.dispose()
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench search")
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    results = {}
    for database in args.databases.split(","):
        print(f"{database}: {args.contracts:,} contracts", flush=True)
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as directory:
                url = f"sqlite:///{Path(directory) / 'bench.db'}"
                results[database] = run(url, args.contracts, args.repeat)
        else:
            with pg_database("bench_search") as (_name, url):
                results[database] = run(url, args.contracts, args.repeat)
    path = save("search", {"contracts": args.contracts, "repeat": args.repeat, **results})
    print(f"saved {path}")
    return 0
