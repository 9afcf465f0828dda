"""Drafting by the workers: a real Celery worker on Redis runs the scan, legal staff of the region
get one e-mail each from a real SMTP server, and a sent letter's files are rendered and kept."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from celery import shared_task

from ppp_tracker.claims import tasks
from ppp_tracker.claims.models import Claim, ClaimFile, ClaimNotice
from ppp_tracker.core.mail import Email, OutboxMessage, send_email
from ppp_tracker.db import db
from tests import factories
from tests.alerting import wait_for
from tests.test_claims_letters import docx_text

pytestmark = pytest.mark.worker


@shared_task(name="tests.claims_sentinel")
def sentinel(marker: str) -> None:
    """Queued last: when its e-mail arrives, the worker has run everything queued before it."""
    send_email(Email(to=("sentinel@example.kz",), subject=marker, text=marker))
    db.session.commit()  # the outbox, when no SMTP server is configured


def test_the_workers_draft_a_claim_and_each_lawyer_of_the_region_gets_one_email(
    app, celery_worker, smtp_server, make_user, set_today
):
    set_today("2014-06-12")
    lawyer = make_user("legal", "KZ-35", email="lawyer@karaganda.kz")
    head_lawyer = make_user("legal", None, email="head.lawyer@kuis.kz")
    make_user("legal", "KZ-63", email="lawyer@oskemen.kz")  # another region: not told
    make_user("officer", "KZ-35", email="officer@karaganda.kz")  # not legal staff: not told
    contract = factories.contract(number="241")
    factories.milestone(contract, title="Разработка ТЭО", due_on=date(2014, 5, 1))

    tasks.scan.delay("2014-06-12")
    wait_for(lambda: len(smtp_server.messages) >= 2)
    claim = db.session.scalar(sa.select(Claim))
    assert claim.status == "draft" and claim.drafted_by == "worker:claims.scan"
    assert str(claim.penalty_total) == "3003000.00"

    # Everything again — a second beat, a redelivered notice — and then the sentinel.
    notice_ids = db.session.scalars(sa.select(ClaimNotice.id)).all()
    tasks.scan.delay("2014-06-12")
    for notice_id in notice_ids:
        tasks.send_notice.delay(notice_id)
    sentinel.delay("sentinel-claims")
    wait_for(lambda: any(m["to"] == ["sentinel@example.kz"] for m in smtp_server.messages))

    mails = [m for m in smtp_server.messages if m["to"] != ["sentinel@example.kz"]]
    assert sorted(m["to"][0] for m in mails) == ["head.lawyer@kuis.kz", "lawyer@karaganda.kz"]
    assert db.session.scalar(sa.select(sa.func.count(Claim.id))) == 1
    for mail in mails:
        message = mail["message"]
        assert "241" in message["Subject"] and "3\xa0003\xa0000,00" in message["Subject"]
        text = message.get_body(("plain",)).get_content()
        assert f"http://localhost/claims/{claim.id}" in text
        assert "Разработка ТЭО" in text and "39" in text
    notices = db.session.scalars(sa.select(ClaimNotice).order_by(ClaimNotice.id)).all()
    assert [(n.status, n.attempts, n.channel) for n in notices] == [("sent", 1, "smtp")] * 2
    assert {n.user_id for n in notices} == {lawyer.id, head_lawyer.id}


def test_a_refused_email_is_retried_not_lost(app, celery_worker, smtp_server, make_user, set_today):
    set_today("2014-06-12")
    make_user("legal", "KZ-35", email="lawyer@karaganda.kz")
    contract = factories.contract()
    factories.milestone(contract, due_on=date(2014, 5, 1))
    smtp_server.refuse = True
    tasks.scan.delay("2014-06-12")
    notice = wait_for(
        lambda: db.session.scalar(sa.select(ClaimNotice).where(ClaimNotice.status == "failed"))
    )
    assert "451" in notice.error and notice.attempts == 1
    # Its retry is due in a minute; if that message is lost, the scan queues it again.
    assert 59 <= (notice.next_attempt_at - notice.claimed_at).total_seconds() <= 61
    # The server is back; the retry (here run at once rather than after its countdown) delivers.
    smtp_server.refuse = False
    notice_id = notice.id
    tasks.send_notice.delay(notice_id)
    # The server takes the e-mail, then the worker records it: wait for the record (reading it
    # as soon as the e-mail arrived failed by chance on a loaded machine).
    notice = wait_for(
        lambda: db.session.scalar(
            sa.select(ClaimNotice).where(ClaimNotice.id == notice_id, ClaimNotice.status == "sent")
        )
    )
    assert notice.attempts == 2 and len(smtp_server.messages) == 1


def test_a_sent_letter_is_rendered_and_kept_by_the_workers(
    app, client, celery_worker, make_user, api_token, set_today
):
    set_today("2014-06-12")
    contract = factories.contract(number="241")
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    drafter, approver = api_token(make_user("legal")), api_token(make_user("legal"))
    claim = client.post(
        "/api/v1/claims",
        json={"contract_id": contract.id, "milestone_ids": [m.id], "as_of": "2014-06-12"},
        headers=drafter,
    ).get_json()
    assert client.post(f"/api/v1/claims/{claim['id']}/approve", headers=approver).status_code == 200
    r = client.post(
        f"/api/v1/claims/{claim['id']}/send",
        json={"acknowledge_kazakh_gaps": True, "sent_on": "2014-06-12"},
        headers=approver,
    )
    assert r.status_code == 200
    files = wait_for(
        lambda: rows if len(rows := db.session.scalars(sa.select(ClaimFile)).all()) == 4 else None
    )
    assert sorted((f.language, f.format) for f in files) == [
        ("kk", "docx"),
        ("kk", "pdf"),
        ("ru", "docx"),
        ("ru", "pdf"),
    ]
    stored = {(f.language, f.format): f.content for f in files}
    # Every word of a letter in its language, whoever renders it (the worker here).
    ru_text = docx_text(stored[("ru", "docx")])
    assert "Итого" in ru_text and "Total" not in ru_text
    assert "Барлығы" in docx_text(stored[("kk", "docx")])
    download = client.get(f"/api/v1/claims/{claim['id']}/letter.pdf?lang=kk", headers=drafter)
    assert download.data == stored[("kk", "pdf")]
    # Rendering again (a retried task) keeps the files as they were.
    tasks.render_letters.delay(claim["id"])
    sentinel.delay("sentinel-render")
    time_of = {f.id: f.rendered_at for f in files}
    wait_for(  # without an SMTP server the sentinel's e-mail goes to the outbox
        lambda: db.session.scalar(
            sa.select(OutboxMessage.id).where(OutboxMessage.subject == "sentinel-render")
        )
    )
    assert {f.id: f.rendered_at for f in db.session.scalars(sa.select(ClaimFile))} == time_of


def test_a_starting_worker_drafts_what_is_overdue_at_once(app, smtp_server, set_today, tmp_path):
    """Beat's first claims scan comes an interval after it starts: a worker that starts drafts
    at once (so `make run`, or a worker back after an outage, does not wait 15 minutes)."""
    from tests.alerting import karaganda
    from tests.faults import stop
    from tests.services import _purge
    from tests.test_alert_workers import _worker

    set_today("2014-06-12")
    w = karaganda()  # due 01.05.2014 → effective 04.05.2014: past the grace period by far
    worker = _worker(
        app,
        tmp_path,
        smtp_server.port,
        pool="solo",
        name="claims-start",
        env={"ALERT_SCAN_ON_WORKER_START": "1", "FAKE_TODAY": "2014-06-12"},
    )
    try:
        wait_for(
            lambda: db.session.scalar(sa.select(sa.func.count(Claim.id))),
            timeout=60,
            message="the draft of the start-up claims scan",
        )
    finally:
        stop(worker)
        # What its scan queued (the dashboard refresh) is no work for the next test's worker.
        _purge(app.extensions["celery"])
    [claim] = db.session.scalars(sa.select(Claim)).all()
    assert claim.contract_id == w.contract.id and str(claim.status) == "draft"
