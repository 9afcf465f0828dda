"""The sample letters: the case of the article the letters were modelled on (contract No. 241,
a feasibility study delivered 39 days late) as plain facts, in three variants that reach the
texts' branches. The editor previews a text on them and the check renders it on each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

D = Decimal
COURT = "Специализированный межрайонный экономический суд Карагандинской области"
COURT_KK = "Қарағанды облысының мамандандырылған ауданаралық экономикалық соты"


def sample_context(variant: int = 0) -> dict:
    """The article's case as plain data: 0 the first claim (a draft), 1 the third one, sent once
    the work was done late, with a lawsuit filed, 2 a second claim for performance whose
    obligation has no value and whose penalty is capped."""
    first = _late_milestone()
    context = {
        "letter": _letter(),
        "sender": _sender(),
        "addressee": _addressee(),
        "contract": _contract(),
        "milestones": [first],
        "penalty": _penalty(),
        "payments": _payments(),
        "unperformed_total": D("77000000.00"),
        "earlier": [],
        "court": COURT,
        "court_kk": COURT_KK,
        "case": None,
        "legal_basis": "272, 277, 293, 349–351",
        "signatory": {
            "position": "Начальник Департамента",
            "position_kk": "Департамент бастығы",
            "name": None,
        },
        "prepared_by": _prepared_by(),
        "facts_note": [],
        "attachments": [],
    }
    if variant == 1:
        _third_claim_after_performance(context, first)
    elif variant == 2:
        _second_claim_for_performance(context, first)
    return context


def _late_milestone() -> dict:
    """The feasibility study: due 01.05.2014 (moved to 04.05, a working Sunday), 39 days late."""
    return {
        "title": "Разработка ТЭО и представление его на государственную и отраслевую экспертизу",
        "title_kk": "ТЭН әзірлеу және оны мемлекеттік және салалық сараптамаға ұсыну",
        "due_on": date(2014, 5, 1),
        "effective_due_on": date(2014, 5, 4),
        "moved": True,
        "due_explanation": "срок 04.05.2014: 01.05.2014 и 02.05.2014 — праздники",
        "off_reasons": "01.05.2014 — Праздник единства народа Казахстана, 02.05.2014 —"
        " перенесённый выходной (за 04.05.2014), 03.05.2014 — суббота",
        "off_reasons_kk": "01.05.2014 — Қазақстан халқының бірлігі мерекесі, 02.05.2014 — Демалыс"
        " күні (04.05.2014 бастап ауыстырылды), 03.05.2014 — сенбі",
        "effective_reason": "воскресенье, рабочий день по постановлению Правительства Республики"
        " Казахстан о переносе выходных дней",
        "effective_reason_kk": "жексенбі, демалыс күндерін ауыстыру туралы Қазақстан Республикасы"
        " Үкіметінің қаулысы бойынша жұмыс күні",
        "late_from": date(2014, 5, 5),
        "counted_until": date(2014, 6, 12),
        "met_on": None,
        "days_late": 39,
        "counted_from": date(2014, 5, 5),
        "counted_to": date(2014, 6, 12),
        "days_counted": 39,
        "value": D("77000000.00"),
        "base": D("77000000.00"),
        "daily": D("77000.00"),
        "accrued": D("3003000.00"),
        "capped": False,
        "cap_amount": None,
        "missing_value": False,
    }


def _letter() -> dict:
    return {
        "number": None,
        "date": None,
        "sequence": 1,
        "response_due_on": date(2014, 6, 26),
        "response_from_receipt": False,
        "response_days": 10,
        "response_working": True,
        "demand": "perform_and_pay",
        "is_draft": True,
    }


def _sender() -> dict:
    """The Karaganda department with its payment details."""
    return {
        "name": "Департамент уголовно-исполнительной системы по Карагандинской области",
        "name_kk": "Қарағанды облысы бойынша қылмыстық-атқару жүйесі департаменті",
        "address": "г. Караганда",
        "address_kk": "Қарағанды қ.",
        "bin": None,
        "phone": None,
        "bank": "ГУ «Комитет казначейства Министерства финансов Республики Казахстан»",
        "bank_kk": "«Қазақстан Республикасы Қаржы министрлігінің Қазынашылық комитеті» ММ",
        "iik": "KZ24070105KSN0000000",
        "bik": "KKMFKZ2A",
        "kbk": "204101",
        "knp": "911",
        "head_position": "Начальник Департамента",
        "head_position_kk": "Департамент бастығы",
        "head_name": None,
    }


def _addressee() -> dict:
    return {
        "name": "АО «Региональный центр государственно-частного партнерства "
        "Карагандинской области»",
        "name_kk": "«Қарағанды облысының мемлекеттік-жекешелік әріптестік өңірлік орталығы» АҚ",
        "address": "г. Караганда",
        "address_kk": "Қарағанды қ.",
        "bin": None,
        "head_position": "Председателю Правления",
        "head_position_kk": "Басқарма Төрағасына",
        "head_name": None,
        "email": None,
    }


def _contract() -> dict:
    return {
        "number": "241",
        "signed_on": date(2013, 11, 21),
        "subject": "Разработка технико-экономического обоснования концессионного проекта",
        "subject_kk": "Концессиялық жобаның техникалық-экономикалық негіздемесін әзірлеу",
        "total": D("77000000.00"),
        "penalty_clause_no": "7.2",
        "penalty_clause": "раздел «Ответственность сторон»",
        "penalty_clause_kk": "«Тараптардың жауапкершілігі» бөлімі",
        "starts_on": date(2013, 11, 21),
        "ends_on": date(2014, 12, 31),
    }


def _penalty() -> dict:
    return {
        "as_of": date(2014, 6, 12),
        "rate": D("0.1"),
        "base": "total",
        "cap": None,
        "total": D("3003000.00"),
        "capped": False,
    }


def _payments() -> dict:
    return {
        "paid_total": D("0.00"),
        "items": [
            {
                "due_on": date(2013, 12, 31),
                "amount": D("23100000.00"),
                "description": "30 % — предоплата",
                "paid_on": None,
                "paid_amount": None,
            }
        ],
    }


def _prepared_by() -> dict:
    return {
        "name": "Юрист ДУИС",
        "position": "главный специалист",
        "phone": "+7 7212 00 00 00",
        "email": "legal@example.kz",
    }


def _third_claim_after_performance(context: dict, first: dict) -> None:
    """The third claim, sent on 14.07.2014 after the study came on 10.07: it demands the
    penalty, capped at 10 %, two earlier claims unanswered or running, a lawsuit filed."""
    context["letter"].update(
        number="14-28-9-2462",
        date=date(2014, 7, 14),
        sequence=3,
        response_due_on=date(2014, 7, 28),
        demand="pay",
        is_draft=False,
    )
    context["milestones"] = [
        {
            **first,
            "met_on": date(2014, 7, 10),
            "counted_until": date(2014, 7, 10),
            "days_late": 67,
            "counted_to": date(2014, 7, 10),
            "days_counted": 67,
            "accrued": D("5159000.00"),
        }
    ]
    context["penalty"].update(cap=D("10"), total=D("5159000.00"))
    context["payments"]["paid_total"] = D("23100000.00")
    context["earlier"] = [
        {
            "number": "14-28-9-1987",
            "date": date(2014, 6, 12),
            "response_due_on": date(2014, 6, 26),
            "state": "unanswered",
            "replied_on": None,
        },
        {
            "number": "14-28-9-2245",
            "date": date(2014, 6, 30),
            "response_due_on": date(2014, 7, 15),
            "state": "running",
            "replied_on": None,
        },
    ]
    context["case"] = {
        "court": COURT,
        "court_kk": COURT_KK,
        "number": None,
        "filed_on": date(2014, 7, 3),
        "claims_penalty": True,
        "claims_register": True,
    }
    context["legal_basis"] = "293"
    context["facts_note"] = ["Письмом от 20.06.2014 Исполнитель просил продлить срок."]
    context["attachments"] = ["Копия договора № 241 на 12 л."]


def _second_claim_for_performance(context: dict, first: dict) -> None:
    """A second claim demanding performance: the obligation has no value, the penalty on the
    outstanding amount is capped, the earlier claim was answered, no bank details."""
    context["letter"].update(demand="perform", sequence=2)
    context["milestones"] = [
        {
            **first,
            "moved": False,
            "effective_due_on": first["due_on"],
            "capped": True,
            "cap_amount": D("7700000.00"),
            "value": None,
            "missing_value": True,
        }
    ]
    context["penalty"].update(base="outstanding", cap=D("10"), capped=True)
    context["earlier"] = [
        {
            "number": "14-28-9-1987",
            "date": date(2014, 6, 12),
            "response_due_on": date(2014, 6, 26),
            "state": "answered",
            "replied_on": date(2014, 6, 20),
        }
    ]
    context["sender"].update(
        kbk=None, knp=None, iik=None, bik=None, bank=None, bank_kk=None, bin="140340016539"
    )
    context["prepared_by"] = None
    context["court"] = None
    context["unperformed_total"] = D("0.00")
