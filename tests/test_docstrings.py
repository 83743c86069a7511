"""Every public rule, service and selector says what it takes and gives (house style):
a function of a ``rules``, ``services`` or ``selectors`` module without a docstring
fails here, so the next one written cannot forget it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(
    p
    for kind in ("rules", "services", "selectors")
    for p in ROOT.glob(f"*/{kind}.py")
    if not p.parts[-2].startswith(".")
)


def test_the_walk_finds_the_modules() -> None:
    names = {f"{p.parent.name}/{p.name}" for p in MODULES}
    assert {"casework/rules.py", "compliance/selectors.py", "advocates/services.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_public_functions_have_docstrings(path: Path) -> None:
    tree = ast.parse(path.read_text())
    missing = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("_")
        and not ast.get_docstring(node)
    ]
    assert missing == [], f"{path.parent.name}/{path.name}: no docstring on {missing}"
