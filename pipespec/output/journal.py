"""The journal of a multi-folder write, and recovering from a write cut short.

See transaction.py for the protocol. This module holds what both a run and a later
recovery need: the journal format, rolling forward or back, cleaning up, folder locks and
deferred signals.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any

from pipespec.output.errors import Problem

PREFIX = ".pipespec-"
JOURNAL = ".pipespec-journal-"
STAGING = ".pipespec-staging-"
BACKUP = ".pipespec-backup-"
FORMAT = 1
LOCK_WAIT_S = 10.0  # recovery waits this long for another run's folder, then reports it

_HELD: dict[Path, int] = {}  # folders this process has locked (flock is per open file)


def pause() -> None:
    """Fault-injection seam: the crash tests slow each step so that a kill lands anywhere."""
    delay = os.environ.get("PIPESPEC_TEST_STEP_DELAY")
    if delay:
        time.sleep(float(delay))


def replace(src: Path, dst: Path) -> None:
    # One seam for fault-injection tests: a rename is the only step that touches a target.
    os.replace(src, dst)


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (new names, renames) durable; a no-op where unsupported."""
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def root_lock(root: Path, wait_s: float | None = None) -> Iterator[bool]:
    """Hold an exclusive lock on a folder; yields False when ``wait_s`` ran out."""
    key = Path(os.path.abspath(root))
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock: runs must not overlap
        yield True
        return
    if key in _HELD:
        yield True
        return
    fd = os.open(key, os.O_RDONLY)
    try:
        deadline = None if wait_s is None else time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() > deadline:
                    yield False
                    return
                time.sleep(0.05)
        _HELD[key] = fd
        try:
            yield True
        finally:
            del _HELD[key]
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


@dataclass
class Transaction:
    run: str
    primary: Path
    roots: list[tuple[Path, list[tuple[str, bool]]]]  # root, [(target, had an old file)]
    state: str  # "commit" or "abort"

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "roots": [
                {"path": os.path.relpath(root, self.primary), "targets": targets}
                for root, targets in self.roots
            ],
        }

    @classmethod
    def from_json(cls, primary: Path, doc: dict[str, Any]) -> Transaction:
        state = doc["state"]
        if state not in ("commit", "abort"):
            raise ValueError(f"unknown state {state!r}")
        roots = []
        for item in doc["roots"]:
            root = Path(os.path.normpath(primary / str(item["path"])))
            targets = [(_safe_rel(rel), bool(had)) for rel, had in item["targets"]]
            roots.append((root, targets))
        return cls(str(doc["run"]), primary, roots, state)

    def dirs(self, root: Path) -> tuple[Path, Path]:
        return root / f"{STAGING}{self.run}", root / f"{BACKUP}{self.run}"


def _safe_rel(rel: object) -> str:
    # A journal names targets inside its own folders only.
    path = PurePosixPath(str(rel))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"target {rel!r} is outside the folder")
    return path.as_posix()


def write_journal(root: Path, run: str, doc: dict[str, Any]) -> None:
    """Write a journal whole: a temporary file, fsynced, renamed into place."""
    final = root / f"{JOURNAL}{run}.json"
    tmp = root / f"{JOURNAL}{run}.tmp"
    data = json.dumps({"pipespec_journal": FORMAT, "run": run, **doc}, indent=1)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    fsync_dir(root)
    pause()


