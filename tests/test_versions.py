"""The data version (core.versions) and the page bodies kept per version: a body is reused only
while nothing it shows has changed, and never crosses a scope, a role or a language."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.core import versions
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Party
from ppp_tracker.registry.services.contracts import save_contract
from ppp_tracker.registry.services.parties import save_party
from ppp_tracker.registry.services.projects import save_project, save_site
from ppp_tracker.reports import snapshots
from tests import factories
from tests.conftest import login, post_form


def forget_bodies(app) -> None:
    """Drop the bodies kept for `app` (the app serves other tests too)."""
    with app.app_context():
        versions.forget_bodies()


def kept_bodies(app) -> list[str]:
    """The page bodies kept in Redis for `app` (core.versions.pages), without the render locks."""
    with app.app_context():
        backend = versions.pages.cache
        prefix = backend.key_prefix
        names = [key.decode()[len(prefix) :] for key in backend._read_client.keys(prefix + "*")]
        kept = (backend.get(name) for name in names if not name.startswith("rendering:"))
        return [value[2] for value in kept if value is not None]


def render_locks(app) -> list[bytes]:
    with app.app_context():
        backend = versions.pages.cache
        return backend._read_client.keys(backend.key_prefix + "rendering:*")


def _version() -> int:
    db.session.commit()  # a fresh read
    return db.session.scalar(versions.select_version())


def test_a_login_moves_nothing_a_kept_body_depends_on(app, make_user):
    """Logging in records the login time (not audited) and the session: the data version stays,
    so the bodies kept for every scope stay too (issue 16: a login every second must not empty
    them)."""
    officer = make_user("officer", "KZ-35")
    start = _version()
    for _ in range(2):
        login(app.test_client(), officer)
    assert _version() == start


def test_every_audited_commit_moves_the_version_and_nothing_else_does(app):
    start = _version()
    party = factories.party(name="ТОО «Первый»")  # one commit of an audited change
    assert _version() == start + 1
    # Nothing changed, a read, a rollback: the version stays.
    db.session.commit()
    db.session.scalar(sa.select(Party))
    save_party(SYSTEM_USER, {"name": "ТОО «Откат»"}, party)
    db.session.flush()
    db.session.rollback()
    assert _version() == start + 1
    # A bulk statement on an audited model (as a claim's conditional send is) moves it too.
    db.session.execute(
        sa.update(Party).where(Party.id == party.id).values(name="ТОО «Второй»"),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    assert _version() == start + 2
    # Stored dashboard figures are shown by pages: storing them moves it as well.
    snapshots.refresh(date(2014, 6, 12))
    db.session.commit()
    assert _version() == start + 3


def test_a_missing_row_is_made_again_at_an_unseen_version(app):
    before = _version()
    db.session.execute(sa.delete(versions.DataVersion.__table__))
    db.session.commit()
    factories.party()
    after = _version()
    assert after is not None and after not in (before, before + 1, 1)
    factories.party()
    assert _version() == after + 1


def test_concurrent_commits_each_move_the_version_once(app, pg_app):
    """Two transactions committing at once (PostgreSQL): the row lock orders them, each adds one,
    neither waits for the other longer than its commit."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    start = _version()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with app.app_context():
                save_party(SYSTEM_USER, {"name": f"ТОО «Параллельный {n}»", "kind": "tenant"})
                db.session.flush()
                barrier.wait(timeout=10)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert _version() == start + 2


def _list_body(html: str) -> str:
    return html[html.index("<h1") : html.index("</main>")]


