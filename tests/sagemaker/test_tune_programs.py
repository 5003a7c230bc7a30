"""pipespec's fixed tune programs for SageMaker, run for real in a subprocess on a temporary
folder standing in for the job's: the trial runner (hyperparameters.json in, the script's
argv and the metric lines out), the best-job copy and the emulation's pick."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from pipespec.backends.sagemaker.tune_programs import (
    BEST_PROGRAM,
    PLAN_FILE,
    SELECT_PROGRAM,
    TRIAL_RUNNER,
    TRIAL_RUNNER_FILE,
)
from pipespec.backends.sagemaker.tuning import metric_definition

# A stand-in for the standard train script: records its argv and env, writes metrics.
FAKE_SCRIPT = """\
import json, os, sys
argv = sys.argv[1:]
out = argv[argv.index("--metrics") + 1]
with open(os.path.join(os.path.dirname(out), "argv.json"), "w") as f:
    json.dump({"argv": argv, "mode": os.environ.get("MODE")}, f)
params = json.loads(argv[argv.index("--hyperparameters") + 1])
with open(out, "w") as f:
    json.dump({"rmse": params["learning_rate"] * 10, "note": "text"}, f)
"""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def _trial(tmp_path: Path, given: dict[str, str], **changes: Any) -> tuple[Any, Path]:
    code, data = tmp_path / "code", tmp_path / "output"
    code.mkdir()
    (code / TRIAL_RUNNER_FILE).write_text(TRIAL_RUNNER)
    (code / "train.py").write_text(FAKE_SCRIPT)
    config = tmp_path / "hyperparameters.json"
    config.write_text(json.dumps(given))
    (tmp_path / "best.json").write_text(json.dumps({"n_estimators": 300}))
    plan: dict[str, Any] = {
        "argv": [
            [{"text": "--train"}],
            [{"text": "/data/train"}],
            [{"text": "--rate="}, {"param": "rate"}],
            [{"text": "--best"}, {"file": str(tmp_path / "best.json")}],
            [{"text": "--metrics"}],
            [{"text": str(data / "metrics.json")}],
            [{"text": "--hyperparameters"}],
            [{"text": '{"learning_rate": 0.5, "n_estimators": 100}'}],
        ],
        "config": str(config),
        "env": {"MODE": [{"text": "trial-"}, {"hyperparameter": "booster"}]},
        "hyperparameters_at": 7,
        "metrics": str(data / "metrics.json"),
        "script": "train.py",
        "unpack": [],
        "values": str(data / "best_hyperparameters.json"),
        "dimensions": {
            "learning_rate": {"type": "float"},
            "num_leaves": {"type": "int"},
            "booster": {"type": "categorical", "choices": {"gbdt": "gbdt", "3": 3}},
        },
        "objective": "rmse",
        **changes,
    }
    (code / PLAN_FILE).write_text(json.dumps(plan))
    # As the training toolkit runs the program: hyperparameters as arguments, ignored.
    return _run([str(code / TRIAL_RUNNER_FILE), "--learning_rate", "0.2"], tmp_path), data


def test_the_trial_runner_passes_the_trials_values_and_reports_the_objective(
    tmp_path: Path,
) -> None:
    given = {"learning_rate": "0.2", "num_leaves": "31.0", "booster": "3"}
    given["pipespec_param_rate"] = "0.75"
    done, data = _trial(tmp_path, given)
    assert done.returncode == 0, done.stderr
    seen = json.loads((data / "argv.json").read_text())
    argv = seen["argv"]
    assert argv[:6] == ["--train", "/data/train", "--rate=0.75", '--best{"n_estimators":300}',
                        "--metrics", str(data / "metrics.json")]  # fmt: skip
    # The trial's values, typed by the search space, merged over the fixed ones.
    merged = json.loads(argv[7])
    assert merged == {"booster": 3, "learning_rate": 0.2, "n_estimators": 100, "num_leaves": 31}
    assert seen["mode"] == "trial-3"
    values = json.loads((data / "best_hyperparameters.json").read_text())
    assert values == {"booster": 3, "learning_rate": 0.2, "num_leaves": 31}
    lines = [line for line in done.stdout.splitlines() if line.startswith("pipespec-metric")]
    assert lines == ["pipespec-metric rmse=2.0"]  # only numbers
    # What SageMaker reads the objective with finds it in the job's log.
    found = re.search(metric_definition("rmse")["Regex"], done.stdout)
    assert found is not None and float(found.group(1)) == 2.0


def test_the_trial_runner_appends_the_values_without_a_hyperparameters_argument(
    tmp_path: Path,
) -> None:
    given = {"learning_rate": "0.1", "num_leaves": "8", "booster": "gbdt"}
    given["pipespec_param_rate"] = "1"
    plan_argv = [
        [{"text": "--metrics"}],
        [{"text": str(tmp_path / "output" / "metrics.json")}],
    ]
    done, data = _trial(tmp_path, given, argv=plan_argv, hyperparameters_at=None)
    assert done.returncode == 0, done.stderr
    argv = json.loads((data / "argv.json").read_text())["argv"]
    assert argv[-2] == "--hyperparameters"
    assert json.loads(argv[-1]) == {"booster": "gbdt", "learning_rate": 0.1, "num_leaves": 8}


def test_the_trial_runner_fails_without_the_objective(tmp_path: Path) -> None:
    given = {"learning_rate": "0.1", "num_leaves": "8", "booster": "gbdt"}
    given["pipespec_param_rate"] = "1"
    done, _ = _trial(tmp_path, given, objective="auc")
    assert done.returncode != 0
    assert "no number 'auc'" in done.stderr


def test_the_trial_runner_refuses_a_value_outside_the_choices(tmp_path: Path) -> None:
    given = {"learning_rate": "0.1", "num_leaves": "8", "booster": "dart"}
    given["pipespec_param_rate"] = "1"
    done, data = _trial(tmp_path, given)
    assert done.returncode != 0 and "'dart' is no choice of booster" in done.stderr
    assert not (data / "argv.json").exists()


def _archive(path: Path, files: dict[str, str]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_the_best_program_copies_the_best_jobs_files(tmp_path: Path) -> None:
    (tmp_path / "best").mkdir()
    files = {"./metrics.json": '{"rmse": 1.5}', "best_hyperparameters.json": '{"lr": 0.1}'}
    _archive(tmp_path / "best" / "output.tar.gz", files)
    (tmp_path / "program.py").write_text(BEST_PROGRAM)
    out = tmp_path / "out"
    args = ["program.py", str(tmp_path / "best")]
    args += ["metrics.json", str(out / "metrics" / "metrics.json")]
    args += ["best_hyperparameters.json", str(out / "bh" / "best_hyperparameters.json")]
    done = _run(args, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "metrics" / "metrics.json").read_text()) == {"rmse": 1.5}
    assert json.loads((out / "bh" / "best_hyperparameters.json").read_text()) == {"lr": 0.1}
    missing = _run([*args[:2], "other.json", str(out / "x.json")], tmp_path)
    assert missing.returncode != 0 and "no file other.json" in missing.stderr


def _select(tmp_path: Path, goal: str, scores: list[Any]) -> tuple[Any, Path]:
    root, out = tmp_path / "trials", tmp_path / "out"
    for index, score in enumerate(scores):
        (root / str(index) / "metrics").mkdir(parents=True)
        (root / str(index) / "model").mkdir()
        (root / str(index) / "model" / "weights.txt").write_text(f"trial {index}")
        metrics = {} if score is None else {"val_auc": score}
        (root / str(index) / "metrics" / "metrics.json").write_text(json.dumps(metrics))
    plan = {
        "copy": {"metrics": str(out / "metrics"), "model": str(out / "model")},
        "goal": goal,
        "metric": "val_auc",
        "metrics": "metrics",
        "root": str(root),
        "trials": [{"lr": 0.1 * (i + 1)} for i in range(len(scores))],
        "values": str(out / "best_hyperparameters" / "best_hyperparameters.json"),
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    (tmp_path / "select.py").write_text(SELECT_PROGRAM)
    return _run(["select.py", str(tmp_path / "plan.json")], tmp_path), out


def test_the_select_program_passes_on_the_best_trial(tmp_path: Path) -> None:
    done, out = _select(tmp_path, "maximize", [0.7, None, 0.9, 0.8])
    assert done.returncode == 0, done.stderr
    assert (out / "model" / "weights.txt").read_text() == "trial 2"
    assert json.loads((out / "metrics" / "metrics.json").read_text()) == {"val_auc": 0.9}
    values = json.loads((out / "best_hyperparameters" / "best_hyperparameters.json").read_text())
    assert values == {"lr": 0.30000000000000004}


def test_the_select_program_minimises_and_fails_without_a_score(tmp_path: Path) -> None:
    done, out = _select(tmp_path / "a", "minimize", [0.7, 0.2, 0.9])
    assert done.returncode == 0, done.stderr
    assert (out / "model" / "weights.txt").read_text() == "trial 1"
    failed, _ = _select(tmp_path / "b", "maximize", [None, None])
    assert failed.returncode != 0 and "no trial reported the metric" in failed.stderr


def test_the_metric_regex_reads_only_the_objectives_line() -> None:
    regex = metric_definition("val.auc(x)")["Regex"]
    log = "pipespec-metric valXauc(x)=0.5\npipespec-metric val.auc(x)=1e-05\n"
    found = re.search(regex, log)
    assert found is not None and float(found.group(1)) == 1e-05
    assert re.search(regex, "pipespec-metric val.auc(x)=nan") is None
