"""The catalog's Vertex images against a table written out by hand from Vertex's own.

Sources (read 2026-12-01): the "Prebuilt containers for serverless training" and "Prebuilt
containers for inference and explanation" pages of docs.cloud.google.com (Vertex AI, now under
gemini-enterprise-agent-platform/machine-learning/), whose tables give each image its framework
version, "End of patch and support date" and "End of availability"; the prediction URIs are
also those of google-cloud-aiplatform 1.165.1 (google/cloud/aiplatform/constants/prediction.py).
The Hugging Face DLCs come from github.com/huggingface/Google-Cloud-Containers, which gives no
dates. A change to the catalog's images must change these tables too, by hand, from the pages.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import pipespec.fill.catalog as catalog_pkg
from pipespec.fill.catalog import Catalog, load_catalog

RAW: dict[str, Any] = json.loads(
    (Path(catalog_pkg.__file__).parent / "catalog.json").read_text(encoding="utf-8")
)
T = "us-docker.pkg.dev/vertex-ai/training/"
P = "us-docker.pkg.dev/vertex-ai/prediction/"
HF = "us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-pytorch-"


class Images(NamedTuple):
    """A catalog framework's Vertex images and what they carry (the images' framework:
    LightGBM trains in the scikit-learn image, with lightgbm pip-installed)."""

    carries: str
    train_version: str
    predict_version: str | None
    train: str
    train_gpu: str | None
    predict: str | None
    predict_gpu: str | None


TABLE = {
    "lightgbm": Images("scikit-learn", "1.6", None, T + "sklearn-cpu.1-6:latest", None, None, None),
    "scikit-learn": Images(
        "scikit-learn",
        "1.6",
        "1.6",
        T + "sklearn-cpu.1-6:latest",
        T + "sklearn-gpu.1-6:latest",
        P + "sklearn-cpu.1-6:latest",
        None,
    ),
    "xgboost": Images(
        "xgboost",
        "2.1",
        "2.1",
        T + "xgboost-cpu.2-1:latest",
        T + "xgboost-gpu.2-1:latest",
        P + "xgboost-cpu.2-1:latest",
        None,
    ),
    "tensorflow": Images(
        "tensorflow",
        "2.17",
        "2.15",  # the newest TensorFlow prediction image
        T + "tf-cpu.2-17.py310:latest",
        T + "tf-gpu.2-17.py310:latest",
        P + "tf2-cpu.2-15:latest",
        P + "tf2-gpu.2-15:latest",
    ),
    "pytorch": Images(
        "pytorch",
        "2.4",
        "2.4",
        T + "pytorch-xla.2-4.py310:latest",  # Vertex lists the XLA build as its CPU image
        T + "pytorch-gpu.2-4.py310:latest",
        P + "pytorch-cpu.2-4:latest",
        P + "pytorch-gpu.2-4:latest",
    ),
    "transformers": Images(
        "transformers",
        "4.42",
        "4.48",
        HF + "training-cu121.2-3.transformers.4-42.ubuntu2204.py310",  # GPU only
        None,
        HF + "inference-cpu.2-3.transformers.4-48.ubuntu2204.py311",
        HF + "inference-cu121.2-3.transformers.4-48.ubuntu2204.py311",
    ),
}

# image -> (end of patch and support, end of availability), as the pages print them.
DATES = {
    T + "sklearn-cpu.1-6:latest": ("Jul 11, 2025", "Jul 11, 2026"),
    T + "sklearn-gpu.1-6:latest": ("Jul 11, 2025", "Jul 11, 2026"),
    T + "xgboost-cpu.2-1:latest": ("Jul 11, 2025", "Jul 11, 2026"),
    T + "xgboost-gpu.2-1:latest": ("Jul 11, 2025", "Jul 11, 2026"),
    T + "tf-cpu.2-17.py310:latest": ("Jul 11, 2025", "Jul 11, 2026"),
    T + "tf-gpu.2-17.py310:latest": ("Jul 11, 2025", "Jul 11, 2026"),
    T + "pytorch-xla.2-4.py310:latest": ("Jul 24, 2025", "Jul 24, 2026"),
    T + "pytorch-gpu.2-4.py310:latest": ("Jul 24, 2025", "Jul 24, 2026"),
    P + "sklearn-cpu.1-6:latest": ("Oct 14, 2026", "Oct 14, 2027"),
    P + "xgboost-cpu.2-1:latest": ("Jul 14, 2026", "Jan 14, 2027"),
    P + "tf2-cpu.2-15:latest": ("Jul 14, 2026", "Jan 14, 2027"),
    P + "tf2-gpu.2-15:latest": ("Jul 14, 2026", "Jan 14, 2027"),
    P + "pytorch-cpu.2-4:latest": ("Jul 14, 2026", "Jan 14, 2027"),
    P + "pytorch-gpu.2-4:latest": ("Jul 14, 2026", "Jan 14, 2027"),
    HF + "training-cu121.2-3.transformers.4-42.ubuntu2204.py310": (None, None),
    HF + "inference-cpu.2-3.transformers.4-48.ubuntu2204.py311": (None, None),
    HF + "inference-cu121.2-3.transformers.4-48.ubuntu2204.py311": (None, None),
}

VERTEX_URI = re.compile(
    r"^us-docker\.pkg\.dev/vertex-ai/(?P<kind>training|prediction)/"
    r"(?P<name>[a-z0-9]+)-(?P<acc>cpu|gpu|xla)\.(?P<version>\d+-\d+)(?:\.py3\d+)?:latest$"
)
HF_URI = re.compile(
    r"^us-docker\.pkg\.dev/deeplearning-platform-release/gcr\.io/huggingface-pytorch-"
    r"(?P<kind>training|inference)-(?P<acc>cpu|cu\d+)\.\d+-\d+\.transformers\.(?P<version>\d+-\d+)"
    r"\.ubuntu\d{4}\.py3\d+$"  # named by version: no tag
)
ROLE_KEYS = ("train", "train_gpu", "predict", "predict_gpu")


def _day(text: str | None) -> datetime.date | None:
    if text is None:
        return None
    return datetime.datetime.strptime(text, "%b %d, %Y").date()


def catalog_images() -> set[str]:
    return {
        image
        for entry in RAW["frameworks"].values()
        for key in ROLE_KEYS
        if (image := entry["images"]["vertex"].get(key)) is not None
    }


@pytest.mark.parametrize("framework", sorted(TABLE))
def test_the_catalog_picks_the_tables_images(framework: str) -> None:
    entry = RAW["frameworks"][framework]["images"]["vertex"]
    row = TABLE[framework]
    assert [entry.get(key) for key in ROLE_KEYS] == [
        row.train,
        row.train_gpu,
        row.predict,
        row.predict_gpu,
    ]


def test_every_framework_is_in_the_table() -> None:
    assert sorted(TABLE) == sorted(RAW["frameworks"])


@pytest.mark.parametrize("framework", sorted(TABLE))
def test_each_image_carries_the_tables_framework_version(framework: str) -> None:
    cat = load_catalog()
    row = TABLE[framework]
    for key, version in (
        ("train", row.train_version),
        ("train_gpu", row.train_version),
        ("predict", row.predict_version),
        ("predict_gpu", row.predict_version),
    ):
        image = getattr(row, key)
        if image is None:
            continue
        data = cat.vertex_image(image)
        assert data is not None, f"{image} has no vertex_images entry"
        assert (data["framework"], data["version"]) == (row.carries, version), image
        assert data["role"] == key.removesuffix("_gpu"), image


def test_every_catalog_image_and_only_those_have_a_row_with_dates_or_explicit_nulls() -> None:
    rows = RAW["vertex_images"]
    assert set(rows) == catalog_images() == set(DATES)
    for image, row in rows.items():
        assert set(row) == {
            "framework",
            "version",
            "role",
            "accelerator",
            "python",
            "end_of_support",
            "end_of_availability",
            "source",
        }, image
        assert row["source"] in RAW["sources"], image
        ends, gone = (_day(d) for d in DATES[image])
        assert row["end_of_support"] == (ends and ends.isoformat()), image
        assert row["end_of_availability"] == (gone and gone.isoformat()), image
        if ends is not None and gone is not None:
            assert ends <= gone, image


@pytest.mark.parametrize("image", sorted(DATES))
def test_uris_are_well_formed_and_name_their_row(image: str) -> None:
    row = RAW["vertex_images"][image]
    match = VERTEX_URI.match(image) or HF_URI.match(image)
    assert match, f"{image}: not a Vertex prebuilt (…:latest) or Hugging Face DLC (untagged) URI"
    kinds = ("training",) if row["role"] == "train" else ("prediction", "inference")
    assert match["kind"] in kinds, image
    assert match["version"] == row["version"].replace(".", "-"), image
    gpu = match["acc"] == "gpu" or match["acc"].startswith("cu")
    assert row["accelerator"] == ("gpu" if gpu else "cpu"), image


def test_dates_and_lookups() -> None:
    cat = load_catalog()
    image = T + "xgboost-cpu.2-1:latest"
    assert cat.image_end_of_support(image) == datetime.date(2025, 7, 11)
    assert cat.image_end_of_availability(image) == datetime.date(2026, 7, 11)
    # The regional copies of a Vertex image are the same image.
    for region in ("europe", "asia"):
        other = image.replace("us-docker", f"{region}-docker")
        assert cat.image_end_of_support(other) == datetime.date(2025, 7, 11)
    # Unpublished dates are None, like an image the catalog does not know.
    assert cat.image_end_of_support(TABLE["transformers"].train) is None
    assert cat.vertex_image(TABLE["transformers"].train) is not None
    for unknown in ("python:3.12-slim", "us-docker.pkg.dev/other/training/xgboost-cpu.2-1:latest"):
        assert cat.vertex_image(unknown) is None
        assert cat.image_end_of_support(unknown) is None
    assert cat.vertex_images() == sorted(DATES)
    assert all(cat.newer_image(i) is None for i in DATES)  # each is the newest Vertex lists


def with_newer_xgboost() -> Catalog:
    """The catalog with a made-up newer XGBoost training image (for the hint)."""
    data = copy.deepcopy(RAW)
    row = dict(data["vertex_images"][T + "xgboost-cpu.2-1:latest"])
    row.update(version="2.10", end_of_support="2027-01-01", end_of_availability="2028-01-01")
    data["vertex_images"][T + "xgboost-cpu.2-10:latest"] = row
    older = dict(row, version="1.7", end_of_support="2024-01-01")
    data["vertex_images"][T + "xgboost-cpu.1-7:latest"] = older
    return Catalog(data, {})


def test_newer_image_is_the_newest_later_one_of_the_same_kind() -> None:
    cat = with_newer_xgboost()
    newer = T + "xgboost-cpu.2-10:latest"  # 2.10 > 2.1: versions compare as numbers
    assert cat.newer_image(T + "xgboost-cpu.2-1:latest") == newer
    assert cat.newer_image(T + "xgboost-cpu.1-7:latest") == newer
    assert cat.newer_image(newer) is None
    assert cat.newer_image(T + "xgboost-gpu.2-1:latest") is None  # another accelerator
    assert cat.newer_image(P + "xgboost-cpu.2-1:latest") is None  # another role


@pytest.mark.parametrize("framework", sorted(TABLE))
def test_the_notes_give_the_datas_dates(framework: str) -> None:
    """The notes' prose and the data agree: every date of the framework's images is in its
    notes, and the notes name no other date."""
    notes = RAW["frameworks"][framework]["images"]["vertex"]["notes"]
    row = TABLE[framework]
    images = [i for i in (row.train, row.train_gpu, row.predict, row.predict_gpu) if i]
    dates = {
        d
        for i in images
        for d in (
            RAW["vertex_images"][i]["end_of_support"],
            RAW["vertex_images"][i]["end_of_availability"],
        )
        if d is not None
    }
    assert set(re.findall(r"\d{4}-\d{2}-\d{2}", notes)) == dates
    if not dates:
        assert "no end-of-support dates" in notes