def read_journal(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("pipespec_journal") != FORMAT:
        return None
    return doc


def remove_journal(root: Path, run: str) -> None:
    for suffix in (".json", ".tmp"):
        (root / f"{JOURNAL}{run}{suffix}").unlink(missing_ok=True)
    fsync_dir(root)


def roll_forward(txn: Transaction) -> None:
    """Finish the renames a committed run had not done yet."""
    for root, targets in txn.roots:
        staging, _ = txn.dirs(root)
        touched: set[Path] = set()
        for rel, _had in targets:
            staged = staging / rel
            if staged.is_file():  # else it was renamed before the crash
                pause()
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                replace(staged, target)
                touched.add(target.parent)
        for folder in touched:
            fsync_dir(folder)


def roll_back(txn: Transaction) -> None:
    """Undo the renames an aborted run had done: old files back, new files gone."""
    for root, targets in txn.roots:
        staging, backup = txn.dirs(root)
        if not backup.is_dir():  # this run never prepared this folder
            continue
        touched: set[Path] = set()
        for rel, had in targets:
            target = root / rel
            if (staging / rel).is_file():
                continue  # never renamed
            if had and (backup / rel).is_file():
                replace(backup / rel, target)
            elif not had:
                target.unlink(missing_ok=True)
            touched.add(target.parent)
        for folder in touched:
            fsync_dir(folder)


def clean(txn: Transaction) -> None:
    """Remove staging, backups and journals: the primary's journal last."""
    for root, _ in [r for r in txn.roots if r[0] != txn.primary] + [
        r for r in txn.roots if r[0] == txn.primary
    ]:
        for folder in txn.dirs(root):
            shutil.rmtree(folder, ignore_errors=True)
        if root != txn.primary and root.is_dir():
            remove_journal(root, txn.run)
    if txn.primary.is_dir():
        remove_journal(txn.primary, txn.run)


def has_leftovers(root: Path) -> bool:
    try:
        with os.scandir(root) as entries:
            return any(e.name.startswith(PREFIX) for e in entries)
    except OSError:
        return False


def recover(roots: Iterable[Path]) -> list[Problem]:
    """Resolve what interrupted runs left in these folders (taking each folder's lock)."""
    notes: list[Problem] = []
    for root in sorted({Path(os.path.abspath(r)) for r in roots}):
        if has_leftovers(root):
            with root_lock(root):
                notes += recover_root(root)
    return notes


def recover_locked(roots: Iterable[Path]) -> list[Problem]:
    """``recover`` for a caller that already holds the folders' locks."""
    return [n for root in roots if has_leftovers(root) for n in recover_root(root)]


def recover_root(root: Path) -> list[Problem]:
    notes: list[Problem] = []
    for journal in sorted(root.glob(f"{JOURNAL}*.json")):
        run = journal.name[len(JOURNAL) : -len(".json")]
        notes += _resolve(root, run, journal)
    notes += _remove_uncommitted(root)
    return notes


def _unresolved(path: Path, why: str) -> Problem:
    return Problem(
        "PS613",
        f"{path.as_posix()}: an interrupted pipespec write cannot be resolved: {why}",
        "inspect the folder; delete the .pipespec-* entries once its files are as you want",
    )


def _resolve(root: Path, run: str, journal: Path) -> list[Problem]:
    doc = read_journal(journal)
    if doc is None:
        return [_unresolved(journal, "the journal is unreadable")]
    primary = root
    if "primary" in doc:
        primary = Path(os.path.normpath(root / str(doc["primary"])))
        journal = primary / f"{JOURNAL}{run}.json"
        if not journal.exists():
            if not primary.is_dir():
                return [_unresolved(root, f"its first folder {primary.as_posix()} is gone")]
            # The primary's journal is the commit point; without it the run never happened.
            for folder in (root / f"{STAGING}{run}", root / f"{BACKUP}{run}"):
                shutil.rmtree(folder, ignore_errors=True)
            remove_journal(root, run)
            return [_recovered(root, "rolled back")]
        doc = read_journal(journal)
        if doc is None:
            return [_unresolved(journal, "the journal is unreadable")]
    try:
        txn = Transaction.from_json(primary, doc)
        with ExitStack() as stack:
            for other in sorted(r for r, _ in txn.roots if r != root and r.is_dir()):
                if not stack.enter_context(root_lock(other, LOCK_WAIT_S)):
                    return [_unresolved(other, "another pipespec run is using it")]
            if txn.state == "commit":
                roll_forward(txn)
            else:
                roll_back(txn)
            clean(txn)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [_unresolved(journal, str(exc))]
    return [_recovered(primary, "completed" if txn.state == "commit" else "rolled back")]


def _recovered(root: Path, how: str) -> Problem:
    return Problem(
        "PS614",
        f"{root.as_posix()}: an interrupted pipespec write was found and {how}",
        None,
        warning=True,
    )


def _remove_uncommitted(root: Path) -> list[Problem]:
    """Staging and backups of runs that never reached their commit point."""
    found = False
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name.startswith(JOURNAL) and name.endswith(".tmp"):
            entry.unlink(missing_ok=True)
            found = True
        for prefix in (STAGING, BACKUP):
            run = name[len(prefix) :] if name.startswith(prefix) else None
            if run is None or (root / f"{JOURNAL}{run}.json").exists():
                continue  # not ours, or a journal we could not resolve (reported)
            if prefix == BACKUP and entry.is_dir():
                _restore_missing(root, entry)
            shutil.rmtree(entry, ignore_errors=True)
            found = True
    return [_recovered(root, "rolled back")] if found else []


def _restore_missing(root: Path, backup: Path) -> None:
    # Older pipespec versions moved old files into the backup; never lose one.
    for saved in sorted(backup.rglob("*")):
        target = root / saved.relative_to(backup)
        if saved.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            replace(saved, target)
