"""Locale and time-zone selection, and the list of translation catalogues (one per feature)."""

from __future__ import annotations

from flask import current_app, g, request, session

#: Folders (relative to the package) holding a `messages` catalogue each; see scripts/i18n.py.
TRANSLATION_DIRECTORIES = (
    "translations",
    "auth/translations",
    "registry/translations",
    "deadlines/translations",
    "alerts/translations",
    "claims/translations",
    "reports/translations",
    "api/translations",
)

LANGUAGE_NAMES = {"ru": "Русский", "kk": "Қазақша", "en": "English"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("locale") if request else None
    if chosen in languages:
        return chosen
    user = g.get("user")
    if user is not None and user.locale in languages:
        return user.locale
    # Russian by default whatever the browser asks for; people switch explicitly.
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]
