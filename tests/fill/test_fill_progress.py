"""`pipespec fill` shows live progress on a terminal, and nothing extra anywhere else.

The terminal is real: the command runs in a subprocess whose stderr is a pseudo-terminal,
with stdout on a pipe, against the loopback fake server.
"""

from __future__ import annotations

import io
import os
import pty
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from rich.console import Console

from pipespec.cli_fill import ProgressBoard, live_progress, wants_progress
from pipespec.fill.llm import ProgressEvent, ProgressState
from tests.conftest import ROOT
from tests.fill.churn_answers import ANSWERS, MODEL
from tests.fill.fake_openai import FakeOpenAI, Reply
from tests.fill.test_fill import step_of


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def event(
    state: ProgressState, attempt: int = 1, tokens: int = 0, key: str = "clean"
) -> ProgressEvent:
    return ProgressEvent(key, attempt, tokens, 1.5 * attempt, state)


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_no_progress_under_ci_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    stream = Terminal()
    with live_progress(stream) as progress:
        assert progress is None
    assert stream.getvalue() == ""


def test_no_progress_into_a_file_or_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert wants_progress(Terminal())
    assert not wants_progress(io.StringIO())
    monkeypatch.setenv("CI", "false")  # set, but saying no
    assert wants_progress(Terminal())
    monkeypatch.setenv("TERM", "dumb")
    assert not wants_progress(Terminal())


def test_the_board_draws_running_steps_and_keeps_finished_ones() -> None:
    screen = Terminal()
    board = ProgressBoard(Console(file=screen, force_terminal=True, width=100), 20)
    with board:
        board.update(event("waiting", key="features"))
        board.update(event("streaming", tokens=17))
        board.update(event("rejected", tokens=40))
        board.update(event("streaming", attempt=2, tokens=3))
        board.update(event("accepted", attempt=2, tokens=30))
        board.update(event("failed", attempt=1, key="features"))
        board.update(event("streaming", tokens=1, key="train"))  # still running at the end
    shown = screen.getvalue()
    assert "clean: answered after 2 attempts (0:03)" in shown
    assert "features: no usable answer after 1 attempt (0:01)" in shown
    # the running step's live line was drawn (the last refresh, on stop), then erased
    assert "train: attempt 1, 1 token (0:0" in shown


def fill_in_subprocess(
    folder: Path, base_url: str, terminal: bool, env: dict[str, str]
) -> tuple[int, str, str]:
    """`pipespec fill`, stdout on a pipe, stderr on a pseudo-terminal or a pipe."""
    command = [sys.executable, "-m", "pipespec", "fill", "pipeline.yaml", "--base-url", base_url]
    if not terminal:
        done = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:  # a full pty buffer would block the child
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        child = subprocess.Popen(
            command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=follower, text=True
        )
        os.close(follower)
        out, _ = child.communicate(timeout=120)
        reader.join(timeout=10)
    finally:
        os.close(leader)
    return child.returncode, out, b"".join(chunks).decode("utf-8", errors="replace")


def slow_answers(body: dict[str, object], index: int) -> Reply:
    # Slow enough for a few redraws (4 a second), fast enough for a test.
    return Reply.streamed(ANSWERS[step_of(body)], chunks=12, every=0.08, model=MODEL)


@pytest.mark.parametrize("ci", [None, "true"])
def test_fill_on_a_terminal_shows_progress_and_changes_nothing_else(
    tmp_path: Path, ci: str | None
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update({"TERM": "xterm", "COLUMNS": "120", "NO_COLOR": "1"})
    if ci is not None:
        env["CI"] = ci
    runs = {}
    for terminal in (True, False):
        folder = tmp_path / ("tty" if terminal else "pipe")
        folder.mkdir()
        shutil.copy(ROOT / "examples" / "churn" / "pipeline.yaml", folder / "pipeline.yaml")
        with FakeOpenAI(slow_answers) as fake:
            runs[terminal] = fill_in_subprocess(folder, fake.base_url, terminal, env)
            assert fake.calls == 2
    (code, out, err), (plain_code, plain_out, plain_err) = runs[True], runs[False]
    assert code == plain_code == 0, err + plain_err
    assert out.replace("tty/", "pipe/") == plain_out  # stdout is the same byte for byte
    assert "attempt" not in plain_err
    if ci is None:
        assert "clean: attempt 1, " in err and " tokens (0:0" in err, err
        assert "clean: answered after 1 attempt" in err
        assert "features: answered after 1 attempt" in err
    else:
        assert "attempt" not in err, err
        assert err.replace("\r\n", "\n") == plain_err
