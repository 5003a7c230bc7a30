"""The rooms import one way, and the check that says so can fail.

`lint-imports` (import-linter, contracts in pyproject.toml's [tool.importlinter]) runs on
the real tree, and on a copy of the package with one reverse import added: an import
inside a function, which a grep for top-level imports would miss, must break the layers
contract; a backend reading the spec directly must break the backend contract.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports in ``root`` (its pyproject.toml, its ``pipespec``), without a cache."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_package(tmp_path: Path) -> Path:
    """The package's Python files and pyproject.toml: all that lint-imports reads."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "pipespec",
        tmp_path / "pipespec",
        ignore=lambda folder, names: (
            [n for n in names if not (n.endswith(".py") or (Path(folder) / n).is_dir())]
            + ["__pycache__"]
        ),
    )
    return tmp_path


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "reverse_import", "contract"),
    [
        # The fault this contract was written for: fill reaching up into the compiler,
        # lazily, inside a function.
        (
            "fill/engine.py",
            "def _reverse() -> None:\n    from pipespec.compiler import lower  # noqa\n",
            "Rooms import one way",
        ),
        ("spec/units.py", "import pipespec.api\n", "Rooms import one way"),
        (
            "backends/base.py",
            "from pipespec.spec import models\n",
            "Backends import only the IR",
        ),
    ],
)
def test_a_reverse_import_breaks_a_contract(
    tmp_path: Path, module: str, reverse_import: str, contract: str
) -> None:
    root = copy_of_the_package(tmp_path)
    target = root / "pipespec" / module
    target.write_text(target.read_text(encoding="utf-8") + "\n\n" + reverse_import)
    result = lint_imports(root)
    assert result.returncode == 1, result.stdout + result.stderr
    # One line per contract: "<name> KEPT" or "<name> BROKEN", maybe "(n ignored imports)".
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert len(broken) == 1 and broken[0].startswith(contract), result.stdout
    imported = "pipespec." + module.removesuffix(".py").replace("/", ".")
    assert imported in result.stdout  # the report names the importing module
