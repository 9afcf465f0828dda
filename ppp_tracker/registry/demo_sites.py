"""Generated demo production sites: 92 leased and 32 trust-managed (about 2,000 convicts
employed), with their regional departments, colonies, operators, contracts and milestones.
Deterministic (one seeded random generator, drawn in a fixed order); every record carries
`is_demo = True` where the model has it."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import add_months
from ppp_tracker.db import db
from ppp_tracker.registry.identifiers import make_bin
from ppp_tracker.registry.models import Contract, Institution, Party, ProductionSite
from ppp_tracker.registry.services.contracts import save_contract
from ppp_tracker.registry.services.milestones import save_milestone
from ppp_tracker.registry.services.parties import save_institution, save_party
from ppp_tracker.registry.services.projects import save_site

LEASED_SITES = 92
TRUST_SITES = 32
EMPLOYED_TOTAL = 2000
SEED = 20160428  # the day the article's newspaper figures were published
KARAGANDA_DEPARTMENT = "Департамент уголовно-исполнительной системы по Карагандинской%"

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


def load(actor: User, today: date, officer: User | None) -> dict[str, int]:
    """Save the generated sites, their contracts and milestones; returns counts."""
    rng = random.Random(SEED)
    regions = [code for code, weight in SITE_REGIONS.items() for _ in range(weight)]
    departments, institutions = _departments_and_colonies(actor, rng, sorted(set(regions)))
    employed = _employment_split(rng, LEASED_SITES + TRUST_SITES, EMPLOYED_TOTAL)
    arrangements = ["lease"] * LEASED_SITES + ["trust_management"] * TRUST_SITES
    used_bins: set[str] = set()
    contracts = milestones = 0
    for number, (arrangement, staff) in enumerate(zip(arrangements, employed, strict=True), 1):
        code = regions[(number * 7) % len(regions)]
        institution = rng.choice(institutions[code])
        site = _site(actor, rng, number, arrangement, staff, institution, used_bins)
        contract, yearly = _site_contract(
            actor,
            rng,
            today,
            number,
            site,
            departments[code],
            officer if code == "KZ-35" else None,
        )
        contracts += 1
        milestones += _site_milestones(actor, rng, contract, today, yearly, arrangement, staff)
    return {
        "sites_lease": LEASED_SITES,
        "sites_trust": TRUST_SITES,
        "employed": EMPLOYED_TOTAL,
        "site_contracts": contracts,
        "site_milestones": milestones,
    }


def _departments_and_colonies(
    actor: User, rng: random.Random, codes: list[str]
) -> tuple[dict[str, Party], dict[str, list[Institution]]]:
    """Each region's department of the penal system (Karaganda's is the article's) and its
    demo colonies."""
    departments: dict[str, Party] = {}
    institutions: dict[str, list[Institution]] = {}
    for index, code in enumerate(codes):
        departments[code] = (
            save_party(
                actor,
                {
                    "name": "Департамент уголовно-исполнительной системы по "
                    f"{REGION_GENITIVE[code]}",
                    "kind": "government",
                    "region": code,
                },
            )
            if code != "KZ-35"
            else db.session.scalar(sa.select(Party).where(Party.name.like(KARAGANDA_DEPARTMENT)))
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
    return departments, institutions


def _site(
    actor: User,
    rng: random.Random,
    number: int,
    arrangement: str,
    staff: int,
    institution: Institution,
    used_bins: set[str],
) -> ProductionSite:
    """A production site at the colony with its operator (tenant or trustee)."""
    activity = rng.choice(ACTIVITIES)
    operator = save_party(
        actor,
        {
            "name": f"ТОО «{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()}"
            f"-{number:03d}» (демо)",
            "kind": "tenant" if arrangement == "lease" else "trustee",
            "bin": _unique_bin(rng, used_bins),
            "region": institution.region_code,
            "email": f"site{number:03d}@demo.kz",
            "head_position": "Директору",
            "head_name": f"{rng.choice(SURNAMES)} {rng.choice('АБДЕКМН')}.{rng.choice('АВГЕКМН')}.",
        },
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
    return site


def _site_contract(
    actor: User,
    rng: random.Random,
    today: date,
    number: int,
    site: ProductionSite,
    department: Party,
    officer: User | None,
) -> tuple[Contract, Decimal]:
    """The lease or trust contract of the site, for three years of a yearly payment; returns
    it and the yearly payment."""
    lease = site.arrangement == "lease"
    signed = today - timedelta(days=rng.randrange(200, 2400))
    yearly = Decimal(rng.randrange(1_200_000, 12_000_000, 50_000))
    contract = save_contract(
        actor,
        {
            "number": f"{'А' if lease else 'ДУ'}-{signed.year}-{number:03d}",
            "signed_on": signed,
            "customer_id": department.id,
            "contractor_id": site.operator_id,
            "site_id": site.id,
            "subject": (
                "Аренда производственных площадей: "
                if lease
                else "Доверительное управление производственным участком: "
            )
            + site.activity.lower(),
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
            "officer": officer.email if officer is not None else None,
        },
    )
    contract.is_demo = True
    return contract, yearly


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
