"""Size limits for the package's own code: no module over 500 lines, no function over 80.

Long modules and functions are where several jobs end up mixed; the limits keep each piece
small enough to read at once.  The shipped catalog scripts (pipespec/fill/catalog/scripts/)
and the starter projects (pipespec/starters/) are standalone files copied into users'
projects, so they are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipespec"
EXCLUDED = (PACKAGE / "fill" / "catalog" / "scripts", PACKAGE / "starters")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if not any(path.is_relative_to(excluded) for excluded in EXCLUDED)
    )


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, int]]:
    """Every function and method with its length in lines, named by its dotted path."""
    found: list[tuple[str, int]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = prefix + node.name
            assert node.end_lineno is not None
            found.append((name, node.end_lineno - node.lineno + 1))
            found.extend(_functions(node, name + "."))
        elif isinstance(node, ast.ClassDef):
            found.extend(_functions(node, prefix + node.name + "."))
        else:
            found.extend(_functions(node, prefix))
    return found


def _oversized() -> dict[str, str]:
    """Each piece over its limit, mapped to a line saying by how much."""
    over: dict[str, str] = {}
    for path in _modules():
        relative = path.relative_to(PACKAGE).as_posix()
        source = path.read_text(encoding="utf-8")
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            over[relative] = f"module of {lines} lines (limit {MAX_MODULE_LINES})"
        for name, length in _functions(ast.parse(source, filename=str(path))):
            if length > MAX_FUNCTION_LINES:
                over[f"{relative}::{name}"] = (
                    f"function of {length} lines (limit {MAX_FUNCTION_LINES})"
                )
    return over


def test_the_walk_sees_the_package_but_not_the_shipped_scripts() -> None:
    modules = _modules()
    assert PACKAGE / "cli.py" in modules
    assert PACKAGE / "spec" / "validate.py" in modules
    train = PACKAGE / "fill" / "catalog" / "scripts" / "train.py"
    assert train.exists()
    assert train not in modules


def test_no_module_or_function_over_its_limit() -> None:
    over = _oversized()
    listed = [f"pipespec/{name}: {why}" for name, why in over.items()]
    assert not listed, "over the size limit:\n" + "\n".join(listed)


def test_functions_are_measured_from_def_to_last_line_and_named_by_path() -> None:
    source = (
        "class A:\n"
        "    @staticmethod\n"
        "    def f():\n"
        "        def g():\n"
        "            pass\n"
        "\n"
        "        return g\n"
    )
    assert _functions(ast.parse(source)) == [("A.f", 5), ("A.f.g", 2)]
