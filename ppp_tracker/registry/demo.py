"""Demo data: the article's facts (DESIGN.md section 2) plus generated, clearly marked sites.

The facts — the Karaganda 1,500-place concession, contract No. 241 and its missed expertise
milestones, the Petropavlovsk, Astana and Shymkent plots, the three state enterprises — are
loaded as they are. The 92 leased and 32 trust-managed production sites (about 2,000 convicts
employed) are generated deterministically and carry `is_demo = True`.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from ppp_tracker import clock
from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import add_months
from ppp_tracker.db import db
from ppp_tracker.registry.identifiers import make_bin
from ppp_tracker.registry.models import Contract, Institution, Party, Project
from ppp_tracker.registry.services.contracts import save_contract
from ppp_tracker.registry.services.milestones import save_milestone
from ppp_tracker.registry.services.parties import save_institution, save_party
from ppp_tracker.registry.services.projects import save_project, save_site

KARAGANDA_TITLE = "Строительство исправительного учреждения на 1500 мест в г. Караганде"
LEASED_SITES = 92
TRUST_SITES = 32
EMPLOYED_TOTAL = 2000
SEED = 20160428  # the day the article's newspaper figures were published
#: What the demo says of contract No. 241 that the article does not (DESIGN §2): shown on the
#: contract's page, so that a first look does not take an assumption for the contract's text.
ASSUMPTIONS_241 = (
    "Демо-данные: в статье нет сроков исполнения, условий о неустойке и срока ответа на "
    "претензию. Приняты допущения: ТЭО — до 01.05.2014, государственная и отраслевая экспертизы "
    "— до 01.07.2014; неустойка по типовому условию договоров о госзакупках — 0,1 % от общей "
    "суммы договора за каждый день просрочки, не более 10 %; ответ на претензию — 10 рабочих дней."
)
ASSUMED_DUE = "Срок — допущение демо-данных: в статье дата не указана."


def is_loaded() -> bool:
    return (
        db.session.scalar(sa.select(Project.id).where(Project.title == KARAGANDA_TITLE)) is not None
    )


def load(today: date | None = None) -> dict[str, int]:
    """Load everything; returns counts. The caller commits."""
    today = today or clock.today()
    actor = SYSTEM_USER
    officer = db.session.scalar(sa.select(User).where(User.email == "officer@demo.kz"))
    facts = _article_facts(actor, officer)
    sites = _generated_sites(actor, today, officer)
    return {**facts, **sites}


def _party(actor, **data) -> Party:
    return save_party(actor, data)


def _article_facts(actor, officer) -> dict[str, int]:
    _party(
        actor,
        name="Комитет уголовно-исполнительной системы МВД Республики Казахстан",
        name_kk="Қазақстан Республикасы ІІМ Қылмыстық-атқару жүйесі комитеті",
        kind="government",
        region="KZ-71",
        address="г. Астана",
        address_kk="Астана қ.",
    )
    department = _party(
        actor,
        name="Департамент уголовно-исполнительной системы по Карагандинской области",
        name_kk="Қарағанды облысы бойынша қылмыстық-атқару жүйесі департаменті",
        kind="government",
        region="KZ-35",
        address="г. Караганда",
        address_kk="Қарағанды қ.",
        head_position="Начальник Департамента",
        head_position_kk="Департамент бастығы",
    )
    contractor = _party(
        actor,
        name="АО «Региональный центр государственно-частного партнерства Карагандинской области»",
        name_kk="«Қарағанды облысының мемлекеттік-жекешелік әріптестік өңірлік орталығы» АҚ",
        kind="contractor",
        region="KZ-35",
        address="г. Караганда",
        address_kk="Қарағанды қ.",
        head_position="Председателю Правления",
        head_position_kk="Басқарма Төрағасына",
    )
    _party(
        actor,
        name="Министерство экономики и бюджетного планирования Республики Казахстан",
        name_kk="Қазақстан Республикасы Экономика және бюджеттік жоспарлау министрлігі",
        kind="government",
        region="KZ-71",
    )
    _party(
        actor,
        name="Акимат Карагандинской области",
        name_kk="Қарағанды облысының әкімдігі",
        kind="government",
        region="KZ-35",
    )
    _party(
        actor,
        name="Республиканская бюджетная комиссия",
        name_kk="Республикалық бюджет комиссиясы",
        kind="government",
        region="KZ-71",
    )

    for name, name_kk, region in (
        (
            "РГП на ПХВ «Енбек» КУИС МВД Республики Казахстан",
            "ҚР ІІМ ҚАЖК «Еңбек» ШЖҚ РМК",
            "KZ-71",
        ),
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
    ):
        save_institution(actor, {"name": name, "kind": "enterprise", "region": region})
        _party(actor, name=name, name_kk=name_kk, kind="government", region=region)

    karaganda = save_project(
        actor,
        {
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
                {
                    "kind": "state_expertise",
                    "planned_on": date(2014, 7, 1),
                    "note": "Не проведена",
                },
                {
                    "kind": "sectoral_expertise",
                    "planned_on": date(2014, 7, 1),
                    "note": "Не проведена",
                },
            ],
        },
    )
    contract = save_contract(
        actor,
        {
            "number": "241",
            "signed_on": date(2013, 11, 21),
            "customer_id": department.id,
            "contractor_id": contractor.id,
            "project_id": karaganda.id,
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
            "officer": officer.email if officer else None,
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
        },
    )
    save_milestone(
        actor,
        contract,
        {
            "title": "Разработка ТЭО и представление его на государственную "
            "и отраслевую экспертизу",
            "title_kk": "ТЭН әзірлеу және оны мемлекеттік және салалық сараптамаға ұсыну",
            "type": "delivery",
            "code": "feasibilityStudy",
            "obligor": "contractor",
            "due_on": date(2014, 5, 1),
            "description": ASSUMED_DUE,
            "value": Decimal("77000000.00"),
        },
    )
    save_milestone(
        actor,
        contract,
        {
            "title": "Положительное заключение государственной экспертизы ТЭО",
            "title_kk": "ТЭН-нің мемлекеттік сараптамасының оң қорытындысы",
            "type": "assessment",
            "code": "stateExpertise",
            "obligor": "contractor",
            "due_on": date(2014, 7, 1),
            "description": ASSUMED_DUE,
        },
    )
    save_milestone(
        actor,
        contract,
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

    for city, region, region_name in (
        ("Петропавловске", "KZ-59", "Северо-Казахстанской области"),
        ("Астане", "KZ-71", "города Астаны"),
        ("Шымкенте", "KZ-79", "города Шымкента"),
    ):
        save_project(
            actor,
            {
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
            },
        )
    return {"projects": 4, "contracts_of_the_article": 1}


# --- generated production sites -----------------------------------------------------------

REGION_GENITIVE = {
    "KZ-10": "Абайской области",
    "KZ-11": "Акмолинской области",
    "KZ-15": "Актюбинской области",
    "KZ-19": "Алматинской области",
    "KZ-23": "Атырауской области",
    "KZ-27": "Западно-Казахстанской области",
    "KZ-31": "Жамбылской области",
    "KZ-33": "области Жетісу",
    "KZ-35": "Карагандинской области",
    "KZ-39": "Костанайской области",
    "KZ-43": "Кызылординской области",
    "KZ-47": "Мангистауской области",
    "KZ-55": "Павлодарской области",
    "KZ-59": "Северо-Казахстанской области",
    "KZ-61": "Туркестанской области",
    "KZ-62": "области Ұлытау",
    "KZ-63": "Восточно-Казахстанской области",
    "KZ-71": "городу Астане",
    "KZ-75": "городу Алматы",
    "KZ-79": "городу Шымкенту",
}
#: Regions with penal institutions in the demo, weighted roughly by their number of colonies.
SITE_REGIONS = {
    "KZ-35": 9,
    "KZ-63": 6,
    "KZ-55": 6,
    "KZ-11": 5,
    "KZ-39": 5,
    "KZ-59": 4,
    "KZ-15": 4,
    "KZ-19": 4,
    "KZ-31": 4,
    "KZ-43": 3,
    "KZ-27": 3,
    "KZ-61": 3,
    "KZ-71": 2,
    "KZ-75": 2,
    "KZ-23": 2,
    "KZ-47": 2,
    "KZ-10": 2,
    "KZ-33": 1,
    "KZ-62": 1,
    "KZ-79": 1,
}
ACTIVITIES = (
    "Швейное производство",
    "Деревообработка и производство мебели",
    "Металлообработка",
    "Хлебопекарное производство",
    "Производство тротуарной плитки",
    "Производство строительных блоков",
    "Ремонт автотехники",
    "Растениеводство",
    "Животноводство",
    "Производство спецодежды",
    "Сборка металлоконструкций",
    "Переработка вторсырья",
)
PAYMENT_TITLES = {
    "lease": "Арендная плата",
    "trust_management": "Отчисления доверительного управляющего",
}
SURNAMES = ("Ахметов", "Сейткали", "Иванов", "Жумабеков", "Ким", "Омаров")
COMPANY_WORDS = (
    "Агро",
    "Стройдеталь",
    "Текстиль",
    "Металл",
    "Жол",
    "Кен",
    "Сапа",
    "Орда",
    "Береке",
    "Самал",
    "Құрылыс",
    "Арман",
    "Нур",
    "Алтын",
    "Тұлпар",
    "Жарық",
    "Сарыарка",
    "Ертіс",
)


def _employment_split(rng: random.Random, n: int, total: int) -> list[int]:
    """n positive whole numbers that add up to exactly `total`."""
    weights = [rng.uniform(0.4, 2.2) for _ in range(n)]
    scale = total / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    i = 0
    while sum(counts) < total:
        counts[i % n] += 1
        i += 1
    while sum(counts) > total:
        if counts[i % n] > 1:
            counts[i % n] -= 1
        i += 1
    return counts


def _generated_sites(actor, today: date, officer) -> dict[str, int]:
    rng = random.Random(SEED)
    regions = [code for code, weight in SITE_REGIONS.items() for _ in range(weight)]
    institutions: dict[str, list[Institution]] = {}
    departments: dict[str, Party] = {}
    for index, code in enumerate(sorted(set(regions))):
        departments[code] = (
            _party(
                actor,
                name=f"Департамент уголовно-исполнительной системы по {REGION_GENITIVE[code]}",
                kind="government",
                region=code,
            )
            if code != "KZ-35"
            else db.session.scalar(
                sa.select(Party).where(
                    Party.name.like(
                        "Департамент уголовно-исполнительной системы по Карагандинской%"
                    )
                )
            )
        )
        institutions[code] = [
            save_institution(
                actor,
                {
                    "name": f"Учреждение {code[-2:]}-{150 + index}/{n} (демо)",
                    "kind": "colony",
                    "region": code,
                    "capacity": rng.choice([600, 800, 1000, 1200, 1500]),
                },
            )
            for n in range(1, 1 + max(1, SITE_REGIONS[code] // 2))
        ]
    for inst in (i for group in institutions.values() for i in group):
        inst.is_demo = True
    employed = _employment_split(rng, LEASED_SITES + TRUST_SITES, EMPLOYED_TOTAL)
    arrangements = ["lease"] * LEASED_SITES + ["trust_management"] * TRUST_SITES
    used_bins: set[str] = set()
    contracts = milestones = 0
    for number, (arrangement, staff) in enumerate(zip(arrangements, employed, strict=True), 1):
        code = regions[(number * 7) % len(regions)]
        institution = rng.choice(institutions[code])
        activity = rng.choice(ACTIVITIES)
        operator = _party(
            actor,
            name=f"ТОО «{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()}"
            f"-{number:03d}» (демо)",
            kind="tenant" if arrangement == "lease" else "trustee",
            bin=_unique_bin(rng, used_bins),
            region=code,
            email=f"site{number:03d}@demo.kz",
            head_position="Директору",
            head_name=f"{rng.choice(SURNAMES)} {rng.choice('АБДЕКМН')}.{rng.choice('АВГЕКМН')}.",
        )
        operator.is_demo = True
        site = save_site(
            actor,
            {
                "name": f"{activity} на территории {institution.name.replace(' (демо)', '')}",
                "arrangement": arrangement,
                "institution": institution.id,
                "operator_id": operator.id,
                "activity": activity,
                "area_m2": Decimal(rng.randrange(150, 4000, 10)),
                "employed": staff,
            },
        )
        site.is_demo = True
        signed = today - timedelta(days=rng.randrange(200, 2400))
        yearly = Decimal(rng.randrange(1_200_000, 12_000_000, 50_000))
        contract = save_contract(
            actor,
            {
                "number": f"{'А' if arrangement == 'lease' else 'ДУ'}-{signed.year}-{number:03d}",
                "signed_on": signed,
                "customer_id": departments[code].id,
                "contractor_id": operator.id,
                "site_id": site.id,
                "subject": (
                    "Аренда производственных площадей: "
                    if arrangement == "lease"
                    else "Доверительное управление производственным участком: "
                )
                + activity.lower(),
                "total_amount": yearly * 3,
                "starts_on": signed,
                "ends_on": add_months(signed, 36) if rng.random() < 0.8 else add_months(today, 24),
                "penalty": {
                    "rate_percent_per_day": Decimal("0.1"),
                    "base": "outstanding",
                    "cap_percent": Decimal("10"),
                },
                "penalty_clause_no": "6.2",
                "response_period": {"days": 10, "working": True},
                "officer": officer.email if officer is not None and code == "KZ-35" else None,
            },
        )
        contract.is_demo = True
        contracts += 1
        milestones += _site_milestones(actor, rng, contract, today, yearly, arrangement, staff)
    return {
        "sites_lease": LEASED_SITES,
        "sites_trust": TRUST_SITES,
        "employed": EMPLOYED_TOTAL,
        "site_contracts": contracts,
        "site_milestones": milestones,
    }


def _unique_bin(rng: random.Random, used: set[str]) -> str:
    while True:
        candidate = make_bin(
            f"{rng.randrange(0, 26):02d}{rng.randrange(1, 13):02d}4{rng.randrange(0, 10**6):06d}"
        )
        if candidate and candidate not in used:
            used.add(candidate)
            return candidate


def _site_milestones(
    actor, rng, contract: Contract, today: date, yearly: Decimal, arrangement, staff
) -> int:
    """Quarterly payments around today (a few late), a yearly report, sometimes an upgrade."""
    quarter = (yearly / 4).quantize(Decimal("0.01"))
    count = 0
    first = add_months(date(today.year, ((today.month - 1) // 3) * 3 + 1, 10), -3)
    for k in range(4):
        due = add_months(first, 3 * k)
        late = due < today and rng.random() < 0.12
        data = {
            "title": f"{PAYMENT_TITLES[arrangement]} за {((due.month - 1) // 3) + 1}-й квартал "
            f"{due.year} г.",
            "type": "payment",
            "obligor": "contractor",
            "due_on": due,
            "value": quarter,
        }
        if due < today and not late:
            data.update(status="met", met_on=min(today, due + timedelta(days=rng.randrange(-5, 2))))
        save_milestone(actor, contract, data)
        count += 1
    save_milestone(
        actor,
        contract,
        {
            "title": f"Отчёт о трудоустройстве осуждённых ({staff} чел.) за {today.year} год",
            "type": "reporting",
            "obligor": "contractor",
            "due_on": date(
                today.year + (1 if today.month == 12 else 0),
                12 if today.month < 12 else 1,
                25 if today.month < 12 else 20,
            ),
        },
    )
    count += 1
    if rng.random() < 0.3:
        save_milestone(
            actor,
            contract,
            {
                "title": "Модернизация оборудования производственного участка",
                "type": "delivery",
                "obligor": "contractor",
                "due_on": today + timedelta(days=rng.randrange(-40, 120)),
                "value": (yearly / 2).quantize(Decimal("0.01")),
            },
        )
        count += 1
    return count
