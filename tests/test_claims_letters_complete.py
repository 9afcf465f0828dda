"""A claim letter a department can sign (issue 13): both parties' requisites, the payment
details, the penalty clause by number, the legal basis, why a due date moved, earlier letters
described truly, a pending case referred to instead of a threat, a Kazakh letter in Kazakh (and
flagged where it is not), and every word in the letter's language whoever fetches it. Read back
from the DOCX (python-docx) and the PDF (pdftotext) on PostgreSQL and SQLite."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from docx import Document

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.auth.services import create_user, issue_token
from ppp_tracker.claims import (
    cases,
    composing,
    departments,
    drafting,
    escalation,
    letter_facts,
    sending,
)
from ppp_tracker.claims.models import Department
from ppp_tracker.core.audit import AuditEvent
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.identifiers import make_bin, make_iban
from ppp_tracker.registry.services.milestones import save_milestone
from ppp_tracker.registry.services.parties import save_party
from tests import factories
from tests.conftest import PASSWORD, csrf_token

D = Decimal
NBSP = "\xa0"
DEPARTMENT_BIN = make_bin("14034001653")
CONTRACTOR_BIN = make_bin("99014000116")
IIK = make_iban("070105KSN0000000")


def flat(text: str) -> str:
    """One line of single spaces; the letters' no-break hyphen (U+2011) read as a hyphen, and a
    range of articles the PDF broke after its dash ("349–" / "351") joined again."""
    text = " ".join(text.replace(NBSP, " ").replace("\u2011", "-").split())
    return re.sub(r"(\d)– (\d)", r"\1–\2", text)


def docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return flat(" ".join(parts))


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True)
    return flat(out.stdout.decode())


def letter_texts(claim, lang: str, tmp_path) -> tuple[str, str]:
    return (
        docx_text(composing.letter_file(claim, lang, "docx")),
        pdf_text(composing.letter_file(claim, lang, "pdf"), tmp_path),
    )


def _user(role: str, region: str | None = "KZ-35"):
    user, _ = create_user(
        f"{role}-{region or 'all'}-{factories.valid_bin()}@example.kz".lower(),
        role=role,
        region_code=region,
        password=PASSWORD,
    )
    db.session.commit()
    return user


def _department(**over):
    data = {
        "name_ru": "Департамент уголовно-исполнительной системы по Карагандинской области",
        "name_kk": "Қарағанды облысы бойынша қылмыстық-атқару жүйесі департаменті",
        "bin": DEPARTMENT_BIN,
        "address_ru": "г. Караганда, ул. Ерубаева, 1",
        "address_kk": "Қарағанды қ., Ерубаев к-сі, 1",
        "bank_ru": "ГУ «Комитет казначейства Министерства финансов Республики Казахстан»",
        "bank_kk": "«ҚР Қаржы министрлігінің Қазынашылық комитеті» ММ",
        "iik": IIK,
        "bik": "KKMFKZ2A",
        "kbk": "204101",
        "knp": "911",
        "head_position_ru": "Начальник Департамента",
        "head_position_kk": "Департамент бастығы",
        "head_name": "А. Б. Сейткали",
        "executor_name": "Н. Ж. Ахметова",
        "executor_phone": "+7 7212 41-00-00",
        **over,
    }
    department = departments.save_department(SYSTEM_USER, "KZ-35", data)
    db.session.commit()
    return department


@pytest.fixture
def article(any_app):
    """Contract 241 with its parties in both languages, the study due 01.05.2014 (a holiday;
    effective Sunday 04.05.2014, a working day by decree), and the department's requisites."""
    any_app.config["FAKE_TODAY"] = date(2014, 7, 14)
    _department()
    contractor = factories.party(
        name="АО «Региональный центр ГЧП Карагандинской области»",
        name_kk="«Қарағанды облысының МЖӘ өңірлік орталығы» АҚ",
        bin=CONTRACTOR_BIN,
        address="г. Караганда, ул. Бухар-Жырау, 50",
        address_kk="Қарағанды қ., Бұқар жырау к-сі, 50",
        head_position="Председателю Правления",
        head_position_kk="Басқарма Төрағасына",
        head_name="К. Л. Мусин",
    )
    contract = factories.contract(
        number="241",
        contractor_id=contractor.id,
        subject="Разработка ТЭО концессионного проекта",
        subject_kk="Концессиялық жобаның ТЭН-ін әзірлеу",
        penalty={"rate_percent_per_day": D("0.1"), "base": "total", "cap_percent": D("10")},
        penalty_clause_no="7.2",
        penalty_clause="раздел «Ответственность сторон»",
        penalty_clause_kk="«Тараптардың жауапкершілігі» бөлімі",
    )
    study = factories.milestone(
        contract,
        title="Разработка ТЭО",
        title_kk="ТЭН әзірлеу",
        due_on=date(2014, 5, 1),
        value=D("77000000.00"),
    )
    return {"app": any_app, "contract": contract, "study": study}


