"""The standard drift check (pipespec/fill/catalog/scripts/drift.py), run for real.

The data is real: scikit-learn's bundled diabetes study (442 patients; age, sex, body mass
index, blood pressure, six blood serum measurements and the disease progression), read
with load_diabetes(scaled=False), its `sex` written as the categories it codes. The script
runs as a program in its own process, as a container runs it; the expected statistics are
computed here independently (numpy for the bins, the ECDFs and the divergences).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pipespec.fill.catalog as catalog_pkg

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
pytest.importorskip("scipy")
datasets = pytest.importorskip("sklearn.datasets")

SCRIPT = Path(catalog_pkg.__file__).parent / "scripts" / "drift.py"
# The thresholds practitioners use: PSI 0.2, KS statistic 0.1, Jensen-Shannon distance 0.1,
# and a 5% significance level for the tests' p-values.
USUAL = {"psi": 0.2, "ks_statistic": 0.1, "jensen_shannon": 0.1}
SIGNIFICANCE = 0.05


def diabetes() -> Any:
    frame = datasets.load_diabetes(scaled=False, as_frame=True).frame
    frame["sex"] = frame["sex"].map({1.0: "female", 2.0: "male"})
    return frame


def drift(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(SCRIPT), *map(str, args)]
    full_env = None if env is None else {**os.environ, **env}
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=120, check=False, env=full_env
    )


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("drift")
    base = diabetes()
    base.to_csv(root / "baseline.csv", index=False)
    resample = base.sample(len(base), replace=True, random_state=0).reset_index(drop=True)
    resample.to_csv(root / "resample.csv", index=False)
    shifted = base.copy()
    # A mean shift of one numeric column (one standard deviation of body mass index) and a
    # changed category mix (60% of the rows, chosen at random, written as female).
    shifted["bmi"] = shifted["bmi"] + shifted["bmi"].std()
    rng = np.random.default_rng(7)
    shifted.loc[rng.random(len(shifted)) < 0.6, "sex"] = "female"
    shifted.to_csv(root / "shifted.csv", index=False)
    return {"root": root, "base": base, "resample": resample, "shifted": shifted}


def run_check(data: dict[str, Any], current: str, name: str, *extra: str) -> dict[str, Any]:
    out = data["root"] / name
    proc = drift(
        "--baseline", data["root"] / "baseline.csv", "--current", data["root"] / current,
        "--report", out / "report", "--metrics", out / "metrics.json", *extra,
    )  # fmt: skip
    assert proc.returncode in (0, 3), proc.stderr
    return {
        "code": proc.returncode,
        "stderr": proc.stderr,
        "report": load(out / "report" / "drift.json"),
        "markdown": (out / "report" / "drift.md").read_text(encoding="utf-8"),
        "metrics": load(out / "metrics.json"),
    }


# --- expected values, computed independently ------------------------------------------------


def quantile_counts(base: Any, cur: Any, bins: int = 10) -> tuple[Any, Any]:
    cuts = np.unique(np.quantile(base, np.linspace(0, 1, bins + 1))[1:-1])
    size = len(cuts) + 1
    # np.digitize(right=False): bin i holds cuts[i-1] <= x < cuts[i].
    return (
        np.bincount(np.digitize(base, cuts), minlength=size),
        np.bincount(np.digitize(cur, cuts), minlength=size),
    )


def psi(b_counts: Any, c_counts: Any, eps: float = 1e-4) -> float:
    p, q = b_counts / b_counts.sum(), c_counts / c_counts.sum()
    p, q = np.where(p == 0, eps, p), np.where(q == 0, eps, q)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(b_counts: Any, c_counts: Any) -> float:
    p, q = b_counts / b_counts.sum(), c_counts / c_counts.sum()
    m = (p + q) / 2

    def kl(a: Any) -> float:
        keep = a > 0
        return float(np.sum(a[keep] * np.log2(a[keep] / m[keep])))

    return math.sqrt((kl(p) + kl(q)) / 2)


def ks_statistic(base: Any, cur: Any) -> float:
    points = np.concatenate([base, cur])
    f_base = np.searchsorted(np.sort(base), points, side="right") / len(base)
    f_cur = np.searchsorted(np.sort(cur), points, side="right") / len(cur)
    return float(np.max(np.abs(f_base - f_cur)))


# --- the verdicts -------------------------------------------------------------------------


def test_no_drift_on_a_resample_of_the_baseline(data: dict[str, Any]) -> None:
    result = run_check(data, "resample.csv", "resample")
    report = result["report"]
    assert result["code"] == 0
    assert report["drifted"] is False and report["features_drifted"] == 0
    assert result["metrics"]["drifted"] == 0 and result["metrics"]["features_drifted"] == 0
    assert set(report["features"]) == set(data["base"].columns)
    for name, stats in report["features"].items():
        for key, limit in USUAL.items():
            if stats[key] is not None:
                assert stats[key] < limit, (name, key, stats[key])
        assert stats["chi_squared_pvalue"] > SIGNIFICANCE, name
        if stats["type"] == "numeric":
            assert stats["ks_pvalue"] > SIGNIFICANCE, name
    assert report["features"]["sex"]["type"] == "categorical"
    assert report["features"]["bmi"]["type"] == "numeric"


def test_drift_found_on_a_shifted_copy_with_the_expected_statistics(
    data: dict[str, Any],
) -> None:
    result = run_check(data, "shifted.csv", "shifted")
    report, metrics = result["report"], result["metrics"]
    drifted = {name for name, s in report["features"].items() if s["drifted"]}
    assert drifted == {"bmi", "sex"}
    assert report["drifted"] is True and report["features_drifted"] == 2
    assert metrics["drifted"] == 1 and metrics["features_drifted"] == 2

    base, cur = data["base"]["bmi"].to_numpy(), data["shifted"]["bmi"].to_numpy()
    b_counts, c_counts = quantile_counts(base, cur)
    bmi = report["features"]["bmi"]
    assert [b["baseline"] for b in bmi["bins"]] == b_counts.tolist()
    assert [b["current"] for b in bmi["bins"]] == c_counts.tolist()
    assert bmi["psi"] == pytest.approx(psi(b_counts, c_counts), abs=1e-9)
    assert bmi["jensen_shannon"] == pytest.approx(js_distance(b_counts, c_counts), abs=1e-9)
    assert bmi["ks_statistic"] == pytest.approx(ks_statistic(base, cur), abs=1e-9)
    assert bmi["ks_pvalue"] < 1e-6
    assert metrics["psi_bmi"] == bmi["psi"] and metrics["drift"] == bmi["psi"]

    sex_base = data["base"]["sex"].value_counts()
    sex_cur = data["shifted"]["sex"].value_counts()
    order = [b["bin"] for b in report["features"]["sex"]["bins"]]
    assert sorted(order) == ["female", "male"]
    expected = psi(sex_base[order].to_numpy(), sex_cur[order].to_numpy())
    assert report["features"]["sex"]["psi"] == pytest.approx(expected, abs=1e-9)
    assert report["features"]["sex"]["chi_squared_pvalue"] < SIGNIFICANCE
    # Untouched columns are the same data: nothing moved.
    assert report["features"]["age"]["psi"] == 0.0
    assert report["features"]["age"]["ks_statistic"] == 0.0


def test_the_metric_and_threshold_choose_the_verdict(data: dict[str, Any]) -> None:
    ks = run_check(data, "shifted.csv", "ks", "--metric", "ks")["report"]
    assert ks["features"]["bmi"]["judged_by"] == "ks" and ks["features"]["bmi"]["drifted"]
    # KS has no meaning for categories: chi-squared at 5% judges them.
    assert ks["features"]["sex"]["judged_by"] == "chi_squared"
    assert ks["features"]["sex"]["threshold"] == SIGNIFICANCE and ks["features"]["sex"]["drifted"]
    chi = run_check(data, "shifted.csv", "chi", "--metric", "chi_squared")
    assert chi["report"]["threshold"] == 0.05
    assert chi["metrics"]["drift"] == min(
        s["chi_squared_pvalue"] for s in chi["report"]["features"].values()
    )
    lax = run_check(data, "shifted.csv", "lax", "--metric", "jensen_shannon", "--threshold", "0.99")
    assert lax["metrics"]["drifted"] == 0 and "jensen_shannon_bmi" in lax["metrics"]


def test_report_files(data: dict[str, Any]) -> None:
    result = run_check(data, "shifted.csv", "files")
    report = result["report"]
    assert report["metric"] == "psi" and report["threshold"] == 0.2
    assert report["rows"] == {
        "baseline": 442,
        "current": 442,
        "baseline_used": 442,
        "current_used": 442,
    }
    assert report["current_source"] == "dataset"
    assert report["only_in_baseline"] == [] and report["only_in_current"] == []
    bmi = report["features"]["bmi"]
    keys = {"psi", "ks_statistic", "ks_pvalue", "jensen_shannon", "chi_squared_statistic"}
    keys |= {"chi_squared_pvalue", "bins", "missing", "judged_by", "value", "drifted"}
    assert keys <= set(bmi)
    assert sum(b["baseline"] for b in bmi["bins"]) == 442
    lines = result["markdown"].splitlines()
    assert lines[0] == "# Drift report"
    assert lines[2].startswith("**drift**: 2 of 11 features over the threshold (psi 0.2)")
    rows = [line for line in lines if line.startswith("| ")]
    assert rows[0].startswith("| feature | type | psi |")
    assert len(rows) == 1 + 11
    bmi_row = next(r for r in rows if r.startswith("| bmi |"))
    assert bmi_row.endswith("| psi | yes |") and f"{bmi['psi']:.4g}" in bmi_row
    assert "| sex | categorical |" in result["markdown"] and "n/a" in result["markdown"]
    metric_keys = {"drift", "drifted", "features_drifted"} | {
        f"psi_{c}" for c in report["features"]
    }
    assert set(result["metrics"]) == metric_keys
    assert "[pipespec] drift: 2 of 11 features drifted" in result["stderr"]


def test_fail_on_drift_exits_3_after_writing_the_outputs(data: dict[str, Any]) -> None:
    out = data["root"] / "fail"
    args = [
        "--baseline",
        data["root"] / "baseline.csv",
        "--metrics",
        out / "m.json",
        "--fail-on-drift",
    ]
    shifted = drift(*args, "--current", data["root"] / "shifted.csv", "--report", out / "r")
    assert shifted.returncode == 3, shifted.stderr
    assert load(out / "m.json")["drifted"] == 1 and (out / "r" / "drift.md").is_file()
    calm = drift(*args, "--current", data["root"] / "resample.csv")
    assert calm.returncode == 0, calm.stderr
    assert load(out / "m.json")["drifted"] == 0


def test_scheduled_monitors_fail_on_drift_by_environment(data: dict[str, Any]) -> None:
    """A monitor's own scheduled pipeline sets PIPESPEC_FAIL_ON_DRIFT=1 (nothing reads its
    metrics there; a failed run is what the orchestrator alerts on)."""
    out = data["root"] / "env"
    args = ["--baseline", data["root"] / "baseline.csv", "--metrics", out / "m.json"]
    on = {"PIPESPEC_FAIL_ON_DRIFT": "1"}
    shifted = drift(*args, "--current", data["root"] / "shifted.csv", env=on)
    assert shifted.returncode == 3, shifted.stderr
    assert load(out / "m.json")["drifted"] == 1
    calm = drift(*args, "--current", data["root"] / "resample.csv", env=on)
    assert calm.returncode == 0, calm.stderr
    other = drift(
        *args, "--current", data["root"] / "shifted.csv", env={"PIPESPEC_FAIL_ON_DRIFT": "0"}
    )
    assert other.returncode == 0, other.stderr


# --- inputs -----------------------------------------------------------------------------


def write_log(folder: Path, frame: Any, features: list[str]) -> None:
    """The frame as logged requests over two files: objects, lists and bare records."""
    folder.mkdir(parents=True)
    records = frame[features].to_dict(orient="records")
    half = len(records) // 2
    with (folder / "2024-01-01.jsonl").open("w", encoding="utf-8") as handle:
        for i in range(0, half, 4):  # requests of up to four objects by column name
            rows = records[i : min(i + 4, half)]
            handle.write(json.dumps({"instances": rows, "predictions": [0] * len(rows)}) + "\n")
        handle.write("\n")  # blank lines are skipped
    with (folder / "2024-01-02.jsonl").open("w", encoding="utf-8") as handle:
        for i, row in enumerate(records[half:]):
            if i % 2:  # a list of values in feature order
                handle.write(json.dumps({"instances": [[row[c] for c in features]]}) + "\n")
            else:  # the record is the row
                handle.write(json.dumps(row) + "\n")
    (folder / "_SUCCESS").write_text("", encoding="utf-8")


def test_logged_predictions_give_the_statistics_of_the_same_rows(data: dict[str, Any]) -> None:
    features = [c for c in data["base"].columns if c != "target"]
    logs = data["root"] / "logs"
    write_log(logs, data["shifted"], features)
    out = data["root"] / "logged"
    proc = drift(
        "--baseline", data["root"] / "baseline.csv", "--current-log", logs,
        "--exclude", "target", "--report", out, "--metrics", out / "metrics.json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    logged = load(out / "drift.json")
    assert logged["current_source"] == "logged predictions"
    assert logged["rows"]["current"] == 442
    assert "target" not in logged["features"] and logged["only_in_baseline"] == []
    from_csv = run_check(data, "shifted.csv", "for-log", "--exclude", "target")["report"]
    for name in features:
        for key in ("psi", "ks_statistic", "jensen_shannon", "chi_squared_pvalue"):
            assert logged["features"][name][key] == pytest.approx(
                from_csv["features"][name][key], abs=1e-12
            ), (name, key)
    assert load(out / "metrics.json")["drifted"] == 1


def test_a_window_keeps_the_newest_logged_rows(data: dict[str, Any]) -> None:
    features = [c for c in data["base"].columns if c != "target"]
    logs = data["root"] / "window-logs"
    write_log(logs, data["shifted"], features)
    out = data["root"] / "window"
    proc = drift(
        "--baseline", data["root"] / "baseline.csv", "--current-log", logs, "--window", "100",
        "--exclude", "target", "--report", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = load(out / "drift.json")
    assert report["rows"]["current"] == 100
    newest = data["shifted"][features].iloc[-100:]
    ages = report["features"]["age"]["bins"]
    assert sum(b["current"] for b in ages) == 100
    base_age = data["base"]["age"].to_numpy()
    _, expected = quantile_counts(base_age, newest["age"].to_numpy())
    assert [b["current"] for b in ages] == expected.tolist()


def test_a_logged_list_of_the_wrong_length_is_explained(data: dict[str, Any]) -> None:
    log = data["root"] / "bad.jsonl"
    log.write_text(json.dumps({"instances": [[1, 2, 3]]}) + "\n", encoding="utf-8")
    proc = drift("--baseline", data["root"] / "baseline.csv", "--current-log", log)
    assert proc.returncode == 2
    assert "a row has 3 values, but the baseline has 11 feature columns" in proc.stderr
    assert "--exclude" in proc.stderr


def test_columns_on_one_side_are_reported_not_fatal(data: dict[str, Any]) -> None:
    current = data["resample"].drop(columns=["s6"]).assign(region="north")
    current.to_csv(data["root"] / "one-side.csv", index=False)
    result = run_check(data, "one-side.csv", "one-side")
    report = result["report"]
    assert result["code"] == 0
    assert report["only_in_baseline"] == ["s6"] and report["only_in_current"] == ["region"]
    assert "s6" not in report["features"] and "region" not in report["features"]
    assert "Only in the baseline data (not judged): s6" in result["markdown"]
    assert "Only in the current data (not judged): region" in result["markdown"]


def test_empty_current_data_is_a_clear_error(data: dict[str, Any]) -> None:
    header_only = data["root"] / "empty.csv"
    header_only.write_text(",".join(data["base"].columns) + "\n", encoding="utf-8")
    out = data["root"] / "empty-out"
    proc = drift(
        "--baseline", data["root"] / "baseline.csv", "--current", header_only,
        "--report", out, "--metrics", out / "m.json",
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: current data: {header_only} has no data rows"
    assert not out.exists()  # no verdict is written for nothing
    empty_log = data["root"] / "empty-log"
    empty_log.mkdir()
    (empty_log / "a.jsonl").write_text("\n", encoding="utf-8")
    proc = drift("--baseline", data["root"] / "baseline.csv", "--current-log", empty_log)
    assert proc.returncode == 2 and "has no logged rows" in proc.stderr


def test_usage_errors(data: dict[str, Any]) -> None:
    base = data["root"] / "baseline.csv"
    cases = [
        ((), "give the current data"),
        (("--current", base, "--window", "5"), "--window"),
        (("--current", base, "--threshold", "-1"), "--threshold must be a positive number"),
        (("--current", base, "--bins", "1"), "--bins"),
        (("--current", data["root"] / "nope.csv"), "does not exist"),
    ]
    for extra, said in cases:
        proc = drift("--baseline", base, *extra)
        assert proc.returncode == 2 and said in proc.stderr, (extra, proc.stderr)
    proc = drift("--baseline", base, "--current", base, "--current-log", base)
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr


def test_large_inputs_are_sampled_to_the_row_cap_the_same_way_each_time(
    data: dict[str, Any],
) -> None:
    first = run_check(data, "shifted.csv", "capped-1", "--max-rows", "150")["report"]
    second = run_check(data, "shifted.csv", "capped-2", "--max-rows", "150")["report"]
    assert first["rows"] == {
        "baseline": 442,
        "current": 442,
        "baseline_used": 150,
        "current_used": 150,
    }
    assert first == second
    assert sum(b["baseline"] for b in first["features"]["bmi"]["bins"]) == 150
