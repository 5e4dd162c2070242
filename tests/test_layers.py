"""The layers hold: no view reaches into another domain's views, and the ground floor knows no domain.

Read from the source, so an import inside a function counts as much as one
at the top of a module.
"""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "consult"
DOMAINS = sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))
# Modules any domain may build on; they may import nothing from a domain.
GROUND_FLOOR = ["downloads", "errors", "text", "web"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module the file imports, with `from a import b` counted as both a and a.b."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "consult" and parts[1] in DOMAINS else None


def _is_view_module(module: str) -> bool:
    """A domain's views: views.py, *_views.py, or anything in a views/ package."""
    return _domain_of(module) is not None and any(part.endswith("views") for part in module.split(".")[2:])


def _view_files() -> list[Path]:
    return sorted(path for domain in DOMAINS for path in (PACKAGE / domain).rglob("*.py")
                  if _is_view_module(_module_name(path)))


def foreign_view_imports(path: Path) -> list[str]:
    own = _domain_of(_module_name(path))
    return sorted(name for name in imported_modules(path)
                  if _is_view_module(name) and _domain_of(name) != own)


def domain_imports(path: Path) -> list[str]:
    return sorted(name for name in imported_modules(path) if _domain_of(name) is not None)


def test_there_are_view_modules_to_check():
    assert {"comments", "exports", "admin", "moderation"} <= {_domain_of(_module_name(p)) for p in _view_files()}


@pytest.mark.parametrize("path", _view_files(), ids=lambda path: _module_name(path))
def test_no_view_module_imports_another_domains_views(path):
    assert foreign_view_imports(path) == []


@pytest.mark.parametrize("name", GROUND_FLOOR)
def test_the_ground_floor_imports_no_domain(name):
    assert domain_imports(PACKAGE / f"{name}.py") == []


def test_the_checks_see_what_they_must_refuse(tmp_path, monkeypatch):
    """The rules catch a top-level import, a nested one, and both spellings of from-imports."""
    fake = tmp_path / "consult"
    for domain in ("exports", "moderation"):
        (fake / domain).mkdir(parents=True)
        (fake / domain / "__init__.py").write_text("")
    (fake / "exports" / "views.py").write_text(
        "from consult.moderation.views import queue_filters_from\n"
        "def later():\n    from consult.moderation import views\n")
    (fake / "downloads.py").write_text("def build():\n    from consult.exports import services\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    monkeypatch.setattr(sys.modules[__name__], "DOMAINS", ["exports", "moderation"])
    assert foreign_view_imports(fake / "exports" / "views.py") == [
        "consult.moderation.views", "consult.moderation.views.queue_filters_from"]
    assert domain_imports(fake / "downloads.py") == ["consult.exports", "consult.exports.services"]