def _send(claim, day: date, number: str):
    sending.approve_claim(SYSTEM_USER, claim)
    sending.send_claim(SYSTEM_USER, claim, day, number)
    db.session.commit()
    return claim


def _claims_of_the_article(w):
    """1987 of 12.06.2014 and 2245 of 30.06.2014 sent; the third drafted on 14.07.2014."""
    contract, study = w["contract"], w["study"]
    first = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [study.id], "as_of": date(2014, 6, 12)}
    )
    _send(first, date(2014, 6, 12), "14-28-9-1987")
    second = drafting.create_claim(
        SYSTEM_USER,
        contract,
        {"milestone_ids": [study.id], "as_of": date(2014, 6, 30)},
        previous=first,
    )
    _send(second, date(2014, 6, 30), "14-28-9-2245")
    third = drafting.create_claim(
        SYSTEM_USER,
        contract,
        {"milestone_ids": [study.id], "as_of": date(2014, 7, 14)},
        previous=second,
    )
    db.session.commit()
    return first, second, third


def test_the_letter_names_both_parties_with_their_requisites_and_where_to_pay(article, tmp_path):
    claim = drafting.create_claim(
        SYSTEM_USER,
        article["contract"],
        {"milestone_ids": [article["study"].id], "as_of": date(2014, 6, 12)},
    )
    claim = _send(claim, date(2014, 6, 12), "14-28-9-1987")
    for text in letter_texts(claim, "ru", tmp_path):
        for expected in (
            f"БИН {DEPARTMENT_BIN}",
            "г. Караганда, ул. Ерубаева, 1",
            # The addressee: head's position, name, BIN and legal address.
            "Председателю Правления",
            "АО «Региональный центр ГЧП Карагандинской области»",
            "К. Л. Мусин",
            f"БИН {CONTRACTOR_BIN}",
            "г. Караганда, ул. Бухар-Жырау, 50",
            # Payment details in the demand.
            f"ИИК {IIK}",
            "БИК KKMFKZ2A",
            "КБК 204101",
            "КНП 911",
            "ГУ «Комитет казначейства Министерства финансов Республики Казахстан»",
            # The clause by number and the legal basis of section 5.
            "Согласно пункту 7.2 Договора (раздел «Ответственность сторон»)",
            "статьями 272, 277, 293, 349–351 Гражданского кодекса Республики Казахстан",
            # Signature and executor with names and phone.
            "Начальник Департамента",
            "А. Б. Сейткали",
            "Исп.: Н. Ж. Ахметова",
            "Тел.: +7 7212 41-00-00",
        ):
            assert expected in text, expected
        # No case yet: the letter warns of court action.
        assert "будет вынужден обратиться в" in text


def test_a_due_date_moved_by_the_calendar_is_explained_with_the_decree(article, tmp_path):
    claim = drafting.create_claim(
        SYSTEM_USER,
        article["contract"],
        {"milestone_ids": [article["study"].id], "as_of": date(2014, 6, 12)},
    )
    db.session.commit()
    ru_docx, ru_pdf = letter_texts(claim, "ru", tmp_path)
    # 01.05 is a holiday, 02.05 its moved day off, 03.05 a Saturday; Sunday 04.05 worked by decree.
    for text in (ru_docx, ru_pdf):
        assert "срок исполнения «01» мая 2014 г.; с учётом нерабочих дней (01.05.2014 — " in text
        assert "03.05.2014 — суббота" in text
        assert (
            "срок истёк в ближайший следующий рабочий день — «04» мая 2014 г. (воскресенье, "
            "рабочий день по постановлению Правительства Республики Казахстан о переносе "
            "выходных дней)"
        ) in text
    kk_docx, kk_pdf = letter_texts(claim, "kk", tmp_path)
    for text in (kk_docx, kk_pdf):
        assert "03.05.2014 — сенбі" in text
        assert "2014 жылғы «04» мамырда өтті (жексенбі, демалыс күндерін ауыстыру туралы" in text