def test_the_contract_list_is_rendered_once_per_version_and_shows_every_change_at_once(
    app, client, make_user
):
    forget_bodies(app)  # the app serves other tests too
    ours = factories.contract("KZ-35", number="241", subject="Разработка ТЭО")
    theirs = factories.contract("KZ-63", number="777", subject="Швейный цех")
    officer = make_user("officer", "KZ-35")
    login(client, officer)
    first = client.get("/contracts").get_data(as_text=True)
    assert "241" in first and "777" not in first and "Разработка ТЭО" in first
    assert len(kept_bodies(app)) == 1
    assert _list_body(client.get("/contracts").get_data(as_text=True)) == _list_body(first)
    assert len(kept_bodies(app)) == 1
    for body in kept_bodies(app):
        assert "csrf_token" not in body and officer.email not in body
    # A change through the service (as the form and the API make it) shows on the next request.
    save_contract(officer, {"subject": "Строительство ИУ на 1500 мест"}, ours)
    db.session.commit()
    html = client.get("/contracts").get_data(as_text=True)
    assert "Строительство ИУ на 1500 мест" in html and "Разработка ТЭО" not in html
    # So does a change of a contractor's name (another table shown in the list).
    save_party(SYSTEM_USER, {"name": "АО «Переименованное»"}, ours.contractor)
    db.session.commit()
    assert "АО «Переименованное»" in client.get("/contracts").get_data(as_text=True)
    # And a contract added in the region through the web form, searched at once.
    r = post_form(
        client,
        f"/contracts/{ours.id}/edit",
        {
            "number": "241-А",
            "signed_on": "2013-11-21",
            "customer_id": ours.customer_id,
            "contractor_id": ours.contractor_id,
            "project_id": ours.project_id,
            "site_id": "",
            "subject": "Строительство ИУ на 1500 мест",
            "total_amount": "77 000 000,00",
            "status": "active",
            "officer": officer.email,
            "penalty_rate": "0,1",
            "penalty_base": "total",
            "penalty_cap": "",
            "response_days": "10",
            "response_working": "y",
            "grace_working_days": "1",
        },
        form_url=f"/contracts/{ours.id}/edit",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    assert "241-А" in client.get("/contracts?q=241").get_data(as_text=True)
    assert db.session.get(Contract, theirs.id).number == "777"


def test_a_kept_list_body_never_goes_to_another_scope_role_or_language(app, make_user):
    forget_bodies(app)
    factories.contract("KZ-35", number="241")
    factories.contract("KZ-63", number="777")
    pages = {}
    for name, role, region in [
        ("officer 35", "officer", "KZ-35"),
        ("viewer 35", "viewer", "KZ-35"),
        ("officer 63", "officer", "KZ-63"),
        ("manager", "manager", None),
    ]:
        client = app.test_client()
        login(client, make_user(role, region))
        pages[name] = client.get("/contracts").get_data(as_text=True)
        again = client.get("/contracts").get_data(as_text=True)
        assert _list_body(again) == _list_body(pages[name])  # its own, from the cache
    assert "/contracts/new" in pages["officer 35"] and "/contracts/new" not in pages["viewer 35"]
    assert ">241<" in pages["officer 35"] and ">777<" not in pages["officer 35"]
    assert ">777<" in pages["officer 63"] and ">241<" not in pages["officer 63"]
    assert ">241<" in pages["manager"] and ">777<" in pages["manager"]
    # Another language and another query string are other bodies.
    client = app.test_client()
    login(client, make_user("officer", "KZ-35"))
    russian = client.get("/contracts").get_data(as_text=True)
    sorted_page = client.get("/contracts?sort=number").get_data(as_text=True)
    post_form(client, "/locale", {"locale": "en", "next": "/contracts"}, form_url="/contracts")
    english = client.get("/contracts").get_data(as_text=True)
    assert "Contracts" in _list_body(english) and "Contracts" not in _list_body(russian)
    assert "sort=-number" in sorted_page
    assert "sort=-number" not in russian


def test_a_kept_body_is_served_for_its_version_only_and_not_after_it_expires(app):
    """A body is kept under its key without the version (a change replaces it instead of adding
    keys to Redis): a body of another version, or past its expiry, is rendered again."""
    from datetime import timedelta

    from flask import g

    from ppp_tracker import clock

    forget_bodies(app)
    renders = []

    def ask(version, render):
        with app.test_request_context():
            g._with_user = {versions.WITH_USER_NAME: version}
            return str(versions.cached_body(("test.kept",), render))

    def body(text, **kept):
        def render():
            renders.append(text)
            return versions.Body(text, **kept) if kept else text

        return render

    assert ask(7, body("seven")) == "seven" and ask(7, body("again")) == "seven"
    assert ask(8, body("eight")) == "eight" and len(kept_bodies(app)) == 1
    assert ask(7, body("seven again")) == "seven again"  # an older version is not served either
    soon = clock.now() + timedelta(minutes=5)
    assert ask(9, body("nine", expires_at=soon)) == "nine" and ask(9, body("x")) == "nine"
    assert ask(10, body("ten", keep=False)) == "ten" and ask(10, body("ten, 2")) == "ten, 2"
    assert renders == ["seven", "eight", "seven again", "nine", "ten", "ten, 2"]
    with app.test_request_context():
        g._with_user = {versions.WITH_USER_NAME: 9}
        later = soon + timedelta(seconds=1)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(clock, "now", lambda: later)
            assert str(versions.cached_body(("test.kept",), body("nine, later"))) == "nine, later"


def test_without_redis_nothing_is_kept_and_pages_still_render(tmp_path, make_user):
    """The embedded default (SQLite database and broker, no Redis): no body is kept anywhere,
    every page renders its own."""
    from ppp_tracker import create_app
    from ppp_tracker.extensions import upgrade

    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    embedded = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "CELERY": {"broker_url": f"sqla+sqlite:///{tmp_path / 'broker.db'}"},
        }
    )
    assert versions.redis_url(embedded) is None
    with embedded.app_context():
        upgrade()
        assert type(versions.pages.cache).__name__ == "NullCache"
        renders = []

        def render():
            renders.append(1)
            return "<p>body</p>"

        from flask import g

        with embedded.test_request_context():
            g._with_user = {versions.WITH_USER_NAME: 1}
            versions.cached_body(("test.embedded",), render)
            versions.cached_body(("test.embedded",), render)
        assert len(renders) == 2


