"""The trial run (pipespec/fill/trial_run.py): an LLM-written script runs once on synthetic
rows of the declared columns, contained, and whatever goes wrong is a reason for the model."""

from __future__ import annotations

import contextlib
import io
import socket
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from pipespec.fill import trial_run
from pipespec.fill.data_shape import DataShape
from pipespec.fill.synthetic import ROWS, synthetic_csv
from pipespec.fill.template import ScriptFrame, assemble
from pipespec.fill.trial_run import Trial, TrialLimits, run_script, run_trial

ORDERS = {
    "customer_id": "int",
    "country": "string",
    "amount": "float",
    "placed": "datetime",
    "paid": "bool",
    "tier": "category",
}
TOTALS = {"country": "string", "total": "float"}
GOOD = """\
frame = inputs["orders"]
out = frame.groupby("country", as_index=False)["amount"].sum()
return {"totals": out.rename(columns={"amount": "total"})}
"""
# Quick limits: a test never waits for the defaults (60 s of wall clock, 30 s of CPU).
QUICK = TrialLimits(wall_seconds=20, cpu_seconds=15)


def frame_for(
    outputs: dict[str, str] | None = TOTALS, **inputs: dict[str, str] | None
) -> ScriptFrame:
    data = DataShape(inputs=inputs or {"orders": ORDERS}, outputs={"totals": outputs})
    names = tuple(sorted(data.inputs))
    return ScriptFrame(
        "totals", "Total per country", names, ("totals",), "p.yaml", "llm:m", "v", data
    )


def test_synthetic_rows_are_deterministic_and_read_back_as_their_types() -> None:
    text = synthetic_csv(ORDERS)
    assert text == synthetic_csv(ORDERS)
    frame = pd.read_csv(io.StringIO(text), parse_dates=["placed"])
    assert len(frame) == ROWS and list(frame.columns) == list(ORDERS)
    kinds = {c: str(t) for c, t in frame.dtypes.items()}
    assert kinds["customer_id"] == "int64" and kinds["amount"] == "float64"
    assert kinds["paid"] == "bool" and kinds["placed"].startswith("datetime64")
    assert set(frame["paid"]) == {True, False}
    assert set(frame["tier"]) <= {"A", "B", "C"}
    assert frame["country"].nunique() < ROWS  # values repeat: group-bys have groups
    # A column keeps its values when others are declared beside it.
    assert (
        synthetic_csv({"x": "int", "amount": "float"}).splitlines()[1].split(",")[1]
        == (text.splitlines()[1].split(",")[2])
    )


def test_a_good_body_runs_and_the_trial_records_what_it_ran_on_and_wrote() -> None:
    trial = run_trial(frame_for(), [], GOOD, QUICK)
    assert trial == Trial(
        True,
        rows=ROWS,
        inputs={"orders": list(ORDERS)},
        outputs={"totals": ["country", "total"]},
    )
    assert trial.to_json() == {
        "ran": True,
        "rows": 8,
        "inputs": {"orders": list(ORDERS)},
        "outputs": {"totals": ["country", "total"]},
    }


def test_extra_output_columns_are_allowed_missing_ones_are_not() -> None:
    keep_all = 'return {"totals": inputs["orders"].assign(total=1.0)}'
    assert run_trial(frame_for(), [], keep_all, QUICK).problem is None
    trial = run_trial(frame_for(), [], 'return {"totals": inputs["orders"]}', QUICK)
    assert trial.problem == (
        "PS521: output 'totals' lacks the declared column(s) total; it has: "
        "customer_id, country, amount, placed, paid, tier"
    )


def test_a_key_error_names_the_exception_the_body_line_and_the_columns() -> None:
    body = 'frame = inputs["orders"]\nname = "amo" + "unt_eur"\nreturn {"totals": frame[name]}'
    problem = run_trial(frame_for(), [], body, QUICK).problem
    assert problem is not None
    assert problem.startswith(
        "PS521: the script failed on 8 synthetic rows per input: KeyError: 'amount_eur' "
        '(line 3 of the body: return {"totals": frame[name]})'
    )
    assert problem.endswith(
        "the inputs' columns are: orders: customer_id, country, amount, placed, paid, tier"
    )


def test_a_frame_that_is_not_a_dataframe_is_explained() -> None:
    problem = run_trial(frame_for(), [], 'return {"totals": [1, 2]}', QUICK).problem
    assert problem is not None and "AttributeError" in problem
    assert "transform() must return a dict of pandas DataFrames" in problem


