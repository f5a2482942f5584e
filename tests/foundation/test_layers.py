"""The layers of DESIGN.md hold: no Qt below the UI, no UI import below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "cus_desk"
QT_FREE = ("domain", "store", "services", "reports", "importing")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", QT_FREE)
def test_lower_layers_never_import_qt_or_ui(layer):
    offenders = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            if name.startswith(("PySide6", "shiboken6", "cus_desk.ui", "cus_desk.cli")):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


@pytest.mark.parametrize("layer", ["domain", "importing"])
def test_domain_never_touches_the_database(layer):
    offenders = [
        f"{p.relative_to(PACKAGE)} imports {n}"
        for p in sorted((PACKAGE / layer).rglob("*.py"))
        for n in _imports(p)
        if n.startswith(("sqlalchemy", "alembic", "cus_desk.store", "cus_desk.services"))
    ]
    assert offenders == []


def test_widgets_build_no_queries():
    offenders = [
        f"{p.relative_to(PACKAGE)} imports {n}"
        for p in sorted((PACKAGE / "ui").rglob("*.py"))
        for n in _imports(p)
        if n.startswith(("sqlalchemy", "cus_desk.store.models"))
    ]
    assert offenders == []
