"""Output folders: a run writes every folder or none, survives a crash, reports faults.

The crash test runs real `pipespec compile` processes slowed by a seam
(PIPESPEC_TEST_STEP_DELAY pauses before each write step), kills them with SIGKILL,
SIGTERM or SIGINT at seeded points across the whole write, lets the next run recover, and
checks that every folder holds the old files or the new ones, never a mix.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipespec.cli import main
from pipespec.output import journal, recover, transaction

SPEC = "pipespec: 1\nname: {name}\ndescription: {text}\nsteps:\n  hello:\n" + (
    "    kind: container\n    image: busybox:1.36\n    command: [echo, hi]\n"
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def make_project(base: Path, text: str, names: tuple[str, ...] = ("alpha", "beta")) -> list[str]:
    """One spec per folder (each compiles into its own generated/), as CLI arguments."""
    specs = []
    for name in names:
        folder = base / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pipeline.yaml").write_text(SPEC.format(name=name, text=text))
        specs.append(f"{name}/pipeline.yaml")
    return specs


def snapshot(base: Path) -> dict[str, bytes]:
    """Every file under ``base`` except the specs: the outputs as a reader sees them."""
    return {
        p.relative_to(base).as_posix(): p.read_bytes()
        for p in sorted(base.rglob("*"))
        if p.is_file() and p.name != "pipeline.yaml"
    }


def leftovers(base: Path) -> list[str]:
    return [p.as_posix() for p in base.rglob(".pipespec-*")]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


def test_a_fault_in_the_second_folder_leaves_the_first_untouched(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = make_project(project, "old")
    assert run("compile", *specs, "--target", "airflow")[0] == 0
    before = snapshot(project)
    make_project(project, "new")
    real = journal.replace

    def fail_in_beta(src: Path, dst: Path) -> None:
        if "beta" in dst.as_posix():
            raise OSError(errno.EIO, "I/O error (injected)", str(dst))
        real(src, dst)

    monkeypatch.setattr(journal, "replace", fail_in_beta)
    code, _, err = run("compile", *specs, "--target", "airflow")
    assert code == 2, err
    assert "error[PS610]: cannot write" in err and "injected" in err and "Traceback" not in err
    assert snapshot(project) == before  # alpha's new file was put back too
    assert leftovers(project) == []


def test_a_full_disk_is_an_environment_error_and_changes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = make_project(project, "old")
    run("compile", *specs, "--target", "airflow")
    before = snapshot(project)
    make_project(project, "new")
    calls = {"n": 0}
    real = transaction.write_bytes

    def disk_full(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, data)

    monkeypatch.setattr(transaction, "write_bytes", disk_full)
    code, _, err = run("compile", *specs, "--target", "airflow")
    assert code == 2, err
    assert "error[PS610]" in err and "No space left on device" in err
    assert "the disk is full" in err and "PS900" not in err
    assert snapshot(project) == before
    assert leftovers(project) == []


def test_ctrl_c_during_the_renames_is_held_until_they_are_done(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = make_project(project, "old")
    run("compile", *specs, "--target", "airflow")
    make_project(project, "new")
    real = journal.replace

    def interrupted(src: Path, dst: Path) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C lands between two renames
        real(src, dst)

    monkeypatch.setattr(journal, "replace", interrupted)
    code, _, _ = run("compile", *specs, "--target", "airflow")
    assert code == 1  # click's "Aborted!": the interrupt is delivered after the commit
    after = snapshot(project)
    assert all(b"new" in text for text in after.values()), after
    assert leftovers(project) == []


def test_leftovers_of_an_old_crash_are_recovered_and_nothing_is_lost(project: Path) -> None:
    root = project / "generated"
    (root / ".pipespec-backup-x" / "airflow").mkdir(parents=True)
    (root / ".pipespec-backup-x" / "airflow" / "a.py").write_text("old a\n")  # moved aside
    (root / ".pipespec-staging-x" / "airflow").mkdir(parents=True)
    (root / ".pipespec-staging-x" / "airflow" / "a.py").write_text("new a\n")
    (root / ".pipespec-journal-y.tmp").write_text("{")  # a journal never committed
    notes = recover([root])
    assert [n.code for n in notes] == ["PS614"]
    assert (root / "airflow" / "a.py").read_text() == "old a\n"
    assert leftovers(project) == []


def test_a_journal_whose_first_folder_is_gone_is_reported_by_check(project: Path) -> None:
    specs = make_project(project, "old", ("alpha",))
    run("compile", *specs, "--target", "airflow")
    root = project / "alpha" / "generated"
    (root / ".pipespec-journal-r1.json").write_text(
        '{"pipespec_journal": 1, "run": "r1", "primary": "../../gone"}'
    )
    code, _, err = run("check", *specs, "--target", "airflow")
    assert code == 2
    assert "error[PS613]" in err and "cannot be resolved" in err and "gone" in err


def test_a_journal_cannot_name_a_target_outside_its_folder(project: Path) -> None:
    root = project / "out"
    (root / ".pipespec-backup-r2").mkdir(parents=True)
    victim = project / "victim.txt"
    victim.write_text("keep me\n")
    (root / ".pipespec-journal-r2.json").write_text(
        '{"pipespec_journal": 1, "run": "r2", "state": "abort",'
        ' "roots": [{"path": ".", "targets": [["../victim.txt", false]]}]}'
    )
    notes = recover([root])
    assert [n.code for n in notes] == ["PS613"]
    assert victim.read_text() == "keep me\n"


# --- crash at random points ------------------------------------------------------------

STEP_DELAY = 0.03
KILLS = 12
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)


def _compile(cwd: Path, specs: list[str], delay: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PIPESPEC_TEST_STEP_DELAY": str(delay)}
    env.pop("CI", None)
    return subprocess.Popen(
        [sys.executable, "-c", "from pipespec.cli import run; run()", "compile", *specs],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _timed(cwd: Path, specs: list[str], delay: float) -> float:
    start = time.monotonic()
    assert _compile(cwd, specs, delay).wait(timeout=60) == 0
    return time.monotonic() - start


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_compile_killed_at_any_point_is_all_old_or_all_new_after_recovery(
    tmp_path: Path,
) -> None:
    template = tmp_path / "template"
    old_specs = make_project(template, "old", ("alpha", "beta"))
    assert _timed(template, old_specs, 0.0) > 0
    old = snapshot(template)
    new_specs = make_project(template, "new", ("alpha", "beta", "gamma"))
    # gamma compiles into its own new folder: a file that did not exist before.
    new_dir = tmp_path / "calibrate"
    shutil.copytree(template, new_dir)
    fast = _timed(new_dir, new_specs, 0.0)
    slow = _timed(new_dir, new_specs, STEP_DELAY)
    new = snapshot(new_dir)
    # The slowed write phase: measured, but at least its nine paused steps (noisy machines).
    window = max(slow - fast, 9 * STEP_DELAY)
    assert old != new and set(old) < set(new)
    rng = random.Random(8)
    outcomes = []
    for i in range(KILLS):
        work = tmp_path / f"run{i}"
        shutil.copytree(template, work)
        for name, data in old.items():
            (work / name).write_bytes(data)
        for name in set(new) - set(old):
            (work / name).unlink(missing_ok=True)
        proc = _compile(work, new_specs, STEP_DELAY)
        # Wait for the write phase to begin (the first staging folder appears), so that the
        # kill points spread over it whatever the machine's load, then kill.
        first = work / "alpha" / "generated"
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if first.is_dir() and any(first.glob(".pipespec-staging-*")):
                break
            time.sleep(0.002)
        time.sleep(window * (i + rng.random()) / KILLS)
        proc.send_signal(SIGNALS[i % len(SIGNALS)])
        proc.wait(timeout=60)
        recover([work / n / "generated" for n in ("alpha", "beta", "gamma")])
        state = snapshot(work)
        assert state in (old, new), (i, sorted(state))
        assert leftovers(work) == []
        outcomes.append("new" if state == new else "old")
    # The seeded points land both before and after the commit point.
    assert "old" in outcomes and "new" in outcomes, outcomes
