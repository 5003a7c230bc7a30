"""Fill one case against a real model, then run what it wrote on the case's input.

Everything runs as a user would: `pipespec fill` in a subprocess (its own interpreter, the
server from the environment), then the written script with `python scripts/<step>.py
--input-... --output-...` on the case's CSV files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tests.real_llm.cases import Case, spec_text

USAGE = re.compile(r"LLM (\d+) request\(s\), (\d+) prompt \+ (\d+) completion tokens")


@dataclass
class Outcome:
    step: str
    filled: bool
    attempts: int
    tokens: int  # completion tokens
    seconds: float
    ran: bool | None  # the trial run the lock records (None: no record)
    correct: bool
    why: str  # what went wrong, or ""

    def row(self) -> str:
        ran = {True: "yes", False: "no", None: "n/a"}[self.ran]
        return (
            f"| {self.step} | {self.attempts} | {self.tokens} | {self.seconds:.0f} | {ran} "
            f"| {'yes' if self.correct else 'no'} |"
        )


def fill_case(case: Case, folder: Path, *, model: str, base_url: str, deadline: str) -> Outcome:
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "pipeline.yaml"
    spec.write_text(spec_text(case, deadline=deadline))
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.setdefault("OPENAI_API_KEY", "unused")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pipespec", "fill", str(spec), "--model", model],
        capture_output=True,
        text=True,
        env={**env, "OPENAI_BASE_URL": base_url},
        cwd=folder,
        timeout=3600,
        check=False,
    )
    seconds = time.monotonic() - started
    found = USAGE.search(proc.stdout + proc.stderr)
    attempts, tokens = (int(found[1]), int(found[3])) if found else (0, 0)
    script = folder / "scripts" / f"{case.step}.py"
    if proc.returncode != 0 or not script.is_file():
        why = (proc.stderr.strip().splitlines() or ["no output"])[0]
        return Outcome(case.step, False, attempts, tokens, seconds, None, False, why)
    ran = _trial_ran(folder, case.step)
    problem = run_and_check(case, script, folder / "run")
    return Outcome(case.step, True, attempts, tokens, seconds, ran, problem is None, problem or "")


def _trial_ran(folder: Path, step: str) -> bool | None:
    lock = json.loads((folder / "pipeline.lock.json").read_text())
    trial = lock["steps"][step].get("trial")
    return bool(trial.get("ran")) if isinstance(trial, dict) else None


def run_and_check(case: Case, script: Path, work: Path) -> str | None:
    """Run the script on the case's input; None when its outputs are what was described."""
    args: list[str] = []
    inputs: dict[str, pd.DataFrame] = {}
    for name, text in case.data.items():
        path = work / "in" / name
        path.mkdir(parents=True, exist_ok=True)
        (path / "data.csv").write_text(text)
        inputs[name] = pd.read_csv(path / "data.csv")
        args += [f"--input-{name.replace('_', '-')}", str(path)]
    for name in case.outputs:
        args += [f"--output-{name.replace('_', '-')}", str(work / "out" / name)]
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        return "the script failed: " + " | ".join(proc.stderr.strip().splitlines()[-2:])
    outputs = {n: pd.read_csv(work / "out" / n / "data.csv") for n in case.outputs}
    return case.check(inputs, outputs)


def table(outcomes: list[Outcome]) -> str:
    head = "| step | attempts | completion tokens | seconds | ran | correct |\n"
    head += "| --- | --- | --- | --- | --- | --- |\n"
    return head + "\n".join(o.row() for o in outcomes) + "\n"