def test_savepoints_leave_the_version_to_the_real_commit(app):
    """A savepoint's release does not move the version (its row would stay locked for the rest
    of the transaction); a savepoint rolled back keeps the changes made before it counted."""
    start = _version()
    party = factories.party(name="ТОО «До»")
    assert _version() == start + 1
    save_party(SYSTEM_USER, {"name": "ТОО «Снаружи»"}, party)
    with db.session.begin_nested():
        factories_party = save_party(SYSTEM_USER, {"name": "ТОО «Внутри»", "kind": "tenant"})
    assert factories_party.id is not None
    # Released, not committed: another connection still reads the old version.
    with db.engine.connect() as other:
        assert other.execute(versions.select_version()).scalar() == start + 1
    try:
        with db.session.begin_nested():
            save_party(SYSTEM_USER, {"name": "ТОО «Откатится»", "kind": "tenant"})
            db.session.flush()
            raise RuntimeError("roll the savepoint back")
    except RuntimeError:
        pass
    db.session.commit()
    assert _version() == start + 2
    names = set(db.session.scalars(sa.select(Party.name)))
    assert {"ТОО «Снаружи»", "ТОО «Внутри»"} <= names and "ТОО «Откатится»" not in names


@pytest.mark.parametrize("kind", ["projects", "sites", "parties"])
def test_every_kept_registry_list_shows_a_change_at_once_and_keeps_to_its_scope(
    app, make_user, kind
):
    """The projects, sites and counterparties lists are kept like the contract list: an edit
    shows on the next request, and a region's records never reach another region's officer
    (counterparties are one directory for every region)."""
    forget_bodies(app)
    make = {
        "projects": lambda region, name: factories.project(region, title=name),
        "sites": lambda region, name: factories.site(region, name=name),
        "parties": lambda region, name: factories.party(name=name),
    }[kind]
    save = {
        "projects": lambda obj, name: save_project(SYSTEM_USER, {"title": name}, obj),
        "sites": lambda obj, name: save_site(SYSTEM_USER, {"name": name}, obj),
        "parties": lambda obj, name: save_party(SYSTEM_USER, {"name": name}, obj),
    }[kind]
    ours = make("KZ-35", "Запись Караганды")
    make("KZ-63", "Запись Усть-Каменогорска")
    client = app.test_client()
    login(client, make_user("officer", "KZ-35"))
    first = client.get(f"/{kind}").get_data(as_text=True)
    assert "Запись Караганды" in first
    assert ("Запись Усть-Каменогорска" in first) == (kind == "parties")
    assert _list_body(client.get(f"/{kind}").get_data(as_text=True)) == _list_body(first)
    assert len(kept_bodies(app)) == 1  # the second request was served from it
    save(ours, "Запись переименована")
    db.session.commit()
    again = client.get(f"/{kind}").get_data(as_text=True)
    assert "Запись переименована" in again and "Запись Караганды" not in again


def test_the_deadlines_page_is_kept_until_the_registry_the_alert_log_or_the_scan_moves(
    app, make_user, set_today
):
    """The deadlines body is kept like the lists; besides the registry it shows the alert log
    (the last reminder of each row), which the scan writes, and when the scan last finished."""
    from ppp_tracker.alerts.scan import scan_batch
    from tests.alerting import karaganda, scan

    forget_bodies(app)
    set_today("2014-05-15")
    w = karaganda(due_on=date(2014, 5, 20))
    theirs = factories.contract("KZ-63")
    factories.milestone(theirs, title="Чужой срок", due_on=date(2014, 5, 10))
    client = app.test_client()
    login(client, w.officer)

    def upcoming() -> str:
        html = client.get("/deadlines").get_data(as_text=True)
        return html.split('id="upcoming-table"')[1].split("</table>")[0]

    first = upcoming()
    assert "Представление ТЭО" in first and "Чужой срок" not in first
    assert upcoming() == first and len(kept_bodies(app)) == 1
    # The scan's new alert (the reminder 5 days before) shows as the row's last reminder as
    # soon as its batch commits, before the scan has finished (a scan of a million milestones
    # takes minutes; its end moves the "last checked" time, which names the body too).
    scan_batch(date(2014, 5, 15))
    db.session.commit()
    mid_scan = upcoming()
    no_reminder = '<span class="text-muted">—</span>'
    assert no_reminder in first and no_reminder not in mid_scan

    def last_check() -> str:
        html = client.get("/deadlines").get_data(as_text=True)
        return html.split('id="last-scan">')[1].split("</div>")[0]

    assert "Напоминания ещё не проверялись" in last_check()
    scan("2014-05-15")
    assert "Напоминания последний раз проверялись" in last_check()
    # A new milestone through the service shows at once.
    factories.milestone(w.contract, title="Отчёт о ходе работ", due_on=date(2014, 5, 26))
    assert "Отчёт о ходе работ" in upcoming()
    # The manager of every region has a body of their own, with the other region's row.
    other = app.test_client()
    login(other, w.manager)
    assert "Чужой срок" in other.get("/deadlines").get_data(as_text=True)
    assert "Чужой срок" not in client.get("/deadlines").get_data(as_text=True)
    for body in kept_bodies(app):
        assert "csrf_token" not in body and w.officer.email not in body


