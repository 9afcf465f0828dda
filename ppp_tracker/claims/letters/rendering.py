"""The trusted frame around a letter's blocks: the table of late obligations in the letter's
language, the Word letter (docxtpl on `templates/letters/claim.docx`) and the PDF (WeasyPrint on
`templates/letters/claim.html`). Both frames escape the text, so no template or name becomes
markup."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from flask import render_template
from flask_babel import gettext as _
from jinja2.exceptions import SecurityError

from config import BASE_DIR
from ppp_tracker.claims.letters.language import in_language
from ppp_tracker.claims.letters.sandbox import refusal, render_blocks
from ppp_tracker.claims.letters.style import digits, dmy, percent
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.pdf import local_fetcher

FRAME_DOCX = BASE_DIR / "templates" / "letters" / "claim.docx"
STATIC_DIR = BASE_DIR / "ppp_tracker" / "static"
#: The media types of a letter's files.
MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


#: The frame's own words (table headings) per letter language. They are written here, not
#: looked up in the UI catalogues, so that no request's or worker's locale can reach a letter:
#: every word of a letter is in the letter's language, whoever fetches it.
FRAME_WORDS = {
    "ru": {
        "no": "№",
        "obligation": "Обязательство",
        "due": "Срок исполнения",
        "period": "Период просрочки",
        "days": "Дней",
        "calculation": "Расчёт",
        "accrued": "Неустойка, ₸",
        "total": "Итого",
        "cap": "ограничено",
        "no_value": "стоимость обязательства не указана: неустойка не начисляется",
        "counted_earlier": "дни просрочки учтены по обязательству выше",
    },
    "kk": {
        "no": "№",
        "obligation": "Міндеттеме",
        "due": "Орындау мерзімі",
        "period": "Мерзімін өткізіп алу кезеңі",
        "days": "Күн",
        "calculation": "Есептеу",
        "accrued": "Тұрақсыздық айыбы, ₸",
        "total": "Барлығы",
        "cap": "шектелді",
        "no_value": "міндеттеменің құны көрсетілмеген: тұрақсыздық айыбы есептелмейді",
        "counted_earlier": "мерзімін өткізген күндері жоғарыдағы міндеттеме бойынша есептелген",
    },
}


def labels(lang: str) -> dict[str, str]:
    """The frame's own words (table headings) in the letter's language."""
    return dict(FRAME_WORDS[lang])


def table_rows(facts: dict, lang: str) -> list[dict[str, str]]:
    words = labels(lang)
    rows = []
    rate = facts["penalty"]["rate"]
    for index, m in enumerate(facts["milestones"], 1):
        due = dmy(m["due_on"])
        if m["moved"]:
            due += f" → {dmy(m['effective_due_on'])}"
        # Older snapshots (sent before a day counted once a contract) have no days counted.
        counted = m.get("days_counted", m["days_late"])
        start = m["counted_from"] if "counted_from" in m else m["late_from"]
        end = m["counted_to"] if "counted_to" in m else m["counted_until"]
        if m["missing_value"]:
            calculation = words["no_value"]
        elif not counted:
            calculation = words["counted_earlier"]
        else:
            calculation = f"{digits(m['base'], lang)} × {percent(rate, lang)} % × {counted}"
            if m["capped"]:
                calculation += (
                    f"; {words['cap']} {percent(facts['penalty']['cap'], lang)} % = "
                    f"{digits(m['cap_amount'], lang)}"
                )
        rows.append(
            {
                "no": str(index),
                "title": m["title"],
                "due": due,
                "period": f"{dmy(start)} – {dmy(end)}" if counted else "—",
                "days": str(counted),
                "calculation": calculation,
                "accrued": digits(m["accrued"], lang),
            }
        )
    return rows


def frame_context(blocks: dict[str, list[str]], facts: dict, lang: str) -> dict:
    return {
        "b": blocks,
        "labels": labels(lang),
        "rows": table_rows(facts, lang),
        "total": digits(facts["penalty"]["total"], lang),
        "lang": lang,
    }


def render_docx_frame(context: dict, frame: Path = FRAME_DOCX) -> bytes:
    """The Word letter: docxtpl on the frame with autoescape (values never become markup)."""
    from docxtpl import DocxTemplate

    document = DocxTemplate(frame)
    document.render(context, autoescape=True)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def letter_html(context: dict) -> str:
    """The whole letter as an HTML document for WeasyPrint (and the preview's frame)."""
    return render_template("letters/claim.html", **context)


def render_pdf_html(html: str) -> bytes:
    """The PDF of a letter's HTML, with the shipped DejaVu fonts (Cyrillic, Kazakh, ₸); it reads
    nothing but the app's static files (no URL in a letter makes the server fetch it)."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    return HTML(
        string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=local_fetcher(STATIC_DIR)
    ).write_pdf(font_config=fonts)


@dataclass(frozen=True)
class RenderedLetter:
    lang: str
    blocks: dict[str, list[str]]
    frame: dict

    def docx(self) -> bytes:
        return render_docx_frame(self.frame)

    def html(self) -> str:
        return letter_html(self.frame)

    def pdf(self) -> bytes:
        return render_pdf_html(self.html())


def compose(text: str, facts: dict, lang: str) -> RenderedLetter:
    """A letter text applied to a claim's facts, ready to become DOCX, HTML or PDF; a text that
    passes a limit of the sandbox with these facts is refused (Invalid on `body`)."""
    facts, _gaps = in_language(facts, lang)
    try:
        blocks = render_blocks(text, facts, lang)
    except SecurityError as exc:
        raise Invalid.one(
            "body", _("The letter text cannot be rendered: %(why)s", why=refusal(exc))
        ) from exc
    return RenderedLetter(lang, blocks, frame_context(blocks, facts, lang))
