"""A letter text (edited by admins, run in the sandbox) cannot take more than its share of the
machine: no value beyond MAX_BUILT however it is built, each rendering within its loop steps,
characters and time — refused with a clear message, on saving and on rendering a real claim —
and a letter's PDF fetches nothing outside the app."""

from __future__ import annotations

import html
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from ppp_tracker.claims import composing
from ppp_tracker.claims.letters import rendering, samples, sandbox, texts
from ppp_tracker.claims.models import LetterTemplate
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from tests import factories
from tests.claims_world import claims_world
from tests.conftest import login, post_form

#: Each builds (or loops) far past the limits with text short enough to pass the length check.
BOMBS = [
    # the review's findings: a replace that multiplies, nested loops that write nothing
    '{{ ("x" * 10000)|replace("x", "y" * 10000) }}',
    "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}",
    # the same through other doors
    '{{ ("x" * 10000).replace("x", "y" * 10000) }}',
    '{{ (["x" * 10000] * 10000)|join }}',
    '{{ range(10000)|map("string")|map("replace", "1", "y" * 9999)|join }}',
    '{{ "x".ljust(999999999) }}',
    '{{ "{:>999999999}".format(1) }}',
    '{{ "{:>{}}".format(1, 999999999) }}',
    '{{ ("x" * 10000) ~ ("x" * 10000) }}',
    '{{ ("x" * 10000) + ("x" * 10000) }}',
    "{% for a in '" + "ab" * 1000 + "' %}{% for b in '" + "ab" * 1000 + "' %}"
    "{% endfor %}{% endfor %}",
    '{% set x %}{% for i in range(10000) %}{{ "y" * 9999 }}{% endfor %}{% endset %}{{ x|length }}',
]


@pytest.mark.parametrize("payload", BOMBS)
def test_a_letter_text_that_builds_or_loops_too_much_is_refused_on_saving(app, make_user, payload):
    admin = make_user("admin", None)
    text = texts.default_text("ru").replace("{{ contract.subject }}", payload, 1)
    assert len(text) < texts.MAX_TEMPLATE_CHARS
    with pytest.raises(Invalid) as refused:  # three sample letters, each stopped at its limits
        composing.save_template(admin, "ru", text)
    [message] = refused.value.errors["body"]
    line = text[: text.index(payload)].count("\n") + 1  # where the payload stands
    assert message.startswith(f"Строка {line}: Запрещено"), message
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LetterTemplate)) == 0


def _with(payload: str) -> str:
    return texts.default_text("ru").replace("{{ contract.subject }}", payload, 1)


def test_a_letter_longer_than_the_limit_is_refused():
    # 30 x 9,000 characters: each value is allowed, the letter is not
    text = _with('{% for i in range(30) %}{{ "я" * 9000 }}{% endfor %}')
    with pytest.raises(sandbox.LetterLimit, match=f"longer than {sandbox.MAX_OUTPUT} characters"):
        sandbox.render_blocks(text, samples.sample_context(), "ru")
    # ten of them are a long letter, but a letter
    fine = _with('{% for i in range(10) %}{{ "я" * 9000 }}{% endfor %}')
    body = sandbox.render_blocks(fine, samples.sample_context(), "ru")["body"]
    assert "я" * 90_000 in "".join(body)


def test_recursion_that_doubles_a_text_or_the_work_is_stopped():
    ctx = samples.sample_context()
    doubling = _with(
        "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% else %}{{ s|length }}{% endif %}"
        '{% endmacro %}{{ d("x", 40) }}'
    )
    with pytest.raises(sandbox.LetterLimit, match="more than 10000 items"):
        sandbox.render_blocks(doubling, ctx, "ru")
    # 2**40 calls that write nothing: stopped by the count of calls (or, on a busy machine, by
    # the clock, whichever comes first)
    tree = _with(
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    )
    with pytest.raises(
        sandbox.LetterLimit, match=f"more than {sandbox.MAX_STEPS} loop steps|took longer"
    ):
        sandbox.render_blocks(tree, ctx, "ru")
    # the same macro on a small tree renders: 2**4 leaves of "ok"
    small = _with(
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% else %}ok{% endif %}"
        "{% endmacro %}{{ f(4) }}"
    )
    assert "ok" * 16 in "".join(sandbox.render_blocks(small, ctx, "ru")["body"])


def test_a_rendering_that_runs_past_its_time_is_stopped(monkeypatch):
    # 150 x 150 steps (and as many calls) stay under the step limit; sorting a list each step
    # takes time: about a second here, far more than the tenth of a second allowed below
    assert sandbox.MAX_STEPS > 2 * 150 * 150
    text = _with(
        "{% for i in range(150) %}{% for j in range(150) %}"
        "{% set x = range(300)|list|sort %}{% endfor %}{% endfor %}"
    )
    monkeypatch.setattr(sandbox, "MAX_RENDER_SECONDS", 0.1)
    # the clock's limit is what stops it (the message names it), not the end of the loops
    with pytest.raises(sandbox.LetterLimit, match=r"longer than 0\.1 s"):
        sandbox.render_blocks(text, samples.sample_context(), "ru")


