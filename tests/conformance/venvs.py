"""Isolated, cached virtualenvs with a real orchestrator installed, for conformance tests.

``ensure_venv("airflow3")`` returns the python of a venv built from ``locks/airflow3.txt``.

* The venv lives outside the repo, in ``$PIPESPEC_CONFORMANCE_CACHE`` (default
  ``~/.cache/pipespec/conformance``), as ``<name>-<hash>`` where ``hash`` is the first 16 hex
  digits of sha256 over the lock file's bytes and the interpreter's version: editing a lock
  makes a new venv, and older ``<name>-*`` venvs are pruned once the new one is built.
* It is built with ``python -m venv`` then ``pip install --no-deps -r <lock>`` (the lock is a
  complete ``pip freeze``), then ``pip check``; into a temp dir next to the final one, which is
  renamed into place once complete (with a marker file inside). A ``fcntl`` lock per venv lets
  concurrent pytest processes (xdist, two checkouts) wait for one build instead of racing.
* On failure :class:`VenvBuildError` carries the tail of pip's output.

Run ``python -m tests.conformance.venvs [NAME ...]`` to build venvs ahead of the tests (in
parallel; CI's cold path).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

LOCKS_DIR = Path(__file__).resolve().parent / "locks"
CACHE_ENV = "PIPESPEC_CONFORMANCE_CACHE"
DEFAULT_CACHE = Path("~/.cache/pipespec/conformance")
MARKER = ".pipespec-venv-complete"
PIP_TIMEOUT_S = 30 * 60
_TAIL_LINES = 60
_NAME_RE = re.compile(r"^[A-Za-z0-9_.]+$")
_HASH_LEN = 16


class VenvBuildError(RuntimeError):
    """Building a conformance venv failed; the message ends with the tool's output tail."""


def cache_dir() -> Path:
    """Where conformance venvs live (created if missing)."""
    raw = os.environ.get(CACHE_ENV) or str(DEFAULT_CACHE)
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def lock_path(name: str) -> Path:
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"invalid venv name {name!r}")
    path = LOCKS_DIR / f"{name}.txt"
    if not path.is_file():
        known = sorted(p.stem for p in LOCKS_DIR.glob("*.txt"))
        raise ValueError(f"no lock file for venv {name!r} (known: {', '.join(known)})")
    return path


def python_tag() -> str:
    """The interpreter identity that goes into the venv hash."""
    return f"{sys.implementation.name}-{platform.python_version()}"


def venv_hash(lock: Path) -> str:
    digest = hashlib.sha256()
    digest.update(lock.read_bytes())
    digest.update(b"\0")
    digest.update(python_tag().encode())
    return digest.hexdigest()[:_HASH_LEN]


def venv_dir(name: str) -> Path:
    """The final location of venv ``name`` for the current lock and interpreter."""
    return cache_dir() / f"{name}-{venv_hash(lock_path(name))}"


def _python_in(venv: Path) -> Path:
    return venv / "bin" / "python"


def _is_complete(venv: Path) -> bool:
    python = _python_in(venv)
    # resolve(): bin/python is a symlink to the base interpreter, which must still exist.
    return (venv / MARKER).is_file() and python.exists() and python.resolve().exists()


def ensure_venv(name: str) -> Path:
    """Return the python executable of conformance venv ``name``, building it if needed."""
    final = venv_dir(name)
    if _is_complete(final):
        return _python_in(final)
    with _file_lock(final.with_name(final.name + ".lock")):
        if _is_complete(final):  # another process built it while we waited
            return _python_in(final)
        if final.exists():  # a leftover without marker: never trust it
            shutil.rmtree(final)
        _build(name, lock_path(name), final)
    _prune(name, keep=final)
    return _python_in(final)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _try_lock(path: Path) -> int | None:
    """Non-blocking exclusive lock; returns the fd to release, or None if someone holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PIP_USER"}
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def _run(cmd: Sequence[str | Path], what: str, timeout: float) -> str:
    args = [str(c) for c in cmd]
    try:
        proc = subprocess.run(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_clean_env(),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (
            exc.stdout
            if isinstance(exc.stdout, str)
            else (exc.stdout or b"").decode(errors="replace")
        )
        raise VenvBuildError(f"{what} timed out after {timeout:.0f}s\n{_tail(out)}") from exc
    if proc.returncode != 0:
        raise VenvBuildError(
            f"{what} failed (exit {proc.returncode}): {' '.join(args)}\n{_tail(proc.stdout)}"
        )
    return proc.stdout


def _tail(text: str) -> str:
    lines = text.rstrip().splitlines()
    shown = lines[-_TAIL_LINES:]
    prefix = [f"... ({len(lines) - len(shown)} earlier lines)"] if len(lines) > len(shown) else []
    return "\n".join([*prefix, *shown])


def _retarget(tmp: Path, final: Path) -> None:
    """Point scripts' shebangs and activate files at ``final`` before the rename."""
    old, new = str(tmp), str(final)
    for script in (tmp / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        try:
            text = script.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        if old in text:
            script.write_text(text.replace(old, new))


def _build(name: str, lock: Path, final: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes it 0700
    started = time.monotonic()
    sys.stderr.write(f"[pipespec] building conformance venv {final} from {lock.name} ...\n")
    try:
        _run([sys.executable, "-m", "venv", tmp], f"python -m venv for {name!r}", 300)
        python = _python_in(tmp)
        _run(
            [python, "-m", "pip", "install", "--no-deps", "--no-input", "-r", lock],
            f"pip install for conformance venv {name!r}",
            PIP_TIMEOUT_S,
        )
        _run([python, "-m", "pip", "check"], f"pip check for conformance venv {name!r}", 300)
        _retarget(tmp, final)
        seconds = round(time.monotonic() - started, 1)
        marker = {
            "name": name,
            "lock": str(lock),
            "hash": final.name.rsplit("-", 1)[-1],
            "python": python_tag(),
            "build_seconds": seconds,
        }
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    sys.stderr.write(f"[pipespec] built {final.name} in {seconds:.0f}s\n")


def _prune(name: str, keep: Path) -> None:
    """Remove other hashes' venvs (and stale temp dirs) of ``name`` that nobody is building."""
    pattern = re.compile(rf"^\.?{re.escape(name)}-[0-9a-f]{{{_HASH_LEN}}}(\.tmp-.*)?$")
    for entry in keep.parent.iterdir():
        if entry == keep or not entry.is_dir() or not pattern.match(entry.name):
            continue
        base = entry.name.lstrip(".").split(".tmp-", 1)[0]
        lock_file = keep.parent / f"{base}.lock"
        fd = _try_lock(lock_file)
        if fd is None:  # being built right now
            continue
        try:  # the (empty) .lock file stays: unlinking it could race with a waiting process
            shutil.rmtree(entry, ignore_errors=True)
        finally:
            os.close(fd)


def main(argv: Sequence[str]) -> int:
    names = list(argv) or sorted(p.stem for p in LOCKS_DIR.glob("*.txt"))
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = list(pool.map(ensure_venv, names))
    for name, python in zip(names, results, strict=True):
        print(f"{name}: {python}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
