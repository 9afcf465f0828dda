"""No input makes a page answer 500 — the schemathesis run of the API, for the pages.

Every HTML route of the app (walked from `app.url_map`, so a new page is fuzzed the day it is
added), as every role: each page is opened plainly (its forms are read: their fields are the names
to fuzz), then with a hostile query string (its filters, its path's names, the names `url_for`
keeps for itself), and each form is posted with hostile values and a valid CSRF token. Values
come from a fixed list chosen with a seeded generator per role and route: the same requests on
every run (`make test` is reproducible), a few hundred in all (bounded in time). `make fuzz`
runs it with a new seed each time.
"""

from __future__ import annotations

import os
import random
import time
from datetime import date
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest

from ppp_tracker.db import db
from tests import factories
from tests.conftest import csrf_token, login
from tests.test_access import ROLES, WRITE_METHODS, _url, web_routes, world  # noqa: F401

#: `make fuzz` (FUZZ=1) draws a new seed each run and prints it; `make test` uses a fixed one.
SEED = random.SystemRandom().randrange(10**9) if os.environ.get("FUZZ") == "1" else 20261207
print(f"hostile pages: seed {SEED}")
#: What a form or a query string may carry: numbers too large, negative, written in other
#: digits, dates that do not exist, markup, a right-to-left override, very long text, a NUL.
HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "1,5",
    "12 345,67",
    "99999999999999999999",
    "-9223372036854775809",
    "1e309",
    "NaN",
    "inf",
    "²",
    "٣",
    "２",
    "true",
    "null",
    "[]",
    "{}",
    "2014-13-45",
    "2014-02-30",
    "0000-01-01",
    "9999-12-31",
    "31.12.2014",
    "KZ-99",
    "admin",
    "' OR '1'='1",
    "%_\\",
    "../../etc/passwd",
    "\r\nBcc: evil@example.com",
    "\u202eтекст\u200b",
    '<script>alert(1)</script>"><img src=x onerror=alert(1)>{{7*7}}',
    "Ж" * 300,
    "x" * 5000,
    "a\x00b",
]
#: Names that Flask's url_for or Werkzeug read as their own, and names every list knows.
RESERVED = ["_method", "_anchor", "_external", "_scheme", "endpoint", "values", "_host"]
COMMON = ["page", "per_page", "sort", "q", "region", "status", "kind", "as_of", "lang", "next"]
#: Fields to post where no page shows the form (an action posted by a button or by script).
GENERIC_FIELDS = ["name", "title", "reason", "note", "sent_on", "kind", "status", "amount"]


