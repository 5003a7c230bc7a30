"""Writing the files of a run into several folders, all or nothing, even across a crash.

One run is one transaction over every output folder ("root") it writes:

1. prepare: under each root, write each new file into ``.pipespec-staging-<run>/`` and
   fsync it; hard-link each existing target into ``.pipespec-backup-<run>/``. No file a
   reader sees has changed yet, and an old file is never moved away (so never missing).
2. journal: every root but the first gets ``.pipespec-journal-<run>.json`` naming the
   first root (the primary); then the primary's journal, listing every root and target, is
   written under a temporary name, fsynced and renamed into place. That rename is the
   commit point: before it the run never happened, after it the run must complete.
3. rename each staged file onto its target (``os.replace``: atomic), fsync the folders.
4. clean up: the secondaries first, the primary's journal last.

SIGINT and SIGTERM are deferred from step 2 to the end of step 4, so Ctrl-C cannot stop a
run half-renamed. SIGKILL or a power cut can; ``recover`` (run first by every command that
reads or writes these folders) rolls a committed run forward and an uncommitted one back.
Each root is locked (``flock`` on the folder) while a run or a recovery works in it.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from pipespec.output import journal as jr
from pipespec.output.errors import OutputError, Problem, os_problem
from pipespec.output.journal import (
    BACKUP,
    STAGING,
    Transaction,
    deferred_signals,
    fsync_dir,
    pause,
    root_lock,
)


@dataclass
class _Prepared:
    root: Path
    files: Mapping[str, str]
    had_old: dict[str, bool]


def write_atomically(root: Path, files: Mapping[str, str]) -> list[Problem]:
    """Write ``files`` (relative path -> text) under ``root``, all or nothing."""
    return commit({root: files})


def commit(outputs: Mapping[Path, Mapping[str, str]]) -> list[Problem]:
    """Write every root's files, all or nothing across roots.

    Returns notes about leftovers of an earlier run that were recovered first; raises
    OutputError (with nothing changed) when a file cannot be written.
    """
    plans: dict[Path, dict[str, str]] = {}
    for r, f in outputs.items():  # two spellings of one folder are one folder
        plans.setdefault(Path(os.path.abspath(r)), {}).update(f)
    plans = {root: files for root, files in plans.items() if files}
    if not plans:
        return []
    problems = [p for root, files in sorted(plans.items()) for p in preflight(root, files)]
    if problems:
        raise OutputError(problems)
    roots = sorted(plans)
    try:
        for root in roots:
            root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError([os_problem(exc)]) from None
    with ExitStack() as stack:
        for root in roots:  # sorted: two runs over the same roots cannot deadlock
            stack.enter_context(root_lock(root))
        notes = jr.recover_locked(roots)
        if any(not n.warning for n in notes):
            raise OutputError(notes)
        _run(plans, roots)
    return notes


def _run(plans: dict[Path, dict[str, str]], roots: list[Path]) -> None:
    run = secrets.token_hex(6)
    prepared: list[_Prepared] = []
    try:
        for root in roots:
            prepared.append(_Prepared(root, plans[root], {}))
            _prepare(prepared[-1], run)
    except BaseException as exc:
        # Nothing a reader sees was touched; a second Ctrl-C here leaves only leftovers
        # that the next run's recovery removes.
        for p in prepared:
            _remove_run_dirs(p.root, run)
        if isinstance(exc, OSError):
            raise OutputError([os_problem(exc)]) from None
        raise
    txn = Transaction(
        run, roots[0], [(p.root, sorted(p.had_old.items())) for p in prepared], "commit"
    )
    with deferred_signals():
        try:
            for root in roots[1:]:
                jr.write_journal(root, run, {"primary": os.path.relpath(roots[0], root)})
            jr.write_journal(roots[0], run, txn.to_json())  # the commit point
        except OSError as exc:
            for root in roots:
                jr.remove_journal(root, run)
                _remove_run_dirs(root, run)
            raise OutputError([os_problem(exc)]) from None
        try:
            jr.roll_forward(txn)
        except OSError as exc:
            # A rename failed while we are alive: undo. Mark the journal first, so a crash
            # during the undo is rolled back too, not forward.
            txn.state = "abort"
            jr.write_journal(roots[0], run, txn.to_json())
            jr.roll_back(txn)
            jr.clean(txn)
            raise OutputError([os_problem(exc)]) from None
        jr.clean(txn)


def _prepare(p: _Prepared, run: str) -> None:
    staging = p.root / f"{STAGING}{run}"
    backup = p.root / f"{BACKUP}{run}"
    staging.mkdir()
    backup.mkdir()
    for rel, text in sorted(p.files.items()):
        staged = staging / rel
        staged.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(staged, text.encode("utf-8"))
        pause()
    for rel in sorted(p.files):
        target = p.root / rel
        p.had_old[rel] = target.is_file()
        if p.had_old[rel]:
            saved = backup / rel
            saved.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(target, saved)
    for folder in {staged.parent for staged in staging.rglob("*")} | {staging, backup}:
        fsync_dir(folder)


def write_bytes(path: Path, data: bytes) -> None:
    """Write and fsync one file (the seam the disk-full tests break)."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _link_or_copy(target: Path, saved: Path) -> None:
    # A hard link keeps the old contents without moving the old file away.
    try:
        os.link(target, saved)
    except OSError:
        shutil.copy2(target, saved)
        with open(saved, "rb") as fh:
            os.fsync(fh.fileno())


def _remove_run_dirs(root: Path, run: str) -> None:
    for name in (f"{STAGING}{run}", f"{BACKUP}{run}"):
        shutil.rmtree(root / name, ignore_errors=True)


def preflight(root: Path, files: Mapping[str, str]) -> list[Problem]:
    """Paths that cannot become files (a directory or a file in the way), before any write."""
    problems: list[Problem] = []
    for rel in sorted(files):
        target = root / rel
        blocker = target if target.is_dir() else None
        for parent in [p for p in target.parents if p == root or root in p.parents]:
            if parent.exists() and not parent.is_dir():
                blocker = parent
        if blocker is not None:
            what = "a directory" if blocker.is_dir() else "a file"
            problems.append(
                Problem(
                    "PS611",
                    f"{shown(blocker)} is {what}, where pipespec writes {shown(target)}",
                    "move it out of the way, or compile to another --out folder",
                )
            )
    return problems


def shown(path: Path) -> str:
    """A path as people read it: relative to the working directory when under it."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()
