"""Writing generated files atomically, and comparing them with what is on disk.

A compile writes every file of a run into a staging directory beside the output, then
moves each into place; the old contents are kept aside until every move has succeeded, so a
failure at any point restores them. Callers render everything in memory first: a spec
error means nothing is written at all.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Drift:
    diff: str
    missing: list[str]
    changed: list[str]
    extra: list[str]

    @property
    def stale(self) -> bool:
        return bool(self.missing or self.changed or self.extra)


def write_atomically(root: Path, files: Mapping[str, str]) -> None:
    """Write ``files`` (relative path -> text) under ``root``, all or nothing."""
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".pipespec-staging-", dir=root))
    backup = Path(tempfile.mkdtemp(prefix=".pipespec-backup-", dir=root))
    moved: list[tuple[Path, Path | None]] = []  # (target, its backup or None if new)
    try:
        for rel, text in sorted(files.items()):
            staged = staging / rel
            staged.parent.mkdir(parents=True, exist_ok=True)
            with open(staged, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        for rel in sorted(files):
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            saved: Path | None = None
            if target.exists():
                saved = backup / rel
                saved.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, saved)
            moved.append((target, saved))
            _replace(staging / rel, target)
    except BaseException:
        for target, saved in reversed(moved):
            if saved is not None:
                os.replace(saved, target)
            elif target.exists():
                target.unlink()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(backup, ignore_errors=True)


def _replace(src: Path, dst: Path) -> None:
    # One seam for fault-injection tests: a rename is the only step that touches the target.
    os.replace(src, dst)


def unified_diff(path: Path, on_disk: str, new: str, label: str) -> str:
    """A unified diff from the file on disk to ``new``, headed with the path."""
    return "".join(
        difflib.unified_diff(
            on_disk.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{path.as_posix()} (on disk)",
            tofile=f"{path.as_posix()} ({label})",
        )
    )


def compare(root: Path, files: Mapping[str, str], owned: list[str]) -> Drift:
    """What differs between ``files`` and disk.

    ``owned`` are path prefixes such as ``airflow/churn``: any file named ``<prefix>.*`` or
    under ``<prefix>/`` that this run would not generate is reported as extra (stale).
    """
    missing: list[str] = []
    changed: list[str] = []
    diff_parts: list[str] = []
    for rel, text in sorted(files.items()):
        target = root / rel
        if not target.exists():
            missing.append(rel)
            continue
        current = target.read_text(encoding="utf-8")
        if current != text:
            changed.append(rel)
            diff_parts.append(unified_diff(target, current, text, "generated"))
    extra = []
    for prefix in owned:
        directory = (root / prefix).parent
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*")):
            rel = path.relative_to(root).as_posix()
            mine = rel.startswith((prefix + ".", prefix + "/"))
            if mine and path.is_file() and rel not in files and "__pycache__" not in rel:
                extra.append(rel)
    return Drift("".join(diff_parts), missing, changed, extra)