def _ask_in_threads(app, names, render, version=41):
    """`cached_body` asked by a thread of its own per name (a gthread worker's requests), each in
    a request whose user statement read data version `version`; returns each thread's body or
    the exception it met."""
    from flask import g

    results = {}

    def ask(name):
        with app.test_request_context():
            g._with_user = {versions.WITH_USER_NAME: version}
            try:
                results[name] = str(versions.cached_body(("test.page",), render))
            except RuntimeError as exc:
                results[name] = exc

    threads = {name: threading.Thread(target=ask, args=(name,), name=name) for name in names}
    return threads, results


def test_a_body_kept_just_before_its_lock_goes_is_taken_not_rendered_again(app, monkeypatch):
    """The order that made the test below fail now and then, made to happen every time: a
    request waits for another's render; between its look at the body (none yet) and its look
    at the lock, the renderer keeps its body and lets go of the lock (through Redis, as
    `cached_body` does). The waiter takes that body; it does not render the page again."""
    from flask import g

    forget_bodies(app)
    real_read, reads, renders = versions._read, [], []

    def read_while_the_renderer_finishes(name, version, now):
        body = real_read(name, version, now)
        reads.append(body)
        if len(reads) == 2:  # the waiter's first look inside its wait: the renderer finishes
            versions._store(name, (version, None, "<p>Сроки</p>"), None, now)
            versions._forget_lock(f"rendering:{name}:{version}")
        return body

    def render():
        renders.append("waiter")
        return "<p>другое</p>"

    monkeypatch.setattr(versions, "_read", read_while_the_renderer_finishes)
    with app.test_request_context():
        g._with_user = {versions.WITH_USER_NAME: 41}
        name = versions._key(("test.page",))
        assert versions.pages.add(f"rendering:{name}:41", 1, timeout=5)  # the other renders
        body = versions.cached_body(("test.page",), render)
    assert str(body) == "<p>Сроки</p>" and renders == []
    assert reads[:2] == [None, None] and not render_locks(app)


def test_after_a_change_one_thread_renders_the_body_and_the_others_take_it(app):
    forget_bodies(app)
    rendering, release, renders = threading.Event(), threading.Event(), []

    def render():
        renders.append(threading.current_thread().name)
        rendering.set()
        assert release.wait(10)
        return "<p>Сроки</p>"

    threads, results = _ask_in_threads(app, ["first", "2", "3", "4"], render)
    threads["first"].start()
    assert rendering.wait(10)  # the first request is rendering the body…
    for name in ("2", "3", "4"):
        threads[name].start()  # …when three more ask for the same one
    time.sleep(0.3)  # (ordering only: let them reach the cache before the render ends)
    release.set()
    for thread in threads.values():
        thread.join(10)
    assert renders == ["first"]
    assert set(results.values()) == {"<p>Сроки</p>"}
    assert not render_locks(app)


def test_a_failed_render_leaves_the_waiting_requests_to_render_their_own(app):
    forget_bodies(app)
    rendering, release = threading.Event(), threading.Event()

    def render():
        if threading.current_thread().name == "first":
            rendering.set()
            assert release.wait(10)
            raise RuntimeError("the template failed")
        return "<p>Сроки</p>"

    threads, results = _ask_in_threads(app, ["first", "2"], render)
    threads["first"].start()
    assert rendering.wait(10)
    threads["2"].start()
    time.sleep(0.3)
    release.set()
    for thread in threads.values():
        thread.join(10)
    assert isinstance(results["first"], RuntimeError) and results["2"] == "<p>Сроки</p>"
    assert not render_locks(app)
