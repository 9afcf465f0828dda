"""Words an officer reads: numbers with the right plural form in ru, kk and en, labels instead
of codes (history included), one name for the contractor and one for the officer."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract
from ppp_tracker.registry.services.contracts import save_contract
from tests import factories
from tests.conftest import login, post_form


def _in(client, locale: str) -> None:
    post_form(client, "/locale", {"locale": locale, "next": "/"}, form_url="/")


def _contract_page(client, contract_id: int) -> str:
    return client.get(f"/contracts/{contract_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("days", "working", "ru", "en"),
    [
        # Russian: 1, 21 → день; 2–4, 22 → дня; 5–20, 11, 111 → дней.
        (1, True, "1 рабочий день", "1 working day"),
        (21, False, "21 календарный день", "21 calendar days"),
        (3, True, "3 рабочих дня", "3 working days"),
        (11, True, "11 рабочих дней", "11 working days"),
        (5, False, "5 календарных дней", "5 calendar days"),
    ],
)
def test_the_claim_response_period_takes_the_plural_form_of_its_number(
    app, client, make_user, days, working, ru, en
):
    contract = factories.contract(
        "KZ-35", response_period={"days": days, "working": working}, grace_working_days=1
    )
    login(client, make_user("officer", "KZ-35"))
    page = _contract_page(client, contract.id)
    assert ru in page
    # The grace period of one working day: never "1 рабочих дней".
    assert ">1 рабочий день<" in page and not re.search(r"(?<!\d)1 рабочих дней", page)
    _in(client, "en")
    page = _contract_page(client, contract.id)
    assert en in page and not re.search(r"(?<!\d)1 working days", page)
    _in(client, "kk")
    page = _contract_page(client, contract.id)
    # Kazakh nouns after a number stay singular.
    assert f"{days} {'жұмыс күні' if working else 'күнтізбелік күн'}" in page


def test_days_late_on_the_dashboard_agree_with_their_number(app, client, make_user, set_today):
    set_today("2014-06-12")
    contract = factories.contract("KZ-35", number="241")
    # Due Wednesday 11.06.2014 (a working day): one day late on 12.06.
    factories.milestone(contract, title="Одно", due_on=date(2014, 6, 11))
    # Due Monday 19.05.2014: 24 days late on 12.06 (20.05 … 12.06).
    factories.milestone(contract, title="Другое", due_on=date(2014, 5, 19))
    login(client, make_user("officer", "KZ-35"))
    page = client.get("/").get_data(as_text=True)
    assert "просрочка 1 день" in page and "просрочка 24 дня" in page
    assert not re.search(r"(?<!\d)1 дней", page)
    _in(client, "en")
    page = client.get("/").get_data(as_text=True)
    assert (
        "1 day late" in page
        and "24 days late" in page
        and not re.search(r"(?<!\d)1 days late", page)
    )


def test_the_history_of_a_contract_reads_in_words_not_codes(app, client, make_user):
    contract = factories.contract(
        "KZ-35", penalty={"rate_percent_per_day": Decimal("0.1"), "base": "total"}
    )
    save_contract(factories.SYSTEM_USER, {"penalty": {"base": "outstanding"}}, contract=contract)
    db.session.commit()
    login(client, make_user("officer", "KZ-35"))
    page = _contract_page(client, contract.id)
    history = page[page.index('id="history"') :]
    assert "penalty_base" not in history and "outstanding" not in history
    assert (
        "База начисления неустойки: Общая сумма договора → Стоимость неисполненного обязательства"
        in history
    )
    assert "Договор #" in history and "contracts #" not in history


def test_a_milestone_says_its_state_once_and_whether_performance_is_recorded(
    app, client, make_user, set_today
):
    set_today("2014-06-12")
    contract = factories.contract("KZ-35")
    milestone = factories.milestone(contract, due_on=date(2014, 5, 19), code="feasibilityStudy")
    login(client, make_user("officer", "KZ-35"))
    page = client.get(f"/milestones/{milestone.id}").get_data(as_text=True)
    assert "Статус" not in page.split('id="history"')[0]
    assert "Отметка об исполнении" in page and "ещё нет" in page
    assert "Просрочено" in page
    # The OCDS code as words ("feasibilityStudy" only in a tooltip).
    assert "Технико-экономическое обоснование" in page
    assert ">feasibilityStudy<" not in page
    history = page[page.index('id="history"') :]
    assert "feasibilityStudy" not in history and "Технико-экономическое обоснование" in history
    # A reference is a reference ("#3"), the record's own id is not repeated as a change.
    assert f"Договор: #{contract.id}" in history and "Id:" not in history


def test_the_contractor_and_the_officer_have_different_names(app, client, make_user):
    contract = factories.contract("KZ-35")
    login(client, make_user("officer", "KZ-35"))
    page = client.get(f"/contracts/{contract.id}/edit").get_data(as_text=True)
    assert "Подрядчик" in page and "Ответственный" in page
    assert "Исполнитель" not in page
    assert db.session.get(Contract, contract.id) is not None
