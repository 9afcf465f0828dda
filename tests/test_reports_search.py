"""One search across projects, contracts, counterparties and sites: by name, number and BIN."""

from __future__ import annotations

from tests import factories
from tests.conftest import login


def _results(client, q: str, **args) -> str:
    response = client.get("/search", query_string={"q": q, **args})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _group(html: str, name: str) -> str:
    if f'id="results-{name}"' not in html:
        return ""
    return html.split(f'id="results-{name}"', 1)[1].split("</table>", 1)[0]


def test_a_bin_finds_the_party_its_contracts_and_its_sites(client, make_user):
    tenant = factories.party(name="ТОО «Швейник»", kind="tenant")
    factories.contract("KZ-35", number="А-2024-001", contractor_id=tenant.id)
    factories.site("KZ-35", name="Швейный цех", operator_id=tenant.id)
    factories.party(name="ТОО «Другой»")
    login(client, make_user("officer", "KZ-35"))
    html = _results(client, tenant.bin)
    assert "ТОО «Швейник»" in _group(html, "parties")
    assert "ТОО «Другой»" not in html
    assert "А-2024-001" in _group(html, "contracts")
    assert "Швейный цех" in _group(html, "sites")
    # A BIN typed with spaces is the same BIN.
    spaced = " ".join([tenant.bin[:4], tenant.bin[4:8], tenant.bin[8:]])
    assert "А-2024-001" in _group(_results(client, spaced), "contracts")


def test_a_number_typed_with_dashes_from_word_finds_the_contract(client, make_user):
    factories.contract("KZ-35", number="14-28-9-1987")
    login(client, make_user("viewer", "KZ-35"))
    assert "14-28-9-1987" in _group(_results(client, "14–28–9-1987"), "contracts")


def test_names_are_found_whatever_the_case_and_projects_too(client, make_user):
    factories.project("KZ-35", title="Исправительное учреждение на 1500 мест в г. Караганде")
    login(client, make_user("viewer", "KZ-35"))
    html = _results(client, "КАРАГАНД")
    assert "1500 мест" in _group(html, "projects")


def test_search_stays_in_the_users_region(client, make_user):
    factories.contract("KZ-63", number="ВК-555")
    factories.project("KZ-63", title="Проект в Усть-Каменогорске")
    login(client, make_user("officer", "KZ-35"))
    html = _results(client, "ВК-555")
    assert "ВК-555" not in _group(html, "contracts") and 'id="no-results"' in html
    assert _group(_results(client, "Усть-Каменогорске"), "projects") == ""


def test_wildcards_are_taken_literally(client, make_user):
    factories.contract("KZ-35", number="100%")
    factories.contract("KZ-35", number="1000")
    login(client, make_user("viewer", "KZ-35"))
    contracts = _group(_results(client, "100%"), "contracts")
    assert "100%" in contracts and "№ 1000" not in contracts


def test_the_navbar_search_box_goes_to_the_search_page(client, make_user):
    login(client, make_user("viewer", "KZ-35"))
    html = client.get("/contracts").get_data(as_text=True)
    assert 'role="search" action="/search"' in html


def test_more_results_than_shown_offer_the_whole_group(client, make_user):
    for i in range(12):
        factories.party(name=f"ТОО «Ромашка {i:02d}»")
    login(client, make_user("viewer", "KZ-35"))
    html = _results(client, "ромашка")
    assert _group(html, "parties").count("<tr>") == 10
    assert "only=parties" in html
    assert _group(_results(client, "ромашка", only="parties"), "parties").count("<tr>") == 12