def test_an_endless_loop_is_stopped_at_the_wall_clock_timeout() -> None:
    body = "while True:\n    pass\nreturn {}"
    problem = run_trial(frame_for(), [], body, TrialLimits(wall_seconds=3, cpu_seconds=60)).problem
    assert problem == (
        "PS521: the trial run took longer than 3 s and was stopped (an endless loop? "
        "transforms on a few rows finish in a second)"
    )


def test_cpu_time_is_bounded() -> None:
    body = "while True:\n    pass\nreturn {}"
    problem = run_trial(frame_for(), [], body, TrialLimits(wall_seconds=60, cpu_seconds=2)).problem
    assert problem == "PS521: the trial run used more than 2 s of CPU and was stopped"


def test_memory_is_bounded() -> None:
    body = 'big = [0] * (200 * 2**20)\nreturn {"totals": inputs["orders"]}'  # 1.6 GB
    limits = TrialLimits(memory_bytes=2**30, wall_seconds=20, cpu_seconds=15)
    problem = run_trial(frame_for(), [], body, limits).problem
    assert problem is not None and "MemoryError" in problem and "line 1 of the body" in problem


def _with_main_prelude(frame: ScriptFrame, prelude: str) -> str:
    """The assembled script with code run first in main(): what no body could write (the
    static policy refuses imports), to test the containment behind it."""
    script = assemble(frame, [], GOOD)
    lines = "".join(f"    {line}\n" for line in prelude.splitlines())
    return script.replace("def main() -> None:\n", "def main() -> None:\n" + lines, 1)


def test_the_network_is_blocked(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        with contextlib.suppress(OSError):  # the timeout: nobody connected
            accepted.append(server.accept())

    frame = frame_for()
    attempts = [
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}))",
        f"import _socket\n_socket.socket().connect(('127.0.0.1', {port}))",
        "import socket\nsocket.getaddrinfo('localhost', 80)",
    ]
    try:
        for prelude in attempts:
            waiter = threading.Thread(target=accept)
            waiter.start()
            trial = run_script(_with_main_prelude(frame, prelude), frame, QUICK, sys.executable)
            waiter.join()
            assert trial.problem is not None, prelude
            assert "network access is blocked in pipespec's trial run" in trial.problem
    finally:
        server.close()
    assert accepted == []


def test_the_child_gets_a_fresh_folder_and_a_minimal_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    prelude = (
        "import os, sys\n"
        "raise SystemExit(' '.join([*sorted(os.environ), os.getcwd(), os.environ['HOME'],"
        " str(os.listdir('.')), str(sys.flags.isolated)]))"
    )
    frame = frame_for()
    problem = run_script(_with_main_prelude(frame, prelude), frame, QUICK, sys.executable).problem
    assert problem is not None
    words = problem.split(": ", 1)[1].split()
    names = [w for w in words if w.isupper() or w.endswith("_THREADS")]
    assert "OPENAI_API_KEY" not in problem and "PROXY" not in problem and "AWS" not in problem
    assert set(names) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ"} | {
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
    }
    cwd, home, listing, isolated = words[-4:]
    assert cwd.endswith("/work") and home.endswith("/home") and "pipespec-trial-" in cwd
    assert listing == "[]" and isolated == "1"


def test_nothing_runs_without_declarations_and_the_trial_says_why() -> None:
    nothing = frame_for(None, orders=None)
    assert run_trial(nothing, [], GOOD) == Trial(
        False, "no input or output of the step declares its columns"
    )
    half = frame_for(TOTALS, orders=ORDERS, rates=None)
    trial = run_trial(half, [], GOOD)
    assert trial.to_json() == {
        "ran": False,
        "reason": "input 'rates' declares no columns: there is no data to run it on",
    }
    assert not trial.environment


def test_without_pandas_here_nothing_runs_and_the_trial_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(trial_run, "missing_modules", lambda python, modules: ("pandas",))
    trial = run_trial(frame_for(), [], GOOD, python="/opt/python")
    assert trial == Trial(False, "pandas cannot be imported by /opt/python", environment=True)


def test_the_probe_finds_what_a_python_cannot_import(tmp_path: Path) -> None:
    python = sys.executable
    assert trial_run.missing_modules(python, ("numpy", "pandas")) == ()
    assert trial_run.missing_modules(python, ("no_such_module_x", "pandas")) == (
        "no_such_module_x",
    )
    nowhere = str(tmp_path / "no-python")
    assert trial_run.missing_modules(nowhere, ("pandas",)) == ("pandas",)
    lines = ["import math", "import numpy as np", "from sklearn.cluster import KMeans"]
    assert trial_run.needed_modules(lines) == ("numpy", "pandas", "sklearn")
