"""The built-in catalog: its shape, its facts' form, and the loader's API."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import math
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import pipespec.fill.catalog as catalog_pkg
from pipespec.fill.catalog import TARGETS, CatalogError, load_catalog
from pipespec.spec import models

CATALOG_DIR = Path(catalog_pkg.__file__).parent
SCRIPTS_DIR = CATALOG_DIR / "scripts"
RAW: dict[str, Any] = json.loads((CATALOG_DIR / "catalog.json").read_text(encoding="utf-8"))
FRAMEWORKS = sorted(RAW["frameworks"])
STANDARD = ["lightgbm", "scikit-learn", "xgboost"]
REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "ap-southeast-1",
)
# registry/path[:tag]: lowercase path components, an optional tag (docker reference grammar).
IMAGE_RE = re.compile(
    r"^(?P<registry>[a-z0-9-]+(?:\.[a-z0-9-]+)+)"
    r"(?P<path>(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?$"
)
ECR_RE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com"
    r"/(?P<repo>[a-z0-9-]+):(?P<tag>[A-Za-z0-9_.-]+)$"
)


def load_script(name: str) -> ModuleType:
    """A standard script imported as a module (its top level imports only the stdlib)."""
    spec = importlib.util.spec_from_file_location(f"_pipespec_std_{name}", SCRIPTS_DIR / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the file ---------------------------------------------------------------------------


def test_version_and_bytes_are_deterministic() -> None:
    text = (CATALOG_DIR / "catalog.json").read_text(encoding="utf-8")
    assert RAW["version"] == "2026.11.0" == load_catalog().version
    assert text == json.dumps(RAW, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_names_match_the_spec_language() -> None:
    cat = load_catalog()
    assert cat.frameworks() == sorted(models.FRAMEWORKS)
    assert cat.tasks() == sorted(models.TASKS)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_framework_has_every_key(framework: str) -> None:
    entry = RAW["frameworks"][framework]
    assert set(entry) == {
        "hyperparameter_aliases",
        "hyperparameters",
        "images",
        "search_space",
        "standard_scripts",
        "tasks",
    }
    tasks = entry["tasks"]
    assert tasks and set(tasks) <= set(models.TASKS)
    assert sorted(entry["hyperparameters"]) == sorted(entry["search_space"]) == sorted(tasks)
    assert isinstance(entry["standard_scripts"], bool)
    assert set(entry["images"]) == set(TARGETS)
    for target, images in entry["images"].items():
        assert isinstance(images["notes"], str) and len(images["notes"]) > 40, target
        assert all(isinstance(r, str) and "==" in r for r in images["requirements"]), target
        assert images.get("train") is not None, f"{framework} has no {target} training image"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_hyperparameters_and_search_spaces_are_valid_spec_values(framework: str) -> None:
    entry = RAW["frameworks"][framework]
    for task in entry["tasks"]:
        hyper = entry["hyperparameters"][task]
        space = entry["search_space"][task]
        assert hyper and space
        # What fill writes must validate as the user could have written it.
        step = {"kind": "tune", "framework": framework, "task": task}
        models.TuneStep.model_validate(
            {**step, "hyperparameters": hyper, "search_space": space}, strict=True
        )
        for name, dim in space.items():
            if dim["type"] == "categorical":
                assert set(dim) == {"type", "values"}, name
            else:
                assert set(dim) == {"type", "min", "max", "scale"}, name
                assert dim["scale"] in ("linear", "log")
                assert dim["min"] < dim["max"]
                if dim["type"] == "int":
                    assert isinstance(dim["min"], int) and isinstance(dim["max"], int)


def test_xgboost_aliases_are_the_train_scripts() -> None:
    train = load_script("train.py")
    cat = load_catalog()
    assert cat.hyperparameter_aliases("xgboost") == train.XGBOOST_ALIASES
    for fw in ("scikit-learn", "lightgbm"):
        assert cat.hyperparameter_aliases(fw) == {}


@pytest.mark.parametrize("task", sorted(models.TASKS))
def test_tasks_metrics_are_what_evaluate_writes(task: str) -> None:
    cat = load_catalog()
    evaluate = load_script("evaluate.py")
    assert cat.metrics(task) == sorted(evaluate.METRICS[task])
    objective = cat.objective(task)
    assert objective["metric"] in cat.metrics(task)
    models.Objective.model_validate(objective, strict=True)
    for name in cat.metrics(task):
        assert re.fullmatch(models.IDENT_RE, name), name  # usable in `when:` conditions
    assert set(RAW["tasks"][task]) == {"metrics", "objective"}


def test_standard_scripts_flag_matches_the_scripts() -> None:
    cat = load_catalog()
    train = load_script("train.py")
    assert [fw for fw in cat.frameworks() if cat.has_standard_scripts(fw)] == STANDARD
    assert sorted(train.FRAMEWORKS) == STANDARD
    assert sorted(train.WITHOUT_STANDARD_SCRIPTS) == sorted(set(FRAMEWORKS) - set(STANDARD))
    for fw in STANDARD:
        tasks = set(cat.tasks(fw)) - {"text_classification"}
        assert tasks == {"binary_classification", "multiclass_classification", "regression"}
    assert "text_classification" in cat.tasks("scikit-learn")
    assert sorted(train.TEXT_FRAMEWORKS) == ["scikit-learn"]


# --- images -----------------------------------------------------------------------------


def image_refs() -> list[tuple[str, str, str, str]]:
    refs = []
    for fw, entry in RAW["frameworks"].items():
        for target in ("kubernetes", "vertex"):
            for key, value in entry["images"][target].items():
                if key not in ("notes", "requirements") and value is not None:
                    refs.append((fw, target, key, value))
    return refs


@pytest.mark.parametrize(("framework", "target", "role", "ref"), image_refs())
def test_images_look_like_real_references(framework: str, target: str, role: str, ref: str) -> None:
    assert role in ("train", "predict", "train_gpu", "predict_gpu")
    match = IMAGE_RE.match(ref)
    assert match, ref
    if target == "kubernetes":
        assert match["tag"] and match["tag"] != "latest" and re.search(r"\d", match["tag"]), ref
        assert match["registry"] in ("public.ecr.aws", "ghcr.io", "quay.io", "docker.io"), ref
    else:
        assert match["registry"].endswith("-docker.pkg.dev"), ref
        assert re.search(r"\d-\d", match["path"]), f"{ref}: no version in the image name"
        assert match["tag"] in (None, "latest"), ref  # Vertex serves prebuilt images as latest
        if match["path"].startswith("/vertex-ai/"):
            kind = "training" if role.startswith("train") else "prediction"
            assert match["path"].startswith(f"/vertex-ai/{kind}/"), ref


def test_kubernetes_image_runs_the_standard_scripts_everywhere() -> None:
    cat = load_catalog()
    images = {cat.image(fw, "kubernetes") for fw in STANDARD}
    assert len(images) == 1
    notes = cat.notes("scikit-learn", "kubernetes")
    for package in ("pandas", "scikit-learn", "xgboost", "lightgbm", "joblib"):
        assert package in notes


def test_missing_prebuilt_images_are_none_with_a_note() -> None:
    cat = load_catalog()
    assert cat.image("lightgbm", "vertex", "predict") is None
    assert "LightGBM" in cat.notes("lightgbm", "vertex")
    assert cat.requirements("lightgbm", "vertex") == ["lightgbm==4.6.0"]
    assert cat.requirements("lightgbm", "sagemaker") == ["lightgbm==4.6.0"]
    assert cat.requirements("lightgbm", "kubernetes") == []
    # transformers has no CPU training image on either cloud: train is the GPU one.
    assert "cu1" in (cat.image("transformers", "vertex") or "")
    assert "-gpu-" in (cat.image("transformers", "sagemaker", region="us-east-1") or "")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_sagemaker_entries(framework: str) -> None:
    entry = RAW["frameworks"][framework]["images"]["sagemaker"]
    assert {"train", "inference"} <= set(entry)
    for key, value in entry.items():
        if key in ("notes", "requirements"):
            continue
        assert key in ("train", "inference", "train_gpu", "inference_gpu"), key
        assert set(value) == {"accounts", "mode", "repository", "tag"}
        assert value["mode"] in ("builtin", "framework")
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", value["repository"])
        assert (
            re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", value["tag"]) and value["tag"] != "latest"
        )
        assert set(REGIONS) <= set(value["accounts"])
        for region, account in value["accounts"].items():
            assert re.fullmatch(r"\d{12}", account), (region, account)
            assert not region.startswith("cn-")  # their ECR host is amazonaws.com.cn


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("region", REGIONS)
def test_sagemaker_uris_format(framework: str, region: str) -> None:
    cat = load_catalog()
    for role in ("train", "predict"):
        for gpu in (False, True):
            uri = cat.image(framework, "sagemaker", role, region=region, gpu=gpu)
            assert uri is not None
            match = ECR_RE.match(uri)
            assert match and match["region"] == region, uri
    assert cat.image(framework, "sagemaker", "inference", region=region) == cat.image(
        framework, "sagemaker", "predict", region=region
    )


def test_sagemaker_known_uris() -> None:
    cat = load_catalog()
    assert (
        cat.image("xgboost", "sagemaker", region="us-east-1")
        == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
    )
    assert (
        cat.image("scikit-learn", "sagemaker", "predict", region="eu-west-1")
        == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    )
    assert (
        cat.image("pytorch", "sagemaker", region="ap-southeast-1", gpu=True)
        == "763104351884.dkr.ecr.ap-southeast-1.amazonaws.com/pytorch-training:2.6.0-gpu-py312"
    )
    assert cat.sagemaker_mode("xgboost") == "framework"


def test_sagemaker_region_errors() -> None:
    cat = load_catalog()
    with pytest.raises(KeyError) as unknown:
        cat.image("xgboost", "sagemaker", region="mars-north-1")
    assert "mars-north-1" in str(unknown.value) and "us-east-1" in str(unknown.value)
    with pytest.raises(CatalogError, match="region"):
        cat.image("xgboost", "sagemaker")


def test_gpu_falls_back_to_the_cpu_image_where_there_is_one_image() -> None:
    cat = load_catalog()
    assert cat.image("scikit-learn", "vertex", "predict", gpu=True) == cat.image(
        "scikit-learn", "vertex", "predict"
    )
    assert cat.image("tensorflow", "vertex", gpu=True) != cat.image("tensorflow", "vertex")
    assert (cat.image("xgboost", "kubernetes", gpu=True) or "").endswith("-gpu")


# --- the loader API ---------------------------------------------------------------------


def test_lookup_errors_name_what_exists() -> None:
    cat = load_catalog()
    cases: list[tuple[Any, str]] = [
        (lambda: cat.hyperparameters("catboost", "regression"), "xgboost"),
        (lambda: cat.hyperparameters("xgboost", "ranking"), "regression"),
        (lambda: cat.hyperparameters("xgboost", "text_classification"), "binary_classification"),
        (lambda: cat.search_space("transformers", "regression"), "text_classification"),
        (lambda: cat.image("xgboost", "azureml"), "kubernetes"),
        (lambda: cat.image("xgboost", "vertex", role="serve"), "predict"),
        (lambda: cat.metrics("ranking"), "regression"),
        (lambda: cat.objective("ranking"), "regression"),
        (lambda: cat.script_source("ingest"), "batch_predict"),
    ]
    for call, hint in cases:
        with pytest.raises(KeyError) as err:
            call()
        assert hint in str(err.value)


def test_results_are_copies() -> None:
    cat = load_catalog()
    hyper = cat.hyperparameters("xgboost", "regression")
    hyper["eta"] = 99
    space = cat.search_space("xgboost", "regression")
    space["eta"]["min"] = -1
    metrics = cat.metrics("regression")
    metrics.append("nope")
    assert cat.hyperparameters("xgboost", "regression")["eta"] == 0.1
    assert cat.search_space("xgboost", "regression")["eta"]["min"] == 0.01
    assert "nope" not in cat.metrics("regression")
    assert load_catalog() is cat


def test_scripts_source_and_hash() -> None:
    cat = load_catalog()
    assert cat.scripts() == ["batch_predict", "drift", "evaluate", "register", "train"]
    for name in cat.scripts():
        text = (SCRIPTS_DIR / f"{name}.py").read_text(encoding="utf-8")
        assert cat.script_source(name) == text
        assert cat.script_sha256(name) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert re.search(cat.metric_regex("auc"), "[pipespec] validation:auc=0.9375")


def test_script_hash_agrees_with_the_fill_scripts_module() -> None:
    scripts = pytest.importorskip("pipespec.fill.scripts")
    cat = load_catalog()
    for name in cat.scripts():
        assert scripts.standard_script(name).sha256 == cat.script_sha256(name)


# --- the scripts as files ---------------------------------------------------------------

ALLOWED_THIRD_PARTY = {"numpy", "pandas", "scipy", "sklearn", "joblib", "xgboost", "lightgbm"}


@pytest.mark.parametrize(
    "name", ["train.py", "evaluate.py", "batch_predict.py", "serve.py", "drift.py"]
)
def test_scripts_are_self_contained(name: str) -> None:
    tree = ast.parse((SCRIPTS_DIR / name).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            imported.add((node.module or "").split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party <= ALLOWED_THIRD_PARTY, third_party
    assert "pipespec" not in imported
    top_level = {
        alias.name.split(".")[0]
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not (top_level & ALLOWED_THIRD_PARTY), "heavy imports belong inside functions"


def shared_blocks(name: str) -> dict[str, str]:
    text = (SCRIPTS_DIR / name).read_text(encoding="utf-8")
    pattern = re.compile(r"^# >>> shared:(\w+)\b.*?^# <<< shared:\1$", re.S | re.M)
    return {m.group(1): m.group(0) for m in pattern.finditer(text)}


def test_shared_blocks_are_identical() -> None:
    names = ("train.py", "evaluate.py", "batch_predict.py", "serve.py", "drift.py")
    blocks = {name: shared_blocks(name) for name in names}
    expected = {
        "io": ["train.py", "evaluate.py", "batch_predict.py", "serve.py", "drift.py"],
        "predict": ["train.py", "evaluate.py", "batch_predict.py", "serve.py"],
        "metrics": ["train.py", "evaluate.py"],
        "mlflow": ["train.py", "evaluate.py"],
        "bundle": ["evaluate.py", "batch_predict.py", "serve.py"],
    }
    for block, files in expected.items():
        copies = {blocks[f][block] for f in files}
        assert len(copies) == 1, f"shared:{block} differs between {files}"
    assert sorted({b for f in blocks.values() for b in f}) == sorted(expected)


def test_metric_helpers_are_finite_and_named() -> None:
    evaluate = load_script("evaluate.py")
    pytest.importorskip("sklearn")
    import numpy as np

    values = evaluate.compute_metrics(
        "binary_classification",
        ["no", "yes"],
        ["no", "yes", "yes", "no"],
        ["no", "yes", "no", "no"],
        np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]),
        "test",
    )
    assert list(values) == load_catalog().metrics("binary_classification")
    assert all(isinstance(v, float) and math.isfinite(v) for v in values.values())
    assert values["accuracy"] == 0.75 and values["auc"] == 1.0 and values["recall"] == 0.5