def test_the_default_letters_render_well_within_the_limits():
    for lang in ("ru", "kk"):
        for variant in range(3):
            # a rendering past any limit (its time included) raises LetterLimit
            blocks = sandbox.render_blocks(
                texts.default_text(lang), samples.sample_context(variant), lang
            )
            assert blocks["body"]


def test_a_text_that_explodes_only_with_a_real_claim_is_refused_with_a_clear_message(
    app, client, make_user
):
    # The sample letters are contract 241; this text bombs any other contract, so it is saved.
    admin = make_user("admin", None)
    bomb = (
        '{% if contract.number != "241" %}{% for i in range(3000) %}{% for j in range(3000) %}'
        "{% endfor %}{% endfor %}{% endif %}{{ contract.subject }}"
    )
    composing.save_template(admin, "ru", _with(bomb))
    db.session.commit()
    contract = factories.contract("KZ-35", number="77-ПЧП")
    world = claims_world(contract)
    lawyer = make_user("legal", "KZ-35")
    login(client, lawyer)
    response = client.get(f"/claims/{world['claim_id']}/letter.pdf?lang=ru")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Текст письма нельзя сформировать" in page
    # the claim's page still opens and says why there is no preview, in the reader's words
    claim_page = client.get(f"/claims/{world['claim_id']}")
    assert claim_page.status_code == 200
    shown = claim_page.get_data(as_text=True)
    assert "Текст письма нельзя сформировать: " in shown and "Invalid" not in shown


#: One text per kind of refusal: our limits (a number, a value, the steps, a power) and the doors
#: Jinja's sandbox keeps shut (an attribute, a list's mutating method), whose own words are English.
REFUSED = [
    '{{ "x".ljust(999999999) }}',
    '{{ ("x" * 10000) ~ ("x" * 10000) }}',
    "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}",
    "{{ 2 ** 100000 }}",
    "{{ (milestones|first).__class__ }}",
    "{{ earlier.append(1) }}",
]


@pytest.mark.parametrize(
    ("locale", "refused"), [("ru", "Запрещено: "), ("kk", "Рұқсат етілмейді: ")]
)
def test_a_refused_letter_text_says_why_in_the_pages_language(client, make_user, locale, refused):
    login(client, make_user("admin", None))
    assert (
        post_form(client, "/locale", {"locale": locale, "next": "/"}, form_url="/").status_code
        == 302
    )
    for payload in REFUSED:
        r = post_form(client, "/letter-templates/ru", {"body": _with(payload), "note": ""})
        assert r.status_code == 422, payload
        errors = re.findall(r'data-field-error="body">([^<]*)<', r.get_data(as_text=True))
        [message] = [html.unescape(e) for e in errors]
        line = _with(payload)[: _with(payload).index(payload)].count("\n") + 1
        assert message.split(": ", 1)[1].startswith(refused), message
        assert str(line) in message.split(": ", 1)[0], message
        # what the text itself names stands in «…»; the rest is the page's language
        assert re.findall(r"[A-Za-z]+", re.sub(r"«[^»]*»", "", message)) == [], message


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """A tiny HTTP server on 127.0.0.1 that records every request it gets."""
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_letter_pdf_fetches_nothing_outside_the_app(app, http_server, tmp_path):
    port = http_server.server_address[1]
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    html = rendering.letter_html(
        rendering.compose(texts.default_text("ru"), samples.sample_context(), "ru").frame
    ).replace(
        "</body>",
        f'<img src="http://127.0.0.1:{port}/x"><link rel="stylesheet" '
        f'href="http://127.0.0.1:{port}/y.css"><img src="{secret.as_uri()}">'
        f'<img src="fonts/../../../config.py"></body>',
    )
    pdf = rendering.render_pdf_html(html)
    assert pdf.startswith(b"%PDF")
    assert _Recorder.requests == []
    # the server is there: a plain request reaches it
    import urllib.request

    urllib.request.urlopen(f"http://127.0.0.1:{port}/probe", timeout=5).close()
    assert _Recorder.requests == ["/probe"]


def test_a_letter_pdf_still_has_its_shipped_fonts(app, tmp_path):
    import subprocess

    pdf = rendering.compose(texts.default_text("kk"), samples.sample_context(), "kk").pdf()
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    assert "Letter-Sans" in fonts.stdout  # the @font-face of the frame, read from static/


def test_a_template_text_with_markup_cannot_reach_the_pdf_fetcher(app, http_server):
    port = http_server.server_address[1]
    text = _with(
        f'<img src="http://127.0.0.1:{port}/x"><style>@import url(http://127.0.0.1:{port}/y);</style>'
    )
    assert texts.check_text(text, "ru") == []
    pdf = rendering.compose(text, samples.sample_context(), "ru").pdf()
    assert pdf.startswith(b"%PDF") and _Recorder.requests == []