def test_the_third_letter_tells_the_truth_about_earlier_letters_and_the_pending_case(
    article, tmp_path
):
    first, second, third = _claims_of_the_article(article)
    # 1987 (sent 12.06) ran out on 26.06; 2245 (sent 30.06, 10 working days, 07.07 a day off)
    # runs to 15.07, after the third letter's 14.07.
    assert (first.response_due_on, second.response_due_on) == (date(2014, 6, 26), date(2014, 7, 15))
    article["app"].config["FAKE_TODAY"] = date(2014, 7, 14)
    cases.save_case(
        SYSTEM_USER,
        article["contract"],
        {"filed_on": date(2014, 7, 3), "claims_register": True, "case_number": "2-1234/2014"},
    )
    db.session.commit()
    _send(third, date(2014, 7, 14), "14-28-9-2462")
    for text in letter_texts(third, "ru", tmp_path):
        assert (
            "№ 14-28-9-1987 от «12» июня 2014 г.: срок ответа истёк «26» июня 2014 г., "
            "претензия оставлена без ответа и удовлетворения"
        ) in text
        assert (
            "№ 14-28-9-2245 от «30» июня 2014 г.: срок ответа на неё ещё не истёк "
            "(истекает «15» июля 2014 г.)"
        ) in text
        assert "14-28-9-2245 от «30» июня 2014 г.: срок ответа истёк" not in text
        assert (
            "«03» июля 2014 г. Заказчик обратился в Специализированный межрайонный экономический "
            "суд Карагандинской области с иском о взыскании неустойки и о признании Исполнителя "
            "недобросовестным участником государственных закупок (дело № 2-1234/2014)"
        ) in text
        # The case is referred to instead of the threat to sue.
        assert "будет вынужден обратиться" not in text
    for text in letter_texts(third, "kk", tmp_path):
        assert "2014 жылғы «14» шілдедегі № 14-28-9-2462" in text
        assert "оған жауап беру мерзімі әлі өткен жоқ (2014 жылғы «15» шілдеде аяқталады)" in text
        assert (
            "сотқа (Қарағанды облысының мамандандырылған ауданаралық экономикалық соты) жүгінді"
            in text
        )
        assert "жүгінуге мәжбүр болады" not in text


def test_an_answered_earlier_letter_is_said_to_be_answered(article, tmp_path):
    first, _second, _third = _claims_of_the_article(article)
    escalation.record_reply(
        SYSTEM_USER, first, {"received_on": date(2014, 6, 20), "kind": "answer"}
    )
    db.session.commit()
    text = docx_text(composing.letter_file(_third, "ru", "docx"))
    assert (
        "№ 14-28-9-1987 от «12» июня 2014 г.: ответ Исполнителя получен «20» июня 2014 г." in text
    )


#: Russian words of the letter's fixed text or of the records that have a Kazakh version;
#: none may appear in a Kazakh letter whose records are complete.
RUSSIAN = re.compile(
    r"Договор|договор|Исполнител|Заказчик|претензи|неустойк|Департамент уголовно|"
    r"Председателю|Начальник|Разработка|Ответственность|Специализированный|суббота|"
    r"воскресенье|постановлению|Итого|Обязательство|Срок исполнения|г\. Караганда|БИН|ИИК|БИК|"
    r"КБК|КНП|Исп\.|получатель"
)


