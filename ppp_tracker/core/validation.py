"""Small helpers that services use to collect field errors and raise them all at once."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _

from ppp_tracker.core import limits
from ppp_tracker.core.errors import Invalid

#: The earliest and latest dates the registry accepts; anything else is a typing mistake.
EARLIEST_DATE = date(1991, 1, 1)
LATEST_DATE = date(2100, 12, 31)


#: C0 control characters but tab, line feed and carriage return, and DEL: nobody types them, XML
#: (the XLSX and DOCX files) cannot hold them and PostgreSQL refuses NUL; and lone surrogates,
#: which no UTF-8 text can hold.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: Invisible characters that change how text reads without showing themselves: the
#: bidirectional marks, embeddings, overrides and isolates (U+200E/F, U+202A–U+202E,
#: U+2066–U+2069: U+202E before "cod.exe" shows "exe.doc", a name or a sum in a letter can read
#: differently from what is stored) and the zero-width characters (U+200B–U+200D, U+2060,
#: U+FEFF: two names that look the same but differ). Text refuses them (`check_text`); a
#: file name drops them (`safe_filename`).
INVISIBLE = "\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
INVISIBLE_CHARACTERS = re.compile(f"[{INVISIBLE}]")
#: What a file name loses besides its folders: control characters and the invisible ones.
_FILENAME_DROP = re.compile(f"[\\x00-\\x1f\\x7f{INVISIBLE}]")


def safe_filename(raw: str | None, max_length: int = limits.NAME) -> str:
    """The name of an uploaded file as it may be stored and sent back: no folders (`../../x`
    is `x`), no control or direction-override characters, at most `max_length` characters
    with its extension kept; "" when nothing is left."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _FILENAME_DROP.sub("", name).strip()
    if name in (".", ".."):
        return ""
    if len(name) > max_length:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) < 16:
            name = stem[: max_length - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:max_length]
    return name


def positive_id(raw) -> int | None:
    """The id of a record from a query string: ASCII digits that fit the database's INTEGER,
    else None ("²" is a digit to str.isdigit, 99999999999 overflows the column)."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= limits.MAX_ID else None


class Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(str(message))

    def __contains__(self, field: str) -> bool:
        return field in self.errors

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise Invalid(self.errors)


def normalise_dashes(text: str) -> str:
    """Numbers typed in Word come with en- and em-dashes: 14–28–9-1987 → 14-28-9-1987."""
    return text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2212", "-").strip()


def check_date_range(errors: Errors, field: str, value: date | None) -> None:
    if value is not None and not (EARLIEST_DATE <= value <= LATEST_DATE):
        errors.add(
            field,
            _(
                "The date must be between %(start)s and %(end)s.",
                start=EARLIEST_DATE.strftime("%d.%m.%Y"),
                end=LATEST_DATE.strftime("%d.%m.%Y"),
            ),
        )


def check_text(
    errors: Errors, field: str, value, *, required: bool = False, max_length: int = limits.LINE
) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(field, _("This field is required."))
        return None
    if not isinstance(value, str):
        errors.add(field, _("Must be text."))
        return None
    value = value.strip()
    if len(value) > max_length:
        errors.add(field, _("At most %(n)d characters.", n=max_length))
    if CONTROL_CHARACTERS.search(value):
        errors.add(field, _("Contains a forbidden character."))
    invisible = invisible_problem(value)
    if invisible:
        errors.add(field, invisible)
    return value


def invisible_problem(value: str | None) -> str | None:
    """The field message when the text holds invisible direction or zero-width characters
    (INVISIBLE_CHARACTERS); they are refused, not silently dropped, so that what is stored is
    exactly what its author saw. The one rule for services, forms, the API and imports."""
    found = sorted(set(INVISIBLE_CHARACTERS.findall(value or "")))
    if not found:
        return None
    return _(
        "Contains invisible direction or zero-width characters (%(codes)s): they can make the "
        "text read differently from what is stored. Remove them and type the text again.",
        codes=", ".join(f"U+{ord(c):04X}" for c in found),
    )
