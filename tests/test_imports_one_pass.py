"""An import an officer can finish in one pass, on PostgreSQL and on the embedded SQLite: names
matched as the app shows them, every problem of every row named with its cell at once, a day
that does not exist named so, labels in Russian and Kazakh accepted beside the codes."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import force_locale

from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone
from ppp_tracker.reports import imports, tasks
from ppp_tracker.reports.models import ImportBatch
from tests import factories
from tests.reports_support import csv_bytes

#: The columns (A … K) as the Russian template heads them.
KEYS = ["number", "signed_on", "customer", "contractor", "project", "subject", "total_amount",
        "status", "milestone_title", "milestone_type", "milestone_due_on"]  # fmt: skip


def _header() -> list[str]:
    with force_locale("ru"):
        return [imports.column_label("contracts", key) for key in KEYS]


def _world(any_app):
    from ppp_tracker.auth.services import create_user

    any_app.config["FAKE_TODAY"] = date(2026, 6, 1)
    officer, _ = create_user("officer@example.kz", role="officer", region_code="KZ-35")
    factories.party(kind="government", bin=None, name="ДУИС по Карагандинской области")
    factories.party(name="ТОО «АРМАНКЕН»")
    factories.party(name="ЖШС «ҚЫЗМЕТ»")
    factories.project("KZ-35", title="Учреждение на 1500 мест «Ёлочка»")
    db.session.commit()
    return officer


def _checked(officer, rows) -> ImportBatch:
    batch = imports.create_batch(officer, "contracts", "договоры.csv", csv_bytes(rows))
    db.session.commit()
    assert tasks.check_import.run(batch.id) == "checked"
    db.session.expire_all()
    return db.session.get(ImportBatch, batch.id)


def test_names_and_labels_are_matched_as_the_app_shows_them(any_app):
    officer = _world(any_app)
    rows = [
        _header(),
        # names in another case, other quotes, е for ё; the status and types as labels
        ["А-2026-061", "01.02.2026", "дуис по карагандинской области", 'ТОО "Арманкен"',
         "учреждение на 1500 мест „елочка“", "Поставка", "1 000 000", "Действует",
         "Поставка ёлок", "Поставка", "01.03.2026"],
        ["А-2026-061", "", "", "", "", "", "", "", "Отчёт", "Жеткізу (орындау)", "01.04.2026"],
        ["Қ-2026-007", "02.02.2026", "ДУИС ПО КАРАГАНДИНСКОЙ ОБЛАСТИ", "жшс «қызмет»",
         "УЧРЕЖДЕНИЕ НА 1500 МЕСТ «ЁЛОЧКА»", "Жеткізу", "500", "Қолданыста",
         "Есеп", "delivery", "2026-05-01"],
    ]  # fmt: skip
    batch = _checked(officer, rows)
    assert batch.errors == [], batch.errors
    imports.request_commit(batch)
    db.session.commit()
    assert tasks.commit_import.run(batch.id) == "imported"
    contracts = {c.number: c for c in db.session.scalars(sa.select(Contract))}
    assert contracts["А-2026-061"].contractor.name == "ТОО «АРМАНКЕН»"
    assert contracts["Қ-2026-007"].contractor.name == "ЖШС «ҚЫЗМЕТ»"
    assert {c.status.value for c in contracts.values()} == {"active"}
    types = {m.title: m.type.value for m in db.session.scalars(sa.select(Milestone))}
    assert types == {"Поставка ёлок": "delivery", "Отчёт": "delivery", "Есеп": "delivery"}


def test_every_problem_of_every_row_is_named_with_its_cell_in_one_pass(any_app):
    officer = _world(any_app)
    rows = [
        _header(),
        ["А-2026-061", "01.02.2026", "ДУИС по Карагандинской области", "ТОО «АРМАНКЕН»",
         "Учреждение на 1500 мест «Ёлочка»", "Поставка", "1000", "", "Этап 1", "Поставка",
         "01.03.2026"],
        # row 3: a day that does not exist, and an unknown status
        ["А-2026-062", "31.02.2027", "ДУИС по Карагандинской области", "ТОО «АРМАНКЕН»",
         "Учреждение на 1500 мест «Ёлочка»", "Поставка", "1000", "Заморожен", "Этап 1",
         "Поставка", "01.03.2026"],
        # row 4: a further milestone of row 3's contract, itself with a bad type
        ["А-2026-062", "", "", "", "", "", "", "", "Этап 2", "Доставка", "01.04.2026"],
        # row 5: an unknown contractor, and a milestone without its type
        ["А-2026-063", "01.02.2026", "ДУИС по Карагандинской области", "ТОО «Нет такого»",
         "Учреждение на 1500 мест «Ёлочка»", "Поставка", "1000", "", "Этап 1", "",
         "01.03.2026"],
    ]  # fmt: skip
    with force_locale("ru"):
        batch = _checked(officer, rows)
    problems = {(e["row"], e["letter"]): e["message"] for e in batch.errors}
    # the columns as the file has them: B the date, H the status, J the type, D the contractor
    assert set(problems) == {(3, "B"), (3, "H"), (4, "J"), (5, "D"), (5, "J")}, problems
    assert problems[(3, "B")] == "Такого дня нет: 31.02.2027."
    assert problems[(3, "H")].startswith("Недопустимое значение «Заморожен»; допустимые значения:")
    assert "Действует" in problems[(3, "H")] and "active" not in problems[(3, "H")]
    assert "Доставка" in problems[(4, "J")]
    assert problems[(5, "D")] == "Нет контрагента с наименованием «ТОО «Нет такого»»."
    assert db.session.scalar(sa.select(sa.func.count(Contract.id))) == 0
