"""The translation catalogues, one per feature, kept with pybabel (babel.cfg says how to read the
sources; CATALOGUES below, which sources feed which catalogue).

    make translations           pybabel compile: the .mo files the app reads (run, test do it)
    make translations-update    python scripts/i18n.py update: pybabel extract, then pybabel
                                update of every catalogue's .po files (after changing strings)
    python scripts/i18n.py check    the strings a Russian or Kazakh catalogue does not translate
                                    (exit 1 if any; tests/test_config_and_i18n.py runs it)

Why a catalogue per feature (ppp_tracker/<feature>/translations, merged by Flask-Babel through
BABEL_TRANSLATION_DIRECTORIES) rather than one: each feature's owner fills the Russian and Kazakh
of the strings it adds without touching the others' files, and a feature moved or removed takes
its strings with it. Message ids are English; Russian and Kazakh must be complete, English may
leave an entry empty (the id is the English text).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ppp_tracker"
#: How pybabel reads each kind of source.
MAPPING = ROOT / "babel.cfg"

LANGUAGES = ("ru", "kk", "en")
#: Languages whose catalogues must translate every string.
REQUIRED = ("ru", "kk")

#: catalogue folder (relative to the package) -> its sources (relative to the root; a folder is
#: read whole, a pattern names files of one folder).
CATALOGUES: dict[str, list[str]] = {
    "translations": [
        "config.py",
        "ppp_tracker/*.py",
        "ppp_tracker/core",
        "templates/*.html",
        "templates/macros",
        "templates/errors",
    ],
    "auth/translations": ["ppp_tracker/auth", "templates/auth"],
    "registry/translations": ["ppp_tracker/registry", "templates/registry"],
    "deadlines/translations": ["ppp_tracker/deadlines", "templates/deadlines"],
    "alerts/translations": ["ppp_tracker/alerts", "templates/alerts", "templates/emails"],
    "claims/translations": ["ppp_tracker/claims", "templates/claims"],
    "reports/translations": ["ppp_tracker/reports", "templates/reports"],
    "api/translations": ["ppp_tracker/api"],
}

#: The functions that mark a string (pybabel's -k): flask_babel's, lazy ones included.
KEYWORDS = [
    "_",
    "gettext",
    "ngettext:1,2",
    "lazy_gettext",
    "_l",
    "pgettext:1c,2",
    "lazy_pgettext:1c,2",
    "npgettext:1c,2,3",
]


def pybabel(*args: str) -> None:
    command = [str(Path(sys.executable).with_name("pybabel")), "-q", *args]
    subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603 - our own pybabel, our arguments


def sources(patterns: list[str]) -> list[str]:
    """The catalogue's sources that exist, as pybabel takes them (relative to the root)."""
    found: list[str] = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            found += sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob(pattern))
        elif (ROOT / pattern).exists():
            found.append(pattern)
    return found


def extract(folder: str, pot: Path) -> None:
    """pybabel extract: the strings of `folder`'s sources into the template `pot`."""
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    pybabel(
        "extract",
        "-F",
        str(MAPPING),
        "--no-default-keywords",
        *keywords,
        "--project=ppp-tracker",
        "-w",
        "100",
        "-o",
        str(pot),
        *sources(CATALOGUES[folder]),
    )


def po_path(folder: str, lang: str) -> Path:
    return PACKAGE / folder / lang / "LC_MESSAGES" / "messages.po"


def update() -> None:
    """Extract each catalogue's strings and merge them into its .po files (new ones empty, gone
    ones dropped, no guessing from similar strings)."""
    with tempfile.TemporaryDirectory() as tmp:
        for folder in CATALOGUES:
            pot = Path(tmp) / "messages.pot"
            extract(folder, pot)
            for lang in LANGUAGES:
                init = [] if po_path(folder, lang).exists() else ["--init-missing"]
                pybabel(
                    "update",
                    "-i",
                    str(pot),
                    "-d",
                    str(PACKAGE / folder),
                    "-l",
                    lang,
                    "-w",
                    "100",
                    "--no-fuzzy-matching",
                    "--ignore-obsolete",
                    *init,
                )
            print(f"{folder}: updated")


def untranslated(langs=REQUIRED) -> list[str]:
    """Every string the sources use that a required catalogue does not translate."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for folder in CATALOGUES:
            pot = Path(tmp) / f"{folder.replace('/', '_')}.pot"
            extract(folder, pot)
            with pot.open("rb") as fh:
                template = read_po(fh)
            for lang in langs:
                problems += _missing(folder, lang, template)
            problems += [
                f"{lang} {folder}: the catalogue is marked fuzzy (pybabel compile skips it)"
                for lang in LANGUAGES
                if _fuzzy(po_path(folder, lang))
            ]
    return problems


def _fuzzy(path: Path) -> bool:
    if not path.exists():
        return False
    with path.open("rb") as fh:
        return read_po(fh).fuzzy


def _missing(folder: str, lang: str, template) -> list[str]:
    path = po_path(folder, lang)
    catalog = None
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
    problems = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id, message.context) if catalog else None
        translated = (
            entry is not None
            and not entry.fuzzy
            and (all(entry.string) if isinstance(entry.string, tuple) else bool(entry.string))
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
