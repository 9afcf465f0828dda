"""The article's facts (DESIGN.md section 2), loaded as they are: the Karaganda 1,500-place
concession, contract No. 241 and its missed expertise milestones, the Petropavlovsk, Astana and
Shymkent plots, the three state enterprises. The facts are tables; `load` saves them through the
registry's services in this order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ppp_tracker.auth.models import User
from ppp_tracker.registry.services.contracts import save_contract
from ppp_tracker.registry.services.milestones import save_milestone
from ppp_tracker.registry.services.parties import save_institution, save_party
from ppp_tracker.registry.services.projects import save_project

KARAGANDA_TITLE = "Строительство исправительного учреждения на 1500 мест в г. Караганде"
#: What the demo says of contract No. 241 that the article does not (DESIGN §2): shown on the
#: contract's page, so that a first look does not take an assumption for the contract's text.
ASSUMPTIONS_241 = (
    "Демо-данные: в статье нет сроков исполнения, условий о неустойке и срока ответа на "
    "претензию. Приняты допущения: ТЭО — до 01.05.2014, государственная и отраслевая экспертизы "
    "— до 01.07.2014; неустойка по типовому условию договоров о госзакупках — 0,1 % от общей "
    "суммы договора за каждый день просрочки, не более 10 %; ответ на претензию — 10 рабочих дней."
)
ASSUMED_DUE = "Срок — допущение демо-данных: в статье дата не указана."

#: The bodies the article names; `department` and `contractor` are the parties of No. 241.
PARTIES = {
    "committee": {
        "name": "Комитет уголовно-исполнительной системы МВД Республики Казахстан",
        "name_kk": "Қазақстан Республикасы ІІМ Қылмыстық-атқару жүйесі комитеті",
        "kind": "government",
        "region": "KZ-71",
        "address": "г. Астана",
        "address_kk": "Астана қ.",
    },
    "department": {
        "name": "Департамент уголовно-исполнительной системы по Карагандинской области",
        "name_kk": "Қарағанды облысы бойынша қылмыстық-атқару жүйесі департаменті",
        "kind": "government",
        "region": "KZ-35",
        "address": "г. Караганда",
        "address_kk": "Қарағанды қ.",
        "head_position": "Начальник Департамента",
        "head_position_kk": "Департамент бастығы",
    },
    "contractor": {
        "name": "АО «Региональный центр государственно-частного партнерства Карагандинской "
        "области»",
        "name_kk": "«Қарағанды облысының мемлекеттік-жекешелік әріптестік өңірлік орталығы» АҚ",
        "kind": "contractor",
        "region": "KZ-35",
        "address": "г. Караганда",
        "address_kk": "Қарағанды қ.",
        "head_position": "Председателю Правления",
        "head_position_kk": "Басқарма Төрағасына",
    },
    "ministry": {
        "name": "Министерство экономики и бюджетного планирования Республики Казахстан",
        "name_kk": "Қазақстан Республикасы Экономика және бюджеттік жоспарлау министрлігі",
        "kind": "government",
        "region": "KZ-71",
    },
    "akimat": {
        "name": "Акимат Карагандинской области",
        "name_kk": "Қарағанды облысының әкімдігі",
        "kind": "government",
        "region": "KZ-35",
    },
    "budget_commission": {
        "name": "Республиканская бюджетная комиссия",
        "name_kk": "Республикалық бюджет комиссиясы",
        "kind": "government",
        "region": "KZ-71",
    },
}
#: The penal system's state enterprises: each an institution and a counterparty.
ENTERPRISES = (
    ("РГП на ПХВ «Енбек» КУИС МВД Республики Казахстан", "ҚР ІІМ ҚАЖК «Еңбек» ШЖҚ РМК", "KZ-71"),
    (
        "РГП на ПХВ «Енбек-Караганда» КУИС МВД Республики Казахстан",
        "ҚР ІІМ ҚАЖК «Еңбек-Қарағанды» ШЖҚ РМК",
        "KZ-35",
    ),
    (
        "РГП на ПХВ «Енбек-Оскемен» КУИС МВД Республики Казахстан",
        "ҚР ІІМ ҚАЖК «Еңбек-Өскемен» ШЖҚ РМК",
        "KZ-63",
    ),
)
KARAGANDA = {
    "title": KARAGANDA_TITLE,
    "kind": "concession",
    "status": "active",
    "region": "KZ-35",
    "investor_id": None,
    "capacity": 1500,
    "land_area_ha": Decimal("37"),
    "term_years": 30,
    "description": (
        "Пилотный концессионный проект Комитета УИС (2013 г.): исправительное учреждение "
        "строится за счёт концессионера, после завершения строительства передаётся "
        "государству; концессионер ведёт производственно-хозяйственную деятельность до "
        "окончания срока договора концессии (30 лет). Для сравнения: строительство одной "
        "тюрьмы за счёт государства обходится примерно в 18 млрд тенге."
    ),
    "stages": [
        {"kind": "initiation", "note": "Концессионное предложение МВД, 2013 г."},
        {
            "kind": "economic_conclusion",
            "actual_on": date(2013, 1, 15),
            "note": "Положительное экономическое заключение Министерства экономики и "
            "бюджетного планирования",
        },
        {
            "kind": "land_allocation",
            "note": "Акимат Карагандинской области выделил земельный участок 37 га "
            "(дата в источнике не указана)",
        },
        {
            "kind": "budget_commission",
            "note": "Республиканская бюджетная комиссия поддержала 77 млн тг на ТЭО",
        },
        {
            "kind": "feasibility_study",
            "planned_on": date(2014, 5, 1),
            "note": "Договор № 241 от 21.11.2013 с АО «РЦГЧП» Карагандинской области; ТЭО "
            "разработано, но сроки нарушены",
        },
        {"kind": "state_expertise", "planned_on": date(2014, 7, 1), "note": "Не проведена"},
        {"kind": "sectoral_expertise", "planned_on": date(2014, 7, 1), "note": "Не проведена"},
    ],
}
#: Contract No. 241 without its parties, project and officer (given when it is saved).
CONTRACT_241 = {
    "number": "241",
    "signed_on": date(2013, 11, 21),
    "subject": "Разработка технико-экономического обоснования концессионного проекта "
    "«Строительство специализированного исправительного учреждения на 1500 мест в "
    "г. Караганде»",
    "subject_kk": "«Қарағанды қаласында 1500 орындық мамандандырылған түзеу мекемесінің "
    "құрылысы» концессиялық жобасының техникалық-экономикалық негіздемесін әзірлеу",
    "total_amount": Decimal("77000000.00"),
    "starts_on": date(2013, 11, 21),
    "ends_on": date(2014, 12, 31),
    # The article gives neither the penalty terms nor the reply period: the standard
    # public-procurement clause (0.1 % of the total a day, at most 10 %) and 10 working
    # days are assumed, and the contract says so.
    "penalty": {
        "rate_percent_per_day": Decimal("0.1"),
        "base": "total",
        "cap_percent": Decimal("10"),
    },
    # The article gives no clause number; the section's name stands without one.
    "penalty_clause": "раздел «Ответственность сторон»",
    "penalty_clause_kk": "«Тараптардың жауапкершілігі» бөлімі",
    "response_period": {"days": 10, "working": True},
    "assumptions": ASSUMPTIONS_241,
    "grace_working_days": 1,
    "installments": [
        {
            "due_on": date(2013, 12, 31),
            "amount": Decimal("23100000.00"),
            "description": "30 % — предоплата на разработку ТЭО (2013 г.)",
        },
        {
            "due_on": date(2014, 12, 31),
            "amount": Decimal("53900000.00"),
            "description": "70 % — окончательный расчёт (2014 г.)",
        },
    ],
}
MILESTONES_241 = (
    {
        "title": "Разработка ТЭО и представление его на государственную и отраслевую экспертизу",
        "title_kk": "ТЭН әзірлеу және оны мемлекеттік және салалық сараптамаға ұсыну",
        "type": "delivery",
        "code": "feasibilityStudy",
        "obligor": "contractor",
        "due_on": date(2014, 5, 1),
        "description": ASSUMED_DUE,
        "value": Decimal("77000000.00"),
    },
    {
        "title": "Положительное заключение государственной экспертизы ТЭО",
        "title_kk": "ТЭН-нің мемлекеттік сараптамасының оң қорытындысы",
        "type": "assessment",
        "code": "stateExpertise",
        "obligor": "contractor",
        "due_on": date(2014, 7, 1),
        "description": ASSUMED_DUE,
    },
    {
        "title": "Положительное заключение отраслевой экспертизы ТЭО",
        "title_kk": "ТЭН-нің салалық сараптамасының оң қорытындысы",
        "type": "assessment",
        "code": "sectoralExpertise",
        "obligor": "contractor",
        "due_on": date(2014, 7, 1),
        "description": ASSUMED_DUE,
    },
)
#: The other plots the article names: (city in the prepositional case, region, the akimat's).
OTHER_PLOTS = (
    ("Петропавловске", "KZ-59", "Северо-Казахстанской области"),
    ("Астане", "KZ-71", "города Астаны"),
    ("Шымкенте", "KZ-79", "города Шымкента"),
)


def load(actor: User, officer: User | None) -> dict[str, int]:
    """Save the article's facts; returns counts. The caller commits."""
    parties = {key: save_party(actor, dict(data)) for key, data in PARTIES.items()}
    for name, name_kk, region in ENTERPRISES:
        save_institution(actor, {"name": name, "kind": "enterprise", "region": region})
        save_party(
            actor, {"name": name, "name_kk": name_kk, "kind": "government", "region": region}
        )
    karaganda = save_project(actor, dict(KARAGANDA))
    contract = save_contract(
        actor,
        {
            **CONTRACT_241,
            "customer_id": parties["department"].id,
            "contractor_id": parties["contractor"].id,
            "project_id": karaganda.id,
            "officer": officer.email if officer else None,
        },
    )
    for milestone in MILESTONES_241:
        save_milestone(actor, contract, dict(milestone))
    for city, region, region_name in OTHER_PLOTS:
        save_project(actor, _plot(city, region, region_name))
    return {"projects": 1 + len(OTHER_PLOTS), "contracts_of_the_article": 1}


def _plot(city: str, region: str, region_name: str) -> dict:
    return {
        "title": f"Строительство исправительного учреждения в г. {city}",
        "kind": "concession",
        "status": "planned",
        "region": region,
        "description": "Земельный участок выделен; идёт работа по привлечению инвесторов.",
        "stages": [
            {"kind": "initiation", "note": "Аналог пилотного проекта в г. Караганде"},
            {
                "kind": "land_allocation",
                "note": f"Земельный участок выделен акиматом {region_name} "
                "(дата в источнике не указана)",
            },
            {"kind": "tender", "note": "Поиск инвестора"},
        ],
    }
