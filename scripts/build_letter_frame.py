"""Builds templates/letters/claim.docx, the Word frame of claim letters (docxtpl tags inside).

    python scripts/build_letter_frame.py

The frame is generated rather than drawn in Word so that every docxtpl tag sits alone in its
own run (Word splits typed tags across runs, which breaks them) and so that the layout is
reviewable as code. The letter's words come from the admins' text (claims.letters); this file
only places the blocks: letterhead, reference and addressee, title, body, the penalty table
(rows with {%tr %}), demand, attachments, signature, the officer who prepared it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "templates" / "letters" / "claim.docx"
FONT = "Times New Roman"


def _font(style, size: float) -> None:
    style.font.name = FONT
    style.font.size = Pt(size)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def build(target: Path = TARGET) -> Path:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    normal = doc.styles["Normal"]
    _font(normal, 12)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)

    def para(text: str, *, align=None, bold=False, indent=None, first=None, size=None, after=0):
        p = doc.add_paragraph()
        run = p.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        if align is not None:
            p.alignment = align
        if indent is not None:
            p.paragraph_format.left_indent = indent
        if first is not None:
            p.paragraph_format.first_line_indent = first
        p.paragraph_format.space_after = Pt(after)
        return p

    def loop(block: str, **style) -> None:
        para(f"{{%p for line in b.{block} %}}")
        para("{{ line }}", **style)
        para("{%p endfor %}")

    loop("letterhead", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
    para("")
    loop("reference")
    para("")
    loop("addressee", indent=Cm(8.5))
    para("")
    loop("title", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
    para("")
    loop("body", align=WD_ALIGN_PARAGRAPH.JUSTIFY, first=Cm(1.25), after=4)

    columns = ("no", "obligation", "due", "period", "days", "calculation", "accrued")
    values = ("no", "title", "due", "period", "days", "calculation", "accrued")
    widths = (Cm(0.8), Cm(4.6), Cm(2.4), Cm(2.6), Cm(1.1), Cm(3.2), Cm(1.8))
    table = doc.add_table(rows=5, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER

    def cell(row: int, col: int, text: str, *, bold=False, align=None) -> None:
        target_cell = table.cell(row, col)
        target_cell.width = widths[col]
        p = target_cell.paragraphs[0]
        run = p.add_run(text)
        run.bold = bold
        run.font.size = Pt(10)
        if align is not None:
            p.alignment = align

    for col, name in enumerate(columns):
        cell(0, col, f"{{{{ labels.{name} }}}}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    cell(1, 0, "{%tr for r in rows %}")
    for col, name in enumerate(values):
        right = name in ("days", "accrued")
        cell(2, col, f"{{{{ r.{name} }}}}", align=WD_ALIGN_PARAGRAPH.RIGHT if right else None)
    cell(3, 0, "{%tr endfor %}")
    merged = table.cell(4, 0).merge(table.cell(4, len(columns) - 2))
    merged.paragraphs[0].add_run("{{ labels.total }}").bold = True
    cell(4, len(columns) - 1, "{{ total }}", bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)

    para("")
    loop("demand", align=WD_ALIGN_PARAGRAPH.JUSTIFY, first=Cm(1.25), after=4)
    para("")
    loop("attachments")
    para("")
    loop("signature", bold=True)
    para("")
    loop("prepared_by", size=9)

    doc.core_properties.title = "Претензия / Кінәрат-талап"
    doc.core_properties.author = "ppp-tracker"
    target.parent.mkdir(parents=True, exist_ok=True)
    doc.save(target)
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET))
