"""pipespec's inference handler (scripts/serve.py), run for real: models trained by
train.py on tiny data sets, then the handler's model_fn/input_fn/predict_fn/output_fn
called as a SageMaker framework container calls them, in a subprocess; its answers must
equal what batch_predict.py writes for the same rows."""

from __future__ import annotations

import ast
import csv
import io
import json
import random
import subprocess
import sys
from typing import Any

import pytest

from pipespec.fill.catalog import load_catalog
from tests.fill.test_catalog_scripts import KINDS, SCRIPTS, clean_env, rows, write_csv

for _module in ("pandas", "sklearn", "joblib", "xgboost", "lightgbm"):
    pytest.importorskip(_module)

COMBOS = [
    ("scikit-learn", "binary_classification"),
    ("xgboost", "multiclass_classification"),
    ("lightgbm", "regression"),
    ("scikit-learn", "text_classification"),
]

# In the subprocess: train, batch_predict, then the handler on the same rows, as requests.
DRIVER = """
import json, runpy, sys
spec = json.load(sys.stdin)
for job in spec["jobs"]:
    sys.argv = job
    try:
        runpy.run_path(job[0], run_name="__main__")
    except SystemExit as exc:
        assert not exc.code, (job, exc.code)
serve = runpy.run_path(spec["serve"])
model = serve["model_fn"](spec["model"])
answers = []
for body, content_type, accept in spec["requests"]:
    data = serve["input_fn"](body.encode("utf-8"), content_type)
    answers.append(serve["output_fn"](serve["predict_fn"](data, model), accept))
with open(spec["answers"], "w") as handle:
    json.dump(answers, handle)
"""


def _csv(header: list[str] | None, body: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue()


def _requests(header: list[str], body: list[list[Any]], label: str) -> list[list[Any]]:
    """Whole file; each row alone without a header (features only, in training order); a
    header (columns reordered, label kept) with one row; a header alone; JSON by name and
    by position."""
    features = [c for c in header if c != label]
    at = [header.index(c) for c in features]
    plain = [[row[i] for i in at] for row in body]
    shuffled = list(reversed(header))
    flipped = [list(reversed(row)) for row in body]
    requests: list[list[Any]] = [[_csv(header, body), "text/csv", "text/csv"]]
    requests += [[_csv(None, [row]), "text/csv; charset=utf-8", None] for row in plain]
    requests += [[_csv(shuffled, body[:1] and flipped[:1]), "text/csv", "*/*"]]
    requests += [[_csv(header, []), "text/csv", "text/csv"]]
    nulls = [[None if v == "" else v for v in row] for row in plain]  # CSV's "" is missing
    records = [dict(zip(features, row, strict=True)) for row in nulls]
    requests += [[json.dumps({"instances": records}), "application/json", None]]
    requests += [[json.dumps(nulls), "application/json", "text/csv"]]
    return requests


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    root = tmp_path_factory.mktemp("serve")
    rng = random.Random(20261202)
    found: dict[tuple[str, str], Any] = {}
    for fw, task in COMBOS:
        out = root / f"{fw}-{task}"
        kind = KINDS[task]
        train = write_csv(out / "train.csv", *rows(kind, 60, rng))
        header, body = rows(kind, 12, rng)
        score = write_csv(out / "score.csv", header, body)
        hyper = json.dumps(load_catalog().hyperparameters(fw, task), sort_keys=True)
        model = str(out / "model")
        jobs = [
            [str(SCRIPTS / "train.py"), "--framework", fw, "--task", task, "--train", str(train)],
            [str(SCRIPTS / "batch_predict.py"), "--model", model, "--data", str(score)],
        ]
        jobs[0] += ["--model", model, "--hyperparameters", hyper]
        jobs[1] += ["--predictions", str(out / "predictions.csv")]
        spec = {
            "jobs": jobs,
            "serve": str(SCRIPTS / "serve.py"),
            "model": model,
            "requests": _requests(header, body, "label"),
            "answers": str(out / "answers.json"),
        }
        proc = subprocess.run(
            [sys.executable, "-c", DRIVER],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        batch = (out / "predictions.csv").read_text(encoding="utf-8")
        found[fw, task] = (batch, json.loads((out / "answers.json").read_text()), len(body))
    return found


@pytest.mark.parametrize(("fw", "task"), COMBOS)
def test_csv_answers_equal_batch_predict(served: Any, fw: str, task: str) -> None:
    batch, answers, n = served[fw, task]
    head, *lines = batch.splitlines(keepends=True)
    assert answers[0] == [batch, "text/csv"]  # the whole file, header and all
    assert [a[0] for a in answers[1 : 1 + n]] == lines  # row by row, no header
    assert all(a[1] == "text/csv" for a in answers[1 : 1 + n])
    assert answers[1 + n] == [head + lines[0], "text/csv"]  # columns by name, label ignored
    assert answers[2 + n] == [head, "text/csv"]  # a header alone: the output's header


@pytest.mark.parametrize(("fw", "task"), COMBOS)
def test_json_answers_equal_batch_predict(served: Any, fw: str, task: str) -> None:
    batch, answers, n = served[fw, task]
    expected = list(csv.DictReader(io.StringIO(batch)))
    body, kind = answers[3 + n]
    assert kind == "application/json"
    got = json.loads(body)["predictions"]
    assert [{k: str(v) for k, v in row.items()} for row in got] == expected
    assert answers[4 + n] == [batch.split("\n", 1)[1], "text/csv"]  # JSON in, CSV out


def test_handler_defines_what_the_containers_call() -> None:
    tree = ast.parse((SCRIPTS / "serve.py").read_text(encoding="utf-8"))
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {"model_fn", "input_fn", "predict_fn", "output_fn"} <= defined