def test_a_kazakh_letter_is_kazakh_throughout_and_says_so(article, tmp_path):
    _first, _second, third = _claims_of_the_article(article)
    cases.save_case(SYSTEM_USER, article["contract"], {"filed_on": date(2014, 7, 3)})
    db.session.commit()
    assert letter_facts.kazakh_gaps(third) == []
    _send(third, date(2014, 7, 14), "14-28-9-2462")
    for text in letter_texts(third, "kk", tmp_path):
        assert RUSSIAN.findall(text) == [], RUSSIAN.findall(text)
        for expected in (
            "«Қарағанды облысының МЖӘ өңірлік орталығы» АҚ",
            "Басқарма Төрағасына",
            "Концессиялық жобаның ТЭН-ін әзірлеу",
            "ТЭН әзірлеу",
            "Шарттың 7.2-тармағына («Тараптардың жауапкершілігі» бөлімі) сәйкес",
            "тұрақсыздық айыбын (өсімпұлды) төлейді",
            "Азаматтық кодексінің 272, 277, 293, 349–351-баптарына сәйкес",
            f"БСН {DEPARTMENT_BIN}",
            f"ЖСК {IIK}",
            "БСК KKMFKZ2A",
            "БЖК 204101",
            "ТМК 911",
            "Департамент бастығы",
            "Орынд.: Н. Ж. Ахметова",
            "Барлығы",
        ):
            assert expected in text, expected


def test_a_kazakh_letter_with_untranslated_parts_is_flagged_and_needs_a_confirmation(
    article, client_for, tmp_path
):
    contract, study = article["contract"], article["study"]
    save_milestone(SYSTEM_USER, contract, {"title_kk": None}, study)
    save_party(SYSTEM_USER, {"head_position_kk": None}, contract.contractor)
    claim = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [study.id], "as_of": date(2014, 6, 12)}
    )
    sending.approve_claim(SYSTEM_USER, claim)
    db.session.commit()
    assert letter_facts.kazakh_gaps(claim) == ["addressee.head_position", "milestones.1.title"]
    # The claim page warns, and so does the API read.
    legal = _user("legal")
    client = client_for(legal)
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert 'id="kazakh-gaps"' in page
    assert "должность руководителя подрядчика" in page and "наименование обязательства 1" in page
    headers = {"Authorization": f"Bearer {issue_token(legal, 'test')}"}
    db.session.commit()
    body = client.get(f"/api/v1/claims/{claim.id}", headers=headers).get_json()
    assert [g["field"] for g in body["kazakh_gaps"]] == [
        "addressee.head_position",
        "milestones.1.title",
    ]
    # Sending without the confirmation is refused, with the reason; nothing is numbered.
    r = client.post(
        f"/api/v1/claims/{claim.id}/send", json={"sent_on": "2014-06-12"}, headers=headers
    )
    assert r.status_code == 409
    assert "acknowledge_kazakh_gaps" in r.get_json()["errors"]
    db.session.refresh(claim)
    assert claim.status == "approved" and claim.outgoing_number is None
    r = client.post(
        f"/api/v1/claims/{claim.id}/send",
        json={"sent_on": "2014-06-12", "acknowledge_kazakh_gaps": True},
        headers=headers,
    )
    assert r.status_code == 200, r.get_json()
    db.session.refresh(claim)
    assert claim.letter_snapshot["kazakh_gaps_acknowledged"] == [
        "addressee.head_position",
        "milestones.1.title",
    ]
    # The Russian stands in where Kazakh is missing, and only there.
    text = docx_text(composing.letter_file(claim, "kk", "docx"))
    assert "Председателю Правления" in text and "Разработка ТЭО" in text
    assert "«Қарағанды облысының МЖӘ өңірлік орталығы» АҚ" in text


