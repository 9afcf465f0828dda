"""Imports point down (DESIGN §6, STYLE 13): the import-linter contract in pyproject.toml holds,
and it would catch an import from core up to a feature."""

from __future__ import annotations

import sys
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
CONFIG = str(ROOT / "pyproject.toml")


def test_imports_point_down(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))  # lint_imports adds the working directory
    status = lint_imports(config_filename=CONFIG, no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert status == 0, "an import points up or round (docs/development.md, Layers):\n" + report


def test_an_import_from_core_up_to_a_feature_breaks_the_contract(tmp_path, capsys, monkeypatch):
    """The same contract on a copy of the package in which core imports the claims feature."""
    copy = tmp_path / "ppp_tracker"
    for path in (ROOT / "ppp_tracker").rglob("*.py"):
        target = copy / path.relative_to(ROOT / "ppp_tracker")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    with (copy / "core" / "web.py").open("a") as fh:
        fh.write("\nfrom ppp_tracker.claims import models as _upward  # noqa\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    for name in [m for m in sys.modules if m == "ppp_tracker" or m.startswith("ppp_tracker.")]:
        monkeypatch.delitem(sys.modules, name)
    status = lint_imports(config_filename=CONFIG, no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert status != 0
    assert "ppp_tracker.core.web -> ppp_tracker.claims.models" in report
