"""OCDS open data: the release packages pass the official validator (libcoveocds, offline, with
the 1.1.5 schema) and say what the registry says — in scope, with PPP roles and exact amounts."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.db import db
from ppp_tracker.registry.services.documents import add_document
from ppp_tracker.registry.services.milestones import mark_met, save_milestone
from tests import factories

STANDARD_ZIP = Path(__file__).resolve().parent / "data/ocds/standard-1__1__5-schema-only.zip"
LIBCOVEOCDS = Path(sys.executable).parent / "libcoveocds"


def validate(package: dict, tmp_path: Path) -> dict:
    """Run the official validator as the issue says: libcoveocds --standard-zip … FILE."""
    assert STANDARD_ZIP.exists(), STANDARD_ZIP
    path = tmp_path / "package.json"
    path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run(
        [str(LIBCOVEOCDS), "--standard-zip", str(STANDARD_ZIP), str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.fixture
def karaganda(set_today):
    set_today("2014-07-20")
    investor = factories.party(kind="concessionaire", name="ТОО «Концессионер»")
    project = factories.project(
        "KZ-35",
        title="ИУ на 1500 мест в г. Караганде",
        investor_id=investor.id,
        estimated_cost=Decimal("18000000000.00"),
        stages=[
            {"kind": "economic_conclusion", "actual_on": date(2013, 1, 15)},
            {"kind": "state_expertise", "planned_on": date(2014, 7, 1)},
            {"kind": "construction", "planned_on": date(2016, 12, 31)},
        ],
    )
    customer = factories.party(kind="government", bin=None, name="ДУИС по Карагандинской области")
    contract = factories.contract(
        "KZ-35",
        number="241",
        project_id=project.id,
        customer_id=customer.id,
        total_amount=Decimal("77000000.00"),
        installments=[
            {
                "due_on": date(2013, 12, 1),
                "amount": Decimal("23100000.00"),
                "paid_on": date(2013, 12, 5),
                "paid_amount": Decimal("23100000.00"),
            },
            {"due_on": date(2014, 12, 1), "amount": Decimal("53900000.00")},
        ],
    )
    teo = factories.milestone(contract, title="Представление ТЭО", due_on=date(2014, 5, 1))
    mark_met(SYSTEM_USER, teo, date(2014, 6, 9))
    factories.milestone(
        contract,
        title="Отчёт, от которого отказались",
        type="reporting",
        due_on=date(2014, 3, 1),
        status="waived",
        status_note="Письмо заказчика № 5",
    )
    save_milestone(
        SYSTEM_USER,
        contract,
        {
            "title": "Экспертиза через 10 рабочих дней после ТЭО",
            "type": "assessment",
            "relative": {"milestone_id": teo.id, "amount": 10, "unit": "working_days"},
        },
    )
    factories.milestone(
        contract, title="Заключение экспертизы", type="approval", due_on=date(2014, 7, 1)
    )
    for owner, kind in ((contract, "contractSigned"), (project, "feasibilityStudy")):
        add_document(
            SYSTEM_USER,
            owner=owner,
            document_type=kind,
            title=f"Документ {kind}",
            filename="doc.pdf",
            content=b"%PDF-1.4 test",
        )
    db.session.commit()
    return contract


def test_a_contracts_package_passes_the_official_validator(
    client, make_user, api_token, karaganda, tmp_path
):
    headers = api_token(make_user("officer", "KZ-35"))
    r = client.get(f"/api/v1/ocds/contracts/{karaganda.id}", headers=headers)
    assert r.status_code == 200 and r.mimetype == "application/json"
    package = json.loads(r.data)
    report = validate(package, tmp_path)
    assert report["validation_errors"] == []
    assert report["additional_closed_codelist_values"] == {}
    assert report["version_used"] == "1.1"


def test_the_release_says_what_the_registry_says(client, make_user, api_token, karaganda):
    headers = api_token(make_user("officer", "KZ-35"))
    raw = client.get(f"/api/v1/ocds/contracts/{karaganda.id}", headers=headers).data.decode()
    # Exact amounts as JSON numbers, never through a float.
    assert '"amount":77000000.00' in raw and '"amount":23100000.00' in raw
    [release] = json.loads(raw)["releases"]
    assert release["ocid"] == f"ocds-kzuis0-contract-{karaganda.id}"
    assert release["tag"] == ["planning", "contract", "implementation"]
    roles = {p["name"]: p["roles"] for p in release["parties"]}
    assert roles["ДУИС по Карагандинской области"] == ["buyer", "procuringEntity", "payer"]
    assert roles["ТОО «Концессионер»"] == ["funder"]
    contractor = next(p for p in release["parties"] if "supplier" in p["roles"])
    assert contractor["identifier"]["scheme"] == "KZ-BIN"
    [contract] = release["contracts"]
    assert contract["awardID"] == release["awards"][0]["id"]
    milestones = {m["title"]: m for m in contract["milestones"]}
    teo = milestones["Представление ТЭО"]
    assert teo["status"] == "met" and teo["dateMet"] == "2014-06-09T00:00:00+06:00"
    assert teo["dueDate"] == "2014-05-01T23:59:59+06:00"
    assert "04.05.2014" in teo["description"]  # the effective date, explained
    waived = milestones["Отчёт, от которого отказались"]
    assert waived["status"] == "notMet" and "Письмо заказчика № 5" in waived["description"]
    relative = milestones["Экспертиза через 10 рабочих дней после ТЭО"]
    # 10 working days after 09.06.2014 (Monday; no holiday until the 23rd): 23.06.2014.
    assert relative["dueDate"] == "2014-06-23T23:59:59+06:00"
    [transaction] = contract["implementation"]["transactions"]
    assert transaction["value"] == {"amount": 23100000.0, "currency": "KZT"}
    assert transaction["date"] == "2013-12-05T00:00:00+06:00"
    stages = {m["code"]: m for m in release["planning"]["milestones"]}
    assert stages["economic_conclusion"]["status"] == "met"
    assert stages["state_expertise"]["status"] == "notMet"
    assert stages["construction"]["status"] == "scheduled"
    assert [d["documentType"] for d in contract["documents"]] == ["contractSigned"]
    assert [d["documentType"] for d in release["planning"]["documents"]] == ["feasibilityStudy"]


def test_the_validator_catches_what_we_map_away(client, make_user, api_token, karaganda, tmp_path):
    """The test above could not fail if the validator saw nothing: unmapped `waived` and a
    plain date are exactly what it must refuse."""
    headers = api_token(make_user("officer", "KZ-35"))
    package = client.get(f"/api/v1/ocds/contracts/{karaganda.id}", headers=headers).get_json()
    milestone = package["releases"][0]["contracts"][0]["milestones"][0]
    milestone["status"] = "waived"
    milestone["dueDate"] = "2014-05-01"
    report = validate(package, tmp_path)
    assert report["additional_closed_codelist_values"]
    assert any("date-time" in json.dumps(e) for e in report["validation_errors"])


def test_the_bulk_export_holds_the_contracts_in_scope_and_passes(
    client, make_user, api_token, karaganda, tmp_path
):
    foreign = factories.contract("KZ-63", number="ВК-1")
    factories.milestone(foreign, due_on=date(2014, 8, 1))
    officer = api_token(make_user("officer", "KZ-35"))
    package = client.get("/api/v1/ocds/contracts", headers=officer).get_json()
    assert [r["contracts"][0]["title"].split()[2] for r in package["releases"]] == ["241"]
    manager = api_token(make_user("manager", None))
    package = client.get("/api/v1/ocds/contracts", headers=manager).get_json()
    assert len(package["releases"]) == 2
    report = validate(package, tmp_path)
    assert report["validation_errors"] == [] and report["additional_closed_codelist_values"] == {}


def test_another_regions_contract_is_not_found(client, make_user, api_token, karaganda):
    headers = api_token(make_user("officer", "KZ-63"))
    assert client.get(f"/api/v1/ocds/contracts/{karaganda.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/ocds/contracts/{karaganda.id}").status_code == 401


def test_public_open_data_only_when_published_and_without_contacts(app, client, karaganda):
    assert client.get("/open-data/ocds/contracts.json").status_code == 404
    app.config["OCDS_PUBLIC"] = True
    app.config["OCDS_OCID_PREFIX"] = "ocds-abc123"
    r = client.get("/open-data/ocds/contracts.json")
    assert r.status_code == 200
    package = r.get_json()
    assert package["releases"][0]["ocid"].startswith("ocds-abc123-")
    assert all("contactPoint" not in p for r in package["releases"] for p in r["parties"])
