"""The article's claims and lawsuit in `flask demo load` (DESIGN.md section 2, article section 7).

Contract No. 241's feasibility study was due 01.05.2014 (effective 04.05.2014, after the May
holidays). The Karaganda department sent claims No. 14-28-9-1987 of 12.06.2014, No. 14-28-9-2245
of 30.06.2014 and No. 14-28-9-2462 of 14.07.2014, and sued on 03.07.2014 in the economic court
to have the contractor declared an unscrupulous participant of public procurement and to recover
the penalty until 100 % performance. They are loaded through the same services people use, with
the numbers they had, so the outgoing counter continues after 2462 and never reuses them. Steps
dated after "today" (FAKE_TODAY demos of the past) are left out.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ppp_tracker import clock
from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.auth.models import User
from ppp_tracker.claims import cases, departments, drafting, sending
from ppp_tracker.db import db
from ppp_tracker.deadlines.penalty import contract_penalty
from ppp_tracker.registry.demo_article import KARAGANDA_TITLE
from ppp_tracker.registry.models import Contract, Milestone, Project

#: (penalty as of and sent on, outgoing number as the article prints it)
LETTERS = (
    (date(2014, 6, 12), "14–28–9-1987"),
    (date(2014, 6, 30), "14–28–9-2245"),
    (date(2014, 7, 14), "14–28–9-2462"),
)
LAWSUIT_FILED_ON = date(2014, 7, 3)
LAWSUIT_NOTE = (
    "Исковое заявление о признании АО «РЦГЧП» Карагандинской области недобросовестным "
    "участником государственных закупок и о взыскании неустойки до момента 100 % исполнения "
    "договорных обязательств (в источнике — «Карагандинский экономический суд»)."
)


def _user(email: str):
    return db.session.scalar(sa.select(User).where(User.email == email)) or SYSTEM_USER


def load_demo() -> dict[str, int]:
    contract = db.session.scalar(
        sa.select(Contract)
        .join(Project, Project.id == Contract.project_id)
        .where(Contract.number == "241", Project.title == KARAGANDA_TITLE)
    )
    if contract is None:
        return {}
    study = db.session.scalar(
        sa.select(Milestone).where(
            Milestone.contract_id == contract.id, Milestone.code == "feasibilityStudy"
        )
    )
    legal, admin = _user("legal@demo.kz"), _user("admin@demo.kz")
    # The Karaganda department as the letters' sender. Its BIN, account and bank are not in the
    # article and are left for an admin to enter (page Departments): the demo invents none.
    departments.save_department(
        admin,
        contract.region_code,
        {
            "name_ru": contract.customer.name,
            "name_kk": contract.customer.name_kk,
            "address_ru": contract.customer.address,
            "address_kk": contract.customer.address_kk,
            "head_position_ru": contract.customer.head_position,
            "head_position_kk": contract.customer.head_position_kk,
        },
    )
    today = clock.today()
    sent = []
    case = None
    for as_of, number in LETTERS:
        if as_of > today:
            break
        if case is None and as_of >= LAWSUIT_FILED_ON:
            case = _lawsuit(legal, contract, study, sent)
        claim = drafting.create_claim(
            legal,
            contract,
            {"milestone_ids": [study.id], "as_of": as_of},
            previous=sent[-1] if sent else None,
        )
        # Four eyes: the lawyer prepared it, someone else approved it; the numbers were given
        # in the department's paper register, which only an administrator may enter.
        sending.approve_claim(admin if legal is not admin else SYSTEM_USER, claim)
        # The article's letters went out as they were; a Kazakh part the demo lacks is accepted.
        sending.send_claim(
            admin, claim, as_of, outgoing_number=number, acknowledge_kazakh_gaps=True
        )
        sent.append(claim)
    if case is None and sent and today >= LAWSUIT_FILED_ON:
        case = _lawsuit(legal, contract, study, sent)
    if case is not None:
        cases.save_case(legal, contract, {"claim_ids": [c.id for c in sent]}, case)
    return {"claims_of_the_article": len(sent), "lawsuits_of_the_article": int(case is not None)}


def _lawsuit(legal, contract: Contract, study: Milestone, sent: list):
    claimed = contract_penalty(contract, LAWSUIT_FILED_ON, [study]).total
    return cases.save_case(
        legal,
        contract,
        {
            "filed_on": LAWSUIT_FILED_ON,
            "claims_penalty": True,
            "claims_register": True,
            "amount_claimed": claimed,
            "claim_ids": [c.id for c in sent],
            "notes": LAWSUIT_NOTE,
        },
    )
