"""`pipespec init`: starter specs that ship with the package.

Each starter is a copy of an example in the repository's `examples/` (a test keeps them
byte for byte equal, and `pytest --update-golden` refreshes them), with everything it needs
to compile offline: the churn and tuning starters carry their lock file, and churn its
LLM-written scripts, so `pipespec compile DIR/pipeline.yaml --target airflow` works right
after `pipespec init`. The spec's first line points editors at a copy of the authoring
schema written beside it, because the path the examples use only exists in a checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.abc import Traversable

STARTERS = ("minimal", "churn", "tuning")
DEFAULT_STARTER = "minimal"
SPEC_FILE = "pipeline.yaml"
SCHEMA_FILE = "pipespec.schema.json"
SCHEMA_LINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"
_SCHEMA_PREFIX = "# yaml-language-server:"


@dataclass(frozen=True)
class Plan:
    """What `init` would write into a folder, and which existing files stand in the way."""

    folder: Path
    files: dict[str, str]  # relative path -> text
    conflicts: list[str]  # relative paths that exist with other contents
    unchanged: list[str]  # relative paths that already hold exactly this text

    @property
    def to_write(self) -> dict[str, str]:
        return {rel: text for rel, text in self.files.items() if rel not in self.unchanged}


def packaged_files(starter: str) -> dict[str, str]:
    """The starter's files as shipped (relative path -> text), as in `examples/<starter>/`."""
    if starter not in STARTERS:
        raise KeyError(starter)
    out: dict[str, str] = {}
    _collect(resources.files(__name__).joinpath(starter), "", out)
    return out


def _collect(folder: Traversable, prefix: str, out: dict[str, str]) -> None:
    for entry in folder.iterdir():
        if entry.name == "__pycache__" or entry.name.startswith("."):
            continue
        rel = prefix + entry.name
        if entry.is_dir():
            _collect(entry, rel + "/", out)
        else:
            out[rel] = entry.read_text(encoding="utf-8")


def with_schema_line(spec_text: str) -> str:
    """The spec with its editor line pointing at the schema copy beside it."""
    first, newline, rest = spec_text.partition("\n")
    if first.startswith(_SCHEMA_PREFIX):
        return SCHEMA_LINE + newline + rest
    return SCHEMA_LINE + "\n" + spec_text


def starter_files(starter: str) -> dict[str, str]:
    """Everything `pipespec init --example STARTER` writes (relative path -> text)."""
    from pipespec.schemas import authoring_schema_text

    files = packaged_files(starter)
    files[SPEC_FILE] = with_schema_line(files[SPEC_FILE])
    files[SCHEMA_FILE] = authoring_schema_text()
    return files


def plan(folder: Path, starter: str, *, force: bool) -> Plan:
    """What to write; an existing file with other contents is a conflict unless ``force``."""
    files = starter_files(starter)
    conflicts: list[str] = []
    unchanged: list[str] = []
    for rel, text in sorted(files.items()):
        target = folder / rel
        if not target.exists() and not target.is_symlink():
            continue
        if target.is_file() and _reads_as(target, text):
            unchanged.append(rel)
        elif not force or not target.is_file():
            # --force replaces files, never a folder (or a dangling link) in a file's place.
            conflicts.append(rel)
    return Plan(folder, files, conflicts, unchanged)


def _reads_as(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False
