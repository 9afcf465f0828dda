"""Claim letters: one letter as DOCX and as PDF against a bare docxtpl / WeasyPrint render of the
same template (goal: within 1.3×), and a batch of letters rendered by real Celery workers.

    python -m bench letters [--rounds 30] [--batch 500] [--workers 2]

It needs what `make test` needs: PostgreSQL on 127.0.0.1 (a database of its own is created and
dropped) and Redis (a queue of its own). Figures are ratios against baselines measured in the
same run, because the machine is shared; the absolute times are printed for context only.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PG_HOST = os.environ.get("TEST_PG_HOST", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _database() -> tuple[str, str]:
    name = f"ppp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"{PG_HOST}/{name}"


def _drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _app(url: str, queue: str):
    from ppp_tracker import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "CELERY": {
                "broker_url": REDIS,
                "result_backend": None,
                "task_ignore_result": True,
                "task_default_queue": queue,
                "broker_connection_retry_on_startup": True,
            },
        }
    )


def _sent_claims(n: int) -> list[int]:
    """n sent claims like the article's first letter, each on its own late obligation."""
    from ppp_tracker.auth.access import SYSTEM_USER
    from ppp_tracker.claims import drafting, sending
    from ppp_tracker.db import db
    from ppp_tracker.registry.services.contracts import save_contract
    from ppp_tracker.registry.services.milestones import save_milestone
    from ppp_tracker.registry.services.parties import save_party
    from ppp_tracker.registry.services.projects import save_project

    customer = save_party(
        SYSTEM_USER,
        {
            "name": "Департамент уголовно-исполнительной системы по Карагандинской области",
            "kind": "government",
            "head_position": "Начальник Департамента",
        },
    )
    contractor = save_party(
        SYSTEM_USER,
        {
            "name": "АО «Региональный центр ГЧП Карагандинской области»",
            "kind": "contractor",
            "head_position": "Председателю Правления",
            "address": "г. Караганда",
        },
    )
    project = save_project(
        SYSTEM_USER, {"title": "ИУ на 1500 мест", "kind": "concession", "region": "KZ-35"}
    )
    contract = save_contract(
        SYSTEM_USER,
        {
            "number": "241",
            "signed_on": date(2013, 11, 21),
            "customer_id": customer.id,
            "contractor_id": contractor.id,
            "project_id": project.id,
            "subject": "Разработка ТЭО концессионного проекта",
            "total_amount": Decimal("77000000.00"),
            "penalty_clause": "раздел «Ответственность сторон» Договора",
        },
    )
    ids = []
    for k in range(n):
        milestone = save_milestone(
            SYSTEM_USER,
            contract,
            {
                "title": f"Этап {k + 1}: разработка ТЭО",
                "type": "delivery",
                "due_on": date(2014, 5, 1),
            },
        )
        claim = drafting.create_claim(
            SYSTEM_USER, contract, {"milestone_ids": [milestone.id], "as_of": date(2014, 6, 12)}
        )
        sending.approve_claim(SYSTEM_USER, claim)
        # the bench's records have no Kazakh versions: the Kazakh letter quotes Russian
        sending.send_claim(SYSTEM_USER, claim, date(2014, 6, 12), acknowledge_kazakh_gaps=True)
        ids.append(claim.id)
    db.session.commit()
    return ids


def _median_pair(ours, bare, rounds: int) -> tuple[float, float]:
    """Interleaved timings (ours, bare, ours, bare…) so drift hits both alike; medians."""
    for _ in range(3):
        ours()
        bare()
    t_ours, t_bare = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        ours()
        t_ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare()
        t_bare.append(time.perf_counter() - start)
    return statistics.median(t_ours), statistics.median(t_bare)