def test_every_word_of_the_letter_is_in_its_language_whoever_fetches_it(article, client_for):
    claim = drafting.create_claim(
        SYSTEM_USER,
        article["contract"],
        {"milestone_ids": [article["study"].id], "as_of": date(2014, 6, 12)},
    )
    db.session.commit()
    for locale in ("en", "kk", "ru"):
        user = _user("legal")
        user.locale = locale
        token = issue_token(user, "test")
        db.session.commit()
        client = client_for(user)
        for lang, total, other in (("ru", "Итого", "Барлығы"), ("kk", "Барлығы", "Итого")):
            r = client.get(
                f"/api/v1/claims/{claim.id}/letter.docx?lang={lang}",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 200
            table = Document(io.BytesIO(r.data)).tables[0]
            words = {cell.text for row in table.rows for cell in row.cells}
            assert total in words and "Total" not in words and other not in words, (locale, lang)
            page = client.get(f"/claims/{claim.id}/letter.docx?lang={lang}")
            assert page.status_code == 200
            words = {
                c.text for row in Document(io.BytesIO(page.data)).tables[0].rows for c in row.cells
            }
            assert total in words and "Total" not in words, (locale, lang)


# --- the admin page of the departments -----------------------------------------------------------


@pytest.fixture
def client_for(any_app):
    def _client(user):
        client = any_app.test_client()
        token = csrf_token(client, "/login")
        r = client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 302
        return client

    return _client


def _form(**over) -> dict:
    return {
        "name_ru": "Департамент УИС по Карагандинской области",
        "name_kk": "Қарағанды облысы бойынша ҚАЖ департаменті",
        "bin": DEPARTMENT_BIN,
        "iik": IIK,
        "bik": "KKMFKZ2A",
        "kbk": "204101",
        "knp": "911",
        "legal_basis": "272, 277, 293, 349-351",
        **over,
    }


def test_only_admins_edit_a_departments_requisites_with_csrf_and_audit(any_app, client_for):
    url = "/departments/KZ-35"
    for role in ("legal", "manager", "officer", "viewer"):
        client = client_for(_user(role, None if role == "manager" else "KZ-35"))
        assert client.get(url).status_code == 403, role
        token = csrf_token(client, "/")
        assert client.post(url, data={**_form(), "csrf_token": token}).status_code == 403, role
    admin = _user("admin", None)
    client = client_for(admin)
    # Without the CSRF token nothing is saved.
    r = client.post(url, data=_form())
    assert r.status_code in (400, 422)
    assert db.session.scalar(sa.select(Department)) is None
    token = csrf_token(client, url)
    r = client.post(url, data={**_form(), "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[-1500:]
    department = db.session.scalar(sa.select(Department))
    # A hyphen between two articles is read as a range.
    assert (department.bin, department.iik, department.legal_basis) == (
        DEPARTMENT_BIN,
        IIK,
        "272, 277, 293, 349–351",
    )
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "departments")
    ).all()
    assert [e.action for e in events] == ["create"]
    assert events[0].actor == admin.email
    page = client.get(url).get_data(as_text=True)
    assert "Департамент УИС по Карагандинской области" in page
    assert "Қарағанды облысы бойынша ҚАЖ департаменті" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bin", "12345678901"),  # 11 digits
        ("bin", DEPARTMENT_BIN[:-1] + str((int(DEPARTMENT_BIN[-1]) + 1) % 10)),  # control digit
        ("iik", IIK[:-1] + ("1" if IIK[-1] != "1" else "2")),  # check digits
        ("iik", "KZ2407010"),  # too short
        ("iik", "RU24070105KSN0000000"),  # not Kazakh
        ("bik", "KKMFKZ2"),  # 7 characters
        ("bik", "KKMFRU2A"),  # not a Kazakh bank
        ("kbk", "20410"),
        ("knp", "9x1"),
        ("legal_basis", "статья 293"),
        ("legal_basis", "351–349"),
        ("name_ru", ""),
    ],
)
def test_bad_requisites_are_refused_next_to_their_field(any_app, client_for, field, value):
    client = client_for(_user("admin", None))
    url = "/departments/KZ-35"
    token = csrf_token(client, url)
    r = client.post(url, data={**_form(**{field: value}), "csrf_token": token})
    assert r.status_code == 422
    assert f'data-field-error="{field}"' in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(Department)) is None
    with pytest.raises(Invalid) as refused:
        departments.save_department(SYSTEM_USER, "KZ-35", _form(**{field: value}))
    assert field in refused.value.errors
    db.session.rollback()


def test_a_region_without_a_department_sends_under_the_customer_without_payment_details(
    any_app, tmp_path
):
    any_app.config["FAKE_TODAY"] = date(2014, 6, 12)
    contract = factories.contract(
        customer_id=factories.party(
            kind="government", bin=None, name="Акимат", name_kk="Әкімдік"
        ).id
    )
    study = factories.milestone(contract, due_on=date(2014, 5, 1), value=D("1000.00"))
    claim = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [study.id], "as_of": date(2014, 6, 12)}
    )
    db.session.commit()
    text = docx_text(composing.letter_file(claim, "ru", "docx"))
    assert "Акимат (далее — Заказчик)" in text
    assert "Реквизиты для перечисления" not in text and "ИИК" not in text
    assert "статьями 272, 277, 293, 349–351" in text
