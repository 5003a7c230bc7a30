"""Every script a lock entry makes a step run is pinned; a missing or stray pin is an error.

Deleting an entry's `files` used to silence the pin, so an edited LLM-written script compiled
under CI=true. The shipped churn example is copied whole (spec, lock, scripts) and tampered
with in every way; `compile --locked` must refuse each at the lock entry's line.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.fill.test_fill import run

Lock = dict[str, Any]


@pytest.fixture
def churn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "churn"
    shutil.copytree(ROOT / "examples" / "churn", folder, ignore=shutil.ignore_patterns("generated"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")  # compile is --locked, as in CI
    return folder


def compile_churn() -> tuple[int, str]:
    code, _, err = run("compile", "churn/pipeline.yaml", "--target", "airflow")
    return code, err


def tamper(folder: Path, change: Callable[[Lock], None]) -> None:
    path = folder / "pipeline.lock.json"
    lock = json.loads(path.read_text())
    change(lock)
    path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")


def entry_line(folder: Path, sid: str) -> int:
    lines = (folder / "pipeline.lock.json").read_text().splitlines()
    return lines.index(f'    "{sid}": {{') + 1


def test_the_shipped_example_compiles_locked(churn: Path) -> None:
    code, err = compile_churn()
    assert code == 0, err


def drop_files(lock: Lock) -> None:
    del lock["steps"]["clean"]["files"]


def extra_file(lock: Lock) -> None:
    lock["steps"]["clean"]["files"]["scripts/other.py"] = "0" * 64


def moved_pin(lock: Lock) -> None:
    files = lock["steps"]["clean"]["files"]
    files["scripts/elsewhere.py"] = files.pop("scripts/clean.py")


@pytest.mark.parametrize("change", [drop_files, extra_file, moved_pin])
def test_a_missing_or_stray_pin_is_an_error_at_the_lock_entry(
    churn: Path, change: Callable[[Lock], None]
) -> None:
    tamper(churn, change)
    code, err = compile_churn()
    assert code == 1
    line = entry_line(churn, "clean")
    assert f"churn/pipeline.lock.json:{line}:5: error[PS516]: " in err, err
    assert "step 'clean'" in err


def test_a_changed_hash_is_an_error(churn: Path) -> None:
    tamper(
        churn, lambda lock: lock["steps"]["clean"]["files"].update({"scripts/clean.py": "0" * 64})
    )
    code, err = compile_churn()
    assert code == 1 and "error[PS506]" in err and "scripts/clean.py changed" in err


def test_an_edited_script_does_not_compile_even_with_its_pin_deleted(churn: Path) -> None:
    script = churn / "scripts" / "clean.py"
    script.write_text(script.read_text().replace('keep="last"', 'keep="first"'))
    code, err = compile_churn()
    assert code == 1 and "error[PS506]" in err
    tamper(churn, drop_files)
    code, err = compile_churn()
    assert code == 1 and "error[PS516]" in err


def test_a_repinned_hostile_script_fails_the_policy_at_compile(churn: Path) -> None:
    # Someone edits the script and the hash in the lock: the pin holds, the policy does not.
    script = churn / "scripts" / "clean.py"
    text = script.read_text().replace(
        '    frame = inputs["data"].copy()',
        '    frame = inputs["data"].copy()\n    frame.to_csv("/tmp/stolen.csv")',
    )
    script.write_text(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    tamper(churn, lambda lock: lock["steps"]["clean"]["files"].update({"scripts/clean.py": digest}))
    code, err = compile_churn()
    assert code == 1
    assert "error[PS507]" in err and "PS511" in err and "to_csv" in err, err
