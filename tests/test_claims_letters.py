"""Claim letters as people receive them: the DOCX read back with python-docx, the PDF with
pdftotext; numbers, dates in legal style, amounts in digits and words, Russian and Kazakh; odd
input stays text; admins' letter texts are checked before saving; a sent letter never changes."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from docx import Document

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import composing, drafting, sending
from ppp_tracker.claims.letters import texts
from ppp_tracker.claims.letters.style import (
    amount_in_words,
    date_of,
    date_on,
    date_until,
    legal_date,
)
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.services.parties import save_party
from tests import factories

D = Decimal
NBSP = "\xa0"


def docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(content)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return out.stdout.decode()


def flat(text: str) -> str:
    """pdftotext breaks lines where the page does; compare as one line of single spaces."""
    return " ".join(text.replace(NBSP, " ").split())


@pytest.mark.parametrize(
    ("amount", "lang", "words"),
    [
        ("3003000.00", "ru", "три миллиона три тысячи тенге 00 тиын"),
        ("77000000.00", "ru", "семьдесят семь миллионов тенге 00 тиын"),
        ("1001.05", "ru", "одна тысяча один тенге 05 тиын"),
        ("21.50", "ru", "двадцать один тенге 50 тиын"),
        ("3003000.00", "kk", "үш миллион үш мың теңге 00 тиын"),
        ("4389000.99", "kk", "төрт миллион үш жүз сексен тоғыз мың теңге 99 тиын"),
    ],
)
def test_amounts_in_words_are_tenge_in_words_and_tiyn_in_digits(amount, lang, words):
    assert amount_in_words(D(amount), lang) == words


@pytest.mark.parametrize(
    ("day", "lang", "style", "expected"),
    [
        (date(2014, 6, 12), "ru", legal_date, "«12» июня 2014 г."),
        (date(2014, 5, 4), "ru", date_of, "от «04» мая 2014 г."),
        (date(2014, 7, 15), "ru", date_until, "до «15» июля 2014 г."),
        (date(2014, 6, 12), "kk", legal_date, "2014 жылғы «12» маусым"),
        (date(2013, 11, 21), "kk", date_of, "2013 жылғы «21» қарашадағы"),
        (date(2014, 7, 15), "kk", date_until, "2014 жылғы «15» шілдеге дейін"),
        (date(2014, 4, 10), "kk", date_on, "2014 жылғы «10» сәуірде"),
    ],
)
def test_dates_in_legal_style(day, lang, style, expected):
    assert style(day, lang) == expected


@pytest.fixture
def sent_claim(app, make_user, set_today):
    """The article's first letter, sent: No. 14-28-9-1987 of 12.06.2014."""
    set_today("2014-06-12")
    customer = factories.party(
        kind="government",
        bin=None,
        name="Департамент уголовно-исполнительной системы по Карагандинской области",
        head_position="Начальник Департамента",
        head_name="А. Б. Сейткали",
    )
    contractor = factories.party(
        name="АО «Региональный центр ГЧП Карагандинской области»",
        head_position="Председателю Правления",
        address="г. Караганда, ул. Ерубаева, 50",
    )
    contract = factories.contract(
        number="241",
        customer_id=customer.id,
        contractor_id=contractor.id,
        total_amount=D("77000000.00"),
        penalty={"rate_percent_per_day": D("0.1"), "base": "total", "cap_percent": None},
    )
    study = factories.milestone(
        contract, title="Разработка ТЭО", due_on=date(2014, 5, 1), value=D("77000000.00")
    )
    lawyer = make_user("legal")
    lawyer.position, lawyer.phone = "главный юрист", "+7 7212 41-00-00"
    claim = drafting.create_claim(
        lawyer, contract, {"milestone_ids": [study.id], "as_of": date(2014, 6, 12)}
    )
    sending.approve_claim(SYSTEM_USER, claim)
    sending.send_claim(
        SYSTEM_USER, claim, date(2014, 6, 12), "14–28–9-1987", acknowledge_kazakh_gaps=True
    )
    db.session.commit()
    return claim