class _Forms(HTMLParser):
    """The forms of a page: (method, action path) -> field names."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: dict[tuple[str, str], set[str]] = {}
        self._current: set[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").upper()
            action = urlsplit(attrs.get("action") or self.page_path).path or self.page_path
            self._current = self.forms.setdefault((method, action), set())
        elif (
            tag in ("input", "select", "textarea", "button")
            and self._current is not None
            and attrs.get("name") not in (None, "csrf_token")
        ):
            self._current.add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _query(rng: random.Random, names: list[str]) -> str:
    """A query string as text: some of the page's names and two reserved ones, hostile values,
    one name given twice."""
    picked = rng.sample(names, min(len(names), 5)) + rng.sample(RESERVED, 2)
    picked.append(rng.choice(picked))
    return "&".join(f"{quote(n)}={quote(rng.choice(HOSTILE))}" for n in picked)


class _Walk:
    def __init__(self, app, client, role: str):
        self.app, self.client, self.role = app, client, role
        self.failures: list[tuple] = []
        self.requests = 0

    def send(self, method: str, url: str, **kwargs):
        self.requests += 1
        try:
            response = self.client.open(url, method=method, **kwargs)
        except Exception as exc:  # the app propagates its errors in tests: that is a 500
            db.session.rollback()
            self.failures.append((self.role, method, url, kwargs.get("data"), repr(exc)[:300]))
            return None
        if response.status_code >= 500:
            self.failures.append((self.role, method, url, kwargs.get("data"), response.status_code))
        return response

    def rng(self, *parts) -> random.Random:
        return random.Random(":".join(map(str, (SEED, self.role, *parts))))


def _values(records: dict, user_id: int) -> dict:
    return {**records["shared"], **records["own"], "user_id": user_id, "token_id": 1}


@pytest.mark.slow
def test_no_input_makes_any_page_answer_500(app, make_user, world):  # noqa: F811
    started = time.monotonic()
    routes = [
        (e, m, r) for e, m, r in web_routes(app) if e not in ("auth.logout", "static")
    ]  # logging out would end the walk; static files are Werkzeug's
    gets = [(e, r) for e, m, r in routes if m == "GET"]
    posts = [(e, m, r) for e, m, r in routes if m in WRITE_METHODS]
    assert len(gets) > 40 and len(posts) > 40
    failures, requests = [], 0
    forms: dict[tuple[str, str], set[str]] = {}
    for n, (role, region) in enumerate(ROLES):
        user = make_user(role, region)
        client = app.test_client()  # a session of its own per role
        login(client, user)
        walk = _Walk(app, client, role)
        values = _values(world, user.id)
        for endpoint, rule in gets:
            url = _url(app, rule, values)
            path = urlsplit(url).path
            if n == 0:  # the first role (admin) sees every form: their fields are the names
                response = walk.send("GET", url)
                if response is not None and response.mimetype == "text/html":
                    parser = _Forms(path)
                    parser.feed(response.get_data(as_text=True))
                    for key, names in parser.forms.items():
                        forms.setdefault(key, set()).update(names)
            names = sorted(set(rule.arguments) | set(COMMON) | forms.get(("GET", path), set()))
            walk.send("GET", f"{url}?{_query(walk.rng(endpoint, 'GET'), names)}")
        token = csrf_token(client, "/profile")
        for endpoint, method, rule in posts:
            url = _url(app, rule, values)
            names = sorted(forms.get((method, urlsplit(url).path)) or GENERIC_FIELDS)
            rng = walk.rng(endpoint, method)
            data = {name: rng.choice(HOSTILE) for name in names}
            walk.send(method, url, data={**data, "csrf_token": token})
        failures += walk.failures
        requests += walk.requests
    took = time.monotonic() - started
    assert not failures, "\n".join(map(str, failures[:30]))
    # every role sent something hostile to every route; the first opened every page plainly too
    assert requests == len(ROLES) * (len(gets) + len(posts)) + len(gets)
    assert len(forms) > 40
    print(f"{requests} requests in {took:.1f} s")


LIST_PAGES = ["/parties", "/institutions", "/projects", "/sites", "/contracts", "/claims",
              "/cases", "/deadlines", "/audit", "/admin/users", "/outbox", "/timeline",
              "/search", "/imports", "/letter-templates", "/"]  # fmt: skip


def test_reserved_query_names_on_the_list_pages_are_ignored(app, client, make_user, set_today):
    """`_method=POST`, `endpoint=x`, `_anchor=x` (url_for's own names) were 500s: the links of
    a list (sort, pages, exports) carry the filters of the query, and these broke them."""
    set_today("2014-07-14")
    contract = factories.contract("KZ-35")
    # 26 overdue obligations: the deadlines page (25 a page) shows its pager
    for n in range(26):
        factories.milestone(contract, title=f"Этап {n}", due_on=date(2014, 5, 1))
    db.session.commit()
    login(client, make_user("admin", None))
    failures = []
    for page in LIST_PAGES:
        for query in ("_method=POST", "endpoint=x", "_anchor=x", "_external=1&q=Ж", "values=x"):
            try:
                response = client.get(f"{page}?{query}")
                status = response.status_code
            except Exception as exc:
                db.session.rollback()
                status = repr(exc)[:200]
            if status != 200:
                failures.append((page, query, status))
    assert not failures, failures
    # the filters still travel in the links; the reserved names do not
    html = client.get("/deadlines?_anchor=x&q=Этап&_method=POST").get_data(as_text=True)
    assert "overdue_page=2" in html
    links = [part for part in html.split('href="')[1:] if "overdue_page=2" in part]
    assert links and all("_anchor" not in link and "_method" not in link for link in links)
    assert all("q=%D0%AD%D1%82%D0%B0%D0%BF" in link for link in links)
