"""Test data made through the real services (so validation and audit run as in production)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.db import db
from ppp_tracker.registry.identifiers import make_bin
from ppp_tracker.registry.services.contracts import save_contract
from ppp_tracker.registry.services.milestones import save_milestone
from ppp_tracker.registry.services.parties import save_institution, save_party
from ppp_tracker.registry.services.projects import save_project, save_site

#: Numbers in made-up names, codes and BINs. Restarted before every test (conftest), so that a
#: test sees the same names whichever tests its process ran before — under pytest-xdist that
#: order changes from run to run, and a BIN like 000001497004 once put a "49" into a letter.
_seq = itertools.count(1)


def restart_numbering() -> None:
    global _seq
    _seq = itertools.count(1)


def valid_bin(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    for k in range(100):
        candidate = make_bin(f"{(n * 100 + k) % 10**11:011d}")
        if candidate:
            return candidate
    raise AssertionError("no BIN")


def party(**data):
    n = next(_seq)
    values = {"name": f"ТОО «Подрядчик {n}»", "kind": "contractor", "bin": valid_bin(n)}
    if "name" not in data:
        # A default party is named in both languages, so that its Kazakh letter is Kazakh.
        values["name_kk"] = f"«{n} мердігер» ЖШС"
    values.update(data)
    obj = save_party(SYSTEM_USER, values)
    db.session.commit()
    return obj


def institution(region: str = "KZ-35", **data):
    values = {"name": f"Учреждение {next(_seq)}", "kind": "colony", "region": region}
    values.update(data)
    obj = save_institution(SYSTEM_USER, values)
    db.session.commit()
    return obj


def project(region: str = "KZ-35", **data):
    values = {"title": f"Проект {next(_seq)}", "kind": "concession", "region": region}
    values.update(data)
    obj = save_project(SYSTEM_USER, values)
    db.session.commit()
    return obj


def site(region: str = "KZ-35", **data):
    inst = data.pop("institution_obj", None) or institution(region)
    values = {"name": f"Участок {next(_seq)}", "arrangement": "lease", "institution": inst.id}
    values.update(data)
    obj = save_site(SYSTEM_USER, values)
    db.session.commit()
    return obj


def contract(region: str = "KZ-35", **data):
    owner = {}
    if "project_id" not in data and "site_id" not in data:
        owner = {"project_id": project(region).id}
    values = {
        "number": f"Д-{next(_seq)}",
        "signed_on": date(2013, 11, 21),
        "customer_id": party(kind="government", bin=None).id,
        "contractor_id": party().id,
        "subject": "Разработка ТЭО",
        "total_amount": Decimal("77000000.00"),
        **owner,
    }
    if "subject" not in data:
        values["subject_kk"] = "ТЭН әзірлеу"
    values.update(data)
    obj = save_contract(SYSTEM_USER, values)
    db.session.commit()
    return obj


def milestone(contract_obj, **data):
    n = next(_seq)
    values = {"title": f"Обязательство {n}", "type": "delivery", "due_on": date(2014, 5, 1)}
    if "title" not in data:
        values["title_kk"] = f"{n}-міндеттеме"
    values.update(data)
    obj = save_milestone(SYSTEM_USER, contract_obj, values)
    db.session.commit()
    return obj


def api_world(region: str = "KZ-35") -> dict[str, int]:
    """A contract with a late milestone, a draft claim and a lawsuit in `region`: one record of
    each kind the API names by id."""
    from ppp_tracker.claims import cases, drafting

    a_site = site(region)
    a_contract = contract(region)
    late = milestone(a_contract, due_on=date(2014, 5, 1))
    claim = drafting.create_claim(
        SYSTEM_USER, a_contract, {"milestone_ids": [late.id], "as_of": date(2014, 6, 12)}
    )
    case = cases.save_case(SYSTEM_USER, a_contract, {"filed_on": date(2014, 7, 3)})
    db.session.commit()
    return {
        "party": a_contract.contractor_id,
        "project": a_contract.project_id,
        "site": a_site.id,
        "institution": a_site.institution_id,
        "contract": a_contract.id,
        "milestone": late.id,
        "claim": claim.id,
        "case": case.id,
    }
