"""Settings and languages: production refuses the development key; no string is untranslated."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from config import DEV_SECRET_KEY, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_to_start_without_its_own_secret_key(monkeypatch):
    monkeypatch.setenv("PPP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config()
    with pytest.raises(RuntimeError):
        load_config({"SECRET_KEY": DEV_SECRET_KEY})
    settings = load_config({"SECRET_KEY": "a-real-secret-from-the-vault-of-48-characters-x"})
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/ppp")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.kz")
    import config

    reloaded = importlib.reload(config)
    try:
        settings = reloaded.load_config()
        assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/ppp"
        assert settings["MAIL_SERVER"] == "smtp.example.kz"
        assert settings["TIMEZONE"] == "Asia/Almaty"
        assert settings["BABEL_DEFAULT_LOCALE"] == "ru"
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_a_wrong_integer_setting_fails_loudly(monkeypatch):
    monkeypatch.setenv("SCAN_INTERVAL_MINUTES", "often")
    import config

    with pytest.raises(RuntimeError, match="SCAN_INTERVAL_MINUTES"):
        importlib.reload(config)
    monkeypatch.undo()
    importlib.reload(config)


def _i18n():
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_string_is_translated():
    problems = _i18n().untranslated()
    assert problems == [], "run scripts/i18n.py update and translate:\n" + "\n".join(problems[:50])


def test_the_check_notices_an_untranslated_string(tmp_path, monkeypatch):
    i18n = _i18n()
    source = tmp_path / "feature.py"
    source.write_text('from flask_babel import gettext as _\n_("A string nobody translated")\n')
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    monkeypatch.setattr(i18n, "CATALOGUES", {"nowhere/translations": ["feature.py"]})
    assert any("A string nobody translated" in line for line in i18n.untranslated(("ru",)))