def test_the_russian_docx_says_what_the_claim_is(sent_claim):
    text = docx_text(composing.letter_file(sent_claim, "ru", "docx"))
    for expected in (
        "Исх. № 14-28-9-1987 от «12» июня 2014 г.",
        "ПРЕТЕНЗИЯ",
        "о нарушении сроков исполнения договора",
        "договор № 241 от «21» ноября 2013 г.",
        f"77{NBSP}000{NBSP}000,00{NBSP}₸ (семьдесят семь миллионов тенге 00 тиын)",
        "срок исполнения «01» мая 2014 г.; с учётом нерабочих дней",
        "ближайший следующий рабочий день — «04» мая 2014 г.",
        "просрочка составляет 39 дней",
        "статьями 272, 277, 293, 349–351 Гражданского кодекса Республики Казахстан",
        f"3{NBSP}003{NBSP}000,00{NBSP}₸ (три миллиона три тысячи тенге 00 тиын)",
        "до «26» июня 2014 г.",
        "недобросовестным участником государственных закупок",
        "Председателю Правления",
        "Начальник Департамента",
        "А. Б. Сейткали",
        "главный юрист",
    ):
        assert expected in text, expected
    # The calculation table: base × rate × days, the period, the total.
    assert (
        f"Разработка ТЭО | 01.05.2014 → 04.05.2014 | 05.05.2014 – 12.06.2014 | 39 | "
        f"77{NBSP}000{NBSP}000,00 × 0,1 % × 39 | 3{NBSP}003{NBSP}000,00"
    ) in text


def test_the_kazakh_pdf_says_it_in_kazakh(sent_claim, tmp_path):
    text = flat(pdf_text(composing.letter_file(sent_claim, "kk", "pdf"), tmp_path))
    for expected in (
        "2014 жылғы «12» маусымдағы № 14-28-9-1987",
        "КІНӘРАТ-ТАЛАП",
        "2013 жылғы «21» қарашадағы № 241 шарт",
        "77 000 000,00 ₸ (жетпіс жеті миллион теңге 00 тиын)",
        "мерзімін өткізіп алу — 39 күн",
        "тұрақсыздық айыбын (өсімпұлды) төлейді",
        "3 003 000,00 ₸ (үш миллион үш мың теңге 00 тиын)",
        "2014 жылғы «26» маусымға дейін",
        "мемлекеттік сатып алудың жосықсыз қатысушысы",
    ):
        assert expected in text, expected


def test_the_russian_pdf_shows_cyrillic_kazakh_letters_and_the_tenge_sign(sent_claim, tmp_path):
    text = flat(pdf_text(composing.letter_file(sent_claim, "ru", "pdf"), tmp_path))
    assert "Исх. № 14-28-9-1987 от «12» июня 2014 г." in text
    assert "3 003 000,00 ₸ (три миллиона три тысячи тенге 00 тиын)" in text
    assert "Итого сумма неустойки составляет 3 003 000,00 ₸" in text
    fonts = subprocess.run(
        ["pdffonts", "-"], input=composing.letter_file(sent_claim, "ru", "pdf"), capture_output=True
    ).stdout.decode()
    # The shipped font (named Letter Sans in the stylesheet) is embedded, not a system fallback.
    embedded = [line for line in fonts.splitlines() if "Letter-Sans" in line]
    assert embedded and all(" yes yes yes " in line for line in embedded)


def test_odd_input_stays_text_in_docx_pdf_and_pages(app, client, make_user, set_today, tmp_path):
    set_today("2014-06-12")
    odd = 'ТОО «A & B» <script>alert("x")</script> {{ 7*7 }} %(n)s'
    contract = factories.contract(
        contractor_id=factories.party(name=odd).id, subject="Поставка <b>мебели</b> & монтаж"
    )
    m = factories.milestone(contract, title="Этап <i>1</i> & 2", due_on=date(2014, 5, 1))
    lawyer = make_user("legal")
    claim = drafting.create_claim(
        lawyer,
        contract,
        {
            "milestone_ids": [m.id],
            "as_of": date(2014, 6, 12),
            "facts_note": "Письмо исх. <№ 5> от 01.06.2014 & «ответ» {% raw %}",
        },
    )
    db.session.commit()
    docx = docx_text(composing.letter_file(claim, "ru", "docx"))
    assert odd in docx and "Поставка <b>мебели</b> & монтаж" in docx
    assert "Этап <i>1</i> & 2" in docx and "{% raw %}" in docx
    pdf = flat(pdf_text(composing.letter_file(claim, "ru", "pdf"), tmp_path))
    assert 'ТОО «A & B» <script>alert("x")</script> {{ 7*7 }}' in pdf
    from tests.conftest import login

    login(client, lawyer)
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert" in page and "<script>alert" not in page
    assert "Этап &lt;i&gt;1&lt;/i&gt; &amp; 2" in page


