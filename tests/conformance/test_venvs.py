"""The venv cache machinery, on tiny lock files (no Airflow, no network: pip is preinstalled)."""

from __future__ import annotations

import ensurepip
import json
import threading
from pathlib import Path

import pytest

from tests.conformance import venvs

pytestmark = pytest.mark.conformance

# Already satisfied in a fresh `python -m venv`, so pip never has to reach an index.
OFFLINE_LOCK = f"# test lock\npip=={ensurepip.version()}\n"


@pytest.fixture
def locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    locks_dir = tmp_path / "locks"
    locks_dir.mkdir()
    monkeypatch.setattr(venvs, "LOCKS_DIR", locks_dir)
    monkeypatch.setenv(venvs.CACHE_ENV, str(tmp_path / "cache"))
    return locks_dir


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real_build = venvs._build

    def counting(name: str, lock: Path, final: Path) -> None:
        calls.append(name)
        real_build(name, lock, final)

    monkeypatch.setattr(venvs, "_build", counting)
    return calls


def test_build_reuse_and_prune(locks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_builds(monkeypatch)
    (locks / "tiny.txt").write_text(OFFLINE_LOCK)
    python = venvs.ensure_venv("tiny")
    first = python.parent.parent
    assert python.is_file()
    assert first.parent == venvs.cache_dir()
    assert first.name == f"tiny-{venvs.venv_hash(locks / 'tiny.txt')}"
    assert len(first.name.split("-")[-1]) == 16
    marker = json.loads((first / venvs.MARKER).read_text())
    assert marker["python"] == venvs.python_tag()
    # Scripts were retargeted from the temp build dir to the final location.
    assert str(first) in (first / "bin" / "pip").read_text().splitlines()[0]

    assert venvs.ensure_venv("tiny") == python
    assert calls == ["tiny"]

    (locks / "tiny.txt").write_text(OFFLINE_LOCK + "# changed\n")
    second = venvs.ensure_venv("tiny").parent.parent
    assert second != first
    assert calls == ["tiny", "tiny"]
    assert not first.exists()  # the older hash was pruned
    leftovers = [p.name for p in venvs.cache_dir().iterdir() if p.is_dir()]
    assert leftovers == [second.name]


def test_concurrent_callers_build_once(locks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_builds(monkeypatch)
    (locks / "tiny.txt").write_text(OFFLINE_LOCK)
    results: list[Path] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(venvs.ensure_venv("tiny"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert calls == ["tiny"]


def test_failed_build_raises_with_pip_output(locks: Path) -> None:
    (locks / "bad.txt").write_text("this is not ===a requirement\n")
    with pytest.raises(venvs.VenvBuildError, match="Invalid requirement"):
        venvs.ensure_venv("bad")
    assert [p for p in venvs.cache_dir().iterdir() if p.is_dir()] == []


def test_unknown_name_is_rejected(locks: Path) -> None:
    with pytest.raises(ValueError, match="no lock file"):
        venvs.ensure_venv("nope")
    with pytest.raises(ValueError, match="invalid venv name"):
        venvs.ensure_venv("../escape")
