"""Legal staff's pages through the test client with real CSRF tokens, as users see them (in
Russian, the default): the penalty in words, drafting, four eyes, sending, replies, the queue,
lawsuits, the admins' letter texts and numbering, and the demo's letters of the article."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import drafting, numbering, scanning, sending
from ppp_tracker.claims.letters import texts
from ppp_tracker.claims.models import Case, Claim, LetterTemplate
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.db import db
from ppp_tracker.registry.models import Milestone
from tests import factories
from tests.conftest import login, post_form

D = Decimal
NBSP = "\xa0"


def text_of(response) -> str:
    """The page as a user reads it: tags dropped, entities and spaces plain."""
    html = response.get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", html)
    for entity, char in (("&nbsp;", " "), ("&#34;", '"'), ("&#39;", "'"), ("&quot;", '"')):
        text = text.replace(entity, char)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.replace(NBSP, " ").split())


@pytest.fixture
def case241(app, set_today):
    set_today("2014-06-12")
    contract = factories.contract(
        number="241",
        total_amount=D("77000000.00"),
        penalty={"rate_percent_per_day": D("0.1"), "base": "total", "cap_percent": D("10")},
    )
    study = factories.milestone(
        contract, title="Разработка ТЭО", due_on=date(2014, 5, 1), value=D("77000000.00")
    )
    return contract, study


def test_the_contract_page_explains_the_penalty_in_words(client, make_user, case241):
    contract, _study = case241
    login(client, make_user("officer"))
    page = text_of(client.get(f"/contracts/{contract.id}?penalty_as_of=2014-06-12"))
    assert "Неустойка (ст. 293 ГК РК) на 12.06.2014" in page
    # Why the date moved, from the calendar.
    assert "срок — 04.05.2014: 01.05.2014 — Праздник единства народа Казахстана" in page
    # 39 days (05.05–12.06), with the plural form of 39 ("дней").
    assert "Просрочка с 05.05.2014 по 12.06.2014 включительно: 39 дней." in page
    assert "77 000 000,00 ₸ × 0,1 % = 77 000,00 ₸ в день; × 39 дней = 3 003 000,00 ₸." in page
    assert "Предел 7 700 000,00 ₸ не достигнут." in page
    assert "Всего неустойка: 3 003 000,00 ₸." in page
    # Officers read; only legal staff get the button to draft a claim.
    assert "Подготовить претензию по этому расчёту" not in page
    later = text_of(client.get(f"/contracts/{contract.id}?penalty_as_of=2014-12-31"))
    assert "Предел 10 % (7 700 000,00 ₸) достигнут: неустойка составляет 7 700 000,00 ₸." in later


def test_the_same_calculation_comes_from_the_api(client, make_user, api_token, case241):
    contract, study = case241
    r = client.get(
        f"/api/v1/contracts/{contract.id}/penalty?as_of=2014-06-12",
        headers=api_token(make_user("viewer")),
    )
    assert r.status_code == 200
    assert r.get_json() == {
        "as_of": "2014-06-12",
        "milestones": [
            {
                "milestone_id": study.id,
                "title": "Разработка ТЭО",
                "due_on": "2014-05-01",
                "effective_due_on": "2014-05-04",
                "counted_until": "2014-06-12",
                "days_late": 39,
                "base": "77000000.00",
                "daily_amount": "77000.00",
                "accrued": "3003000.00",
                "capped": False,
                "cap_amount": "7700000.00",
                "missing_value": False,
                # 05.05–12.06.2014: 27 + 12 days, none older than three years.
                "counted_from": "2014-05-05",
                "counted_to": "2014-06-12",
                "days_counted": 39,
                "days_time_barred": 0,
                "time_barred": "0.00",
            }
        ],
        "total": "3003000.00",
        "days_counted": 39,
        "terms": {"rate_percent_per_day": "0.1", "base": "total", "cap_percent": "10"},
        "warnings": [],
    }


def test_legal_staff_draft_approve_and_send_a_claim_through_the_pages(client, make_user, case241):
    contract, study = case241
    lawyer, colleague = make_user("legal"), make_user("legal")
    login(client, lawyer)
    r = post_form(
        client,
        f"/contracts/{contract.id}/claims/new",
        {"milestone_ids": str(study.id), "as_of": "2014-06-12", "demand": "perform_and_pay"},
    )
    assert r.status_code == 302, text_of(r)[-2000:]
    claim_url = r.headers["Location"]
    page = text_of(client.get(claim_url))
    assert "Проект претензии сохранён" in page
    assert "Претензия 1 по договору № 241" in page and "3 003 000,00 ₸" in page
    # The letter preview in both languages.
    assert "ПРЕТЕНЗИЯ о нарушении сроков исполнения договора" in page
    assert "КІНӘРАТ-ТАЛАП" in page
    # Four eyes: the drafter cannot approve.
    r = post_form(client, claim_url + "/approve", {}, form_url=claim_url, follow_redirects=True)
    assert "согласовать его должен другой сотрудник" in text_of(r)
    post_form(client, "/logout", {}, form_url=claim_url)
    login(client, colleague)
    r = post_form(client, claim_url + "/approve", {}, form_url=claim_url, follow_redirects=True)
    assert "Претензия согласована." in text_of(r)
    # A date in the future is refused next to the field, nothing is sent.
    r = post_form(client, claim_url + "/send", {"sent_on": "2014-06-13"}, form_url=claim_url)
    assert r.status_code == 422
    assert 'data-field-error="sent_on"' in r.get_data(as_text=True)
    assert "Письмо нельзя отправить будущей датой." in text_of(r)
    r = post_form(
        client,
        claim_url + "/send",
        {"sent_on": "2014-06-12", "acknowledge_kazakh_gaps": "y"},
        form_url=claim_url,
        follow_redirects=True,
    )
    page = text_of(r)
    assert "Отправлено: исх. № 14-28-9-1 от 12.06.2014; ответ ожидается до 26.06.2014." in page
    assert "Исх. № 14-28-9-1 от «12» июня 2014 г." in page  # the letter preview, as sent
    # Sending twice, editing after sending: refused with a message.
    r = post_form(
        client,
        claim_url + "/send",
        {"sent_on": "2014-06-12", "acknowledge_kazakh_gaps": "y"},
        form_url=claim_url,
        follow_redirects=True,
    )
    assert "Эта претензия уже отправлена под № 14-28-9-1 12.06.2014." in text_of(r)
    r = client.get(claim_url + "/edit", follow_redirects=True)
    assert "Отправленное письмо не меняется" in text_of(r)


def test_a_reply_is_recorded_and_the_contract_page_shows_the_whole_history(
    client, make_user, case241
):
    contract, study = case241
    lawyer = make_user("legal")
    claim = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [study.id], "as_of": date(2014, 6, 12)}
    )
    sending.approve_claim(lawyer, claim)
    sending.send_claim(lawyer, claim, date(2014, 6, 12), acknowledge_kazakh_gaps=True)
    db.session.commit()
    login(client, lawyer)
    claim_url = f"/claims/{claim.id}"
    r = post_form(
        client,
        claim_url + "/reply",
        {"received_on": "2014-06-11", "kind": "answer", "summary": "Просим отсрочку"},
        form_url=claim_url,
    )
    assert r.status_code == 422 and "Ответ не может прийти раньше отправки претензии." in text_of(r)
    r = post_form(
        client,
        claim_url + "/reply",
        {
            "received_on": "2014-06-12",
            "kind": "answer",
            "incoming_number": "15–07",
            "summary": "Просим отсрочку",
            "paid_amount": "",
        },
        form_url=claim_url,
        follow_redirects=True,
    )
    assert "Ответ зарегистрирован." in text_of(r) and "Получен ответ" in text_of(r)
    page = text_of(client.get(f"/contracts/{contract.id}"))
    assert "Претензии и иски" in page
    assert "письмо 1 Получен ответ 14-28-9-1 12.06.2014 26.06.2014 3 003 000,00 ₸" in page
    assert "12.06.2014 · Ответ" in page


def test_an_edit_before_sending_is_a_new_version(client, make_user, case241, set_today):
    contract, study = case241
    claim = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [study.id], "as_of": date(2014, 6, 12)}
    )
    db.session.commit()
    set_today("2014-06-30")
    login(client, make_user("legal"))
    r = post_form(
        client,
        f"/claims/{claim.id}/edit",
        {
            "milestone_ids": str(study.id),
            "as_of": "2014-06-30",
            "demand": "pay",
            "facts_note": "Письмом от 20.06.2014 Исполнитель просил продлить срок.",
            "attachments": "Копия договора № 241 на 12 л.",
        },
        follow_redirects=True,
    )
    page = text_of(r)
    assert "Сохранено как новая версия." in page
    assert "4 389 000,00 ₸" in page  # 57 days
    assert "Неустойка на дату: 12.06.2014 → 30.06.2014" in page
    assert (
        "Требование письма: Исполнить обязательства и уплатить неустойку → Уплатить неустойку"
    ) in page
    assert "Неустойка: 3 003 000,00 ₸ → 4 389 000,00 ₸" in page
    assert "Письмом от 20.06.2014 Исполнитель просил продлить срок." in page
    r = post_form(
        client,
        f"/claims/{claim.id}/edit",
        {"as_of": "2014-07-01", "demand": "pay"},  # no box ticked: the browser sends none
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'data-field-error="milestone_ids"' in html and 'data-field-error="as_of"' in html
    assert "Выберите хотя бы одно просроченное обязательство." in text_of(r)
    assert "Неустойку нельзя рассчитать на дату позже сегодняшней." in text_of(r)


def test_the_queue_lists_drafts_and_finds_a_number_typed_with_en_dashes(client, make_user, case241):
    _contract, _study = case241
    with acting_as(Actor("worker:claims.scan")):
        [draft_id] = scanning.scan(date(2014, 6, 12)).drafted
        db.session.commit()
    other = factories.contract(number="777", region="KZ-63")
    factories.milestone(other, due_on=date(2014, 5, 1))
    scanning.scan(date(2014, 6, 12))
    db.session.commit()
    login(client, make_user("legal", "KZ-35"))
    page = client.get("/claims").get_data(as_text=True)
    assert f"/claims/{draft_id}" in page
    assert "№ 777" not in text_of(client.get("/claims"))  # another region's claim
    claim = db.session.get(Claim, draft_id)
    sending.approve_claim(SYSTEM_USER, claim)
    sending.send_claim(
        SYSTEM_USER, claim, date(2014, 6, 12), "14-28-9-1987", acknowledge_kazakh_gaps=True
    )
    db.session.commit()
    found = client.get("/claims?tab=all&q=14–28–9-1987").get_data(as_text=True)
    assert f"/claims/{draft_id}" in found
    waiting = text_of(client.get("/claims?tab=waiting"))
    assert "14-28-9-1987" in waiting and "26.06.2014" in waiting


def test_a_lawsuit_with_a_hearing_through_the_pages(client, make_user, case241, set_today):
    contract, _study = case241
    set_today("2014-07-03")
    lawyer = make_user("legal")
    login(client, lawyer)
    r = post_form(
        client,
        f"/contracts/{contract.id}/cases/new",
        {"court_name": "", "filed_on": "2014-07-03", "outcome": "pending"},
    )
    assert r.status_code == 422  # the court is required (prefilled on the form)
    r = post_form(
        client,
        f"/contracts/{contract.id}/cases/new",
        {
            "court_name": contract.region.court_name,
            "filed_on": "2014-07-03",
            "claims_penalty": "y",
            "claims_register": "y",
            "amount_claimed": "4 620 000,00",
            "outcome": "pending",
        },
        follow_redirects=True,
    )
    page = text_of(r)
    assert "Иск подан 03.07.2014" in page and "Реестр недобросовестных участников" in page
    case = db.session.scalar(sa.select(Case))
    assert case.amount_claimed == D("4620000.00")
    r = post_form(
        client,
        f"/cases/{case.id}/hearings",
        {"hearing_on": "2014-08-12", "note": "Зал № 5"},
        form_url=f"/cases/{case.id}",
        follow_redirects=True,
    )
    assert "Заседание добавлено в сроки договора." in text_of(r)
    contract_page = text_of(client.get(f"/contracts/{contract.id}"))
    assert "Судебное заседание: Специализированный межрайонный экономический суд" in contract_page
    [hearing] = case.hearings
    set_today("2014-08-12")
    r = post_form(
        client,
        f"/cases/{case.id}/hearings/{hearing.milestone_id}/held",
        {"held_on": "2014-08-12"},
        form_url=f"/cases/{case.id}",
        follow_redirects=True,
    )
    assert "состоялось 12.08.2014" in text_of(r)


def test_an_admin_changes_the_letter_text_and_a_broken_one_is_refused(client, make_user, case241):
    contract, study = case241
    login(client, make_user("admin", None))
    url = "/letter-templates/ru"
    page = client.get(url).get_data(as_text=True)
    assert "{% block body %}" in page  # the default text, to edit
    broken = texts.default_text("ru").replace("{{ contract.number }}", "{{ contract.numbr }}")
    r = post_form(client, url, {"body": broken, "note": "опечатка"})
    assert r.status_code == 422
    assert 'data-field-error="body"' in r.get_data(as_text=True)
    line = next(n for n, row in enumerate(broken.splitlines(), 1) if "contract.numbr" in row)
    assert f"Строка {line}: У «contract» нет поля «numbr»." in text_of(r)
    assert db.session.scalar(sa.select(sa.func.count(LetterTemplate.id))) == 0
    changed = texts.default_text("ru").replace("ПРЕТЕНЗИЯ{% if", "ДОСУДЕБНАЯ ПРЕТЕНЗИЯ{% if", 1)
    r = post_form(client, url, {"body": changed, "note": "заголовок"}, follow_redirects=True)
    assert "Действует версия 1 текста письма." in text_of(r)
    claim = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [study.id], "as_of": date(2014, 6, 12)}
    )
    db.session.commit()
    assert "ДОСУДЕБНАЯ ПРЕТЕНЗИЯ" in text_of(client.get(f"/claims/{claim.id}"))


def test_the_numbering_page_moves_the_counter_forward_only(client, make_user):
    login(client, make_user("admin", None))
    r = post_form(client, "/numbering", {"last_number": "14–28–9-2462"}, follow_redirects=True)
    assert "Следующее письмо получит № 14-28-9-2463." in text_of(r)
    r = post_form(client, "/numbering", {"last_number": "14-28-9-100"})
    assert r.status_code == 422
    assert "Номера до 14-28-9-2462 уже использованы" in text_of(r)
    assert numbering.last_used() == 2462


@pytest.mark.slow
def test_the_demo_carries_the_article_letters_and_the_lawsuit(app, set_today):
    set_today("2016-04-28")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "demo"]).exit_code == 0
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "claims_of_the_article=3" in result.output
    claims = db.session.scalars(
        sa.select(Claim).where(Claim.outgoing_number.is_not(None)).order_by(Claim.sent_on)
    ).all()
    assert [(c.outgoing_number, c.sent_on, c.penalty_total, c.sequence) for c in claims] == [
        ("14-28-9-1987", date(2014, 6, 12), D("3003000.00"), 1),
        ("14-28-9-2245", date(2014, 6, 30), D("4389000.00"), 2),
        ("14-28-9-2462", date(2014, 7, 14), D("5467000.00"), 3),
    ]
    assert [c.status for c in claims] == ["escalated"] * 3
    assert all(c.prepared_by.email == "legal@demo.kz" for c in claims)
    assert all(c.approved_by.email == "admin@demo.kz" for c in claims)
    [case] = db.session.scalars(sa.select(Case)).all()
    assert (case.filed_on, case.claims_penalty, case.claims_register) == (
        date(2014, 7, 3),
        True,
        True,
    )
    assert case.amount_claimed == D("4620000.00")  # 60 days on 03.07.2014
    assert [c.outgoing_number for c in case.claims] == [c.outgoing_number for c in claims]
    # The counter continues after the article's numbers and never reuses them.
    assert numbering.last_used() == 2462


def test_an_officer_dates_a_milestone_from_the_sending_of_a_claim(client, make_user, case241):
    contract, study = case241
    claim = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [study.id], "as_of": date(2014, 6, 12)}
    )
    db.session.commit()
    login(client, make_user("officer"))
    url = f"/contracts/{contract.id}/milestones/new"
    assert "Претензия 1 (ещё не отправлена)" in text_of(client.get(url))
    r = post_form(
        client,
        url,
        {
            "title": "Уплата неустойки по претензии",
            "type": "payment",
            "obligor": "contractor",
            "responsible": "",
            "relative_to": "",
            "relative_to_claim": str(claim.id),
            "relative_amount": "10",
            "relative_unit": "working_days",
            "status": "scheduled",
        },
    )
    assert r.status_code == 302, text_of(r)[-1500:]
    milestone = db.session.scalar(
        sa.select(Milestone).where(Milestone.title == "Уплата неустойки по претензии")
    )
    assert milestone.relative_to_claim_id == claim.id and milestone.due_on is None
    page = text_of(client.get(f"/milestones/{milestone.id}"))
    assert "10 рабочих дней после отправки претензии 1" in page