def test_a_sent_letter_stays_as_sent_when_the_text_or_the_parties_change(
    sent_claim, make_user, tmp_path
):
    before = docx_text(composing.letter_file(sent_claim, "ru", "docx"))
    admin = make_user("admin", None)
    new_text = texts.default_text("ru").replace("ПРЕТЕНЗИЯ", "ПРЕТЕНЗИЯ (новая редакция)")
    composing.save_template(admin, "ru", new_text, "новая редакция")
    save_party(SYSTEM_USER, {"name": "АО «Переименованное»"}, sent_claim.contract.contractor)
    db.session.commit()
    assert docx_text(composing.letter_file(sent_claim, "ru", "docx")) == before
    # A draft reads the new text.
    m = factories.milestone(sent_claim.contract, due_on=date(2014, 5, 20))
    draft = drafting.create_claim(
        admin, sent_claim.contract, {"milestone_ids": [m.id], "as_of": date(2014, 6, 12)}
    )
    text = docx_text(composing.letter_file(draft, "ru", "docx"))
    assert "ПРЕТЕНЗИЯ (новая редакция)" in text and "АО «Переименованное»" in text


# --- the admins' letter texts --------------------------------------------------------------------


def test_both_default_texts_pass_their_own_checks():
    for lang in ("ru", "kk"):
        assert texts.check_text(texts.default_text(lang), lang) == []


#: The line of the default Russian text that quotes the contract's subject (counted, not typed).
SUBJECT_LINE = next(
    n
    for n, row in enumerate(texts.default_text("ru").splitlines(), 1)
    if "{{ contract.subject }}" in row
)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("{{ contract.subject }}", "{{ contract.subject "),
            f"Строка {SUBJECT_LINE}: expected token",
        ),
        (
            ("{{ contract.subject }}", "{{ contract.subjekt }}"),
            f"Строка {SUBJECT_LINE}: У «contract» нет поля «subjekt».",
        ),
        (
            ("{{ contract.subject }}", "{{ subject }}"),
            f"Строка {SUBJECT_LINE}: Неизвестная переменная «subject».",
        ),
        (
            ("{{ contract.subject }}", "{{ contract.subject|shout }}"),
            f"Строка {SUBJECT_LINE}: Неизвестный фильтр «shout».",
        ),
        (("{% block demand %}", "{% block demandd %}"), "Нет блока «demand»."),
        (
            ("{{ contract.subject }}", "{{ contract.__class__.__mro__ }}"),
            f"Строка {SUBJECT_LINE}: У «contract» нет поля «__class__».",
        ),
    ],
)
def test_a_broken_text_is_refused_with_the_line_and_the_reason(app, make_user, change, message):
    admin = make_user("admin", None)
    text = texts.default_text("ru").replace(*change, 1)
    assert text != texts.default_text("ru")
    with pytest.raises(Invalid) as refused:
        composing.save_template(admin, "ru", text)
    assert any(e.startswith(message) for e in refused.value.errors["body"]), refused.value.errors
    assert composing.current_template("ru") is None  # nothing saved


def test_a_branch_the_samples_do_not_reach_is_still_checked(app):
    text = texts.default_text("ru").replace(
        '{% if letter.demand == "perform" %}',
        '{% if letter.demand == "never" %}{{ letter.nonexistent }}'
        '{% elif letter.demand == "perform" %}',
        1,
    )
    problems = [str(p) for p in texts.check_text(text, "ru")]
    assert any("У «letter» нет поля «nonexistent»" in p for p in problems)


def test_the_sandbox_refuses_what_the_static_check_cannot_see(app):
    text = texts.default_text("ru").replace(
        "{{ contract.subject }}", "{{ (milestones|first).__class__ }}", 1
    )
    [problem] = texts.check_text(text, "ru")
    assert problem.line == SUBJECT_LINE and "Запрещено" in problem.message
    assert "__class__" in problem.message
