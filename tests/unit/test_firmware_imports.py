"""The firmware takes spec definitions from models/, never the prediction logic it is checked against.

A table the firmware imported from the reference model would make the two
agree by construction, and the scoreboards could not see it wrong. The check
follows imports through the repository's own modules, so a spec module that
itself imported the reference model would fail it too.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
# the reference model and the checkers the scoreboards run, and the test bench itself
CHECKED_AGAINST = ("models.nvme_model", "models.completion_check", "models.interrupt_check", "tb")


def module_path(name: str) -> Path | None:
    """The repository file of module ``name``; None for the standard library and installed packages."""
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` names in an import; ``from a import b`` also names ``a.b``, which may be a module."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            parent = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (parent, node.module) if p)
            modules.add(module)
            modules |= {f"{module}.{alias.name}" for alias in node.names}
    return modules


def reachable_modules(path: Path) -> set[str]:
    """The modules ``path`` imports, directly or through the repository's modules it imports."""
    seen: set[str] = set()
    todo = [path]
    while todo:
        for name in imported_modules(todo.pop()) - seen:
            seen.add(name)
            if (found := module_path(name)) is not None:
                todo.append(found)
    return seen


@pytest.mark.parametrize("path", sorted(FIRMWARE.rglob("*.py")), ids=lambda p: str(p.relative_to(FIRMWARE)))
def test_firmware_does_not_import_what_checks_it(path: Path) -> None:
    bad = {m for m in reachable_modules(path) for c in CHECKED_AGAINST if m == c or m.startswith(c + ".")}
    assert not bad, f"firmware/{path.relative_to(FIRMWARE)} reaches {sorted(bad)}"