def one_letter(claim_id: int, rounds: int) -> dict:
    """Ours: load the sent claim, thaw its snapshot, run the sandboxed text, fill the frame,
    render. Bare: docxtpl (autoescape) on the same frame with a ready context; WeasyPrint on the
    same HTML template with a ready context."""
    from docxtpl import DocxTemplate
    from flask import render_template
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from ppp_tracker.claims import composing
    from ppp_tracker.claims.letters import rendering
    from ppp_tracker.claims.models import Claim
    from ppp_tracker.db import db

    def load() -> Claim:
        db.session.expunge_all()
        return db.session.get(Claim, claim_id)

    frame = composing.letter_for(load(), "ru").frame

    def ours_docx():
        return composing.letter_for(load(), "ru").docx()

    def bare_docx():
        document = DocxTemplate(rendering.FRAME_DOCX)
        document.render(frame, autoescape=True)
        document.save(io.BytesIO())

    def ours_pdf():
        return composing.letter_for(load(), "ru").pdf()

    def bare_pdf():
        html = render_template("letters/claim.html", **frame)
        HTML(string=html, base_url=rendering.STATIC_DIR.as_uri() + "/").write_pdf(
            font_config=FontConfiguration()
        )

    docx_ours, docx_bare = _median_pair(ours_docx, bare_docx, rounds)
    pdf_ours, pdf_bare = _median_pair(ours_pdf, bare_pdf, rounds)
    return {
        "docx": (docx_ours, docx_bare),
        "pdf": (pdf_ours, pdf_bare),
    }


def batch(app, claim_ids: list[int], workers: int, queue: str, url: str) -> dict:
    """The claims' letters (ru and kk, DOCX and PDF: four files each) by `workers` prefork
    worker processes, against the same work done in this process for a sample."""
    import sqlalchemy as sa

    from ppp_tracker.claims import composing, tasks
    from ppp_tracker.claims.models import Claim, ClaimFile
    from ppp_tracker.db import db

    sample = claim_ids[1:11]
    start = time.perf_counter()
    for claim_id in sample:
        claim = db.session.get(Claim, claim_id)
        composing.store_letter_files(claim)
    inline_per_claim = (time.perf_counter() - start) / len(sample)
    db.session.rollback()  # the sample's files are not kept: the workers render every claim

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": REDIS,
        "CELERY_RESULT_BACKEND": REDIS,
        "SECRET_KEY": "bench",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            str(workers),
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
    )

    def files() -> int:
        db.session.rollback()
        return db.session.scalar(sa.select(sa.func.count(ClaimFile.id)))

    def wait_for(count: int) -> None:
        while files() < count:
            if worker.poll() is not None:
                raise RuntimeError("the worker stopped")
            time.sleep(0.2)

    try:
        # A first letter warms the workers up; the clock starts after it, so start-up is not
        # part of the figure.
        warm, rest = claim_ids[0], claim_ids[1:]
        tasks.render_letters.apply_async((warm,), queue=queue)
        wait_for(4)
        start = time.perf_counter()
        for claim_id in rest:
            tasks.render_letters.apply_async((claim_id,), queue=queue)
        expected = 4 * len(rest)
        wait_for(4 + expected)
        wall = time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return {
        "claims": len(rest),
        "files": expected,
        "wall": wall,
        "inline_per_claim": inline_per_claim,
        "workers": workers,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench letters")
    parser.add_argument("--rounds", type=int, default=30, help="timed renders of one letter")
    parser.add_argument("--batch", type=int, default=500, help="letters through the workers")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    args = parser.parse_args(argv)

    from ppp_tracker.core.audit import Actor, acting_as
    from ppp_tracker.extensions import upgrade

    name, url = _database()
    queue = f"ppp-bench-{uuid.uuid4().hex[:8]}"
    try:
        app = _app(url, queue)
        with app.app_context(), acting_as(Actor("bench:letters")):
            upgrade()
            claim_ids = _sent_claims(args.batch + 1)  # one more to warm the workers up
            single = one_letter(claim_ids[0], args.rounds)
            many = batch(app, claim_ids, args.workers, queue, url) if args.batch else None
            from ppp_tracker.db import db

            db.engine.dispose()
    finally:
        _drop(name)

    print("letters: one letter, median of", args.rounds, "interleaved renders")
    for fmt, (ours, bare) in single.items():
        print(
            f"  {fmt.upper():4} ours {ours * 1000:7.1f} ms  bare {bare * 1000:7.1f} ms  "
            f"ratio {ours / bare:.2f}×  (goal ≤ 1.30×)"
        )
    if many:
        expected = many["claims"] * many["inline_per_claim"]
        print(
            f"letters: batch of {many['claims']} claims ({many['files']} files) through "
            f"{many['workers']} worker processes"
        )
        print(
            f"  wall {many['wall']:.1f} s = {many['claims'] / many['wall']:.1f} letters/s; "
            f"in-process one after another {many['inline_per_claim'] * 1000:.0f} ms per letter "
            f"→ {expected:.1f} s; ratio workers/in-process {many['wall'] / expected:.2f}×"
        )
    return 0
