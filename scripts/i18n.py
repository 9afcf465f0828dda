"""Translation catalogues, one per feature: extract, update, compile and check them.

    python scripts/i18n.py update    extract the strings and merge them into every .po file
    python scripts/i18n.py compile   write the .mo files the app reads
    python scripts/i18n.py check     list strings without a translation (exit 1 if any)

Message ids are English; Russian and Kazakh catalogues must be complete, English may leave an
entry empty (the id is the English text).
"""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ppp_tracker"

LANGUAGES = ("ru", "kk", "en")
#: Languages whose catalogues must translate every string.
REQUIRED = ("ru", "kk")

#: catalogue folder (relative to the package) -> glob patterns of its sources (relative to root)
CATALOGUES: dict[str, list[str]] = {
    "translations": [
        "config.py",
        "ppp_tracker/*.py",
        "ppp_tracker/core/*.py",
        "templates/*.html",
        "templates/macros/*.html",
        "templates/errors/*.html",
    ],
    "auth/translations": ["ppp_tracker/auth/*.py", "templates/auth/*.html"],
    "registry/translations": ["ppp_tracker/registry/*.py", "templates/registry/*.html"],
    "deadlines/translations": ["ppp_tracker/deadlines/*.py", "templates/deadlines/*.html"],
    "alerts/translations": [
        "ppp_tracker/alerts/*.py",
        "templates/alerts/*.html",
        "templates/emails/*.html",
        "templates/emails/*.txt",
    ],
    "claims/translations": [
        "ppp_tracker/claims/*.py",
        "ppp_tracker/claims/*/*.py",
        "templates/claims/*.html",
    ],
    "reports/translations": ["ppp_tracker/reports/*.py", "templates/reports/*.html"],
    "api/translations": ["ppp_tracker/api/*.py"],
}

METHODS = {".py": "python", ".html": "jinja2", ".txt": "jinja2"}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
JINJA_OPTIONS = {"extensions": "jinja2.ext.do", "trimmed": "true"}


def sources(patterns: list[str]) -> list[Path]:
    found = []
    for path in sorted(ROOT.rglob("*")):
        if not path.is_file() or ".venv" in path.parts:
            continue
        rel = path.relative_to(ROOT).as_posix()
        if any(fnmatch.fnmatchcase(rel, p) and rel.count("/") == p.count("/") for p in patterns):
            found.append(path)
    return found


def extract(patterns: list[str]) -> Catalog:
    template = Catalog(project="ppp-tracker", charset="utf-8")
    for path in sources(patterns):
        method = METHODS.get(path.suffix)
        if method is None:
            continue
        options = JINJA_OPTIONS if method == "jinja2" else {}
        for lineno, message, comments, context in extract_from_file(
            method, str(path), keywords=KEYWORDS, options=options
        ):
            template.add(
                message,
                None,
                [(path.relative_to(ROOT).as_posix(), lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def po_path(folder: str, lang: str) -> Path:
    return PACKAGE / folder / lang / "LC_MESSAGES" / "messages.po"


def update() -> None:
    for folder, patterns in CATALOGUES.items():
        template = extract(patterns)
        for lang in LANGUAGES:
            path = po_path(folder, lang)
            if path.exists():
                with path.open("rb") as fh:
                    catalog = read_po(fh, locale=lang)
                catalog.update(template, no_fuzzy_matching=True)
                catalog.obsolete.clear()
            else:
                if not len(template):
                    continue
                catalog = Catalog(locale=lang, project="ppp-tracker", charset="utf-8")
                catalog.update(template, no_fuzzy_matching=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                write_po(fh, catalog, width=100, sort_output=False, omit_header=False)
        print(f"{folder}: {len(template)} strings")


def compile_all() -> None:
    for folder in CATALOGUES:
        for lang in LANGUAGES:
            path = po_path(folder, lang)
            if not path.exists():
                continue
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
            with path.with_suffix(".mo").open("wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)


def untranslated(langs=REQUIRED) -> list[str]:
    """Every string the sources use that a required catalogue does not translate."""
    problems = []
    for folder, patterns in CATALOGUES.items():
        template = extract(patterns)
        for lang in langs:
            path = po_path(folder, lang)
            catalog = None
            if path.exists():
                with path.open("rb") as fh:
                    catalog = read_po(fh, locale=lang)
            for message in template:
                if not message.id:
                    continue
                entry = catalog.get(message.id, message.context) if catalog else None
                translated = (
                    entry is not None
                    and not entry.fuzzy
                    and (
                        all(entry.string) if isinstance(entry.string, tuple) else bool(entry.string)
                    )
                )
                if not translated:
                    where = message.locations[0] if message.locations else ("?", 0)
                    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
                    problems.append(f"{lang} {folder}: {msgid!r} ({where[0]}:{where[1]})")
    return problems


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        langs = tuple(argv[2].split(",")) if len(argv) > 2 else REQUIRED
        problems = untranslated(langs)
        for line in problems:
            print(line)
        print(f"{len(problems)} untranslated")
        return 1 if problems else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
